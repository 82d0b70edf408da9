// SPDX-License-Identifier: MIT
// vfs_read and vfs_write: files, devices, pipes and the console.
#include <string.h>

#include "fs/procfs.hpp"
#include "fs/tracefs.hpp"
#include "kernel/random.hpp"
#include "kernel/syscalls.hpp"
#include "tracing/trace_service.hpp"
#include "tty/console.hpp"
#include "vfs/epoll.hpp"
#include "vfs/eventfd.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {
SyscallContext* serving = nullptr;
constexpr int kSigPipe = 13;
}  // namespace

SyscallContext* current_context() { return serving; }
SyscallContext* const* current_context_slot() { return &serving; }
void set_current_context(SyscallContext* context) {
  serving = context;
  current = context != nullptr ? context->process : nullptr;
  // Back to the idle task (nullptr) only when the server next works for nobody (serve()):
  // between a process's calls the record stays its own.
  // The calling thread's tid (a thread of a process: bpf_get_current_pid_tgid's low half).
  if (current != nullptr) {
    use_current_task(current, context->thread != nullptr ? context->thread->tid : 0);
  }
  if (context != nullptr && context->thread != nullptr) use_current_cpu(context->thread->cpu);
}

int poll_file(File* file) {
  switch (file->kind) {
    case FileKind::kConsole: {
      bool eof = false;
      return (tty::readable(eof) > 0 || eof ? 1 : 0) | 4;
    }
    case FileKind::kPipeRead:
      return (file->pipe->count > 0 ? 1 : 0) | (file->pipe->writers == 0 ? 0x10 : 0) |
             (posix::fifo_read_write(*file) && file->pipe->count < Pipe::kCapacity ? 4 : 0);
    case FileKind::kPipeWrite:
      return (file->pipe->count < Pipe::kCapacity ? 4 : 0) | (file->pipe->readers == 0 ? 8 : 0);
    case FileKind::kEpoll: return posix::epoll_poll(file);
    case FileKind::kEventFd: return posix::eventfd_poll(*file);
    case FileKind::kTrace: return posix::trace_file_poll(*file);
    // GAP: tracefs files (trace_pipe) poll as always ready; the trace server is not asked.
    default: return 1 | 4;
  }
}

}  // namespace posix

using posix::File;
using posix::FileKind;
using posix::kDeferred;
using posix::kO_ACCMODE;
using posix::kO_APPEND;
using posix::kO_NONBLOCK;
using posix::kO_RDONLY;
using posix::kO_WRONLY;
using posix::Pipe;

extern "C" __attribute__((noinline)) long vfs_read(struct file* record, char* buf, size_t count,
                                                   uint64_t* pos) {
  File* file = static_cast<File*>(record->private_data);
  posix::SyscallContext& c = *posix::current_context();
  posix::mm::AddressSpace& memory = posix::user(c);
  auto address = reinterpret_cast<uint64_t>(buf);
  if ((file->flags & kO_ACCMODE) == kO_WRONLY) return -rt::kEBADF;
  if (static_cast<int64_t>(count) < 0) return -rt::kEINVAL;
  switch (file->kind) {
    case FileKind::kInode: {
      posix::Inode* inode = file->inode;
      if (inode->is_directory()) return -rt::kEISDIR;
      if (*pos >= inode->size || count == 0) return 0;
      uint64_t n = inode->size - *pos < count ? inode->size - *pos : count;
      if (auto r = memory.copy_out(address, inode->data + *pos, n); !r.ok()) return -rt::kEFAULT;
      *pos += n;
      return static_cast<long>(n);
    }
    case FileKind::kNull: return 0;
    case FileKind::kZero:
      return memory.zero(address, count).ok() ? static_cast<long>(count) : -rt::kEFAULT;
    case FileKind::kRandom: {
      uint8_t bytes[256];
      size_t done = 0;
      while (done < count) {
        size_t n = count - done < sizeof(bytes) ? count - done : sizeof(bytes);
        posix::fill_random(bytes, n);
        if (!memory.copy_out(address + done, bytes, n).ok()) return -rt::kEFAULT;
        done += n;
      }
      return static_cast<long>(count);
    }
    case FileKind::kConsole: {
      if (count == 0) return 0;
      bool eof = false;
      size_t available = posix::tty::readable(eof);
      if (available == 0 && !eof) {
        if ((file->flags & kO_NONBLOCK) != 0) return -rt::kEAGAIN;
        c.wait = posix::WaitReason::kConsole;  // retried after input, not after every message
        return kDeferred;
      }
      char bytes[4096];
      size_t n = posix::tty::read(bytes, count < sizeof(bytes) ? count : sizeof(bytes));
      if (!memory.copy_out(address, bytes, n).ok()) return -rt::kEFAULT;
      return static_cast<long>(n);
    }
    case FileKind::kPipeRead: {
      Pipe* pipe = file->pipe;
      if (count == 0) return 0;
      if (pipe->count == 0) {
        if (pipe->writers == 0) return 0;
        if ((file->flags & kO_NONBLOCK) != 0) return -rt::kEAGAIN;
        c.wait = posix::WaitReason::kPipe;  // retried once a pipe changes
        return kDeferred;
      }
      size_t n = pipe->count < count ? pipe->count : count;
      for (size_t done = 0; done < n;) {
        size_t chunk = Pipe::kCapacity - pipe->head;
        if (chunk > n - done) chunk = n - done;
        if (!memory.copy_out(address + done, pipe->buffer + pipe->head, chunk).ok()) {
          return done > 0 ? static_cast<long>(done) : -rt::kEFAULT;
        }
        pipe->head = (pipe->head + chunk) % Pipe::kCapacity;
        pipe->count -= chunk;
        done += chunk;
      }
      posix::note_pipe_event();  // room for a blocked writer
      return static_cast<long>(n);
    }
    case FileKind::kPipeWrite: return -rt::kEBADF;
    case FileKind::kTracefs: return posix::tracefs_read(file, address, count, pos);
    case FileKind::kTrace: return posix::trace_file_read(c, *file, address, count);
    case FileKind::kEpoll: return -rt::kEINVAL;  // no read method
    case FileKind::kEventFd: return posix::eventfd_read(*file, address, count);
  }
  return -rt::kEINVAL;
}

