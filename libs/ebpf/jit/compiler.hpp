// SPDX-License-Identifier: MIT
// The JIT compiler's internal interface: the Compiler class, whose emitters are split by
// responsibility (compiler.cpp: image and dispatch; compiler_alu.cpp: ALU and jumps;
// compiler_calls.cpp: calls, inlined helpers, tail calls; compiler_memory.cpp: loads, stores,
// atomics).
#pragma once

#include <stddef.h>

#include "ebpf/program.hpp"
#include "jit_layout.hpp"
#include "rt/result.hpp"
#include "x86_encoder.hpp"

namespace ebpf::jit {

inline constexpr int32_t kHelperTailCall = 12;  // BPF_FUNC_tail_call

inline constexpr int32_t kOffsetSavedRsp = offsetof(JitRun, saved_rsp);
inline constexpr int32_t kOffsetFrameLimit = offsetof(JitRun, frame_limit);
inline constexpr int32_t kOffsetCallbackFrame = offsetof(JitRun, callback_frame_pointer);
inline constexpr int32_t kOffsetFailed = offsetof(JitRun, failed);
inline constexpr int32_t kOffsetCpu = offsetof(JitRun, cpu);
inline constexpr int32_t kOffsetProgram =
    offsetof(JitRun, context) + offsetof(ExecContext, program);
inline constexpr int32_t kOffsetAbort =
    offsetof(JitRun, context) + offsetof(ExecContext, abort_requested);

// x86 ALU opcodes (op r/m, reg form) and their /ext for the immediate forms.
struct AluForm {
  uint8_t opcode;
  uint8_t ext;
};
inline constexpr AluForm kAdd{0x01, 0}, kOr{0x09, 1}, kAnd{0x21, 4}, kSub{0x29, 5}, kXor{0x31, 6},
    kCmp{0x39, 7};

inline constexpr Reg kTrampolineSaved[6] = {kRbp, kRbx, kR12, kR13, kR14, kR15};
inline constexpr Reg kTailCallKept[6] = {kRax, kRsi, kRdx, kRcx, kR8, kR9};  // r0..r5
inline constexpr Reg kCalleeSaved[4] = {kRbx, kR13, kR14, kR15};             // r6..r9

inline rt::Error unsupported(const char* why) { return rt::err(rt::kEINVAL, why); }

class Compiler {
 public:
  // `keys`: a random value per instruction when constants are blinded, else nullptr.
  Compiler(const Program& program, Encoder& code, const uint32_t* known_offsets, uint32_t* offsets,
           const uint32_t* keys)
      : program_(program), code_(code), known_(known_offsets), offsets_(offsets), keys_(keys) {}

  rt::Result<void> compile_image(ImageHeader& header);

 private:
  Reg reg(int bpf) const { return kRegisterMap[bpf]; }
  size_t target_of(uint32_t pc) const { return known_ != nullptr ? known_[pc] : 0; }
  bool blinding() const { return keys_ != nullptr; }
  void load_blinded(bool wide, Reg dst, int32_t imm);

  void emit_retpoline();
  void emit_trampoline();
  void emit_stubs();
  rt::Result<void> emit(uint32_t pc);
  rt::Result<void> emit_alu(const Insn& insn, bool wide);
  rt::Result<void> emit_divmod(const Insn& insn, bool wide);
  void divide(bool wide, bool is_signed, bool is_div, Reg dst);
  void emit_shift(const Insn& insn, bool wide, int ext);
  rt::Result<void> emit_end(const Insn& insn, bool wide);
  rt::Result<void> emit_jump(uint32_t pc, const Insn& insn, bool wide);
  rt::Result<void> emit_call(uint32_t pc, const Insn& insn);
  void emit_helper_call(uint64_t function);
  bool emit_map_lookup(uint32_t pc);
  void scale(Reg target, uint64_t factor);
  void emit_tail_call();
  void emit_callx(const Insn& insn);
  rt::Result<void> emit_load(const Insn& insn);
  rt::Result<void> emit_probe_load(const Insn& insn);
  rt::Result<void> emit_store(const Insn& insn);
  rt::Result<void> emit_atomic(const Insn& insn);

  const Program& program_;
  Encoder& code_;
  const uint32_t* known_;  // offsets from the previous pass (forward jumps), or nullptr
  uint32_t* offsets_;      // offsets found in this pass
  const uint32_t* keys_;   // blinding values per instruction, or nullptr
  uint32_t pc_ = 0;        // the instruction being compiled
  size_t retpoline_ = 0;   // the thunk every indirect call and jump goes through
  size_t exit_position_ = 0;
  size_t fail_stub_ = 0;
  size_t abort_stub_ = 0;
  bool reads_cpu_ = false;  // ImageHeader::flags kImageReadsCpu
};

}  // namespace ebpf::jit
