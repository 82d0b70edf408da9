// SPDX-License-Identifier: MIT
// Execute out of line (XOL): how a uprobe runs the user instruction its breakpoint replaced.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/result.hpp"

namespace trace {

// How a probed user instruction is executed after a uprobe hit.
enum class XolAction : uint8_t {
  kStep,    // copy `slot` to the out-of-line slot; the kernel single-steps it
  kJump,    // emulate: rip = target (jmp rel8/rel32)
  kBranch,  // emulate: rip = branch_taken(condition, rflags) ? target : address + length (jcc)
  kCall,    // emulate: push address + length, rip = target (call rel32)
};

struct XolPlan {
  XolAction action = XolAction::kStep;
  uint8_t length = 0;     // the original instruction's length
  uint8_t slot[16] = {};  // kStep: the bytes to run out of line (rip-relative operand rewritten)
  uint8_t slot_length = 0;
  // kStep with a rip-relative operand: the index in sonde's UserRegisters (sonde/abi/ipc.hpp) of
  // the register the kernel sets to address + length for the step and restores afterwards;
  // -1 when there is none.
  int8_t fixup_register = -1;
  uint64_t target = 0;    // kJump/kBranch/kCall: absolute destination
  uint8_t condition = 0;  // kBranch: the x86 condition code (low nibble of 0x7X / 0x0F 0x8X)
};

// The longest x86 instruction.
inline constexpr size_t kMaxInstructionLength = 15;

// Decodes the instruction at `address` (`available` bytes read from the traced process; more
// than kMaxInstructionLength are not looked at) and plans how it runs after a uprobe hit.
// EINVAL for bytes that are no instruction or end before it does; ENOTSUPP, with a message
// saying why, for instructions that cannot run out of line: traps and system calls (int3, int,
// into, ud2, syscall, sysenter, sysret, iret), privileged and far ones, those reading rip other
// than relative jmp/jcc/call and rip-relative memory operands (call through a register or memory,
// jrcxz, loop, xbegin), and rip-relative VEX/EVEX/XOP-encoded instructions.
rt::Result<XolPlan> plan_out_of_line(const uint8_t* bytes, size_t available, uint64_t address);

// True when a kBranch's condition holds for these flags (CF, PF, ZF, SF, OF as jcc reads them).
bool branch_taken(uint8_t condition, uint64_t rflags);

// The length of the x86-64 instruction at `bytes` (`available` bytes read), whatever it is;
// EINVAL for bytes that are no instruction or end before it does. Kprobes walk a function with it
// to find its instruction boundaries.
rt::Result<uint8_t> instruction_length(const uint8_t* bytes, size_t available);

// A kprobe's out-of-line slot (kprobes inside POSIX-server functions): the code the kernel
// resumes a hit in (Breakpoint Insert with a slot), so that every instruction goes on with a
// plain Resume, relative branches included, with no register changed. Most slots go on by
// themselves (`steps` false: Insert's kFixupNoStep, no debug trap after the hit, as Linux's
// boosted kprobes); the others are single-stepped with a fix-up register:
// - kStep: the plan's copy, then `jmp *0(%rip)` back after the original instruction; a copy
//   with a rip-relative operand is stepped instead (the fix-up register holds the address
//   after the original only for the step) and the kernel continues after the original;
// - kJump: `jmp *0(%rip)` and the target;
// - kCall: `push %r11` with r11 the fix-up register (the kernel holds address + length in it
//   for the step and restores it after), then `jmp *0(%rip)` and the target: the call's return
//   address is pushed, the callee entered;
// - kBranch: `j<cc> +14`, then `jmp *0(%rip)` to the instruction after the branch, then `jmp
//   *0(%rip)` to the target: the condition is taken or passed on the real flags.
inline constexpr size_t kKprobeSlotSize = 32;
struct KprobeSlot {
  uint8_t bytes[kKprobeSlotSize] = {};
  uint8_t length = 0;
  int8_t fixup_register = -1;  // UserRegisters word, -1 for none
  bool steps = false;          // single-stepped (kStep with a fix-up register, kCall)
};
KprobeSlot kprobe_slot(const XolPlan& plan, uint64_t address);

}  // namespace trace
