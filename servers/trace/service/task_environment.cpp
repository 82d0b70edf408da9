// SPDX-License-Identifier: MIT
// TaskEnvironment: the current task's ids and comm.
#include "task_environment.hpp"

namespace trace {

void TaskEnvironment::set_current(int32_t pid, int32_t tgid, uint32_t uid, uint32_t gid,
                                  const char* comm, uint32_t comm_length) {
  ++generation_;
  pid_ = pid;
  tgid_ = tgid;
  uid_ = uid;
  gid_ = gid;
  // Every probe hit sets it: whole-buffer copies rather than a byte loop.
  if (comm_length >= kCommLength) {
    __builtin_memcpy(comm_, comm, kCommLength);
  } else {
    __builtin_memset(comm_, 0, kCommLength);
    __builtin_memcpy(comm_, comm, comm_length);
  }
  comm_[kCommLength - 1] = 0;
}

long TaskEnvironment::current_comm(char* buffer, uint32_t size) {
  // bpf_get_current_comm: strscpy into the buffer, zero-padded.
  if (size == 0) return -22;  // EINVAL
  for (uint32_t i = 0; i < size; ++i) buffer[i] = i < kCommLength ? comm_[i] : 0;
  buffer[size - 1] = 0;
  return 0;
}

}  // namespace trace
