// SPDX-License-Identifier: MIT
// Signals for threads running in user mode: the server suspends the thread's TCB, then stops
// it (its process is stopped), resumes it (SIGCONT), or writes the handler's frame and starts
// the handler there, as Linux interrupts a running task.
//
// Why this is race-free: the server is the only one that answers a Linux thread's system calls
// and faults, and it runs one message at a time, so a thread is either waiting for an answer
// the server knows of (Thread::blocked, or the call being answered now) or not in the server.
// A fault the thread sent that the server has not received yet is taken back by TCB Suspend
// (the kernel leaves the thread before the faulting instruction), so a suspended thread has
// no call in flight, and resuming it runs that call again. A signal is taken from the pending
// sets once (take_signal), by this pass or by the return from a system call.
#include <string.h>

#include "sys/syscall.hpp"
#include "task/process.hpp"
#include "tty/console.hpp"

namespace posix {

namespace {

using abi::Error;
using abi::Label;

// Not waiting for an answer from the server: running, runnable, or about to fault.
bool in_user_mode(const Thread* t, int serving_tid) {
  return !t->blocked && t->tid != serving_tid && t->tcb != 0;
}

bool suspend(const Thread* t) { return sys::invoke(t->tcb, Label::kTcbSuspend) == Error::kNone; }

void resume(const Thread* t) { (void)sys::invoke(t->tcb, Label::kTcbResume); }

bool read_registers(const Thread* t, abi::UserRegisters& registers) {
  sys::MessageRegisters out;
  abi::MessageInfo info;
  if (sys::invoke(t->tcb, Label::kTcbReadRegisters, nullptr, 0, &out, &info) != Error::kNone ||
      info.length != abi::kUserRegisterWords) {
    return false;
  }
  auto* words = reinterpret_cast<uint64_t*>(&registers);
  for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = sys::message_word(out, i);
  return true;
}

bool write_registers_and_resume(const Thread* t, const abi::UserRegisters& registers) {
  uint64_t words[1 + abi::kUserRegisterWords];
  words[0] = abi::tcb_message::kWriteResume;
  memcpy(&words[1], &registers, sizeof(registers));
  return sys::invoke(t->tcb, Label::kTcbWriteRegisters, words) == Error::kNone;
}

// The suspended thread `t` takes its next signal: its handler runs (the frame over the
// interrupted registers, rax as it was), or, with no handler left, it goes on. False when its
// process ended (a frame that cannot be written is SIGSEGV, as Linux).
bool take_next_signal(Thread* t) {
  Process* p = t->process;
  // A thread parked instead of answered starts with what the answer held; the others go on
  // from where they were suspended.
  bool answered = t->parked_answer;
  t->parked_answer = false;
  abi::UserRegisters registers = t->saved;
  SignalInfo info;
  int signal = take_signal(t, &info);
  if (signal == 0 || !signal_has_handler(p, signal)) {
    if (!answered) {
      resume(t);
      return true;
    }
    if (write_registers_and_resume(t, registers)) return true;
    tty::log("posix: pid %d (%s): SIGSEGV: its registers could not be restored\n", p->pid, p->comm);
    finish_process(p, 11);
    return false;
  }
  int step = 0;
  if ((!answered && !read_registers(t, registers)) ||
      (step = 1, !setup_signal_frame(t, signal, registers, nullptr, &info)) ||
      (step = 2, !write_registers_and_resume(t, registers))) {
    static const char* const kSteps[] = {"its registers", "its frame", "its handler's start"};
    tty::log("posix: pid %d (%s): SIGSEGV: signal %d: %s could not be set (rsp 0x%lx)\n", p->pid,
             p->comm, signal, kSteps[step], registers.rsp);
    finish_process(p, 11);
    return false;
  }
  return true;
}

// One walk over the table; false when a process ended (the table changed: walk again).
bool interrupt_pass(int serving_tid) {
  for (Process* p = first_process(); p != nullptr; p = p->next) {
    if (p->state != ProcessState::kRunning || p->memory == nullptr) continue;
    for (Thread* t = p->threads; t != nullptr; t = t->next) {
      if (p->stopped) {
        if (!t->parked && in_user_mode(t, serving_tid) && suspend(t)) t->parked = true;
        continue;
      }
      if (!t->parked) {
        if (!in_user_mode(t, serving_tid) || deliverable_signals(t) == 0 || !suspend(t)) continue;
      }
      t->parked = false;
      if (!take_next_signal(t)) return false;
    }
  }
  return true;
}

}  // namespace

void interrupt_user_threads(int serving_tid) {
  for (int round = 0; round < 16; ++round) {
    if (interrupt_pass(serving_tid)) return;
  }
}

}  // namespace posix
