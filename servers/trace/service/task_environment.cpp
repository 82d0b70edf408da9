// SPDX-License-Identifier: MIT
// TaskEnvironment: the current task's ids and comm.
#include "task_environment.hpp"

namespace trace {

void TaskEnvironment::set_current(int32_t pid, int32_t tgid, uint32_t uid, uint32_t gid,
                                  const char* comm, uint32_t comm_length) {
  pid_ = pid;
  tgid_ = tgid;
  uid_ = uid;
  gid_ = gid;
  for (uint32_t i = 0; i < kCommLength; ++i) {
    comm_[i] = i + 1 < kCommLength && i < comm_length ? comm[i] : 0;
  }
}

long TaskEnvironment::current_comm(char* buffer, uint32_t size) {
  // bpf_get_current_comm: strscpy into the buffer, zero-padded.
  if (size == 0) return -22;  // EINVAL
  for (uint32_t i = 0; i < size; ++i) buffer[i] = i < kCommLength ? comm_[i] : 0;
  buffer[size - 1] = 0;
  return 0;
}

}  // namespace trace
