// SPDX-License-Identifier: MIT
// epoll: epoll_create(1), epoll_ctl and epoll_wait/epoll_pwait/epoll_pwait2 over poll_file.
//
// Linux queues an item on its instance's ready list from a wakeup callback. Here there are no
// wakeups: readiness is polled on every try (a blocked wait is retried after each message the
// server serves, as poll is; over trace-server files alone only after the trace server's
// wakeups), and edge-triggered items are armed by what changed since the last look: an event
// bit that was off, or another write into a pipe or an eventfd.
#include "vfs/epoll.hpp"

#include <string.h>

#include "kernel/syscalls.hpp"
#include "platform/kernel.hpp"
#include "sys/clock.hpp"
#include "vfs/eventfd.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {

using rt::err;

// Linux's uapi/linux/eventpoll.h.
constexpr uint32_t kEpollIn = 0x1, kEpollOut = 0x4, kEpollErr = 0x8, kEpollHup = 0x10;
constexpr uint32_t kEpollRdNorm = 0x40, kEpollWrNorm = 0x100;
constexpr uint32_t kEpollExclusive = 1u << 28, kEpollWakeup = 1u << 29;
constexpr uint32_t kEpollOneShot = 1u << 30, kEpollEt = 1u << 31;
constexpr uint32_t kPrivateBits = kEpollExclusive | kEpollWakeup | kEpollOneShot | kEpollEt;
// What EPOLLEXCLUSIVE may be combined with.
constexpr uint32_t kExclusiveOkBits =
    kEpollIn | kEpollOut | kEpollErr | kEpollHup | kEpollWakeup | kEpollEt | kEpollExclusive;
constexpr int kCtlAdd = 1, kCtlDel = 2, kCtlMod = 3;
constexpr int kMaxNests = 4;       // Linux's EP_MAX_NESTS
constexpr size_t kEventSize = 12;  // struct epoll_event is packed on x86-64
constexpr int64_t kMaxEvents = 0x7fffffff / kEventSize;
constexpr uint64_t kUnblockable = (1ull << 8) | (1ull << 18);  // SIGKILL, SIGSTOP

struct EpollItem {
  File* file;  // not a reference: the file leaves the list when its last reference goes
  int fd;
  uint32_t events;  // as registered plus EPOLLERR|EPOLLHUP; a fired ONESHOT keeps only the
                    // private bits
  uint64_t data;
  // Edge-triggered: what the last look saw, and whether an edge waits to be reported.
  uint32_t seen_ready;
  uint64_t seen_writes;
  bool armed;
  EpollItem* next;
};

}  // namespace

struct EventPoll {
  EpollItem* items;  // in report order: a reported item moves to the end (round robin)
  EventPoll* next;   // every instance, for epoll_release
  EventPoll* previous;
};

