// SPDX-License-Identifier: MIT
// execve's loader: ELF program headers into pages, the initial stack, `#!` interpreters.
#include "task/exec.hpp"

#include <string.h>

#include "kernel/random.hpp"
#include "kernel/sched_tracepoints.hpp"
#include "kernel/task_struct.hpp"
#include "mm/file_pages.hpp"
#include "platform/kernel.hpp"
#include "rt/new.hpp"
#include "tracing/uprobes.hpp"
#include "vfs/permission.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {

using platform::kPage;
using rt::err;

constexpr uint64_t kDynamicBase = 0x555555554000ull;  // ELF_ET_DYN_BASE, page-aligned
constexpr int kMaxInterpreterDepth = 4;

// ELF64 layouts (elf.h).
struct ElfHeader {
  uint8_t ident[16];
  uint16_t type, machine;
  uint32_t version;
  uint64_t entry, phoff, shoff;
  uint32_t flags;
  uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct ProgramHeader {
  uint32_t type, flags;
  uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
static_assert(sizeof(ElfHeader) == 64 && sizeof(ProgramHeader) == 56);
constexpr uint32_t kLoad = 1, kInterp = 3;

// Auxiliary vector keys (elf.h).
enum : uint64_t {
  kAtNull = 0,
  kAtPhdr = 3,
  kAtPhent = 4,
  kAtPhnum = 5,
  kAtPagesz = 6,
  kAtBase = 7,
  kAtFlags = 8,
  kAtEntry = 9,
  kAtUid = 11,
  kAtEuid = 12,
  kAtGid = 13,
  kAtEgid = 14,
  kAtPlatform = 15,
  kAtHwcap = 16,
  kAtClktck = 17,
  kAtSecure = 23,
  kAtRandom = 25,
  kAtHwcap2 = 26,
  kAtExecfn = 31,
  kAtMinsigstksz = 51,
};

uint32_t prot_of(uint32_t flags) {
  uint32_t prot = 0;
  if ((flags & 4) != 0) prot |= mm::kProtRead;
  if ((flags & 2) != 0) prot |= mm::kProtWrite;
  if ((flags & 1) != 0) prot |= mm::kProtExec;
  return prot;
}

uint64_t hwcap() {
  uint32_t a = 1, b, c, d;
  asm volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
  return d;
}

struct Loaded {
  uint64_t entry, phdr, phnum, brk;
  uint64_t interpreter_offset, interpreter_length;  // PT_INTERP's path in the file (0: none)
};

rt::Result<ElfHeader> read_header(const Inode* file) {
  if (file->size < sizeof(ElfHeader)) return err(rt::kENOEXEC);
  ElfHeader header;
  memcpy(&header, file->data, sizeof(header));
  if (memcmp(header.ident,
             "\x7f"
             "ELF",
             4) != 0 ||
      header.ident[4] != 2 || header.ident[5] != 1 || header.machine != 62 ||
      (header.type != 2 && header.type != 3) || header.phentsize != sizeof(ProgramHeader) ||
      header.phnum == 0 || header.phnum > 64 || header.phoff > file->size ||
      file->size - header.phoff < header.phnum * sizeof(ProgramHeader)) {
    return err(rt::kENOEXEC);
  }
  return header;
}

ProgramHeader program_header(const Inode* file, const ElfHeader& header, uint16_t index) {
  ProgramHeader ph;
  memcpy(&ph, file->data + header.phoff + index * sizeof(ProgramHeader), sizeof(ph));
  return ph;
}

// Where an ET_DYN interpreter goes: a free range of the mmap area as large as its segments'
// span; the result is the bias added to its addresses (Linux maps it the same way, with mmap).
rt::Result<uint64_t> place_interpreter(const Inode* file, const ElfHeader& header,
                                       mm::AddressSpace& memory) {
  if (header.type == 2) return uint64_t{0};
  uint64_t low = ~uint64_t{0}, high = 0;
  for (uint16_t i = 0; i < header.phnum; ++i) {
    ProgramHeader ph = program_header(file, header, i);
    if (ph.type != kLoad || ph.memsz == 0) continue;
    if (ph.vaddr + ph.memsz < ph.vaddr || ph.vaddr + ph.memsz > mm::kMmapTop) {
      return err(rt::kENOEXEC);
    }
    if ((ph.vaddr & ~(kPage - 1)) < low) low = ph.vaddr & ~(kPage - 1);
    if (ph.vaddr + ph.memsz > high) high = ph.vaddr + ph.memsz;
  }
  if (high == 0) return err(rt::kENOEXEC);
  uint64_t span = (high - low + kPage - 1) & ~(kPage - 1);
  uint64_t base = memory.find_free(span);
  if (base == 0) return err(rt::kENOMEM);
  return base - low;
}

// The segments of `file` mapped into `memory` (recorded in `maps` as mappings of the file: the
// pages holding file bytes; the rest of a segment is anonymous, as Linux's bss). `layout`, for
// the executable (not its interpreter): Linux's start_code, end_code, start_data and end_data.
rt::Result<Loaded> load_elf(Inode* file, mm::AddressSpace& memory, uint64_t dynamic_bias,
                            mm::FileMaps& maps, mm_struct* layout) {
  ElfHeader header = TRY(read_header(file));
  uint64_t bias = header.type == 3 ? dynamic_bias : 0;
  Loaded loaded{header.entry + bias, 0, header.phnum, 0, 0, 0};
  uint64_t start_code = ~uint64_t{0}, end_code = 0, start_data = 0, end_data = 0;
  for (uint16_t i = 0; i < header.phnum; ++i) {
    ProgramHeader ph = program_header(file, header, i);
    if (ph.type == kInterp) {
      if (ph.filesz < 2 || ph.filesz > kPathMax || ph.offset > file->size ||
          file->size - ph.offset < ph.filesz || file->data[ph.offset + ph.filesz - 1] != '\0') {
        return err(rt::kENOEXEC);
      }
      loaded.interpreter_offset = ph.offset;
      loaded.interpreter_length = ph.filesz - 1;
      continue;
    }
    if (ph.type != kLoad || ph.memsz == 0) continue;
    if (ph.filesz > ph.memsz || ph.offset > file->size || file->size - ph.offset < ph.filesz ||
        ph.vaddr + bias + ph.memsz < ph.vaddr || ph.vaddr + bias + ph.memsz > mm::kMmapTop ||
        (ph.vaddr & (kPage - 1)) != (ph.offset & (kPage - 1))) {
      return err(rt::kENOEXEC);
    }
    uint64_t start = (ph.vaddr + bias) & ~(kPage - 1);
    uint64_t end = (ph.vaddr + bias + ph.memsz + kPage - 1) & ~(kPage - 1);
    uint32_t prot = prot_of(ph.flags);
    // The pages holding the segment's file bytes map the file (copy-on-write, on first touch,
    // as Linux's page cache): the file's frames, shared by every process running it. The page
    // where the bytes end is a copy with zeros after them when the segment has more (its bss);
    // the rest is demand-zero. A first page another segment already covers (they are in
    // address order) is a copy too: both segments' bytes go into it.
    uint64_t file_start = ph.vaddr + bias, file_end = file_start + ph.filesz;
    uint64_t mapped_from = start;
    uint64_t mapped_to =
        ph.memsz > ph.filesz ? file_end & ~(kPage - 1) : (file_end + kPage - 1) & ~(kPage - 1);
    if (ph.filesz == 0) mapped_to = start;
    if (memory.find_area(start) != nullptr) mapped_from = start + kPage;
    if (mapped_from < mapped_to) {
      TRY(memory.add_file_area(mapped_from, mapped_to, prot, file,
                               (ph.offset & ~(kPage - 1)) + (mapped_from - start), false, true));
      TRY(mm::file_frame(*file, 0));  // ENOMEM and EFBIG here, not as a fault
    }
    if (mapped_from > start) {
      // The shared first page: this segment's bytes copied into it, zero after them if the
      // segment has a bss.
      mm::Page* p = TRY(memory.writable_page(start));
      auto* bytes = reinterpret_cast<uint8_t*>(p->frame.server_address);
      uint64_t to = file_end < start + kPage ? file_end : start + kPage;
      memcpy(bytes + (file_start - start), file->data + ph.offset, to - file_start);
      if (ph.memsz > ph.filesz) memset(bytes + (to - start), 0, start + kPage - to);
    }
    uint64_t anon_from = mapped_to > mapped_from ? mapped_to : mapped_from;
    if (anon_from < end) {
      TRY(memory.add_area(anon_from, end, prot));
      // The page where the file bytes end: a copy, zero after them.
      if (anon_from < file_end && file_end < anon_from + kPage) {
        mm::Page* p = TRY(memory.writable_page(anon_from));
        uint64_t from = anon_from > file_start ? anon_from : file_start;
        memcpy(reinterpret_cast<void*>(p->frame.server_address + (from - anon_from)),
               file->data + ph.offset + (from - file_start), file_end - from);
      }
    }
    if (ph.filesz != 0) {
      uint64_t file_pages_end = (file_end + kPage - 1) & ~(kPage - 1);
      maps.add(start, file_pages_end, file, ph.offset & ~(kPage - 1), false);
    }
    if ((ph.flags & 1) != 0 && ph.vaddr < start_code) start_code = ph.vaddr;
    if ((ph.flags & 1) != 0 && ph.vaddr + ph.filesz > end_code) end_code = ph.vaddr + ph.filesz;
    if (ph.vaddr > start_data) start_data = ph.vaddr;
    if (ph.vaddr + ph.filesz > end_data) end_data = ph.vaddr + ph.filesz;
    if (header.phoff >= ph.offset && header.phoff < ph.offset + ph.filesz) {
      loaded.phdr = ph.vaddr + bias + (header.phoff - ph.offset);
    }
    if (end > loaded.brk) loaded.brk = end;
  }
  if (loaded.brk == 0) return err(rt::kENOEXEC);
  if (layout != nullptr) {
    layout->start_code = (start_code == ~uint64_t{0} ? 0 : start_code) + bias;
    layout->end_code = end_code + bias;
    layout->start_data = start_data + bias;
    layout->end_data = end_data + bias;
  }
  return loaded;
}

// A dynamic executable's interpreter (PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2) loaded
// next to it, as Linux's load_elf_interp: the result is its bias (AT_BASE) and entry point.
struct Interpreter {
  uint64_t base, entry;
};
rt::Result<Interpreter> load_interpreter(Process* process, const Inode* executable,
                                         const Loaded& loaded, mm::AddressSpace& memory,
                                         mm::FileMaps& maps) {
  char path[kPathMax];
  memcpy(path, executable->data + loaded.interpreter_offset, loaded.interpreter_length + 1);
  if (strlen(path) != loaded.interpreter_length) return err(rt::kENOEXEC);
  LookupResult found = TRY(resolve_path(process, path, kFollowLast));
  Inode* file = found.inode;
  if (file->is_directory()) return err(rt::kEISDIR);
  if (!file->is_regular()) return err(rt::kEACCES);
  TRY(inode_permission(process->credentials, *file, kMayExec));
  ElfHeader header = TRY(read_header(file));
  uint64_t bias = TRY(place_interpreter(file, header, memory));
  Loaded interpreter = TRY(load_elf(file, memory, bias, maps, nullptr));
  return Interpreter{bias, interpreter.entry};
}

// Linux's initial stack, built top-down in a server buffer and copied out once; `strings` is
// where argv's strings start, the environment's following them.
rt::Result<uint64_t> build_stack(mm::AddressSpace& memory, const ExecArguments& arguments,
                                 const char* path, const Loaded& loaded, uint64_t base,
                                 const Credentials& ids, bool secure, uint64_t& strings) {
  constexpr size_t kBuffer = ExecArguments::kMaxBytes + 64 * 1024;
  auto* buffer = static_cast<uint8_t*>(platform::heap().allocate(kBuffer, 16));
  if (buffer == nullptr) return err(rt::kENOMEM);
  uint64_t top = mm::kStackTop;
  size_t at = kBuffer;  // buffer[at..] lands at top - (kBuffer - at)
  auto address_of = [&](size_t index) { return top - (kBuffer - index); };
  auto push_bytes = [&](const void* data, size_t length) {
    at -= length;
    memcpy(buffer + at, data, length);
    return address_of(at);
  };
  at -= 8;  // Linux leaves a word of zero at the very top
  memset(buffer + at, 0, 8);
  uint64_t execfn = push_bytes(path, strlen(path) + 1);
  // The strings, argv first.
  uint64_t* pointers = static_cast<uint64_t*>(
      platform::heap().allocate((arguments.argc + arguments.envc + 1) * 8, 8));
  if (pointers == nullptr) {
    platform::heap().deallocate(buffer, kBuffer);
    return err(rt::kENOMEM);
  }
  at -= arguments.used;
  memcpy(buffer + at, arguments.bytes, arguments.used);
  strings = address_of(at);
  size_t offset = 0;
  for (size_t i = 0; i < arguments.argc + arguments.envc; ++i) {
    pointers[i] = strings + offset;
    offset += strlen(arguments.bytes + offset) + 1;
  }
  uint64_t platform_string = push_bytes("x86_64", 7);
  uint8_t random[16];
  fill_random(random, sizeof(random));
  uint64_t random_address = push_bytes(random, sizeof(random));
  at &= ~static_cast<size_t>(15);
  uint64_t auxv[][2] = {{kAtHwcap, hwcap()},
                        {kAtPagesz, kPage},
                        {kAtClktck, 100},
                        {kAtPhdr, loaded.phdr},
                        {kAtPhent, sizeof(ProgramHeader)},
                        {kAtPhnum, loaded.phnum},
                        {kAtBase, base},
                        {kAtFlags, 0},
                        {kAtEntry, loaded.entry},
                        {kAtUid, ids.uid},
                        {kAtEuid, ids.euid},
                        {kAtGid, ids.gid},
                        {kAtEgid, ids.egid},
                        {kAtSecure, secure ? 1u : 0u},
                        {kAtRandom, random_address},
                        {kAtHwcap2, 0},
                        {kAtExecfn, execfn},
                        {kAtPlatform, platform_string},
                        {kAtMinsigstksz, 2048},
                        {kAtNull, 0}};
  size_t words = 1 + arguments.argc + 1 + arguments.envc + 1 + sizeof(auxv) / 8;
  at -= words * 8;
  at &= ~static_cast<size_t>(15);  // rsp is 16-byte aligned at the entry point
  auto* out = reinterpret_cast<uint64_t*>(buffer + at);
  size_t w = 0;
  out[w++] = arguments.argc;
  for (size_t i = 0; i < arguments.argc; ++i) out[w++] = pointers[i];
  out[w++] = 0;
  for (size_t i = 0; i < arguments.envc; ++i) out[w++] = pointers[arguments.argc + i];
  out[w++] = 0;
  memcpy(out + w, auxv, sizeof(auxv));
  uint64_t rsp = address_of(at);
  platform::heap().deallocate(pointers, (arguments.argc + arguments.envc + 1) * 8);
  auto copied = memory.copy_out(rsp, buffer + at, kBuffer - at);
  platform::heap().deallocate(buffer, kBuffer);
  if (!copied.ok()) return copied.error();
  return rsp;
}

const char* base_name(const char* path) {
  const char* name = path;
  for (const char* c = path; *c != '\0'; ++c) {
    if (*c == '/' && c[1] != '\0') name = c + 1;
  }
  return name;
}

}  // namespace

rt::Result<void> ExecArguments::set(const char* const* argv, const char* const* envp) {
  if (bytes == nullptr) bytes = static_cast<char*>(platform::heap().allocate(kMaxBytes, 16));
  if (bytes == nullptr) return err(rt::kENOMEM);
  used = argc = envc = 0;
  for (int pass = 0; pass < 2; ++pass) {
    const char* const* list = pass == 0 ? argv : envp;
    for (size_t i = 0; list != nullptr && list[i] != nullptr; ++i) {
      size_t length = strlen(list[i]) + 1;
      if (used + length > kMaxBytes) return err(rt::kE2BIG);
      memcpy(bytes + used, list[i], length);
      used += length;
      (pass == 0 ? argc : envc)++;
    }
  }
  return {};
}

rt::Result<void> ExecArguments::from_user(mm::AddressSpace& memory, uint64_t argv, uint64_t envp) {
  if (bytes == nullptr) bytes = static_cast<char*>(platform::heap().allocate(kMaxBytes, 16));
  if (bytes == nullptr) return err(rt::kENOMEM);
  used = argc = envc = 0;
  for (int pass = 0; pass < 2; ++pass) {
    uint64_t list = pass == 0 ? argv : envp;
    for (size_t i = 0; list != 0; ++i) {
      if (argc + envc >= kMaxStrings) return err(rt::kE2BIG);
      uint64_t pointer = 0;
      TRY(memory.copy_in(&pointer, list + i * 8, 8));
      if (pointer == 0) break;
      auto length = memory.copy_string(bytes + used, pointer, kMaxBytes - used);
      if (!length.ok()) {
        return err(length.error().code == rt::kENAMETOOLONG ? rt::kE2BIG : length.error().code);
      }
      used += length.value() + 1;
      (pass == 0 ? argc : envc)++;
    }
  }
  return {};
}

rt::Result<void> ExecArguments::prepend(const char* text) {
  size_t length = strlen(text) + 1;
  if (used + length > kMaxBytes) return err(rt::kE2BIG);
  memmove(bytes + length, bytes, used);
  memcpy(bytes, text, length);
  used += length;
  ++argc;
  return {};
}

rt::Result<void> ExecArguments::replace_first(const char* text) {
  if (argc > 0) {
    size_t first = strlen(bytes) + 1;
    memmove(bytes, bytes + first, used - first);
    used -= first;
    --argc;
  }
  return prepend(text);
}

void ExecArguments::release() {
  if (bytes != nullptr) platform::heap().deallocate(bytes, kMaxBytes);
  bytes = nullptr;
}

rt::Result<void> exec_image(Process* process, const char* path, ExecArguments& arguments,
                            abi::UserRegisters& registers, char* interpreter_out) {
  char current[kPathMax];
  size_t path_length = strlen(path);
  if (path_length >= kPathMax) return err(rt::kENAMETOOLONG);
  memcpy(current, path, path_length + 1);
  for (int depth = 0;; ++depth) {
    LookupResult found = TRY(resolve_path(process, current, kFollowLast));
    Inode* file = found.inode;
    if (file->is_directory() || !file->is_regular()) return err(rt::kEACCES);
    TRY(inode_permission(process->credentials, *file, kMayExec));
    if (file->size >= 2 && file->data[0] == '#' && file->data[1] == '!') {
      if (depth == kMaxInterpreterDepth) return err(rt::kELOOP);
      // "#!interpreter [one argument]" on the first line.
      char line[256];
      size_t n = 0;
      for (size_t i = 2; i < file->size && file->data[i] != '\n' && n + 1 < sizeof(line); ++i) {
        line[n++] = static_cast<char>(file->data[i]);
      }
      line[n] = '\0';
      char* p = line;
      while (*p == ' ' || *p == '\t') ++p;
      char* interpreter = p;
      while (*p != '\0' && *p != ' ' && *p != '\t') ++p;
      char* argument = nullptr;
      if (*p != '\0') {
        *p++ = '\0';
        while (*p == ' ' || *p == '\t') ++p;
        if (*p != '\0') {
          argument = p;
          char* end = p + strlen(p);
          while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) *--end = '\0';
        }
      }
      if (*interpreter == '\0') return err(rt::kENOEXEC);
      TRY(arguments.replace_first(current));
      if (argument != nullptr) TRY(arguments.prepend(argument));
      TRY(arguments.prepend(interpreter));
      size_t length = strlen(interpreter);
      memmove(current, interpreter, length + 1);
      continue;
    }
    if (interpreter_out != nullptr) memcpy(interpreter_out, current, strlen(current) + 1);
    void* memory = platform::heap().allocate(sizeof(mm::AddressSpace), 16);
    if (memory == nullptr) return err(rt::kENOMEM);
    auto* space = new (memory) mm::AddressSpace();
    auto fail = [&](rt::Error error) -> rt::Error {
      space->destroy();
      platform::heap().deallocate(space, sizeof(mm::AddressSpace));
      return error;
    };
    if (auto made = space->create(); !made.ok()) return fail(made.error());
    // What the new image maps, the process's own once the execve cannot fail any more.
    static mm::FileMaps maps;
    maps.clear();
    mm_struct layout{};
    auto loaded = load_elf(file, *space, kDynamicBase, maps, &layout);
    if (!loaded.ok()) return fail(loaded.error());
    space->brk_start = space->brk = loaded.value().brk;
    Interpreter interpreter{0, loaded.value().entry};
    if (loaded.value().interpreter_length != 0) {
      auto found = load_interpreter(process, file, loaded.value(), *space, maps);
      if (!found.ok()) return fail(found.error());
      interpreter = found.value();
    }
    if (auto stack = space->add_area(mm::kStackTop - mm::kStackSize, mm::kStackTop,
                                     mm::kProtRead | mm::kProtWrite);
        !stack.ok()) {
      return fail(stack.error());
    }
    // The ids the new image runs with: a set-user-ID or set-group-ID file's owner's (of the
    // ELF file itself: a script's bits are not honoured, as Linux).
    bool secure = false;
    Credentials ids =
        exec_credentials(process->credentials, file->mode, file->uid, file->gid, secure);
    uint64_t strings = 0;
    auto rsp = build_stack(*space, arguments, path, loaded.value(), interpreter.base, ids, secure,
                           strings);
    if (!rsp.ok()) return fail(rsp.error());
    release_memory(process);  // a vfork child leaves its parent's to the parent
    process->memory = space;
    process->borrowed_memory = false;
    registers = abi::UserRegisters{};
    registers.rip = interpreter.entry;
    registers.rsp = rsp.value();
    registers.rflags = 0x202;
    // argv as /proc/<pid>/cmdline shows it (at most what fits).
    size_t argv_bytes = 0;
    for (size_t a = 0; a < arguments.argc; ++a)
      argv_bytes += strlen(arguments.bytes + argv_bytes) + 1;
    process->cmdline_length =
        argv_bytes < sizeof(process->cmdline) ? argv_bytes : sizeof(process->cmdline);
    memcpy(process->cmdline, arguments.bytes, process->cmdline_length);
    set_exe(process, file);
    // The new image is dumpable unless it runs with other ids than the real ones or could
    // not be read (Linux's would_dump).
    process->dumpable = !secure && inode_permission(process->credentials, *file, kMayRead).ok();
    process->credentials = ids;
    process->file_maps = maps;
    uprobes_exec(process);  // the new image's files may have uprobes
    process->linux_mm = layout;
    process->linux_mm.start_brk = process->linux_mm.brk = space->brk_start;
    process->linux_mm.start_stack = rsp.value();
    process->linux_mm.arg_start = strings;
    process->linux_mm.arg_end = strings + argv_bytes;
    process->linux_mm.env_start = strings + argv_bytes;
    process->linux_mm.env_end = strings + arguments.used;
    process->executed = true;
    // The name execve was given, a script's too (Linux's kbasename(bprm->filename)).
    const char* name = base_name(path);
    char comm[sizeof(process->comm)] = {};
    for (size_t i = 0; name[i] != '\0' && i + 1 < sizeof(comm); ++i) comm[i] = name[i];
    rename_task(*process, nullptr, comm, true);
    for (int s = 1; s <= kSignals; ++s) {
      if (process->actions[s].handler > 1) process->actions[s] = SigAction{};  // handlers reset
    }
    update_task_struct(*process);
    publish_trace_identity(process);
    return {};
  }
}

}  // namespace posix
