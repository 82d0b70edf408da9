// SPDX-License-Identifier: MIT
// When the file tree gives an inode back: at its last link with no open files (holds), at the
// last close of an unlinked file, never while something maps it, names it or pins it there.
#include <gtest/gtest.h>

#include <cstring>

#include "support/malloc_allocator.hpp"
#include "vfs/inode.hpp"

namespace posix {
namespace {

class InodeLifetimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp = tree.create(tree.root(), "/tmp", kTypeDirectory | 01777).value();
    baseline = allocator.in_use();
  }
  // A regular file /tmp/<name> holding `size` bytes of its own.
  Inode* file(const char* name, uint64_t size) {
    Inode* inode = tree.create(tmp, name, kTypeRegular | 0644).value();
    EXPECT_TRUE(tree.reserve(inode, size).ok());
    inode->size = size;
    return inode;
  }
  void unlink(const char* name) { ASSERT_TRUE(tree.unlink(tmp, name, std::strlen(name)).ok()); }

  test_support::MallocAllocator allocator;
  FileTree tree{allocator};
  Inode* tmp = nullptr;
  size_t baseline = 0;
};

TEST_F(InodeLifetimeTest, LastLinkFreesTheFileAndItsBytes) {
  file("a", 1 << 20);
  EXPECT_GE(allocator.in_use(), baseline + (1 << 20));
  unlink("a");
  EXPECT_EQ(allocator.in_use(), baseline);
  EXPECT_EQ(tree.find(tmp, "a", 1), nullptr);
}

TEST_F(InodeLifetimeTest, AnotherLinkKeepsIt) {
  Inode* a = file("a", 4096);
  a->links++;  // link(2): the caller counts the new name
  ASSERT_TRUE(tree.link(tmp, "b", 1, a).ok());
  unlink("a");
  EXPECT_EQ(tree.find(tmp, "b", 1), a);
  EXPECT_EQ(a->links, 1u);
  EXPECT_EQ(a->size, 4096u);
  unlink("b");
  EXPECT_EQ(allocator.in_use(), baseline);
}

TEST_F(InodeLifetimeTest, AnOpenFileOutlivesItsName) {
  Inode* a = file("a", 8192);
  a->holds++;  // new_file
  unlink("a");
  EXPECT_EQ(a->links, 0u);
  EXPECT_EQ(a->size, 8192u);  // still readable through the open file
  EXPECT_GT(allocator.in_use(), baseline);
  a->holds--;  // put_file
  tree.forget_if_unused(a);
  EXPECT_EQ(allocator.in_use(), baseline);
}

TEST_F(InodeLifetimeTest, ClosingALinkedFileKeepsIt) {
  Inode* a = file("a", 100);
  a->holds++;
  a->holds--;
  tree.forget_if_unused(a);
  EXPECT_EQ(tree.find(tmp, "a", 1), a);
  EXPECT_EQ(a->size, 100u);
}

TEST_F(InodeLifetimeTest, AMappedFileStaysUntilItsLastArea) {
  Inode* a = file("a", 100);
  a->maps = 2;  // two areas of processes map it
  unlink("a");
  EXPECT_EQ(a->links, 0u);
  EXPECT_EQ(a->size, 100u);
  a->maps--;
  tree.forget_if_unused(a);
  EXPECT_EQ(a->size, 100u);
  a->maps--;  // release_area_file
  tree.forget_if_unused(a);
  EXPECT_EQ(allocator.in_use(), baseline);
}

// A file whose bytes moved into frames gives them back through them.
class RecordingFrames final : public FileFrames {
 public:
  rt::Result<void> reserve(Inode&, uint64_t) override { return {}; }
  void release(Inode& file) override {
    released = true;
    file.frames = nullptr;
    file.data = nullptr;
  }
  bool released = false;
};

TEST_F(InodeLifetimeTest, FramesAreReleasedWithTheFile) {
  static uint8_t window[4096];
  Inode* a = tree.create(tmp, "a", kTypeRegular | 0644).value();
  RecordingFrames frames;
  a->frames = &frames;
  a->data = window;  // the window: not the tree's allocator's
  a->owned = true;
  a->capacity = a->size = sizeof window;
  a->holds++;
  unlink("a");
  EXPECT_FALSE(frames.released);
  a->holds--;
  tree.forget_if_unused(a);
  EXPECT_TRUE(frames.released);
  EXPECT_EQ(allocator.in_use(), baseline);
}

