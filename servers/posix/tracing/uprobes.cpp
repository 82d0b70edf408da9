// SPDX-License-Identifier: MIT
// Uprobes in Linux processes: the sites from the trace server, breakpoints per process, hits.
#include "tracing/uprobes.hpp"

#include <string.h>

#include "mm/address_space.hpp"
#include "platform/kernel.hpp"
#include "rt/errno.hpp"
#include "rt/new.hpp"
#include "sys/ipc.hpp"
#include "task/process.hpp"
#include "tracing/trace_service.hpp"
#include "tty/console.hpp"
#include "vfs/vfs.hpp"

extern "C" const uint8_t uprobe_trampoline_code[];
extern "C" const uint8_t uprobe_trampoline_end[];

namespace posix {

namespace abi = sonde::abi;
using abi::Error;
using abi::Label;

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kMaxSites = 64;
constexpr uint32_t kSitesPerProbe = 8;
constexpr uint32_t kObjects = 4;  // Breakpoint objects per process (12 probes each)
constexpr uint32_t kMaxProbes = kObjects * abi::kBreakpointProbes - 1;  // one is the trampoline
// The uprobe page: the trampoline at 0, out-of-line slots of 32 bytes from kFirstSlot on; the
// data page after it holds the pending returns of every thread (ShadowEntry).
constexpr uint64_t kFirstSlot = 128;
constexpr uint64_t kSlotSize = 32;
static_assert(kFirstSlot + kMaxProbes * kSlotSize <= kPage);
// A slot that goes on by itself: the copy, then `jmp *0(%rip)` and the address after the
// original instruction (Breakpoint Insert's kFixupNoStep: no single step after the hit).
constexpr uint8_t kJumpBack[] = {0xff, 0x25, 0, 0, 0, 0};
constexpr uint64_t kJumpBackLength = sizeof(kJumpBack) + 8;
static_assert(15 + kJumpBackLength <= kSlotSize);
constexpr uint64_t kShadowEntries = 170;  // as the trampoline's scan (uprobe_trampoline.S)
constexpr uint64_t kEntryNopLength = 5;

struct Site {
  uint32_t id = 0;     // the trace server's number (0: free)
  uint64_t inode = 0;  // the file's inode number (0: the path names no regular file)
  uint64_t offset = 0;
  bool is_return = false;
  int32_t pid = -1;
  uint64_t ref_ctr_offset = 0;  // a USDT semaphore's file offset (0: none)
};

enum class Action : uint8_t { kStep, kJump, kBranch, kCall };

// A pending return in the data page, as the trampoline reads it. `slot` is the stack address
// the entry probe found the return address at (and put the trampoline's address in): the
// thread's own, so threads returning in any order each find theirs (0: a free entry). A
// function entered by a tail call from one whose return is pending at the same slot (the
// trampoline's address is there already) gets a chained entry, slot | 1 and `return_address`
// its depth in the chain: the trampoline never finds it, the return hit reports it (deepest
// first) and frees it. Only this server fills entries, and only for a stopped thread; the
// trampoline frees its own entry by clearing `slot`.
struct ShadowEntry {
  uint64_t slot;
  uint64_t return_address;
  uint64_t function;
};
static_assert(kShadowEntries * sizeof(ShadowEntry) <= kPage);

struct ArmedProbe {
  uint64_t address = 0;  // 0: free
  uint32_t sites[kSitesPerProbe] = {};
  uint32_t site_count = 0;
  uint8_t object = 0;      // which Breakpoint object holds it
  uint8_t first_byte = 0;  // the byte the int3 replaced
  Action action = Action::kStep;
  uint8_t length = 0;
  uint8_t condition = 0;
  uint64_t target = 0;
};

}  // namespace

struct ProcessUprobes {
  uint64_t page = 0;  // the uprobe page (0: not made yet)
  uint64_t objects[kObjects] = {};
  uint32_t used[kObjects] = {};
  bool trampoline_armed = false;
  uint8_t trampoline_object = 0;
  ArmedProbe probes[kMaxProbes];
  // Sites whose USDT semaphore this process's memory counts, and where it is.
  struct Counted {
    uint32_t site = 0;  // 0: free
    uint64_t address = 0;
  };
  Counted counted[kMaxSites];
};

