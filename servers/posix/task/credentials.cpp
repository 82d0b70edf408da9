// SPDX-License-Identifier: MIT
// The rules of the user and group id system calls (credentials.hpp), written from the man
// pages and Linux's observable behaviour.
#include "task/credentials.hpp"

namespace posix {

namespace {

constexpr uint32_t kNoChange = Credentials::kNoChange;

// Whether `id` is one of the three ids a process may always go back to (its real, effective
// or saved id): setresuid and setresgid let an unprivileged caller pick among them.
bool is_own(uint32_t id, uint32_t real, uint32_t effective, uint32_t saved) {
  return id == real || id == effective || id == saved;
}

// The ids setresuid/setresgid and setreuid/setregid share: `real`, `effective`, `saved` and
// `fs` stand for the uid or the gid side.
struct IdSet {
  uint32_t& real;
  uint32_t& effective;
  uint32_t& saved;
  uint32_t& fs;
};
IdSet uid_side(Credentials& c) { return {c.uid, c.euid, c.suid, c.fsuid}; }
IdSet gid_side(Credentials& c) { return {c.gid, c.egid, c.sgid, c.fsgid}; }

// The capability that lifts a side's rules (CAP_SETUID or CAP_SETGID), asked (Linux's
// ns_capable_setid) only where Linux asks.
struct Privilege {
  const Credentials& old;
  int cap;
  bool held() const { return old.capable(cap, kCapOptInsetid); }
};
Privilege uid_privilege(const Credentials& old) { return {old, kCapSetuid}; }
Privilege gid_privilege(const Credentials& old) { return {old, kCapSetgid}; }

// setresuid's and setresgid's rule: unprivileged, each new id must be one of the old three.
rt::Result<void> set_res(IdSet ids, Privilege privilege, uint32_t real, uint32_t effective,
                         uint32_t saved) {
  auto foreign = [&](uint32_t id) {
    return id != kNoChange && !is_own(id, ids.real, ids.effective, ids.saved);
  };
  if ((foreign(real) || foreign(effective) || foreign(saved)) && !privilege.held()) {
    return rt::err(rt::kEPERM);
  }
  if (real != kNoChange) ids.real = real;
  if (effective != kNoChange) ids.effective = effective;
  if (saved != kNoChange) ids.saved = saved;
  ids.fs = ids.effective;
  return {};
}

// setreuid's and setregid's rule: the real id may become the old real or effective one, the
// effective id any of the old three; the saved id follows the effective one when the real id
// is set or the effective one differs from the old real id.
rt::Result<void> set_re(IdSet ids, Privilege privilege, uint32_t real, uint32_t effective) {
  uint32_t old_real = ids.real;
  if (real != kNoChange && real != ids.real && real != ids.effective && !privilege.held()) {
    return rt::err(rt::kEPERM);
  }
  if (effective != kNoChange && !is_own(effective, ids.real, ids.effective, ids.saved) &&
      !privilege.held()) {
    return rt::err(rt::kEPERM);
  }
  if (real != kNoChange) ids.real = real;
  if (effective != kNoChange) ids.effective = effective;
  if (real != kNoChange || (effective != kNoChange && effective != old_real)) {
    ids.saved = ids.effective;
  }
  ids.fs = ids.effective;
  return {};
}

// setuid's and setgid's rule: privileged, all four ids; unprivileged, only the effective and
// file system ids, to the real or the saved one. -1 is EINVAL (no valid id).
rt::Result<void> set_one(IdSet ids, Privilege privilege, uint32_t id) {
  if (id == kNoChange) return rt::err(rt::kEINVAL);
  if (privilege.held()) {
    ids.real = ids.saved = id;
  } else if (id != ids.real && id != ids.saved) {
    return rt::err(rt::kEPERM);
  }
  ids.effective = ids.fs = id;
  return {};
}

// setfsuid's and setfsgid's rule: any of the four old ids, or anything when privileged;
// otherwise nothing changes (and nothing says so but the next call's answer).
void set_fs(IdSet ids, Privilege privilege, uint32_t id) {
  if (id == kNoChange) return;
  if (is_own(id, ids.real, ids.effective, ids.saved) || id == ids.fs || privilege.held()) {
    ids.fs = id;
  }
}

}  // namespace

Credentials Credentials::root() {
  Credentials c{};
  return c;
}

bool Credentials::in_group(uint32_t id) const {
  if (id == fsgid) return true;
  for (uint32_t i = 0; i < group_count; ++i) {
    if (groups[i] == id) return true;
  }
  return false;
}

rt::Result<Credentials> set_uid(const Credentials& old, uint32_t uid) {
  Credentials c = old;
  TRY(set_one(uid_side(c), uid_privilege(old), uid));
  return c;
}

rt::Result<Credentials> set_gid(const Credentials& old, uint32_t gid) {
  Credentials c = old;
  TRY(set_one(gid_side(c), gid_privilege(old), gid));
  return c;
}

rt::Result<Credentials> set_reuid(const Credentials& old, uint32_t ruid, uint32_t euid) {
  Credentials c = old;
  TRY(set_re(uid_side(c), uid_privilege(old), ruid, euid));
  return c;
}

rt::Result<Credentials> set_regid(const Credentials& old, uint32_t rgid, uint32_t egid) {
  Credentials c = old;
  TRY(set_re(gid_side(c), gid_privilege(old), rgid, egid));
  return c;
}

rt::Result<Credentials> set_resuid(const Credentials& old, uint32_t ruid, uint32_t euid,
                                   uint32_t suid) {
  Credentials c = old;
  TRY(set_res(uid_side(c), uid_privilege(old), ruid, euid, suid));
  return c;
}

rt::Result<Credentials> set_resgid(const Credentials& old, uint32_t rgid, uint32_t egid,
                                   uint32_t sgid) {
  Credentials c = old;
  TRY(set_res(gid_side(c), gid_privilege(old), rgid, egid, sgid));
  return c;
}

Credentials set_fsuid(const Credentials& old, uint32_t fsuid) {
  Credentials c = old;
  set_fs(uid_side(c), uid_privilege(old), fsuid);
  return c;
}

Credentials set_fsgid(const Credentials& old, uint32_t fsgid) {
  Credentials c = old;
  set_fs(gid_side(c), gid_privilege(old), fsgid);
  return c;
}

rt::Result<void> check_group_count(const Credentials& old, int64_t count) {
  if (!old.capable(kCapSetgid, kCapOptInsetid)) return rt::err(rt::kEPERM);  // may_setgroups
  if (count < 0 || count > Credentials::kLinuxGroupsMax) return rt::err(rt::kEINVAL);
  if (count > Credentials::kGroupsMax) return rt::err(rt::kENOMEM);
  return {};
}

rt::Result<Credentials> set_groups(const Credentials& old, const uint32_t* groups, uint32_t count) {
  if (count > Credentials::kGroupsMax) return rt::err(rt::kENOMEM);
  Credentials c = old;
  for (uint32_t i = 0; i < count; ++i) {
    if (groups[i] == kNoChange) return rt::err(rt::kEINVAL);
    // Insertion sort: getgroups lists them in ascending order, duplicates kept.
    uint32_t j = i;
    for (; j > 0 && c.groups[j - 1] > groups[i]; --j) c.groups[j] = c.groups[j - 1];
    c.groups[j] = groups[i];
  }
  c.group_count = count;
  return c;
}

Credentials exec_credentials(const Credentials& old, uint32_t mode, uint32_t owner_uid,
                             uint32_t owner_gid, bool& secure) {
  constexpr uint32_t kSetUid = 04000, kSetGid = 02000, kGroupExecute = 010;
  Credentials c = old;
  if ((mode & kSetUid) != 0) c.euid = owner_uid;
  if ((mode & (kSetGid | kGroupExecute)) == (kSetGid | kGroupExecute)) c.egid = owner_gid;
  c.suid = c.fsuid = c.euid;
  c.sgid = c.fsgid = c.egid;
  secure = c.euid != c.uid || c.egid != c.gid;
  return c;
}

namespace {

constexpr uint32_t bit(int cap) { return uint32_t{1} << (cap % 32); }

// Every capability up to CAP_LAST_CAP, and Linux's CAP_FS_MASK (the ones that follow the file
// system uid), as the two 32-bit words of a kernel_cap_t.
constexpr kernel_cap_t kAllCaps = {{0xffffffffu, (uint32_t{1} << (kCapLastCap - 31)) - 1}};
constexpr kernel_cap_t kFsCaps = {{bit(kCapChown) | bit(kCapDacOverride) | bit(kCapDacReadSearch) |
                                       bit(kCapFowner) | bit(kCapFsetid) | bit(kCapLinuxImmutable) |
                                       bit(kCapMknod),
                                   bit(kCapMacOverride)}};

}  // namespace

// What Linux's cap_task_fix_setuid leaves for these ids.
struct cred linux_cred_of(const Credentials& c) {
  struct cred record = {};
  record.usage = 1;
  record.uid.val = c.uid;
  record.gid.val = c.gid;
  record.suid.val = c.suid;
  record.sgid.val = c.sgid;
  record.euid.val = c.euid;
  record.egid.val = c.egid;
  record.fsuid.val = c.fsuid;
  record.fsgid.val = c.fsgid;
  bool permitted = c.uid == 0 || c.euid == 0 || c.suid == 0;
  for (int i = 0; i < 2; ++i) {
    record.cap_bset.cap[i] = kAllCaps.cap[i];
    record.cap_permitted.cap[i] = permitted ? kAllCaps.cap[i] : 0;
    record.cap_effective.cap[i] = (c.privileged() ? kAllCaps.cap[i] & ~kFsCaps.cap[i] : 0) |
                                  (c.fs_privileged() ? kFsCaps.cap[i] : 0);
  }
  return record;
}

bool Credentials::capable(int cap, unsigned options) const {
  struct cred record = linux_cred_of(*this);
  return cap_capable(&record, &init_user_ns, cap, options) == 0;
}

}  // namespace posix
