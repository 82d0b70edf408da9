// SPDX-License-Identifier: MIT
// Test support for the trace core: host memory, an environment, a caller's memory, bpf() calls.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/environment.hpp"
#include "rt/errno.hpp"
#include "support/malloc_allocator.hpp"
#include "trace/bpf_command.hpp"
#include "trace/bpf_uapi.hpp"

namespace trace::testing {

// Counts what is in use, so a test can check that closing everything gave every byte back.
using HostAllocator = test_support::MallocAllocator;

class TestEnvironment final : public ebpf::Environment {
 public:
  uint32_t current_cpu() override { return 0; }
  uint32_t possible_cpus() override { return 2; }
  uint64_t monotonic_ns() override { return now_ns += clock_step_ns; }
  uint64_t boot_ns() override { return 123456789; }
  uint32_t random_u32() override { return 4; }
  uint64_t current_pid_tgid() override { return (uint64_t{42} << 32) | 42; }
  uint64_t current_uid_gid() override { return 0; }
  long current_comm(char* buffer, uint32_t size) override {
    std::memset(buffer, 0, size);
    std::strncpy(buffer, "test", size);
    return 0;
  }
  long read_user(void*, uint64_t, uint32_t) override { return -rt::kEFAULT; }
  // bpf_probe_read_kernel: `kernel_memory` (a host buffer a test lends), else EFAULT.
  long read_kernel(void* destination, uint64_t source, uint32_t size) override {
    auto start = reinterpret_cast<uint64_t>(kernel_memory);
    if (kernel_memory == nullptr || source < start || source + size > start + kernel_size)
      return -rt::kEFAULT;
    std::memcpy(destination, reinterpret_cast<const void*>(source), size);
    return 0;
  }
  uint64_t current_function_ip() override { return 0; }
  // bpf_get_stack's walks: `kernel_stack` and `user_stack` as a test sets them (none: EFAULT).
  long capture_stack(bool user, uint32_t skip, uint64_t* ips, uint32_t max) override {
    const std::vector<uint64_t>& stack = user ? user_stack : kernel_stack;
    if (stack.empty() || skip >= stack.size()) return -rt::kEFAULT;
    uint32_t stored = 0;
    for (size_t i = skip; i < stack.size() && stored < max; ++i) ips[stored++] = stack[i];
    return stored;
  }
  long trace_output(const char*, uint32_t) override { return 0; }
  std::vector<uint64_t> kernel_stack, user_stack;
  // The clock: fixed unless a test makes it advance by a step at every reading.
  uint64_t now_ns = 1000;
  const void* kernel_memory = nullptr;
  size_t kernel_size = 0;
  uint64_t clock_step_ns = 0;
};

// The caller's memory: host buffers registered as readable or writable regions, addressed by
// their host pointers, so the same attr works with the host kernel's bpf() too. Anything else
// is EFAULT. write_attr lands in `attr`.
class CallerMemory final : public UserMemory {
 public:
  void allow(const void* start, size_t size, bool writable = true) {
    regions_.push_back({reinterpret_cast<uint64_t>(start), size, writable});
  }
  rt::Result<void> read(void* destination, uint64_t source, uint64_t size) override {
    if (size == 0) return {};
    if (!inside(source, size, false)) return rt::err(rt::kEFAULT);
    std::memcpy(destination, reinterpret_cast<const void*>(source), size);
    return {};
  }
  rt::Result<void> write(uint64_t destination, const void* source, uint64_t size) override {
    if (size == 0) return {};
    if (!inside(destination, size, true)) return rt::err(rt::kEFAULT);
    std::memcpy(reinterpret_cast<void*>(destination), source, size);
    return {};
  }
  rt::Result<void> write_attr(uint32_t offset, const void* source, uint32_t size) override {
    if (attr == nullptr || offset + size > attr_size) return rt::err(rt::kEFAULT);
    std::memcpy(attr + offset, source, size);
    return {};
  }
  uint64_t write_room() const override { return room; }
  uint8_t* attr = nullptr;
  uint32_t attr_size = 0;
  uint64_t room = UINT64_MAX;  // what a reply could carry back (ForwardedMemory's limit)

