// SPDX-License-Identifier: MIT
// FakeEnvironment: a scripted host for helper tests.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "ebpf/environment.hpp"

namespace ebpf_test {

class FakeEnvironment final : public ebpf::Environment {
 public:
  uint32_t cpu = 1;
  uint64_t now = 1000, boot = 5000, pid_tgid = (uint64_t{42} << 32) | 43,
           uid_gid = (uint64_t{7} << 32) | 8;
  uint32_t next_random = 12345;
  const char* comm = "busybox";
  // Readable "traced" memory: [readable, readable + readable_size).
  const uint8_t* readable = nullptr;
  size_t readable_size = 0;

  uint32_t current_cpu() override { return cpu; }
  uint32_t possible_cpus() override { return 2; }
  uint64_t monotonic_ns() override { return now++; }
  uint64_t boot_ns() override { return boot; }
  uint32_t random_u32() override { return next_random = next_random * 1103515245u + 12345u; }
  uint64_t current_pid_tgid() override { return pid_tgid; }
  uint64_t current_uid_gid() override { return uid_gid; }
  uint64_t task = 0xffff888001234500ull;
  uint64_t current_task() override { return task; }
  long current_comm(char* buffer, uint32_t size) override {
    if (size == 0) return -22;
    std::memset(buffer, 0, size);
    std::strncpy(buffer, comm, size - 1);
    return 0;
  }
  long read_user(void* destination, uint64_t source, uint32_t size) override {
    return read(destination, source, size);
  }
  long read_kernel(void* destination, uint64_t source, uint32_t size) override {
    return read(destination, source, size);
  }
  uint64_t function_ip = 0xffffffff81234560ull;
  uint64_t current_function_ip() override { return function_ip; }
  uint32_t string_reads = 0;  // read_string calls (helpers must use it for strings)
  long read_string(bool user, char* destination, uint64_t source, uint32_t size) override {
    ++string_reads;
    return Environment::read_string(user, destination, source, size);
  }
  uint32_t last_stack_max = 0;  // the `max` of the last capture_stack call
  // The stacks capture_stack reports, innermost first (tests may change them).
  std::vector<uint64_t> kernel_stack = {0x1000, 0x2000, 0x3000, 0x4000};
  std::vector<uint64_t> user_stack = {0x401000, 0x402000};
  long capture_stack(bool user, uint32_t skip, uint64_t* ips, uint32_t max) override {
    last_stack_max = max;
    const uint64_t* stack = user ? user_stack.data() : kernel_stack.data();
    uint32_t depth = static_cast<uint32_t>(user ? user_stack.size() : kernel_stack.size());
    if (skip > depth) return -14;
    uint32_t n = 0;
    for (uint32_t i = skip; i < depth && n < max; ++i) ips[n++] = stack[i];
    return n;
  }
  std::string trace;  // every message, each followed by a newline marker
  long trace_output(const char* message, uint32_t length) override {
    trace.append(message, length);
    trace += '|';
    return 0;
  }

 private:
  long read(void* destination, uint64_t source, uint32_t size) {
    uint64_t start = reinterpret_cast<uint64_t>(readable);
    if (readable == nullptr || source < start || source + size > start + readable_size) return -14;
    std::memcpy(destination, reinterpret_cast<const void*>(source), size);
    return 0;
  }
};

}  // namespace ebpf_test
