// SPDX-License-Identifier: MIT
// The JIT compiler's loads, stores and atomic instructions.
#include "compiler.hpp"

namespace ebpf::jit {

rt::Result<void> Compiler::emit_load(const Insn& insn) {
  if (insn.dst >= kFramePointer || insn.src > kFramePointer)
    return unsupported("jit: bad register");
  Encoder& c = code_;
  Reg dst = reg(insn.dst), src = reg(insn.src);
  bool sign = op_mode(insn.opcode) == kModeMemsx;
  if (op_mode(insn.opcode) == kModeProbeMem) return emit_probe_load(insn);
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

// BPF_PROBE_MEM (a load through a BTF-typed pointer, in memory this process does not map): a
// call of probe_load, which reads through the Environment, 0 where nothing is readable. The
// BPF registers in caller-saved x86 registers (r0..r5) keep their values around it; rsp stays
// 16-byte aligned (six pushes).
rt::Result<void> Compiler::emit_probe_load(const Insn& insn) {
  Encoder& c = code_;
  Reg dst = reg(insn.dst), src = reg(insn.src);
  c.rm(op1(0x8d), true, kR11, src, insn.offset);  // lea r11, [src + off]
  const Reg saved[] = {kRax, kRsi, kRdx, kRcx, kR8, kR9};
  for (Reg r : saved) c.push(r);
  c.mov_rr(true, kRdi, kR12);
  c.mov_rr(true, kRsi, kR11);
  c.mov_imm64(kRdx, static_cast<uint64_t>(size_bytes(op_size(insn.opcode))));
  c.call_absolute(reinterpret_cast<uint64_t>(&probe_load), retpoline_);
  c.mov_rr(true, kR11, kRax);
  for (int i = 5; i >= 0; --i) c.pop(saved[i]);
  c.mov_rr(true, dst, kR11);
  return {};
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

}  // namespace ebpf::jit
