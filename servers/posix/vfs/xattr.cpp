// SPDX-License-Identifier: MIT
// Extended attributes as Linux 6.1's tmpfs has them with no LSM: no file carries any, so a
// get of a name tmpfs has handlers for (security.*, trusted.*, system.posix_acl_*) is ENODATA
// and a list is empty; user.* and unprefixed names have no handler (EOPNOTSUPP), nor has any
// name on proc (Linux's procfs has no xattr handlers). GNU ls, cp -a and tar ask for ACLs and
// SELinux labels this way. GAP: nothing can be stored (set is EOPNOTSUPP where tmpfs would keep
// a security.* or trusted.* value), so remove is ENODATA for those names.
#include <string.h>

#include "kernel/syscalls.hpp"
#include "task/process.hpp"
#include "vfs/file.hpp"
#include "vfs/mount.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {

constexpr size_t kXattrNameMax = 255;      // XATTR_NAME_MAX
constexpr uint64_t kXattrSizeMax = 65536;  // XATTR_SIZE_MAX
constexpr uint64_t kXattrCreate = 1, kXattrReplace = 2;

bool starts_with(const char* name, const char* prefix) {
  return memcmp(name, prefix, strlen(prefix)) == 0;  // within the name's 256-byte buffer
}

// import_xattr_name: the name from user memory (EFAULT), ERANGE when empty or too long.
int64_t copy_name(SyscallContext& c, uint64_t address, char (&name)[kXattrNameMax + 1]) {
  auto length = user(c).copy_string(name, address, sizeof name);
  if (!length.ok()) return length.error().code == rt::kENAMETOOLONG ? -rt::kERANGE : -rt::kEFAULT;
  if (length.value() == 0) return -rt::kERANGE;
  return 0;
}

// xattr_resolve_name over tmpfs's handlers: whether `inode`'s file system has one for `name`.
bool has_handler(const Inode& inode, const char* name) {
  if (strcmp(filesystem_type(&inode), "proc") == 0) return false;
  return starts_with(name, "security.") || starts_with(name, "trusted.") ||
         strcmp(name, "system.posix_acl_access") == 0 ||
         strcmp(name, "system.posix_acl_default") == 0;
}

// The inode a path (following a last symlink or not) or a descriptor names.
rt::Result<Inode*> path_inode(SyscallContext& c, uint64_t address, bool follow) {
  char path[kPathMax];
  TRY(copy_path(c, address, path));
  auto found = TRY(resolve_path(c.process, path, follow ? kFollowLast : 0));
  return found.inode;
}

rt::Result<Inode*> fd_inode(SyscallContext& c, uint64_t fd) {
  File* file = fd_file(*c.process->files, static_cast<int>(fd));
  if (file == nullptr) return rt::err(rt::kEBADF);
  if (file->inode == nullptr) return rt::err(rt::kEOPNOTSUPP);  // pipes, anon inodes: no handlers
  return file->inode;
}

int64_t get(SyscallContext& c, rt::Result<Inode*> inode, uint64_t name_address) {
  if (!inode.ok()) return -inode.error().code;
  char name[kXattrNameMax + 1];
  if (int64_t r = copy_name(c, name_address, name); r != 0) return r;
  return has_handler(*inode.value(), name) ? -rt::kENODATA : -rt::kEOPNOTSUPP;
}

int64_t list(rt::Result<Inode*> inode) {
  if (!inode.ok()) return -inode.error().code;
  return 0;  // no names, whatever the buffer's size
}

// The file first (Linux's user_path_at or fdget), then setxattr_copy's checks: the flags, the
// name, the size.
int64_t set(SyscallContext& c, const rt::Result<Inode*>& inode, uint64_t name_address,
            uint64_t size, uint64_t flags) {
  if (!inode.ok()) return -inode.error().code;
  if ((flags & ~(kXattrCreate | kXattrReplace)) != 0) return -rt::kEINVAL;
  char name[kXattrNameMax + 1];
  if (int64_t r = copy_name(c, name_address, name); r != 0) return r;
  if (size > kXattrSizeMax) return -rt::kE2BIG;
  return -rt::kEOPNOTSUPP;  // GAP: no values are kept (see the top of this file)
}

int64_t remove(SyscallContext& c, rt::Result<Inode*> inode, uint64_t name_address) {
  if (!inode.ok()) return -inode.error().code;
  char name[kXattrNameMax + 1];
  if (int64_t r = copy_name(c, name_address, name); r != 0) return r;
  return has_handler(*inode.value(), name) ? -rt::kENODATA : -rt::kEOPNOTSUPP;
}

}  // namespace

int64_t sys_getxattr(SyscallContext& c) { return get(c, path_inode(c, c.arg(0), true), c.arg(1)); }
int64_t sys_lgetxattr(SyscallContext& c) {
  return get(c, path_inode(c, c.arg(0), false), c.arg(1));
}
int64_t sys_fgetxattr(SyscallContext& c) { return get(c, fd_inode(c, c.arg(0)), c.arg(1)); }

int64_t sys_listxattr(SyscallContext& c) { return list(path_inode(c, c.arg(0), true)); }
int64_t sys_llistxattr(SyscallContext& c) { return list(path_inode(c, c.arg(0), false)); }
int64_t sys_flistxattr(SyscallContext& c) { return list(fd_inode(c, c.arg(0))); }

int64_t sys_setxattr(SyscallContext& c) {
  return set(c, path_inode(c, c.arg(0), true), c.arg(1), c.arg(3), c.arg(4));
}
int64_t sys_lsetxattr(SyscallContext& c) {
  return set(c, path_inode(c, c.arg(0), false), c.arg(1), c.arg(3), c.arg(4));
}
int64_t sys_fsetxattr(SyscallContext& c) {
  return set(c, fd_inode(c, c.arg(0)), c.arg(1), c.arg(3), c.arg(4));
}

int64_t sys_removexattr(SyscallContext& c) {
  return remove(c, path_inode(c, c.arg(0), true), c.arg(1));
}
int64_t sys_lremovexattr(SyscallContext& c) {
  return remove(c, path_inode(c, c.arg(0), false), c.arg(1));
}
int64_t sys_fremovexattr(SyscallContext& c) { return remove(c, fd_inode(c, c.arg(0)), c.arg(1)); }

}  // namespace posix
