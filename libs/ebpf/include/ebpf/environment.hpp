// SPDX-License-Identifier: MIT
// Environment: what helpers need from the host (the trace server, or a fake in tests).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ebpf {

class Environment {
 public:
  virtual uint32_t current_cpu() = 0;
  virtual uint32_t possible_cpus() = 0;
  virtual uint64_t monotonic_ns() = 0;  // bpf_ktime_get_ns
  virtual uint64_t boot_ns() = 0;       // bpf_ktime_get_boot_ns (includes suspend)
  virtual uint32_t random_u32() = 0;
  // The Linux task on whose behalf the probed code runs: tgid << 32 | pid, gid << 32 | uid.
  virtual uint64_t current_pid_tgid() = 0;
  virtual uint64_t current_uid_gid() = 0;
  // The address of the task's struct task_struct in the memory read_kernel reads
  // (bpf_get_current_task); 0 where the host keeps none.
  virtual uint64_t current_task() { return 0; }
  // Copies the task's comm (16 bytes, NUL-padded) into `buffer`; 0 or -errno.
  virtual long current_comm(char* buffer, uint32_t size) = 0;
  // Copies traced memory; 0 or -EFAULT for an address the task cannot read.
  virtual long read_user(void* destination, uint64_t source, uint32_t size) = 0;
  virtual long read_kernel(void* destination, uint64_t source, uint32_t size) = 0;
  // Copies a NUL-terminated string of at most `size` bytes with its NUL, as Linux's
  // strncpy_from_{user,kernel}_nofault: the length including the NUL (`size` when the string
  // was cut, the last byte then being a NUL), 0 for size 0, or -EFAULT. The default reads a
  // byte at a time through read_user/read_kernel (a string may end just before an unreadable
  // page); a host that can tell where readable memory ends may override it with bulk copies.
  virtual long read_string(bool user, char* destination, uint64_t source, uint32_t size) {
    if (size == 0) return 0;
    uint32_t n = 0;
    while (n + 1 < size) {
      char c;
      long r = user ? read_user(&c, source + n, 1) : read_kernel(&c, source + n, 1);
      if (r < 0) return -14;  // EFAULT
      destination[n++] = c;
      if (c == 0) return n;
    }
    destination[n] = 0;
    return n + 1;
  }
  // Address of the probed function (bpf_get_func_ip), 0 when there is none.
  virtual uint64_t current_function_ip() = 0;
  // The cookie the running program was attached with (bpf_get_attach_cookie), 0 when none.
  virtual uint64_t attach_cookie() { return 0; }
  // Return addresses of the current kernel (POSIX server) or user stack, innermost first,
  // after skipping `skip` frames; the count stored, or -errno: -EFAULT when there is no
  // stack or it has fewer than `skip` frames (bpf_get_stack then fails as in Linux).
  virtual long capture_stack(bool user, uint32_t skip, uint64_t* ips, uint32_t max) = 0;
  // Appends one bpf_trace_printk message (without the trace_pipe line prefix, which the
  // trace buffer adds) ; 0 or -errno.
  virtual long trace_output(const char* message, uint32_t length) = 0;

 protected:
  ~Environment() = default;
};

}  // namespace ebpf
