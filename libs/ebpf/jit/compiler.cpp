// SPDX-License-Identifier: MIT
// The JIT compiler: translates each eBPF instruction to x86-64 in three passes (upper bound,
// exact layout at the final address, emission) and lays out the image.
#include <stddef.h>

#include "ebpf/environment.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/jit.hpp"
#include "jit_layout.hpp"
#include "x86_encoder.hpp"

namespace ebpf {
namespace jit {
namespace {

constexpr int32_t kHelperTailCall = 12;  // BPF_FUNC_tail_call

constexpr int32_t kOffsetSavedRsp = offsetof(JitRun, saved_rsp);
constexpr int32_t kOffsetFrameLimit = offsetof(JitRun, frame_limit);
constexpr int32_t kOffsetCallbackFrame = offsetof(JitRun, callback_frame_pointer);
constexpr int32_t kOffsetFailed = offsetof(JitRun, failed);
constexpr int32_t kOffsetCpu = offsetof(JitRun, cpu);
constexpr int32_t kOffsetProgram = offsetof(JitRun, context) + offsetof(ExecContext, program);
constexpr int32_t kOffsetAbort = offsetof(JitRun, context) + offsetof(ExecContext, abort_requested);

// x86 ALU opcodes (op r/m, reg form) and their /ext for the immediate forms.
struct AluForm {
  uint8_t opcode;
  uint8_t ext;
};
constexpr AluForm kAdd{0x01, 0}, kOr{0x09, 1}, kAnd{0x21, 4}, kSub{0x29, 5}, kXor{0x31, 6},
    kCmp{0x39, 7};

constexpr Reg kTrampolineSaved[6] = {kRbp, kRbx, kR12, kR13, kR14, kR15};
constexpr Reg kTailCallKept[6] = {kRax, kRsi, kRdx, kRcx, kR8, kR9};  // r0..r5
constexpr Reg kCalleeSaved[4] = {kRbx, kR13, kR14, kR15};             // r6..r9

rt::Error unsupported(const char* why) { return rt::err(rt::kEINVAL, why); }

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
  void emit_tail_call();
  void emit_callx(const Insn& insn);
  rt::Result<void> emit_load(const Insn& insn);
  rt::Result<void> emit_store(const Insn& insn);
  rt::Result<void> emit_atomic(const Insn& insn);

