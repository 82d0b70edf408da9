// SPDX-License-Identifier: MIT
// Root task: starts the POSIX server and the trace server from their boot modules, connects
// them, and supervises both (a dead trace server is replaced by a fresh instance). A `native`
// boot module is started as a native client of the trace server (docs/NATIVE.md).
#include <stddef.h>
#include <stdint.h>

#include "elf/elf64.hpp"
#include "fault_report.hpp"
#include "root.hpp"
#include "sonde/abi/clock.hpp"
#include "sonde/capnp/kernel_transport.hpp"
#include "supervisor.capnp.hpp"
#include "sys/ipc.hpp"
#include "sys/loader.hpp"
#include "sys/server_start.hpp"
#include "sys/syscall.hpp"

namespace root {

using abi::Error;
using abi::Label;
using abi::ObjectType;

constexpr uint64_t kModuleWindow = 0x40000000;       // boot module pages, read by the loader
constexpr uint64_t kTraceModuleWindow = 0x50000000;  // the trace module, kept for restarts
constexpr uint64_t kServerPriority = 200;
// 1 MiB: path walks keep a path buffer per symlink level (up to 40, as Linux allows).
constexpr uint64_t kServerStackPages = 256;
constexpr uint64_t kCom1 = 0x3f8;
constexpr uint64_t kCom2 = 0x2f8;
constexpr uint64_t kFaultBadge = 0x9051;       // fault messages of the POSIX server
constexpr uint64_t kTraceFaultBadge = 0x7ace;  // and of the trace server
constexpr uint64_t kTraceServiceBadge = 1;     // the POSIX server's calls to the trace server
constexpr uint64_t kSupervisorBadge = 0x5b;    // the POSIX server's Supervisor calls
// Each trace-server instance lives in one untyped cap the root task keeps and revokes when the
// instance dies, half of it the server's own pool for its objects and heap: 256 MiB on a machine
// with 448 MiB or more (Linux tools preallocate maps of tens of MiB: execsnoop's is 79 MiB),
// 64 MiB on smaller ones, and down to 32 MiB when no untyped cap is that large.
constexpr uint64_t kTraceUntypedBitsLarge = 28;
constexpr uint64_t kTraceUntypedBits = 26;
constexpr uint64_t kTraceUntypedBitsLeast = 25;
constexpr uint64_t kLargeMachineBytes = 448ull << 20;

const abi::BootInfo* boot;
uint64_t next_slot;
uint64_t untyped;

// What outlives trace-server instances: the service endpoint the POSIX server calls, the two
// shared buffers, the trace wakeup, the supervisor endpoint and the untyped cap each instance is
// made from.
struct TraceResources {
  bool ready = false;
  uint64_t untyped = 0;
  uint64_t service = 0;
  uint64_t request_frame = 0;
  uint64_t reply_frame = 0;
  uint64_t first_slot = 0;  // root slots from here on belong to the current instance
  uint64_t instance = 0;
  uint64_t tcb = 0;
  uint64_t pool_bits = 0;  // half the instance's untyped cap
  uint64_t current_task_frame = 0;
  uint64_t exchange = 0;  // the exchange CNode (sys::kServerSlotExchange), kept across restarts
  uint64_t wakeup = 0;    // the trace wakeup Notification (sys::kServerSlotTraceWakeupSignal)
} trace;
// The POSIX server's VSpace and image, which the trace server probes.
uint64_t posix_vspace = 0;
uint64_t log_ports = 0;  // COM2 for the root task's and trace server's messages (0: none)
const abi::ModuleDescription* posix_image = nullptr;
uint64_t posix_xol_frame = 0;  // the Frame cap of the POSIX server's kprobe_xol_page (0: none)
uint64_t supervisor_endpoint = 0;

bool trace_ready() { return trace.ready; }
uint64_t trace_service() { return trace.service; }

bool same(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

const abi::ModuleDescription* find_module(const char* name) {
  for (uint64_t i = 0; i < boot->module_count; ++i) {
    if (same(boot->modules[i].name, name)) return &boot->modules[i];
  }
  return nullptr;
}

// Stops at the first failed step and says which.
bool check(Error e, const char* what) {
  if (e == Error::kNone) return true;
  sys::print("root: %s failed: %s\n", what, abi::error_name(e));
  return false;
}

Error make(ObjectType type, uint64_t size_bits, uint64_t& slot) {
  slot = next_slot++;
  return sys::retype(untyped, type, size_bits, kRoot, slot);
}

Error map_frame(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights) {
  uint64_t words[] = {vspace, address, rights};
  Error e = sys::invoke(frame, Label::kFrameMap, words);
  for (int level = 0; level < 3 && e == Error::kMissingPageTable; ++level) {
    uint64_t table = 0;
    if (Error made = make(ObjectType::kPageTable, 0, table); made != Error::kNone) return made;
    uint64_t table_words[] = {vspace, address};
    if (Error m = sys::invoke(table, Label::kPageTableMap, table_words); m != Error::kNone)
      return m;
    e = sys::invoke(frame, Label::kFrameMap, words);
  }
  return e;
}

// Copies (or mints, with `rights` and `badge`) a cap of the root's CSpace into the server's
// CNode, addressed with its own radix as depth.
Error give(uint64_t server_cnode, uint64_t to, uint64_t from,
           uint64_t radix = sys::kServerCNodeRadix) {
  uint64_t words[] = {to, radix, kRoot, from, 64};
  return sys::invoke(server_cnode, Label::kCNodeCopy, words);
}
Error give_moved(uint64_t server_cnode, uint64_t to, uint64_t from,
                 uint64_t radix = sys::kServerCNodeRadix) {
  uint64_t words[] = {to, radix, kRoot, from, 64};
  return sys::invoke(server_cnode, Label::kCNodeMove, words);
}

// The root task makes the server's objects from its largest untyped cap, then hands every
// untyped cap to the server (the largest with what is left of it).
bool choose_untyped() {
  uint64_t best_bits = 0;
  for (uint64_t i = 0; i < boot->untyped_count; ++i) {
    if (boot->untyped[i].size_bits > best_bits) {
      best_bits = boot->untyped[i].size_bits;
      untyped = boot->untyped_first + i;
    }
  }
  if (best_bits < 23) {
    sys::print("root: no untyped memory large enough for the POSIX server\n");
    return false;
  }
  return true;
}

struct Started {
  uint64_t tcb = 0;
  uint64_t endpoint = 0;
  uint64_t reply = 0;
};

// Starts a server's thread at its entry: rdi = its start info, fs_base = its IPC buffer.
Error run_server(uint64_t tcb, const sys::LoadedProgram& program) {
  uint64_t words[1 + abi::kUserRegisterWords] = {};
  words[0] = abi::tcb_message::kWriteResume;
  abi::UserRegisters registers{};
  registers.rip = program.entry;
  registers.rsp = program.stack_top;
  registers.rflags = 0x202;
  registers.rdi = sys::kServerStartInfo;
  registers.fs_base = sys::kServerIpcBuffer;
  const auto* in = reinterpret_cast<const uint64_t*>(&registers);
  for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[1 + i] = in[i];
  return sys::invoke(tcb, Label::kTcbWriteRegisters, words);
}

// Maps a copy of `frame` (made in a root slot) into `vspace`: a frame cap maps once.
bool map_copy(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights,
              const char* what) {
  uint64_t copy = next_slot++;
  return check(sys::cnode_copy(kRoot, copy, frame), what) &&
         check(map_frame(copy, vspace, address, rights), what);
}

// The trace server's lasting resources, made before the POSIX server takes the memory.
bool prepare_trace_server() {
  if (find_module("trace") == nullptr) {
    sys::print("root: no 'trace' boot module; bpf() will answer ENOSYS\n");
    return false;
  }
  // The instance's untyped cap: as large as the machine allows, from any untyped cap that has it.
  uint64_t total = 0;
  for (uint64_t i = 0; i < boot->untyped_count; ++i) total += 1ull << boot->untyped[i].size_bits;
  uint64_t first_bits = total >= kLargeMachineBytes ? kTraceUntypedBitsLarge : kTraceUntypedBits;
  Error made = Error::kNotEnoughMemory;
  for (uint64_t bits = first_bits; bits >= kTraceUntypedBitsLeast && made != Error::kNone; --bits) {
    for (uint64_t i = 0; i < boot->untyped_count && made != Error::kNone; ++i) {
      if (boot->untyped[i].size_bits < bits) continue;
      trace.untyped = next_slot++;
      made = sys::retype(boot->untyped_first + i, ObjectType::kUntyped, bits, kRoot, trace.untyped);
      trace.pool_bits = bits - 1;
    }
  }
  if (!check(made, "trace untyped") ||
      !check(make(ObjectType::kEndpoint, 0, trace.service), "trace service endpoint") ||
      !check(make(ObjectType::kFrame, abi::kFrameLargeBits, trace.request_frame),
             "trace request buffer") ||
      !check(make(ObjectType::kFrame, abi::kFrameLargeBits, trace.reply_frame),
             "trace reply buffer") ||
      !check(make(ObjectType::kFrame, 12, trace.current_task_frame), "current task page") ||
      !check(make(ObjectType::kCNode, sys::kExchangeRadix, trace.exchange), "exchange CNode") ||
      !check(make(ObjectType::kNotification, 0, trace.wakeup), "trace wakeup")) {
    return false;
  }
  const abi::ModuleDescription* image_module = find_module("trace");
  for (uint64_t i = 0; i < image_module->frame_count; ++i) {
    if (!check(map_frame(image_module->first_slot + i, kVSpace, kTraceModuleWindow + i * 4096, 0),
               "mapping the trace module")) {
      return false;
    }
  }
  trace.ready = true;
  return true;
}

// Gives the POSIX server (CNode `cnode`, VSpace `vspace`) its end of the trace service, and the
// trace wakeup to wait on.
bool connect_trace_client(uint64_t cnode, uint64_t radix, uint64_t vspace) {
  uint64_t badged = next_slot++;
  uint64_t wait = next_slot++;
  return check(sys::cnode_mint(kRoot, badged, trace.service, abi::kRightWrite | abi::kRightGrant,
                               kTraceServiceBadge),
               "trace service badge") &&
         check(give_moved(cnode, sys::kServerSlotTraceService, badged, radix), "trace service") &&
         check(sys::cnode_mint(kRoot, wait, trace.wakeup, abi::kRightRead, 0), "trace wakeup") &&
         check(give_moved(cnode, sys::kServerSlotTraceWakeupWait, wait, radix),
               "trace wakeup to wait") &&
         map_copy(trace.request_frame, vspace, sys::kTraceRequestBuffer, abi::kMapWrite,
                  "trace request buffer") &&
         map_copy(trace.reply_frame, vspace, sys::kTraceReplyBuffer, abi::kMapRead,
                  "trace reply buffer") &&
         map_copy(trace.current_task_frame, vspace, sys::kCurrentTaskPage, abi::kMapWrite,
                  "current task page") &&
         check(give(cnode, sys::kServerSlotExchange, trace.exchange, radix), "exchange CNode");
}

// One trace-server instance, all of it made from trace.untyped (so revoking that cap takes the
// whole instance away, breakpoints included). Root slots it uses start at trace.first_slot.
bool start_trace_server() {
  const abi::ModuleDescription* image_module = find_module("trace");
  trace.first_slot = next_slot;
  ++trace.instance;
  // make() and map_frame() take their objects from `untyped`: here the instance's own.
  struct UseTraceMemory {
    uint64_t saved = untyped;
    UseTraceMemory() { untyped = trace.untyped; }
    ~UseTraceMemory() { untyped = saved; }
  } use_trace_memory;
  uint64_t pool = 0;
  auto make_trace = [](ObjectType type, uint64_t size_bits, uint64_t& slot) {
    return make(type, size_bits, slot);
  };
  // The pool first: it takes the first, naturally aligned half of the untyped cap.
  if (!check(make_trace(ObjectType::kUntyped, trace.pool_bits, pool), "trace pool")) return false;
  const auto* image = reinterpret_cast<const uint8_t*>(kTraceModuleWindow + image_module->offset);
  sys::LoaderResources resources{trace.untyped, kRoot,         &next_slot,
                                 kVSpace,       kLoaderWindow, sys::kTraceStackTop};
  sys::LoadedProgram program;
  if (!check(
          sys::load_program(image, image_module->size, sys::kTraceStackPages, resources, program),
          "loading the trace server")) {
    return false;
  }
  uint64_t cnode = 0, tcb = 0, info_frame = 0, buffer_frame = 0;
  if (!check(make_trace(ObjectType::kCNode, sys::kServerCNodeRadix, cnode), "trace CNode") ||
      !check(make_trace(ObjectType::kTcb, 0, tcb), "trace TCB") ||
      !check(make_trace(ObjectType::kFrame, 12, info_frame), "trace start info") ||
      !check(make_trace(ObjectType::kFrame, 12, buffer_frame), "trace IPC buffer")) {
    return false;
  }
  uint64_t guard = abi::cnode_guard_data(0, 64 - sys::kServerCNodeRadix);
  uint64_t mint_cnode[] = {
      sys::kServerSlotCNode, sys::kServerCNodeRadix, kRoot, cnode, 64, abi::kRightsAll, guard};
  uint64_t fault = next_slot++;
  uint64_t wakeup = next_slot++;
  if (!check(give(cnode, sys::kServerSlotTcb, tcb), "TCB to the trace server") ||
      !check(sys::invoke(cnode, Label::kCNodeMint, mint_cnode), "CNode to the trace server") ||
      !check(give(cnode, sys::kServerSlotVSpace, program.vspace), "VSpace to the trace server") ||
      !check(give(cnode, sys::kServerSlotDebugConsole, abi::kSlotDebugConsole),
             "debug console to the trace server") ||
      !check(give(cnode, sys::kServerSlotKernelProbes, abi::kSlotKernelProbes),
             "kernel probes to the trace server") ||
      !check(give(cnode, sys::kServerSlotTraceService, trace.service), "the service endpoint") ||
      (log_ports != 0 && !check(give(cnode, sys::kServerSlotCom2, log_ports), "COM2 to trace")) ||
      !check(give_moved(cnode, sys::kServerSlotFirstUntyped, pool), "pool to the trace server") ||
      !map_copy(abi::kSlotClock, program.vspace, sys::kServerClockPage, abi::kMapRead,
                "trace clock page") ||
      !map_copy(trace.request_frame, program.vspace, sys::kTraceRequestBuffer, abi::kMapRead,
                "trace request buffer") ||
      !map_copy(trace.reply_frame, program.vspace, sys::kTraceReplyBuffer, abi::kMapWrite,
                "trace reply buffer") ||
      !map_copy(trace.current_task_frame, program.vspace, sys::kCurrentTaskPage, abi::kMapRead,
                "current task page") ||
      !check(give(cnode, sys::kServerSlotTracedVSpace, posix_vspace), "the POSIX VSpace") ||
      !check(give(cnode, sys::kServerSlotExchange, trace.exchange), "the exchange CNode") ||
      !check(sys::cnode_mint(kRoot, wakeup, trace.wakeup, abi::kRightWrite, 0), "trace wakeup") ||
      !check(give_moved(cnode, sys::kServerSlotTraceWakeupSignal, wakeup),
             "the trace wakeup to signal") ||
      !check(map_frame(info_frame, kVSpace, kFillWindow, abi::kMapWrite), "trace start info")) {
    return false;
  }
  auto* info = reinterpret_cast<sys::ServerStartInfo*>(kFillWindow);
  *info = sys::ServerStartInfo{};
  info->magic = sys::kServerStartMagic;
  info->first_free_slot = sys::kServerSlotFirstUntyped + 1;
  info->untyped_count = 1;
  info->untyped_bytes = 1ull << trace.pool_bits;
  info->instance = trace.instance;
  info->cpu_count = boot->cpu_count;
  info->flags = log_ports != 0 ? sys::kStartFlagHasCom2 : 0;
  if (posix_xol_frame != 0) {
    if (!map_copy(posix_xol_frame, program.vspace, sys::kKprobeXolWindow, abi::kMapWrite,
                  "the kprobe slot page to the trace server")) {
      return false;
    }
    info->flags |= sys::kStartFlagHasKprobeXol;
  }
  // The POSIX server's image, read-only, for its symbol table.
  for (uint64_t i = 0; posix_image != nullptr && i < posix_image->frame_count; ++i) {
    if (!map_copy(posix_image->first_slot + i, program.vspace, sys::kTracedImageBase + i * 4096,
                  abi::kMapRead, "the POSIX image to the trace server")) {
      return false;
    }
  }
  if (posix_image != nullptr) {
    info->traced_image_size = posix_image->size;
    info->traced_image_offset = posix_image->offset;
  }
  // The kernel's image, for the addresses of kernel functions that kprobes name.
  const abi::ModuleDescription* kernel_image = find_module("symbols");
  for (uint64_t i = 0; kernel_image != nullptr && i < kernel_image->frame_count; ++i) {
    if (!map_copy(kernel_image->first_slot + i, program.vspace, sys::kKernelImageBase + i * 4096,
                  abi::kMapRead, "the kernel image to the trace server")) {
      return false;
    }
  }
  if (kernel_image != nullptr) {
    info->kernel_image_size = kernel_image->size;
    info->kernel_image_offset = kernel_image->offset;
  }
  if (!check(sys::invoke(info_frame, Label::kFrameUnmap), "unmapping trace start info") ||
      !check(map_frame(info_frame, program.vspace, sys::kServerStartInfo, abi::kMapRead),
             "mapping trace start info") ||
      !check(map_frame(buffer_frame, program.vspace, sys::kServerIpcBuffer, abi::kMapWrite),
             "mapping the trace IPC buffer") ||
      !check(sys::cnode_mint(kRoot, fault, supervisor_endpoint, abi::kRightWrite, kTraceFaultBadge),
             "trace fault badge")) {
    return false;
  }
  uint64_t configure[] = {cnode, guard, program.vspace, sys::kServerIpcBuffer, fault, 0};
  uint64_t priority[] = {kServerPriority};
  if (!check(sys::invoke(tcb, Label::kTcbConfigure, configure), "configuring the trace server") ||
      !check(sys::invoke(tcb, Label::kTcbSetMaxPriority, priority), "trace max priority") ||
      !check(sys::invoke(tcb, Label::kTcbSetPriority, priority), "trace priority")) {
    return false;
  }
  if (!check(run_server(tcb, program), "starting the trace server")) return false;
  trace.tcb = tcb;
  return true;
}

// Takes a dead instance away: everything made from its untyped cap (its TCB, CNode, VSpace,
// breakpoints, the pool and all made from that), then the root slots it used.
void stop_trace_server() {
  (void)sys::cnode_revoke(kRoot, trace.untyped);
  for (uint64_t slot = trace.first_slot; slot < next_slot; ++slot) {
    (void)sys::cnode_delete(kRoot, slot);
  }
  next_slot = trace.first_slot;
  trace.tcb = 0;
}

bool start_posix_server(Started& started) {
  const abi::ModuleDescription* image_module = find_module("posix");
  if (image_module == nullptr) {
    sys::print("root: no 'posix' boot module; nothing to start\n");
    return false;
  }
  const abi::ModuleDescription* initramfs = find_module("initramfs");
  // Its CNode holds the initramfs's frames, at most half of it, and the server needs as many
  // slots again for the page frames of the files programs map: a large initramfs gets a CNode
  // four times its page count (a small one the default, 4 MiB of slots).
  uint64_t radix = sys::kServerCNodeRadix;
  while (initramfs != nullptr && radix < sys::kServerMaxCNodeRadix &&
         sys::kServerSlotFirstModule + initramfs->frame_count >= (1ull << radix) / 4) {
    ++radix;
  }

  for (uint64_t i = 0; i < image_module->frame_count; ++i) {
    if (!check(map_frame(image_module->first_slot + i, kVSpace, kModuleWindow + i * 4096, 0),
               "mapping the posix module")) {
      return false;
    }
  }
  const auto* image = reinterpret_cast<const uint8_t*>(kModuleWindow + image_module->offset);
  sys::LoaderResources resources{untyped, kRoot, &next_slot, kVSpace, kLoaderWindow};
  // The page of out-of-line slots for kprobes inside its functions: the trace server writes it.
  elf::SymbolTable symbols;
  uint64_t xol_page = 0;
  if (symbols.open(image, image_module->size) == elf::ElfError::kNone &&
      symbols.find("kprobe_xol_page", xol_page) && xol_page % 4096 == 0) {
    resources.keep_page = xol_page;
  }
  sys::LoadedProgram program;
  if (!check(sys::load_program(image, image_module->size, kServerStackPages, resources, program),
             "loading the posix server")) {
    return false;
  }
  posix_xol_frame = program.kept_frame;

  uint64_t cnode = 0, tcb = 0, info_frame = 0, buffer_frame = 0;
  uint64_t endpoint = supervisor_endpoint;
  if (!check(make(ObjectType::kCNode, radix, cnode), "server CNode") ||
      !check(make(ObjectType::kTcb, 0, tcb), "server TCB") ||
      !check(make(ObjectType::kFrame, 12, info_frame), "start info frame") ||
      !check(make(ObjectType::kFrame, 12, buffer_frame), "IPC buffer frame")) {
    return false;
  }
  uint64_t guard = abi::cnode_guard_data(0, 64 - radix);

  // The caps the server starts with.
  uint64_t mint_cnode[] = {sys::kServerSlotCNode, radix, kRoot, cnode, 64, abi::kRightsAll, guard};
  uint64_t com1 = next_slot++, com2 = next_slot++, irq = next_slot++, clock = next_slot++;
  uint64_t com1_words[] = {kCom1, kCom1 + 7, com1, 64};
  uint64_t com2_words[] = {kCom2, kCom2 + 7, com2, 64};
  uint64_t irq_words[] = {4, irq, 64};
  bool has_com2 = sys::invoke(abi::kSlotIoPorts, Label::kIoPortsIssue, com2_words) == Error::kNone;
  if (!check(give(cnode, sys::kServerSlotTcb, tcb, radix), "TCB to the server") ||
      !check(sys::invoke(cnode, Label::kCNodeMint, mint_cnode), "CNode to the server") ||
      !check(give(cnode, sys::kServerSlotVSpace, program.vspace, radix), "VSpace to the server") ||
      !check(sys::invoke(abi::kSlotIoPorts, Label::kIoPortsIssue, com1_words), "COM1 ports") ||
      !check(give_moved(cnode, sys::kServerSlotCom1, com1, radix), "COM1 to the server") ||
      !check(sys::invoke(abi::kSlotIrqControl, Label::kIrqControlGet, irq_words), "COM1 IRQ") ||
      !check(give_moved(cnode, sys::kServerSlotCom1Irq, irq, radix), "IRQ to the server") ||
      !check(sys::cnode_copy(kRoot, clock, abi::kSlotClock), "clock copy") ||
      !check(give(cnode, sys::kServerSlotClock, abi::kSlotClock, radix), "clock to the server") ||
      !check(give(cnode, sys::kServerSlotDebugConsole, abi::kSlotDebugConsole, radix),
             "debug console to the server") ||
      !check(map_frame(clock, program.vspace, sys::kServerClockPage, abi::kMapRead),
             "mapping the clock page")) {
    return false;
  }
  if (has_com2 &&
      !check(give_moved(cnode, sys::kServerSlotCom2, com2, radix), "COM2 to the server")) {
    return false;
  }
  if (has_com2) {
    log_ports = next_slot++;
    uint64_t words[] = {kCom2, kCom2 + 7, log_ports, 64};
    if (sys::invoke(abi::kSlotIoPorts, Label::kIoPortsIssue, words) != Error::kNone) log_ports = 0;
  }
  // Powering off is QEMU's debug-exit port (tools/run and the test harness add the device).
  uint64_t exit_ports = next_slot++;
  uint64_t exit_words[] = {0xf4, 0xf7, exit_ports, 64};
  uint64_t rtc_ports = next_slot++;
  uint64_t rtc_words[] = {0x70, 0x71, rtc_ports, 64};
  if (!check(sys::invoke(abi::kSlotIoPorts, Label::kIoPortsIssue, rtc_words), "RTC ports") ||
      !check(give_moved(cnode, sys::kServerSlotRtc, rtc_ports, radix), "RTC ports to the server")) {
    return false;
  }
  if (!check(sys::invoke(abi::kSlotIoPorts, Label::kIoPortsIssue, exit_words), "exit port") ||
      !check(give_moved(cnode, sys::kServerSlotDebugExit, exit_ports, radix),
             "exit port to the server")) {
    return false;
  }
  uint64_t untyped_count = 0, untyped_bytes = 0;
  for (uint64_t i = 0; i < boot->untyped_count && untyped_count < sys::kServerMaxUntyped; ++i) {
    ++untyped_count;
    untyped_bytes += 1ull << boot->untyped[i].size_bits;
  }
  uint64_t module_frames = 0;
  if (initramfs != nullptr) {
    module_frames = initramfs->frame_count;
    if (sys::kServerSlotFirstModule + module_frames >= (1ull << radix) / 2) {
      sys::print("root: the initramfs is too large (%lu pages)\n", module_frames);
      return false;
    }
    for (uint64_t i = 0; i < module_frames; ++i) {
      if (!check(
              give_moved(cnode, sys::kServerSlotFirstModule + i, initramfs->first_slot + i, radix),
              "initramfs frames to the server")) {
        return false;
      }
    }
  } else {
    sys::print("root: no 'initramfs' boot module; the POSIX server starts with an empty root\n");
  }

  // The start info page, filled here, then mapped read-only there.
  if (!check(map_frame(info_frame, kVSpace, kFillWindow, abi::kMapWrite), "mapping start info")) {
    return false;
  }
  auto* info = reinterpret_cast<sys::ServerStartInfo*>(kFillWindow);
  info->magic = sys::kServerStartMagic;
  info->first_free_slot = sys::kServerSlotFirstModule + module_frames;
  info->untyped_count = untyped_count;
  info->untyped_bytes = untyped_bytes;
  info->module_size = initramfs != nullptr ? initramfs->size : 0;
  info->module_offset = initramfs != nullptr ? initramfs->offset : 0;
  info->module_frames = module_frames;
  info->flags = has_com2 ? sys::kStartFlagHasCom2 : 0;
  info->instance = 1;
  info->cpu_count = boot->cpu_count;
  info->cnode_radix = radix;
  // Its own image and the kernel's, read-only, for /proc/kallsyms.
  const abi::ModuleDescription* kernel_image = find_module("symbols");
  for (uint64_t i = 0; i < image_module->frame_count; ++i) {
    if (!map_copy(image_module->first_slot + i, program.vspace, sys::kTracedImageBase + i * 4096,
                  abi::kMapRead, "the POSIX image to itself")) {
      return false;
    }
  }
  info->traced_image_size = image_module->size;
  info->traced_image_offset = image_module->offset;
  for (uint64_t i = 0; kernel_image != nullptr && i < kernel_image->frame_count; ++i) {
    if (!map_copy(kernel_image->first_slot + i, program.vspace, sys::kKernelImageBase + i * 4096,
                  abi::kMapRead, "the kernel image to the POSIX server")) {
      return false;
    }
  }
  if (kernel_image != nullptr) {
    info->kernel_image_size = kernel_image->size;
    info->kernel_image_offset = kernel_image->offset;
  }
  if (trace.ready && connect_trace_client(cnode, radix, program.vspace)) {
    info->flags |= sys::kStartFlagHasTrace;
  }
  uint64_t supervisor_client = next_slot++;
  if (!check(sys::cnode_mint(kRoot, supervisor_client, supervisor_endpoint, abi::kRightWrite,
                             kSupervisorBadge),
             "supervisor badge") ||
      !check(give_moved(cnode, sys::kServerSlotSupervisor, supervisor_client, radix),
             "supervisor to the POSIX server")) {
    return false;
  }
  if (!check(sys::invoke(info_frame, Label::kFrameUnmap), "unmapping start info") ||
      !check(map_frame(info_frame, program.vspace, sys::kServerStartInfo, abi::kMapRead),
             "mapping start info") ||
      !check(map_frame(buffer_frame, program.vspace, sys::kServerIpcBuffer, abi::kMapWrite),
             "mapping the IPC buffer")) {
    return false;
  }

  uint64_t badged = next_slot++;
  if (!check(sys::cnode_mint(kRoot, badged, endpoint, abi::kRightWrite, kFaultBadge), "badge")) {
    return false;
  }
  uint64_t configure[] = {cnode, guard, program.vspace, sys::kServerIpcBuffer, badged, 0};
  uint64_t priority[] = {kServerPriority};
  if (!check(sys::invoke(tcb, Label::kTcbConfigure, configure), "configuring the server") ||
      !check(sys::invoke(tcb, Label::kTcbSetMaxPriority, priority), "server max priority") ||
      !check(sys::invoke(tcb, Label::kTcbSetPriority, priority), "server priority")) {
    return false;
  }
  // Last, once the root task has made everything it needs: all memory goes to the server.
  if (!check(make(ObjectType::kReply, 0, started.reply), "supervisor reply object")) return false;
  for (uint64_t i = 0; i < untyped_count; ++i) {
    if (!check(give_moved(cnode, sys::kServerSlotFirstUntyped + i, boot->untyped_first + i, radix),
               "untyped to the server")) {
      return false;
    }
  }
  if (!check(run_server(tcb, program), "starting the server")) return false;
  started.tcb = tcb;
  started.endpoint = endpoint;
  posix_vspace = program.vspace;
  posix_image = image_module;
  sys::print("root: started the POSIX server (%lu KiB of memory, %lu initramfs pages)\n",
             untyped_bytes / 1024, module_frames);
  // From here on the console belongs to the POSIX server's programs: messages go to COM2.
  if (log_ports != 0 && !sys::use_log_port(log_ports, kCom2)) log_ports = 0;
  return true;
}

uint32_t trace_restarts = 0;

bool restart_trace_server(const char* why) {
  stop_trace_server();
  ++trace_restarts;
  bool started = start_trace_server();
  // The old instance's objects are gone: a poll of one of them now fails (or, with no instance,
  // never returns), so the POSIX server's calls blocked on them must look again.
  (void)sys::signal(trace.wakeup);
  if (!started) {
    sys::print("root: cannot restart the trace server\n");
    return false;
  }
  sys::print("root: restarted the trace server (instance %lu): %s\n", trace.instance, why);
  return true;
}

// proto/supervisor.capnp for the POSIX server: the health of the servers, and a restart of the
// trace server on request (the same path as after a crash).
class SupervisorService final : public sonde::proto::Supervisor::Server {
 public:
  rt::Result<void> health(sonde::proto::Supervisor::HealthParams::Reader,
                          sonde::proto::Supervisor::HealthResults::Builder results) override {
    auto servers = results.initServers(2);
    servers[0].setServer(sonde::proto::ServerKind::kPosix);
    servers[0].setHealth(sonde::proto::Health::kRunning);
    servers[0].setInstance(1);
    servers[1].setServer(sonde::proto::ServerKind::kTrace);
    servers[1].setHealth(trace.tcb != 0 ? sonde::proto::Health::kRunning
                                        : sonde::proto::Health::kCrashed);
    servers[1].setInstance(static_cast<uint32_t>(trace.instance));
    servers[1].setRestarts(trace_restarts);
    return {};
  }
  rt::Result<void> restart(sonde::proto::Supervisor::RestartParams::Reader params,
                           sonde::proto::Supervisor::RestartResults::Builder results) override {
    if (params.getServer() != sonde::proto::ServerKind::kTrace) {
      return rt::err(rt::kEPERM, "only the trace server restarts");
    }
    if (!trace.ready) return rt::err(rt::kENODEV, "no trace server in this system");
    if (!restart_trace_server("on request")) return rt::err(rt::kENOMEM, "restart failed");
    auto status = results.initStatus();
    status.setServer(sonde::proto::ServerKind::kTrace);
    status.setHealth(sonde::proto::Health::kRunning);
    status.setInstance(static_cast<uint32_t>(trace.instance));
    status.setRestarts(trace_restarts);
    return {};
  }
};

// Every fault of a server is reported. The POSIX server stays suspended (the kernel keeps
// running); a dead trace server is taken away whole and a fresh instance started, which the
// POSIX server reaches through the same endpoint.
[[noreturn]] void supervise(const Started& started) {
  uint64_t reply = started.reply;
  SupervisorService service;
  alignas(8) static uint8_t reply_buffer[4096];
  sonde::capnp::KernelServerConfig config{};
  config.endpoint = supervisor_endpoint;
  config.reply = reply;
  config.shared_reply = sonde::capnp::MutableBytes{reply_buffer, sizeof reply_buffer};
  for (;;) {
    sys::MessageRegisters mr;
    sys::IpcResult r = sys::recv(supervisor_endpoint, reply, mr);
    if (r.error != Error::kNone) continue;
    sys::MessageRegisters none;
    if (r.badge == kSupervisorBadge) {
      uint64_t length =
          sonde::capnp::answerKernelCall(service, config, r.info.label, r.info.length, mr);
      (void)sys::send(reply, sonde::capnp::kReplyLabel, mr, length);
      continue;
    }
    if (r.badge == kNativeFaultBadge) {
      // It stays suspended; nothing else depends on it.
      root::report_fault("native program", r.info.label, mr, r.info.length);
      (void)sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), none, 0);
      continue;
    }
    if (r.badge == kTraceFaultBadge) {
      root::report_fault("trace server", r.info.label, mr, r.info.length);
      (void)sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), none, 0);
      (void)restart_trace_server("after a fault");
      continue;
    }
    root::report_fault("POSIX server", r.info.label, mr, r.info.length);
    // GAP: no restart of the POSIX server; it stays suspended and the kernel keeps running.
    (void)sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), none, 0);
  }
}

}  // namespace root

