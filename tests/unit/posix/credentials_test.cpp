// SPDX-License-Identifier: MIT
// The POSIX server's credentials: the id system calls' rules (set*uid, set*gid, setgroups,
// execve's set-ID bits) and the file permission checks they drive, including path search.
#include "task/credentials.hpp"

#include <gtest/gtest.h>

#include "support/malloc_allocator.hpp"
#include "vfs/inode.hpp"
#include "vfs/permission.hpp"

namespace posix {
namespace {

constexpr uint32_t kKeep = Credentials::kNoChange;

Credentials user(uint32_t uid, uint32_t gid) {
  Credentials c = Credentials::root();
  c.uid = c.euid = c.suid = c.fsuid = uid;
  c.gid = c.egid = c.sgid = c.fsgid = gid;
  return c;
}

void expect_uids(const Credentials& c, uint32_t r, uint32_t e, uint32_t s, uint32_t fs) {
  EXPECT_EQ(c.uid, r);
  EXPECT_EQ(c.euid, e);
  EXPECT_EQ(c.suid, s);
  EXPECT_EQ(c.fsuid, fs);
}

TEST(CredentialsTest, RootSetuidDropsEveryId) {
  auto c = set_uid(Credentials::root(), 1000);
  ASSERT_TRUE(c.ok());
  expect_uids(c.value(), 1000, 1000, 1000, 1000);
  EXPECT_EQ(set_uid(c.value(), 0).error().code, rt::kEPERM);
  EXPECT_EQ(set_uid(c.value(), kKeep).error().code, rt::kEINVAL);
}

TEST(CredentialsTest, UnprivilegedSetuidGoesToRealOrSaved) {
  Credentials c = user(1000, 1000);
  c.suid = 2000;
  auto saved = set_uid(c, 2000);
  ASSERT_TRUE(saved.ok());
  expect_uids(saved.value(), 1000, 2000, 2000, 2000);
  EXPECT_EQ(set_uid(c, 3000).error().code, rt::kEPERM);
}

TEST(CredentialsTest, SetresuidKeepsWhatIsMinusOne) {
  auto c = set_resuid(Credentials::root(), 1000, kKeep, 2000);
  ASSERT_TRUE(c.ok());
  expect_uids(c.value(), 1000, 0, 2000, 0);
  auto dropped = set_resuid(c.value(), kKeep, 2000, kKeep);
  ASSERT_TRUE(dropped.ok());
  expect_uids(dropped.value(), 1000, 2000, 2000, 2000);
  EXPECT_EQ(set_resuid(dropped.value(), 0, kKeep, kKeep).error().code, rt::kEPERM);
  EXPECT_TRUE(set_resuid(dropped.value(), 2000, 1000, 2000).ok());
}

TEST(CredentialsTest, SetreuidSavesTheEffectiveUid) {
  auto c = set_reuid(Credentials::root(), kKeep, 1000);
  ASSERT_TRUE(c.ok());
  expect_uids(c.value(), 0, 1000, 1000, 1000);
  auto back = set_reuid(c.value(), kKeep, 0);  // to the real uid: the saved one stays
  ASSERT_TRUE(back.ok());
  expect_uids(back.value(), 0, 0, 1000, 0);
  auto real = set_reuid(back.value(), 1000, kKeep);
  ASSERT_TRUE(real.ok());
  expect_uids(real.value(), 1000, 0, 0, 0);
  EXPECT_EQ(set_reuid(user(1000, 1000), 0, kKeep).error().code, rt::kEPERM);
}

TEST(CredentialsTest, SetfsuidAnswersNothingButChangesOnlyWhenAllowed) {
  expect_uids(set_fsuid(Credentials::root(), 1000), 0, 0, 0, 1000);
  expect_uids(set_fsuid(user(1000, 1000), 0), 1000, 1000, 1000, 1000);
  expect_uids(set_fsuid(Credentials::root(), kKeep), 0, 0, 0, 0);
}

TEST(CredentialsTest, SetgroupsSortsAndChecks) {
  const uint32_t groups[] = {5, 3, 3, 1};
  auto c = set_groups(Credentials::root(), groups, 4);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c.value().group_count, 4u);
  EXPECT_EQ(c.value().groups[0], 1u);
  EXPECT_EQ(c.value().groups[1], 3u);
  EXPECT_EQ(c.value().groups[3], 5u);
  EXPECT_TRUE(c.value().in_group(3));
  EXPECT_EQ(check_group_count(user(1, 1), 0).error().code, rt::kEPERM);
  EXPECT_EQ(check_group_count(Credentials::root(), -1).error().code, rt::kEINVAL);
  EXPECT_EQ(check_group_count(Credentials::root(), 65537).error().code, rt::kEINVAL);
  const uint32_t invalid[] = {kKeep};
  EXPECT_EQ(set_groups(Credentials::root(), invalid, 1).error().code, rt::kEINVAL);
}

// The sets cap_capable decides by: root has every capability up to CAP_LAST_CAP (40); the file
// system ones (CAP_FS_MASK) follow the file system uid, the others the effective uid; they
// stay permitted while any user id is 0.
TEST(CredentialsTest, CapabilitySetsFollowTheIds) {
  struct cred root = linux_cred_of(Credentials::root());
  EXPECT_EQ(root.cap_effective.cap[0], 0xffffffffu);
  EXPECT_EQ(root.cap_effective.cap[1], 0x1ffu);
  EXPECT_EQ(root.cap_permitted.cap[1], 0x1ffu);
  EXPECT_EQ(root.cap_inheritable.cap[0], 0u);

  Credentials fs_user = Credentials::root();
  fs_user.fsuid = 1000;  // setfsuid(1000) as root: CAP_FS_MASK goes
  struct cred dropped = linux_cred_of(fs_user);
  EXPECT_EQ(dropped.cap_effective.cap[0], 0xf7fffde0u);  // without 0-4, 9 and 27
  EXPECT_EQ(dropped.cap_effective.cap[1], 0x1feu);       // without CAP_MAC_OVERRIDE
  EXPECT_EQ(dropped.fsuid.val, 1000u);
  EXPECT_TRUE(fs_user.capable(kCapSysAdmin));
  EXPECT_FALSE(fs_user.capable(kCapChown));
  EXPECT_FALSE(fs_user.capable(kCapMknod));
  EXPECT_FALSE(fs_user.capable(kCapDacOverride));

  Credentials saved_root = user(1000, 1000);
  saved_root.suid = 0;
  saved_root.fsuid = 0;  // seteuid(1000), then setfsuid(0): the file system ones only
  struct cred fs_only = linux_cred_of(saved_root);
  EXPECT_EQ(fs_only.cap_effective.cap[0], 0x0800021fu);
  EXPECT_EQ(fs_only.cap_permitted.cap[0], 0xffffffffu);
  EXPECT_TRUE(saved_root.capable(kCapFowner));
  EXPECT_FALSE(saved_root.capable(kCapSetuid));
  EXPECT_FALSE(saved_root.capable(kCapBpf));

  Credentials nobody = user(1000, 1000);
  struct cred none = linux_cred_of(nobody);
  EXPECT_EQ(none.cap_effective.cap[0] | none.cap_effective.cap[1], 0u);
  EXPECT_EQ(none.cap_permitted.cap[0] | none.cap_permitted.cap[1], 0u);
  EXPECT_FALSE(nobody.capable(kCapKill));
}

TEST(CredentialsTest, CapCapableRefusesWhatNoSetHolds) {
  struct cred root = linux_cred_of(Credentials::root());
  EXPECT_EQ(cap_capable(&root, &init_user_ns, kCapSysAdmin, kCapOptNoAudit), 0);
  EXPECT_EQ(cap_capable(&root, &init_user_ns, kCapLastCap, 0), 0);
  EXPECT_EQ(cap_capable(&root, &init_user_ns, kCapLastCap + 1, 0), -rt::kEPERM);
  EXPECT_EQ(cap_capable(&root, &init_user_ns, -1, 0), -rt::kEPERM);
  EXPECT_EQ(cap_capable(nullptr, &init_user_ns, kCapChown, 0), -rt::kEPERM);
}

// setuid and its kin ask for CAP_SETUID/CAP_SETGID only where Linux does: an unprivileged
// caller going back to one of its own ids succeeds without it.
TEST(CredentialsTest, IdRulesWithoutThePrivilege) {
  Credentials c = user(1000, 1000);
  c.suid = 2000;
  auto back = set_reuid(c, kKeep, 2000);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value().euid, 2000u);
  EXPECT_EQ(set_resuid(c, 3000, kKeep, kKeep).error().code, rt::kEPERM);
  EXPECT_EQ(set_fsuid(c, 3000).fsuid, 1000u);
}

