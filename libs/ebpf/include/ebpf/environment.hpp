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
  // Copies the task's comm (16 bytes, NUL-padded) into `buffer`; 0 or -errno.
  virtual long current_comm(char* buffer, uint32_t size) = 0;
  // Copies traced memory; 0 or -EFAULT for an address the task cannot read.
  virtual long read_user(void* destination, uint64_t source, uint32_t size) = 0;
  virtual long read_kernel(void* destination, uint64_t source, uint32_t size) = 0;
  // Address of the probed function (bpf_get_func_ip), 0 when there is none.
  virtual uint64_t current_function_ip() = 0;
  // Return addresses of the current kernel (POSIX server) or user stack, innermost first,
  // after skipping `skip` frames; the count stored, or -errno.
  virtual long capture_stack(bool user, uint32_t skip, uint64_t* ips, uint32_t max) = 0;
  // Appends one bpf_trace_printk message (without the trace_pipe line prefix, which the
  // trace buffer adds) ; 0 or -errno.
  virtual long trace_output(const char* message, uint32_t length) = 0;

 protected:
  ~Environment() = default;
};

}  // namespace ebpf
