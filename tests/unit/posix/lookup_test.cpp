// SPDX-License-Identifier: MIT
// Path lookup in the POSIX server's file tree: `.`, `..`, symlinks, and Linux's errors.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "support/malloc_allocator.hpp"
#include "vfs/inode.hpp"

namespace posix {
namespace {

class LookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    usr_bin = make("/usr/bin", kTypeDirectory | 0755);
    sh = make("/usr/bin/sh", kTypeRegular | 0755);
    symlink("/bin", "usr/bin");             // relative target
    symlink("/usr/bin/ash", "sh");          // relative to /usr/bin
    symlink("/etc/hostname", "/etc/real");  // absolute target
    real = make("/etc/real", kTypeRegular | 0644);
    symlink("/loop1", "/loop2");
    symlink("/loop2", "/loop1");
    symlink("/dangling", "/nowhere/file");
  }
  Inode* make(const char* path, uint32_t mode) {
    auto made = tree.create(tree.root(), path, mode);
    EXPECT_TRUE(made.ok()) << path;
    return made.ok() ? made.value() : nullptr;
  }
  void symlink(const char* path, const char* target) {
    Inode* link = make(path, kTypeSymlink | 0777);
    ASSERT_TRUE(
        tree.set_contents(link, reinterpret_cast<const uint8_t*>(target), std::strlen(target), true)
            .ok());
  }
  Inode* find(const char* path, uint32_t flags = kFollowLast, Inode* cwd = nullptr) {
    auto found = lookup(tree, cwd != nullptr ? cwd : tree.root(), path, flags);
    return found.ok() ? found.value().inode : nullptr;
  }
  int error_of(const char* path, uint32_t flags = kFollowLast) {
    auto found = lookup(tree, tree.root(), path, flags);
    return found.ok() ? 0 : found.error().code;
  }

  test_support::MallocAllocator allocator;
  FileTree tree{allocator};
  Inode* usr_bin = nullptr;
  Inode* sh = nullptr;
  Inode* real = nullptr;
};

TEST_F(LookupTest, AbsoluteAndRelativePaths) {
  EXPECT_EQ(find("/usr/bin/sh"), sh);
  EXPECT_EQ(find("bin/sh", kFollowLast, find("/usr")), sh);
  EXPECT_EQ(find("//usr///bin//sh"), sh);
  EXPECT_EQ(find("/"), tree.root());
}

TEST_F(LookupTest, DotAndDotDot) {
  EXPECT_EQ(find("/usr/./bin/../bin/sh"), sh);
  EXPECT_EQ(find("/.."), tree.root());
  EXPECT_EQ(find("/../../usr/bin"), usr_bin);
  EXPECT_EQ(find("..", kFollowLast, usr_bin), find("/usr"));
}

TEST_F(LookupTest, SymlinksAreFollowedRelativeToTheirDirectory) {
  EXPECT_EQ(find("/bin/sh"), sh);          // through the /bin -> usr/bin link
  EXPECT_EQ(find("/usr/bin/ash"), sh);     // ash -> sh in the same directory
  EXPECT_EQ(find("/etc/hostname"), real);  // absolute target
  EXPECT_EQ(find("/bin/../bin/sh"), sh);   // .. after a followed link goes to /usr
}

TEST_F(LookupTest, LastSymlinkIsKeptWithoutFollow) {
  Inode* link = find("/usr/bin/ash", 0);
  ASSERT_NE(link, nullptr);
  EXPECT_TRUE(link->is_symlink());
  EXPECT_EQ(find("/bin/", 0), usr_bin);  // a trailing slash follows
}

TEST_F(LookupTest, LinuxErrors) {
  EXPECT_EQ(error_of("/missing"), ENOENT);
  EXPECT_EQ(error_of("/missing/file"), ENOENT);
  EXPECT_EQ(error_of(""), ENOENT);
  EXPECT_EQ(error_of("/usr/bin/sh/x"), ENOTDIR);
  EXPECT_EQ(error_of("/usr/bin/sh/"), ENOTDIR);
  EXPECT_EQ(error_of("/loop1"), ELOOP);
  EXPECT_EQ(error_of("/loop1/x"), ELOOP);
  EXPECT_EQ(error_of("/dangling"), ENOENT);
  std::string long_name(256, 'a');
  EXPECT_EQ(error_of(("/" + long_name).c_str()), ENAMETOOLONG);
  std::string long_path(5000, '/');
  EXPECT_EQ(error_of(long_path.c_str()), ENAMETOOLONG);
}