TEST_F(InodeLifetimeTest, ARemovedDirectoryGoes) {
  size_t links_before = tmp->links;
  Inode* sub = tree.create(tmp, "sub", kTypeDirectory | 0755).value();
  EXPECT_EQ(sub->links, 2u);
  EXPECT_EQ(tmp->links, links_before + 1);  // its `..`
  EXPECT_EQ(tmp->parented, 1u);
  ASSERT_TRUE(tree.unlink(tmp, "sub", 3).ok());
  EXPECT_EQ(tmp->links, links_before);
  EXPECT_EQ(tmp->parented, 0u);
  EXPECT_EQ(allocator.in_use(), baseline);
}

TEST_F(InodeLifetimeTest, AHeldDirectoryStaysUntilLetGo) {
  Inode* sub = tree.create(tmp, "sub", kTypeDirectory | 0755).value();
  sub->holds++;  // a working directory, an open descriptor, a mount
  ASSERT_TRUE(tree.unlink(tmp, "sub", 3).ok());
  EXPECT_EQ(sub->links, 0u);  // as Linux's rmdir leaves it (fstat shows 0)
  EXPECT_TRUE(sub->is_directory());
  sub->holds--;
  tree.forget_if_unused(sub);
  EXPECT_EQ(allocator.in_use(), baseline);
}

// A file first linked in a directory that is then removed keeps the directory as its parent
// (its path and file system are found through it) until the file goes.
TEST_F(InodeLifetimeTest, AParentStaysForItsChildren) {
  Inode* sub = tree.create(tmp, "sub", kTypeDirectory | 0755).value();
  Inode* a = tree.create(sub, "a", kTypeRegular | 0644).value();
  a->links++;
  ASSERT_TRUE(tree.link(tmp, "b", 1, a).ok());  // a hard link outside
  ASSERT_TRUE(tree.unlink(sub, "a", 1).ok());
  ASSERT_TRUE(tree.unlink(tmp, "sub", 3).ok());  // empty now: removed
  EXPECT_EQ(a->parent, sub);
  EXPECT_EQ(sub->parented, 1u);
  EXPECT_TRUE(sub->is_directory());  // still there for `a`
  unlink("b");                       // `a` goes, and the directory with it
  EXPECT_EQ(allocator.in_use(), baseline);
}

TEST_F(InodeLifetimeTest, ARenamedDirectoryKeepsItsLinks) {
  Inode* sub = tree.create(tmp, "sub", kTypeDirectory | 0755).value();
  Inode* other = tree.create(tree.root(), "other", kTypeDirectory | 0755).value();
  // do_rename: the new name first, then the old one goes.
  sub->links++;
  ASSERT_TRUE(tree.link(other, "moved", 5, sub).ok());
  ASSERT_TRUE(tree.unlink(tmp, "sub", 3).ok());
  EXPECT_EQ(sub->links, 2u);
  EXPECT_EQ(sub->parent, other);
  EXPECT_EQ(tmp->parented, 0u);
  EXPECT_EQ(other->parented, 1u);
  EXPECT_EQ(tree.find(other, "moved", 5), sub);
}

TEST_F(InodeLifetimeTest, BorrowedBytesAreNotFreed) {
  // A file from the initramfs points into the archive until its first write.
  static const uint8_t kArchiveBytes[] = "from the archive";
  Inode* a = tree.create(tmp, "a", kTypeRegular | 0644).value();
  ASSERT_TRUE(tree.set_contents(a, kArchiveBytes, sizeof kArchiveBytes, false).ok());
  size_t with_inode = allocator.in_use();
  unlink("a");
  EXPECT_LT(allocator.in_use(), with_inode);
  EXPECT_EQ(allocator.in_use(), baseline);
}

TEST_F(InodeLifetimeTest, SymlinksGoToo) {
  Inode* link = tree.create(tmp, "l", kTypeSymlink | 0777).value();
  ASSERT_TRUE(tree.set_contents(link, reinterpret_cast<const uint8_t*>("/etc"), 4, true).ok());
  unlink("l");
  EXPECT_EQ(allocator.in_use(), baseline);
}

}  // namespace
}  // namespace posix
