// SPDX-License-Identifier: MIT
// The x86-64 encoder: prefixes, REX, ModRM/SIB and displacement forms, labels.
#include "x86_encoder.hpp"

namespace ebpf::jit {

void Encoder::byte(uint8_t value) {
  if (buffer_ != nullptr) {
    if (position_ >= capacity_) {
      overflow_ = true;
      return;
    }
    buffer_[position_] = value;
  }
  ++position_;
}

void Encoder::u16(uint16_t value) {
  byte(static_cast<uint8_t>(value));
  byte(static_cast<uint8_t>(value >> 8));
}

void Encoder::u32(uint32_t value) {
  for (int i = 0; i < 4; ++i) byte(static_cast<uint8_t>(value >> (8 * i)));
}

void Encoder::u64(uint64_t value) {
  for (int i = 0; i < 8; ++i) byte(static_cast<uint8_t>(value >> (8 * i)));
}

void Encoder::patch_u32(size_t at, uint32_t value) {
  if (buffer_ == nullptr || at + 4 > capacity_) return;
  for (int i = 0; i < 4; ++i) buffer_[at + i] = static_cast<uint8_t>(value >> (8 * i));
}

void Encoder::rex(bool wide, int reg, int index, int base, bool force) {
  uint8_t value =
      0x40 | (wide ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) | ((base & 8) ? 1 : 0);
  if (value != 0x40 || force) byte(value);
}

void Encoder::emit_op(const Op& op, bool wide, int reg, int index, int base, bool force_rex) {
  for (uint8_t prefix : op.prefix) {
    if (prefix != 0) byte(prefix);
  }
  rex(wide, reg, index, base, force_rex);
  for (int i = 0; i < op.length; ++i) byte(op.bytes[i]);
}

void Encoder::rr(Op op, bool wide, int reg, int rm, bool byte_regs) {
  bool force = byte_regs && ((reg >= 4 && reg <= 7) || (rm >= 4 && rm <= 7));
  emit_op(op, wide, reg, 0, rm, force);
  byte(static_cast<uint8_t>(0xc0 | ((reg & 7) << 3) | (rm & 7)));
}

void Encoder::rm(Op op, bool wide, int reg, int base, int32_t disp, bool byte_regs) {
  bool force = byte_regs && reg >= 4 && reg <= 7;
  emit_op(op, wide, reg, 0, base, force);
  // mod 00 with base 5 (rbp/r13) means rip-relative/disp32: always give rbp/r13 a displacement.
  uint8_t mod = (disp == 0 && (base & 7) != kRbp) ? 0x00
                : (disp >= -128 && disp <= 127)   ? 0x40
                                                  : 0x80;
  byte(static_cast<uint8_t>(mod | ((reg & 7) << 3) | (base & 7)));
  if ((base & 7) == kRsp) byte(0x24);  // SIB: base rsp/r12, no index
  if (mod == 0x40) byte(static_cast<uint8_t>(static_cast<int8_t>(disp)));
  if (mod == 0x80) u32(static_cast<uint32_t>(disp));
}

void Encoder::rm_index8(Op op, bool wide, int reg, int base, int index) {
  emit_op(op, wide, reg, index, base, false);
  // mod 01 disp8 0 keeps rbp/r13 bases valid.
  byte(static_cast<uint8_t>(0x44 | ((reg & 7) << 3)));
  byte(static_cast<uint8_t>(0xc0 | ((index & 7) << 3) | (base & 7)));
  byte(0);
}

void Encoder::mov_rr(bool wide, int dst, int src) { rr(op1(0x89), wide, src, dst); }

void Encoder::mov_imm32(int dst, int32_t value) {
  rex(false, 0, 0, dst, false);
  byte(static_cast<uint8_t>(0xb8 + (dst & 7)));
  u32(static_cast<uint32_t>(value));
}

void Encoder::mov_imm64(int dst, uint64_t value) {
  if (value <= 0xffffffffu) {
    mov_imm32(dst, static_cast<int32_t>(value));
  } else if (static_cast<int64_t>(value) >= INT32_MIN && static_cast<int64_t>(value) < 0) {
    rr(op1(0xc7), true, 0, dst);  // mov r/m64, imm32 (sign-extended)
    u32(static_cast<uint32_t>(value));
  } else {
    rex(true, 0, 0, dst, false);
    byte(static_cast<uint8_t>(0xb8 + (dst & 7)));
    u64(value);
  }
}

void Encoder::alu_rr(uint8_t opcode, bool wide, int dst, int src) {
  rr(op1(opcode), wide, src, dst);
}

void Encoder::alu_ri(int ext, bool wide, int dst, int32_t imm) {
  if (imm >= -128 && imm <= 127) {
    rr(op1(0x83), wide, ext, dst);
    byte(static_cast<uint8_t>(static_cast<int8_t>(imm)));
  } else {
    rr(op1(0x81), wide, ext, dst);
    u32(static_cast<uint32_t>(imm));
  }
}

void Encoder::test_rr(bool wide, int a, int b) { rr(op1(0x85), wide, b, a); }

void Encoder::test_ri(bool wide, int a, int32_t imm) {
  rr(op1(0xf7), wide, 0, a);
  u32(static_cast<uint32_t>(imm));
}

void Encoder::bswap(bool wide, int reg) {
  rex(wide, 0, 0, reg, false);
  byte(0x0f);
  byte(static_cast<uint8_t>(0xc8 + (reg & 7)));
}

void Encoder::push(int reg) {
  rex(false, 0, 0, reg, false);
  byte(static_cast<uint8_t>(0x50 + (reg & 7)));
}

void Encoder::pop(int reg) {
  rex(false, 0, 0, reg, false);
  byte(static_cast<uint8_t>(0x58 + (reg & 7)));
}

void Encoder::push_mem(int base, int32_t disp) { rm(op1(0xff), false, 6, base, disp); }
void Encoder::pop_mem(int base, int32_t disp) { rm(op1(0x8f), false, 0, base, disp); }

void Encoder::rel32_to(size_t position) {
  int64_t rel = static_cast<int64_t>(position) - static_cast<int64_t>(position_ + 4);
  u32(static_cast<uint32_t>(static_cast<int32_t>(rel)));
}

void Encoder::use_label(Label& label) {
  if (label.position >= 0) {
    rel32_to(static_cast<size_t>(label.position));
    return;
  }
  if (label.pending_count < Label::kMaxPending) label.pending[label.pending_count++] = position_;
  u32(0);
}

void Encoder::bind(Label& label) {
  label.position = static_cast<int64_t>(position_);
  for (int i = 0; i < label.pending_count; ++i) {
    size_t at = label.pending[i];
    patch_u32(at, static_cast<uint32_t>(static_cast<int32_t>(static_cast<int64_t>(position_) -
                                                             static_cast<int64_t>(at + 4))));
  }
  label.pending_count = 0;
}

void Encoder::jmp(Label& label) {
  byte(0xe9);
  use_label(label);
}

void Encoder::jcc(Cond cond, Label& label) {
  byte(0x0f);
  byte(static_cast<uint8_t>(0x80 | cond));
  use_label(label);
}

void Encoder::call(Label& label) {
  byte(0xe8);
  use_label(label);
}

void Encoder::jmp_to(size_t position) {
  byte(0xe9);
  rel32_to(position);
}

void Encoder::jcc_to(Cond cond, size_t position) {
  byte(0x0f);
  byte(static_cast<uint8_t>(0x80 | cond));
  rel32_to(position);
}

void Encoder::call_to(size_t position) {
  byte(0xe8);
  rel32_to(position);
}

bool Encoder::reaches(uint64_t target) const {
  if (assume_far_) return false;
  // Any instruction of the code must reach: check from both ends of a 2 GiB window.
  int64_t from = static_cast<int64_t>(base_);
  int64_t distance = static_cast<int64_t>(target) - from;
  return distance > INT32_MIN / 2 * 2 + (1 << 24) && distance < INT32_MAX - (1 << 24);
}

void Encoder::call_absolute(uint64_t target, size_t retpoline) {
  if (reaches(target)) {
    byte(0xe8);
    int64_t rel = static_cast<int64_t>(target) - static_cast<int64_t>(base_ + position_ + 4);
    u32(static_cast<uint32_t>(static_cast<int32_t>(rel)));
    return;
  }
  mov_imm64(kR11, target);
  call_to(retpoline);
}

}  // namespace ebpf::jit
