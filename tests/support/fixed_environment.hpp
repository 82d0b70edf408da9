// SPDX-License-Identifier: MIT
// FixedEnvironment: an ebpf::Environment whose every answer is a constant, so two runs of a
// program (two engines, or a fuzz input run twice) see the same world.
#pragma once

#include <cstdint>
#include <cstring>

#include "ebpf/environment.hpp"

namespace test_support {

class FixedEnvironment final : public ebpf::Environment {
 public:
  // The constants a test may change (before the runs it compares).
  uint32_t cpu = 0;
  uint32_t random = 4;

  uint32_t current_cpu() override { return cpu; }
  uint32_t possible_cpus() override { return 1; }
  uint64_t monotonic_ns() override { return 1; }
  uint64_t boot_ns() override { return 2; }
  uint32_t random_u32() override { return random; }
  uint64_t current_pid_tgid() override { return 5; }
  uint64_t current_uid_gid() override { return 6; }
  long current_comm(char* buffer, uint32_t size) override {
    std::memset(buffer, 'c', size);
    if (size > 0) buffer[size - 1] = 0;
    return 0;
  }
  long read_user(void* destination, uint64_t, uint32_t size) override {
    std::memset(destination, 0, size);
    return -14;
  }
  long read_kernel(void* destination, uint64_t, uint32_t size) override {
    std::memset(destination, 0, size);
    return -14;
  }
  long trace_output(const char*, uint32_t) override { return 0; }
  uint64_t current_function_ip() override { return 0x1234; }
  long capture_stack(bool, uint32_t skip, uint64_t* ips, uint32_t max) override {
    uint32_t n = 0;
    for (uint32_t i = skip; i < 3 && n < max; ++i) ips[n++] = 0x1000 * (i + 1);
    return n;
  }
};

}  // namespace test_support
