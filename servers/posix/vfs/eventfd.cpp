// SPDX-License-Identifier: MIT
// eventfd and eventfd2: a counter that writes add to and reads take, as Linux's fs/eventfd.c.
#include "vfs/eventfd.hpp"

#include "kernel/syscalls.hpp"
#include "rt/format.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {

constexpr uint64_t kEfdSemaphore = 1;
constexpr uint64_t kMaxCount = ~uint64_t{0} - 1;  // ULLONG_MAX - 1: a write never passes it
constexpr uint32_t kPollIn = 1, kPollOut = 4, kPollErr = 8;

uint32_t next_id = 0;  // Linux's eventfd_ida: the lowest free id; here ids only grow

int64_t create(SyscallContext& c, uint64_t initial, uint64_t flags) {
  if ((flags & ~uint64_t{kO_CLOEXEC | kO_NONBLOCK | kEfdSemaphore}) != 0) return -rt::kEINVAL;
  auto* counter = static_cast<EventCounter*>(
      platform::heap().allocate(sizeof(EventCounter), alignof(EventCounter)));
  if (counter == nullptr) return -rt::kENOMEM;
  *counter = EventCounter{initial, 0, next_id++, (flags & kEfdSemaphore) != 0};
  auto file =
      new_file(FileKind::kEventFd, kO_RDWR | (static_cast<uint32_t>(flags) & kO_NONBLOCK), nullptr);
  if (!file.ok()) {
    platform::heap().deallocate(counter, sizeof(EventCounter));
    return -file.error().code;
  }
  file.value()->counter = counter;
  auto fd = install_fd(*c.process->files, file.value(), 0, (flags & kO_CLOEXEC) != 0);
  if (!fd.ok()) {
    put_file(file.value());
    return -fd.error().code;
  }
  return fd.value();
}

}  // namespace

int64_t eventfd_read(File& file, uint64_t address, size_t count) {
  SyscallContext& c = *current_context();
  EventCounter& counter = *file.counter;
  if (count < sizeof(uint64_t)) return -rt::kEINVAL;
  if (counter.count == 0) {
    if ((file.flags & kO_NONBLOCK) != 0) return -rt::kEAGAIN;
    c.wait = WaitReason::kPipe;  // retried once a pipe or counter changes
    return kDeferred;
  }
  uint64_t value = counter.semaphore ? 1 : counter.count;
  if (!user(c).copy_out(address, &value, sizeof(value)).ok()) return -rt::kEFAULT;
  counter.count -= value;
  note_pipe_event();  // room for a blocked writer
  return sizeof(value);
}

int64_t eventfd_write(File& file, uint64_t address, size_t count) {
  SyscallContext& c = *current_context();
  EventCounter& counter = *file.counter;
  if (count < sizeof(uint64_t)) return -rt::kEINVAL;
  uint64_t value;
  if (!user(c).copy_in(&value, address, sizeof(value)).ok()) return -rt::kEFAULT;
  if (value == ~uint64_t{0}) return -rt::kEINVAL;
  if (kMaxCount - counter.count < value) {
    if ((file.flags & kO_NONBLOCK) != 0) return -rt::kEAGAIN;
    c.wait = WaitReason::kPipe;  // retried once a read makes room
    return kDeferred;
  }
  counter.count += value;
  if (value != 0) counter.writes++;
  note_pipe_event();  // a value for a blocked reader
  return sizeof(value);
}

int eventfd_poll(const File& file) {
  const EventCounter& counter = *file.counter;
  int events = 0;
  if (counter.count > 0) events |= kPollIn;
  if (counter.count == ~uint64_t{0}) events |= kPollErr;
  if (counter.count < kMaxCount) events |= kPollOut;
  return events;
}

void eventfd_release(File& file) {
  if (file.counter == nullptr) return;
  platform::heap().deallocate(file.counter, sizeof(EventCounter));
  file.counter = nullptr;
}

// eventfd_show_fdinfo: the count in hexadecimal, right-aligned in 16 columns, and the id.
size_t eventfd_fdinfo(const File& file, char* out, size_t capacity) {
  return rt::format_to(out, capacity, "eventfd-count: %16lx\neventfd-id: %u\n", file.counter->count,
                       file.counter->id);
}

int64_t sys_eventfd2(SyscallContext& c) {
  return create(c, static_cast<uint32_t>(c.arg(0)), c.arg(1) & 0xffffffff);
}

int64_t sys_eventfd(SyscallContext& c) { return create(c, static_cast<uint32_t>(c.arg(0)), 0); }

}  // namespace posix
