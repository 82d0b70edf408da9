// SPDX-License-Identifier: MIT
// stat, lstat, fstat, newfstatat and statx: Linux's struct stat and struct statx of an inode.
#include <stddef.h>
#include <string.h>

#include "kernel/syscalls.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {

constexpr int kAtFdCwd = -100;
constexpr uint64_t kAtSymlinkNoFollow = 0x100, kAtEmptyPath = 0x1000;

// Linux's struct stat on x86-64.
struct Stat {
  uint64_t st_dev, st_ino, st_nlink;
  uint32_t st_mode, st_uid, st_gid, pad0;
  uint64_t st_rdev;
  int64_t st_size, st_blksize, st_blocks;
  int64_t st_atime, st_atime_nsec, st_mtime, st_mtime_nsec, st_ctime, st_ctime_nsec;
  int64_t unused[3];
};
static_assert(sizeof(Stat) == 144);

void fill_stat(Stat& st, const Inode* inode, FileKind kind) {
  memset(&st, 0, sizeof(st));
  st.st_blksize = 4096;
  if (inode == nullptr) {
    if (kind == FileKind::kConsole) {
      st.st_mode = kTypeCharDevice | 0620;
      st.st_rdev = (5 << 8) | 1;
      st.st_ino = 3;
    } else if (kind == FileKind::kTrace || kind == FileKind::kEpoll) {
      st.st_mode = 0600;  // an anon inode, as Linux's bpf and epoll fds: no file type bits
      st.st_ino = 5;
    } else {
      st.st_mode = kTypeFifo | 0600;
      st.st_ino = 4;
    }
    st.st_nlink = 1;
    st.st_dev = 0x0c;
    return;
  }
  st.st_dev = 1;
  st.st_ino = inode->number;
  st.st_nlink = inode->links;
  st.st_mode = inode->mode;
  st.st_uid = inode->uid;
  st.st_gid = inode->gid;
  st.st_rdev = (inode->mode & kTypeMask) == kTypeCharDevice ? inode->device : 0;
  st.st_size = inode->is_directory() ? 4096 : static_cast<int64_t>(inode->size);
  st.st_blocks = (st.st_size + 511) / 512;
  st.st_atime = st.st_mtime = st.st_ctime = inode->mtime_seconds;
}

// What fstatat and statx look at: `path` from `dfd`, or the fd itself (AT_EMPTY_PATH).
int64_t stat_target(SyscallContext& c, int dfd, uint64_t path_address, uint64_t flags, Stat& st) {
  char path[kPathMax];
  auto copied = copy_path(c, path_address, path);
  if (!copied.ok()) {
    if (copied.error().code != rt::kENOENT || (flags & kAtEmptyPath) == 0) {
      return -copied.error().code;
    }
    File* file = dfd == kAtFdCwd ? nullptr : fd_file(*c.process->files, dfd);
    if (dfd == kAtFdCwd) {
      fill_stat(st, c.process->cwd, FileKind::kInode);
    } else if (file == nullptr) {
      return -rt::kEBADF;
    } else {
      fill_stat(st, file->inode, file->kind);
    }
  } else {
    uint32_t follow = (flags & kAtSymlinkNoFollow) != 0 ? 0 : kFollowLast;
    auto found = resolve(c, dfd, path, follow);
    if (!found.ok()) return -found.error().code;
    fill_stat(st, found.value().inode, FileKind::kInode);
  }
  return 0;
}

int64_t do_stat(SyscallContext& c, int dfd, uint64_t path_address, uint64_t out, uint64_t flags) {
  if ((flags & ~(kAtSymlinkNoFollow | kAtEmptyPath | 0x800)) != 0) return -rt::kEINVAL;
  Stat st;
  if (int64_t r = stat_target(c, dfd, path_address, flags, st); r != 0) return r;
  return to_rax(user(c).copy_out(out, &st, sizeof(st)));
}

// Linux's struct statx (256 bytes).
struct StatxTime {
  int64_t tv_sec;
  uint32_t tv_nsec;
  int32_t reserved;
};
struct Statx {
  uint32_t stx_mask, stx_blksize;
  uint64_t stx_attributes;
  uint32_t stx_nlink, stx_uid, stx_gid;
  uint16_t stx_mode, spare0;
  uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
  StatxTime stx_atime, stx_btime, stx_ctime, stx_mtime;
  uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
  uint64_t stx_mnt_id;
  uint32_t stx_dio_mem_align, stx_dio_offset_align;
  uint64_t spare3[12];
};
static_assert(sizeof(Statx) == 256 && offsetof(Statx, stx_mtime) == 112 &&
              offsetof(Statx, stx_mnt_id) == 144);

}  // namespace

