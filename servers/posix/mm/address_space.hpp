// SPDX-License-Identifier: MIT
// A Linux process's memory: its VSpace, the pages in it (each also mapped in the server, so
// user memory is read and written directly), the areas (VMAs) that may fault pages in, brk.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "platform/kernel.hpp"
#include "rt/result.hpp"

namespace posix {
struct Inode;
}

namespace posix::mm {

// Linux's PROT_* bits.
inline constexpr uint32_t kProtRead = 1;
inline constexpr uint32_t kProtWrite = 2;
inline constexpr uint32_t kProtExec = 4;

inline constexpr uint64_t kUserTop = 0x00007ffffffff000ull;  // Linux's TASK_SIZE, page-aligned
inline constexpr uint64_t kStackTop = kUserTop;
inline constexpr uint64_t kStackSize = 8ull << 20;  // RLIMIT_STACK's default
inline constexpr uint64_t kMmapTop = 0x00007ffff7fff000ull;

struct Page {
  platform::PageFrame frame;  // a page of another server: {0, 0} (not mapped in this one)
  uint64_t mapped_cap;        // the copy of the frame cap mapped in the process
  uint32_t prot;              // the Linux protection (the mapping lacks write while `cow`)
  uint8_t foreign;            // 0: the POSIX server's page; kForeignReadOnly / kForeignWritable
  // Copy-on-write: the frame was shared by fork, so the process maps it without write whatever
  // `prot` says; the first write (the process's fault, or the server's writable_page) copies
  // it, or only restores write when no other address space maps it any more.
  uint8_t cow;
  // A page of a MAP_SHARED file mapping: the file's own frame (mm/file_pages.hpp), shared
  // with the file and every process mapping it, never copy-on-write.
  uint8_t file_shared;
  uint32_t foreign_mapping;  // for a foreign page: its ForeignMapping's index
};
// A page with no access (PROT_NONE) is not mapped in the process at all (a mapping is at least
// readable): its cap stays unmapped until protect() gives it access.
inline bool accessible(uint32_t prot) { return (prot & (kProtRead | kProtWrite | kProtExec)) != 0; }

inline constexpr uint8_t kForeignReadOnly = 1;
inline constexpr uint8_t kForeignWritable = 2;

// Pages another server shares with a process (the trace server's rings and mmapable maps):
// the handle that keeps them alive there, released when the last page of it is unmapped.
struct ForeignMapping {
  uint32_t handle;
  uint64_t instance;
  uint32_t pages;  // 0: the entry is free
};
// The holder of foreign mappings (the trace service): `retain` when another address space
// comes to share one (fork), `release` when one address space's last page of it goes (munmap,
// exit, exec). The holder closes the handle when nothing shares it any more.
void set_foreign_holder(void (*retain)(uint32_t handle, uint64_t instance),
                        void (*release)(uint32_t handle, uint64_t instance));

// Copy-on-write since boot, for /proc/vmstat: pages fork shared instead of copying, pages a
// write copied, pages a write found no longer shared (write given back, nothing copied).
struct CowCounters {
  uint64_t shared;
  uint64_t copied;
  uint64_t reused;
};
const CowCounters& cow_counters();

struct Area {
  uint64_t start, end;
  uint32_t prot;
  // A mapping of a regular file: its pages are the file's from `offset` (at `start`); a page
  // wholly past the end of the file is a SIGBUS. nullptr: demand-zero.
  Inode* file;
  uint64_t offset;
  bool write_denied;  // a shared mapping of a file opened read-only: mprotect(PROT_WRITE) EACCES
  // MAP_PRIVATE (and ELF segments): a touched page maps the file's frame copy-on-write (so it
  // shows the file as it is until the process writes it, as Linux's page cache), a write gives
  // the process a copy of its own.
  bool private_file;
};

class AddressSpace {
 public:
  // The most areas an address space holds (/proc/sys/vm/max_map_count): beyond it mmap,
  // and an mprotect or munmap that would split an area, are ENOMEM, as on Linux. Linux's
  // default is 65530; Sonde's areas are a list that mmap and faults search one by one, so its
  // limit is lower.
  static constexpr size_t kMaxAreas = 4096;

  rt::Result<void> create();
  void destroy();

