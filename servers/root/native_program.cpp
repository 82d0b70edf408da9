// SPDX-License-Identifier: MIT
// The root task's native program: the `native` boot module started as a Sonde program (no
// Linux personality), a client of the trace service with a badge of its own (docs/NATIVE.md).
#include "root.hpp"
#include "sys/ipc.hpp"
#include "sys/server_start.hpp"
#include "sys/syscall.hpp"

namespace root {

using abi::Error;
using abi::Label;
using abi::ObjectType;

namespace {

constexpr uint64_t kNativeUntypedBits = 22;           // 4 MiB: its image, stack and objects
constexpr uint64_t kNativeModuleWindow = 0x60000000;  // its module's pages, read by the loader
constexpr uint64_t kNativeCNodeRadix = 8;             // slots 0..255: all it is given fits
constexpr uint64_t kNativeStackPages = 16;
// Above the Linux processes (100), below the servers (200): it sleeps on its timer between
// polls, so a busy process never keeps it from running.
constexpr uint64_t kNativePriority = 150;
struct NativeProgram {
  uint64_t untyped = 0;
  const abi::ModuleDescription* module = nullptr;
} native;

}  // namespace

// Sets the native program's memory aside (before the POSIX server takes all memory).
void prepare_native_program() {
  native.module = find_module("native");
  if (native.module == nullptr) return;
  Error made = Error::kNotEnoughMemory;
  for (uint64_t i = 0; i < boot->untyped_count && made != Error::kNone; ++i) {
    if (boot->untyped[i].size_bits < kNativeUntypedBits) continue;
    native.untyped = next_slot++;
    made = sys::retype(boot->untyped_first + i, ObjectType::kUntyped, kNativeUntypedBits, kRoot,
                       native.untyped);
  }
  if (!check(made, "native program memory")) native.module = nullptr;
}

// Starts the `native` module as a Sonde program (no Linux personality): a client of the trace
// service with its own badge (so its own session in the trace server), inline messages only,
// the debug console to print, the clock page and a timer to sleep on.
bool start_native_program() {
  if (native.module == nullptr) return false;
  if (!trace_ready()) {
    sys::print("root: the native program needs the trace server; not started\n");
    return false;
  }
  struct UseNativeMemory {
    uint64_t saved = untyped;
    UseNativeMemory() { untyped = native.untyped; }
    ~UseNativeMemory() { untyped = saved; }
  } use_native_memory;
  for (uint64_t i = 0; i < native.module->frame_count; ++i) {
    if (!check(map_frame(native.module->first_slot + i, kVSpace, kNativeModuleWindow + i * 4096, 0),
               "mapping the native module")) {
      return false;
    }
  }
  const auto* image = reinterpret_cast<const uint8_t*>(kNativeModuleWindow + native.module->offset);
  sys::LoaderResources resources{native.untyped, kRoot, &next_slot, kVSpace, kLoaderWindow};
  sys::LoadedProgram program;
  if (!check(sys::load_program(image, native.module->size, kNativeStackPages, resources, program),
             "loading the native program")) {
    return false;
  }
  uint64_t cnode = 0, tcb = 0, info_frame = 0, buffer_frame = 0, timer = 0;
  if (!check(make(ObjectType::kCNode, kNativeCNodeRadix, cnode), "native CNode") ||
      !check(make(ObjectType::kTcb, 0, tcb), "native TCB") ||
      !check(make(ObjectType::kFrame, 12, info_frame), "native start info") ||
      !check(make(ObjectType::kFrame, 12, buffer_frame), "native IPC buffer") ||
      !check(make(ObjectType::kNotification, 0, timer), "native timer")) {
    return false;
  }
  // Its CNode with the radix of its own: slot n is still cptr n (the guard takes the rest).
  auto give_native = [&](uint64_t to, uint64_t from) {
    uint64_t words[] = {to, kNativeCNodeRadix, kRoot, from, 64};
    return sys::invoke(cnode, Label::kCNodeCopy, words);
  };
  uint64_t guard = abi::cnode_guard_data(0, 64 - kNativeCNodeRadix);
  uint64_t mint_cnode[] = {
      sys::kServerSlotCNode, kNativeCNodeRadix, kRoot, cnode, 64, abi::kRightsAll, guard};
  // The trace service, Write only, badged for the first native client's session.
  uint64_t service = next_slot++;
  uint64_t fault = next_slot++;
  if (!check(give_native(sys::kServerSlotTcb, tcb), "TCB to the native program") ||
      !check(sys::invoke(cnode, Label::kCNodeMint, mint_cnode), "CNode to the native program") ||
      !check(give_native(sys::kServerSlotVSpace, program.vspace), "VSpace to the native program") ||
      !check(give_native(sys::kServerSlotDebugConsole, abi::kSlotDebugConsole),
             "debug console to the native program") ||
      !check(give_native(sys::kServerSlotTimer, timer), "timer to the native program") ||
      !check(sys::cnode_mint(kRoot, service, trace_service(), abi::kRightWrite,
                             sys::kTraceNativeBadgeFirst),
             "native trace badge") ||
      !check(give_native(sys::kServerSlotTraceService, service), "trace service to native") ||
      !map_copy(abi::kSlotClock, program.vspace, sys::kServerClockPage, abi::kMapRead,
                "native clock page") ||
      !check(map_frame(info_frame, kVSpace, kFillWindow, abi::kMapWrite), "native start info")) {
    return false;
  }
  auto* info = reinterpret_cast<sys::ServerStartInfo*>(kFillWindow);
  *info = sys::ServerStartInfo{};
  info->magic = sys::kServerStartMagic;
  info->first_free_slot = sys::kServerSlotTraceService + 1;
  info->instance = 1;
  info->cpu_count = boot->cpu_count;
  info->flags = sys::kStartFlagNativeTrace;
  if (!check(sys::invoke(info_frame, Label::kFrameUnmap), "unmapping native start info") ||
      !check(map_frame(info_frame, program.vspace, sys::kServerStartInfo, abi::kMapRead),
             "mapping native start info") ||
      !check(map_frame(buffer_frame, program.vspace, sys::kServerIpcBuffer, abi::kMapWrite),
             "mapping the native IPC buffer") ||
      !check(
          sys::cnode_mint(kRoot, fault, supervisor_endpoint, abi::kRightWrite, kNativeFaultBadge),
          "native fault badge")) {
    return false;
  }
  uint64_t configure[] = {cnode, guard, program.vspace, sys::kServerIpcBuffer, fault, 0};
  uint64_t priority[] = {kNativePriority};
  if (!check(sys::invoke(tcb, Label::kTcbConfigure, configure), "configuring the native program") ||
      !check(sys::invoke(tcb, Label::kTcbSetMaxPriority, priority), "native max priority") ||
      !check(sys::invoke(tcb, Label::kTcbSetPriority, priority), "native priority") ||
      !check(run_server(tcb, program), "starting the native program")) {
    return false;
  }
  sys::print("root: started the native program (trace badge 0x%lx)\n", sys::kTraceNativeBadgeFirst);
  return true;
}

}  // namespace root
