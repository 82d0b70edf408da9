// SPDX-License-Identifier: MIT
// mount and umount2: the file systems busybox and /init mount are recorded (for /proc/mounts
// and statfs) over directories of the one tree. GAP: no file system is really mounted yet; /proc
// and /sys are already there, tmpfs directories are the tree's own.
#include "vfs/mount.hpp"

#include <string.h>

#include "kernel/syscalls.hpp"
#include "vfs/file.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {

Mount mounts[kMaxMounts] = {{"rootfs", "/", "rootfs", nullptr}};
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

// statfs's f_type for each type (Linux's *_MAGIC numbers); the root is a tmpfs, as Linux's
// rootfs with an initramfs.
struct Magic {
  const char* type;
  uint64_t magic;
};
constexpr Magic kMagics[] = {
    {"proc", 0x9fa0},         {"sysfs", 0x62656572},   {"tmpfs", 0x01021994},
    {"devtmpfs", 0x01021994}, {"debugfs", 0x64626720}, {"tracefs", 0x74726163},
    {"bpf", 0xcafe4a11},      {"ramfs", 0x858458f6},   {"devpts", 0x1cd1},
    {"cgroup2", 0x63677270},  {"rootfs", 0x01021994},
};
constexpr uint64_t kPipefsMagic = 0x50495045, kAnonInodeMagic = 0x09041934;

uint64_t magic_of(const char* type) {
  for (const Magic& m : kMagics) {
    if (strcmp(m.type, type) == 0) return m.magic;
  }
  return kMagics[2].magic;
}

// Linux's struct statfs (x86-64).
struct StatFs {
  int64_t type, block_size;
  uint64_t blocks, blocks_free, blocks_available, files, files_free;
  int32_t fsid[2];
  int64_t name_length, fragment_size, flags;
  int64_t spare[4];
};
static_assert(sizeof(StatFs) == 120);

StatFs statfs_of(uint64_t magic) {
  constexpr int64_t kStValid = 0x20;
  StatFs st{};
  st.type = static_cast<int64_t>(magic);
  st.block_size = st.fragment_size = 4096;
  st.name_length = 255;
  st.flags = kStValid;
  if (magic == magic_of("tmpfs") || magic == magic_of("ramfs")) {  // memory-backed: a size
    st.blocks = st.files = 65536;
    st.blocks_free = st.blocks_available = st.files_free = 32768;
  }
  return st;
}

}  // namespace

const Mount* mount_table(size_t& count) {
  count = mount_count;
  return mounts;
}

const char* filesystem_type(const Inode* inode) {
  const Inode* root = file_tree().root();
  for (const Inode* at = inode; at != nullptr; at = at->parent) {
    for (size_t i = mount_count; i-- > 0;) {
      if (mounts[i].root == at || (mounts[i].root == nullptr && at == root)) return mounts[i].type;
    }
    if (at == root) break;
  }
  return mounts[0].type;
}

int64_t sys_statfs(SyscallContext& c) {
  char path[kPathMax];
  if (auto r = copy_path(c, c.arg(0), path); !r.ok()) return -r.error().code;
  auto found = resolve_path(c.process, path, kFollowLast);
  if (!found.ok()) return -found.error().code;
  StatFs st = statfs_of(magic_of(filesystem_type(found.value().inode)));
  return to_rax(user(c).copy_out(c.arg(1), &st, sizeof(st)));
}

int64_t sys_fstatfs(SyscallContext& c) {
  File* file = fd_file(*c.process->files, static_cast<int>(c.arg(0)));
  if (file == nullptr) return -rt::kEBADF;
  uint64_t magic = file->inode != nullptr ? magic_of(filesystem_type(file->inode))
                   : file->kind == FileKind::kPipeRead || file->kind == FileKind::kPipeWrite
                       ? kPipefsMagic
                       : kAnonInodeMagic;
  StatFs st = statfs_of(magic);
  return to_rax(user(c).copy_out(c.arg(1), &st, sizeof(st)));
}

int64_t sys_mount(SyscallContext& c) {
  char source[kPathMax], target[kPathMax], type[64];
  if (auto r = copy_path(c, c.arg(1), target); !r.ok()) return -r.error().code;
  if (c.arg(2) == 0) return -rt::kEINVAL;  // GAP: bind and remount without a type
  auto copied = user(c).copy_string(type, c.arg(2), sizeof(type));
  if (!copied.ok()) return copied.error().code == rt::kENAMETOOLONG ? -rt::kENODEV : -rt::kEFAULT;
  // Linux's order: the lookup, may_mount (CAP_SYS_ADMIN), the file system type, then the new
  // file system's own mount_capable (CAP_SYS_ADMIN again).
  auto found = resolve(c, -100, target, kFollowLast);
  if (!found.ok()) return -found.error().code;
  if (!capable(*c.process, kCapSysAdmin)) return -rt::kEPERM;
  if (!known_type(type)) return -rt::kENODEV;
  if (!capable(*c.process, kCapSysAdmin)) return -rt::kEPERM;
  if (c.arg(0) == 0 || !user(c).copy_string(source, c.arg(0), sizeof(source)).ok()) {
    copy_field(source, sizeof(source), type);
  }
  if (!found.value().inode->is_directory()) return -rt::kENOTDIR;
  if (mount_count == kMaxMounts) return -rt::kENOMEM;
  Mount& m = mounts[mount_count++];
  copy_field(m.source, sizeof(m.source), source);
  copy_field(m.target, sizeof(m.target), target);
  copy_field(m.type, sizeof(m.type), type);
  m.root = found.value().inode;
  return 0;
}

int64_t sys_umount2(SyscallContext& c) {
  char target[kPathMax];
  if (auto r = copy_path(c, c.arg(0), target); !r.ok()) return -r.error().code;
  auto found = resolve(c, -100, target, kFollowLast);
  if (!found.ok()) return -found.error().code;
  if (!capable(*c.process, kCapSysAdmin)) return -rt::kEPERM;  // may_mount, after the lookup
  for (size_t i = mount_count; i-- > 1;) {
    if (strcmp(mounts[i].target, target) == 0) {
      memmove(&mounts[i], &mounts[i + 1], (mount_count - i - 1) * sizeof(Mount));
      --mount_count;
      return 0;
    }
  }
  return -rt::kEINVAL;
}

}  // namespace posix