  uint64_t vspace() const { return vspace_; }
  // The radix of pages (sys::user_page_map's layout): what the trace server walks to read this
  // process's memory in a probe hit.
  const void* page_map() const { return top_; }

  // Areas: pages inside one appear on first touch (demand-zero).
  rt::Result<void> add_area(uint64_t start, uint64_t end, uint32_t prot);
  // An area whose pages are `file`'s from `offset`: MAP_SHARED, or MAP_PRIVATE with
  // `private_file` (copy-on-write from the file's frames, mm/file_pages.hpp).
  rt::Result<void> add_file_area(uint64_t start, uint64_t end, uint32_t prot, Inode* file,
                                 uint64_t offset, bool write_denied, bool private_file = false);
  const Area* find_area(uint64_t address) const;
  // The areas, in no order (/proc/<pid>/maps sorts them).
  size_t area_count() const { return area_count_; }
  const Area& area(size_t index) const { return areas_[index]; }
  // Removes [start, end) from areas and unmaps its pages. ENOMEM (nothing removed) when a hole
  // inside an area would need one area more than kMaxAreas allows.
  [[nodiscard]] rt::Result<void> remove_range(uint64_t start, uint64_t end);
  rt::Result<void> protect(uint64_t start, uint64_t end, uint32_t prot);
  // mremap: [from, from + length), inside one area, to [to, to + new_length) (free): an area
  // with the same protection and backing (a file's at the same offset), the same frames mapped
  // there (a copy-on-write page stays so), then the old range removed, or with `keep_old` only
  // emptied (MREMAP_DONTUNMAP: it refaults). EINVAL for another server's pages, ENOMEM.
  rt::Result<void> move_range(uint64_t from, uint64_t length, uint64_t to, uint64_t new_length,
                              bool keep_old);
  // Makes the area ending at `end` end at `new_end` (mremap growing in place).
  void extend_area(uint64_t end, uint64_t new_end);
  // A free range of `length` bytes below the last one handed out (mmap without a hint).
  uint64_t find_free(uint64_t length);

  // The page at `address` (page-aligned), made and mapped with `prot` if missing. It may be
  // shared copy-on-write with another process: only read it (writable_page to write).
  rt::Result<Page*> ensure_page(uint64_t address, uint32_t prot);
  Page* find_page(uint64_t address) const;
  // The page at `address` made private to this address space, for the server to write into
  // its frame: a frame shared with another process (fork) is copied first, or only made
  // writable again in the process when no other maps it. A missing page inside an area is
  // made (demand-zero); outside every area, and for another server's page, EFAULT. It checks
  // no protection: the caller does (copy_out), or writes as the kernel would (uprobes, exec).
  rt::Result<Page*> writable_page(uint64_t address);
  // writable_page for a write on the process's behalf (copy_out, zero): EFAULT where the
  // process may not write.
  rt::Result<Page*> user_writable_page(uint64_t address);
  // Drops the pages in [start, end) (madvise MADV_DONTNEED): they come back zero on the next
  // touch. Another server's pages stay.
  void discard(uint64_t start, uint64_t end);

  // A page fault at `address` with x86 error code bits `access`: 0 if the access can be
  // retried (a page made, a copy-on-write page copied, a fault another thread already served),
  // else the signal it gets (SIGSEGV; SIGBUS past the end of a shared file).
  int handle_fault(uint64_t address, uint64_t access);
  // `file` shrank to `size` bytes: its pages past the new end leave this address space (the
  // next touch is a SIGBUS).
  void file_shrunk(const Inode* file, uint64_t size);

  // User memory, checked against areas (faulting pages in as the CPU would): EFAULT else.
  rt::Result<void> copy_in(void* to, uint64_t from, size_t length);
  rt::Result<void> copy_out(uint64_t to, const void* from, size_t length);
  // A NUL-terminated string of at most `capacity` bytes (ENAMETOOLONG beyond).
  rt::Result<size_t> copy_string(char* to, uint64_t from, size_t capacity);
  rt::Result<void> zero(uint64_t to, size_t length);

  // Fork: every area into `child`, every page shared with it copy-on-write (the same frame
  // mapped without write in both, until one of them writes); pages of MAP_SHARED files and of
  // other servers (mapped rings) are shared as they are: the child maps the same frames.
  rt::Result<void> fork_into(AddressSpace& child);

