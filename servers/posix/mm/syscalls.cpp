// SPDX-License-Identifier: MIT
// Memory system calls: brk, mmap, munmap, mprotect, mremap, madvise, msync.
#include "kernel/syscalls.hpp"

#include <string.h>

#include "kernel/sched_tracepoints.hpp"
#include "mm/file_pages.hpp"
#include "tracing/trace_service.hpp"
#include "tracing/uprobes.hpp"
#include "vfs/file.hpp"

namespace posix {

namespace {

using platform::kPage;

constexpr uint64_t kMapShared = 0x01, kMapPrivate = 0x02, kMapFixed = 0x10;
constexpr uint64_t kMapAnonymous = 0x20, kMapFixedNoReplace = 0x100000;
constexpr uint64_t kKnownFlags = 0x03 | 0x10 | 0x20 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000 |
                                 0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000 | 0x100000 |
                                 0xfc000000;

uint64_t page_up(uint64_t value) { return (value + kPage - 1) & ~(kPage - 1); }

// The pages of private file mappings in [start, end) get the file's bytes, as Linux reads them
// from the file on the first touch: mmap copies them at once, mremap does for the pages a
// mapping grew by and madvise(MADV_DONTNEED) for the pages it dropped. The page holding the end
// of the file is zero past it. GAP: a page wholly past the end of the file is a zero page,
// where Linux's is a SIGBUS.
void fill_private_file_pages(SyscallContext& c, uint64_t start, uint64_t end) {
  mm::AddressSpace& memory = user(c);
  const mm::FileMaps& maps = c.process->file_maps;
  for (uint64_t address = start; address < end;) {
    const mm::FileMapping* map = maps.find(address);
    if (map == nullptr || map->shared || map->inode == nullptr || map->name != nullptr) {
      address = maps.next_boundary(address, end);  // anonymous memory (malloc's) is skipped whole
      continue;
    }
    const mm::Area* area = memory.find_area(address);
    uint64_t at = map->offset + (address - map->start);
    const Inode& inode = *map->inode;
    if (area != nullptr && area->file == nullptr && at < inode.size) {
      auto page = memory.writable_page(address);
      uint64_t available = inode.size - at;
      if (page.ok()) {
        memcpy(reinterpret_cast<void*>(page.value()->frame.server_address), inode.data + at,
               available < kPage ? available : kPage);
      }
    }
    address += kPage;
  }
}

}  // namespace

int64_t sys_brk(SyscallContext& c) {
  mm::AddressSpace& memory = user(c);
  uint64_t wanted = c.arg(0);
  if (wanted < memory.brk_start || wanted > memory.brk_start + (1ull << 30)) return memory.brk;
  uint64_t old_end = page_up(memory.brk), new_end = page_up(wanted);
  if (new_end > old_end) {
    for (uint64_t a = old_end; a < new_end; a += kPage) {
      if (memory.find_area(a) != nullptr) return memory.brk;  // would run into a mapping
    }
    if (!memory.add_area(old_end, new_end, mm::kProtRead | mm::kProtWrite).ok()) {
      return memory.brk;
    }
  } else if (new_end < old_end) {
    if (!memory.remove_range(new_end, old_end).ok()) return memory.brk;
    c.process->file_maps.remove(new_end, old_end);
  }
  memory.brk = wanted;
  return wanted;
}

int64_t sys_mmap(SyscallContext& c) {
  uint64_t hint = c.arg(0), length = c.arg(1), flags = c.arg(3), offset = c.arg(5);
  uint32_t prot = static_cast<uint32_t>(c.arg(2));
  int fd = static_cast<int>(c.arg(4));
  if (length == 0 || (offset & (kPage - 1)) != 0 || (flags & ~kKnownFlags) != 0) {
    return -rt::kEINVAL;
  }
  uint64_t type = flags & 0x03;
  if (type != kMapShared && type != kMapPrivate && type != 0x03) return -rt::kEINVAL;
  if ((prot & ~7u) != 0) return -rt::kEINVAL;
  length = page_up(length);
  if (length == 0 || length > mm::kMmapTop) return -rt::kENOMEM;
  File* file = nullptr;
  if ((flags & kMapAnonymous) == 0) {
    file = fd_file(*c.process->files, fd);
    if (file == nullptr) return -rt::kEBADF;
    if (file->kind == FileKind::kTrace) {
      if ((offset & (kPage - 1)) != 0) return -rt::kEINVAL;
    } else if (file->kind != FileKind::kInode || !file->inode->is_regular()) {
      return -rt::kENODEV;
    }
    if ((file->flags & kO_ACCMODE) == kO_WRONLY) return -rt::kEACCES;
    // A shared writable mapping writes the file: the descriptor must allow writing.
    if (type == kMapShared && (prot & mm::kProtWrite) != 0 &&
        (file->flags & kO_ACCMODE) != kO_RDWR) {
      return -rt::kEACCES;
    }
  }
  // MAP_SHARED of a regular file maps the file's own pages (mm/file_pages.hpp).
  // GAP: MAP_SHARED_VALIDATE (3) is taken as MAP_SHARED without checking the other flags.
  bool file_shared = file != nullptr && file->kind == FileKind::kInode && type != kMapPrivate;
  // MAP_PRIVATE of a file of the tree: its pages come from the file's frames on first touch,
  // copy-on-write (a library mapped by ld.so costs what the program touches, not its size).
  // Another server's files (tracefs) are copied at once.
  bool file_private = file != nullptr && file->kind == FileKind::kInode && type == kMapPrivate &&
                      file->inode->remote == nullptr;
  mm::AddressSpace& memory = user(c);
  uint64_t address;
  if ((flags & (kMapFixed | kMapFixedNoReplace)) != 0) {
    if ((hint & (kPage - 1)) != 0) return -rt::kEINVAL;
    if (hint + length > mm::kUserTop || hint + length < hint) return -rt::kENOMEM;
    if ((flags & kMapFixedNoReplace) != 0) {
      for (uint64_t a = hint; a < hint + length; a += kPage) {
        if (memory.find_area(a) != nullptr) return -rt::kEEXIST;
      }
    }
    if (auto removed = memory.remove_range(hint, hint + length); !removed.ok()) {
      return -removed.error().code;
    }
    c.process->file_maps.remove(hint, hint + length);
    address = hint;
  } else {
    address = memory.find_free(length);
    if (address == 0) return -rt::kENOMEM;
  }
  rt::Result<void> added = {};
  if (file_shared) {
    added = memory.add_file_area(address, address + length, prot, file->inode, offset,
                                 (file->flags & kO_ACCMODE) != kO_RDWR);
  } else if (file_private) {
    added = memory.add_file_area(address, address + length, prot, file->inode, offset, false, true);
  } else if (file == nullptr && type != kMapPrivate) {
    // MAP_SHARED|MAP_ANONYMOUS: Linux's shmem, an unnamed zero file of the mapping's length
    // whose pages the area maps as a shared file's (fork shares them; the last area frees it).
    auto anon = mm::make_anon_shared(length);
    if (!anon.ok()) return -anon.error().code;
    added = memory.add_file_area(address, address + length, prot, anon.value(), 0, false);
    if (!added.ok()) mm::release_area_file(anon.value());
  } else {
    added = memory.add_area(address, address + length, prot);
  }
  if (!added.ok()) return -added.error().code;
  // What /proc/<pid>/maps names it by. GAP: anon_inode mappings show no device or inode.
  bool shared = type != kMapPrivate;
  if (file != nullptr && file->kind == FileKind::kTrace) {
    c.process->file_maps.add(address, address + length, nullptr, offset, shared,
                             file->trace_object == TraceObject::kPerfEvent
                                 ? "anon_inode:[perf_event]"
                                 : "anon_inode:bpf-map");
  } else if (file != nullptr) {
    c.process->file_maps.add(address, address + length, file->inode, offset, shared);
  } else if (shared) {
    c.process->file_maps.add(address, address + length, nullptr, 0, true, "/dev/zero (deleted)");
  } else {
    c.process->file_maps.remove(address, address + length);
  }
  if (file != nullptr && file->kind == FileKind::kTrace) {
    // A ring buffer, perf ring or mmapable map: the trace server's pages, shared.
    int64_t mapped = trace_file_mmap(c, *file, address, length, prot, type != kMapPrivate, offset);
    if (mapped < 0) {
      (void)memory.remove_range(address, address + length);  // the new area, whole
      c.process->file_maps.remove(address, address + length);
      return mapped;
    }
    return static_cast<int64_t>(address);
  }
  if (file_shared || file_private) {
    // Nothing to copy: faults map the file's frames. Moving the bytes into frames now makes
    // ENOMEM and EFBIG mmap's errors rather than a fault's.
    Inode* inode = file->inode;
    uint64_t first = offset / kPage;
    if (offset < inode->size) {
      if (auto frame = mm::file_frame(*inode, first); !frame.ok()) {
        (void)memory.remove_range(address, address + length);  // the new area, whole
        c.process->file_maps.remove(address, address + length);
        return -frame.error().code;
      }
    }
  } else if (file != nullptr) {
    Inode* inode = file->inode;
    for (uint64_t done = 0; done < length && offset + done < inode->size; done += kPage) {
      auto page = memory.writable_page(address + done);
      if (!page.ok()) return -rt::kENOMEM;
      uint64_t available = inode->size - (offset + done);
      memcpy(reinterpret_cast<void*>(page.value()->frame.server_address),
             inode->data + offset + done, available < kPage ? available : kPage);
    }
  }
  if (type == kMapPrivate && file != nullptr && (prot & mm::kProtExec) != 0) {
    uprobes_mapped(c.process);  // a probed library, maybe
    announce_mappings(*c.process, c.thread->tid, address, address + length);  // perf's MMAP2
  }
  return static_cast<int64_t>(address);
}

int64_t sys_munmap(SyscallContext& c) {
  uint64_t address = c.arg(0), length = page_up(c.arg(1));
  if ((address & (kPage - 1)) != 0 || length == 0 || address + length > mm::kUserTop) {
    return -rt::kEINVAL;
  }
  // ENOMEM when a hole inside an area would pass the area limit (Linux's max_map_count).
  if (auto removed = user(c).remove_range(address, address + length); !removed.ok()) {
    return -removed.error().code;
  }
  c.process->file_maps.remove(address, address + length);
  return 0;
}

int64_t sys_mprotect(SyscallContext& c) {
  uint64_t address = c.arg(0), length = page_up(c.arg(1));
  uint32_t prot = static_cast<uint32_t>(c.arg(2));
  if ((address & (kPage - 1)) != 0 || (prot & ~7u) != 0) return -rt::kEINVAL;
  if (length == 0) return 0;
  int64_t result = to_rax(user(c).protect(address, address + length, prot));
  if (result == 0 && (prot & mm::kProtExec) != 0) uprobes_mapped(c.process);
  return result;
}

int64_t sys_mremap(SyscallContext& c) {
  constexpr uint64_t kMayMove = 1, kFixed = 2, kDontUnmap = 4;
  uint64_t old_address = c.arg(0), old_size = page_up(c.arg(1)), new_size = page_up(c.arg(2));
  uint64_t flags = c.arg(3), new_address = c.arg(4);
  if ((old_address & (kPage - 1)) != 0 || (flags & ~(kMayMove | kFixed | kDontUnmap)) != 0) {
    return -rt::kEINVAL;
  }
  if ((flags & (kFixed | kDontUnmap)) != 0 && (flags & kMayMove) == 0) return -rt::kEINVAL;
  if ((flags & kDontUnmap) != 0 && old_size != new_size) return -rt::kEINVAL;
  if (c.arg(2) == 0 || new_size == 0) return -rt::kEINVAL;
  if (old_address + old_size < old_address || old_address + old_size > mm::kUserTop) {
    return -rt::kEFAULT;
  }
  if (new_size > mm::kMmapTop) return -rt::kENOMEM;
  mm::AddressSpace& memory = user(c);
  mm::FileMaps& maps = c.process->file_maps;
  // As Linux's: the range to move must lie in one mapping (EFAULT), checked after the target
  // (MREMAP_FIXED) is cleared, and not at all for a shrink in place (the tail is unmapped).
  // old_size 0 asks for a second mapping of the same pages (Linux's "duplicate shm area"): a
  // shared mapping's (a file's or shared anonymous memory's); a private one has none to share
  // (EINVAL).
  const mm::Area* area = nullptr;
  bool named = false;
  mm::FileMapping record = {};  // what /proc/<pid>/maps names the old range by
  auto look_up = [&]() -> int {
    area = memory.find_area(old_address);
    if (area == nullptr || old_address + old_size > area->end) return rt::kEFAULT;
    if (old_size == 0 && (area->file == nullptr || area->private_file)) return rt::kEINVAL;
    const mm::FileMapping* found = maps.find(old_address);
    named = found != nullptr;
    if (named) record = *found;
    return 0;
  };
  auto name_range = [&](uint64_t start, uint64_t end, uint64_t at) {
    if (!named) {
      maps.remove(start, end);
      return;
    }
    maps.add(start, end, record.inode, record.offset + (at - record.start), record.shared,
             record.name);
  };
  uint64_t target;
  if ((flags & kFixed) != 0) {
    if ((new_address & (kPage - 1)) != 0) return -rt::kEINVAL;
    if (new_address + new_size < new_address || new_address + new_size > mm::kUserTop) {
      return -rt::kEINVAL;
    }
    if (new_address < old_address + old_size && old_address < new_address + new_size) {
      return -rt::kEINVAL;
    }
    if (auto removed = memory.remove_range(new_address, new_address + new_size); !removed.ok()) {
      return -removed.error().code;
    }
    maps.remove(new_address, new_address + new_size);
    if (int error = look_up(); error != 0) return -error;
    target = new_address;
  } else {
    if (new_size <= old_size && (flags & kDontUnmap) == 0) {
      // Shrinking (or the same size): the tail goes, the mapping stays where it is.
      if (auto removed = memory.remove_range(old_address + new_size, old_address + old_size);
          !removed.ok()) {
        return -removed.error().code;
      }
      maps.remove(old_address + new_size, old_address + old_size);
      return static_cast<int64_t>(old_address);
    }
    if (int error = look_up(); error != 0) return -error;
    bool room = (flags & kDontUnmap) == 0 && old_address + old_size == area->end &&
                old_address + new_size <= mm::kUserTop;
    for (uint64_t a = old_address + old_size; room && a < old_address + new_size; a += kPage) {
      if (memory.find_area(a) != nullptr) room = false;
    }
    if (room) {
      // Growing in place: the area reaches further (a file's pages past the end of the file
      // are SIGBUS on touch, as a shared anonymous mapping's past its length).
      memory.extend_area(old_address + old_size, old_address + new_size);
      name_range(old_address + old_size, old_address + new_size, old_address + old_size);
      fill_private_file_pages(c, old_address + old_size, old_address + new_size);
      return static_cast<int64_t>(old_address);
    }
    if ((flags & kMayMove) == 0) return -rt::kENOMEM;
    target = memory.find_free(new_size);
    if (target == 0) return -rt::kENOMEM;
  }
  // A duplicate (old_size 0) is a move of nothing that keeps the old mapping.
  bool keep_old = (flags & kDontUnmap) != 0 || old_size == 0;
  int64_t moved = to_rax(memory.move_range(old_address, old_size, target, new_size, keep_old));
  if (moved != 0) return moved;
  if (!keep_old) maps.remove(old_address, old_address + old_size);
  name_range(target, target + new_size, old_address);
  if (new_size > old_size) fill_private_file_pages(c, target + old_size, target + new_size);
  if ((flags & kDontUnmap) != 0) fill_private_file_pages(c, old_address, old_address + old_size);
  return static_cast<int64_t>(target);
}

int64_t sys_madvise(SyscallContext& c) {
  constexpr uint64_t kDontNeed = 4;
  uint64_t address = c.arg(0), length = page_up(c.arg(1));
  if ((address & (kPage - 1)) != 0) return -rt::kEINVAL;
  // The pages go (a page shared copy-on-write is only let go); they come back zero on the next
  // touch, a private file mapping's with the file's bytes.
  if (c.arg(2) == kDontNeed) {
    user(c).discard(address, address + length);
    fill_private_file_pages(c, address, address + length);
  }
  return 0;
}

int64_t sys_msync(SyscallContext& c) {
  constexpr uint64_t kMsAsync = 1, kMsInvalidate = 2, kMsSync = 4;
  uint64_t address = c.arg(0), length = page_up(c.arg(1)), flags = c.arg(2);
  if ((address & (kPage - 1)) != 0 || (flags & ~(kMsAsync | kMsInvalidate | kMsSync)) != 0 ||
      (flags & (kMsAsync | kMsSync)) == (kMsAsync | kMsSync)) {
    return -rt::kEINVAL;
  }
  if (address + length < address || address + length > mm::kUserTop) return -rt::kENOMEM;
  // Shared file mappings are the file's pages, in memory as the file is: nothing to write back.
  // A hole in the range is ENOMEM, as Linux's.
  for (uint64_t a = address; a < address + length; a += kPage) {
    if (user(c).find_area(a) == nullptr) return -rt::kENOMEM;
  }
  return 0;
}

}  // namespace posix
