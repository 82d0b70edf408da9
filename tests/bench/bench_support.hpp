// Shared pieces of the eBPF benchmarks: a host Environment with cheap, deterministic
// services (the allocator is test_support::MallocAllocator).
#pragma once

#include <ctime>

#include "ebpf/environment.hpp"

namespace bench {

class BenchEnvironment final : public ebpf::Environment {
 public:
  uint32_t current_cpu() override { return 0; }
  uint32_t possible_cpus() override { return 1; }
  uint64_t monotonic_ns() override {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
  }
  uint64_t boot_ns() override { return monotonic_ns(); }
  uint32_t random_u32() override {  // xorshift32: cheap, so the call row measures calls
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }
  uint64_t current_pid_tgid() override { return 0; }
  uint64_t current_uid_gid() override { return 0; }
  long current_comm(char*, uint32_t) override { return -22; }
  long read_user(void*, uint64_t, uint32_t) override { return -14; }
  long read_kernel(void*, uint64_t, uint32_t) override { return -14; }
  long trace_output(const char*, uint32_t) override { return 0; }
  uint64_t current_function_ip() override { return 0; }
  long capture_stack(bool, uint32_t, uint64_t*, uint32_t) override { return 0; }

 private:
  uint32_t state_ = 2463534242u;
};

}  // namespace bench
