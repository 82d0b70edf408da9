// SPDX-License-Identifier: MIT
// sendfile(2): bytes from a file to a file, a pipe, the console or a device, in the server
// (Linux's do_sendfile: the offset pointer or the file position, its checks in its order).
#include <string.h>

#include "fs/procfs.hpp"
#include "kernel/random.hpp"
#include "kernel/syscalls.hpp"
#include "tty/console.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {

constexpr int kSigPipe = 13;
constexpr uint64_t kMaxRwCount = 0x7ffff000;  // Linux's MAX_RW_COUNT

// Can `file` be the input (has Linux's splice_read)? Regular files and /dev/urandom: Linux
// 6.1's /dev/zero has no splice_read (6.7 gave it one), so it is refused with EINVAL.
bool is_source(const File& file) {
  if (file.kind == FileKind::kRandom) return true;
  return file.kind == FileKind::kInode && file.inode->is_regular();
}

// Up to `count` bytes of `in` from `position` into `out`: what is there (0 at the end).
size_t read_source(const File& in, uint64_t position, uint8_t* out, size_t count) {
  if (in.kind == FileKind::kRandom) {
    fill_random(out, count);
    return count;
  }
  const Inode* inode = in.inode;
  if (position >= inode->size) return 0;
  size_t n = inode->size - position < count ? inode->size - position : count;
  memcpy(out, inode->data + position, n);
  return n;
}

// sendfile into a pipe (Linux's splice_file_to_pipe): what fits now.
int64_t send_to_pipe(SyscallContext& c, File& in, File& out, uint64_t& position, uint64_t count) {
  Pipe* pipe = out.pipe;
  if (pipe->readers == 0) {
    int64_t ended = send_signal(c.process, c.process->pid, kSigPipe);
    return ended == kNoReply ? kNoReply : -rt::kEPIPE;
  }
  if (pipe->count == Pipe::kCapacity) {
    if ((out.flags & kO_NONBLOCK) != 0) return -rt::kEAGAIN;
    c.wait = WaitReason::kPipe;  // retried once a pipe changes
    return kDeferred;
  }
  if (count == 0) return 0;
  if (!is_source(in)) return -rt::kEINVAL;
  size_t room = Pipe::kCapacity - pipe->count;
  size_t n = room < count ? room : count;
  size_t done = 0;
  while (done < n) {
    size_t tail = (pipe->head + pipe->count) % Pipe::kCapacity;
    size_t chunk = Pipe::kCapacity - tail;
    if (chunk > n - done) chunk = n - done;
    size_t got = read_source(in, position, pipe->buffer + tail, chunk);
    if (got == 0) break;
    pipe->count += got;
    position += got;
    done += got;
  }
  if (done > 0) {
    pipe->writes++;
    note_pipe_event();  // data for a blocked reader
  }
  return static_cast<int64_t>(done);
}

// sendfile into anything else (Linux's do_splice_direct), through a buffer of the server.
int64_t send_direct(File& in, File& out, uint64_t& position, uint64_t count) {
  if ((out.flags & kO_APPEND) != 0) return -rt::kEINVAL;
  if (count == 0) return 0;
  if (!is_source(in)) return -rt::kEINVAL;
  bool to_file =
      out.kind == FileKind::kInode && out.inode->is_regular() && !is_procfs_control(out.inode);
  if (!to_file && out.kind != FileKind::kConsole && out.kind != FileKind::kNull &&
      out.kind != FileKind::kZero && out.kind != FileKind::kRandom) {
    return -rt::kEINVAL;  // GAP: tracefs and anon inode files take no sendfile
  }
  if (to_file) {
    if (in.kind == FileKind::kInode && position < in.inode->size &&
        in.inode->size - position < count) {
      count = in.inode->size - position;  // what the input has left
    }
    if (out.position + count > (1ull << 32)) return -rt::kEFBIG;
  }
  uint8_t buffer[4096];
  uint64_t done = 0;
  while (done < count) {
    size_t want = count - done < sizeof(buffer) ? count - done : sizeof(buffer);
    size_t got = read_source(in, position, buffer, want);
    if (got == 0) break;
    if (to_file) {
      Inode* inode = out.inode;
      if (!file_tree().reserve(inode, out.position + got).ok()) {
        return done > 0 ? static_cast<int64_t>(done) : -rt::kENOSPC;
      }
      if (out.position > inode->size)
        memset(inode->data + inode->size, 0, out.position - inode->size);
      memcpy(inode->data + out.position, buffer, got);
      out.position += got;
      if (out.position > inode->size) inode->size = out.position;
    } else if (out.kind == FileKind::kConsole) {
      tty::write(reinterpret_cast<const char*>(buffer), got);
    }
    position += got;
    done += got;
  }
  return static_cast<int64_t>(done);
}

}  // namespace

int64_t sys_sendfile(SyscallContext& c) {
  int out_fd = static_cast<int>(c.arg(0)), in_fd = static_cast<int>(c.arg(1));
  uint64_t offset_address = c.arg(2), count = c.arg(3);
  int64_t offset = 0;
  if (offset_address != 0 && !user(c).copy_in(&offset, offset_address, 8).ok()) {
    return -rt::kEFAULT;
  }
  File* in = fd_file(*c.process->files, in_fd);
  if (in == nullptr || (in->flags & kO_PATH) != 0 || (in->flags & kO_ACCMODE) == kO_WRONLY) {
    return -rt::kEBADF;
  }
  bool seekable = in->kind != FileKind::kPipeRead && in->kind != FileKind::kPipeWrite &&
                  in->kind != FileKind::kConsole;
  if (offset_address != 0 && !seekable) return -rt::kESPIPE;
  int64_t position = offset_address != 0 ? offset : static_cast<int64_t>(in->position);
  if (static_cast<int64_t>(count) < 0 || position < 0 ||
      position + static_cast<int64_t>(count) < 0) {
    return -rt::kEINVAL;
  }
  if (count > kMaxRwCount) count = kMaxRwCount;
  File* out = fd_file(*c.process->files, out_fd);
  if (out == nullptr || (out->flags & kO_PATH) != 0 ||
      ((out->flags & kO_ACCMODE) == kO_RDONLY && out->kind != FileKind::kConsole)) {
    return -rt::kEBADF;
  }
  uint64_t at = static_cast<uint64_t>(position);
  int64_t result = out->kind == FileKind::kPipeWrite ? send_to_pipe(c, *in, *out, at, count)
                                                     : send_direct(*in, *out, at, count);
  if (result < 0) return result;
  if (offset_address != 0) {
    if (!user(c).copy_out(offset_address, &at, 8).ok()) return -rt::kEFAULT;
  } else {
    in->position = at;
  }
  return result;
}

}  // namespace posix
