// SPDX-License-Identifier: MIT
// The trace wakeup: the trace server signals a notification when something a reader of its
// objects waits for may be ready (a ring's wakeup, a trace_pipe line); a small thread waiting on
// it calls the server, whose retries go on with the calls blocked on trace-server files.
#include <string.h>

#include "fs/tracefs.hpp"
#include "platform/kernel.hpp"
#include "sys/syscall.hpp"
#include "task/process.hpp"
#include "tracing/trace_service.hpp"
#include "tty/console.hpp"

namespace posix {

namespace {

// The server's own, as the timer thread: a wakeup is served before the processes run on.
constexpr uint64_t kWakeupPriority = 200;
alignas(16) uint8_t wakeup_stack[16384];
uint64_t wakeup_endpoint = 0;
TraceWakeupCounts counts;

[[noreturn]] void wakeup_thread() {
  for (;;) {
    (void)sys::wait(sys::kServerSlotTraceWakeupWait);
    sys::MessageRegisters mr;
    (void)sys::call(wakeup_endpoint, 0, mr, 0);
  }
}

}  // namespace

void init_trace_wakeup(uint64_t endpoint, uint64_t badge) {
  if (!trace_service_available()) return;
  auto badged = platform::allocate_slot();
  auto tcb = platform::make_object(abi::ObjectType::kTcb);
  if (!badged.ok() || !tcb.ok()) {
    tty::log("posix: no trace wakeup thread: calls blocked on trace files will hang\n");
    return;
  }
  wakeup_endpoint = badged.value();
  uint64_t configure[] = {sys::kServerSlotCNode, 0, sys::kServerSlotVSpace, 0, 0, 0};
  uint64_t priority[] = {kWakeupPriority};
  uint64_t words[1 + abi::kUserRegisterWords] = {};
  words[0] = abi::tcb_message::kWriteResume;
  abi::UserRegisters registers{};
  registers.rip = reinterpret_cast<uint64_t>(&wakeup_thread);
  registers.rsp = reinterpret_cast<uint64_t>(wakeup_stack + sizeof(wakeup_stack)) - 8;
  registers.rflags = 0x202;
  memcpy(&words[1], &registers, sizeof(registers));
  if (sys::cnode_mint(sys::kServerSlotCNode, wakeup_endpoint, endpoint, abi::kRightWrite, badge) !=
          abi::Error::kNone ||
      sys::invoke(tcb.value(), abi::Label::kTcbConfigure, configure) != abi::Error::kNone ||
      sys::invoke(tcb.value(), abi::Label::kTcbSetPriority, priority) != abi::Error::kNone ||
      sys::invoke(tcb.value(), abi::Label::kTcbWriteRegisters, words) != abi::Error::kNone) {
    tty::log("posix: the trace wakeup thread did not start\n");
  }
}

void trace_wakeup() {
  ++counts.wakeups;
  note_trace_event();
  note_trace_activity();  // a blocked trace_pipe read asks the trace server again
}

void note_trace_poll() { ++counts.polls; }

TraceWakeupCounts trace_wakeup_counts() { return counts; }

}  // namespace posix