namespace {

EventPoll* instances = nullptr;

uint64_t writes_of(const File* file) {
  if (file->kind == FileKind::kEventFd) return file->counter->writes;
  return file->kind == FileKind::kPipeRead ? file->pipe->writes : 0;
}

uint32_t readiness(EventPoll* poll, int depth);

// The item's events now: the file's poll bits (with Linux's RDNORM/WRNORM companions) masked
// by what it asked for.
uint32_t item_events(const EpollItem& item, int depth) {
  uint32_t mask;
  if (item.file->kind == FileKind::kEpoll) {
    mask = readiness(item.file->epoll, depth + 1);
  } else {
    mask = static_cast<uint32_t>(poll_file(item.file));
  }
  if ((mask & kEpollIn) != 0) mask |= kEpollRdNorm;
  if ((mask & kEpollOut) != 0) mask |= kEpollWrNorm;
  return mask & item.events & ~kPrivateBits;
}

// Records a look at `item` whose events are `ready`; true when it would be reported.
bool look(EpollItem& item, uint32_t ready) {
  if ((item.events & kEpollEt) == 0) return ready != 0;
  uint64_t writes = writes_of(item.file);
  if ((ready & ~item.seen_ready) != 0 || writes != item.seen_writes) item.armed = true;
  if (ready == 0) item.armed = false;  // as Linux drops a ready-listed item with no events
  item.seen_ready = ready;
  item.seen_writes = writes;
  return item.armed;
}

uint32_t readiness(EventPoll* poll, int depth) {
  if (depth > kMaxNests) return 0;  // ELOOP keeps chains shorter
  for (EpollItem* item = poll->items; item != nullptr; item = item->next) {
    if (look(*item, item_events(*item, depth))) return kEpollIn | kEpollRdNorm;
  }
  return 0;
}

// The longest chain of epoll files nested below `from`, in links; kLoop when it reaches
// `target`.
constexpr int kLoop = 1000;
int depth_below(EventPoll* from, EventPoll* target, int depth) {
  if (from == target || depth > kMaxNests) return kLoop;
  int deepest = 0;
  for (EpollItem* item = from->items; item != nullptr; item = item->next) {
    if (item->file->kind != FileKind::kEpoll) continue;
    int below = 1 + depth_below(item->file->epoll, target, depth + 1);
    if (below > deepest) deepest = below;
  }
  return deepest;
}

// The longest chain of epoll files `poll` is nested in, in links.
int depth_above(EventPoll* poll, int depth) {
  if (depth > kMaxNests) return kLoop;
  int highest = 0;
  for (EventPoll* parent = instances; parent != nullptr; parent = parent->next) {
    for (EpollItem* item = parent->items; item != nullptr; item = item->next) {
      if (item->file->kind != FileKind::kEpoll || item->file->epoll != poll) continue;
      int above = 1 + depth_above(parent, depth + 1);
      if (above > highest) highest = above;
    }
  }
  return highest;
}

// Adding the epoll file `inner` to `poll`: ELOOP for a loop or a chain of more than
// EP_MAX_NESTS links, as Linux's ep_loop_check.
bool too_deep(EventPoll* poll, EventPoll* inner) {
  return depth_above(poll, 0) + 1 + depth_below(inner, poll, 0) > kMaxNests;
}

EpollItem* find_item(EventPoll* poll, File* file, int fd) {
  for (EpollItem* item = poll->items; item != nullptr; item = item->next) {
    if (item->file == file && item->fd == fd) return item;
  }
  return nullptr;
}

void unlink_item(EventPoll* poll, EpollItem* target) {
  for (EpollItem** link = &poll->items; *link != nullptr; link = &(*link)->next) {
    if (*link == target) {
      *link = target->next;
      return;
    }
  }
}

void append_item(EventPoll* poll, EpollItem* item) {
  item->next = nullptr;
  EpollItem** link = &poll->items;
  while (*link != nullptr) link = &(*link)->next;
  *link = item;
}

void free_item(EpollItem* item) { platform::heap().deallocate(item, sizeof(EpollItem)); }

// ADD and MOD look at the file at once: ready now is reported by the next wait, edge-triggered
// or not, as Linux queues it then.
void set_events(EpollItem& item, uint32_t events, uint64_t data) {
  item.events = events | kEpollErr | kEpollHup;
  item.data = data;
  item.seen_ready = item_events(item, 0);
  item.seen_writes = writes_of(item.file);
  item.armed = item.seen_ready != 0;
}

rt::Result<File*> new_epoll_file(uint32_t flags) {
  auto* poll =
      static_cast<EventPoll*>(platform::heap().allocate(sizeof(EventPoll), alignof(EventPoll)));
  if (poll == nullptr) return err(rt::kENOMEM);
  auto file = new_file(FileKind::kEpoll, kO_RDWR | (flags & kO_CLOEXEC), nullptr);
  if (!file.ok()) {
    platform::heap().deallocate(poll, sizeof(EventPoll));
    return file.error();
  }
  memset(poll, 0, sizeof(EventPoll));
  poll->next = instances;
  if (instances != nullptr) instances->previous = poll;
  instances = poll;
  file.value()->epoll = poll;
  return file.value();
}

// Linux's file_can_poll: regular files, directories and procfs files (kInode here), /dev/null,
// /dev/zero and /dev/urandom have no poll method, so epoll_ctl refuses them (EPERM).
// GAP: trace fds Linux cannot poll (programs, links, most maps) are accepted.
bool has_poll(const File& file) {
  switch (file.kind) {
    case FileKind::kInode:
    case FileKind::kNull:
    case FileKind::kZero: return false;
    case FileKind::kRandom: return file.inode != nullptr && file.inode->device == ((1u << 8) | 8);
    default: return true;
  }
}

int64_t create(SyscallContext& c, uint32_t flags) {
  auto file = new_epoll_file(flags);
  if (!file.ok()) return -file.error().code;
  auto fd = install_fd(*c.process->files, file.value(), 0, (flags & kO_CLOEXEC) != 0);
  if (!fd.ok()) {
    put_file(file.value());
    return -fd.error().code;
  }
  return fd.value();
}

// What a wait on `poll` blocks for: the trace server's wakeups alone while every item is a
// trace-server file (an epoll file among them is kAny: what it holds may change unseen).
WaitReason wait_reason_of(const EventPoll* poll) {
  WatchedFiles watched;
  for (const EpollItem* item = poll->items; item != nullptr; item = item->next) {
    watched.add(item->file);
  }
  return watched.reason();
}

// Fills the user's array with up to `max` reportable items: their count, or -EFAULT when the
// first cannot be written. Reported items go to the end of the list; a fired ONESHOT item is
// disabled until EPOLL_CTL_MOD, an edge-triggered one until its next edge.
int64_t collect(SyscallContext& c, EventPoll* poll, uint64_t address, int64_t max) {
  int64_t count = 0;
  EpollItem* reported = nullptr;
  EpollItem** reported_tail = &reported;
  for (EpollItem** link = &poll->items; *link != nullptr && count < max;) {
    EpollItem* item = *link;
    uint32_t ready = item_events(*item, 0);
    if (!look(*item, ready)) {
      link = &item->next;
      continue;
    }
    uint8_t event[kEventSize];
    memcpy(event, &ready, 4);
    memcpy(event + 4, &item->data, 8);
    if (!user(c).copy_out(address + count * kEventSize, event, kEventSize).ok()) {
      if (count == 0) count = -rt::kEFAULT;
      break;
    }
    ++count;
    if ((item->events & kEpollOneShot) != 0) item->events &= kPrivateBits;
    item->armed = false;
    *link = item->next;
    item->next = nullptr;
    *reported_tail = item;
    reported_tail = &item->next;
  }
  EpollItem** end = &poll->items;
  while (*end != nullptr) end = &(*end)->next;
  *end = reported;
  return count;
}

// epoll_wait's work once the signal mask is in place; `timeout_ns` < 0 waits for ever.
// A blocked wait looks again when the server serves a message (or at its deadline), as poll
// does; one over trace-server files alone only when the trace server wakes it (the trace
// wakeup: the server's own message), a signal comes or an interest list changes.
int64_t wait(SyscallContext& c, int64_t timeout_ns) {
  int64_t max = static_cast<int32_t>(c.arg(2));
  uint64_t address = c.arg(1);
  if (max <= 0 || max > kMaxEvents) return -rt::kEINVAL;
  if (address >= mm::kUserTop || mm::kUserTop - address < static_cast<uint64_t>(max) * kEventSize) {
    return -rt::kEFAULT;  // as Linux's access_ok: an unmapped user address faults later
  }
  File* file = fd_file(*c.process->files, static_cast<int>(c.arg(0)));
  if (file == nullptr) return -rt::kEBADF;
  if (file->kind != FileKind::kEpoll) return -rt::kEINVAL;
  Thread* p = c.thread;
  int64_t count = collect(c, file->epoll, address, max);
  if (count != 0 || timeout_ns == 0) {
    p->sleep_deadline = 0;
    return count;
  }
  if (deliverable_signals(p) != 0) {
    p->sleep_deadline = 0;
    return -rt::kEINTR;
  }
  if (timeout_ns > 0) {
    // A retry keeps the deadline set by the first try; the timer thread ends the wait.
    uint64_t now = sys::clock_ns();
    if (p->sleep_deadline == 0) p->sleep_deadline = now + static_cast<uint64_t>(timeout_ns);
    if (now >= p->sleep_deadline) {
      p->sleep_deadline = 0;
      return 0;
    }
    arm_timer();
  }
  c.wait = wait_reason_of(file->epoll);
  return kDeferred;
}

// epoll_pwait and epoll_pwait2: the mask (arguments 4 and 5) holds while the call waits, as
// rt_sigsuspend's does; a signal's handler frame restores the old one.
int64_t wait_with_mask(SyscallContext& c, int64_t timeout_ns) {
  Thread* p = c.thread;
  bool masked = c.arg(4) != 0;
  if (masked && !p->in_suspend) {
    if (c.arg(5) != 8) return -rt::kEINVAL;
    uint64_t mask;
    if (!user(c).copy_in(&mask, c.arg(4), 8).ok()) return -rt::kEFAULT;
    p->suspend_mask = p->signal_mask;
    p->signal_mask = mask & ~kUnblockable;
    p->in_suspend = true;
  }
  int64_t result = wait(c, timeout_ns);
  if (masked && result != kDeferred && (result != -rt::kEINTR || deliverable_signals(p) == 0)) {
    p->signal_mask = p->suspend_mask;
    p->in_suspend = false;
  }
  return result;
}

}  // namespace

