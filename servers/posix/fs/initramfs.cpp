// SPDX-License-Identifier: MIT
// cpio newc parsing and unpacking into the file tree.
#include "fs/initramfs.hpp"

#include <string.h>

namespace posix {

using rt::err;

namespace {

constexpr size_t kHeaderSize = 110;  // "070701" and 13 eight-digit hex fields

bool hex_field(const uint8_t* at, uint32_t& out) {
  uint32_t value = 0;
  for (int i = 0; i < 8; ++i) {
    uint8_t c = at[i];
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    value = (value << 4) | digit;
  }
  out = value;
  return true;
}

size_t align4(size_t value) { return (value + 3) & ~static_cast<size_t>(3); }

}  // namespace

rt::Result<void> parse_cpio(const uint8_t* archive, size_t size, CpioVisitor visit, void* state) {
  size_t at = 0;
  for (;;) {
    if (at > size || size - at < kHeaderSize) return err(rt::kEINVAL, "cpio: truncated header");
    const uint8_t* h = archive + at;
    if (memcmp(h, "070701", 6) != 0 && memcmp(h, "070702", 6) != 0) {
      return err(rt::kEINVAL, "cpio: not a newc header");
    }
    uint32_t field[13];
    for (int i = 0; i < 13; ++i) {
      if (!hex_field(h + 6 + 8 * i, field[i])) return err(rt::kEINVAL, "cpio: bad hex field");
    }
    // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
    // namesize, check
    uint32_t name_size = field[11];
    uint32_t file_size = field[6];
    if (name_size == 0 || name_size > kPathMax) return err(rt::kEINVAL, "cpio: bad name size");
    size_t name_at = at + kHeaderSize;
    if (size - name_at < name_size) return err(rt::kEINVAL, "cpio: truncated name");
    const char* name = reinterpret_cast<const char*>(archive + name_at);
    if (name[name_size - 1] != '\0') return err(rt::kEINVAL, "cpio: name not terminated");
    size_t data_at = align4(name_at + name_size);
    if (data_at > size || size - data_at < file_size) {
      return err(rt::kEINVAL, "cpio: truncated data");
    }
    if (strcmp(name, "TRAILER!!!") == 0) return {};
    CpioEntry entry{name,     name_size - 1, field[1],  field[2],          field[3], field[4],
                    field[5], field[9],      field[10], archive + data_at, file_size};
    TRY(visit(state, entry));
    at = align4(data_at + file_size);
    if (at >= size) return err(rt::kEINVAL, "cpio: no trailer");
  }
}

namespace {

struct Unpacker {
  FileTree* tree;
  size_t count;
};

rt::Result<void> unpack_entry(void* state, const CpioEntry& entry) {
  auto* unpacker = static_cast<Unpacker*>(state);
  FileTree& tree = *unpacker->tree;
  const char* name = entry.name;
  while (*name == '/') ++name;
  if (name[0] == '\0' || strcmp(name, ".") == 0) return {};
  uint32_t type = entry.mode & kTypeMask;
  if (type != kTypeDirectory && type != kTypeRegular && type != kTypeSymlink &&
      type != kTypeCharDevice && type != kTypeFifo) {
    return {};  // GAP: sockets and block devices in the archive are skipped
  }
  auto made = tree.create(tree.root(), name, entry.mode);
  Inode* inode;
  if (!made.ok()) {
    if (made.error().code != rt::kEEXIST || type != kTypeDirectory) return made.error();
    auto found = lookup(tree, tree.root(), name, 0);
    if (!found.ok()) return found.error();
    inode = found.value().inode;
    inode->mode = entry.mode;
  } else {
    inode = made.value();
  }
  inode->uid = entry.uid;
  inode->gid = entry.gid;
  inode->mtime_seconds = static_cast<int64_t>(entry.mtime);
  inode->device = (entry.device_major << 8) | entry.device_minor;
  if (type == kTypeRegular || type == kTypeSymlink) {
    TRY(tree.set_contents(inode, entry.data, entry.size, type == kTypeSymlink));
  }
  unpacker->count++;
  return {};
}

}  // namespace

rt::Result<size_t> unpack_initramfs(FileTree& tree, const uint8_t* archive, size_t size) {
  Unpacker unpacker{&tree, 0};
  TRY(parse_cpio(archive, size, unpack_entry, &unpacker));
  return unpacker.count;
}

}  // namespace posix
