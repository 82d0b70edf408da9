// SPDX-License-Identifier: MIT
// procfs: the process table and system state as files, in Linux's formats.
#include "fs/procfs.hpp"

#include <stdarg.h>
#include <string.h>

#include "kernel/syscalls.hpp"
#include "platform/kernel.hpp"
#include "rt/format.hpp"
#include "sys/clock.hpp"
#include "task/loadavg.hpp"
#include "tracing/trace_service.hpp"
#include "tty/console.hpp"
#include "vfs/eventfd.hpp"
#include "vfs/file.hpp"
#include "vfs/mount.hpp"

namespace posix {

namespace {

constexpr size_t kText = 8192;
char text[kText];
// /proc/sonde/trace-server's inode number (numbers are never reused; the inode may go).
uint64_t trace_server_control = 0;

Inode* proc_root(FileTree& tree) { return tree.find(tree.root(), "proc", 4); }

Inode* child(FileTree& tree, Inode* directory, const char* name, uint32_t mode) {
  Inode* found = tree.find(directory, name, strlen(name));
  if (found != nullptr) return found;
  auto made = tree.make_inode(mode);
  if (!made.ok()) return nullptr;
  if (made.value()->is_directory()) made.value()->links = 2;
  if (!tree.link(directory, name, strlen(name), made.value()).ok()) return nullptr;
  return made.value();
}

void put(FileTree& tree, Inode* directory, const char* name, const char* data, size_t length,
         uint32_t mode = kTypeRegular | 0444) {
  Inode* file = child(tree, directory, name, mode);
  if (file == nullptr) return;
  file->mode = mode;
  (void)tree.set_contents(file, reinterpret_cast<const uint8_t*>(data), length, true);
}

void put_text(FileTree& tree, Inode* directory, const char* name, const char* format, ...)
    __attribute__((format(printf, 4, 5)));
void put_text(FileTree& tree, Inode* directory, const char* name, const char* format, ...) {
  struct Sink {
    size_t used;
  } sink{0};
  va_list arguments;
  va_start(arguments, format);
  rt::vformat(
      [](void* state, char c) {
        auto* s = static_cast<Sink*>(state);
        if (s->used < kText - 1) text[s->used++] = c;
      },
      &sink, format, arguments);
  va_end(arguments);
  put(tree, directory, name, text, sink.used);
}

char state_of(const Process* p) {
  if (p->state == ProcessState::kZombie) return 'Z';
  if (p->stopped) return 'T';
  // Running while one of its threads is not waiting in a system call.
  for (const Thread* t = p->threads; t != nullptr; t = t->next) {
    if (!t->blocked) return 'R';
  }
  return 'S';
}

int thread_count(const Process* p) {
  int count = 0;
  for (const Thread* t = p->threads; t != nullptr; t = t->next) ++count;
  return count;
}

// What /proc/<pid>/fd/N names, as Linux's readlink shows it.
size_t fd_link(FileTree& tree, const File& file, char* out, size_t capacity) {
  if (file.kind == FileKind::kTrace) {
    const char* names[] = {"bpf-map", "bpf-prog", "bpf_link", "btf", "[perf_event]", "bpf-stats"};
    return rt::format_to(out, capacity, "anon_inode:%s",
                         names[static_cast<int>(file.trace_object)]);
  }
  if (file.kind == FileKind::kEpoll) return rt::format_to(out, capacity, "anon_inode:[eventpoll]");
  if (file.kind == FileKind::kEventFd) return rt::format_to(out, capacity, "anon_inode:[eventfd]");
  if ((file.kind == FileKind::kPipeRead || file.kind == FileKind::kPipeWrite) &&
      file.pipe->fifo == nullptr) {
    // One number per pipe, both ends alike (Linux's pipefs inode number); a FIFO's ends show
    // its path (below).
    uint64_t number = (reinterpret_cast<uintptr_t>(file.pipe) >> 4) % 1000000 + 1000;
    return rt::format_to(out, capacity, "pipe:[%lu]", number);
  }
  if (file.inode == nullptr) return rt::format_to(out, capacity, "/dev/console");
  size_t length = tree.path_of(file.inode, out, capacity);
  return length != 0 ? length : rt::format_to(out, capacity, "(deleted)");
}

// What /proc/<pid>/fdinfo/N shows: the position and open flags (octal, O_CLOEXEC included;
// open's O_CREAT, O_EXCL, O_NOCTTY and O_TRUNC gone, as Linux's f_flags), the inode number
// (0 for anonymous ones), then a BPF object's own lines as the trace server prints them
// (Linux's show_fdinfo of map, program, link and BTF files: memlock and frozen, which bpftool
// shows). GAP: no mnt_id line (Sonde's mounts have no ids).
size_t fd_info(const Process& p, const File& file, bool close_on_exec, char* out, size_t capacity) {
  constexpr uint32_t kOpenOnly = kO_CREAT | kO_EXCL | kO_NOCTTY | kO_TRUNC | kO_CLOEXEC;
  uint32_t flags = (file.flags & ~kOpenOnly) | (close_on_exec ? kO_CLOEXEC : 0);
  char octal[16];
  int digits = 0;
  do {
    octal[digits++] = static_cast<char>('0' + (flags & 7));
    flags >>= 3;
  } while (flags != 0);
  char flag_text[17];
  size_t at = 0;
  flag_text[at++] = '0';  // Linux's "0%o"
  while (digits > 0) flag_text[at++] = octal[--digits];
  flag_text[at] = '\0';
  uint64_t number = file.kind == FileKind::kInode && file.inode != nullptr ? file.inode->number : 0;
  size_t used = rt::format_to(out, capacity, "pos:\t%lu\nflags:\t%s\nino:\t%lu\n",
                              file.kind == FileKind::kInode ? file.position : 0, flag_text, number);
  if (file.kind == FileKind::kTrace && used < capacity) {
    used += trace_fdinfo(p, file, out + used, capacity - used);
  }
  if (file.kind == FileKind::kEventFd && used < capacity) {
    used += eventfd_fdinfo(file, out + used, capacity - used);
  }
  return used;
}

// exe and fd/: symlinks to what Linux's show. GAP: plain symlinks, not Linux's magic links
// (following one of an anon inode or a pipe does not reach the open file).
void refresh_links(FileTree& tree, Inode* directory, Process* p) {
  char target[512];
  if (p->exe != nullptr) {
    size_t length = tree.path_of(p->exe, target, sizeof(target));
    if (length != 0) put(tree, directory, "exe", target, length, kTypeSymlink | 0777);
  }
  // cwd and root (lsof lists them): the working directory, and `/` (no chroot).
  if (p->cwd != nullptr && p->state != ProcessState::kZombie) {
    size_t length = tree.path_of(p->cwd, target, sizeof(target));
    if (length != 0) put(tree, directory, "cwd", target, length, kTypeSymlink | 0777);
    put(tree, directory, "root", "/", 1, kTypeSymlink | 0777);
  }
  Inode* fds = child(tree, directory, "fd", kTypeDirectory | 0500);
  if (fds == nullptr) return;
  while (fds->entries != nullptr) {
    DirectoryEntry* e = fds->entries;
    (void)tree.unlink(fds, e->name, strlen(e->name));
  }
  Inode* infos = child(tree, directory, "fdinfo", kTypeDirectory | 0500);
  if (infos == nullptr) return;
  while (infos->entries != nullptr) {
    DirectoryEntry* e = infos->entries;
    (void)tree.unlink(infos, e->name, strlen(e->name));
  }
  if (p->files == nullptr || p->state == ProcessState::kZombie) return;
  for (int fd = 0; fd < p->files->end; ++fd) {
    const File* file = p->files->files[fd];
    if (file == nullptr) continue;
    char name[16];
    rt::format_to(name, sizeof(name), "%d", fd);
    size_t length = fd_link(tree, *file, target, sizeof(target));
    put(tree, fds, name, target, length, kTypeSymlink | 0700);
    length = fd_info(*p, *file, p->files->close_on_exec[fd], target, sizeof(target));
    put(tree, infos, name, target, length, kTypeRegular | 0400);
  }
}

// /proc/<pid>/maps: one line per mapping in address order, as Linux's show_map_vma prints it.
// Areas are cut where what they map changes (a file's pages, the heap's start) and joined
// where it does not (Linux's merged anonymous VMAs).
constexpr size_t kMapsText = 16384;
char maps_text[kMapsText];

struct MapPiece {
  uint64_t start, end;
  uint32_t prot;
  const Inode* inode;
  uint64_t offset;
  const char* name;  // [heap], [stack], an anonymous mapping's name; nullptr: none
  bool shared;
  const mm::FileMapping* record;  // what it came from (nullptr: plain anonymous memory)
};

size_t map_line(FileTree& tree, const MapPiece& piece, char* out, size_t capacity) {
  unsigned minor = 0;
  uint64_t number = 0;
  if (piece.inode != nullptr) {
    minor = 1;  // the tree's st_dev (00:01)
    number = piece.inode->number;
  }
  size_t used = rt::format_to(out, capacity, "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ",
                              piece.start, piece.end, (piece.prot & mm::kProtRead) ? 'r' : '-',
                              (piece.prot & mm::kProtWrite) ? 'w' : '-',
                              (piece.prot & mm::kProtExec) ? 'x' : '-', piece.shared ? 's' : 'p',
                              piece.offset, 0u, minor, number);
  char path[512];
  const char* name = piece.name;
  if (piece.inode != nullptr) {
    size_t length = tree.path_of(piece.inode, path, sizeof(path));
    name = length != 0 ? path : "(deleted)";
  }
  if (name != nullptr) {
    // The path starts in column 74: the line is padded to 72 characters, then one space.
    while (used < 72 && used + 1 < capacity) out[used++] = ' ';
    used += rt::format_to(out + used, capacity - used, " %s", name);
  }
  if (used + 1 < capacity) out[used++] = '\n';
  return used;
}

size_t render_maps(FileTree& tree, const Process& p, char* out, size_t capacity) {
  const mm::AddressSpace& memory = *p.memory;
  const mm::FileMaps& maps = p.file_maps;
  uint64_t heap_start = memory.brk_start;
  uint64_t heap_end = (memory.brk + platform::kPage - 1) & ~(platform::kPage - 1);
  uint64_t stack = p.linux_mm.start_stack;
  size_t used = 0;
  MapPiece pending{};
  bool have = false;
  auto flush = [&] {
    if (have && used + 1024 < capacity)
      used += map_line(tree, pending, out + used, capacity - used);
    have = false;
  };
  uint64_t cursor = 0;
  for (;;) {
    const mm::Area* next = nullptr;
    for (size_t i = 0; i < memory.area_count(); ++i) {
      const mm::Area& a = memory.area(i);
      if (a.start >= cursor && (next == nullptr || a.start < next->start)) next = &a;
    }
    if (next == nullptr) break;
    for (uint64_t at = next->start; at < next->end;) {
      uint64_t end = maps.next_boundary(at, next->end);
      if (heap_start > at && heap_start < end) end = heap_start;
      if (heap_end > at && heap_end < end) end = heap_end;
      MapPiece piece{at, end, next->prot, nullptr, 0, nullptr, false, nullptr};
      if (const mm::FileMapping* m = maps.find(at); m != nullptr) {
        piece.record = m;
        piece.inode = m->inode;
        piece.offset = m->offset + (at - m->start);
        piece.name = m->name;
        piece.shared = m->shared;
      } else if (at >= heap_start && at < heap_end) {
        piece.name = "[heap]";
      } else if (stack >= at && stack <= end) {
        piece.name = "[stack]";
      }
      // Pieces of one mapping join again (Linux merges what mprotect split back), and plain
      // anonymous memory with its neighbour; separate mappings of a file stay apart (Linux's
      // VMAs of two segments differ in flags: the written, RELRO part of a data segment is
      // not merged into the read-only segment before it).
      bool joins = have && pending.end == at && pending.prot == piece.prot &&
                   pending.record == piece.record && pending.name == piece.name;
      if (joins) {
        pending.end = end;
      } else {
        flush();
        pending = piece;
        have = true;
      }
      at = end;
    }
    cursor = next->end;
  }
  flush();
  return used;
}

// /proc/<pid>/environ: the bytes between env_start and env_end of its memory, as Linux reads
// them (what the process wrote over its initial environment shows).
void refresh_environ(FileTree& tree, Inode* directory, Process* p) {
  uint64_t start = p->linux_mm.env_start, end = p->linux_mm.env_end;
  size_t length = end > start ? end - start : 0;
  if (p->state == ProcessState::kZombie || p->memory == nullptr) length = 0;
  char* bytes = nullptr;
  if (length != 0) {
    bytes = static_cast<char*>(platform::heap().allocate(length, 16));
    if (bytes == nullptr || !p->memory->copy_in(bytes, start, length).ok()) length = 0;
  }
  put(tree, directory, "environ", bytes, length, kTypeRegular | 0400);
  if (bytes != nullptr) platform::heap().deallocate(bytes, end - start);
}

// The owner of /proc/<pid> and what is in it (Linux's task_dump_owner): the process's
// effective ids, but for files and directories other than world-readable, searchable ones
// (r-xr-xr-x: /proc/<pid> itself), root's while the process is not dumpable.
void set_owner(Inode* inode, const Process& p) {
  bool effective = p.dumpable || inode->mode == (kTypeDirectory | 0555);
  inode->uid = effective ? p.credentials.euid : 0;
  inode->gid = effective ? p.credentials.egid : 0;
  if (!inode->is_directory()) return;
  for (DirectoryEntry* e = inode->entries; e != nullptr; e = e->next) {
    if (e->inode != nullptr) set_owner(e->inode, p);
  }
}

// A task's stat, status and comm, for its process's directory (`thread` nullptr: the process,
// its leader's tid) or its own under task/ (Linux's per-thread files: its tid as Pid, its own
// faults and CPU times; the rest the group's).
void put_task_files(FileTree& tree, Inode* directory, Process* p, const Thread* thread) {
  int tid = thread != nullptr ? thread->tid : p->pid;
  uint64_t ticks = p->start_ns / 10000000;
  // The memory layout fields (startcode, endcode, startstack; start_data to env_end) as Linux
  // shows them to a viewer allowed to ptrace (root): 0 once there is no mm (a zombie).
  bool has_mm = p->state != ProcessState::kZombie && p->memory != nullptr;
  const mm_struct empty{};
  const mm_struct& m = has_mm ? p->linux_mm : empty;
  // vsize in bytes and rss in pages (Linux's total_vm and get_mm_rss), 0 without an mm.
  uint64_t vsize = has_mm ? p->memory->virtual_bytes() : 0;
  uint64_t pages = has_mm ? p->memory->resident_pages() : 0;
  // minflt, cminflt; utime, stime, cutime, cstime: clock ticks of the split CPU times
  // (usage.hpp).
  TaskUsage usage = thread != nullptr ? thread_usage(*thread) : process_usage(*p);
  CpuSplit self = split_cpu_time(usage);
  CpuSplit children = split_cpu_time(p->children_usage);
  put_text(tree, directory, "stat",
           "%d (%s) %c %d %d %d 0 %d 0 %lu %lu 0 0 %lu %lu %lu %lu %d %d %d 0 %lu %lu %lu "
           "18446744073709551615 "
           "%lu %lu %lu 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 %lu %lu %lu %lu %lu %lu %lu %d\n",
           tid, p->comm, state_of(p), p->ppid, p->pgid, p->sid, tty::foreground_group(),
           usage.minor_faults, p->children_usage.minor_faults, clock_ticks(self.user_ns),
           clock_ticks(self.system_ns), clock_ticks(children.user_ns),
           clock_ticks(children.system_ns), 20 + p->nice, p->nice,
           p->state == ProcessState::kZombie ? 1 : thread_count(p), ticks, vsize, pages,
           m.start_code, m.end_code, m.start_stack, m.start_data, m.end_data, m.start_brk,
           m.arg_start, m.arg_end, m.env_start, m.env_end,
           p->state == ProcessState::kZombie ? p->wait_status : 0);
  char umask[5] = {'0', static_cast<char>('0' + ((p->umask >> 6) & 7)),
                   static_cast<char>('0' + ((p->umask >> 3) & 7)),
                   static_cast<char>('0' + (p->umask & 7)), '\0'};  // the formatter has no %o
  const Credentials& ids = p->credentials;
  // Groups: each supplementary group and a space after the last (Linux's trailing space).
  char groups[Credentials::kGroupsMax * 11 + 2];
  size_t used = 0;
  for (uint32_t i = 0; i < ids.group_count; ++i) {
    used +=
        rt::format_to(groups + used, sizeof(groups) - used, i == 0 ? "%u" : " %u", ids.groups[i]);
  }
  rt::format_to(groups + used, sizeof(groups) - used, " ");
  const Thread* mask_of = thread != nullptr ? thread : p->threads;
  // Linux's memory lines (task_mem) while there is an mm, in KiB: the areas' size and its
  // high-water mark, the resident set and its high-water mark.
  char memory[128] = "";
  if (has_mm) {
    rt::format_to(memory, sizeof memory,
                  "VmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmHWM:\t%8lu kB\nVmRSS:\t%8lu kB\n",
                  p->memory->peak_virtual_bytes() / 1024, vsize / 1024,
                  p->memory->peak_resident_pages() * 4, pages * 4);
  }
  put_text(tree, directory, "status",
           "Name:\t%s\nUmask:\t%s\nState:\t%c\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\n"
           "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nGroups:\t%s\n%sThreads:\t%d\n"
           "SigBlk:\t%016lx\n",
           p->comm, umask, state_of(p), p->pid, tid, p->ppid, ids.uid, ids.euid, ids.suid,
           ids.fsuid, ids.gid, ids.egid, ids.sgid, ids.fsgid, groups, memory, thread_count(p),
           mask_of != nullptr ? mask_of->signal_mask : 0);
  put_text(tree, directory, "comm", "%s\n", p->comm);
}

// Every entry under `directory`, and theirs (task/<tid>/, fd/), out of the tree.
void remove_entries(FileTree& tree, Inode* directory) {
  while (directory->entries != nullptr) {
    DirectoryEntry* e = directory->entries;
    if (e->inode->is_directory()) remove_entries(tree, e->inode);
    (void)tree.unlink(directory, e->name, strlen(e->name));
  }
}

// /proc/<pid>/task/<tid>/ of each thread (perf and ps list a process's threads there); the
// directories of threads that ended go.
void refresh_tasks(FileTree& tree, Inode* directory, Process* p) {
  Inode* tasks = child(tree, directory, "task", kTypeDirectory | 0555);
  if (tasks == nullptr) return;
  for (DirectoryEntry* e = tasks->entries; e != nullptr;) {
    DirectoryEntry* next = e->next;
    int tid = 0;
    for (const char* c = e->name; *c != '\0'; ++c) tid = tid * 10 + (*c - '0');
    Thread* t = find_thread(tid);
    if (t == nullptr || t->process != p || p->state == ProcessState::kZombie) {
      remove_entries(tree, e->inode);
      (void)tree.unlink(tasks, e->name, strlen(e->name));
    }
    e = next;
  }
  if (p->state == ProcessState::kZombie) return;
  for (Thread* t = p->threads; t != nullptr; t = t->next) {
    char name[16];
    rt::format_to(name, sizeof(name), "%d", t->tid);
    Inode* task = child(tree, tasks, name, kTypeDirectory | 0555);
    if (task == nullptr) continue;
    put_task_files(tree, task, p, t);  // (refresh_process's set_owner reaches them)
  }
}

// Whether `part` (a name in a process's directory, `length` bytes; nullptr: all of them) is one
// of `names`.
template <size_t N>
bool wants(const char* part, size_t length, const char* const (&names)[N]) {
  if (part == nullptr) return true;
  for (const char* name : names) {
    if (strlen(name) == length && memcmp(name, part, length) == 0) return true;
  }
  return false;
}

// /proc/<pid>/ of `p`: every file, or those a lookup of `part` (the name after the pid) needs.
void refresh_process(FileTree& tree, Inode* proc, Process* p, const char* part = nullptr,
                     size_t length = 0) {
  char name[16];
  rt::format_to(name, sizeof(name), "%d", p->pid);
  Inode* directory = child(tree, proc, name, kTypeDirectory | 0555);
  if (directory == nullptr) return;
  if (!wants(part, length,
             {"stat", "status", "comm", "task", "cmdline", "exe", "cwd", "root", "fd", "fdinfo",
              "environ", "mounts", "mountinfo", "maps"})) {
    part = nullptr;  // the directory itself, or a name it has not: all of it
  }
  bool has_mm = p->state != ProcessState::kZombie && p->memory != nullptr;
  if (wants(part, length, {"stat", "status", "comm"})) put_task_files(tree, directory, p, nullptr);
  if (wants(part, length, {"task"})) refresh_tasks(tree, directory, p);
  if (wants(part, length, {"cmdline"})) {
    put(tree, directory, "cmdline", p->cmdline,
        p->state == ProcessState::kZombie ? 0 : p->cmdline_length);
  }
  if (wants(part, length, {"exe", "cwd", "root", "fd", "fdinfo"}))
    refresh_links(tree, directory, p);
  if (wants(part, length, {"environ"})) refresh_environ(tree, directory, p);
  if (wants(part, length, {"mounts", "mountinfo"})) {
    put(tree, directory, "mounts", text, format_mounts(text, kText));  // one mount namespace
    put(tree, directory, "mountinfo", text, format_mountinfo(text, kText));
  }
  if (wants(part, length, {"maps"})) {
    size_t maps_length = has_mm ? render_maps(tree, *p, maps_text, kMapsText) : 0;
    put(tree, directory, "maps", maps_text, maps_length);
  }
  set_owner(directory, *p);
}

// /proc/stat as Linux's show_stat lays it out, in USER_HZ ticks: each CPU's user and system time
// (what its tasks used, served calls as system time) and idle time (the rest of the uptime; a
// server's work for no task counts as idle), the rest of Linux's columns 0 (no nice, iowait,
// interrupts, steal or guests); the voluntary switches of every task, the boot time, the tasks
// made since boot. The idle time of all CPUs, for /proc/uptime.
uint64_t put_stat(FileTree& tree, Inode* proc, uint64_t now_ns) {
  CpuUse use[kMaxStatCpus];
  uint64_t switches = 0;
  cpu_use(use, switches);
  uint32_t cpus = platform::cpu_count() < kMaxStatCpus ? platform::cpu_count() : kMaxStatCpus;
  CpuUse all{0, 0};
  uint64_t idle[kMaxStatCpus], all_idle = 0;
  for (uint32_t cpu = 0; cpu < cpus; ++cpu) {
    uint64_t busy = use[cpu].user_ns + use[cpu].system_ns;
    idle[cpu] = busy < now_ns ? now_ns - busy : 0;
    all.user_ns += use[cpu].user_ns;
    all.system_ns += use[cpu].system_ns;
    all_idle += idle[cpu];
  }
  size_t used = 0;
  auto line = [&](const char* name, const CpuUse& times, uint64_t idle_ns) {
    used += rt::format_to(text + used, kText - used, "%s %lu 0 %lu %lu 0 0 0 0 0 0\n", name,
                          clock_ticks(times.user_ns), clock_ticks(times.system_ns),
                          clock_ticks(idle_ns));
  };
  line("cpu ", all, all_idle);
  for (uint32_t cpu = 0; cpu < cpus && used + 128 < kText; ++cpu) {
    char name[16];
    rt::format_to(name, sizeof name, "cpu%u", cpu);
    line(name, use[cpu], idle[cpu]);
  }
  int64_t boot = wall_clock_seconds() - static_cast<int64_t>(now_ns / 1000000000);
  used += rt::format_to(text + used, kText - used,
                        "intr 0\nctxt %lu\nbtime %ld\nprocesses %d\nprocs_running %lu\n"
                        "procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
                        switches, boot, last_pid(), runnable_threads());
  put(tree, proc, "stat", text, used);
  return all_idle;
}

}  // namespace

bool under_procfs(FileTree& tree, Inode* cwd, const char* path) {
  Inode* proc = proc_root(tree);
  if (proc == nullptr) return false;
  if (path[0] == '/') {
    while (*path == '/') ++path;
    return memcmp(path, "proc", 4) == 0 && (path[4] == '\0' || path[4] == '/');
  }
  for (Inode* d = cwd; d != nullptr; d = d->parent) {
    if (d == proc) return true;
    if (d == tree.root()) break;
  }
  return false;
}

namespace {

// The pid an absolute path's component after /proc names ("self": the viewer's), or -1 when the
// path is not into one process's directory.
int process_of_path(const char* path, const Process* viewer, const char*& part,
                    size_t& part_length) {
  part = nullptr;
  part_length = 0;
  for (const char* c = path; *c != '\0'; ++c) {
    if (c[0] == '.' && c[1] == '.') return -1;  // it may lead to another process's directory
  }
  while (*path == '/') ++path;
  if (memcmp(path, "proc", 4) != 0 || path[4] != '/') return -1;
  path += 5;
  while (*path == '/') ++path;
  int pid = 0;
  if (memcmp(path, "self", 4) == 0 && (path[4] == '/' || path[4] == '\0')) {
    if (viewer == nullptr) return -1;
    pid = viewer->pid;
    path += 4;
  } else {
    int digits = 0;
    for (; *path >= '0' && *path <= '9' && digits < 9; ++path, ++digits)
      pid = pid * 10 + (*path - '0');
    if (digits == 0 || (*path != '/' && *path != '\0')) return -1;
  }
  while (*path == '/') ++path;
  if (*path != '\0') {
    part = path;
    while (path[part_length] != '\0' && path[part_length] != '/') ++part_length;
  }
  return pid;
}

void put_self(FileTree& tree, Inode* proc, const Process* viewer) {
  if (viewer == nullptr) return;
  char self[16];
  size_t length = rt::format_to(self, sizeof(self), "%d", viewer->pid);
  put(tree, proc, "self", self, length, kTypeSymlink | 0777);
}

}  // namespace

void refresh_procfs(FileTree& tree, Process* viewer, const char* path) {
  Inode* proc = proc_root(tree);
  if (proc == nullptr) return;
  const char* part = nullptr;
  size_t part_length = 0;
  if (int pid = path != nullptr ? process_of_path(path, viewer, part, part_length) : -1; pid >= 0) {
    char name[16];
    size_t length = rt::format_to(name, sizeof(name), "%d", pid);
    Process* p = find_process(pid);
    if (p != nullptr) {
      refresh_process(tree, proc, p, part, part_length);
    } else if (Inode* gone = tree.find(proc, name, length); gone != nullptr) {
      remove_entries(tree, gone);
      (void)tree.unlink(proc, name, length);
    }
    put_self(tree, proc, viewer);
    return;
  }
  // Directories of processes that are gone go first.
  for (DirectoryEntry* e = proc->entries; e != nullptr;) {
    DirectoryEntry* next = e->next;
    bool numeric = e->name[0] >= '0' && e->name[0] <= '9';
    if (numeric && e->inode->is_directory()) {
      int pid = 0;
      for (const char* c = e->name; *c != '\0'; ++c) pid = pid * 10 + (*c - '0');
      if (find_process(pid) == nullptr) {
        remove_entries(tree, e->inode);
        (void)tree.unlink(proc, e->name, strlen(e->name));
      }
    }
    e = next;
  }
  for (Process* p = first_process(); p != nullptr; p = p->next) refresh_process(tree, proc, p);
  put_self(tree, proc, viewer);
  uint64_t ns = sys::clock_ns();
  uint64_t idle_ns = put_stat(tree, proc, ns);
  put_text(tree, proc, "uptime", "%lu.%02lu %lu.%02lu\n", ns / 1000000000, ns / 10000000 % 100,
           idle_ns / 1000000000, idle_ns / 10000000 % 100);
  put_text(tree, proc, "version",
           "Linux version 6.1.0 (sonde@posix) (Sonde POSIX personality) #1 SMP\n");
  char load[96];
  put(tree, proc, "loadavg", load, format_loadavg(load, sizeof load, last_pid()));
  uint64_t used = platform::pages_in_use() * 4;
  uint64_t total_kb = platform::memory_bytes() / 1024,
           free_kb = platform::free_memory_bytes() / 1024;
  put_text(tree, proc, "meminfo",
           "MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n"
           "Buffers:               0 kB\nCached:                0 kB\n",
           total_kb, free_kb, free_kb);
  // Linux's name=value lines; the cow_ ones are Sonde's (fork's copy-on-write: pages shared,
  // pages a write copied, pages a write found no longer shared).
  const mm::CowCounters& cow = mm::cow_counters();
  put_text(tree, proc, "vmstat",
           "nr_free_pages %lu\nnr_used_pages %lu\ncow_shared %lu\ncow_copied %lu\n"
           "cow_reused %lu\n",
           free_kb / 4, used / 4, cow.shared, cow.copied, cow.reused);
  // One block per CPU the kernel runs threads on, as sysfs's online list.
  size_t used_cpuinfo = 0;
  for (uint32_t cpu = 0; cpu < platform::cpu_count() && used_cpuinfo + 256 < kText; ++cpu) {
    used_cpuinfo +=
        rt::format_to(text + used_cpuinfo, kText - used_cpuinfo,
                      "processor\t: %u\nvendor_id\t: GenuineIntel\nmodel name\t: QEMU Virtual CPU\n"
                      "flags\t\t: fpu tsc sse sse2\n\n",
                      cpu);
  }
  put(tree, proc, "cpuinfo", text, used_cpuinfo);
  put(tree, proc, "mounts", text, format_mounts(text, kText));
  put_text(tree, proc, "filesystems",
           "nodev\trootfs\nnodev\tproc\nnodev\tsysfs\nnodev\ttmpfs\nnodev\tdevtmpfs\n"
           "nodev\tdebugfs\nnodev\ttracefs\nnodev\tbpf\n");
  // The ENOSYS fallback's counts, one "number count" line per number seen.
  Inode* sonde = child(tree, proc, "sonde", kTypeDirectory | 0555);
  if (sonde != nullptr) {
    size_t used_text = 0;
    for (uint64_t number = 0; number < 512; ++number) {
      uint64_t count = enosys_count(number);
      if (count == 0 || used_text + 48 >= kText) continue;
      used_text += rt::format_to(text + used_text, kText - used_text, "%lu %lu\n", number, count);
    }
    put(tree, sonde, "enosys", text, used_text);
    TraceServerStatus status = trace_server_status();
    size_t used_status = 0;
    if (status.available) {
      used_status = rt::format_to(text, kText, "instance %lu\nrestarts %u\n", status.instance,
                                  status.restarts);
    }
    put(tree, sonde, "trace-server", text, used_status, kTypeRegular | 0644);
    Inode* control = tree.find(sonde, "trace-server", 12);
    trace_server_control = control != nullptr ? control->number : 0;
    // What calls blocked on trace-server files cost: the trace server's wakeups served, and the
    // polls asked of it (each retry of such a call asks once per trace file it watches).
    TraceWakeupCounts wakeups = trace_wakeup_counts();
    put_text(tree, sonde, "trace-wakeups", "wakeups %lu\npolls %lu\n", wakeups.wakeups,
             wakeups.polls);
  }
}

bool is_procfs_control(const Inode* inode) {
  return inode != nullptr && trace_server_control != 0 && inode->number == trace_server_control;
}

long procfs_control_write(Inode* inode, const char* data, size_t length) {
  if (!is_procfs_control(inode)) return -rt::kEINVAL;
  size_t n = length;
  while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == ' ')) --n;
  rt::Result<void> done = rt::err(rt::kEINVAL);
  if (n == 7 && memcmp(data, "restart", 7) == 0) {
    done = restart_trace_server();
  } else if (n == 5 && memcmp(data, "crash", 5) == 0) {
    done = crash_trace_server(CrashWhen::kNow);
  } else if (n == 12 && memcmp(data, "crash-at-hit", 12) == 0) {
    done = crash_trace_server(CrashWhen::kNextHit);
  } else if (n == 15 && memcmp(data, "crash-at-return", 15) == 0) {
    done = crash_trace_server(CrashWhen::kNextReturn);
  }
  if (!done.ok()) return -static_cast<long>(done.error().code);
  return static_cast<long>(length);
}

}  // namespace posix