  // A new mapping of another server's pages, held by `handle` there; its index.
  rt::Result<uint32_t> add_foreign_mapping(uint32_t handle, uint64_t instance);
  // Maps `frame` (a Frame cap slot the address space then owns) at `address`, replacing what
  // was there, as a page of foreign mapping `mapping`. It is not mapped in the POSIX server:
  // system calls reading or writing it get EFAULT.
  rt::Result<void> map_foreign(uint64_t address, uint64_t frame, uint32_t prot, bool writable,
                               uint32_t mapping);
  // Drops an entry that got no pages (an mmap that failed half way); false if it has some.
  bool drop_empty_foreign_mapping(uint32_t mapping);

  // Linux's RSS and its high-water mark (VmRSS, VmHWM, ru_maxrss): pages mapped in the
  // process, its own, shared by fork, a file's, another server's.
  uint64_t resident_pages() const { return resident_; }
  uint64_t peak_resident_pages() const { return peak_resident_; }
  // Linux's total_vm and its high-water mark (VmSize, VmPeak, /proc/<pid>/stat's vsize): the
  // bytes of the areas.
  uint64_t virtual_bytes() const;
  uint64_t peak_virtual_bytes() const { return peak_virtual_; }

  uint64_t brk_start = 0;
  uint64_t brk = 0;
  uint64_t mmap_top = kMmapTop;
  // The processes using it (Linux's mm_users): more than one after clone(CLONE_VM) without
  // CLONE_THREAD (vfork, posix_spawn) until the child execs or exits. The last one destroys it
  // (task/process.hpp, release_memory).
  uint32_t users = 1;

 private:
  bool access_allowed(uint64_t address, bool write) const;
  // After a read fault on a file's page: the file's pages around it that are not mapped yet
  // (up to Linux's fault_around_bytes, 64 KiB, aligned, inside the area and the file).
  void fault_around(uint64_t address, const Area& area);
  void unmap_page(uint64_t address);
  // Maps `frame` (taking a reference to it) at `address` as a new page; ENOMEM on failure.
  rt::Result<Page*> map_new_page(uint64_t address, const platform::PageFrame& frame, uint32_t prot,
                                 bool cow, bool file_shared);
  // Gives `page` (at `address`, copy-on-write) a frame of its own, or write back when it is the
  // frame's last user.
  rt::Result<void> break_cow(uint64_t address, Page& page);
  // Shares `page` (at `address`, this address space's) with `child` copy-on-write.
  rt::Result<void> share_page_with(uint64_t address, Page& page, AddressSpace& child);

  // Four-level radix map from page address to Page, like the hardware's.
  struct Leaf {
    Page* pages[512];
  };
  struct Node {
    void* next[512];
  };
  Page** slot_for(uint64_t address, bool create) const;
  // Maps cap `cap` at `address` with `prot`, making missing page tables.
  sonde::abi::Error map_cap(uint64_t cap, uint64_t address, uint32_t prot);
  void foreign_page_gone(uint32_t mapping);

  static constexpr size_t kMaxForeign = 32;
  ForeignMapping foreign_[kMaxForeign] = {};

  uint64_t vspace_ = 0;
  Node* top_ = nullptr;
  // Room for `more` areas besides the present ones, growing the list (false: ENOMEM, past
  // kMaxAreas or when the heap refuses).
  bool area_room(size_t more);

  rt::Result<void> copy_foreign(const Page& page, uint64_t offset, void* buffer, size_t length,
                                bool write);

  void page_added() {
    if (++resident_ > peak_resident_) peak_resident_ = resident_;
  }
  void areas_grew() {
    uint64_t bytes = virtual_bytes();
    if (bytes > peak_virtual_) peak_virtual_ = bytes;
  }
  uint64_t resident_ = 0;
  uint64_t peak_resident_ = 0;
  uint64_t peak_virtual_ = 0;

  Area* areas_ = nullptr;  // from the heap, grown as areas are added
  size_t area_capacity_ = 0;
  size_t area_count_ = 0;
  uint64_t tables_[256];  // paging structure caps made for this VSpace
  size_t table_count_ = 0;
};

}  // namespace posix::mm