namespace {

Site sites[kMaxSites];
uint64_t known_generation = 0;
uint64_t known_instance = 0;

Site* find_site(uint32_t id) {
  for (Site& site : sites) {
    if (site.id != 0 && site.id == id) return &site;
  }
  return nullptr;
}

ProcessUprobes* state_of(Process* process) {
  if (process->uprobes != nullptr) return process->uprobes;
  void* memory = platform::heap().allocate(sizeof(ProcessUprobes), 16);
  if (memory == nullptr) return nullptr;
  process->uprobes = new (memory) ProcessUprobes();
  return process->uprobes;
}

void drop_state(Process* process) {
  ProcessUprobes* state = process->uprobes;
  if (state == nullptr) return;
  for (uint32_t i = 0; i < kObjects; ++i) {
    if (state->objects[i] == 0) continue;
    (void)sys::cnode_delete(sys::kServerSlotCNode, state->objects[i]);  // removes its probes
    platform::free_slot(state->objects[i]);
  }
  state->~ProcessUprobes();
  platform::heap().deallocate(state, sizeof(ProcessUprobes));
  process->uprobes = nullptr;
}

// A Breakpoint object of the process with room for one more probe.
rt::Result<uint8_t> object_with_room(Process* process, ProcessUprobes& state) {
  for (uint8_t i = 0; i < kObjects; ++i) {
    if (state.objects[i] != 0 && state.used[i] < abi::kBreakpointProbes) return i;
  }
  for (uint8_t i = 0; i < kObjects; ++i) {
    if (state.objects[i] != 0) continue;
    uint64_t object = TRY(platform::make_object(abi::ObjectType::kBreakpoint));
    // Each hit comes through the hitting thread's own fault cap (badge = its tid); the
    // process's cap only has to have a receiver (this server).
    uint64_t bind[] = {process->memory->vspace(), process->fault_cap,
                       abi::breakpoint_message::kBindToThread};
    if (sys::invoke(object, Label::kBreakpointBind, bind) != Error::kNone) {
      (void)sys::cnode_delete(sys::kServerSlotCNode, object);
      platform::free_slot(object);
      return rt::err(rt::kENOMEM, "cannot bind a breakpoint");
    }
    state.objects[i] = object;
    state.used[i] = 0;
    return i;
  }
  return rt::err(rt::kENOSPC, "too many uprobes in one process");
}

rt::Result<void> insert(Process* process, ProcessUprobes& state, uint64_t address, uint64_t length,
                        uint64_t xol, uint64_t fixup, uint8_t& object) {
  // The kernel writes the int3 into the frame itself: a frame shared copy-on-write with
  // another process (after fork) becomes this process's own first, or the other would see it.
  TRY(process->memory->writable_page(address));
  object = TRY(object_with_room(process, state));
  uint64_t words[] = {address, length, xol, fixup};
  Error e = sys::invoke(state.objects[object], Label::kBreakpointInsert, words);
  if (e != Error::kNone) return rt::err(rt::kEINVAL, abi::error_name(e));
  ++state.used[object];
  return {};
}

void remove(ProcessUprobes& state, uint64_t address, uint8_t object) {
  uint64_t words[] = {address};
  (void)sys::invoke(state.objects[object], Label::kBreakpointRemove, words);
  if (state.used[object] > 0) --state.used[object];
}

// The process's uprobe page and the data page after it, made on first use.
rt::Result<void> ensure_page(Process* process, ProcessUprobes& state) {
  if (state.page != 0) return {};
  mm::AddressSpace& memory = *process->memory;
  uint64_t base = memory.find_free(2 * kPage);
  if (base == 0) return rt::err(rt::kENOMEM);
  TRY(memory.add_area(base, base + kPage, mm::kProtRead | mm::kProtExec));
  TRY(memory.add_area(base + kPage, base + 2 * kPage, mm::kProtRead | mm::kProtWrite));
  if (uprobe_trampoline_end - uprobe_trampoline_code > static_cast<ptrdiff_t>(kFirstSlot)) {
    return rt::err(rt::kENOMEM, "the trampoline does not fit before the slots");
  }
  mm::Page* code = TRY(memory.writable_page(base));
  TRY(memory.ensure_page(base + kPage, mm::kProtRead | mm::kProtWrite));
  auto* bytes = reinterpret_cast<uint8_t*>(code->frame.server_address);
  memset(bytes, 0xcc, kPage);
  memcpy(bytes, uprobe_trampoline_code,
         static_cast<size_t>(uprobe_trampoline_end - uprobe_trampoline_code));
  state.page = base;
  return {};
}

uint64_t slot_address(const ProcessUprobes& state, const ArmedProbe& probe) {
  return state.page + kFirstSlot + kSlotSize * static_cast<uint64_t>(&probe - state.probes);
}

void disarm(ProcessUprobes& state, ArmedProbe& probe) {
  remove(state, probe.address, probe.object);
  probe = ArmedProbe{};
}

// Arms `site` at `address` of `process` (a byte of the file's executable mapping).
void arm_at(Process* process, const Site& site, uint64_t address) {
  ProcessUprobes* state = state_of(process);
  if (state == nullptr) return;
  ArmedProbe* free = nullptr;
  for (ArmedProbe& probe : state->probes) {
    if (probe.address == address) {
      for (uint32_t i = 0; i < probe.site_count; ++i) {
        if (probe.sites[i] == site.id) return;
      }
      if (probe.site_count == kSitesPerProbe) return;
      probe.sites[probe.site_count++] = site.id;
      free = &probe;
      break;
    }
    if (probe.address == 0 && free == nullptr) free = &probe;
  }
  if (free == nullptr) {
    tty::log("posix: pid %d: too many uprobes\n", process->pid);
    return;
  }
  auto fail = [&](const char* why) {
    tty::log("posix: pid %d: uprobe at 0x%lx not armed: %s\n", process->pid, address, why);
  };
  if (free->address == 0) {
    uint8_t bytes[16];
    uint64_t available = 16;
    const mm::Area* area = process->memory->find_area(address);
    if (area == nullptr) return fail("not mapped");
    if (area->end - address < available) available = area->end - address;
    if (!process->memory->copy_in(bytes, address, available).ok()) return fail("not readable");
    if (bytes[0] == 0xcc) return fail("an int3 is there already");
    sonde::proto::TraceService::Client* client = trace_service_client();
    if (client == nullptr) return;
    auto request = client->uprobePrepareRequest();
    request.params().setBytes(bytes, static_cast<uint32_t>(available));
    request.params().setAddress(address);
    auto reply = request.send();
    if (!reply.ok()) return fail(reply.error().message);
    auto outcome = reply.value();
    if (outcome.getResult() < 0) return fail("the trace server cannot run it out of line");
    auto plan = outcome.getPlan();
    if (!plan.ok()) return fail("no plan");
    ArmedProbe probe;
    probe.address = address;
    probe.sites[0] = site.id;
    probe.site_count = 1;
    probe.first_byte = bytes[0];
    probe.length = plan.value().getLength();
    probe.target = plan.value().getTarget();
    probe.condition = plan.value().getCondition();
    uint64_t xol = 0, fixup = 0;
    switch (plan.value().getAction()) {
      case sonde::proto::UprobeAction::kStep: probe.action = Action::kStep; break;
      case sonde::proto::UprobeAction::kJump: probe.action = Action::kJump; break;
      case sonde::proto::UprobeAction::kBranch: probe.action = Action::kBranch; break;
      case sonde::proto::UprobeAction::kCall: probe.action = Action::kCall; break;
      default: return fail("unknown plan");
    }
    if (!ensure_page(process, *state).ok()) return fail("no room for the uprobe page");
    if (probe.action == Action::kStep) {
      auto slot = plan.value().getSlot();
      if (!slot.ok() || slot.value().size != probe.length || probe.length > 16) {
        return fail("a bad out-of-line copy");
      }
      xol = slot_address(*state, *free);
      auto code_page = process->memory->writable_page(state->page);
      if (!code_page.ok()) return fail("the uprobe page");
      mm::Page* code = code_page.value();
      uint8_t* bytes = reinterpret_cast<uint8_t*>(code->frame.server_address) + (xol - state->page);
      memcpy(bytes, slot.value().bytes, slot.value().size);
      int8_t reg = plan.value().getFixupRegister();
      if (reg > 0) {
        // A rip-relative operand, rewritten to use `reg`: the kernel holds the address after the
        // original in it for a single step of the copy, and continues after the original.
        fixup = static_cast<uint64_t>(reg);
      } else {
        // Everything else goes on by itself (as Linux's boosted kprobes): no debug trap, and a
        // fault of the copy comes from the slot, where a page fault is served like any other
        // and a signal shows the original address (uprobes_user_address).
        uint64_t next = address + probe.length;
        memcpy(bytes + probe.length, kJumpBack, sizeof(kJumpBack));
        memcpy(bytes + probe.length + sizeof(kJumpBack), &next, sizeof(next));
        fixup = abi::breakpoint_message::kFixupNoStep;
      }
    }
    auto inserted = insert(process, *state, address, probe.length, xol, fixup, probe.object);
    if (!inserted.ok()) return fail(inserted.error().message);
    *free = probe;
  }
  if (site.is_return && !state->trampoline_armed) {
    auto inserted =
        insert(process, *state, state->page, kEntryNopLength, 0, 0, state->trampoline_object);
    if (!inserted.ok()) return fail("the return trampoline");
    state->trampoline_armed = true;
  }
}

// Adds `delta` to the u16 at `address` as the kernel writes (the page becomes the process's own
// copy, whatever its protection): Linux's __update_ref_ctr. False where it cannot.
bool add_to_semaphore(Process* process, uint64_t address, int delta) {
  if ((address & (kPage - 1)) > kPage - sizeof(uint16_t)) return false;
  auto page = process->memory->writable_page(address);
  if (!page.ok()) return false;
  auto* bytes = reinterpret_cast<uint8_t*>(page.value()->frame.server_address);
  uint16_t value = 0;
  memcpy(&value, bytes + (address & (kPage - 1)), sizeof value);
  if (delta < 0 && value == 0) return false;  // someone else cleared it (Linux warns)
  value = static_cast<uint16_t>(value + delta);
  memcpy(bytes + (address & (kPage - 1)), &value, sizeof value);
  return true;
}

// A site armed in `process` with a semaphore counts once in it (Linux's update_ref_ctr at
// install_breakpoint; the semaphore is in a private mapping of the probed file, normally its
// data segment). A semaphore not mapped yet is counted when it is (uprobes_mapped).
void count_semaphore(Process* process, const Site& site) {
  ProcessUprobes* state = process->uprobes;
  if (site.ref_ctr_offset == 0 || state == nullptr) return;
  ProcessUprobes::Counted* free = nullptr;
  for (ProcessUprobes::Counted& counted : state->counted) {
    if (counted.site == site.id) return;
    if (counted.site == 0 && free == nullptr) free = &counted;
  }
  if (free == nullptr) return;
  for (size_t i = 0; i < process->file_maps.count(); ++i) {
    const mm::FileMapping& map = process->file_maps.at(i);
    if (map.inode == nullptr || map.shared || map.inode->number != site.inode) continue;
    if (site.ref_ctr_offset < map.offset || site.ref_ctr_offset - map.offset >= map.end - map.start)
      continue;
    uint64_t address = map.start + (site.ref_ctr_offset - map.offset);
    if (!add_to_semaphore(process, address, 1)) {
      tty::log("posix: pid %d: USDT semaphore at 0x%lx not counted\n", process->pid, address);
      return;
    }
    *free = ProcessUprobes::Counted{site.id, address};
    return;
  }
}

void uncount_semaphore(Process* process, uint32_t id) {
  ProcessUprobes* state = process->uprobes;
  if (state == nullptr) return;
  for (ProcessUprobes::Counted& counted : state->counted) {
    if (counted.site != id) continue;
    if (process->memory != nullptr) (void)add_to_semaphore(process, counted.address, -1);
    counted = ProcessUprobes::Counted{};
  }
}

bool applies(const Site& site, const Process* process) {
  return site.id != 0 && site.inode != 0 && (site.pid < 0 || site.pid == process->pid) &&
         process->state == ProcessState::kRunning && process->memory != nullptr &&
         process->fault_cap != 0;
}

void arm_site(Process* process, const Site& site) {
  // A vfork child runs in its parent's memory: the parent's probes are the only ones there.
  if (process->borrowed_memory || !applies(site, process)) return;
  for (size_t i = 0; i < process->file_maps.count(); ++i) {
    const mm::FileMapping& map = process->file_maps.at(i);
    // Not in a shared mapping (Linux's valid_vma): the int3 would be written into the file.
    if (map.inode == nullptr || map.shared || map.inode->number != site.inode) continue;
    if (site.offset < map.offset || site.offset - map.offset >= map.end - map.start) continue;
    uint64_t address = map.start + (site.offset - map.offset);
    const mm::Area* area = process->memory->find_area(address);
    if (area != nullptr && (area->prot & mm::kProtExec) != 0) arm_at(process, site, address);
  }
  if (site.ref_ctr_offset == 0 || process->uprobes == nullptr) return;
  for (const ArmedProbe& probe : process->uprobes->probes) {
    for (uint32_t i = 0; probe.address != 0 && i < probe.site_count; ++i) {
      if (probe.sites[i] == site.id) return count_semaphore(process, site);
    }
  }
}

// Takes site `id` away from every probe of the process; a probe left with none is removed.
void forget_site(Process* process, uint32_t id) {
  ProcessUprobes* state = process->uprobes;
  if (state == nullptr) return;
  uncount_semaphore(process, id);
  for (ArmedProbe& probe : state->probes) {
    if (probe.address == 0) continue;
    for (uint32_t i = 0; i < probe.site_count; ++i) {
      if (probe.sites[i] != id) continue;
      probe.sites[i] = probe.sites[--probe.site_count];
      break;
    }
    if (probe.site_count == 0) disarm(*state, probe);
  }
  // The trampoline stays armed: pending returns may still come back through it.
}

void publish_and_hit(Process* process, int tid, const uint32_t* ids, uint32_t count,
                     const abi::UserRegisters& registers, bool is_return, uint64_t function) {
  sonde::proto::TraceService::Client* client = trace_service_client();
  if (client == nullptr || count == 0) return;
  // The hitting thread's tid (comm-TID in the lines). As after a page fault or a system call,
  // the record stays the process's until the server works for another or for nobody: a loop
  // of hits in one process rewrites nothing (the trace server skips an unchanged record).
  use_current_task(process, tid);
  // The hit goes in the shared request buffer (no other call of this thread is under way),
  // with a register-only call: sys::kUprobeHitLabel.
  auto* message = reinterpret_cast<sys::UprobeHitMessage*>(sys::kTraceRequestBuffer);
  static_assert(sizeof message->registers == sizeof registers);
  message->instance = known_instance;
  message->function = function;
  message->is_return = is_return ? 1 : 0;
  if (count > sys::UprobeHitMessage::kMaxProbes) count = sys::UprobeHitMessage::kMaxProbes;
  message->count = count;
  __builtin_memcpy(message->registers, &registers, sizeof registers);
  for (uint32_t i = 0; i < count; ++i) message->probes[i] = ids[i];  // usually one
  sys::MessageRegisters mr;
  // A dead or restarted trace server: the programs do not run.
  (void)sys::call(sys::kServerSlotTraceService, sys::kUprobeHitLabel, mr, 0);
}

// The process's pending returns, through this server's mapping of the data page (made its own
// first: after fork it may still be shared). Other threads of the process run on meanwhile:
// the trampoline may free an entry at any time, so slots are read and written whole.
ShadowEntry* shadow_entries(Process* process, const ProcessUprobes& state) {
  auto page = process->memory->writable_page(state.page + kPage);
  if (!page.ok()) return nullptr;
  return reinterpret_cast<ShadowEntry*>(page.value()->frame.server_address);
}
uint64_t slot_of(const ShadowEntry& entry) {
  return __atomic_load_n(&entry.slot, __ATOMIC_ACQUIRE);
}
void set_slot(ShadowEntry& entry, uint64_t slot) {
  __atomic_store_n(&entry.slot, slot, __ATOMIC_RELEASE);
}

// The entry hit of a function with a return probe: the return address at `slot` (the stack
// pointer) goes to a shadow entry, the trampoline's address in its place.
void push_return(Process* process, const ProcessUprobes& state, uint64_t slot, uint64_t function) {
  mm::AddressSpace& memory = *process->memory;
  uint64_t return_address = 0;
  if ((slot & 7) != 0 || !memory.copy_in(&return_address, slot, 8).ok()) return;
  ShadowEntry* entries = shadow_entries(process, state);
  if (entries == nullptr) return;
  bool chained = return_address == state.page;  // a tail call from a function with one
  ShadowEntry* own = nullptr;
  ShadowEntry* free = nullptr;
  uint64_t depth = 0;
  for (uint64_t i = 0; i < kShadowEntries; ++i) {
    ShadowEntry& entry = entries[i];
    uint64_t key = slot_of(entry);
    if (key == 0 && free == nullptr) free = &entry;
    if (key == slot) own = &entry;
    if (key == (slot | 1)) {
      // A chain at this slot: its depth, or (no tail call now) left by a frame that never
      // returned through the trampoline (longjmp), as an entry at this slot is then.
      if (chained && entry.return_address > depth) depth = entry.return_address;
      if (!chained) set_slot(entry, 0);
    }
  }
  if (chained) {
    if (own == nullptr || free == nullptr) return;
    free->return_address = depth + 1;
    free->function = function;
    set_slot(*free, slot | 1);
    return;
  }
  ShadowEntry* to = own != nullptr ? own : free;
  if (to == nullptr) return;  // GAP: every entry pending, the return is missed
  to->return_address = return_address;
  to->function = function;
  set_slot(*to, slot);
  if (!memory.copy_out(slot, &state.page, 8).ok()) set_slot(*to, 0);
}

// The return hit of the trampoline, rsp just above the slot of the pending return: the return
// probes of its function (and of the functions chained to it, deepest first) with the return
// address as rip. The trampoline frees the entry itself when the thread goes on.
void report_returns(Process* process, int tid, const abi::UserRegisters& registers) {
  ProcessUprobes& state = *process->uprobes;
  ShadowEntry* entries = shadow_entries(process, state);
  if (entries == nullptr) return;
  uint64_t slot = registers.rsp - 8;
  ShadowEntry* own = nullptr;
  for (uint64_t i = 0; i < kShadowEntries && own == nullptr; ++i) {
    if (slot_of(entries[i]) == slot) own = &entries[i];
  }
  if (own == nullptr) return;
  abi::UserRegisters at_return = registers;
  at_return.rip = own->return_address;
  auto report = [&](uint64_t function) {
    for (const ArmedProbe& probe : state.probes) {
      if (probe.address == 0 || probe.address != function) continue;
      uint32_t ids[kSitesPerProbe];
      uint32_t count = 0;
      for (uint32_t i = 0; i < probe.site_count; ++i) {
        const Site* site = find_site(probe.sites[i]);
        if (site != nullptr && site->is_return) ids[count++] = site->id;
      }
      publish_and_hit(process, tid, ids, count, at_return, true, probe.address);
      return;
    }
  };
  for (;;) {
    ShadowEntry* deepest = nullptr;
    for (uint64_t i = 0; i < kShadowEntries; ++i) {
      if (slot_of(entries[i]) != (slot | 1)) continue;
      if (deepest == nullptr || entries[i].return_address > deepest->return_address) {
        deepest = &entries[i];
      }
    }
    if (deepest == nullptr) break;
    uint64_t function = deepest->function;
    set_slot(*deepest, 0);
    report(function);
  }
  report(own->function);
}

bool condition_holds(uint8_t condition, uint64_t flags) {
  bool cf = (flags & 0x001) != 0, pf = (flags & 0x004) != 0, zf = (flags & 0x040) != 0;
  bool sf = (flags & 0x080) != 0, of = (flags & 0x800) != 0;
  bool result = false;
  switch (condition >> 1) {
    case 0: result = of; break;               // O
    case 1: result = cf; break;               // B
    case 2: result = zf; break;               // E
    case 3: result = cf || zf; break;         // BE
    case 4: result = sf; break;               // S
    case 5: result = pf; break;               // P
    case 6: result = sf != of; break;         // L
    default: result = zf || sf != of; break;  // LE
  }
  return (condition & 1) != 0 ? !result : result;
}

}  // namespace

