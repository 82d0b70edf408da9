// SPDX-License-Identifier: MIT
// The cpio "newc" parser and the initramfs unpacker: good archives and hostile ones.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "fs/initramfs.hpp"
#include "support/malloc_allocator.hpp"

namespace posix {
namespace {

struct Member {
  std::string name;
  uint32_t mode;
  std::string data;
};

std::string archive_of(const std::vector<Member>& members, bool trailer = true) {
  std::string out;
  auto add = [&](const std::string& name, uint32_t mode, const std::string& data) {
    char header[111];
    std::snprintf(header, sizeof(header),
                  "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", 1u, mode, 0u, 0u,
                  1u, 0u, static_cast<unsigned>(data.size()), 0u, 0u, 0u, 0u,
                  static_cast<unsigned>(name.size() + 1), 0u);
    out += std::string(header, 110);
    out += name;
    out += '\0';
    while (out.size() % 4 != 0) out += '\0';
    out += data;
    while (out.size() % 4 != 0) out += '\0';
  };
  for (const Member& m : members) add(m.name, m.mode, m.data);
  if (trailer) add("TRAILER!!!", 0, "");
  return out;
}

const uint8_t* bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(Cpio, UnpacksFilesDirectoriesAndSymlinks) {
  std::string archive =
      archive_of({{".", kTypeDirectory | 0755, ""},
                  {"bin", kTypeDirectory | 0755, ""},
                  {"bin/busybox", kTypeRegular | 0755,
                   "\x7f"
                   "ELF..."},
                  {"bin/sh", kTypeSymlink | 0777, "busybox"},
                  {"etc/passwd", kTypeRegular | 0644, "root:x:0:0::/:/bin/sh\n"}});
  test_support::MallocAllocator allocator;
  FileTree tree(allocator);
  auto count = unpack_initramfs(tree, bytes(archive), archive.size());
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count.value(), 4u);
  auto sh = lookup(tree, tree.root(), "/bin/sh", kFollowLast);
  ASSERT_TRUE(sh.ok());
  EXPECT_TRUE(sh.value().inode->is_regular());
  EXPECT_EQ(sh.value().inode->mode & 07777, 0755u);
  EXPECT_EQ(
      std::string(reinterpret_cast<const char*>(sh.value().inode->data), sh.value().inode->size),
      std::string("\x7f"
                  "ELF..."));
  // File bytes stay in the archive until written.
  EXPECT_FALSE(sh.value().inode->owned);
  auto passwd = lookup(tree, tree.root(), "/etc/passwd", kFollowLast);  // parent made on the way
  ASSERT_TRUE(passwd.ok());
  EXPECT_EQ(passwd.value().inode->size, 22u);
}

TEST(Cpio, VisitsMembersInOrder) {
  std::string archive =
      archive_of({{"a", kTypeRegular | 0644, "1"}, {"b", kTypeRegular | 0644, "22"}});
  std::vector<std::string> names;
  auto visit = [](void* state, const CpioEntry& entry) -> rt::Result<void> {
    static_cast<std::vector<std::string>*>(state)->push_back(
        std::string(entry.name, entry.name_length) + ":" + std::to_string(entry.size));
    return {};
  };
  ASSERT_TRUE(parse_cpio(bytes(archive), archive.size(), visit, &names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"a:1", "b:2"}));
}

int parse_error(const std::string& archive) {
  auto visit = [](void*, const CpioEntry&) -> rt::Result<void> { return {}; };
  auto r = parse_cpio(bytes(archive), archive.size(), visit, nullptr);
  return r.ok() ? 0 : r.error().code;
}

TEST(Cpio, MalformedArchivesAreRefused) {
  std::string good = archive_of({{"file", kTypeRegular | 0644, "contents"}});
  EXPECT_EQ(parse_error(good), 0);
  EXPECT_EQ(parse_error(""), EINVAL);
  EXPECT_EQ(parse_error(good.substr(0, 50)), EINVAL);                        // truncated header
  EXPECT_EQ(parse_error(archive_of({{"f", 0100644, "x"}}, false)), EINVAL);  // no trailer
  std::string bad_magic = good;
  bad_magic[5] = '9';
  EXPECT_EQ(parse_error(bad_magic), EINVAL);
  std::string bad_hex = good;
  bad_hex[20] = 'z';
  EXPECT_EQ(parse_error(bad_hex), EINVAL);
  // A file size far past the end of the archive.
  std::string huge = good;
  std::memcpy(&huge[6 + 8 * 6], "7fffffff", 8);
  EXPECT_EQ(parse_error(huge), EINVAL);
  // A name size past the end, and one whose last byte is not NUL.
  std::string long_name = good;
  std::memcpy(&long_name[6 + 8 * 11], "0000ffff", 8);
  EXPECT_EQ(parse_error(long_name), EINVAL);
  std::string unterminated = good;
  std::memcpy(&unterminated[6 + 8 * 11], "00000002", 8);
  EXPECT_EQ(parse_error(unterminated), EINVAL);
}

TEST(Cpio, FileOverDirectoryIsRefused) {
  std::string archive =
      archive_of({{"x", kTypeRegular | 0644, "1"}, {"x/y", kTypeRegular | 0644, "2"}});
  test_support::MallocAllocator allocator;
  FileTree tree(allocator);
  EXPECT_EQ(unpack_initramfs(tree, bytes(archive), archive.size()).error().code, ENOTDIR);
}

}  // namespace
}  // namespace posix