int epoll_poll(File* file) { return static_cast<int>(readiness(file->epoll, 0)); }

void epoll_release(File* file) {
  for (EventPoll* poll = instances; poll != nullptr; poll = poll->next) {
    for (EpollItem** link = &poll->items; *link != nullptr;) {
      EpollItem* item = *link;
      if (item->file == file) {
        *link = item->next;
        free_item(item);
      } else {
        link = &item->next;
      }
    }
  }
  if (file->kind != FileKind::kEpoll || file->epoll == nullptr) return;
  EventPoll* poll = file->epoll;
  while (poll->items != nullptr) {
    EpollItem* item = poll->items;
    poll->items = item->next;
    free_item(item);
  }
  if (poll->previous != nullptr) poll->previous->next = poll->next;
  if (poll->next != nullptr) poll->next->previous = poll->previous;
  if (instances == poll) instances = poll->next;
  platform::heap().deallocate(poll, sizeof(EventPoll));
  file->epoll = nullptr;
}

int64_t sys_epoll_create(SyscallContext& c) {
  if (static_cast<int32_t>(c.arg(0)) <= 0) return -rt::kEINVAL;
  return create(c, 0);
}

int64_t sys_epoll_create1(SyscallContext& c) {
  if ((c.arg(0) & 0xffffffff & ~uint64_t{kO_CLOEXEC}) != 0) return -rt::kEINVAL;
  return create(c, static_cast<uint32_t>(c.arg(0)));
}