TEST(CredentialsTest, ExecOfASetUidFileIsSecure) {
  bool secure = false;
  Credentials c = exec_credentials(user(1000, 100), 04755, 0, 0, secure);
  expect_uids(c, 1000, 0, 0, 0);
  EXPECT_TRUE(secure);
  c = exec_credentials(user(1000, 100), 02755, 0, 50, secure);  // set-group-ID
  EXPECT_EQ(c.egid, 50u);
  EXPECT_EQ(c.sgid, 50u);
  EXPECT_TRUE(secure);
  c = exec_credentials(user(1000, 100), 02745, 0, 50, secure);  // no group execute: ignored
  EXPECT_EQ(c.egid, 100u);
  EXPECT_FALSE(secure);
}

class PermissionTest : public ::testing::Test {
 protected:
  Inode* make(const char* path, uint32_t mode, uint32_t uid = 0, uint32_t gid = 0) {
    auto made = tree.create(tree.root(), path, mode);
    EXPECT_TRUE(made.ok()) << path;
    made.value()->uid = uid;
    made.value()->gid = gid;
    return made.value();
  }
  int error_of(const rt::Result<void>& r) { return r.ok() ? 0 : r.error().code; }
  test_support::MallocAllocator allocator;
  FileTree tree{allocator};
};

