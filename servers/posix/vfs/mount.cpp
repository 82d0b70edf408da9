// SPDX-License-Identifier: MIT
// mount and umount2: the file systems busybox and /init mount are recorded (for /proc/mounts
// and statfs) over directories of the one tree. GAP: no file system is really mounted yet; /proc
// and /sys are already there, tmpfs directories are the tree's own.
#include "vfs/mount.hpp"

#include <string.h>

#include "kernel/syscalls.hpp"
#include "platform/kernel.hpp"
#include "rt/format.hpp"
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

// What a memory-backed file system holds: the pages of its files' bytes and its inodes, below
// its root and not below another mount (Linux's tmpfs counts its own; /proc's files are not
// the root's). Directories deeper than kMaxDepth are not looked into.
struct TreeUse {
  uint64_t pages = 0, inodes = 0;
};
constexpr int kMaxDepth = 128;

void count_use(const Inode* directory, int depth, TreeUse& use) {
  for (const DirectoryEntry* e = directory->entries; e != nullptr; e = e->next) {
    const Inode* inode = e->inode;
    if (inode == nullptr) continue;
    use.inodes++;  // GAP: a file with several names counts once per name
    if (inode->is_directory()) {
      if (depth < kMaxDepth && !is_mount_root(inode)) count_use(inode, depth + 1, use);
    } else {
      use.pages += (inode->size + 4095) / 4096;
    }
  }
}

// statfs for the file system of `mount`. tmpfs and rootfs (tmpfs too, as Linux 6.1 makes it)
// show Linux's default tmpfs size, half the memory in blocks and as many inodes, less what
// their files use; the others are sizeless as Linux's pseudo file systems.
StatFs statfs_of(const Mount* mount, uint64_t magic) {
  constexpr int64_t kStValid = 0x20;
  StatFs st{};
  st.type = static_cast<int64_t>(magic);
  st.block_size = st.fragment_size = 4096;
  st.name_length = 255;
  st.flags = kStValid;
  if (mount != nullptr && magic == magic_of("tmpfs")) {
    const Inode* root = mount->root != nullptr ? mount->root : file_tree().root();
    TreeUse use;
    use.inodes = 1;  // the root
    count_use(root, 0, use);
    uint64_t size = platform::memory_bytes() / 2 / 4096;
    st.blocks = st.files = size;
    st.blocks_free = st.blocks_available = use.pages < size ? size - use.pages : 0;
    st.files_free = use.inodes < size ? size - use.inodes : 0;
  }
  return st;
}

// The newest mount over `inode` or the nearest directory above it.
const Mount* mount_of(const Inode* inode) {
  const Inode* root = file_tree().root();
  for (const Inode* at = inode; at != nullptr; at = at->parent) {
    for (size_t i = mount_count; i-- > 0;) {
      if (mounts[i].root == at || (mounts[i].root == nullptr && at == root)) return &mounts[i];
    }
    if (at == root) break;
  }
  return &mounts[0];
}

}  // namespace

bool is_mount_root(const Inode* inode) {
  for (size_t i = 1; i < mount_count; ++i) {
    if (mounts[i].root == inode) return true;
  }
  return false;
}

const Mount* mount_table(size_t& count) {
  count = mount_count;
  return mounts;
}

size_t format_mounts(char* out, size_t capacity) {
  size_t used = 0;
  for (size_t i = 0; i < mount_count && used + 256 < capacity; ++i) {
    used += rt::format_to(out + used, capacity - used, "%s %s %s rw 0 0\n", mounts[i].source,
                          mounts[i].target, mounts[i].type);
  }
  return used;
}

namespace {

// Whether `target` is `directory` or below it.
bool below(const char* target, const char* directory) {
  size_t length = strlen(directory);
  if (length == 1 && directory[0] == '/') return true;
  return strlen(target) >= length && memcmp(target, directory, length) == 0 &&
         (target[length] == '/' || target[length] == 0);
}

}  // namespace

size_t format_mountinfo(char* out, size_t capacity) {
  size_t used = 0;
  for (size_t i = 0; i < mount_count && used + 256 < capacity; ++i) {
    size_t parent = i;  // the newest earlier mount the target is on
    for (size_t j = i; j-- > 0;) {
      if (below(mounts[i].target, mounts[j].target)) {
        parent = j;
        break;
      }
    }
    used += rt::format_to(out + used, capacity - used, "%zu %zu 0:1 / %s rw - %s %s rw\n", i + 1,
                          parent + 1, mounts[i].target, mounts[i].type, mounts[i].source);
  }
  return used;
}

const char* filesystem_type(const Inode* inode) { return mount_of(inode)->type; }

int64_t sys_statfs(SyscallContext& c) {
  char path[kPathMax];
  if (auto r = copy_path(c, c.arg(0), path); !r.ok()) return -r.error().code;
  auto found = resolve_path(c.process, path, kFollowLast);
  if (!found.ok()) return -found.error().code;
  const Mount* mount = mount_of(found.value().inode);
  StatFs st = statfs_of(mount, magic_of(mount->type));
  return to_rax(user(c).copy_out(c.arg(1), &st, sizeof(st)));
}

int64_t sys_fstatfs(SyscallContext& c) {
  File* file = fd_file(*c.process->files, static_cast<int>(c.arg(0)));
  if (file == nullptr) return -rt::kEBADF;
  const Mount* mount = file->inode != nullptr ? mount_of(file->inode) : nullptr;
  uint64_t magic = mount != nullptr ? magic_of(mount->type)
                   : file->kind == FileKind::kPipeRead || file->kind == FileKind::kPipeWrite
                       ? kPipefsMagic
                       : kAnonInodeMagic;
  StatFs st = statfs_of(mount, magic);
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
  m.root->holds++;  // a mount keeps what it is mounted over
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
      Inode* root = mounts[i].root;
      memmove(&mounts[i], &mounts[i + 1], (mount_count - i - 1) * sizeof(Mount));
      --mount_count;
      if (root != nullptr) {
        root->holds--;
        file_tree().forget_if_unused(root);
      }
      return 0;
    }
  }
  return -rt::kEINVAL;
}

}  // namespace posix
