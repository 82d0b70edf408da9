// SPDX-License-Identifier: MIT
// futex(2): threads wait on a 32-bit word of their process's memory until another thread wakes
// them. The server serves one system call at a time, so checking the word and starting to wait
// is one step as far as any FUTEX_WAKE is concerned. A waiting thread's call is deferred
// (kDeferred) and retried by wake_blocked: a wake marks it, the timer ends its timeout.
#include "kernel/syscalls.hpp"
#include "sys/clock.hpp"

namespace posix {

namespace {

constexpr uint64_t kWait = 0, kWake = 1, kRequeue = 3, kCmpRequeue = 4, kWaitBitset = 9,
                   kWakeBitset = 10;
constexpr uint64_t kPrivateFlag = 128, kClockRealtime = 256;
constexpr uint64_t kCommandMask = ~(kPrivateFlag | kClockRealtime);
uint64_t next_order = 0;

// The waiters on `address` of `memory` that no wake has reached yet, earliest first: `visit`
// is called for each until it returns false.
template <typename Visit>
void each_waiter(mm::AddressSpace* memory, uint64_t address, Visit visit) {
  uint64_t after = 0;  // the waiters already visited began before `after`
  for (;;) {
    Thread* earliest = nullptr;
    for (Process* p = first_process(); p != nullptr; p = p->next) {
      if (p->memory != memory || p->state != ProcessState::kRunning) continue;
      for (Thread* t = p->threads; t != nullptr; t = t->next) {
        if (!t->futex_waiting || t->futex_woken || t->futex_address != address) continue;
        if (t->futex_order < after) continue;
        if (earliest == nullptr || t->futex_order < earliest->futex_order) earliest = t;
      }
    }
    if (earliest == nullptr) return;
    after = earliest->futex_order + 1;
    if (!visit(earliest)) return;
  }
}

// FUTEX_WAIT and FUTEX_WAIT_BITSET: the first try checks the word and starts the wait; the
// retries end it when a wake came or the deadline passed.
int64_t wait(SyscallContext& c, uint64_t command, uint64_t address, uint32_t expected,
             uint32_t bitset) {
  Thread* t = c.thread;
  if (t->futex_waiting) {
    if (t->futex_woken) {
      futex_cancel(t);
      t->sleep_deadline = 0;
      return 0;
    }
    if (t->sleep_deadline != 0 && sys::clock_ns() >= t->sleep_deadline) {
      futex_cancel(t);
      t->sleep_deadline = 0;
      return -rt::kETIMEDOUT;
    }
    return kDeferred;
  }
  if (bitset == 0) return -rt::kEINVAL;
  uint64_t deadline = 0;
  if (c.arg(3) != 0) {
    int64_t spec[2];
    if (!user(c).copy_in(spec, c.arg(3), sizeof(spec)).ok()) return -rt::kEFAULT;
    if (spec[0] < 0 || spec[1] < 0 || spec[1] >= 1000000000) return -rt::kEINVAL;
    // FUTEX_WAIT's timeout is relative; FUTEX_WAIT_BITSET's an absolute time on
    // CLOCK_MONOTONIC, or CLOCK_REALTIME with FUTEX_CLOCK_REALTIME.
    deadline = deadline_of(spec, command == kWaitBitset, (c.arg(1) & kClockRealtime) != 0);
  }
  uint32_t value;
  if (!user(c).copy_in(&value, address, 4).ok()) return -rt::kEFAULT;
  if (value != expected) return -rt::kEAGAIN;
  if (deadline != 0 && sys::clock_ns() >= deadline) return -rt::kETIMEDOUT;
  t->futex_waiting = true;
  t->futex_woken = false;
  t->futex_address = address;
  t->futex_bitset = bitset;
  t->futex_order = ++next_order;
  t->sleep_deadline = deadline;
  arm_timer();
  return kDeferred;
}

// FUTEX_REQUEUE and FUTEX_CMP_REQUEUE: wakes up to `count` waiters on `address`, moves up to
// `move` of the others to `target`; the number woken and moved.
int64_t requeue(SyscallContext& c, uint64_t command, uint64_t address, int64_t count) {
  int64_t move = static_cast<int32_t>(c.arg(3));  // val2, in the timeout's place
  uint64_t target = c.arg(4);
  if (count < 0 || move < 0 || (target & 3) != 0) return -rt::kEINVAL;
  if (command == kCmpRequeue) {
    uint32_t value;
    if (!user(c).copy_in(&value, address, 4).ok()) return -rt::kEFAULT;
    if (value != static_cast<uint32_t>(c.arg(5))) return -rt::kEAGAIN;
  }
  int64_t woken = futex_wake(c.process->memory, address, static_cast<int>(count), ~0u);
  int64_t moved = 0;
  if (target != address) {
    each_waiter(c.process->memory, address, [&](Thread* t) {
      if (moved >= move) return false;
      t->futex_address = target;
      ++moved;
      return true;
    });
  }
  return woken + moved;
}

}  // namespace

int futex_wake(mm::AddressSpace* memory, uint64_t address, int count, uint32_t bitset) {
  int woken = 0;
  each_waiter(memory, address, [&](Thread* t) {
    if (woken >= count) return false;
    if ((t->futex_bitset & bitset) != 0) {
      t->futex_woken = true;  // wake_blocked answers it (0)
      ++woken;
    }
    return true;
  });
  return woken;
}

void futex_cancel(Thread* thread) {
  thread->futex_waiting = false;
  thread->futex_woken = false;
}

// futex(uaddr, op, val, timeout or val2, uaddr2, val3). FUTEX_PRIVATE_FLAG makes no
// difference: waiters are found by their process's memory and the address. GAP: a shared
// futex in memory two processes share (MAP_SHARED) does not reach the other process; the PI
// operations and FUTEX_WAKE_OP are ENOSYS.
int64_t sys_futex(SyscallContext& c) {
  uint64_t address = c.arg(0);
  uint64_t command = c.arg(1) & kCommandMask;
  uint32_t value = static_cast<uint32_t>(c.arg(2));
  if ((c.arg(1) & kClockRealtime) != 0 && command != kWait && command != kWaitBitset) {
    return -rt::kENOSYS;
  }
  if ((address & 3) != 0) return -rt::kEINVAL;
  switch (command) {
    case kWait: return wait(c, command, address, value, ~0u);
    case kWaitBitset: return wait(c, command, address, value, static_cast<uint32_t>(c.arg(5)));
    case kWake:
    case kWakeBitset: {
      uint32_t bitset = command == kWake ? ~0u : static_cast<uint32_t>(c.arg(5));
      if (bitset == 0) return -rt::kEINVAL;
      int count = static_cast<int32_t>(value);  // as Linux's loop: at least one is woken
      return futex_wake(c.process->memory, address, count < 1 ? 1 : count, bitset);
    }
    case kRequeue:
    case kCmpRequeue: return requeue(c, command, address, static_cast<int32_t>(value));
    default: return -rt::kENOSYS;
  }
}

}  // namespace posix
