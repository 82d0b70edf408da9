// SPDX-License-Identifier: MIT
// Named pipes (file.hpp's open_fifo): a FIFO's inode holds a pipe while any end is open, and
// opening it waits for the other end as Linux's fifo_open.
#include <string.h>

#include "platform/kernel.hpp"
#include "task/process.hpp"
#include "vfs/file.hpp"

namespace posix {

namespace {

rt::Result<Pipe*> fifo_pipe(Inode& inode) {
  if (inode.fifo != nullptr) return inode.fifo;
  auto* pipe = static_cast<Pipe*>(platform::heap().allocate(sizeof(Pipe), alignof(Pipe)));
  if (pipe == nullptr) return rt::err(rt::kENOMEM);
  memset(pipe, 0, sizeof(Pipe));
  pipe->buffer = static_cast<uint8_t*>(platform::heap().allocate(Pipe::kCapacity, 16));
  if (pipe->buffer == nullptr) {
    platform::heap().deallocate(pipe, sizeof(Pipe));
    return rt::err(rt::kENOMEM);
  }
  pipe->fifo = &inode;
  inode.fifo = pipe;
  return pipe;
}

// Whether the end `file` opened has met the other one: it is there now, or came since `seen`.
bool met(const File& file, uint64_t seen) {
  const Pipe& pipe = *file.pipe;
  if (file.kind == FileKind::kPipeRead) return pipe.writers > 0 || pipe.writer_opens != seen;
  return pipe.readers > 0 || pipe.reader_opens != seen;
}

}  // namespace

int64_t open_fifo(SyscallContext& c, Inode& inode, uint32_t flags, File*& opened) {
  Thread& thread = *c.thread;
  if (File* waiting = thread.fifo_open; waiting != nullptr) {  // a retried open that waited
    if (!met(*waiting, thread.fifo_seen)) {
      c.wait = WaitReason::kPipe;
      return kDeferred;
    }
    thread.fifo_open = nullptr;
    opened = waiting;
    return 0;
  }
  uint32_t access = flags & kO_ACCMODE;
  bool reads = access != kO_WRONLY, writes = access != kO_RDONLY;
  Pipe* pipe = nullptr;
  if (auto made = fifo_pipe(inode); made.ok()) {
    pipe = made.value();
  } else {
    return -made.error().code;
  }
  if (!reads && (flags & kO_NONBLOCK) != 0 && pipe->readers == 0) {
    if (pipe->writers == 0) {  // made for this open alone
      inode.fifo = nullptr;
      platform::heap().deallocate(pipe->buffer, Pipe::kCapacity);
      platform::heap().deallocate(pipe, sizeof(Pipe));
    }
    return -rt::kENXIO;
  }
  auto file = new_file(reads ? FileKind::kPipeRead : FileKind::kPipeWrite, flags, &inode);
  if (!file.ok()) return -file.error().code;
  file.value()->pipe = pipe;
  if (reads) {
    pipe->readers++;
    pipe->reader_opens++;
  }
  if (writes) {
    pipe->writers++;
    pipe->writer_opens++;
  }
  note_pipe_event();  // an open waiting for this end goes on
  uint64_t seen = reads ? pipe->writer_opens : pipe->reader_opens;
  if (access == kO_RDWR || (flags & kO_NONBLOCK) != 0 || met(*file.value(), seen)) {
    opened = file.value();
    return 0;
  }
  thread.fifo_open = file.value();
  thread.fifo_seen = seen;
  c.wait = WaitReason::kPipe;
  return kDeferred;
}

void fifo_cancel(Thread& thread) {
  if (thread.fifo_open == nullptr) return;
  File* file = thread.fifo_open;
  thread.fifo_open = nullptr;
  put_file(file);
}

}  // namespace posix