// statx(dfd, path, flags, mask, buffer): Linux 6.1's checks (unknown flags, both sync types,
// STATX__RESERVED in the mask: EINVAL), then what fstatat finds; stx_mask says which fields are
// filled: the basic stats and the mount id (no birth time, as tmpfs in 6.1).
int64_t sys_statx(SyscallContext& c) {
  constexpr uint64_t kAtNoAutomount = 0x800, kAtStatxSyncType = 0x6000;
  constexpr uint32_t kStatxReserved = 0x80000000u, kStatxBasicStats = 0x7ff, kStatxMntId = 0x1000;
  uint64_t flags = static_cast<uint32_t>(c.arg(2));
  auto mask = static_cast<uint32_t>(c.arg(3));
  if ((flags & ~(kAtSymlinkNoFollow | kAtEmptyPath | kAtNoAutomount | kAtStatxSyncType)) != 0 ||
      (flags & kAtStatxSyncType) == kAtStatxSyncType || (mask & kStatxReserved) != 0) {
    return -rt::kEINVAL;
  }
  Stat st;
  if (int64_t r = stat_target(c, static_cast<int>(c.arg(0)), c.arg(1),
                              flags & ~(kAtNoAutomount | kAtStatxSyncType), st);
      r != 0) {
    return r;
  }
  Statx x = {};
  x.stx_mask = kStatxBasicStats | kStatxMntId;
  x.stx_blksize = static_cast<uint32_t>(st.st_blksize);
  x.stx_nlink = static_cast<uint32_t>(st.st_nlink);
  x.stx_uid = st.st_uid;
  x.stx_gid = st.st_gid;
  x.stx_mode = static_cast<uint16_t>(st.st_mode);
  x.stx_ino = st.st_ino;
  x.stx_size = static_cast<uint64_t>(st.st_size);
  x.stx_blocks = static_cast<uint64_t>(st.st_blocks);
  x.stx_atime = StatxTime{st.st_atime, static_cast<uint32_t>(st.st_atime_nsec), 0};
  x.stx_mtime = StatxTime{st.st_mtime, static_cast<uint32_t>(st.st_mtime_nsec), 0};
  x.stx_ctime = StatxTime{st.st_ctime, static_cast<uint32_t>(st.st_ctime_nsec), 0};
  // st_dev and st_rdev are in new_encode_dev's form.
  auto major = [](uint64_t dev) { return static_cast<uint32_t>((dev >> 8) & 0xfff); };
  auto minor = [](uint64_t dev) {
    return static_cast<uint32_t>((dev & 0xff) | ((dev >> 12) & 0xfff00));
  };
  x.stx_rdev_major = major(st.st_rdev);
  x.stx_rdev_minor = minor(st.st_rdev);
  x.stx_dev_major = major(st.st_dev);
  x.stx_dev_minor = minor(st.st_dev);
  x.stx_mnt_id = 1 + (st.st_dev & 0xff);  // GAP: one id per file system, not per mount
  return to_rax(user(c).copy_out(c.arg(4), &x, sizeof(x)));
}

// ---- stat ----

int64_t sys_fstat(SyscallContext& c) {
  File* file = fd_file(*c.process->files, static_cast<int>(c.arg(0)));
  if (file == nullptr) return -rt::kEBADF;
  Stat st;
  fill_stat(st, file->kind == FileKind::kConsole ? nullptr : file->inode, file->kind);
  if (file->inode != nullptr && file->kind == FileKind::kConsole)
    fill_stat(st, file->inode, file->kind);
  return to_rax(user(c).copy_out(c.arg(1), &st, sizeof(st)));
}
int64_t sys_stat(SyscallContext& c) { return do_stat(c, kAtFdCwd, c.arg(0), c.arg(1), 0); }
int64_t sys_lstat(SyscallContext& c) {
  return do_stat(c, kAtFdCwd, c.arg(0), c.arg(1), kAtSymlinkNoFollow);
}
int64_t sys_newfstatat(SyscallContext& c) {
  return do_stat(c, static_cast<int>(c.arg(0)), c.arg(1), c.arg(2), c.arg(3));
}

}  // namespace posix