  const Program& program_;
  Encoder& code_;
  const uint32_t* known_;  // offsets from the previous pass (forward jumps), or nullptr
  uint32_t* offsets_;      // offsets found in this pass
  const uint32_t* keys_;   // blinding values per instruction, or nullptr
  uint32_t pc_ = 0;        // the instruction being compiled
  size_t exit_position_ = 0;
  size_t fail_stub_ = 0;
  size_t abort_stub_ = 0;
  bool reads_cpu_ = false;  // ImageHeader::flags kImageReadsCpu
};

// uint64_t trampoline(JitRun* run, const uint64_t args[5], uint64_t frame_pointer, target):
// saves the callee-saved registers, loads r1..r5 and r10, calls `target` (instruction code
// of this image) and returns its r0. Aborts unwind to here through JitRun::saved_rsp.
void Compiler::emit_trampoline() {
  Encoder& c = code_;
  for (Reg r : kTrampolineSaved) c.push(r);
  c.mov_rr(true, kR12, kRdi);
  c.push_mem(kR12, kOffsetSavedRsp);
  c.rm(op1(0x89), true, kRsp, kR12, kOffsetSavedRsp);  // mov [r12+saved_rsp], rsp
  c.mov_rr(true, kRbp, kRdx);
  c.mov_rr(true, kR11, kRcx);
  c.rm(op1(0x8b), true, kR9, kRsi, 32);
  c.rm(op1(0x8b), true, kR8, kRsi, 24);
  c.rm(op1(0x8b), true, kRcx, kRsi, 16);
  c.rm(op1(0x8b), true, kRdx, kRsi, 8);
  c.rm(op1(0x8b), true, kRsi, kRsi, 0);
  c.alu_ri(kSub.ext, true, kRsp, 8);  // the body runs with rsp 16-byte aligned
  // GAP: indirect call without a retpoline (one per run or callback entry).
  c.rr(op1(0xff), false, 2, kR11);
  c.alu_ri(kAdd.ext, true, kRsp, 8);
  exit_position_ = c.position();
  c.pop_mem(kR12, kOffsetSavedRsp);
  for (int i = 5; i >= 0; --i) c.pop(kTrampolineSaved[i]);
  c.ret();
}

void Compiler::emit_stubs() {
  Encoder& c = code_;
  // A runtime limit (call depth, unknown helper): the run's value is 0, as the interpreter's.
  fail_stub_ = c.position();
  c.rm(op1(0xc6), false, 0, kR12, kOffsetFailed);
  c.byte(1);
  abort_stub_ = c.position();
  c.rm(op1(0x8b), true, kRsp, kR12, kOffsetSavedRsp);
  c.alu_rr(kXor.opcode, false, kRax, kRax);
  c.jmp_to(exit_position_);
}

rt::Result<void> Compiler::compile_image(ImageHeader& header) {
  Encoder& c = code_;
  for (uint32_t i = 0; i < kHeaderSize; ++i) c.byte(0);
  header.trampoline = static_cast<uint32_t>(c.position());
  emit_trampoline();
  emit_stubs();
  // Stands in for a tail-call target that runs in the interpreter: called like instruction 0.
  header.tail_stub = static_cast<uint32_t>(c.position());
  c.mov_rr(true, kRdi, kR12);
  c.call_absolute(reinterpret_cast<uint64_t>(&interpreted_tail_call), kR11);
  c.rm(op1(0x80), false, 7, kR12, kOffsetAbort);  // cmp byte [abort], 0
  c.byte(0);
  c.jcc_to(kNotEqual, abort_stub_);
  c.ret();
  while (c.position() % 16 != 0) c.int3();
  header.main = static_cast<uint32_t>(c.position());
  for (uint32_t pc = 0; pc < program_.insn_count; ++pc) {
    offsets_[pc] = static_cast<uint32_t>(c.position());
    pc_ = pc;
    TRY(emit(pc));
    if (program_.insns[pc].opcode == kOpLdImm64) {
      ++pc;
      if (pc < program_.insn_count) offsets_[pc] = static_cast<uint32_t>(c.position());
    }
  }
  // Falling off the end is refused by the verifier; stop rather than run into data.
  c.int3();
  while (c.position() % 4 != 0) c.int3();
  header.insn_offsets = static_cast<uint32_t>(c.position());
  header.insn_count = program_.insn_count;
  for (uint32_t pc = 0; pc < program_.insn_count; ++pc) c.u32(offsets_[pc]);
  header.code_size = static_cast<uint32_t>(c.position());
  header.flags = reads_cpu_ ? kImageReadsCpu : 0;
  header.magic = kImageMagic;
  return {};
}

// Blinding (JitOptions::blind_constants): `imm` into `dst`, sign-extended to 64 bits (`wide`)
// or zero-extended from 32, without its bytes in the code: mov dst, imm ^ key; xor dst, key.
void Compiler::load_blinded(bool wide, Reg dst, int32_t imm) {
  Encoder& c = code_;
  int32_t key = static_cast<int32_t>(keys_[pc_]);
  if (wide) {
    c.rr(op1(0xc7), true, 0, dst);  // mov dst, simm32
    c.u32(static_cast<uint32_t>(imm ^ key));
  } else {
    c.mov_imm32(dst, imm ^ key);
  }
  c.alu_ri(kXor.ext, wide, dst, key);
}

rt::Result<void> Compiler::emit(uint32_t pc) {
  const Insn& insn = program_.insns[pc];
  switch (insn_class(insn.opcode)) {
    case kClassAlu: return emit_alu(insn, false);
    case kClassAlu64: return emit_alu(insn, true);
    case kClassJmp:
      if (op_code(insn.opcode) == kJmpCall) return emit_call(pc, insn);
      if (op_code(insn.opcode) == kJmpExit) {
        if (insn.opcode != (kClassJmp | kJmpExit)) return unsupported("jit: invalid exit encoding");
        code_.ret();
        return {};
      }
      return emit_jump(pc, insn, true);
    case kClassJmp32: return emit_jump(pc, insn, false);
    case kClassLd:
      if (insn.opcode != kOpLdImm64) return unsupported("jit: legacy packet access (LD ABS/IND)");
      if (pc + 1 >= program_.insn_count) return unsupported("jit: truncated LD_IMM64");
      if (insn.src != kPseudoImm64) return unsupported("jit: LD_IMM64 pseudo source not prepared");
      if (insn.dst >= kFramePointer) return unsupported("jit: bad register");
      {
        uint64_t value =
            static_cast<uint32_t>(insn.imm) |
            (static_cast<uint64_t>(static_cast<uint32_t>(program_.insns[pc + 1].imm)) << 32);
        if (!blinding()) {
          code_.mov_imm64(reg(insn.dst), value);
          return {};
        }
        uint64_t key = keys_[pc] | (static_cast<uint64_t>(keys_[pc + 1]) << 32);
        code_.mov_imm64(reg(insn.dst), value ^ key);
        code_.mov_imm64(kR10, key);
        code_.alu_rr(kXor.opcode, true, reg(insn.dst), kR10);
      }
      return {};
    case kClassLdx: return emit_load(insn);
    case kClassSt:
    case kClassStx:
      if (op_mode(insn.opcode) == kModeAtomic) return emit_atomic(insn);
      return emit_store(insn);
  }
  return unsupported("jit: unknown instruction class");
}

rt::Result<void> Compiler::emit_alu(const Insn& insn, bool wide) {
  if (insn.dst >= kFramePointer || insn.src > kFramePointer)
    return unsupported("jit: bad register");
  Encoder& c = code_;
  Reg dst = reg(insn.dst);
  Reg src = reg(insn.src);
  bool x = op_source(insn.opcode) == kSrcX;
  auto simple = [&](AluForm form) {
    if (x) {
      c.alu_rr(form.opcode, wide, dst, src);
    } else if (blinding()) {
      load_blinded(wide, kR10, insn.imm);
      c.alu_rr(form.opcode, wide, dst, kR10);
    } else {
      c.alu_ri(form.ext, wide, dst, insn.imm);
    }
  };
  switch (op_code(insn.opcode)) {
    case kAluAdd: simple(kAdd); return {};
    case kAluSub: simple(kSub); return {};
    case kAluOr: simple(kOr); return {};
    case kAluAnd: simple(kAnd); return {};
    case kAluXor: simple(kXor); return {};
    case kAluMul:
      if (x) {
        c.rr(op2(0x0f, 0xaf), wide, dst, src);
      } else if (blinding()) {
        load_blinded(wide, kR10, insn.imm);
        c.rr(op2(0x0f, 0xaf), wide, dst, kR10);
      } else {
        c.rr(op1(0x69), wide, dst, dst);
        c.u32(static_cast<uint32_t>(insn.imm));
      }
      return {};
    case kAluDiv:
    case kAluMod: return emit_divmod(insn, wide);
    case kAluLsh: emit_shift(insn, wide, 4); return {};
    case kAluRsh: emit_shift(insn, wide, 5); return {};
    case kAluArsh: emit_shift(insn, wide, 7); return {};
    case kAluNeg:
      if (x) return unsupported("jit: invalid NEG encoding");
      c.rr(op1(0xf7), wide, 3, dst);
      return {};
    case kAluMov:
      if (!x) {
        if (blinding())
          load_blinded(wide, dst, insn.imm);
        else if (wide)
          c.mov_imm64(dst, static_cast<uint64_t>(static_cast<int64_t>(insn.imm)));
        else
          c.mov_imm32(dst, insn.imm);
        return {};
      }
      switch (insn.offset) {
        case 0:
          if (!wide || dst != src) c.mov_rr(wide, dst, src);
          return {};
        case 8: c.rr(op2(0x0f, 0xbe), wide, dst, src, true); return {};
        case 16: c.rr(op2(0x0f, 0xbf), wide, dst, src); return {};
        case 32:
          if (!wide) return unsupported("jit: invalid MOVSX width");
          c.rr(op1(0x63), true, dst, src);
          return {};
      }
      return unsupported("jit: invalid MOVSX width");
    case kAluEnd: return emit_end(insn, wide);
  }
  return unsupported("jit: unknown ALU operation");
}

// Shifts: x86 masks the count to 63 / 31 as RFC 9669 does; a register count goes through cl.
void Compiler::emit_shift(const Insn& insn, bool wide, int ext) {
  Encoder& c = code_;
  Reg dst = reg(insn.dst);
  if (op_source(insn.opcode) == kSrcK) {
    uint8_t count = static_cast<uint8_t>(insn.imm & (wide ? 63 : 31));
    if (count == 0) {
      if (!wide) c.mov_rr(false, dst, dst);
      return;
    }
    c.rr(op1(0xc1), wide, ext, dst);
    c.byte(count);
    return;
  }
  Reg src = reg(insn.src);
  if (src == kRcx) {
    c.rr(op1(0xd3), wide, ext, dst);
  } else if (dst == kRcx) {
    c.mov_rr(true, kR11, kRcx);
    c.mov_rr(true, kRcx, src);
    c.rr(op1(0xd3), wide, ext, kR11);
    c.mov_rr(true, kRcx, kR11);
  } else {
    c.mov_rr(true, kR11, kRcx);
    c.mov_rr(true, kRcx, src);
    c.rr(op1(0xd3), wide, ext, dst);
    c.mov_rr(true, kRcx, kR11);
  }
}

// Divides dst by r11 (non-zero, and not -1 when signed): rax and rdx (r0, r3) are kept in
// r10 and rdi around the x86 division.
void Compiler::divide(bool wide, bool is_signed, bool is_div, Reg dst) {
  Encoder& c = code_;
  c.mov_rr(true, kR10, kRax);
  c.mov_rr(true, kRdi, kRdx);
  c.mov_rr(wide, kRax, dst);
  if (is_signed) {
    if (wide) c.byte(0x48);
    c.byte(0x99);  // cqo / cdq
  } else {
    c.alu_rr(kXor.opcode, false, kRdx, kRdx);
  }
  c.rr(op1(0xf7), wide, is_signed ? 7 : 6, kR11);
  c.mov_rr(wide, kR11, is_div ? kRax : kRdx);
  c.mov_rr(true, kRax, kR10);
  c.mov_rr(true, kRdx, kRdi);
  c.mov_rr(wide, dst, kR11);
}

// Division and modulo as the interpreter does them (RFC 9669): x / 0 = 0, x % 0 = x
// (truncated for ALU32), signed x / -1 = -x (INT_MIN stays INT_MIN), signed x % -1 = 0.
rt::Result<void> Compiler::emit_divmod(const Insn& insn, bool wide) {
  if (insn.offset != 0 && insn.offset != 1) return unsupported("jit: invalid division offset");
  Encoder& c = code_;
  bool is_signed = insn.offset == 1;
  bool is_div = op_code(insn.opcode) == kAluDiv;
  Reg dst = reg(insn.dst);
  auto on_zero = [&] {
    if (is_div)
      c.alu_rr(kXor.opcode, false, dst, dst);
    else if (!wide)
      c.mov_rr(false, dst, dst);
  };
  auto on_minus_one = [&] {
    if (is_div)
      c.rr(op1(0xf7), wide, 3, dst);  // neg
    else
      c.alu_rr(kXor.opcode, false, dst, dst);
  };
  if (op_source(insn.opcode) == kSrcK) {
    int64_t divisor =
        wide ? static_cast<int64_t>(insn.imm)
             : (is_signed ? static_cast<int64_t>(insn.imm) : static_cast<uint32_t>(insn.imm));
    if (divisor == 0) {
      on_zero();
    } else if (is_signed && divisor == -1) {
      on_minus_one();
    } else {
      if (blinding())
        load_blinded(wide, kR11, insn.imm);
      else if (wide)
        c.mov_imm64(kR11, static_cast<uint64_t>(divisor));
      else
        c.mov_imm32(kR11, insn.imm);
      divide(wide, is_signed, is_div, dst);
    }
    return {};
  }
  Label zero, done;
  c.mov_rr(true, kR11, reg(insn.src));
  c.test_rr(wide, kR11, kR11);
  c.jcc(kEqual, zero);
  if (is_signed) {
    Label normal;
    c.alu_ri(kCmp.ext, wide, kR11, -1);
    c.jcc(kNotEqual, normal);
    on_minus_one();
    c.jmp(done);
    c.bind(normal);
  }
  divide(wide, is_signed, is_div, dst);
  c.jmp(done);
  c.bind(zero);
  on_zero();
  c.bind(done);
  return {};
}

rt::Result<void> Compiler::emit_end(const Insn& insn, bool wide) {
  Encoder& c = code_;
  Reg dst = reg(insn.dst);
  bool swap = wide || op_source(insn.opcode) == kEndToBe;
  if (wide && op_source(insn.opcode) != kSrcK) return unsupported("jit: invalid BSWAP encoding");
  switch (insn.imm) {
    case 16:
      if (swap) {
        c.rr(with_prefix(op1(0xc1), 0x66), false, 1, dst);  // ror dst16, 8
        c.byte(8);
      }
      c.rr(op2(0x0f, 0xb7), false, dst, dst);  // movzx dst32, dst16
      return {};
    case 32:
      if (swap)
        c.bswap(false, dst);
      else
        c.mov_rr(false, dst, dst);
      return {};
    case 64:
      if (swap) c.bswap(true, dst);
      return {};
  }
  return unsupported("jit: invalid byte-swap width");
}

rt::Result<void> Compiler::emit_jump(uint32_t pc, const Insn& insn, bool wide) {
  Encoder& c = code_;
  uint8_t op = op_code(insn.opcode);
  if (op == kJmpJa) {
    int64_t target = static_cast<int64_t>(pc) + 1 + (wide ? insn.offset : insn.imm);
    if (target < 0 || target >= program_.insn_count)
      return unsupported("jit: jump out of the program");
    c.jmp_to(target_of(static_cast<uint32_t>(target)));
    return {};
  }
  if (op == kJmpCall || op == kJmpExit) return unsupported("jit: invalid JMP32 call or exit");
  int64_t target = static_cast<int64_t>(pc) + 1 + insn.offset;
  if (target < 0 || target >= program_.insn_count)
    return unsupported("jit: jump out of the program");
  if (insn.dst > kFramePointer || insn.src > kFramePointer) return unsupported("jit: bad register");
  Cond cond;
  switch (op) {
    case kJmpJeq: cond = kEqual; break;
    case kJmpJne: cond = kNotEqual; break;
    case kJmpJgt: cond = kAbove; break;
    case kJmpJge: cond = kAboveEqual; break;
    case kJmpJlt: cond = kBelow; break;
    case kJmpJle: cond = kBelowEqual; break;
    case kJmpJset: cond = kNotEqual; break;
    case kJmpJsgt: cond = kGreater; break;
    case kJmpJsge: cond = kGreaterEqual; break;
    case kJmpJslt: cond = kLess; break;
    case kJmpJsle: cond = kLessEqual; break;
    default: return unsupported("jit: unknown jump operation");
  }
  Reg dst = reg(insn.dst);
  bool x = op_source(insn.opcode) == kSrcX;
  Reg operand = x ? reg(insn.src) : kR10;
  if (!x && blinding()) load_blinded(wide, kR10, insn.imm);
  if (op == kJmpJset) {
    if (x || blinding())
      c.test_rr(wide, dst, operand);
    else
      c.test_ri(wide, dst, insn.imm);
  } else if (x || blinding()) {
    c.alu_rr(kCmp.opcode, wide, dst, operand);
  } else {
    c.alu_ri(kCmp.ext, wide, dst, insn.imm);
  }
  c.jcc_to(cond, target_of(static_cast<uint32_t>(target)));
  return {};
}

// A helper call: r1..r5 are already in rsi, rdx, rcx, r8, r9; rdi gets the ExecContext. A
// helper that asked to abort ends the run. (bpf_get_smp_processor_id is a load of JitRun::cpu
// and lookups may be specialised: see emit_call.)
// GAP: per-CPU pointer arithmetic (bpf_this_cpu_ptr, per-CPU array lookups) is not inlined.
void Compiler::emit_helper_call(uint64_t function) {
  Encoder& c = code_;
  c.rm(op1(0x89), true, kRbp, kR12, kOffsetCallbackFrame);  // callbacks go below this frame
  c.mov_rr(true, kRdi, kR12);
  c.call_absolute(function, kRax);
  c.rm(op1(0x80), false, 7, kR12, kOffsetAbort);
  c.byte(0);
  c.jcc_to(kNotEqual, abort_stub_);
}

// bpf_map_lookup_elem(map, key) where the verifier saw one map at this call (and the program's
// table holds Sonde's own helper): a plain array's lookup is computed in place, as Linux's
// array_map_gen_lookup (the key is a u32; NULL from max_entries on); another map with a lookup
// function gets a direct call to it, without the helper, the callback frame or the abort check
// (a lookup never runs a callback nor aborts). False: emit the helper call.
// GAP: no Spectre v1 index masking (Linux masks the index for unprivileged programs).
bool Compiler::emit_map_lookup(uint32_t pc) {
  if (program_.call_maps == nullptr ||
      program_.helpers[kHelperMapLookupElem] != standard_helper(kHelperMapLookupElem)) {
    return false;
  }
  const CallSiteMap& site = program_.call_maps[pc];
  if (site.map == nullptr || site.varies) return false;
  Encoder& c = code_;
  Map::InlineArray array{};
  if (site.map->inline_array(array) && array.stride > 0 && array.stride <= INT32_MAX) {
    Label null, done;
    c.rm(op1(0x8b), false, kRax, reg(2), 0);  // mov eax, [key]: the index, zero-extended
    c.alu_ri(kCmp.ext, false, kRax, static_cast<int32_t>(array.max_entries));
    c.jcc(kAboveEqual, null);
    if ((array.stride & (array.stride - 1)) == 0) {
      uint8_t shift = static_cast<uint8_t>(__builtin_ctzll(array.stride));
      if (shift != 0) {
        c.rr(op1(0xc1), true, 4, kRax);  // shl rax, log2(stride)
        c.byte(shift);
      }
    } else {
      c.rr(op1(0x69), true, kRax, kRax);  // imul rax, rax, stride
      c.u32(static_cast<uint32_t>(array.stride));
    }
    c.mov_imm64(kR11, reinterpret_cast<uint64_t>(array.values));
    c.alu_rr(kAdd.opcode, true, kRax, kR11);
    c.jmp(done);
    c.bind(null);
    c.alu_rr(kXor.opcode, false, kRax, kRax);
    c.bind(done);
    return true;
  }
  Map::LookupFunction lookup = site.map->lookup_function();
  if (lookup == nullptr) return false;
  c.mov_rr(true, kRdi, reg(1));  // function(map, key)
  c.mov_rr(true, kRsi, reg(2));
  c.call_absolute(reinterpret_cast<uint64_t>(lookup), kRax);
  return true;
}

// bpf_tail_call(ctx, map, index): the runtime finds the target (and counts the call); the
// target then replaces the running function: same frame, and its exit returns to our caller.
// A missing slot or the 34th call falls through with every register kept.
void Compiler::emit_tail_call() {
  Encoder& c = code_;
  reads_cpu_ = true;  // the target may read JitRun::cpu
  for (Reg r : kTailCallKept) c.push(r);
  c.mov_rr(true, kRdi, kR12);
  c.mov_rr(true, kRsi, kRdx);
  c.mov_rr(false, kRdx, kRcx);
  c.call_absolute(reinterpret_cast<uint64_t>(&tail_call_target), kRax);
  c.mov_rr(true, kR11, kRax);
  for (int i = 5; i >= 0; --i) c.pop(kTailCallKept[i]);
  Label fall_through;
  c.test_rr(true, kR11, kR11);
  c.jcc(kEqual, fall_through);
  // GAP: indirect jump without a retpoline (Linux uses one for tail calls as well).
  c.rr(op1(0xff), false, 4, kR11);
  c.bind(fall_through);
}

// callx: the helper id is in a register (the conformance suite's form).
void Compiler::emit_callx(const Insn& insn) {
  Encoder& c = code_;
  Label helper, done;
  c.mov_rr(false, kR11, reg(insn.dst));
  c.alu_ri(kCmp.ext, false, kR11, kHelperTailCall);
  c.jcc(kNotEqual, helper);
  emit_tail_call();
  c.jmp(done);
  c.bind(helper);
  c.alu_ri(kCmp.ext, false, kR11, static_cast<int32_t>(program_.helper_count));
  c.jcc_to(kAboveEqual, fail_stub_);
  c.mov_imm64(kR10, reinterpret_cast<uint64_t>(program_.helpers));
  c.rm_index8(op1(0x8b), true, kR11, kR10, kR11);
  c.test_rr(true, kR11, kR11);
  Label known;
  c.jcc(kNotEqual, known);
  c.jmp_to(fail_stub_);
  c.bind(known);
  c.rm(op1(0x89), true, kRbp, kR12, kOffsetCallbackFrame);
  c.mov_rr(true, kRdi, kR12);
  // GAP: indirect call without a retpoline (callx only).
  c.rr(op1(0xff), false, 2, kR11);
  c.rm(op1(0x80), false, 7, kR12, kOffsetAbort);
  c.byte(0);
  c.jcc_to(kNotEqual, abort_stub_);
  c.bind(done);
}

rt::Result<void> Compiler::emit_call(uint32_t pc, const Insn& insn) {
  Encoder& c = code_;
  if (op_source(insn.opcode) == kSrcX) {
    if (insn.dst > kFramePointer) return unsupported("jit: bad register");
    emit_callx(insn);
    return {};
  }
  if (insn.src == kPseudoCall) {
    int64_t target = static_cast<int64_t>(pc) + 1 + insn.imm;
    if (target < 0 || target >= program_.insn_count)
      return unsupported("jit: call out of the program");
    // The caller keeps r6..r9 and the running program (a tail call in the callee changes it);
    // the callee's r10 is 512 bytes below, within the 8 frames the run's stack holds.
    for (Reg r : kCalleeSaved) c.push(r);
    c.push_mem(kR12, kOffsetProgram);
    c.alu_ri(kSub.ext, true, kRbp, kStackSize);
    c.rm(op1(0x3b), true, kRbp, kR12, kOffsetFrameLimit);  // cmp rbp, [frame_limit]
    c.jcc_to(kBelow, fail_stub_);
    c.call_to(target_of(static_cast<uint32_t>(target)));
    c.alu_ri(kAdd.ext, true, kRbp, kStackSize);
    c.pop_mem(kR12, kOffsetProgram);
    for (int i = 3; i >= 0; --i) c.pop(kCalleeSaved[i]);
    return {};
  }
  if (insn.src == kPseudoKfuncCall) return unsupported("jit: kfunc calls");
  if (insn.src != kCallHelper) return unsupported("jit: invalid call source");
  if (insn.imm == kHelperTailCall) {
    emit_tail_call();
    return {};
  }
  uint32_t id = static_cast<uint32_t>(insn.imm);
  if (id >= program_.helper_count || program_.helpers[id] == nullptr) {
    c.jmp_to(fail_stub_);  // as the interpreter: the run fails when it gets here
    return {};
  }
  if (id == static_cast<uint32_t>(kHelperMapLookupElem) && emit_map_lookup(pc)) return {};
  if (id == static_cast<uint32_t>(kHelperGetSmpProcessorId) &&
      program_.helpers[id] == standard_helper(id)) {
    c.rm(op1(0x8b), false, kRax, kR12, kOffsetCpu);  // mov eax, [run.cpu]
    reads_cpu_ = true;
    return {};
  }
  emit_helper_call(reinterpret_cast<uint64_t>(program_.helpers[id]));
  return {};
}

rt::Result<void> Compiler::emit_load(const Insn& insn) {
  if (insn.dst >= kFramePointer || insn.src > kFramePointer)
    return unsupported("jit: bad register");
  Encoder& c = code_;
  Reg dst = reg(insn.dst), src = reg(insn.src);
  bool sign = op_mode(insn.opcode) == kModeMemsx;
  if (!sign && op_mode(insn.opcode) != kModeMem) return unsupported("jit: invalid load mode");
  switch (op_size(insn.opcode)) {
    case kSizeB: c.rm(op2(0x0f, sign ? 0xbe : 0xb6), sign, dst, src, insn.offset); return {};
    case kSizeH: c.rm(op2(0x0f, sign ? 0xbf : 0xb7), sign, dst, src, insn.offset); return {};
    case kSizeW: c.rm(op1(sign ? 0x63 : 0x8b), sign, dst, src, insn.offset); return {};
    case kSizeDw:
      if (sign) return unsupported("jit: invalid sign-extending load size");
      c.rm(op1(0x8b), true, dst, src, insn.offset);
      return {};
  }
  return unsupported("jit: invalid load");
}

rt::Result<void> Compiler::emit_store(const Insn& insn) {
  if (insn.dst > kFramePointer || insn.src > kFramePointer) return unsupported("jit: bad register");
  if (op_mode(insn.opcode) != kModeMem) return unsupported("jit: invalid store mode");
  Encoder& c = code_;
  Reg base = reg(insn.dst);
  if (insn_class(insn.opcode) == kClassStx) {
    Reg src = reg(insn.src);
    switch (op_size(insn.opcode)) {
      case kSizeB: c.rm(op1(0x88), false, src, base, insn.offset, true); break;
      case kSizeH: c.rm(with_prefix(op1(0x89), 0x66), false, src, base, insn.offset); break;
      case kSizeW: c.rm(op1(0x89), false, src, base, insn.offset); break;
      case kSizeDw: c.rm(op1(0x89), true, src, base, insn.offset); break;
    }
    return {};
  }
  if (blinding()) {
    // The value through r10, stored with the STX forms.
    load_blinded(op_size(insn.opcode) == kSizeDw, kR10, insn.imm);
    switch (op_size(insn.opcode)) {
      case kSizeB: c.rm(op1(0x88), false, kR10, base, insn.offset, true); break;
      case kSizeH: c.rm(with_prefix(op1(0x89), 0x66), false, kR10, base, insn.offset); break;
      case kSizeW: c.rm(op1(0x89), false, kR10, base, insn.offset); break;
      case kSizeDw: c.rm(op1(0x89), true, kR10, base, insn.offset); break;
    }
    return {};
  }
  switch (op_size(insn.opcode)) {
    case kSizeB:
      c.rm(op1(0xc6), false, 0, base, insn.offset);
      c.byte(static_cast<uint8_t>(insn.imm));
      break;
    case kSizeH:
      c.rm(with_prefix(op1(0xc7), 0x66), false, 0, base, insn.offset);
      c.u16(static_cast<uint16_t>(insn.imm));
      break;
    case kSizeW:
    case kSizeDw:
      c.rm(op1(0xc7), op_size(insn.opcode) == kSizeDw, 0, base, insn.offset);
      c.u32(static_cast<uint32_t>(insn.imm));
      break;
  }
  return {};
}

rt::Result<void> Compiler::emit_atomic(const Insn& insn) {
  if (insn_class(insn.opcode) != kClassStx) return unsupported("jit: invalid atomic class");
  if (insn.dst > kFramePointer || insn.src > kFramePointer) return unsupported("jit: bad register");
  uint8_t size = op_size(insn.opcode);
  if (size != kSizeW && size != kSizeDw) return unsupported("jit: invalid atomic size");
  Encoder& c = code_;
  bool wide = size == kSizeDw;
  Reg base = reg(insn.dst), src = reg(insn.src);
  constexpr uint8_t kLock = 0xf0;
  AluForm form{};
  switch (insn.imm) {
    case kAtomicAdd:
      c.rm(with_prefix(op1(kAdd.opcode), kLock), wide, src, base, insn.offset);
      return {};
    case kAtomicAdd | kAtomicFetch:
      c.rm(with_prefix(op2(0x0f, 0xc1), kLock), wide, src, base, insn.offset);  // xadd
      return {};
    case kAtomicOr:
    case kAtomicAnd:
    case kAtomicXor:
      form = insn.imm == kAtomicOr ? kOr : insn.imm == kAtomicAnd ? kAnd : kXor;
      c.rm(with_prefix(op1(form.opcode), kLock), wide, src, base, insn.offset);
      return {};
    case kAtomicXchg:
      c.rm(op1(0x87), wide, src, base, insn.offset);  // xchg with memory is locked
      return {};
    case kAtomicCmpxchg:
      c.rm(with_prefix(op2(0x0f, 0xb1), kLock), wide, src, base, insn.offset);
      if (!wide) c.mov_rr(false, kRax, kRax);  // r0 gets the old value, zero-extended
      return {};
    case kAtomicOr | kAtomicFetch: form = kOr; break;
    case kAtomicAnd | kAtomicFetch: form = kAnd; break;
    case kAtomicXor | kAtomicFetch: form = kXor; break;
    default: return unsupported("jit: invalid atomic operation");
  }
  // Fetching or/and/xor: a cmpxchg loop. rax (r0) is the comparand, so r0 lives in r10 and
  // any operand that was rax is read from there.
  if (base == kRax) base = kR10;
  if (src == kRax) src = kR10;
  c.mov_rr(true, kR10, kRax);
  c.rm(op1(0x8b), wide, kRax, base, insn.offset);
  Label again;
  c.bind(again);
  c.mov_rr(wide, kR11, kRax);
  c.alu_rr(form.opcode, wide, kR11, src);
  c.rm(with_prefix(op2(0x0f, 0xb1), kLock), wide, kR11, base, insn.offset);
  c.jcc(kNotEqual, again);
  c.mov_rr(wide, kR11, kRax);
  c.mov_rr(true, kRax, kR10);
  c.mov_rr(true, reg(insn.src), kR11);
  return {};
}

}  // namespace
}  // namespace jit

