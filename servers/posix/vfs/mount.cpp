// SPDX-License-Identifier: MIT
// mount and umount2: the file systems busybox and /init mount are recorded (for /proc/mounts)
// over directories of the one tree. GAP: no file system is really mounted yet; /proc and /sys
// are already there, tmpfs directories are the tree's own.
#include "vfs/mount.hpp"

#include <string.h>

#include "kernel/syscalls.hpp"

namespace posix {

namespace {

Mount mounts[kMaxMounts] = {{"rootfs", "/", "rootfs"}};
size_t mount_count = 1;

bool known_type(const char* type) {
  const char* const types[] = {"proc",    "sysfs", "tmpfs", "devtmpfs", "debugfs",
                               "tracefs", "bpf",   "ramfs", "devpts",   "cgroup2"};
  for (const char* t : types) {
    if (strcmp(type, t) == 0) return true;
  }
  return false;
}

void copy_field(char* to, size_t size, const char* from) {
  size_t length = strlen(from);
  if (length >= size) length = size - 1;
  memcpy(to, from, length);
  to[length] = '\0';
}

}  // namespace

const Mount* mount_table(size_t& count) {
  count = mount_count;
  return mounts;
}

int64_t sys_mount(SyscallContext& c) {
  char source[kPathMax], target[kPathMax], type[64];
  if (auto r = copy_path(c, c.arg(1), target); !r.ok()) return -r.error().code;
  if (c.arg(2) == 0) return -rt::kEINVAL;  // GAP: bind and remount without a type
  auto copied = user(c).copy_string(type, c.arg(2), sizeof(type));
  if (!copied.ok()) return copied.error().code == rt::kENAMETOOLONG ? -rt::kENODEV : -rt::kEFAULT;
  if (!known_type(type)) return -rt::kENODEV;
  if (c.arg(0) == 0 || !user(c).copy_string(source, c.arg(0), sizeof(source)).ok()) {
    copy_field(source, sizeof(source), type);
  }
  auto found = lookup(file_tree(), c.process->cwd, target, kFollowLast);
  if (!found.ok()) return -found.error().code;
  if (!found.value().inode->is_directory()) return -rt::kENOTDIR;
  if (mount_count == kMaxMounts) return -rt::kENOMEM;
  Mount& m = mounts[mount_count++];
  copy_field(m.source, sizeof(m.source), source);
  copy_field(m.target, sizeof(m.target), target);
  copy_field(m.type, sizeof(m.type), type);
  return 0;
}

int64_t sys_umount2(SyscallContext& c) {
  char target[kPathMax];
  if (auto r = copy_path(c, c.arg(0), target); !r.ok()) return -r.error().code;
  for (size_t i = mount_count; i-- > 1;) {
    if (strcmp(mounts[i].target, target) == 0) {
      mounts[i] = mounts[--mount_count];
      return 0;
    }
  }
  return -rt::kEINVAL;
}

}  // namespace posix
