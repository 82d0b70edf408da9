// SPDX-License-Identifier: MIT
// The syscall tracepoints: raw_syscalls:sys_enter/sys_exit and syscalls:sys_enter_*/sys_exit_*
// for tracefs and for BPF (tracepoint and raw tracepoint programs), fired by kprobes on the
// POSIX server's trace_sys_enter and trace_sys_exit while anyone wants them.
#pragma once

#include <stdint.h>

#include "kprobes.hpp"
#include "posix_symbols.hpp"
#include "trace/perf_events.hpp"
#include "trace/tracefs.hpp"

namespace trace {

class SyscallTracepoints {
 public:
  SyscallTracepoints(Tracefs& tracefs, PosixSymbols& symbols, Kprobes& kprobes);
  void set_table(ProbeTable* table) { table_ = table; }

  // A tracefs event of raw_syscalls or syscalls.
  static bool is_syscall_event(const Event& event);
  static bool is_enter_event(const Event& event);  // sys_enter_* or raw_syscalls:sys_enter
  [[nodiscard]] rt::Result<void> event_enabled(Event& event, bool enabled);

  // BPF: a tracepoint program's probe on event `id` (EOPNOTSUPP when it is no syscall event),
  // a raw tracepoint's on "sys_enter" or "sys_exit" (ENOENT for other names).
  [[nodiscard]] rt::Result<void> arm_tracepoint(uint32_t probe, uint64_t id);
  [[nodiscard]] rt::Result<void> arm_raw(uint32_t probe, const char* name);
  // false when `probe` is none of ours.
  bool disarm(uint32_t probe);

 private:
  struct Side;
  struct Hook final : KprobeClient {
    void on_hit(const PtRegs& regs, uint64_t address, TracedMemory& memory) override;
    SyscallTracepoints* owner = nullptr;
    bool enter = true;
  };
  // A key is never executed: its client never hears of a hit.
  struct Key final : KprobeClient {
    void on_hit(const PtRegs&, uint64_t, TracedMemory&) override {}
    bool is_key() const override { return true; }
  };
  static constexpr uint32_t kKeys = 512;  // syscall_keys.S: a byte per system call number
  // Calls with their own key at once, per side (each is a breakpoint of Kprobes' 256): past
  // these, the all key stands in.
  static constexpr uint32_t kMaxOwnKeys = 32;
  struct Side {
    const char* function;
    const char* keys_symbol;
    const char* all_symbol;
    uint64_t address = 0;
    uint64_t keys = 0;  // the first key byte (number 0)
    uint64_t all = 0;   // the key for every call
    uint32_t users = 0;
    uint32_t all_users = 0;
    uint32_t own_keys = 0;
    uint16_t key_users[kKeys] = {};
    bool key_by_all[kKeys] = {};  // the call's own key could not be armed: the all key stands in
    Hook hook;
  };
  struct Armed {
    uint32_t probe = 0;  // 0: free
    bool enter = true;
    bool raw = false;    // a raw tracepoint: context {pt_regs *, id or ret}
    uint32_t event = 0;  // a tracepoint program: the event id
    int64_t nr = -1;     // and the system call it is for (-1: any, raw_syscalls')
    // The event itself: a syscall event is built in, never removed (no search per hit).
    const Event* event_object = nullptr;
  };
  // Room for a program on every syscall tracepoint there is, both sides (bpftrace's
  // `tracepoint:syscalls:sys_enter_*` opens one per call), and the raw ones.
  static constexpr uint32_t kMaxArmed = 1024;
  uint32_t armed_end_ = 0;  // past the last armed entry: the hit walks no further
  // Takes entry `index` (free) for `armed`.
  void take(uint32_t index, const Armed& armed);

  // tracefs syscall events enabled, per side (0: exit, 1: enter): a hit with none and no
  // program for its system call costs no more than the test.
  uint32_t enabled_[2] = {};
  // The hook of a side and the key of system call `nr` (-1: every call) are armed while used.
  [[nodiscard]] rt::Result<void> use(bool enter, int64_t nr);
  void unuse(bool enter, int64_t nr);
  [[nodiscard]] rt::Result<void> use_all(Side& side);
  void unuse_all(Side& side);
  [[nodiscard]] rt::Result<void> resolve(Side& side);
  void hit(bool enter, const PtRegs& probe_regs, TracedMemory& memory);
  // The record of `event` for this hit; its size.
  uint32_t build(const Event& event, bool enter, long id, long ret, const PtRegs& regs, int32_t pid,
                 uint8_t* out) const;

  Tracefs& tracefs_;
  PosixSymbols& symbols_;
  Kprobes& kprobes_;
  ProbeTable* table_ = nullptr;
  Side enter_;
  Side exit_;
  Key key_;
  static constexpr uint32_t kPinnedRegs = 3;
  uint32_t pinned_regs_ = 0;  // places of the POSIX server's pt_regs pinned
  Armed armed_[kMaxArmed];
};

}  // namespace trace
