// SPDX-License-Identifier: MIT
// Regular files' bytes in page frames (MAP_SHARED): a window of the server's VSpace per file.
#include "mm/file_pages.hpp"

#include <string.h>

#include "rt/new.hpp"
#include "sys/ipc.hpp"
#include "task/process.hpp"

namespace posix::mm {

namespace {

using platform::kPage;
namespace abi = sonde::abi;

// The files' windows, one after another: those never used yet from `windows_used` on, and the
// ones files gave back (a stack).
constexpr uint64_t kMaxWindows =
    (platform::kFileFramesEnd - platform::kFileFramesBase) / kFileFramesWindow;
uint64_t windows_used = 0;
uint16_t free_windows[kMaxWindows];
uint64_t free_window_count = 0;

// A window's base, or 0 when every one is in use.
uint64_t take_window() {
  if (free_window_count > 0) {
    return platform::kFileFramesBase + free_windows[--free_window_count] * kFileFramesWindow;
  }
  if (windows_used == kMaxWindows) return 0;
  return platform::kFileFramesBase + windows_used++ * kFileFramesWindow;
}

void give_window(uint64_t base) {
  free_windows[free_window_count++] =
      static_cast<uint16_t>((base - platform::kFileFramesBase) / kFileFramesWindow);
}

class Frames final : public FileFrames {
 public:
  explicit Frames(uint64_t base) : base_(base) {}

  uint64_t base() const { return base_; }
  const platform::PageFrame& at(uint64_t index) const { return frames_[index]; }
  uint64_t count() const { return count_; }

  rt::Result<void> reserve(Inode& file, uint64_t size) override {
    TRY(grow(size));
    file.capacity = count_ * kPage;
    return {};
  }

  void release(Inode& file) override {
    for (uint64_t i = 0; i < count_; ++i) {
      (void)sys::invoke(window_caps_[i], abi::Label::kFrameUnmap);
      (void)sys::cnode_delete(sys::kServerSlotCNode, window_caps_[i]);
      platform::free_slot(window_caps_[i]);
      platform::free_page(frames_[i]);  // the file's reference: processes' pages keep theirs
    }
    if (room_ > 0) {
      platform::heap().deallocate(frames_, room_ * sizeof(*frames_));
      platform::heap().deallocate(window_caps_, room_ * sizeof(*window_caps_));
    }
    give_window(base_);
    file.data = nullptr;
    file.capacity = file.size = 0;
    file.owned = false;
    file.frames = nullptr;
    this->~Frames();
    platform::heap().deallocate(this, sizeof(Frames));
  }

  // Frames for at least `size` bytes.
  rt::Result<void> grow(uint64_t size) {
    if (size > kFileFramesWindow) return rt::err(rt::kEFBIG);
    while (count_ * kPage < size) TRY(add_frame());
    return {};
  }

 private:
  // One more frame at the end of the window (zero, as allocate_page makes it).
  rt::Result<void> add_frame() {
    if (count_ == room_) {
      uint64_t room = room_ == 0 ? 16 : room_ * 2;
      auto* frames = static_cast<platform::PageFrame*>(platform::heap().allocate(
          room * sizeof(platform::PageFrame), alignof(platform::PageFrame)));
      auto* caps = static_cast<uint64_t*>(
          platform::heap().allocate(room * sizeof(uint64_t), alignof(uint64_t)));
      if (frames == nullptr || caps == nullptr) {
        if (frames != nullptr) platform::heap().deallocate(frames, room * sizeof(*frames));
        if (caps != nullptr) platform::heap().deallocate(caps, room * sizeof(*caps));
        return rt::err(rt::kENOMEM);
      }
      if (count_ > 0) {
        memcpy(frames, frames_, count_ * sizeof(*frames));
        memcpy(caps, window_caps_, count_ * sizeof(*caps));
        platform::heap().deallocate(frames_, room_ * sizeof(*frames));
        platform::heap().deallocate(window_caps_, room_ * sizeof(*caps));
      }
      frames_ = frames;
      window_caps_ = caps;
      room_ = room;
    }
    platform::PageFrame frame = TRY(platform::allocate_page());
    // The frame is mapped in the server at its index already; a copy of its cap maps it again
    // in the file's window, after the frames before it.
    auto cap = platform::allocate_slot();
    if (!cap.ok()) {
      platform::free_page(frame);
      return cap.error();
    }
    abi::Error e = sys::cnode_copy(sys::kServerSlotCNode, cap.value(), frame.cap);
    if (e == abi::Error::kNone) {
      e = platform::map_frame(cap.value(), sys::kServerSlotVSpace, base_ + count_ * kPage,
                              abi::kMapRead | abi::kMapWrite);
    }
    if (e != abi::Error::kNone) {
      (void)sys::cnode_delete(sys::kServerSlotCNode, cap.value());
      platform::free_slot(cap.value());
      platform::free_page(frame);
      return rt::err(rt::kENOMEM, "mapping a file page in the server failed");
    }
    frames_[count_] = frame;
    window_caps_[count_] = cap.value();
    ++count_;
    return {};
  }

