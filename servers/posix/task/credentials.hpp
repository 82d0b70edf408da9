// SPDX-License-Identifier: MIT
// A process's user and group ids (Linux's struct cred, the part Sonde keeps) and the rules of
// the system calls that change them, as Linux's kernel/sys.c and kernel/groups.c apply them.
//
// Capabilities are simplified (docs/SECURITY.md, "Credentials"): a process whose effective
// uid is 0 holds every capability, any other none; file system checks (Linux's CAP_FS_MASK:
// CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_CHOWN, CAP_FSETID) follow the file
// system uid instead, as Linux raises and drops them with it.
#pragma once

#include <stdint.h>

#include "rt/result.hpp"

namespace posix {

struct Credentials {
  // GAP: at most this many supplementary groups (Linux: NGROUPS_MAX, 65536); setgroups with
  // more is ENOMEM, Linux's answer when the group list cannot be allocated.
  static constexpr uint32_t kGroupsMax = 64;
  static constexpr uint32_t kLinuxGroupsMax = 65536;  // NGROUPS_MAX: more is EINVAL
  static constexpr uint32_t kNoChange = 0xffffffffu;  // (uid_t)-1: "leave it"; never a valid id

  uint32_t uid, euid, suid, fsuid;  // real, effective, saved, file system
  uint32_t gid, egid, sgid, fsgid;
  uint32_t group_count;
  uint32_t groups[kGroupsMax];  // sorted ascending, as Linux's groups_sort leaves them

  // Root's: every id 0, no supplementary groups (the first process's).
  static Credentials root();

  // capable(): CAP_SETUID, CAP_SETGID, CAP_KILL, CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, ...
  bool privileged() const { return euid == 0; }
  // The file system capabilities (CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN, ...).
  bool fs_privileged() const { return fsuid == 0; }
  // in_group_p(): `id` is the file system gid or a supplementary group.
  bool in_group(uint32_t id) const;
};

// The system calls' rules: the new credentials, or Linux's errno (EPERM, EINVAL). The ids are
// the arguments as the caller passed them (kNoChange: -1, leave it).
rt::Result<Credentials> set_uid(const Credentials& old, uint32_t uid);
rt::Result<Credentials> set_gid(const Credentials& old, uint32_t gid);
rt::Result<Credentials> set_reuid(const Credentials& old, uint32_t ruid, uint32_t euid);
rt::Result<Credentials> set_regid(const Credentials& old, uint32_t rgid, uint32_t egid);
rt::Result<Credentials> set_resuid(const Credentials& old, uint32_t ruid, uint32_t euid,
                                   uint32_t suid);
rt::Result<Credentials> set_resgid(const Credentials& old, uint32_t rgid, uint32_t egid,
                                   uint32_t sgid);
// setfsuid and setfsgid never fail: the caller gets the old id back either way.
Credentials set_fsuid(const Credentials& old, uint32_t fsuid);
Credentials set_fsgid(const Credentials& old, uint32_t fsgid);
// setgroups' checks after the list was read: EPERM unless privileged, EINVAL for a count over
// NGROUPS_MAX or an invalid gid; the list is sorted.
rt::Result<void> check_group_count(const Credentials& old, int64_t count);
rt::Result<Credentials> set_groups(const Credentials& old, const uint32_t* groups, uint32_t count);

// execve of a file with mode `mode` owned by `owner_uid`:`owner_gid`: set-user-ID and
// set-group-ID (with group execute) take the file's ids as effective ones; the saved and file
// system ids become the effective ones. `secure` is AT_SECURE (the ids changed from the real
// ones).
Credentials exec_credentials(const Credentials& old, uint32_t mode, uint32_t owner_uid,
                             uint32_t owner_gid, bool& secure);

}  // namespace posix
