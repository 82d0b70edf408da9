// SPDX-License-Identifier: MIT
// Signals: actions and masks recorded, default actions carried out (handlers not run yet).
#include <string.h>

#include "kernel/syscalls.hpp"
#include "tty/console.hpp"

namespace posix {

namespace {

constexpr uint64_t kSigDefault = 0, kSigIgnore = 1;
constexpr int kSigKill = 9, kSigStop = 19;

// What SIG_DFL does (signal(7)): true when it ends the process.
bool default_terminates(int signal) {
  switch (signal) {
    case 17: case 18: case 23: case 28:  // SIGCHLD SIGCONT SIGURG SIGWINCH: ignored
    case 19: case 20: case 21: case 22:  // stops: GAP, job control stops are not done yet
      return false;
    default:
      return true;
  }
}

// Delivers `signal` to `target`; true when the target ended.
bool deliver(Process* target, int signal) {
  if (signal == 0 || target->state != ProcessState::kRunning) return false;
  const SigAction& action = target->actions[signal];
  if (signal != kSigKill && signal != kSigStop) {
    if (action.handler == kSigIgnore) return false;
    if (action.handler != kSigDefault) {
      // GAP: user handlers are not run yet (no signal frames); the signal is dropped.
      return false;
    }
  }
  if (!default_terminates(signal)) return false;
  finish_process(target, signal);
  return true;
}

}  // namespace

int64_t send_signal(Process* from, int64_t pid, int signal) {
  int from_pid = from != nullptr ? from->pid : 0;
  bool self_ended = false;
  bool found = false;
  if (pid > 0) {
    Process* target = find_process(static_cast<int>(pid));
    if (target == nullptr || target->state == ProcessState::kZombie) return -rt::kESRCH;
    found = true;
    self_ended = deliver(target, signal) && target->pid == from_pid;
  } else {
    int group = pid == 0 ? (from != nullptr ? from->pgid : 0) : static_cast<int>(-pid);
    // Collect first: delivering changes the table.
    int targets[256];
    int count = 0;
    for (Process* p = first_process(); p != nullptr && count < 256; p = p->next) {
      if (p->state != ProcessState::kRunning) continue;
      if (pid == -1 ? (p->pid != 1 && p->pid != from_pid) : p->pgid == group) {
        targets[count++] = p->pid;
      }
    }
    for (int i = 0; i < count; ++i) {
      Process* p = find_process(targets[i]);
      if (p == nullptr) continue;
      found = true;
      if (deliver(p, signal) && targets[i] == from_pid) self_ended = true;
    }
    if (!found) return -rt::kESRCH;
  }
  return self_ended ? kNoReply : 0;
}

// ^C and friends from the console, to the foreground process group.
void console_signal(int signal) {
  (void)send_signal(nullptr, -static_cast<int64_t>(tty::foreground_group()), signal);
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

int64_t sys_rt_sigreturn(SyscallContext& c) {
  finish_process(c.process, 11);  // no frame was ever pushed: as Linux with a bad frame
  return kNoReply;
}

int64_t sys_rt_sigsuspend(SyscallContext&) { return kDeferred; }  // GAP: waits forever

}  // namespace posix