extern "C" __attribute__((noinline)) long vfs_write(struct file* record, const char* buf,
                                                    size_t count, uint64_t* pos) {
  File* file = static_cast<File*>(record->private_data);
  posix::SyscallContext& c = *posix::current_context();
  posix::mm::AddressSpace& memory = posix::user(c);
  auto address = reinterpret_cast<uint64_t>(buf);
  if ((file->flags & kO_ACCMODE) == kO_RDONLY && file->kind != FileKind::kConsole) {
    return -rt::kEBADF;
  }
  if (static_cast<int64_t>(count) < 0) return -rt::kEINVAL;
  // A FIFO opened O_RDWR is its pipe's read end that writes too.
  FileKind kind = posix::fifo_read_write(*file) ? FileKind::kPipeWrite : file->kind;
  switch (kind) {
    case FileKind::kInode: {
      posix::Inode* inode = file->inode;
      if (inode->is_directory()) return -rt::kEISDIR;
      if (posix::is_procfs_control(inode)) {
        char bytes[64];
        if (count > sizeof(bytes)) return -rt::kEINVAL;
        if (!memory.copy_in(bytes, address, count).ok()) return -rt::kEFAULT;
        return posix::procfs_control_write(inode, bytes, count);
      }
      if ((file->flags & kO_APPEND) != 0) *pos = inode->size;
      if (count == 0) return 0;
      if (*pos + count > (1ull << 32)) return -rt::kEFBIG;
      if (auto r = posix::file_tree().reserve(inode, *pos + count); !r.ok()) return -rt::kENOSPC;
      if (*pos > inode->size) memset(inode->data + inode->size, 0, *pos - inode->size);
      if (!memory.copy_in(inode->data + *pos, address, count).ok()) return -rt::kEFAULT;
      *pos += count;
      if (*pos > inode->size) inode->size = *pos;
      return static_cast<long>(count);
    }
    case FileKind::kNull:
    case FileKind::kZero:
    case FileKind::kRandom: return static_cast<long>(count);
    case FileKind::kConsole: {
      char bytes[512];
      size_t done = 0;
      while (done < count) {
        size_t n = count - done < sizeof(bytes) ? count - done : sizeof(bytes);
        if (!memory.copy_in(bytes, address + done, n).ok()) {
          return done > 0 ? static_cast<long>(done) : -rt::kEFAULT;
        }
        posix::tty::write(bytes, n);
        done += n;
      }
      return static_cast<long>(count);
    }
    case FileKind::kPipeWrite: {
      Pipe* pipe = file->pipe;
      if (pipe->readers == 0) {
        long ended = posix::send_signal(c.process, c.process->pid, posix::kSigPipe);
        return ended == posix::kNoReply ? posix::kNoReply : -rt::kEPIPE;
      }
      if (count == 0) return 0;
      if (pipe->count == Pipe::kCapacity) {
        if ((file->flags & kO_NONBLOCK) != 0) return -rt::kEAGAIN;
        c.wait = posix::WaitReason::kPipe;  // retried once a pipe changes
        return kDeferred;
      }
      // GAP: a write larger than the free room is short (Linux blocks until all is written).
      size_t room = Pipe::kCapacity - pipe->count;
      size_t n = room < count ? room : count;
      for (size_t done = 0; done < n;) {
        size_t tail = (pipe->head + pipe->count) % Pipe::kCapacity;
        size_t chunk = Pipe::kCapacity - tail;
        if (chunk > n - done) chunk = n - done;
        if (!memory.copy_in(pipe->buffer + tail, address + done, chunk).ok()) {
          return done > 0 ? static_cast<long>(done) : -rt::kEFAULT;
        }
        pipe->count += chunk;
        done += chunk;
      }
      pipe->writes++;
      posix::note_pipe_event();  // data for a blocked reader
      return static_cast<long>(n);
    }
    case FileKind::kPipeRead: return -rt::kEBADF;
    case FileKind::kTracefs: return posix::tracefs_write(file, address, count, pos);
    case FileKind::kTrace: return -rt::kEINVAL;  // as bpf_dummy_write
    case FileKind::kEpoll: return -rt::kEINVAL;  // no write method
    case FileKind::kEventFd: return posix::eventfd_write(*file, address, count);
  }
  return -rt::kEINVAL;
}
