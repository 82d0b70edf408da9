// SPDX-License-Identifier: MIT
// The JIT compiler's ALU, division, byte-swap and jump instructions.
#include "compiler.hpp"

namespace ebpf::jit {

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

}  // namespace ebpf::jit
