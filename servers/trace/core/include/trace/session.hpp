// SPDX-License-Identifier: MIT
// Session: one client's handles to BPF objects (the POSIX server maps Linux fds onto them).
#pragma once

#include <stdint.h>

#include "rt/result.hpp"
#include "trace/objects.hpp"

namespace trace {

// How a handle may be used, as a Linux file's f_mode (FMODE_CAN_READ, FMODE_CAN_WRITE).
inline constexpr uint32_t kCanRead = 1;
inline constexpr uint32_t kCanWrite = 2;

struct Handle {
  Object* object = nullptr;
  uint32_t mode = 0;
};

// Handles are small positive integers, the lowest free one first, like fds; 0 is never a
// handle. Every fd field of a bpf_attr (and map fds in instructions and fd_array) names a
// handle of the calling session. Closing the session drops every handle.
class Session {
 public:
  Session(ObjectTable& objects, bool privileged = true)
      : objects_(objects), privileged_(privileged) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() { close_all(); }

  ObjectTable& objects() { return objects_; }
  // bpf_capable() and capable(CAP_SYS_ADMIN) for this client (Linux root: both).
  bool privileged() const { return privileged_; }
  // A session serving many callers (the POSIX server's) sets it per call.
  void set_privileged(bool privileged) { privileged_ = privileged; }

  // The calling process's descriptors, for a session serving many processes (the POSIX
  // server's): entry n is the handle behind Linux fd n, kForeignDescriptor for an open fd that
  // is no object of this server, kClosedDescriptor for a closed one. The table must stay
  // valid until the view is cleared (nullptr). Without a view, fds are handles.
  static constexpr int32_t kForeignDescriptor = 0;
  static constexpr int32_t kClosedDescriptor = -1;
  void set_descriptors(const int32_t* table, uint32_t count) {
    descriptors_ = table;
    descriptor_count_ = count;
  }

  // A new handle holding one reference that the caller hands over. EMFILE when full.
  [[nodiscard]] rt::Result<int32_t> open(Object* object, uint32_t mode);
  // A new handle taking its own reference on `object`.
  [[nodiscard]] rt::Result<int32_t> open_shared(Object* object, uint32_t mode);
  // The object behind an fd of the caller (see set_descriptors): EBADF for a closed fd,
  // EINVAL for an open one that is no object of this server (as fdget then a wrong f_op).
  [[nodiscard]] rt::Result<Handle> lookup(int32_t fd) const;
  // EBADF for a handle that is not open.
  [[nodiscard]] rt::Result<Handle> lookup_handle(int32_t handle) const;
  // A map or program handle: EBADF when not open, EINVAL for another kind (as __bpf_map_get
  // and bpf_prog_get answer for an fd that is no map or program).
  [[nodiscard]] rt::Result<Handle> lookup_kind(int32_t handle, ObjectKind kind) const;
  [[nodiscard]] rt::Result<void> close(int32_t handle);
  void close_all();
  uint32_t open_count() const { return open_; }

  static constexpr uint32_t kMaxHandles = 1024;  // RLIMIT_NOFILE's usual soft limit

 private:
  ObjectTable& objects_;
  bool privileged_;
  const int32_t* descriptors_ = nullptr;
  uint32_t descriptor_count_ = 0;
  Handle handles_[kMaxHandles] = {};  // index = handle
  uint32_t open_ = 0;
};

}  // namespace trace