 private:
  struct Region {
    uint64_t start;
    uint64_t size;
    bool writable;
  };
  bool inside(uint64_t address, uint64_t size, bool write) const {
    for (const Region& region : regions_) {
      if (address >= region.start && address + size <= region.start + region.size &&
          (!write || region.writable)) {
        return true;
      }
    }
    return false;
  }
  std::vector<Region> regions_;
};

inline uint64_t address(const void* pointer) { return reinterpret_cast<uint64_t>(pointer); }

// What bpf() would return to a Linux program: the value, or -errno.
inline int64_t status(const rt::Result<int64_t>& result) {
  return result.ok() ? result.value() : -static_cast<int64_t>(result.error().code);
}

class TraceCoreTest : public ::testing::Test {
 protected:
  TraceCoreTest() : objects_(allocator_, environment_), session_(objects_) {}

  // bpf(command, attr, size) through the core; output fields land in `attr`.
  int64_t bpf(int command, BpfAttr& attr, uint32_t size = sizeof(BpfAttr)) {
    memory_.attr = attr.bytes;
    memory_.attr_size = size < sizeof(BpfAttr) ? size : sizeof(BpfAttr);
    return status(bpf_command(session_, command, attr.bytes, size, memory_));
  }

  int64_t create_map(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                     uint32_t flags = 0, const char* name = "") {
    BpfAttr attr = {};
    attr.map_create.map_type = type;
    attr.map_create.key_size = key_size;
    attr.map_create.value_size = value_size;
    attr.map_create.max_entries = max_entries;
    attr.map_create.map_flags = flags;
    std::strncpy(attr.map_create.map_name, name, kObjNameLen - 1);
    return bpf(kMapCreate, attr);
  }

  int64_t elem(int command, int64_t map, const void* key, void* value, uint64_t flags = 0) {
    BpfAttr attr = {};
    attr.elem.map_fd = static_cast<uint32_t>(map);
    attr.elem.key = address(key);
    attr.elem.value = address(value);
    attr.elem.flags = flags;
    return bpf(command, attr);
  }

  std::vector<ebpf::Insn> assemble(const std::string& text) {
    ebpf::AssemblyResult assembled = ebpf::assemble(text);
    EXPECT_TRUE(assembled.ok()) << assembled.error;
    return assembled.insns;
  }

  // PROG_LOAD of `insns`; `log` (if given) receives the verifier log.
  int64_t load(const std::vector<ebpf::Insn>& insns, uint32_t type = 2, const char* name = "",
               std::vector<char>* log = nullptr, uint32_t log_level = 1) {
    BpfAttr attr = {};
    attr.prog_load.prog_type = type;
    attr.prog_load.insns = address(insns.data());
    attr.prog_load.insn_cnt = static_cast<uint32_t>(insns.size());
    attr.prog_load.license = address(license_);
    std::strncpy(attr.prog_load.prog_name, name, kObjNameLen - 1);
    if (log != nullptr) {
      attr.prog_load.log_buf = address(log->data());
      attr.prog_load.log_size = static_cast<uint32_t>(log->size());
      attr.prog_load.log_level = log_level;
    }
    memory_.allow(insns.data(), insns.size() * sizeof(ebpf::Insn), false);
    return bpf(kProgLoad, attr);
  }

  HostAllocator allocator_;
  TestEnvironment environment_;
  ObjectTable objects_;
  Session session_;
  CallerMemory memory_;
  const char license_[4] = "GPL";

 public:
  void SetUp() override { memory_.allow(license_, sizeof(license_), false); }
  // Whatever a test did, closing its handles frees every object: no reference is left behind.
  void TearDown() override {
    session_.close_all();
    EXPECT_EQ(objects_.count(ObjectKind::kMap), 0u);
    EXPECT_EQ(objects_.count(ObjectKind::kProgram), 0u);
  }
};

}  // namespace trace::testing