JitProgram& JitProgram::operator=(JitProgram&& other) noexcept {
  if (this != &other) {
    reset();
    memory_ = other.memory_;
    region_ = other.region_;
    code_size_ = other.code_size_;
    other.memory_ = nullptr;
    other.region_ = {};
    other.code_size_ = 0;
  }
  return *this;
}

void JitProgram::reset() {
  if (memory_ != nullptr) memory_->release(region_);
  memory_ = nullptr;
  region_ = {};
  code_size_ = 0;
}

void JitProgram::install(Program& program) const {
  program.runner = jit_run;
  program.jit_image = region_.execute_view;
  program.jit_image_size = code_size_;
}

rt::Result<JitProgram> jit_compile(const Program& program, ExecutableMemory& memory,
                                   rt::Allocator& scratch, const JitOptions& options) {
  using namespace jit;
  if (program.insn_count == 0) return unsupported("jit: empty program");
  if (options.blind_constants && options.random_source == nullptr)
    return unsupported("jit: blinding needs a random source");
  size_t table_bytes = sizeof(uint32_t) * program.insn_count;
  auto* measured = static_cast<uint32_t*>(scratch.allocate(table_bytes, alignof(uint32_t)));
  auto* final_offsets = static_cast<uint32_t*>(scratch.allocate(table_bytes, alignof(uint32_t)));
  auto* keys = options.blind_constants
                   ? static_cast<uint32_t*>(scratch.allocate(table_bytes, alignof(uint32_t)))
                   : nullptr;
  struct Release {
    rt::Allocator& allocator;
    void* tables[3];
    size_t size;
    ~Release() {
      for (void* table : tables) {
        if (table != nullptr) allocator.deallocate(table, size);
      }
    }
  } release{scratch, {measured, final_offsets, keys}, table_bytes};
  if (measured == nullptr || final_offsets == nullptr || (options.blind_constants && !keys))
    return rt::err(rt::kENOMEM, "jit: no memory for tables");
  // One value per instruction, drawn once: every pass must emit the same bytes.
  if (keys != nullptr) {
    for (uint32_t pc = 0; pc < program.insn_count; ++pc)
      keys[pc] = options.random_source->random_u32();
  }

  // Pass 0: an upper bound (every helper call in its long form) to size the region.
  ImageHeader header{};
  Encoder bound(nullptr, 0, 0);
  bound.set_assume_far(true);
  TRY(Compiler(program, bound, nullptr, measured, keys).compile_image(header));
  JitProgram result;
  result.region_ = TRY(memory.allocate(
      bound.position(),
      program.helpers != nullptr ? reinterpret_cast<const void*>(&jit_run) : nullptr));
  result.memory_ = &memory;
  uint64_t base = reinterpret_cast<uint64_t>(result.region_.execute_view);
  // Pass 1: the exact layout at the final address; pass 2 writes it, jumping to pass 1's
  // offsets (every jump is rel32, so sizes do not change between the passes).
  Encoder layout(nullptr, 0, base);
  TRY(Compiler(program, layout, nullptr, measured, keys).compile_image(header));
  Encoder writer(result.region_.write_view, result.region_.size, base);
  TRY(Compiler(program, writer, measured, final_offsets, keys).compile_image(header));
  if (writer.overflowed() || writer.position() != layout.position())
    return rt::err(rt::kEINVAL, "jit: layout changed");
  __builtin_memcpy(result.region_.write_view, &header, sizeof(header));
  result.code_size_ = writer.position();
  TRY(memory.seal(result.region_));
  return result;
}

}  // namespace ebpf
