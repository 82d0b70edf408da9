// SPDX-License-Identifier: MIT
// Session: a client's handle table, lowest free handle first, like a file descriptor table.
#include "trace/session.hpp"

#include "rt/errno.hpp"
#include "trace/object_mmap.hpp"

namespace trace {

rt::Result<int32_t> Session::open(Object* object, uint32_t mode) {
  for (uint32_t handle = 1; handle < kMaxHandles; ++handle) {
    if (handles_[handle].object != nullptr) continue;
    handles_[handle] = Handle{object, mode};
    ++open_;
    if (object->kind == ObjectKind::kMap) ++static_cast<MapObject*>(object)->user_references;
    return static_cast<int32_t>(handle);
  }
  objects_.release(object);  // the reference handed over has nowhere to go
  return rt::err(rt::kEMFILE);
}

rt::Result<int32_t> Session::open_shared(Object* object, uint32_t mode) {
  objects_.acquire(object);
  return open(object, mode);
}

rt::Result<Handle> Session::lookup(int32_t fd) const {
  if (descriptors_ == nullptr) return lookup_handle(fd);
  if (fd < 0 || static_cast<uint32_t>(fd) >= descriptor_count_ ||
      descriptors_[fd] == kClosedDescriptor) {
    return rt::err(rt::kEBADF);
  }
  if (descriptors_[fd] == kForeignDescriptor) return rt::err(rt::kEINVAL);
  return lookup_handle(descriptors_[fd]);
}

rt::Result<Handle> Session::lookup_handle(int32_t handle) const {
  if (handle <= 0 || static_cast<uint32_t>(handle) >= kMaxHandles ||
      handles_[handle].object == nullptr) {
    return rt::err(rt::kEBADF);
  }
  return handles_[handle];
}

rt::Result<Handle> Session::lookup_kind(int32_t handle, ObjectKind kind) const {
  Handle found = TRY(lookup(handle));
  if (found.object->kind != kind) return rt::err(rt::kEINVAL);
  return found;
}

rt::Result<void> Session::close(int32_t handle) {
  Handle found = TRY(lookup_handle(handle));
  handles_[handle] = Handle{};
  --open_;
  if ((found.mode & kMapping) != 0 && found.object->kind == ObjectKind::kPerfEvent) {
    perf_event_unmapped(objects_, found.object);
  }
  if (found.object->kind == ObjectKind::kMap) {
    auto* map = static_cast<MapObject*>(found.object);
    if (--map->user_references == 0) objects_.clear_program_array(map);
  }
  objects_.release(found.object);
  return {};
}

void Session::close_all() {
  for (uint32_t handle = 1; handle < kMaxHandles && open_ > 0; ++handle) {
    if (handles_[handle].object != nullptr) (void)close(static_cast<int32_t>(handle));
  }
}

}  // namespace trace
