// SPDX-License-Identifier: MIT
// Open files (Linux's struct file), pipes and per-process descriptor tables.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/linux_types.h"
#include "rt/result.hpp"
#include "vfs/inode.hpp"

namespace posix {

// Linux's open flags (asm-generic/fcntl.h).
inline constexpr uint32_t kO_ACCMODE = 03;
inline constexpr uint32_t kO_RDONLY = 0;
inline constexpr uint32_t kO_WRONLY = 01;
inline constexpr uint32_t kO_RDWR = 02;
inline constexpr uint32_t kO_CREAT = 0100;
inline constexpr uint32_t kO_EXCL = 0200;
inline constexpr uint32_t kO_NOCTTY = 0400;
inline constexpr uint32_t kO_TRUNC = 01000;
inline constexpr uint32_t kO_APPEND = 02000;
inline constexpr uint32_t kO_NONBLOCK = 04000;
inline constexpr uint32_t kO_LARGEFILE = 0100000;
inline constexpr uint32_t kO_DIRECTORY = 0200000;
inline constexpr uint32_t kO_NOFOLLOW = 0400000;
inline constexpr uint32_t kO_CLOEXEC = 02000000;
inline constexpr uint32_t kO_PATH = 010000000;
inline constexpr uint32_t kO_TMPFILE = 020000000;  // with O_DIRECTORY (__O_TMPFILE alone here)
// Linux's VALID_OPEN_FLAGS: what open and openat keep (other bits are dropped, not refused).
inline constexpr uint32_t kValidOpenFlags = 037777703;

enum class FileKind : uint8_t {
  kInode,
  kConsole,
  kNull,
  kZero,
  kRandom,
  kPipeRead,
  kPipeWrite,
  kTrace,    // an object of the trace server (BPF map, program, link, ...): an anon inode fd
  kTracefs,  // a file of tracefs (fs/tracefs.cpp): its reads and writes go to the trace server
  kEpoll,    // an epoll instance (vfs/epoll.cpp): an anon inode fd
  kEventFd,  // an eventfd counter (vfs/eventfd.cpp): an anon inode fd
};

// What a kTrace file's handle names, from the call that made it (its /proc/<pid>/fd link).
enum class TraceObject : uint8_t { kMap, kProgram, kLink, kBtf, kPerfEvent, kStats };

struct Pipe {
  static constexpr size_t kCapacity = 16384;
  uint8_t* buffer;
  size_t head, count;
  int readers, writers;
  uint64_t writes;  // writes that added data: each is an event for edge-triggered epoll
  // A FIFO's (vfs/fifo.cpp): its inode, and the opens of each end so far (Linux's r_counter and
  // w_counter: an open waiting for the other end goes on once one came, even if it left).
  Inode* fifo;
  uint64_t reader_opens, writer_opens;
};

struct EventPoll;
struct EventCounter;

struct File {
  int references;
  FileKind kind;
  uint32_t flags;  // open flags as given (access mode, O_APPEND, O_NONBLOCK, ...)
  Inode* inode;    // kInode (and the device inode for devices)
  uint64_t position;
  Pipe* pipe;
  uint32_t trace_handle;      // kTrace: the trace server's handle
  uint64_t trace_instance;    // and the instance it belongs to
  TraceObject trace_object;   // and what it is
  uint64_t tracefs_activity;  // kTracefs: the trace activity when trace_pipe was found empty
  bool trace_pipe_reader;     // kTracefs: this open of trace_pipe is its one reader
  EventPoll* epoll;           // kEpoll: the instance
  EventCounter* counter;      // kEventFd: the counter
  struct file linux_file;     // what tracing programs are handed (vfs/linux_objects.cpp)
};

struct FdTable {
  // Linux's INR_OPEN_MAX: RLIMIT_NOFILE's hard limit at boot (its soft one, 1024, bounds the
  // descriptors given out: nofile_limit). Tools that hold a descriptor per probe (bpftrace's
  // `tracepoint:syscalls:sys_enter_*`: hundreds) raise the soft limit to it.
  static constexpr int kMax = 4096;
  int references;
  // One past the highest descriptor ever installed: the loops over them stop there, and the
  // entries from it on are not even zeroed yet (a new table clears 36 KiB no more: fd_table_reach
  // clears them as `end` grows).
  int end;
  File* files[kMax];
  bool close_on_exec[kMax];
};

// Makes descriptor `fd` (below FdTable::kMax) one of the table's entries: those up to it are
// cleared when `end` moves past them.
void fd_table_reach(FdTable& table, int fd);

// RLIMIT_NOFILE's soft limit (kernel/sys.cpp), at most FdTable::kMax: a descriptor at or above
// it is EMFILE when one is given out, EBADF for dup2's target, EINVAL for F_DUPFD's minimum.
// GAP: a limit raised past FdTable::kMax still ends the descriptors there.
int nofile_limit();

rt::Result<File*> new_file(FileKind kind, uint32_t flags, Inode* inode);
void get_file(File* file);
void put_file(File* file);

rt::Result<FdTable*> new_fd_table();
rt::Result<FdTable*> copy_fd_table(const FdTable& from);
void put_fd_table(FdTable* table);
// The lowest free descriptor at or above `minimum` for `file` (taking the caller's reference).
rt::Result<int> install_fd(FdTable& table, File* file, int minimum, bool close_on_exec);
File* fd_file(const FdTable& table, int fd);
rt::Result<void> close_fd(FdTable& table, int fd);
void close_on_exec(FdTable& table);

rt::Result<void> make_pipe(File*& read_end, File*& write_end, uint32_t flags);

// Named pipes (vfs/fifo.cpp), as Linux's fifo_open: opening a FIFO gives an end of its pipe
// (made at its first open, gone with its last close, data and all). O_RDONLY waits for a
// writer and O_WRONLY for a reader (kDeferred, retried as pipes change), unless O_NONBLOCK:
// then a reader opens at once and a writer fails with ENXIO when no reader is there; O_RDWR is
// both ends at once and never waits. 0 and `opened`, a negative errno, or kDeferred.
struct SyscallContext;
struct Thread;
int64_t open_fifo(SyscallContext& c, Inode& inode, uint32_t flags, File*& opened);
// A thread's open of a FIFO that waited is given up (a signal, the thread's end).
void fifo_cancel(Thread& thread);
// A FIFO opened O_RDWR: the read end of its pipe that is a writer too.
inline bool fifo_read_write(const File& file) {
  return file.kind == FileKind::kPipeRead && file.pipe != nullptr && file.pipe->fifo != nullptr &&
         (file.flags & kO_ACCMODE) == kO_RDWR;
}

}  // namespace posix
