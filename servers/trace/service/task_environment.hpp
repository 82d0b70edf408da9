// SPDX-License-Identifier: MIT
// The task part of the helpers' environment: the Linux process a call or a probe hit is for.
#pragma once

#include <stdint.h>

#include "ebpf/environment.hpp"

namespace trace {

// bpf_get_current_pid_tgid, _uid_gid and _comm answer for the task set last: the caller of a
// bpf() command (PROG_TEST_RUN runs in the caller's context, as on Linux).
class TaskEnvironment : public ebpf::Environment {
 public:
  static constexpr uint32_t kCommLength = 16;  // TASK_COMM_LEN
  void set_current(int32_t pid, int32_t tgid, uint32_t uid, uint32_t gid, const char* comm,
                   uint32_t comm_length);
  // Counts set_current calls: a caller that set the task may skip setting the same again while
  // nobody else set another (probe hits of one process in a row).
  uint64_t current_generation() const { return generation_; }

  uint64_t current_pid_tgid() override {
    return uint64_t{static_cast<uint32_t>(tgid_)} << 32 | static_cast<uint32_t>(pid_);
  }
  uint64_t current_uid_gid() override { return uint64_t{gid_} << 32 | uid_; }
  long current_comm(char* buffer, uint32_t size) override;

  // Per-CPU maps keep a copy for each CPU the machine has, perf event arrays a slot each, as
  // Linux's num_possible_cpus(): the count the root task passes at start, at least 1 and at
  // most kMaxCpus (what the POSIX server's affinity masks hold), so both servers agree.
  static constexpr uint32_t kMaxCpus = 64;
  void set_possible_cpus(uint64_t cpu_count) {
    possible_cpus_ = cpu_count == 0         ? 1
                     : cpu_count > kMaxCpus ? kMaxCpus
                                            : static_cast<uint32_t>(cpu_count);
  }
  uint32_t possible_cpus() override { return possible_cpus_; }

  // The current task as trace lines show it (TASK-PID).
  int32_t pid() const { return pid_; }
  const char* comm() const { return comm_; }
  // The task whose system call is being served (a tracefs write's writer, as its trace_marker
  // line shows it): the server binary reads the POSIX server's current-task record; by default
  // the task set last, on the current CPU.
  virtual void serving_task(int32_t& pid, char (&comm)[kCommLength], uint32_t& cpu) {
    pid = pid_;
    __builtin_memcpy(comm, comm_, kCommLength);
    cpu = current_cpu();
  }

 protected:
  ~TaskEnvironment() = default;

 private:
  int32_t pid_ = 0;
  int32_t tgid_ = 0;
  uint32_t uid_ = 0;
  uint32_t gid_ = 0;
  char comm_[kCommLength] = {};
  uint32_t possible_cpus_ = 1;
  uint64_t generation_ = 0;
};

}  // namespace trace
