// SPDX-License-Identifier: MIT
// Timed waits (nanosleep, poll timeouts): the kernel signals a notification at the earliest
// deadline (NotificationSetTimer); a small thread waiting on it calls the server, whose retries
// end the waits that are due. The load averages' steps (every 5 s) are deadlines too.
#include <string.h>

#include "platform/kernel.hpp"
#include "sys/clock.hpp"
#include "sys/syscall.hpp"
#include "task/loadavg.hpp"
#include "task/process.hpp"
#include "tty/console.hpp"

namespace posix {

namespace {

// The server's own: a deadline ends a sleep (or raises SIGALRM) while processes compute.
constexpr uint64_t kTimerPriority = 200;
alignas(16) uint8_t timer_stack[16384];
uint64_t timer_notification = 0;
uint64_t timer_endpoint = 0;
uint64_t armed_deadline = 0;  // what the kernel timer is set to (0: not armed)

[[noreturn]] void timer_thread() {
  for (;;) {
    (void)sys::wait(timer_notification);
    sys::MessageRegisters mr;
    (void)sys::call(timer_endpoint, 0, mr, 0);
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

void timer_expired() {
  armed_deadline = 0;
  uint64_t now = sys::clock_ns();
  update_load_averages(now);
  for (Process* p = first_process(); p != nullptr; p = p->next) {
    if (p->state != ProcessState::kRunning || p->alarm_deadline == 0 || p->alarm_deadline > now)
      continue;
    p->alarm_deadline = p->alarm_interval != 0 ? now + p->alarm_interval : 0;
    raise_signal(p, 14);  // SIGALRM
  }
}

void arm_timer() {
  uint64_t earliest = 0;
  auto consider = [&](uint64_t deadline) {
    if (deadline != 0 && (earliest == 0 || deadline < earliest)) earliest = deadline;
  };
  for (Process* p = first_process(); p != nullptr; p = p->next) {
    if (p->state != ProcessState::kRunning) continue;
    consider(p->alarm_deadline);
    for (Thread* t = p->threads; t != nullptr; t = t->next) consider(t->sleep_deadline);
  }
  if (next_load_step() == 0) update_load_averages(sys::clock_ns());  // the first step's time
  consider(next_load_step());
  // The kernel is asked only when the earliest deadline changes (a cancel when none is left).
  if (earliest == armed_deadline || timer_notification == 0) return;
  if (sys::set_timer(timer_notification, earliest) == abi::Error::kNone) armed_deadline = earliest;
}

}  // namespace posix