void uprobes_sync() {
  sonde::proto::TraceService::Client* client = trace_service_client();
  if (client == nullptr) return;
  auto request = client->uprobeSitesRequest();
  request.params().setGeneration(known_generation);
  auto reply = request.send();
  if (!reply.ok()) return;
  // Everything is copied out of the reply first: arming makes more calls, whose replies
  // reuse its buffer.
  auto answer = reply.value();
  uint64_t generation = answer.getGeneration(), instance = answer.getInstance();
  bool same_instance = instance == known_instance;
  if (same_instance && answer.getUnchanged()) return;
  auto list = answer.getSites();
  if (!list.ok()) return;
  struct Listed {
    Site site;
    char path[256];
  };
  static Listed listed[kMaxSites];
  uint32_t count = 0;
  for (uint32_t i = 0; i < list.value().size() && count < kMaxSites; ++i) {
    auto entry = list.value()[i];
    Listed& to = listed[count++];
    to.site = Site{};
    to.site.id = entry.getProbe();
    to.site.offset = entry.getOffset();
    to.site.is_return = entry.getIsReturn();
    to.site.pid = entry.getPid();
    to.site.ref_ctr_offset = entry.getRefCtrOffset();
    to.path[0] = 0;
    auto path = entry.getPath();
    if (path.ok() && path.value().size < sizeof to.path) {
      memcpy(to.path, path.value().chars, path.value().size + 1);
    }
  }
  known_generation = generation;
  known_instance = instance;
  auto is_listed = [&](uint32_t id) {
    for (uint32_t i = 0; i < count; ++i) {
      if (listed[i].site.id == id) return same_instance;
    }
    return false;
  };
  // Sites that went (all of them when another instance answers: its numbers are its own).
  for (Site& site : sites) {
    if (site.id == 0 || is_listed(site.id)) continue;
    for (Process* p = first_process(); p != nullptr; p = p->next) forget_site(p, site.id);
    site = Site{};
  }
  for (uint32_t i = 0; i < count; ++i) {
    if (find_site(listed[i].site.id) != nullptr) continue;
    Site* free = nullptr;
    for (Site& site : sites) {
      if (site.id == 0) {
        free = &site;
        break;
      }
    }
    if (free == nullptr) break;
    *free = listed[i].site;
    if (listed[i].path[0] == '/') {
      auto found = resolve_path(first_process(), listed[i].path, kFollowLast);
      if (found.ok() && found.value().inode != nullptr && found.value().inode->is_regular()) {
        free->inode = found.value().inode->number;
      }
    }
    for (Process* p = first_process(); p != nullptr; p = p->next) arm_site(p, *free);
  }
}

