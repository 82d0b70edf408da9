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

#include "kernel/linux_types.h"
#include "rt/result.hpp"

extern "C" {
// Linux's cap_capable (task/capability.cpp): 0 when `cred`'s effective set holds `cap`, else
// -EPERM. Linux's initial user namespace, the only one.
int cap_capable(const struct cred* cred, struct user_namespace* targ_ns, int cap,
                unsigned int opts);
extern struct user_namespace init_user_ns;
}

namespace posix {

// Linux's capability numbers (uapi linux/capability.h) that the server's checks name.
enum Capability : int {
  kCapChown = 0,
  kCapDacOverride = 1,
  kCapDacReadSearch = 2,
  kCapFowner = 3,
  kCapFsetid = 4,
  kCapKill = 5,
  kCapSetgid = 6,
  kCapSetuid = 7,
  kCapLinuxImmutable = 9,
  kCapSysAdmin = 21,
  kCapSysBoot = 22,
  kCapSysNice = 23,
  kCapSysResource = 24,
  kCapMknod = 27,
  kCapMacOverride = 32,
  kCapPerfmon = 38,
  kCapBpf = 39,
  kCapLastCap = 40,  // CAP_LAST_CAP (CAP_CHECKPOINT_RESTORE)
};

// cap_capable's options (Linux's CAP_OPT_*): not audited; asked by setuid, setgid and their kin.
inline constexpr unsigned kCapOptNoAudit = 0x2, kCapOptInsetid = 0x4;

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

  // Whether the capability sets hold every capability but the file system ones (CAP_SETUID,
  // CAP_KILL, CAP_BPF, CAP_SYS_ADMIN, ...) and the file system ones (Linux's CAP_FS_MASK:
  // CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_MKNOD, ...): what cap_capable decides by.
  bool privileged() const { return euid == 0; }
  bool fs_privileged() const { return fsuid == 0; }
  // Linux's ns_capable() (and, with CAP_OPT_NOAUDIT or CAP_OPT_INSETID in `options`, its
  // _noaudit and _setid forms): whether these credentials hold capability `cap`, asked of
  // cap_capable (task/capability.cpp), the Linux-named function Linux's `capable` tool and
  // kprobes watch. Called where Linux checks, in Linux's order, so a check shows when Linux's
  // would.
  bool capable(int cap, unsigned options = 0) const;
  // in_group_p(): `id` is the file system gid or a supplementary group.
  bool in_group(uint32_t id) const;
};

// The struct cred Linux would have for `c` (the record cap_capable gets): its ids; every
// capability permitted while one of the user ids is 0; effective, the capabilities but the file
// system ones with effective uid 0, the file system ones (CAP_FS_MASK) with file system uid 0.
struct cred linux_cred_of(const Credentials& c);

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
// setgroups' checks before the list is read: EPERM unless privileged (CAP_SETGID), EINVAL for a
// count over NGROUPS_MAX, ENOMEM past kGroupsMax.
rt::Result<void> check_group_count(const Credentials& old, int64_t count);
// The new groups once the list was read (check_group_count passed): EINVAL for an invalid gid;
// the list is sorted.
rt::Result<Credentials> set_groups(const Credentials& old, const uint32_t* groups, uint32_t count);

// execve of a file with mode `mode` owned by `owner_uid`:`owner_gid`: set-user-ID and
// set-group-ID (with group execute) take the file's ids as effective ones; the saved and file
// system ids become the effective ones. `secure` is AT_SECURE (the ids changed from the real
// ones).
Credentials exec_credentials(const Credentials& old, uint32_t mode, uint32_t owner_uid,
                             uint32_t owner_gid, bool& secure);

}  // namespace posix
