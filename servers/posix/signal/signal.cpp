// SPDX-License-Identifier: MIT
// Signals: actions and masks, default actions, handlers run on Linux's x86-64 signal frame
// (registers, mask and FPU state saved; rt_sigreturn restores them).
#include <stddef.h>
#include <string.h>

#include "kernel/sched_tracepoints.hpp"
#include "kernel/syscalls.hpp"
#include "tracing/uprobes.hpp"
#include "tty/console.hpp"

namespace posix {

namespace {

constexpr uint64_t kSigDefault = 0, kSigIgnore = 1;
constexpr int kSigKill = 9, kSigChld = 17, kSigCont = 18, kSigStop = 19;
constexpr uint64_t kSaNoCldStop = 1;
constexpr uint64_t kStopSignals = 0xfull << (19 - 1);  // SIGSTOP SIGTSTP SIGTTIN SIGTTOU: 19..22

bool is_stop_signal(int signal) { return (kStopSignals & (1ull << (signal - 1))) != 0; }

// What SIG_DFL does (signal(7)): true when it ends the process.
// SIGCHLD, SIGCONT, SIGURG and SIGWINCH are ignored; the stop signals stop (act() does it).
bool default_terminates(int signal) {
  constexpr uint64_t kIgnored =
      (1ull << (17 - 1)) | (1ull << (18 - 1)) | (1ull << (23 - 1)) | (1ull << (28 - 1));
  return ((kIgnored | kStopSignals) & (1ull << (signal - 1))) == 0;
}

// The parent learns of a stop or a continue: SIGCHLD, unless it asked for none (SA_NOCLDSTOP)
// or ignores it; a parent blocked in wait4 is retried by the serve loop.
void report_to_parent(Process* child) {
  Process* parent = find_process(child->ppid);
  if (parent == nullptr || parent->state != ProcessState::kRunning) return;
  const SigAction& action = parent->actions[kSigChld];
  if (action.handler == kSigIgnore || (action.flags & kSaNoCldStop) != 0) return;
  // CLD_STOPPED with the stop signal, or CLD_CONTINUED with SIGCONT (do_notify_parent_cldstop).
  SignalInfo info{child->stopped ? 5 : 6, child->pid, child->credentials.uid,
                  child->stopped ? child->stop_report : kSigCont};
  raise_signal(parent, kSigChld, info);
}

// Job control (signal(7)): SIGCONT resumes and drops pending stops; a stop signal whose action
// is the default stops and drops a pending SIGCONT. A stopped process's calls are not served;
// its threads in user mode are suspended after the message (signal/interrupt.cpp). SIGTSTP,
// SIGTTIN and SIGTTOU are discarded in an orphaned process group (no shell is left to continue
// it); SIGSTOP stops it still. Linux checks when the signal is taken, Sonde when it is sent.
void job_control(Process* target, int signal) {
  if (signal == kSigCont) {
    target->pending_signals &= ~kStopSignals;
    if (target->stopped) {
      note_child_event();
      target->stopped = false;
      target->stop_report = 0;
      target->continue_report = true;
      report_to_parent(target);
    }
  } else if (is_stop_signal(signal)) {
    target->pending_signals &= ~(1ull << (kSigCont - 1));
    if (signal != kSigStop &&
        (target->actions[signal].handler != kSigDefault || process_group_orphaned(target->pgid))) {
      return;
    }
    if (target->stopped) return;
    note_child_event();
    target->stopped = true;
    target->stop_report = signal;
    target->continue_report = false;
    report_to_parent(target);
  }
}

bool act(Process* target, int signal, Thread* to = nullptr, const SignalInfo* info = nullptr);

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

// Whether a handler's signal ends the thread's blocked call: not a vfork's wait for its child,
// which only a fatal signal ends (it ends the process).
bool interruptible(const Thread* thread) { return thread->blocked && thread->vfork_child == 0; }

// A handler's signal waits for a thread: `to` (tgkill) or any of the process's that does not
// block it. A blocked call of such a thread is interrupted for it (the first one found, as
// Linux wakes one thread; whichever thread next returns from a system call may take it
// first, and then the interrupted one waits on). `info`: what the handler will find (null: kept
// from when the signal was held); a standard signal already pending keeps its first sender's.
void make_pending(Process* target, int signal, Thread* to, const SignalInfo* info) {
  uint64_t bit = 1ull << (signal - 1);
  uint64_t pending = to != nullptr ? to->pending_signals : target->pending_signals;
  if (info != nullptr && signal >= kSigRtMin) {
    SignalQueue& queue = to != nullptr ? to->queued : target->queued;
    if (queue.count < kQueuedSignals) queue.entries[queue.count++] = QueuedSignal{signal, *info};
  } else if (info != nullptr && (pending & bit) == 0) {
    (to != nullptr ? to->pending_info : target->pending_info)[signal - 1] = *info;
  }
  if (to != nullptr) {
    to->pending_signals |= bit;
    if (interruptible(to) && (to->signal_mask & bit) == 0) to->interrupted = true;
    return;
  }
  target->pending_signals |= bit;
  for (Thread* t = target->threads; t != nullptr; t = t->next) {
    if (interruptible(t) && (t->signal_mask & bit) == 0) {
      t->interrupted = true;
      return;
    }
  }
}

// signal_generate's result for `signal` about to be sent to `target` (its thread `to`, or the
// process, whose first thread's mask stands for it): ignored (its action is to ignore it and
// it is not blocked), already pending (a standard signal waiting for its handler), or
// delivered.
int generate_result(const Process* target, int signal, const Thread* to) {
  uint64_t bit = 1ull << (signal - 1);
  uint64_t handler = target->actions[signal].handler;
  bool default_ignored = signal == kSigChld || signal == kSigCont || signal == 23 || signal == 28;
  const Thread* thread = to != nullptr ? to : target->threads;
  uint64_t mask = thread != nullptr ? thread->signal_mask : 0;
  uint64_t pending = target->pending_signals | (thread != nullptr ? thread->pending_signals : 0);
  if (signal != kSigKill && signal != kSigStop && (mask & bit) == 0 &&
      (handler == kSigIgnore || (handler == kSigDefault && default_ignored))) {
    return kSignalIgnored;
  }
  if (signal < 32 && (pending & bit) != 0) return kSignalAlreadyPending;
  return kSignalDelivered;
}

// Carries out `signal` for `target` (for its thread `to` when not null); true when the target
// ended.
bool act(Process* target, int signal, Thread* to, const SignalInfo* info) {
  if (signal == 0 || target->state != ProcessState::kRunning) return false;
  // init takes only the signals it has handlers for (Linux's SIGNAL_UNKILLABLE): ^C typed while
  // the shell that is pid 1 runs a loop of builtins reaches its handler, and nothing ends it.
  if (target->pid == 1 && target->actions[signal].handler == kSigDefault) return false;
  if (target->stopped && signal != kSigKill && signal != kSigCont && !is_stop_signal(signal)) {
    // A stopped process wants no signal but SIGKILL and SIGCONT (complete_signal). GAP: one
    // sent to a thread acts on the process at SIGCONT.
    uint64_t bit = 1ull << (signal - 1);
    if (info != nullptr && ((target->held_signals | target->pending_signals) & bit) == 0) {
      target->pending_info[signal - 1] = *info;
    }
    target->held_signals |= bit;
    return false;
  }
  bool was_stopped = target->stopped;
  job_control(target, signal);
  if (was_stopped && !target->stopped && deliver_held(target)) return true;
  const SigAction& action = target->actions[signal];
  if (signal != kSigKill && signal != kSigStop) {
    if (action.handler == kSigIgnore) return false;
    if (action.handler != kSigDefault) {
      // A handler runs when a thread next returns from a system call; a blocked call is
      // interrupted for it, and a thread running in user mode is, after this message
      // (signal/interrupt.cpp).
      make_pending(target, signal, to, info);
      return false;
    }
  }
  if (!default_terminates(signal)) return false;
  finish_process(target, signal);  // a fatal signal ends every thread, as Linux's
  return true;
}

// Sends `signal` to `target` (signal:signal_generate sees it with its si_code and group) and
// carries it out; true when the target ended.
bool deliver(Process* target, int signal, const SignalInfo& info, bool group = true,
             Thread* to = nullptr) {
  if (signal == 0 || target->state != ProcessState::kRunning) return false;
  signal_generate(signal, info.code, *target, group, generate_result(target, signal, to));
  return act(target, signal, to, &info);
}

}  // namespace

namespace {

constexpr int kEveryProcess = -1;  // kill(-1): every process but init and the sender

// Whether `from` (nullptr: the server itself) may send `signal` to `target` (Linux's
// check_kill_permission): its own process, root, a sender whose real or effective uid is the
// target's real or saved uid, or SIGCONT within a session.
bool may_signal(const Process* from, const Process* target, int signal) {
  if (from == nullptr || from == target) return true;
  const Credentials& sender = from->credentials;
  const Credentials& receiver = target->credentials;
  if (sender.euid == receiver.suid || sender.euid == receiver.uid || sender.uid == receiver.suid ||
      sender.uid == receiver.uid || sender.capable(kCapKill)) {
    return true;
  }
  return signal == kSigCont && from->sid == target->sid;
}

// Sends `signal` to process group `pgrp` (or kEveryProcess): 0 when it reached a member (for
// kEveryProcess: when there was any, as Linux's kill(-1) does not report EPERM), else EPERM
// or ESRCH. `self_ended` tells whether the process `from` ended.
int64_t send_to_many(const Process* from, int pgrp, int signal, const SignalInfo& info, bool group,
                     bool& self_ended) {
  int from_pid = from != nullptr ? from->pid : 0;
  // Collect first: delivering changes the table.
  int targets[256];
  int count = 0;
  for (Process* p = first_process(); p != nullptr && count < 256; p = p->next) {
    if (p->state != ProcessState::kRunning && p->state != ProcessState::kZombie) continue;
    if (pgrp == kEveryProcess ? (p->pid != 1 && p->pid != from_pid) : p->pgid == pgrp) {
      targets[count++] = p->pid;
    }
  }
  bool found = false, reached = false;
  for (int i = 0; i < count; ++i) {
    Process* p = find_process(targets[i]);
    if (p == nullptr) continue;
    found = true;
    if (!may_signal(from, p, signal)) continue;
    reached = true;
    if (p->state == ProcessState::kZombie) continue;  // there until reaped, past signals
    if (deliver(p, signal, info, group) && targets[i] == from_pid) self_ended = true;
  }
  if (!found) return -rt::kESRCH;
  return reached || pgrp == kEveryProcess ? 0 : -rt::kEPERM;
}

// The siginfo of a signal `from` sends with si_code `code`: its pid and real uid, unless the
// kernel sends it (SI_KERNEL: no sender).
SignalInfo sent_by(const Process* from, int code) {
  SignalInfo info;
  info.code = code;
  if (from != nullptr && code != kSiKernel) {
    info.pid = from->pid;
    info.uid = from->credentials.uid;
  }
  return info;
}

// Where a signal for `pid` (> 0) goes: a thread's id names its process (Linux's find_vpid); a
// zombie too (it is there until reaped).
Process* signal_target(int64_t pid) {
  Process* target = find_process(static_cast<int>(pid));
  if (target == nullptr) {
    Thread* thread = find_thread(static_cast<int>(pid));
    target = thread != nullptr ? thread->process : nullptr;
  }
  return target;
}

}  // namespace

int64_t send_signal(Process* from, int64_t pid, int signal, int code, bool group) {
  int from_pid = from != nullptr ? from->pid : 0;
  bool self_ended = false;
  SignalInfo info = sent_by(from, code);
  if (pid > 0) {
    Process* target = signal_target(pid);
    if (target == nullptr) return -rt::kESRCH;
    if (!may_signal(from, target, signal)) return -rt::kEPERM;
    // A zombie is there until its parent reaps it: the signal succeeds and does nothing (kill
    // -0 of an exited, unwaited child is 0 on Linux).
    if (target->state == ProcessState::kZombie) return 0;
    self_ended = deliver(target, signal, info, group) && target->pid == from_pid;
  } else {
    int pgrp = pid == 0 ? (from != nullptr ? from->pgid : 0) : static_cast<int>(-pid);
    int64_t sent =
        send_to_many(from, pid == -1 ? kEveryProcess : pgrp, signal, info, group, self_ended);
    if (sent < 0) return sent;
  }
  return self_ended ? kNoReply : 0;
}

int64_t queue_signal(Process* from, int64_t pid, int signal, const SignalInfo& info) {
  Process* target = pid > 0 ? signal_target(pid) : nullptr;  // one process (kill_proc_info)
  if (target == nullptr) return -rt::kESRCH;
  if (!may_signal(from, target, signal)) return -rt::kEPERM;
  if (target->state == ProcessState::kZombie) return 0;
  bool ended = deliver(target, signal, info, true);
  return ended && target == from ? kNoReply : 0;
}

int64_t send_thread_signal(Process* from, int tgid, int tid, int signal, const SignalInfo* info) {
  Thread* thread = find_thread(tid);
  if (thread == nullptr || (tgid != 0 && thread->process->pid != tgid)) return -rt::kESRCH;
  Process* target = thread->process;
  if (target->state != ProcessState::kRunning) return -rt::kESRCH;
  if (!may_signal(from, target, signal)) return -rt::kEPERM;
  bool ended =
      deliver(target, signal, info != nullptr ? *info : sent_by(from, kSiTkill), false, thread);
  return ended && target == from ? kNoReply : 0;
}

// ^C and friends from the console, to the foreground process group (init's, 1, is a group like
// any other here, not kill(-1)'s every process).
void console_signal(int signal) {
  bool self_ended = false;
  (void)send_to_many(nullptr, tty::foreground_group(), signal, SignalInfo{}, true, self_ended);
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
  uint64_t& mask = c.thread->signal_mask;  // each thread's own
  uint64_t old = mask;
  if (c.arg(1) != 0) {
    uint64_t set;
    if (auto r = user(c).copy_in(&set, c.arg(1), 8); !r.ok()) return -rt::kEFAULT;
    set &= ~((1ull << (kSigKill - 1)) | (1ull << (kSigStop - 1)));
    switch (c.arg(0)) {
      case kBlock: mask |= set; break;
      case kUnblock: mask &= ~set; break;
      case kSetMask: mask = set; break;
      default: return -rt::kEINVAL;
    }
  }
  if (c.arg(2) != 0) {
    if (auto r = user(c).copy_out(c.arg(2), &old, 8); !r.ok()) return -rt::kEFAULT;
  }
  return 0;
}

namespace {
constexpr int32_t kSsOnStack = 1, kSsDisable = 2;
constexpr uint32_t kSsAutoDisarm = 1u << 31;
constexpr uint64_t kMinSigStackSize = 2048;

bool on_altstack(const Thread* t, uint64_t sp) {
  return t->altstack_flags != kSsDisable && sp > t->altstack_sp &&
         sp - t->altstack_sp <= t->altstack_size;
}
}  // namespace

// sigaltstack(ss, old_ss): each thread's alternate stack for SA_ONSTACK handlers.
int64_t sys_sigaltstack(SyscallContext& c) {
  struct StackT {
    uint64_t sp;
    int32_t flags, pad;
    uint64_t size;
  };
  Thread* t = c.thread;
  bool on = on_altstack(t, c.registers.rsp);
  StackT old = {t->altstack_sp, on ? kSsOnStack : t->altstack_flags, 0, t->altstack_size};
  if (c.arg(0) != 0) {
    StackT wanted;
    if (!user(c).copy_in(&wanted, c.arg(0), sizeof(wanted)).ok()) return -rt::kEFAULT;
    if (on) return -rt::kEPERM;
    uint32_t mode = static_cast<uint32_t>(wanted.flags) & ~kSsAutoDisarm;
    if (mode != 0 && mode != static_cast<uint32_t>(kSsDisable) &&
        mode != static_cast<uint32_t>(kSsOnStack)) {
      return -rt::kEINVAL;
    }
    if (mode == static_cast<uint32_t>(kSsDisable)) {
      t->altstack_sp = t->altstack_size = 0;
      t->altstack_flags = kSsDisable;
    } else {
      if (wanted.size < kMinSigStackSize) return -rt::kENOMEM;
      t->altstack_sp = wanted.sp;
      t->altstack_size = wanted.size;
      t->altstack_flags = 0;  // GAP: SS_AUTODISARM is accepted and not acted on
    }
  }
  if (c.arg(1) != 0) {
    if (auto r = user(c).copy_out(c.arg(1), &old, sizeof(old)); !r.ok()) return -rt::kEFAULT;
  }
  return 0;
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

// The FPU state in a signal frame, as Linux lays it out on an XSAVE machine whose enabled
// state is x87 and SSE (arch/x86/include/uapi/asm/sigcontext.h): the fxsave area, whose
// software bytes describe what follows, the XSAVE header, and a second magic number after
// the area. uc_mcontext.fpstate points at it, 64-byte aligned. Without XSAVE (CPUID; QEMU's
// default qemu64 CPU) Linux writes the fxsave area alone, its software bytes saying so
// (xstate_size 512), and restores only that (arch/x86/kernel/fpu/signal.c).
struct FpSoftware {  // struct _fpx_sw_bytes, at byte 464 of the fxsave area
  uint32_t magic1;
  uint32_t extended_size;  // the whole of FpFrame
  uint64_t xfeatures;
  uint32_t xstate_size;  // the fxsave area and the header: where magic2 is
  uint32_t padding[7];
};
struct FpFrame {
  uint8_t legacy[464];  // fxsave64 layout: FCW at 0, MXCSR at 24, st0.. at 32, xmm0.. at 160
  FpSoftware software;
  uint64_t xstate_bv;  // the XSAVE header: the components the area holds
  uint64_t xcomp_bv;
  uint64_t header_reserved[6];
  uint32_t magic2;
} __attribute__((packed));
static_assert(sizeof(FpSoftware) == 48 && sizeof(FpFrame) == 580);

namespace {
constexpr uint64_t kSaRestorer = 0x04000000, kSaOnStack = 0x08000000, kSaRestart = 0x10000000;
constexpr uint64_t kSaNoDefer = 0x40000000, kSaResetHand = 0x80000000;
constexpr uint64_t kUnblockable = (1ull << (kSigKill - 1)) | (1ull << (kSigStop - 1));

constexpr uint32_t kFpMagic1 = 0x46505853, kFpMagic2 = 0x46505845;
constexpr uint64_t kUcFpXstate = 1;  // uc_flags: fpstate is an XSAVE-style area
constexpr uint64_t kFpXsaveSize = offsetof(FpFrame, magic2);  // 576
constexpr uint64_t kFpFeatures = abi::tcb_message::kFpuX87 | abi::tcb_message::kFpuSse;
constexpr size_t kFpMxcsr = abi::tcb_message::kFpuMxcsrOffset;
constexpr size_t kFpXmm = 160;  // xmm0 in the fxsave area
constexpr size_t kFpSoftware = offsetof(FpFrame, software);
constexpr uint32_t kFxSize = 512;  // the fxsave area, the whole fpstate without XSAVE

// CPUID.1:ECX.XSAVE: whether Linux would write (and read back) an XSAVE-style fpstate.
bool cpu_has_xsave() {
  uint32_t eax = 1, ebx, ecx = 0, edx;
  __asm__("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
  return (ecx & (1u << 26)) != 0;
}

// The thread's x87/SSE state, the 512-byte fxsave area (TCB ReadFpu).
bool read_fpu(uint64_t tcb, uint8_t (&area)[512]) {
  namespace m = abi::tcb_message;
  sys::MessageRegisters out;
  abi::MessageInfo info;
  if (sys::invoke(tcb, abi::Label::kTcbReadFpu, nullptr, 0, &out, &info) != abi::Error::kNone ||
      info.length != m::kFpuLength || sys::message_word(out, m::kFpuFeatures) != kFpFeatures) {
    return false;
  }
  for (uint64_t i = 0; i < 64; ++i) {
    uint64_t word = sys::message_word(out, m::kFpuArea + i);
    memcpy(area + 8 * i, &word, 8);
  }
  return true;
}

// Replaces it (TCB WriteFpu); false when the kernel refuses it (a reserved MXCSR bit).
bool write_fpu(uint64_t tcb, const uint8_t (&area)[512]) {
  namespace m = abi::tcb_message;
  uint64_t words[m::kFpuLength];
  words[m::kFpuFeatures] = kFpFeatures;
  memcpy(&words[m::kFpuArea], area, sizeof(area));
  return sys::invoke(tcb, abi::Label::kTcbWriteFpu, words) == abi::Error::kNone;
}

// Parts of the initial state (what a handler starts with, as after Linux's fpu reset).
void init_x87(uint8_t (&area)[512]) {
  memset(area, 0, kFpMxcsr);          // FCW FSW FTW FOP FIP FDP
  memset(area + 32, 0, kFpXmm - 32);  // st0..st7
  uint16_t control = 0x37f;           // every x87 exception masked, extended precision
  memcpy(area, &control, sizeof(control));
}
void init_sse(uint8_t (&area)[512]) { memset(area + kFpXmm, 0, 16 * 16); }
void init_mxcsr(uint8_t (&area)[512]) {
  uint32_t mxcsr = 0x1f80;  // every SSE exception masked, round to nearest
  memcpy(area + kFpMxcsr, &mxcsr, sizeof(mxcsr));
}
void init_fpu(uint8_t (&area)[512]) {
  memset(area, 0, sizeof(area));
  init_x87(area);
  init_mxcsr(area);
}

// The state rt_sigreturn restores from the frame's fpstate at `address`, as Linux reads it: an
// XSAVE-style area when its magic numbers and sizes say so (components outside xfeatures or
// xstate_bv go back to their initial state), else the plain fxsave area. False for what Linux
// answers with SIGSEGV: memory that cannot be read, a misaligned area, or one XRSTOR would
// refuse (xstate_bv with components the thread does not have, a nonzero XCOMP_BV).
bool fpu_from_frame(SyscallContext& c, uint64_t address, uint8_t (&area)[512]) {
  if (address == 0) {  // no state: the initial one
    init_fpu(area);
    return true;
  }
  if (address % 16 != 0 || !user(c).copy_in(area, address, sizeof(area)).ok()) return false;
  FpSoftware software;
  memcpy(&software, area + kFpSoftware, sizeof(software));
  memset(area + kFpSoftware, 0, sizeof(area) - kFpSoftware);
  if (!cpu_has_xsave()) return true;  // Linux's FXRSTOR of the area, its software bytes unread
  uint32_t magic2 = 0;
  bool xsave = software.magic1 == kFpMagic1 && software.xstate_size == kFpXsaveSize &&
               software.extended_size >= software.xstate_size &&
               user(c).copy_in(&magic2, address + software.xstate_size, 4).ok() &&
               magic2 == kFpMagic2;
  if (!xsave) return true;  // the fxsave area alone
  uint64_t header[3];
  if (address % 64 != 0 || !user(c).copy_in(header, address + 512, sizeof(header)).ok()) {
    return false;
  }
  uint64_t xstate_bv = header[0];
  if ((xstate_bv & ~kFpFeatures) != 0 || header[1] != 0 || header[2] != 0) return false;
  uint64_t restored = software.xfeatures & xstate_bv;
  if ((restored & abi::tcb_message::kFpuX87) == 0) init_x87(area);
  if ((restored & abi::tcb_message::kFpuSse) == 0) init_sse(area);
  if ((software.xfeatures & abi::tcb_message::kFpuSse) == 0) init_mxcsr(area);
  return true;
}

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

void raise_signal(Process* target, int signal, int code) {
  SignalInfo info;
  info.code = code;
  (void)deliver(target, signal, info);
}

void raise_signal(Process* target, int signal, const SignalInfo& info) {
  (void)deliver(target, signal, info);
}

int take_signal(Thread* t, SignalInfo* info) {
  Process* p = t->process;
  uint64_t deliverable = deliverable_signals(t);
  if (deliverable == 0) return 0;
  // The thread's own signals first, then the process's (as Linux's dequeue_signal).
  uint64_t own = t->pending_signals & ~t->signal_mask;
  int signal = __builtin_ctzll(own != 0 ? own : deliverable) + 1;
  uint64_t& pending = own != 0 ? t->pending_signals : p->pending_signals;
  SignalInfo taken = (own != 0 ? t->pending_info : p->pending_info)[signal - 1];
  bool more = false;  // a real-time signal sent again stays pending for its next instance
  if (signal >= kSigRtMin) {
    SignalQueue& queue = own != 0 ? t->queued : p->queued;
    uint32_t first = queue.count;
    for (uint32_t i = 0; i < queue.count; ++i) {
      if (queue.entries[i].signal != signal) continue;
      if (first == queue.count) {
        first = i;
      } else {
        more = true;
        break;
      }
    }
    if (first < queue.count) {
      taken = queue.entries[first].info;
      for (uint32_t i = first + 1; i < queue.count; ++i) queue.entries[i - 1] = queue.entries[i];
      --queue.count;
    }
  }
  if (!more) pending &= ~(1ull << (signal - 1));
  if (info != nullptr) *info = taken;
  return signal;
}

bool signal_has_handler(const Process* p, int signal) {
  return p->actions[signal].handler > kSigIgnore;
}

bool setup_signal_frame(Thread* t, int signal, abi::UserRegisters& registers,
                        const FaultSignal* fault, const SignalInfo* info) {
  Process* p = t->process;
  SigAction action = p->actions[signal];
  const abi::UserRegisters saved = registers;
  uint64_t old_mask = t->in_suspend ? t->suspend_mask : t->signal_mask;
  t->in_suspend = false;
  // Below the red zone (or at the top of the alternate stack for SA_ONSTACK): the interrupted
  // FPU state, 64-byte aligned, then the rest of the frame below it; rsp + 8 is 16-byte
  // aligned at the handler's entry, as after a call.
  bool on_stack = on_altstack(t, saved.rsp);
  uint64_t top = saved.rsp - 128;
  if ((action.flags & kSaOnStack) != 0 && t->altstack_flags == 0 && !on_stack) {
    top = t->altstack_sp + t->altstack_size;
  }
  bool xsave = cpu_has_xsave();
  uint64_t fp_size = xsave ? sizeof(FpFrame) : kFxSize;
  uint64_t fp_address = (top - fp_size) & ~uint64_t{63};
  uint64_t sp = ((fp_address - sizeof(SigFrame)) & ~uint64_t{15}) - 8;
  FpFrame fp = {};
  uint8_t area[512];
  bool have_fpu = read_fpu(t->tcb, area);
  memcpy(fp.legacy, area, sizeof(fp.legacy));
  fp.software.magic1 = kFpMagic1;
  fp.software.extended_size = xsave ? sizeof(FpFrame) : kFxSize + sizeof(fp.magic2);
  fp.software.xfeatures = kFpFeatures;
  fp.software.xstate_size = xsave ? kFpXsaveSize : kFxSize;
  fp.xstate_bv = kFpFeatures;
  fp.magic2 = kFpMagic2;
  SigFrame frame = {};
  frame.pretcode = action.restorer;
  frame.uc.uc_flags = xsave ? kUcFpXstate : 0;
  frame.uc.ss_sp = t->altstack_sp;
  frame.uc.ss_flags = on_stack ? kSsOnStack : t->altstack_flags;
  frame.uc.ss_size = t->altstack_size;
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
  m.rip = uprobes_user_address(p, saved.rip);
  m.eflags = saved.rflags;
  m.cs = 0x33;
  m.ss = 0x2b;
  m.oldmask = old_mask;
  m.fpstate = fp_address;
  frame.uc.sigmask = old_mask;
  // si_signo, si_errno, si_code, then a fault's si_addr, or the sender's si_pid and si_uid
  // (SIGCHLD: the child's, and si_status).
  int32_t head[4] = {
      signal, 0, fault != nullptr ? fault->code : (info != nullptr ? info->code : kSiKernel), 0};
  memcpy(frame.info, head, sizeof(head));
  if (fault != nullptr) {
    memcpy(frame.info + sizeof(head), &fault->address, sizeof(fault->address));
  } else if (info != nullptr) {
    int32_t sender[2] = {info->pid, static_cast<int32_t>(info->uid)};
    memcpy(frame.info + sizeof(head), sender, sizeof(sender));
    memcpy(frame.info + sizeof(head) + sizeof(sender), &info->value, sizeof(info->value));
  }
  // The handler starts with the initial FPU state (as Linux resets it for a handler).
  uint8_t clean[512];
  init_fpu(clean);
  mm::AddressSpace& memory = *p->memory;
  if ((action.flags & kSaRestorer) == 0 || !have_fpu ||
      !memory.copy_out(fp_address, &fp, fp_size).ok() ||
      !memory.copy_out(sp, &frame, sizeof(frame)).ok() || !write_fpu(t->tcb, clean)) {
    return false;
  }
  t->signal_mask = (old_mask | action.mask) & ~kUnblockable;
  if ((action.flags & kSaNoDefer) == 0) t->signal_mask |= 1ull << (signal - 1);
  if ((action.flags & kSaResetHand) != 0) p->actions[signal] = SigAction{};
  registers.rsp = sp;
  registers.rip = action.handler;
  registers.rdi = static_cast<uint64_t>(signal);
  registers.rsi = sp + offsetof(SigFrame, info);
  registers.rdx = sp + offsetof(SigFrame, uc);
  registers.rflags &= ~uint64_t{0x400};  // DF clear, as the ABI wants at a call
  return true;
}

bool deliver_fault_signal(Thread* t, int signal, const FaultSignal& fault,
                          abi::UserRegisters& registers) {
  Process* p = t->process;
  // Linux's force_sig_fault: a blocked or ignored fault signal is not taken, it ends the process.
  if (p->memory == nullptr || !signal_has_handler(p, signal) ||
      (t->signal_mask & (1ull << (signal - 1))) != 0) {
    return false;
  }
  return setup_signal_frame(t, signal, registers, &fault);
}

int64_t deliver_signals(SyscallContext& c, int64_t result) {
  Process* p = c.process;
  Thread* t = c.thread;
  if (p->memory == nullptr || p->state != ProcessState::kRunning) return result;
  SignalInfo info;
  int signal = take_signal(t, &info);
  if (signal == 0) {
    t->interrupted = false;
    return result;
  }
  if (!signal_has_handler(p, signal)) return result;
  abi::UserRegisters registers = c.registers;
  registers.rax = static_cast<uint64_t>(result);
  if (result == -rt::kEINTR && t->interrupted && (p->actions[signal].flags & kSaRestart) != 0 &&
      restartable(c.registers.rax)) {
    registers.rax = c.registers.rax;  // the call runs again after the handler
    registers.rip -= 2;
  }
  t->interrupted = false;
  if (!setup_signal_frame(t, signal, registers, nullptr, &info)) {
    tty::log("posix: pid %d: SIGSEGV: no frame below 0x%lx\n", p->pid, registers.rsp);
    finish_process(p, 11);  // as Linux: a frame that cannot be written is SIGSEGV
    return kNoReply;
  }
  c.registers = registers;
  c.replace_registers = true;
  return 0;
}

int64_t sys_rt_sigreturn(SyscallContext& c) {
  UContext uc;
  // The handler's `ret` popped pretcode: rsp points at the ucontext.
  if (!user(c).copy_in(&uc, c.registers.rsp, sizeof(uc)).ok()) {
    tty::log("posix: pid %d: SIGSEGV: no frame at 0x%lx\n", c.process->pid, c.registers.rsp);
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
  // The FPU state from the frame (the handler may have changed it, or the whole frame):
  // what the kernel would refuse (a reserved MXCSR bit) is SIGSEGV, as Linux's fault on it.
  uint8_t area[512];
  if (r.rip >= mm::kUserTop || !fpu_from_frame(c, m.fpstate, area) ||
      !write_fpu(c.thread->tcb, area)) {
    tty::log("posix: pid %d: SIGSEGV: a frame's rip or FPU state refused\n", c.process->pid);
    finish_process(c.process, 11);
    return kNoReply;
  }
  c.thread->signal_mask = uc.sigmask & ~kUnblockable;
  c.replace_registers = true;
  return static_cast<int64_t>(m.rax);
}

// pause: waits until a signal's handler runs (or the process ends).
int64_t sys_pause(SyscallContext& c) {
  return deliverable_signals(c.thread) != 0 ? -rt::kEINTR : kDeferred;
}

// rt_sigpending: the blocked signals waiting, the thread's and its process's.
int64_t sys_rt_sigpending(SyscallContext& c) {
  if (c.arg(1) > 8) return -rt::kEINVAL;
  Thread* t = c.thread;
  uint64_t pending = (t->pending_signals | c.process->pending_signals) & t->signal_mask;
  return to_rax(user(c).copy_out(c.arg(0), &pending, c.arg(1)));
}

int64_t sys_rt_sigsuspend(SyscallContext& c) {
  Thread* p = c.thread;
  if (!p->in_suspend) {
    if (c.arg(1) != 8) return -rt::kEINVAL;
    uint64_t mask;
    if (!user(c).copy_in(&mask, c.arg(0), 8).ok()) return -rt::kEFAULT;
    p->suspend_mask = p->signal_mask;
    p->signal_mask = mask & ~kUnblockable;
    p->in_suspend = true;
  }
  // The handler's frame saves suspend_mask, so the old mask returns after it.
  if (deliverable_signals(p) != 0) return -rt::kEINTR;
  return kDeferred;
}

}  // namespace posix