  uint64_t base_;
  platform::PageFrame* frames_ = nullptr;
  uint64_t* window_caps_ = nullptr;  // the cap copy mapping frames_[i] in the window
  uint64_t count_ = 0;
  uint64_t room_ = 0;
};

// The frames of an unnamed shared anonymous inode, made on first touch (zero), and how many
// areas map it.
class AnonFrames final : public FileFrames {
 public:
  AnonFrames(platform::PageFrame* frames, uint64_t count) : frames_(frames), count_(count) {}

  rt::Result<void> reserve(Inode&, uint64_t) override { return rt::err(rt::kEFBIG); }
  // Not reached: shared anonymous inodes are in no tree; release_area_file frees them.
  void release(Inode&) override {}

  rt::Result<platform::PageFrame> at(uint64_t index) {
    if (index >= count_) return rt::err(rt::kEFAULT);
    if (frames_[index].cap == 0) frames_[index] = TRY(platform::allocate_page());
    return frames_[index];
  }

  // Lets every frame go (processes' pages keep theirs) and the array.
  void drop() {
    for (uint64_t i = 0; i < count_; ++i) {
      if (frames_[i].cap != 0) platform::free_page(frames_[i]);
    }
    platform::heap().deallocate(frames_, count_ * sizeof(*frames_));
  }

  uint64_t users = 1;

 private:
  platform::PageFrame* frames_;
  uint64_t count_;
};

// Unnamed shared anonymous inodes carry this bit in their number (no one sees the number:
// /proc/<pid>/maps names them "/dev/zero (deleted)").
constexpr uint64_t kAnonNumber = 1ull << 62;
uint64_t anon_made = 0;

// Moves `file`'s bytes (the initramfs's, or the tree's heap copy) into frames.
rt::Result<Frames*> frames_of(Inode& file) {
  if (file.frames != nullptr) return static_cast<Frames*>(file.frames);
  if (file.size > kFileFramesWindow) return rt::err(rt::kEFBIG);
  void* memory = platform::heap().allocate(sizeof(Frames), alignof(Frames));
  if (memory == nullptr) return rt::err(rt::kENOMEM);
  uint64_t window = take_window();
  if (window == 0) {
    platform::heap().deallocate(memory, sizeof(Frames));
    return rt::err(rt::kENOMEM, "no window left for a file");
  }
  auto* frames = new (memory) Frames(window);
  // GAP: a window whose file failed to move, and the frames added before the failure, are not
  // used again.
  TRY(frames->grow(file.size));
  if (file.size > 0) memcpy(reinterpret_cast<void*>(frames->base()), file.data, file.size);
  // The tree's allocator is the server's heap (main.cpp makes the tree with it).
  if (file.owned && file.data != nullptr) platform::heap().deallocate(file.data, file.capacity);
  file.data = reinterpret_cast<uint8_t*>(frames->base());
  file.capacity = frames->count() * kPage;
  file.owned = true;
  file.frames = frames;
  return frames;
}

}  // namespace

rt::Result<platform::PageFrame> file_frame(Inode& file, uint64_t index) {
  if (is_anon_shared(&file)) return static_cast<AnonFrames*>(file.frames)->at(index);
  Frames* frames = TRY(frames_of(file));
  if (index >= frames->count()) return rt::err(rt::kEFAULT);
  return frames->at(index);
}

bool is_anon_shared(const Inode* file) {
  return file != nullptr && (file->number & kAnonNumber) != 0;
}

rt::Result<Inode*> make_anon_shared(uint64_t length) {
  uint64_t count = (length + kPage - 1) / kPage;
  auto* frames = static_cast<platform::PageFrame*>(
      platform::heap().allocate(count * sizeof(platform::PageFrame), alignof(platform::PageFrame)));
  void* holder = platform::heap().allocate(sizeof(AnonFrames), alignof(AnonFrames));
  void* memory = platform::heap().allocate(sizeof(Inode), alignof(Inode));
  if (frames == nullptr || holder == nullptr || memory == nullptr) {
    if (frames != nullptr) platform::heap().deallocate(frames, count * sizeof(*frames));
    if (holder != nullptr) platform::heap().deallocate(holder, sizeof(AnonFrames));
    if (memory != nullptr) platform::heap().deallocate(memory, sizeof(Inode));
    return rt::err(rt::kENOMEM);
  }
  memset(frames, 0, count * sizeof(*frames));
  auto* inode = new (memory) Inode{};
  inode->number = kAnonNumber | ++anon_made;
  inode->mode = kTypeRegular | 0600;
  inode->links = 0;
  inode->size = count * kPage;
  inode->frames = new (holder) AnonFrames(frames, count);
  return inode;
}

void retain_area_file(Inode* file) {
  if (file == nullptr) return;
  if (is_anon_shared(file)) {
    ++static_cast<AnonFrames*>(file->frames)->users;
  } else {
    ++file->maps;
  }
}

void release_area_file(Inode* file) {
  if (file == nullptr) return;
  if (!is_anon_shared(file)) {
    if (--file->maps == 0) file_tree().forget_if_unused(file);  // an unlinked file's last map
    return;
  }
  auto* frames = static_cast<AnonFrames*>(file->frames);
  if (--frames->users != 0) return;
  frames->drop();
  platform::heap().deallocate(frames, sizeof(AnonFrames));
  platform::heap().deallocate(file, sizeof(Inode));
}

}  // namespace posix::mm