void uprobes_mapped(Process* process) {
  if (process->memory == nullptr) return;
  if (ProcessUprobes* state = process->uprobes) {
    // Probes whose page no longer maps a probed file executable are forgotten.
    for (ArmedProbe& probe : state->probes) {
      if (probe.address == 0) continue;
      const mm::Area* area = process->memory->find_area(probe.address);
      const mm::FileMapping* map = process->file_maps.find(probe.address);
      if (area == nullptr || map == nullptr || map->inode == nullptr ||
          (area->prot & mm::kProtExec) == 0) {
        disarm(*state, probe);
      }
    }
  }
  for (const Site& site : sites) arm_site(process, site);
}

void uprobes_exec(Process* process) {
  drop_state(process);
  for (const Site& site : sites) arm_site(process, site);
}

rt::Result<void> uprobes_fork(Process* parent, Process* child) {
  ProcessUprobes* from = parent->uprobes;
  if (from == nullptr || child->memory == nullptr) return {};
  // The shared frames have the parent's int3s: the child's pages with one become its own
  // copies (writable_page) and get the original bytes back, then the child's own breakpoints
  // go in as in any process that maps the files. Its uprobe page is a copy of the parent's,
  // pending returns included: they come back through its trampoline.
  mm::AddressSpace& memory = *child->memory;
  for (const ArmedProbe& probe : from->probes) {
    if (probe.address == 0) continue;
    const mm::Page* shared = memory.find_page(probe.address & ~(kPage - 1));
    if (shared == nullptr || shared->foreign != 0) continue;
    mm::Page* page = TRY(memory.writable_page(probe.address));
    reinterpret_cast<uint8_t*>(page->frame.server_address)[probe.address & (kPage - 1)] =
        probe.first_byte;
  }
  if (from->trampoline_armed && memory.find_page(from->page) != nullptr) {
    mm::Page* page = TRY(memory.writable_page(from->page));
    reinterpret_cast<uint8_t*>(page->frame.server_address)[0] = uprobe_trampoline_code[0];
  }
  if (child->fault_cap == 0) return {};
  ProcessUprobes* to = state_of(child);
  if (to == nullptr) return rt::err(rt::kENOMEM);
  to->page = from->page;
  // The child's memory is a copy: the semaphores it counts are counted in it already.
  for (uint32_t i = 0; i < kMaxSites; ++i) to->counted[i] = from->counted[i];
  if (from->trampoline_armed &&
      insert(child, *to, to->page, kEntryNopLength, 0, 0, to->trampoline_object).ok()) {
    to->trampoline_armed = true;
  }
  for (const Site& site : sites) arm_site(child, site);
  return {};
}

