// SPDX-License-Identifier: MIT
// A small x86-64 encoder: REX, ModRM/SIB, immediates, rel32 labels; measures or writes.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ebpf::jit {

enum Reg : uint8_t {
  kRax = 0,
  kRcx = 1,
  kRdx = 2,
  kRbx = 3,
  kRsp = 4,
  kRbp = 5,
  kRsi = 6,
  kRdi = 7,
  kR8 = 8,
  kR9 = 9,
  kR10 = 10,
  kR11 = 11,
  kR12 = 12,
  kR13 = 13,
  kR14 = 14,
  kR15 = 15,
};

// Condition codes (the low nibble of Jcc / SETcc).
enum Cond : uint8_t {
  kBelow = 0x2,
  kAboveEqual = 0x3,
  kEqual = 0x4,
  kNotEqual = 0x5,
  kBelowEqual = 0x6,
  kAbove = 0x7,
  kLess = 0xc,
  kGreaterEqual = 0xd,
  kLessEqual = 0xe,
  kGreater = 0xf,
};

// An opcode: optional legacy prefixes (0x66, 0xf0) and one to three opcode bytes.
struct Op {
  uint8_t prefix[2];
  uint8_t length;
  uint8_t bytes[3];
};
constexpr Op op1(uint8_t a) { return Op{{0, 0}, 1, {a, 0, 0}}; }
constexpr Op op2(uint8_t a, uint8_t b) { return Op{{0, 0}, 2, {a, b, 0}}; }
constexpr Op with_prefix(Op op, uint8_t prefix) {
  op.prefix[op.prefix[0] == 0 ? 0 : 1] = prefix;
  return op;
}

// A position in the code a rel32 can refer to; forward uses are patched when it is bound.
struct Label {
  static constexpr int kMaxPending = 8;
  int64_t position = -1;
  size_t pending[kMaxPending];
  int pending_count = 0;
};

class Encoder {
 public:
  // `buffer` nullptr measures only. `base` is the address the code will run at (rel32 to
  // absolute targets is computed against it).
  Encoder(uint8_t* buffer, size_t capacity, uint64_t base)
      : buffer_(buffer), capacity_(capacity), base_(base) {}

  size_t position() const { return position_; }
  bool overflowed() const { return overflow_; }
  uint64_t address_at(size_t position) const { return base_ + position; }

  void byte(uint8_t value);
  void u16(uint16_t value);
  void u32(uint32_t value);
  void u64(uint64_t value);
  void patch_u32(size_t at, uint32_t value);

  // op reg, rm (ModRM mod 3). `byte_regs` forces a REX so 4-7 mean spl..dil.
  void rr(Op op, bool wide, int reg, int rm, bool byte_regs = false);
  // op reg, [base + disp].
  void rm(Op op, bool wide, int reg, int base, int32_t disp, bool byte_regs = false);
  // op reg, [base + index * 8] (only scaled form used: helper tables).
  void rm_index8(Op op, bool wide, int reg, int base, int index);

  // Common instructions.
  void mov_rr(bool wide, int dst, int src);                  // mov dst, src
  void mov_imm64(int dst, uint64_t value);                   // shortest mov of a 64-bit constant
  void mov_imm32(int dst, int32_t value);                    // mov dst32, imm (zero-extends)
  void alu_rr(uint8_t opcode, bool wide, int dst, int src);  // add/or/and/sub/xor/cmp (01,09,..)
  void alu_ri(int ext, bool wide, int dst, int32_t imm);     // 81 /ext (83 when it fits)
  void test_rr(bool wide, int a, int b);
  void test_ri(bool wide, int a, int32_t imm);
  void push(int reg);
  void pop(int reg);
  void push_mem(int base, int32_t disp);
  void pop_mem(int base, int32_t disp);
  void bswap(bool wide, int reg);  // 0f c8+r
  void ret() { byte(0xc3); }
  void int3() { byte(0xcc); }

  // Control flow to labels or absolute addresses (rel32).
  void bind(Label& label);
  void jmp(Label& label);
  void jcc(Cond cond, Label& label);
  void call(Label& label);
  void jmp_to(size_t position);  // a known position in this code
  void jcc_to(Cond cond, size_t position);
  void call_to(size_t position);
  // Call of an absolute address: rel32 when it reaches (never, when measuring with
  // `assume_far`), else mov r11, target and a call to `retpoline` (the image's thunk that
  // branches to r11), so even a far call is no indirect call the CPU could mispredict.
  void call_absolute(uint64_t target, size_t retpoline);
  bool reaches(uint64_t target) const;
  void set_assume_far(bool far) { assume_far_ = far; }

 private:
  void rex(bool wide, int reg, int index, int base, bool force);
  void emit_op(const Op& op, bool wide, int reg, int index, int base, bool force_rex);
  void rel32_to(size_t position);
  void use_label(Label& label);

  uint8_t* buffer_;
  size_t capacity_;
  uint64_t base_;
  size_t position_ = 0;
  bool overflow_ = false;
  bool assume_far_ = false;
};

}  // namespace ebpf::jit
