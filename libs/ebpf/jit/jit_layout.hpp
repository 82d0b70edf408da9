// SPDX-License-Identifier: MIT
// What compiled code and the JIT's C++ runtime share: per-run state, image header, register map.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ebpf/map.hpp"
#include "ebpf/program.hpp"
#include "ebpf/runtime.hpp"
#include "x86_encoder.hpp"

namespace ebpf::jit {

// One run of JIT code. The ExecContext comes first: helpers receive &context, which is the
// JitRun itself (r12 in compiled code).
struct JitRun {
  ExecContext context;
  uint64_t saved_rsp;                  // innermost trampoline's stack pointer (unwinding)
  uint64_t frame_limit;                // lowest frame pointer a call may set (8 frames of 512)
  uint64_t callback_frame_pointer;     // r10 at the latest helper call (callbacks go below it)
  const Program* pending_tail_target;  // an interpreted tail-call target, for the stub
  uint64_t interpreted_tail_stub;      // address of the stub that runs it
  uint8_t failed;                      // call depth or unknown helper: the run's value is 0
  // bpf_get_smp_processor_id, read once per run from the Environment (a run does not move
  // between CPUs, as a Linux program runs with migration disabled) when the image says so.
  uint32_t cpu;
};

// Compiled code begins with this header; offsets are from the image start.
struct ImageHeader {
  uint32_t magic;
  uint32_t trampoline;    // uint64_t (JitRun*, const uint64_t args[5], frame pointer, target):
                          // target 0 is instruction 0
  uint32_t main;          // instruction 0
  uint32_t tail_stub;     // runs JitRun::pending_tail_target in the interpreter
  uint32_t insn_offsets;  // uint32_t per instruction: its code offset
  uint32_t insn_count;
  uint32_t code_size;
  uint32_t flags;  // kImage* bits
};
// The code loads JitRun::cpu, or may tail-call a program that does: the run fills it.
inline constexpr uint32_t kImageReadsCpu = 1;
inline constexpr uint32_t kImageMagic = 0x54494a53;  // "SJIT"
inline constexpr uint32_t kHeaderSize = 64;
static_assert(sizeof(ImageHeader) <= kHeaderSize);

using Trampoline = uint64_t (*)(JitRun* run, const uint64_t* arguments, uint64_t frame_pointer,
                                uint64_t target);

// BPF register -> x86-64 register. r1..r5 sit in the System V argument registers shifted by
// one, so a helper call only loads the ExecContext into rdi; r6..r9 are callee-saved.
inline constexpr Reg kRegisterMap[kNumRegisters] = {kRax, kRsi, kRdx, kRcx, kR8, kR9,
                                                    kRbx, kR13, kR14, kR15, kRbp};
inline constexpr Reg kRunRegister = kR12;  // JitRun*
// rdi, r10, r11 are scratch (rdi is loaded with the run only for calls).

// Runtime entry points compiled code calls.
uint64_t tail_call_target(JitRun* run, Map* map, uint32_t index);
uint64_t interpreted_tail_call(JitRun* run, uint64_t r1);
// A BPF_PROBE_MEM load of `size` bytes at `address` through the run's Environment (read_kernel),
// zero-extended; 0 where it cannot be read.
uint64_t probe_load(JitRun* run, uint64_t address, uint64_t size);

}  // namespace ebpf::jit