TEST_F(LookupTest, MissingLastComponentForCreation) {
  auto found = lookup(tree, tree.root(), "/usr/bin/new", kAllowMissing);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found.value().inode, nullptr);
  EXPECT_EQ(found.value().parent, usr_bin);
  EXPECT_EQ(std::string(found.value().last, found.value().last_length), "new");
  // The parent itself must exist.
  EXPECT_EQ(lookup(tree, tree.root(), "/nope/new", kAllowMissing).error().code, ENOENT);
}

TEST_F(LookupTest, FortySymlinksAreTheLimit) {
  // A chain of 40 links resolves; 41 is ELOOP, as Linux's MAXSYMLINKS.
  for (int i = 0; i <= 41; ++i) {
    std::string path = "/chain" + std::to_string(i);
    std::string target = i == 0 ? "/usr/bin/sh" : "/chain" + std::to_string(i - 1);
    symlink(path.c_str(), target.c_str());
  }
  EXPECT_EQ(find("/chain39"), sh);  // 40 links
  EXPECT_EQ(error_of("/chain40"), ELOOP);
}

TEST_F(LookupTest, UnlinkAndLinkKeepCounts) {
  Inode* file = make("/usr/bin/tmp", kTypeRegular | 0644);
  EXPECT_EQ(tree.link(usr_bin, "tmp", 3, file).error().code, EEXIST);
  EXPECT_TRUE(tree.unlink(usr_bin, "tmp", 3).ok());
  EXPECT_EQ(find("/usr/bin/tmp"), nullptr);
  EXPECT_EQ(tree.unlink(usr_bin, "tmp", 3).error().code, ENOENT);
}

// A remote file system (tracefs): names it does not hold are asked for, and always the last
// name of a path (which the server checks whole); known directories on the way are not.
class FakeRemote final : public RemoteFileSystem {
 public:
  rt::Result<Inode*> lookup(FileTree& tree, Inode* directory, const char* name,
                            size_t length) override {
    std::string asked(name, length);
    asks.push_back(asked);
    Inode* existing = tree.find(directory, name, length);
    bool exists = asked == "events" || asked == "trace" || (asked == "gone" && !removed);
    if (!exists) {
      if (existing != nullptr) (void)tree.unlink(directory, name, length);
      return nullptr;
    }
    if (existing != nullptr) return existing;
    bool directory_kind = asked != "trace";
    auto made = tree.make_inode(directory_kind ? kTypeDirectory | 0750 : kTypeRegular | 0640);
    if (!made.ok()) return made.error();
    made.value()->remote = this;
    TRY(tree.link(directory, name, length, made.value()));
    return made.value();
  }
  std::vector<std::string> asks;
  bool removed = false;
};

TEST_F(LookupTest, RemoteDirectoriesAskForTheLastNameAndUnknownOnes) {
  FakeRemote remote;
  Inode* mount = make("/sys/kernel/tracing", kTypeDirectory | 0755);
  mount->remote = &remote;
  Inode* events = find("/sys/kernel/tracing/events");
  ASSERT_NE(events, nullptr);
  EXPECT_EQ(remote.asks, std::vector<std::string>{"events"});
  remote.asks.clear();
  // events is known now: only the last name is asked.
  EXPECT_NE(find("/sys/kernel/tracing/events/trace"), nullptr);
  EXPECT_EQ(remote.asks, std::vector<std::string>{"trace"});
  remote.asks.clear();
  EXPECT_NE(find("gone/trace", kFollowLast, mount), nullptr);
  EXPECT_EQ(remote.asks, (std::vector<std::string>{"gone", "trace"}));
  // The server dropped it: the last name is asked again and the entry goes.
  remote.removed = true;
  EXPECT_EQ(error_of("/sys/kernel/tracing/gone"), ENOENT);
  EXPECT_EQ(tree.find(mount, "gone", 4), nullptr);
  // A missing last name with kAllowMissing: the parent is the remote directory.
  auto missing = lookup(tree, tree.root(), "/sys/kernel/tracing/new", kAllowMissing);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing.value().inode, nullptr);
  EXPECT_EQ(missing.value().parent, mount);
}

}  // namespace
}  // namespace posix