extern "C" int main() {
  using namespace root;
  boot = reinterpret_cast<const abi::BootInfo*>(abi::kRootBootInfo);
  next_slot = boot->first_free_slot;
  // Long messages (fault messages, start-up invocations) use the IPC buffer through fs.
  (void)sys::bind_ipc_buffer(abi::kSlotRootTcb,
                             reinterpret_cast<abi::IpcBuffer*>(boot->ipc_buffer));
  sys::print("root: hello from user mode (ring 3)\n");
  Started started;
  if (!choose_untyped() ||
      !check(make(ObjectType::kEndpoint, 0, supervisor_endpoint), "supervisor endpoint")) {
    return 0;
  }
  (void)prepare_trace_server();
  prepare_native_program();
  if (!start_posix_server(started)) {
    sys::print("root: nothing more to start\n");
    return 0;
  }
  // Before the trace server: root slots from trace.first_slot on go with each of its instances.
  // The native program's first call waits on the endpoint until the trace server serves.
  (void)start_native_program();
  if (trace.ready) {
    if (start_trace_server()) {
      sys::print("root: started the trace server (%llu MiB of memory)\n",
                 (2ull << trace.pool_bits) >> 20);
    } else {
      sys::print("root: cannot start the trace server\n");
    }
  }
  supervise(started);
}