void uprobes_exit(Process* process) { drop_state(process); }

int uprobe_path_status(Process* process, const char* path, size_t length) {
  char copy[256];
  if (length == 0 || length >= sizeof copy) return length == 0 ? rt::kENOENT : rt::kENAMETOOLONG;
  memcpy(copy, path, length);
  copy[length] = 0;
  auto found = resolve_path(process, copy, kFollowLast);
  if (!found.ok()) return found.error().code;
  if (found.value().inode == nullptr) return rt::kENOENT;
  return found.value().inode->is_regular() ? 0 : rt::kEINVAL;
}

int uprobe_events_status(Process* process, const uint8_t* bytes, size_t length) {
  const char* text = reinterpret_cast<const char*>(bytes);
  for (size_t at = 0; at < length;) {
    size_t end = at;
    while (end < length && text[end] != '\n') ++end;
    size_t i = at;
    auto skip_blanks = [&] {
      while (i < end && (text[i] == ' ' || text[i] == '\t')) ++i;
    };
    skip_blanks();
    if (i < end && (text[i] == 'p' || text[i] == 'r')) {
      while (i < end && text[i] != ' ' && text[i] != '\t') ++i;  // p[:[GRP/]EVENT]
      skip_blanks();
      size_t target = i;
      while (i < end && text[i] != ' ' && text[i] != '\t') ++i;  // PATH:OFFSET[(REF)]
      size_t colon = i;
      while (colon > target && text[colon - 1] != ':') --colon;
      // A definition without PATH:OFFSET is the trace server's to refuse, with its error_log.
      if (colon > target + 1) {
        int status = uprobe_path_status(process, text + target, colon - 1 - target);
        if (status != 0) return status;
      }
    }
    at = end + 1;
  }
  return 0;
}

