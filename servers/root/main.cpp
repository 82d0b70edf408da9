// SPDX-License-Identifier: MIT
// Root task: starts the POSIX server from its boot module and supervises it.
#include <stddef.h>
#include <stdint.h>

#include "sonde/abi/clock.hpp"
#include "sys/ipc.hpp"
#include "sys/loader.hpp"
#include "sys/server_start.hpp"
#include "sys/syscall.hpp"

namespace {

namespace abi = sonde::abi;
using abi::Error;
using abi::Label;
using abi::ObjectType;

constexpr uint64_t kRoot = abi::kSlotRootCNode;
constexpr uint64_t kVSpace = abi::kSlotRootVSpace;
constexpr uint64_t kModuleWindow = 0x40000000;  // boot module pages, read by the loader
constexpr uint64_t kLoaderWindow = 0x3ff00000;  // one page the loader fills through
constexpr uint64_t kFillWindow = 0x3fe00000;    // start info page while it is written
constexpr uint64_t kServerPriority = 200;
// 1 MiB: path walks keep a path buffer per symlink level (up to 40, as Linux allows).
constexpr uint64_t kServerStackPages = 256;
constexpr uint64_t kCom1 = 0x3f8;
constexpr uint64_t kCom2 = 0x2f8;
constexpr uint64_t kFaultBadge = 0x9051;

const abi::BootInfo* boot;
uint64_t next_slot;
uint64_t untyped;

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
Error give(uint64_t server_cnode, uint64_t to, uint64_t from) {
  uint64_t words[] = {to, sys::kServerCNodeRadix, kRoot, from, 64};
  return sys::invoke(server_cnode, Label::kCNodeCopy, words);
}
Error give_moved(uint64_t server_cnode, uint64_t to, uint64_t from) {
  uint64_t words[] = {to, sys::kServerCNodeRadix, kRoot, from, 64};
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

bool start_posix_server(Started& started) {
  const abi::ModuleDescription* image_module = find_module("posix");
  if (image_module == nullptr) {
    sys::print("root: no 'posix' boot module; nothing to start\n");
    return false;
  }
  const abi::ModuleDescription* initramfs = find_module("initramfs");
  if (!choose_untyped()) return false;

  for (uint64_t i = 0; i < image_module->frame_count; ++i) {
    if (!check(map_frame(image_module->first_slot + i, kVSpace, kModuleWindow + i * 4096, 0),
               "mapping the posix module")) {
      return false;
    }
  }
  const auto* image = reinterpret_cast<const uint8_t*>(kModuleWindow + image_module->offset);
  sys::LoaderResources resources{untyped, kRoot, &next_slot, kVSpace, kLoaderWindow};
  sys::LoadedProgram program;
  if (!check(sys::load_program(image, image_module->size, kServerStackPages, resources, program),
             "loading the posix server")) {
    return false;
  }

  uint64_t cnode = 0, tcb = 0, endpoint = 0, info_frame = 0, buffer_frame = 0;
  if (!check(make(ObjectType::kCNode, sys::kServerCNodeRadix, cnode), "server CNode") ||
      !check(make(ObjectType::kTcb, 0, tcb), "server TCB") ||
      !check(make(ObjectType::kEndpoint, 0, endpoint), "server fault endpoint") ||
      !check(make(ObjectType::kFrame, 12, info_frame), "start info frame") ||
      !check(make(ObjectType::kFrame, 12, buffer_frame), "IPC buffer frame")) {
    return false;
  }
  uint64_t guard = abi::cnode_guard_data(0, 64 - sys::kServerCNodeRadix);

  // The caps the server starts with.
  uint64_t mint_cnode[] = {
      sys::kServerSlotCNode, sys::kServerCNodeRadix, kRoot, cnode, 64, abi::kRightsAll, guard};
  uint64_t com1 = next_slot++, com2 = next_slot++, irq = next_slot++, clock = next_slot++;
  uint64_t com1_words[] = {kCom1, kCom1 + 7, com1, 64};
  uint64_t com2_words[] = {kCom2, kCom2 + 7, com2, 64};
  uint64_t irq_words[] = {4, irq, 64};
  bool has_com2 = sys::invoke(abi::kSlotIoPorts, Label::kIoPortsIssue, com2_words) == Error::kNone;
  if (!check(give(cnode, sys::kServerSlotTcb, tcb), "TCB to the server") ||
      !check(sys::invoke(cnode, Label::kCNodeMint, mint_cnode), "CNode to the server") ||
      !check(give(cnode, sys::kServerSlotVSpace, program.vspace), "VSpace to the server") ||
      !check(sys::invoke(abi::kSlotIoPorts, Label::kIoPortsIssue, com1_words), "COM1 ports") ||
      !check(give_moved(cnode, sys::kServerSlotCom1, com1), "COM1 to the server") ||
      !check(sys::invoke(abi::kSlotIrqControl, Label::kIrqControlGet, irq_words), "COM1 IRQ") ||
      !check(give_moved(cnode, sys::kServerSlotCom1Irq, irq), "IRQ to the server") ||
      !check(sys::cnode_copy(kRoot, clock, abi::kSlotClock), "clock copy") ||
      !check(give(cnode, sys::kServerSlotClock, abi::kSlotClock), "clock to the server") ||
      !check(give(cnode, sys::kServerSlotDebugConsole, abi::kSlotDebugConsole),
             "debug console to the server") ||
      !check(map_frame(clock, program.vspace, sys::kServerClockPage, abi::kMapRead),
             "mapping the clock page")) {
    return false;
  }
  if (has_com2 && !check(give_moved(cnode, sys::kServerSlotCom2, com2), "COM2 to the server")) {
    return false;
  }
  // Powering off is QEMU's debug-exit port (tools/run and the test harness add the device).
  uint64_t exit_ports = next_slot++;
  uint64_t exit_words[] = {0xf4, 0xf7, exit_ports, 64};
  uint64_t rtc_ports = next_slot++;
  uint64_t rtc_words[] = {0x70, 0x71, rtc_ports, 64};
  if (!check(sys::invoke(abi::kSlotIoPorts, Label::kIoPortsIssue, rtc_words), "RTC ports") ||
      !check(give_moved(cnode, sys::kServerSlotRtc, rtc_ports), "RTC ports to the server")) {
    return false;
  }
  if (!check(sys::invoke(abi::kSlotIoPorts, Label::kIoPortsIssue, exit_words), "exit port") ||
      !check(give_moved(cnode, sys::kServerSlotDebugExit, exit_ports), "exit port to the server")) {
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
    if (sys::kServerSlotFirstModule + module_frames >= (1ull << sys::kServerCNodeRadix) / 2) {
      sys::print("root: the initramfs is too large (%lu pages)\n", module_frames);
      return false;
    }
    for (uint64_t i = 0; i < module_frames; ++i) {
      if (!check(give_moved(cnode, sys::kServerSlotFirstModule + i, initramfs->first_slot + i),
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
    if (!check(give_moved(cnode, sys::kServerSlotFirstUntyped + i, boot->untyped_first + i),
               "untyped to the server")) {
      return false;
    }
  }
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
  if (!check(sys::invoke(tcb, Label::kTcbWriteRegisters, words), "starting the server")) {
    return false;
  }
  started.tcb = tcb;
  started.endpoint = endpoint;
  sys::print("root: started the POSIX server (%lu KiB of memory, %lu initramfs pages)\n",
             untyped_bytes / 1024, module_frames);
  return true;
}

const char* fault_name(uint64_t label) {
  switch (static_cast<abi::FaultKind>(label)) {
    case abi::FaultKind::kPage: return "page fault";
    case abi::FaultKind::kException: return "exception";
    case abi::FaultKind::kForeignSyscall: return "foreign system call";
    case abi::FaultKind::kBreakpoint: return "breakpoint";
  }
  return "unknown fault";
}

// Every fault of the server is reported and leaves it suspended: the machine stays up.
[[noreturn]] void supervise(const Started& started) {
  uint64_t reply = started.reply;
  for (;;) {
    sys::MessageRegisters mr;
    sys::IpcResult r = sys::recv(started.endpoint, reply, mr);
    if (r.error != Error::kNone) continue;
    abi::UserRegisters registers{};
    auto* out = reinterpret_cast<uint64_t*>(&registers);
    for (uint64_t i = 0; i < abi::kUserRegisterWords && i < r.info.length; ++i) {
      out[i] = sys::message_word(mr, i);
    }
    uint64_t address =
        r.info.length > abi::kFaultAddressWord ? sys::message_word(mr, abi::kFaultAddressWord) : 0;
    uint64_t detail =
        r.info.length > abi::kFaultDetailWord ? sys::message_word(mr, abi::kFaultDetailWord) : 0;
    sys::print(
        "root: the POSIX server died: %s at rip 0x%lx (address/vector 0x%lx, detail 0x%lx)\n",
        fault_name(r.info.label), registers.rip, address, detail);
    sys::print("root:   rsp 0x%lx rax 0x%lx rdi 0x%lx rsi 0x%lx rdx 0x%lx\n", registers.rsp,
               registers.rax, registers.rdi, registers.rsi, registers.rdx);
    // GAP: no restart yet; the server stays suspended and the kernel keeps running.
    sys::MessageRegisters none;
    (void)sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), none, 0);
  }
}

}  // namespace

extern "C" int main() {
  boot = reinterpret_cast<const abi::BootInfo*>(abi::kRootBootInfo);
  next_slot = boot->first_free_slot;
  // Long messages (fault messages, start-up invocations) use the IPC buffer through fs.
  (void)sys::bind_ipc_buffer(abi::kSlotRootTcb,
                             reinterpret_cast<abi::IpcBuffer*>(boot->ipc_buffer));
  sys::print("root: hello from user mode (ring 3)\n");
  Started started;
  if (!start_posix_server(started)) {
    sys::print("root: nothing more to start\n");
    return 0;
  }
  supervise(started);
}
