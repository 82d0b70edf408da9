// SPDX-License-Identifier: MIT
// ForwardingEnvironment: an ebpf::Environment that answers with another's, for the layers the
// object table puts on the host's environment (a run's cookie, a test run's CPU).
#pragma once

#include <stdint.h>

#include "ebpf/environment.hpp"

namespace trace {

class ForwardingEnvironment : public ebpf::Environment {
 public:
  explicit ForwardingEnvironment(ebpf::Environment& inner) : inner_(inner) {}
  uint32_t current_cpu() override { return inner_.current_cpu(); }
  uint32_t possible_cpus() override { return inner_.possible_cpus(); }
  uint64_t monotonic_ns() override { return inner_.monotonic_ns(); }
  uint64_t boot_ns() override { return inner_.boot_ns(); }
  uint32_t random_u32() override { return inner_.random_u32(); }
  uint64_t current_pid_tgid() override { return inner_.current_pid_tgid(); }
  uint64_t current_uid_gid() override { return inner_.current_uid_gid(); }
  uint64_t current_task() override { return inner_.current_task(); }
  long current_comm(char* buffer, uint32_t size) override {
    return inner_.current_comm(buffer, size);
  }
  long read_user(void* destination, uint64_t source, uint32_t size) override {
    return inner_.read_user(destination, source, size);
  }
  long read_kernel(void* destination, uint64_t source, uint32_t size) override {
    return inner_.read_kernel(destination, source, size);
  }
  long read_string(bool user, char* destination, uint64_t source, uint32_t size) override {
    return inner_.read_string(user, destination, source, size);
  }
  uint64_t current_function_ip() override { return inner_.current_function_ip(); }
  uint64_t attach_cookie() override { return inner_.attach_cookie(); }
  long capture_stack(bool user, uint32_t skip, uint64_t* ips, uint32_t max) override {
    return inner_.capture_stack(user, skip, ips, max);
  }
  long trace_output(const char* message, uint32_t length) override {
    return inner_.trace_output(message, length);
  }

 protected:
  ~ForwardingEnvironment() = default;
  ebpf::Environment& inner() { return inner_; }

 private:
  ebpf::Environment& inner_;
};

}  // namespace trace