int64_t sys_epoll_ctl(SyscallContext& c) {
  int op = static_cast<int32_t>(c.arg(1));
  int fd = static_cast<int32_t>(c.arg(2));
  uint32_t events = 0;
  uint64_t data = 0;
  if (op != kCtlDel) {
    uint8_t event[kEventSize];
    if (!user(c).copy_in(event, c.arg(3), kEventSize).ok()) return -rt::kEFAULT;
    memcpy(&events, event, 4);
    memcpy(&data, event + 4, 8);
  }
  File* epoll_file = fd_file(*c.process->files, static_cast<int32_t>(c.arg(0)));
  File* target = fd_file(*c.process->files, fd);
  if (epoll_file == nullptr || target == nullptr) return -rt::kEBADF;
  if (!has_poll(*target)) return -rt::kEPERM;
  if (epoll_file == target || epoll_file->kind != FileKind::kEpoll) return -rt::kEINVAL;
  if (op != kCtlDel && (events & kEpollExclusive) != 0) {
    if (op == kCtlMod) return -rt::kEINVAL;
    if (op == kCtlAdd && (target->kind == FileKind::kEpoll || (events & ~kExclusiveOkBits) != 0)) {
      return -rt::kEINVAL;
    }
  }
  EventPoll* poll = epoll_file->epoll;
  if (op == kCtlAdd && target->kind == FileKind::kEpoll && too_deep(poll, target->epoll)) {
    return -rt::kELOOP;
  }
  EpollItem* item = find_item(poll, target, fd);
  // A wait blocked on this instance over trace files alone looks again: what it watches may be
  // ready, or no longer the trace server's alone.
  if (op != kCtlDel) note_trace_event();
  switch (op) {
    case kCtlAdd: {
      if (item != nullptr) return -rt::kEEXIST;
      auto* added =
          static_cast<EpollItem*>(platform::heap().allocate(sizeof(EpollItem), alignof(EpollItem)));
      if (added == nullptr) return -rt::kENOMEM;
      memset(added, 0, sizeof(EpollItem));
      added->file = target;
      added->fd = fd;
      set_events(*added, events, data);
      append_item(poll, added);
      return 0;
    }
    case kCtlDel:
      if (item == nullptr) return -rt::kENOENT;
      unlink_item(poll, item);
      free_item(item);
      return 0;
    case kCtlMod:
      if (item == nullptr) return -rt::kENOENT;
      if ((item->events & kEpollExclusive) != 0) return -rt::kEINVAL;
      set_events(*item, events, data);
      return 0;
    default: return -rt::kEINVAL;
  }
}

int64_t sys_epoll_wait(SyscallContext& c) {
  int64_t ms = static_cast<int32_t>(c.arg(3));
  return wait(c, ms < 0 ? -1 : ms * 1000000);
}

int64_t sys_epoll_pwait(SyscallContext& c) {
  int64_t ms = static_cast<int32_t>(c.arg(3));
  return wait_with_mask(c, ms < 0 ? -1 : ms * 1000000);
}

int64_t sys_epoll_pwait2(SyscallContext& c) {
  int64_t timeout_ns = -1;
  if (c.arg(3) != 0) {
    int64_t timespec[2];
    if (!user(c).copy_in(timespec, c.arg(3), 16).ok()) return -rt::kEFAULT;
    if (timespec[0] < 0 || timespec[1] < 0 || timespec[1] >= 1000000000) return -rt::kEINVAL;
    constexpr int64_t kMaxSeconds = INT64_MAX / 1000000000 - 1;
    timeout_ns = timespec[0] > kMaxSeconds ? INT64_MAX : timespec[0] * 1000000000 + timespec[1];
  }
  return wait_with_mask(c, timeout_ns);
}

}  // namespace posix
