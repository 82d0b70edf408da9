// SPDX-License-Identifier: MIT
// Descriptor system calls: dup, fcntl, pipes, ioctl and poll.

#include "kernel/syscalls.hpp"
#include "sys/clock.hpp"
#include "tracing/trace_service.hpp"
#include "vfs/vfs.hpp"

namespace posix {

// ---- descriptors ----

namespace {
int64_t duplicate(SyscallContext& c, int old_fd, int new_fd, bool cloexec) {
  FdTable& table = *c.process->files;
  File* file = fd_file(table, old_fd);
  if (file == nullptr) return -rt::kEBADF;
  if (new_fd < 0 || new_fd >= nofile_limit()) return -rt::kEBADF;
  if (old_fd == new_fd) return new_fd;
  get_file(file);
  if (fd_file(table, new_fd) != nullptr) (void)close_fd(table, new_fd);
  fd_table_reach(table, new_fd);
  table.files[new_fd] = file;
  table.close_on_exec[new_fd] = cloexec;
  return new_fd;
}
}  // namespace

int64_t sys_dup(SyscallContext& c) {
  File* file = fd_file(*c.process->files, static_cast<int>(c.arg(0)));
  if (file == nullptr) return -rt::kEBADF;
  get_file(file);
  auto fd = install_fd(*c.process->files, file, 0, false);
  if (!fd.ok()) {
    put_file(file);
    return -fd.error().code;
  }
  return fd.value();
}
int64_t sys_dup2(SyscallContext& c) {
  int old_fd = static_cast<int>(c.arg(0)), new_fd = static_cast<int>(c.arg(1));
  if (old_fd == new_fd) return fd_file(*c.process->files, old_fd) == nullptr ? -rt::kEBADF : new_fd;
  return duplicate(c, old_fd, new_fd, false);
}
int64_t sys_dup3(SyscallContext& c) {
  if ((c.arg(2) & ~uint64_t{kO_CLOEXEC}) != 0 || c.arg(0) == c.arg(1)) return -rt::kEINVAL;
  return duplicate(c, static_cast<int>(c.arg(0)), static_cast<int>(c.arg(1)),
                   (c.arg(2) & kO_CLOEXEC) != 0);
}

int64_t sys_fcntl(SyscallContext& c) {
  constexpr uint64_t kDupFd = 0, kGetFd = 1, kSetFd = 2, kGetFl = 3, kSetFl = 4;
  constexpr uint64_t kDupFdCloexec = 1030;
  FdTable& table = *c.process->files;
  int fd = static_cast<int>(c.arg(0));
  File* file = fd_file(table, fd);
  if (file == nullptr) return -rt::kEBADF;
  switch (c.arg(1)) {
    case kDupFd:
    case kDupFdCloexec: {
      if (c.arg(2) >= static_cast<uint64_t>(nofile_limit())) return -rt::kEINVAL;
      get_file(file);
      auto installed =
          install_fd(table, file, static_cast<int>(c.arg(2)), c.arg(1) == kDupFdCloexec);
      if (!installed.ok()) {
        put_file(file);
        return -installed.error().code;
      }
      return installed.value();
    }
    case kGetFd: return table.close_on_exec[fd] ? 1 : 0;
    case kSetFd: table.close_on_exec[fd] = (c.arg(2) & 1) != 0; return 0;
    case kGetFl:
      return file->flags & ~uint32_t{kO_CLOEXEC | kO_CREAT | kO_EXCL | kO_TRUNC | kO_NOCTTY};
    case kSetFl: {
      uint32_t changeable = kO_APPEND | kO_NONBLOCK;
      file->flags = (file->flags & ~changeable) | (static_cast<uint32_t>(c.arg(2)) & changeable);
      return 0;
    }
    default: return -rt::kEINVAL;  // GAP: locks (F_GETLK, F_SETLK) and the rest
  }
}

int64_t sys_pipe2(SyscallContext& c) {
  uint64_t flags = c.arg(1);
  if ((flags & ~uint64_t{kO_CLOEXEC | kO_NONBLOCK}) != 0) return -rt::kEINVAL;
  File* read_end = nullptr;
  File* write_end = nullptr;
  if (auto r = make_pipe(read_end, write_end, static_cast<uint32_t>(flags)); !r.ok()) {
    return -r.error().code;
  }
  bool cloexec = (flags & kO_CLOEXEC) != 0;
  auto first = install_fd(*c.process->files, read_end, 0, cloexec);
  if (!first.ok()) {
    put_file(read_end);
    put_file(write_end);
    return -first.error().code;
  }
  auto second = install_fd(*c.process->files, write_end, 0, cloexec);
  if (!second.ok()) {
    (void)close_fd(*c.process->files, first.value());
    put_file(write_end);
    return -second.error().code;
  }
  int fds[2] = {first.value(), second.value()};
  if (auto r = user(c).copy_out(c.arg(0), fds, sizeof(fds)); !r.ok()) {
    (void)close_fd(*c.process->files, fds[0]);
    (void)close_fd(*c.process->files, fds[1]);
    return -rt::kEFAULT;
  }
  return 0;
}
int64_t sys_pipe(SyscallContext& c) {
  c.registers.rsi = 0;
  return sys_pipe2(c);
}

// ---- ioctl and poll ----

int64_t sys_ioctl(SyscallContext& c) {
  File* file = fd_file(*c.process->files, static_cast<int>(c.arg(0)));
  if (file == nullptr) return -rt::kEBADF;
  uint64_t request = c.arg(1) & 0xffffffff, argument = c.arg(2);
  constexpr uint64_t kFionbio = 0x5421, kFionread = 0x541b;
  // A terminal's settings decide what a blocked read of it may take (canonical mode, VMIN).
  if (file->kind == FileKind::kConsole) note_console_event();
  if (request == kFionbio) {
    int value = 0;
    if (auto r = user(c).copy_in(&value, argument, 4); !r.ok()) return -rt::kEFAULT;
    if (value != 0) {
      file->flags |= kO_NONBLOCK;
    } else {
      file->flags &= ~kO_NONBLOCK;
    }
    return 0;
  }
  if (file->kind == FileKind::kPipeRead && request == kFionread) {
    int available = static_cast<int>(file->pipe->count);
    return to_rax(user(c).copy_out(argument, &available, 4));
  }
  if (file->kind == FileKind::kTrace) {
    return trace_file_ioctl(c, static_cast<int>(c.arg(0)), request, argument);
  }
  if (file->kind != FileKind::kConsole) return -rt::kENOTTY;
  return tty_ioctl(c, request, argument);
}

int64_t sys_poll(SyscallContext& c) {
  uint64_t fds = c.arg(0), count = c.arg(1);
  int64_t timeout = static_cast<int32_t>(c.arg(2));
  if (count > static_cast<uint64_t>(nofile_limit())) return -rt::kEINVAL;
  int64_t ready = 0;
  WatchedFiles watched;
  for (uint64_t i = 0; i < count; ++i) {
    struct {
      int32_t fd;
      int16_t events, revents;
    } entry;
    if (auto r = user(c).copy_in(&entry, fds + i * 8, 8); !r.ok()) return -rt::kEFAULT;
    entry.revents = 0;
    if (entry.fd >= 0) {
      File* file = fd_file(*c.process->files, entry.fd);
      entry.revents =
          file == nullptr ? 0x20 : static_cast<int16_t>(poll_file(file) & (entry.events | 0x18));
      if (entry.revents != 0) ++ready;
      watched.add(file);
    }
    if (auto r = user(c).copy_out(fds + i * 8 + 6, &entry.revents, 2); !r.ok()) return -rt::kEFAULT;
  }
  Thread* p = c.thread;
  if (ready > 0 || timeout == 0) {
    p->sleep_deadline = 0;
    return ready;
  }
  if (timeout > 0) {
    // A retry keeps the deadline set by the first try; the timer thread ends the wait.
    uint64_t now = sys::clock_ns();
    if (p->sleep_deadline == 0) p->sleep_deadline = now + static_cast<uint64_t>(timeout) * 1000000;
    if (now >= p->sleep_deadline) {
      p->sleep_deadline = 0;
      return 0;
    }
    arm_timer();
  }
  c.wait = watched.reason();
  return kDeferred;
}

namespace {

// select and pselect6 over poll_file: `timeout_ms` -1 waits without end. Linux's rules: nfds
// below 0 is EINVAL, above the fd table it is cut to its size; an fd in a set that is not open
// is EBADF; the sets are rewritten only when the call ends (a deferred call is retried with
// them as they were). Readable: POLLIN, POLLHUP or POLLERR; writable: POLLOUT or POLLERR;
// exceptional: POLLPRI.
int64_t select_files(SyscallContext& c, int64_t timeout_ms, bool& timed_out) {
  timed_out = false;
  int64_t nfds = static_cast<int32_t>(c.arg(0));
  if (nfds < 0) return -rt::kEINVAL;
  if (nfds > FdTable::kMax) nfds = FdTable::kMax;
  constexpr size_t kWords = (FdTable::kMax + 63) / 64;
  uint64_t in[3][kWords] = {}, out[3][kWords] = {};
  size_t bytes = static_cast<size_t>((nfds + 63) / 64) * 8;
  for (int set = 0; set < 3; ++set) {
    uint64_t address = c.arg(1 + set);
    if (address == 0 || bytes == 0) continue;
    if (!user(c).copy_in(in[set], address, bytes).ok()) return -rt::kEFAULT;
  }
  constexpr int kPollIn = 0x001, kPollPri = 0x002, kPollOut = 0x004, kPollErr = 0x008,
                kPollHup = 0x010;
  int64_t ready = 0;
  WatchedFiles watched;
  for (int64_t fd = 0; fd < nfds; ++fd) {
    uint64_t bit = 1ull << (fd % 64);
    size_t word = static_cast<size_t>(fd / 64);
    if (((in[0][word] | in[1][word] | in[2][word]) & bit) == 0) continue;
    File* file = fd_file(*c.process->files, static_cast<int>(fd));
    if (file == nullptr) return -rt::kEBADF;
    int events = poll_file(file);
    watched.add(file);
    const int wanted[3] = {kPollIn | kPollHup | kPollErr, kPollOut | kPollErr, kPollPri};
    for (int set = 0; set < 3; ++set) {
      if ((in[set][word] & bit) != 0 && (events & wanted[set]) != 0) {
        out[set][word] |= bit;
        ++ready;
      }
    }
  }
  Thread* p = c.thread;
  bool done = ready > 0 || timeout_ms == 0;
  if (!done && timeout_ms > 0) {
    // A retry keeps the deadline set by the first try; the timer thread ends the wait.
    uint64_t now = sys::clock_ns();
    if (p->sleep_deadline == 0)
      p->sleep_deadline = now + static_cast<uint64_t>(timeout_ms) * 1000000;
    if (now >= p->sleep_deadline) {
      done = true;
      timed_out = true;
    } else {
      arm_timer();
    }
  }
  if (!done) {
    c.wait = watched.reason();
    return kDeferred;
  }
  p->sleep_deadline = 0;
  for (int set = 0; set < 3; ++set) {
    uint64_t address = c.arg(1 + set);
    if (address == 0 || bytes == 0) continue;
    if (!user(c).copy_out(address, out[set], bytes).ok()) return -rt::kEFAULT;
  }
  return ready;
}

int64_t timeout_of(int64_t seconds, int64_t fraction_ns) {
  if (seconds < 0 || fraction_ns < 0 || fraction_ns >= 1000000000) return -2;  // EINVAL
  int64_t ms = seconds * 1000 + (fraction_ns + 999999) / 1000000;
  return ms > 0x7fffffff || seconds > 0x7fffffff ? 0x7fffffff : ms;
}

}  // namespace

int64_t sys_select(SyscallContext& c) {
  int64_t timeout = -1;
  int64_t timeval[2] = {};
  if (c.arg(4) != 0) {
    if (!user(c).copy_in(timeval, c.arg(4), 16).ok()) return -rt::kEFAULT;
    if (timeval[1] >= 1000000) return -rt::kEINVAL;
    timeout = timeout_of(timeval[0], timeval[1] * 1000);
    if (timeout == -2) return -rt::kEINVAL;
  }
  bool timed_out = false;
  int64_t result = select_files(c, timeout, timed_out);
  // Linux's select writes back the time left: all of it gone after a timeout.
  if (timed_out && c.arg(4) != 0) {
    int64_t zero[2] = {0, 0};
    (void)user(c).copy_out(c.arg(4), zero, 16);
  }
  return result;
}

// GAP: the signal mask (the sixth argument) is not applied while waiting, as ppoll's.
int64_t sys_pselect6(SyscallContext& c) {
  int64_t timeout = -1;
  if (c.arg(4) != 0) {
    int64_t timespec[2];
    if (!user(c).copy_in(timespec, c.arg(4), 16).ok()) return -rt::kEFAULT;
    timeout = timeout_of(timespec[0], timespec[1]);
    if (timeout == -2) return -rt::kEINVAL;
  }
  bool timed_out = false;
  return select_files(c, timeout, timed_out);
}

int64_t sys_ppoll(SyscallContext& c) {
  if (c.arg(2) != 0) {
    int64_t timespec[2];
    if (auto r = user(c).copy_in(timespec, c.arg(2), 16); !r.ok()) return -rt::kEFAULT;
    if (timespec[0] < 0 || timespec[1] < 0 || timespec[1] >= 1000000000) return -rt::kEINVAL;
    int64_t ms = timespec[0] * 1000 + (timespec[1] + 999999) / 1000000;
    c.registers.rdx = static_cast<uint64_t>(ms > 0x7fffffff ? 0x7fffffff : ms);
  } else {
    c.registers.rdx = static_cast<uint64_t>(-1);
  }
  return sys_poll(c);
}

}  // namespace posix