TEST_F(PermissionTest, OwnerGroupAndOtherBits) {
  Inode* file = make("/file", kTypeRegular | 0640, 1000, 100);
  EXPECT_EQ(error_of(inode_permission(user(1000, 1), *file, kMayRead | kMayWrite)), 0);
  EXPECT_EQ(error_of(inode_permission(user(2000, 100), *file, kMayRead)), 0);
  EXPECT_EQ(error_of(inode_permission(user(2000, 100), *file, kMayWrite)), rt::kEACCES);
  EXPECT_EQ(error_of(inode_permission(user(3000, 3), *file, kMayRead)), rt::kEACCES);
  // The owner's bits apply to the owner even when the group's would allow more.
  Inode* odd = make("/odd", kTypeRegular | 0070, 1000, 1000);
  EXPECT_EQ(error_of(inode_permission(user(1000, 1000), *odd, kMayRead)), rt::kEACCES);
}

TEST_F(PermissionTest, RootExecutesOnlyWithAnExecuteBit) {
  Inode* data = make("/data", kTypeRegular | 0600, 1000, 1000);
  Inode* program = make("/program", kTypeRegular | 0700, 1000, 1000);
  Inode* directory = make("/directory", kTypeDirectory | 0000, 1000, 1000);
  EXPECT_EQ(error_of(inode_permission(Credentials::root(), *data, kMayRead | kMayWrite)), 0);
  EXPECT_EQ(error_of(inode_permission(Credentials::root(), *data, kMayExec)), rt::kEACCES);
  EXPECT_EQ(error_of(inode_permission(Credentials::root(), *program, kMayExec)), 0);
  EXPECT_EQ(error_of(inode_permission(Credentials::root(), *directory, kMayExec)), 0);
}

TEST_F(PermissionTest, LookupNeedsSearchOnEveryDirectory) {
  make("/private", kTypeDirectory | 0700, 0, 0);
  make("/private/file", kTypeRegular | 0644, 0, 0);
  Credentials someone = user(1000, 1000);
  auto found = lookup(tree, tree.root(), "/private/file", kFollowLast, &someone);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, rt::kEACCES);
  EXPECT_TRUE(lookup(tree, tree.root(), "/private", kFollowLast, &someone).ok());
  EXPECT_TRUE(lookup(tree, tree.root(), "/private/file", kFollowLast).ok());  // unchecked
  Credentials root = Credentials::root();
  EXPECT_TRUE(lookup(tree, tree.root(), "/private/file", kFollowLast, &root).ok());
}

TEST_F(PermissionTest, StickyDirectoriesKeepOthersFiles) {
  Inode* tmp = make("/tmp", kTypeDirectory | 01777, 0, 0);
  Inode* roots = make("/tmp/roots", kTypeRegular | 0666, 0, 0);
  Inode* mine = make("/tmp/mine", kTypeRegular | 0600, 1000, 1000);
  EXPECT_EQ(error_of(may_delete(user(1000, 1000), *tmp, *roots)), rt::kEPERM);
  EXPECT_EQ(error_of(may_delete(user(1000, 1000), *tmp, *mine)), 0);
  EXPECT_EQ(error_of(may_delete(Credentials::root(), *tmp, *mine)), 0);
  Inode* fixed = make("/fixed", kTypeDirectory | 0755, 0, 0);
  EXPECT_EQ(error_of(may_create(user(1000, 1000), *fixed)), rt::kEACCES);
}

TEST_F(PermissionTest, ChmodAndChownRules) {
  Inode* file = make("/file", kTypeRegular | 0644, 1000, 0);
  EXPECT_EQ(chmod_mode(user(2000, 2000), *file, 0600).error().code, rt::kEPERM);
  auto kept = chmod_mode(user(1000, 1000), *file, 02755);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept.value(), 0755u);  // not in the file's group: no set-group-ID
  EXPECT_EQ(error_of(may_chown(user(1000, 1000), *file, 0, kKeep)), rt::kEPERM);
  EXPECT_EQ(error_of(may_chown(user(1000, 1000), *file, kKeep, 1000)), 0);
  EXPECT_EQ(error_of(may_chown(user(1000, 1000), *file, kKeep, 5)), rt::kEPERM);
  EXPECT_EQ(error_of(may_chown(Credentials::root(), *file, 5, 5)), 0);
  EXPECT_EQ(mode_after_chown(kTypeRegular | 06755), kTypeRegular | 0755u);
  EXPECT_EQ(mode_after_chown(kTypeRegular | 02745), kTypeRegular | 02745u);
  EXPECT_EQ(mode_after_chown(kTypeDirectory | 02755), kTypeDirectory | 02755u);
}

}  // namespace
}  // namespace posix
