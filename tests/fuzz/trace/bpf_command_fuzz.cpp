// SPDX-License-Identifier: MIT
// libFuzzer target: sequences of bpf(2) commands with hostile attrs and caller memory through the
// trace core. Any errno is fine; a crash, a leak or undefined behaviour is not.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ebpf/environment.hpp"
#include "support/malloc_allocator.hpp"
#include "trace/bpf_command.hpp"

namespace {

class FuzzEnvironment final : public ebpf::Environment {
 public:
  uint32_t current_cpu() override { return 0; }
  uint32_t possible_cpus() override { return 2; }
  uint64_t monotonic_ns() override { return 1; }
  uint64_t boot_ns() override { return 2; }
  uint32_t random_u32() override { return 4; }
  uint64_t current_pid_tgid() override { return 5; }
  uint64_t current_uid_gid() override { return 6; }
  long current_comm(char* buffer, uint32_t size) override {
    std::memset(buffer, 0, size);
    return 0;
  }
  long read_user(void*, uint64_t, uint32_t) override { return -14; }
  long read_kernel(void*, uint64_t, uint32_t) override { return -14; }
  uint64_t current_function_ip() override { return 0; }
  long capture_stack(bool, uint32_t, uint64_t*, uint32_t) override { return -14; }
  long trace_output(const char*, uint32_t) override { return 0; }
};

// The caller's memory: one region at kBase that the input fills; anything else is EFAULT.
constexpr uint64_t kBase = 0x10000;
constexpr uint32_t kRegionSize = 1024;

class FuzzMemory final : public trace::UserMemory {
 public:
  uint8_t region[kRegionSize] = {};
  uint8_t attr[trace::kAttrSize] = {};
  rt::Result<void> read(void* destination, uint64_t source, uint64_t size) override {
    if (!inside(source, size)) return rt::err(14);
    std::memcpy(destination, region + (source - kBase), size);
    return {};
  }
  rt::Result<void> write(uint64_t destination, const void* source, uint64_t size) override {
    if (!inside(destination, size)) return rt::err(14);
    std::memcpy(region + (destination - kBase), source, size);
    return {};
  }
  rt::Result<void> write_attr(uint32_t offset, const void* source, uint32_t size) override {
    if (offset + size > sizeof(attr)) return rt::err(14);
    std::memcpy(attr + offset, source, size);
    return {};
  }

 private:
  static bool inside(uint64_t address, uint64_t size) {
    return size <= kRegionSize && address >= kBase && address - kBase <= kRegionSize - size;
  }
};

}  // namespace

extern "C" const unsigned char vmlinux_btf[];
extern "C" const unsigned long vmlinux_btf_size;

// Input: a length byte (the region's size / 4), the region's bytes, then commands, each a command
// byte, a size byte (attr bytes, at most the kernel's 144) and that many attr bytes.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  test_support::MallocAllocator allocator(64u << 20);  // a hostile size must not exhaust the fuzzer
  FuzzEnvironment environment;
  if (size == 0) return 0;
  {
    trace::ObjectTable objects(allocator, environment);
    // As the trace server makes it first: tracing programs name targets in it.
    if (!objects.add_kernel_btf(vmlinux_btf, vmlinux_btf_size).ok()) __builtin_trap();
    trace::Session session(objects);
    FuzzMemory memory;
    size_t region = size_t{data[0]} * 4;
    if (region > size - 1) region = size - 1;
    std::memcpy(memory.region, data + 1, region);
    size_t at = 1 + region;
    for (int commands = 0; commands < 16 && at + 2 <= size; ++commands) {
      int command = data[at] % 40;
      uint32_t attr_size = data[at + 1] <= trace::kAttrSize ? data[at + 1] : trace::kAttrSize;
      at += 2;
      if (size - at < attr_size) attr_size = static_cast<uint32_t>(size - at);
      std::memset(memory.attr, 0, sizeof(memory.attr));
      std::memcpy(memory.attr, data + at, attr_size);
      at += attr_size;
      (void)trace::bpf_command(session, command, memory.attr, attr_size, memory);
    }
  }
  if (allocator.in_use() != 0) __builtin_trap();  // the table and session gave everything back
  return 0;
}
