// SPDX-License-Identifier: MIT
// Timed waits (nanosleep) without a kernel timer: a thread below every process's priority
// runs only when all are blocked, watches the clock page and wakes the server at the earliest
// deadline.
#include <string.h>

#include "platform/kernel.hpp"
#include "sys/clock.hpp"
#include "sys/syscall.hpp"
#include "task/process.hpp"
#include "tty/console.hpp"

namespace posix {

namespace {

constexpr uint64_t kTimerPriority = 1;
alignas(16) uint8_t timer_stack[16384];
uint64_t timer_notification = 0;
uint64_t timer_endpoint = 0;
volatile uint64_t next_deadline = 0;  // written by the server, read by the timer thread

// GAP: the thread spins (yielding) while a sleep is pending; a kernel timeout on Recv or a
// timer notification would let it block instead (DESIGN.md section 9).
[[noreturn]] void timer_thread() {
  for (;;) {
    sys::wait(timer_notification);
    for (;;) {
      uint64_t deadline = next_deadline;
      if (deadline == 0) break;
      if (sys::clock_ns() >= deadline) {
        sys::MessageRegisters mr;
        (void)sys::call(timer_endpoint, 0, mr, 0);
        break;
      }
      sys::yield();
    }
  }
}

}  // namespace

void init_timer(uint64_t endpoint, uint64_t badge) {
  auto notification = platform::make_object(abi::ObjectType::kNotification);
  auto badged = platform::allocate_slot();
  auto tcb = platform::make_object(abi::ObjectType::kTcb);
  if (!notification.ok() || !badged.ok() || !tcb.ok()) {
    tty::log("posix: no timer thread: sleeps will not end\n");
    return;
  }
  timer_notification = notification.value();
  timer_endpoint = badged.value();
  uint64_t configure[] = {sys::kServerSlotCNode, 0, sys::kServerSlotVSpace, 0, 0, 0};
  uint64_t priority[] = {kTimerPriority};
  uint64_t words[1 + abi::kUserRegisterWords] = {};
  words[0] = abi::tcb_message::kWriteResume;
  abi::UserRegisters registers{};
  registers.rip = reinterpret_cast<uint64_t>(&timer_thread);
  registers.rsp = reinterpret_cast<uint64_t>(timer_stack + sizeof(timer_stack)) - 8;
  registers.rflags = 0x202;
  memcpy(&words[1], &registers, sizeof(registers));
  if (sys::cnode_mint(sys::kServerSlotCNode, timer_endpoint, endpoint, abi::kRightWrite, badge) !=
          abi::Error::kNone ||
      sys::invoke(tcb.value(), abi::Label::kTcbConfigure, configure) != abi::Error::kNone ||
      sys::invoke(tcb.value(), abi::Label::kTcbSetPriority, priority) != abi::Error::kNone ||
      sys::invoke(tcb.value(), abi::Label::kTcbWriteRegisters, words) != abi::Error::kNone) {
    tty::log("posix: the timer thread did not start\n");
  }
}

void arm_timer() {
  uint64_t earliest = 0;
  for (Process* p = first_process(); p != nullptr; p = p->next) {
    if (p->state != ProcessState::kRunning || p->sleep_deadline == 0) continue;
    if (earliest == 0 || p->sleep_deadline < earliest) earliest = p->sleep_deadline;
  }
  next_deadline = earliest;
  if (earliest != 0 && timer_notification != 0) (void)sys::signal(timer_notification);
}

}  // namespace posix