uint64_t uprobes_user_address(const Process* process, uint64_t rip) {
  const ProcessUprobes* state = process->uprobes;
  if (state == nullptr || state->page == 0 || rip < state->page + kFirstSlot) return rip;
  uint64_t index = (rip - state->page - kFirstSlot) / kSlotSize;
  if (index >= kMaxProbes) return rip;
  const ArmedProbe& probe = state->probes[index];
  if (probe.address == 0 || probe.action != Action::kStep) return rip;
  uint64_t slot = slot_address(*state, probe);
  if (rip == slot) return probe.address;
  if (rip == slot + probe.length) return probe.address + probe.length;
  return rip;
}

bool uprobes_hit(Process* process, int tid, abi::UserRegisters& registers, uint64_t address) {
  ProcessUprobes* state = process->uprobes;
  if (state == nullptr) return false;
  mm::AddressSpace& memory = *process->memory;
  if (state->trampoline_armed && address == state->page) {
    report_returns(process, tid, registers);  // the trampoline then returns to the caller
    return false;
  }
  ArmedProbe* probe = nullptr;
  for (ArmedProbe& candidate : state->probes) {
    if (candidate.address != 0 && candidate.address == address) {
      probe = &candidate;  // one probe per address
      break;
    }
  }
  if (probe == nullptr) return false;
  uint32_t ids[kSitesPerProbe];
  uint32_t count = 0;
  bool has_return = false;
  for (uint32_t i = 0; i < probe->site_count; ++i) {
    const Site* site = find_site(probe->sites[i]);
    if (site == nullptr) continue;
    if (site->is_return) {
      has_return = true;
    } else {
      ids[count++] = site->id;
    }
  }
  publish_and_hit(process, tid, ids, count, registers, false, 0);
  if (has_return && state->trampoline_armed) {
    push_return(process, *state, registers.rsp, probe->address);
  }
  uint64_t next = address + probe->length;
  switch (probe->action) {
    case Action::kStep: return false;  // the kernel runs the copy out of line
    case Action::kJump: registers.rip = probe->target; return true;
    case Action::kBranch:
      registers.rip = condition_holds(probe->condition, registers.rflags) ? probe->target : next;
      return true;
    case Action::kCall:
      if (!memory.copy_out(registers.rsp - 8, &next, 8).ok()) return false;
      registers.rsp -= 8;
      registers.rip = probe->target;
      return true;
  }
  return false;
}

}  // namespace posix
