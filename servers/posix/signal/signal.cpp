// SPDX-License-Identifier: MIT
// Signals: actions and masks recorded, default actions carried out (handlers not run yet).
#include <stddef.h>
#include <string.h>

#include "kernel/sched_tracepoints.hpp"
#include "kernel/syscalls.hpp"
#include "tty/console.hpp"

namespace posix {

namespace {

constexpr uint64_t kSigDefault = 0, kSigIgnore = 1;
constexpr int kSigKill = 9, kSigChld = 17, kSigCont = 18, kSigStop = 19;
constexpr uint64_t kSaNoCldStop = 1;
constexpr uint64_t kStopSignals = (1ull << (19 - 1)) | (1ull << (20 - 1)) | (1ull << (21 - 1)) |
                                  (1ull << (22 - 1));  // SIGSTOP SIGTSTP SIGTTIN SIGTTOU

bool is_stop_signal(int signal) { return (kStopSignals & (1ull << (signal - 1))) != 0; }

// What SIG_DFL does (signal(7)): true when it ends the process.
bool default_terminates(int signal) {
  switch (signal) {
    case 17:
    case 18:
    case 23:
    case 28:  // SIGCHLD SIGCONT SIGURG SIGWINCH: ignored
    case 19:
    case 20:
    case 21:
    case 22:  // stops (act() stops the process)
      return false;
    default: return true;
  }
}

// The parent learns of a stop or a continue: SIGCHLD, unless it asked for none (SA_NOCLDSTOP)
// or ignores it; a parent blocked in wait4 is retried by the serve loop.
void report_to_parent(Process* child) {
  Process* parent = find_process(child->ppid);
  if (parent == nullptr || parent->state != ProcessState::kRunning) return;
  const SigAction& action = parent->actions[kSigChld];
  if (action.handler == kSigIgnore || (action.flags & kSaNoCldStop) != 0) return;
  raise_signal(parent, kSigChld);
}

// Job control (signal(7)): SIGCONT resumes and drops pending stops; a stop signal whose action
// is the default stops and drops a pending SIGCONT. GAP: a process that makes no system call
// stops only at its next one (a stopped process's calls are not served), and stops of orphaned
// process groups are not discarded.
void job_control(Process* target, int signal) {
  if (signal == kSigCont) {
    target->pending_signals &= ~kStopSignals;
    if (target->stopped) {
      target->stopped = false;
      target->stop_report = 0;
      target->continue_report = true;
      report_to_parent(target);
    }
  } else if (is_stop_signal(signal)) {
    target->pending_signals &= ~(1ull << (kSigCont - 1));
    if (signal != kSigStop && target->actions[signal].handler != kSigDefault) return;
    if (target->stopped) return;
    target->stopped = true;
    target->stop_report = signal;
    target->continue_report = false;
    report_to_parent(target);
  }
}

bool act(Process* target, int signal);

// SIGCONT: what was sent while the process was stopped acts now. True when it ended.
bool deliver_held(Process* target) {
  uint64_t held = target->held_signals;
  target->held_signals = 0;
  while (held != 0) {
    int signal = __builtin_ctzll(held) + 1;
    held &= held - 1;
    if (act(target, signal)) return true;  // generated when it was sent
  }
  return false;
}

// signal_generate's result for `signal` about to be sent to `target`: ignored (its action is
// to ignore it and it is not blocked), already pending (a standard signal waiting for its
// handler), or delivered.
int generate_result(const Process* target, int signal) {
  uint64_t bit = 1ull << (signal - 1);
  uint64_t handler = target->actions[signal].handler;
  bool default_ignored = signal == kSigChld || signal == kSigCont || signal == 23 || signal == 28;
  if (signal != kSigKill && signal != kSigStop && (target->signal_mask & bit) == 0 &&
      (handler == kSigIgnore || (handler == kSigDefault && default_ignored))) {
    return kSignalIgnored;
  }
  if (signal < 32 && (target->pending_signals & bit) != 0) return kSignalAlreadyPending;
  return kSignalDelivered;
}

// Carries out `signal` for `target`; true when the target ended.
bool act(Process* target, int signal) {
  if (signal == 0 || target->state != ProcessState::kRunning) return false;
  if (target->stopped && signal != kSigKill && signal != kSigCont && !is_stop_signal(signal)) {
    // A stopped process wants no signal but SIGKILL and SIGCONT (complete_signal).
    target->held_signals |= 1ull << (signal - 1);
    return false;
  }
  bool was_stopped = target->stopped;
  job_control(target, signal);
  if (was_stopped && !target->stopped && deliver_held(target)) return true;
  const SigAction& action = target->actions[signal];
  if (signal != kSigKill && signal != kSigStop) {
    if (action.handler == kSigIgnore) return false;
    if (action.handler != kSigDefault) {
      // A handler runs when the target next returns from a system call; a blocked call is
      // interrupted for it. GAP: a process computing without system calls sees it only at
      // its next one.
      target->pending_signals |= 1ull << (signal - 1);
      if (target->blocked && (target->signal_mask & (1ull << (signal - 1))) == 0) {
        target->interrupted = true;
      }
      return false;
    }
  }
  if (!default_terminates(signal)) return false;
  finish_process(target, signal);
  return true;
}

// Sends `signal` to `target` (signal:signal_generate sees it with its si_code and group) and
// carries it out; true when the target ended.
bool deliver(Process* target, int signal, int code = kSiKernel, bool group = true) {
  if (signal == 0 || target->state != ProcessState::kRunning) return false;
  signal_generate(signal, code, *target, group, generate_result(target, signal));
  return act(target, signal);
}

}  // namespace

int64_t send_signal(Process* from, int64_t pid, int signal, int code, bool group) {
  int from_pid = from != nullptr ? from->pid : 0;
  bool self_ended = false;
  bool found = false;
  if (pid > 0) {
    Process* target = find_process(static_cast<int>(pid));
    if (target == nullptr || target->state == ProcessState::kZombie) return -rt::kESRCH;
    found = true;
    self_ended = deliver(target, signal, code, group) && target->pid == from_pid;
  } else {
    int pgrp = pid == 0 ? (from != nullptr ? from->pgid : 0) : static_cast<int>(-pid);
    // Collect first: delivering changes the table.
    int targets[256];
    int count = 0;
    for (Process* p = first_process(); p != nullptr && count < 256; p = p->next) {
      if (p->state != ProcessState::kRunning) continue;
      if (pid == -1 ? (p->pid != 1 && p->pid != from_pid) : p->pgid == pgrp) {
        targets[count++] = p->pid;
      }
    }
    for (int i = 0; i < count; ++i) {
      Process* p = find_process(targets[i]);
      if (p == nullptr) continue;
      found = true;
      if (deliver(p, signal, code, group) && targets[i] == from_pid) self_ended = true;
    }
    if (!found) return -rt::kESRCH;
  }
  return self_ended ? kNoReply : 0;
}

// ^C and friends from the console, to the foreground process group.
void console_signal(int signal) {
  (void)send_signal(nullptr, -static_cast<int64_t>(tty::foreground_group()), signal, kSiKernel);
}

int64_t sys_rt_sigaction(SyscallContext& c) {
  int signal = static_cast<int>(c.arg(0));
  if (signal < 1 || signal > kSignals || c.arg(3) != 8) return -rt::kEINVAL;
  SigAction old = c.process->actions[signal];
  if (c.arg(1) != 0) {
    if (signal == kSigKill || signal == kSigStop) return -rt::kEINVAL;
    SigAction action;
    if (auto r = user(c).copy_in(&action, c.arg(1), sizeof(action)); !r.ok()) return -rt::kEFAULT;
    c.process->actions[signal] = action;
  }
  if (c.arg(2) != 0) {
    if (auto r = user(c).copy_out(c.arg(2), &old, sizeof(old)); !r.ok()) return -rt::kEFAULT;
  }
  return 0;
}

int64_t sys_rt_sigprocmask(SyscallContext& c) {
  constexpr uint64_t kBlock = 0, kUnblock = 1, kSetMask = 2;
  if (c.arg(3) != 8) return -rt::kEINVAL;
  uint64_t old = c.process->signal_mask;
  if (c.arg(1) != 0) {
    uint64_t set;
    if (auto r = user(c).copy_in(&set, c.arg(1), 8); !r.ok()) return -rt::kEFAULT;
    set &= ~((1ull << (kSigKill - 1)) | (1ull << (kSigStop - 1)));
    switch (c.arg(0)) {
      case kBlock: c.process->signal_mask |= set; break;
      case kUnblock: c.process->signal_mask &= ~set; break;
      case kSetMask: c.process->signal_mask = set; break;
      default: return -rt::kEINVAL;
    }
  }
  if (c.arg(2) != 0) {
    if (auto r = user(c).copy_out(c.arg(2), &old, 8); !r.ok()) return -rt::kEFAULT;
  }
  return 0;
}

int64_t sys_sigaltstack(SyscallContext& c) {
  if (c.arg(1) != 0) {
    uint64_t disabled[3] = {0, 2, 0};  // ss_sp, ss_flags = SS_DISABLE, ss_size
    if (auto r = user(c).copy_out(c.arg(1), disabled, sizeof(disabled)); !r.ok()) {
      return -rt::kEFAULT;
    }
  }
  return 0;  // GAP: the alternate stack is recorded nowhere (no handlers run yet)
}

// Linux's x86-64 signal frame (arch/x86/include/uapi/asm/sigcontext.h, ucontext.h).
struct SigContext {
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2, fpstate;
  uint64_t reserved[8];
};
struct UContext {
  uint64_t uc_flags, uc_link;
  uint64_t ss_sp;
  int32_t ss_flags, pad;
  uint64_t ss_size;
  SigContext mcontext;
  uint64_t sigmask;
};
struct SigFrame {
  uint64_t pretcode;  // the handler returns here: sa_restorer, which calls rt_sigreturn
  UContext uc;
  uint8_t info[128];  // siginfo_t
};
static_assert(sizeof(SigContext) == 256 && sizeof(UContext) == 304);

namespace {
constexpr uint64_t kSaRestorer = 0x04000000, kSaRestart = 0x10000000;
constexpr uint64_t kSaNoDefer = 0x40000000, kSaResetHand = 0x80000000;
constexpr uint64_t kUnblockable = (1ull << (kSigKill - 1)) | (1ull << (kSigStop - 1));

bool restartable(uint64_t number) {
  switch (number) {
    case 0:
    case 1:
    case 7:
    case 17:
    case 18:
    case 19:
    case 20:
    case 61:
    case 271: return true;  // read write poll pread pwrite readv writev wait4 ppoll
    default: return false;
  }
}
}  // namespace

void raise_signal(Process* target, int signal, int code) { (void)deliver(target, signal, code); }

int64_t deliver_signals(SyscallContext& c, int64_t result) {
  Process* p = c.process;
  uint64_t deliverable = p->pending_signals & ~p->signal_mask;
  if (deliverable == 0 || p->memory == nullptr || p->state != ProcessState::kRunning) {
    p->interrupted = false;
    return result;
  }
  int signal = __builtin_ctzll(deliverable) + 1;
  p->pending_signals &= ~(1ull << (signal - 1));
  SigAction action = p->actions[signal];
  if (action.handler <= kSigIgnore) return result;
  abi::UserRegisters saved = c.registers;
  saved.rax = static_cast<uint64_t>(result);
  if (result == -rt::kEINTR && p->interrupted && (action.flags & kSaRestart) != 0 &&
      restartable(c.registers.rax)) {
    saved.rax = c.registers.rax;  // the call runs again after the handler
    saved.rip -= 2;
  }
  p->interrupted = false;
  uint64_t old_mask = p->in_suspend ? p->suspend_mask : p->signal_mask;
  p->in_suspend = false;
  SigFrame frame = {};
  frame.pretcode = action.restorer;
  frame.uc.ss_flags = 2;  // SS_DISABLE
  SigContext& m = frame.uc.mcontext;
  m.r8 = saved.r8;
  m.r9 = saved.r9;
  m.r10 = saved.r10;
  m.r11 = saved.r11;
  m.r12 = saved.r12;
  m.r13 = saved.r13;
  m.r14 = saved.r14;
  m.r15 = saved.r15;
  m.rdi = saved.rdi;
  m.rsi = saved.rsi;
  m.rbp = saved.rbp;
  m.rbx = saved.rbx;
  m.rdx = saved.rdx;
  m.rax = saved.rax;
  m.rcx = saved.rcx;
  m.rsp = saved.rsp;
  m.rip = saved.rip;
  m.eflags = saved.rflags;
  m.cs = 0x33;
  m.ss = 0x2b;
  m.oldmask = old_mask;
  frame.uc.sigmask = old_mask;
  int32_t info[4] = {signal, 0, 0, 0};  // si_signo, si_errno, si_code (SI_USER)
  memcpy(frame.info, info, sizeof(info));
  // Below the red zone; rsp + 8 is 16-byte aligned at the handler's entry, as after a call.
  uint64_t sp = ((saved.rsp - 128 - sizeof(SigFrame)) & ~uint64_t{15}) - 8;
  // GAP: FPU/SSE state is not saved in the frame (the kernel does not hand it out yet).
  if ((action.flags & kSaRestorer) == 0 || !user(c).copy_out(sp, &frame, sizeof(frame)).ok()) {
    finish_process(p, 11);  // as Linux: a frame that cannot be written is SIGSEGV
    return kNoReply;
  }
  p->signal_mask = (old_mask | action.mask) & ~kUnblockable;
  if ((action.flags & kSaNoDefer) == 0) p->signal_mask |= 1ull << (signal - 1);
  if ((action.flags & kSaResetHand) != 0) p->actions[signal] = SigAction{};
  abi::UserRegisters entry = saved;
  entry.rsp = sp;
  entry.rip = action.handler;
  entry.rdi = static_cast<uint64_t>(signal);
  entry.rsi = sp + offsetof(SigFrame, info);
  entry.rdx = sp + offsetof(SigFrame, uc);
  entry.rflags &= ~uint64_t{0x400};  // DF clear, as the ABI wants at a call
  c.registers = entry;
  c.replace_registers = true;
  return 0;
}

int64_t sys_rt_sigreturn(SyscallContext& c) {
  UContext uc;
  // The handler's `ret` popped pretcode: rsp points at the ucontext.
  if (!user(c).copy_in(&uc, c.registers.rsp, sizeof(uc)).ok()) {
    finish_process(c.process, 11);
    return kNoReply;
  }
  const SigContext& m = uc.mcontext;
  abi::UserRegisters& r = c.registers;
  r.r8 = m.r8;
  r.r9 = m.r9;
  r.r10 = m.r10;
  r.r11 = m.r11;
  r.r12 = m.r12;
  r.r13 = m.r13;
  r.r14 = m.r14;
  r.r15 = m.r15;
  r.rdi = m.rdi;
  r.rsi = m.rsi;
  r.rbp = m.rbp;
  r.rbx = m.rbx;
  r.rdx = m.rdx;
  r.rcx = m.rcx;
  r.rsp = m.rsp;
  r.rip = m.rip;
  // Only the flags a program may change (CF PF AF ZF SF TF DF OF); IF stays on.
  r.rflags = (m.eflags & 0xdd5) | 0x202;
  if (r.rip >= mm::kUserTop) {
    finish_process(c.process, 11);
    return kNoReply;
  }
  c.process->signal_mask = uc.sigmask & ~kUnblockable;
  c.replace_registers = true;
  return static_cast<int64_t>(m.rax);
}

int64_t sys_rt_sigsuspend(SyscallContext& c) {
  Process* p = c.process;
  if (!p->in_suspend) {
    if (c.arg(1) != 8) return -rt::kEINVAL;
    uint64_t mask;
    if (!user(c).copy_in(&mask, c.arg(0), 8).ok()) return -rt::kEFAULT;
    p->suspend_mask = p->signal_mask;
    p->signal_mask = mask & ~kUnblockable;
    p->in_suspend = true;
  }
  // The handler's frame saves suspend_mask, so the old mask returns after it.
  if ((p->pending_signals & ~p->signal_mask) != 0) return -rt::kEINTR;
  return kDeferred;
}

}  // namespace posix
