// SPDX-License-Identifier: MIT
// Interpreter instruction semantics: every ALU, jump, load/store and atomic opcode against a
// C++ oracle, and the edges Linux defines (division by zero, INT_MIN / -1, shift masking,
// 32-bit zero extension, sign extension, byte order).
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <functional>

#include "vm_test_support.hpp"

namespace {

using namespace ebpf;
using namespace ebpf::testing;

// Operand values that reach every sign and width boundary.
const uint64_t kValues[] = {0,
                            1,
                            2,
                            7,
                            0x7f,
                            0x80,
                            0xffff,
                            0x7fffffff,
                            0x80000000,
                            0xffffffff,
                            0x100000000,
                            0x7fffffffffffffffull,
                            0x8000000000000000ull,
                            0xfffffffffffffff9ull,  // -7
                            0xffffffffffffffffull,
                            0x123456789abcdef0ull};

std::string hex(uint64_t v) {
  char text[32];
  std::snprintf(text, sizeof(text), "0x%" PRIx64, v);
  return text;
}

// The oracle: Linux's definition of each ALU operation (64-bit and 32-bit forms).
uint64_t alu64(const std::string& op, uint64_t a, uint64_t b) {
  int64_t sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
  if (op == "add") return a + b;
  if (op == "sub") return a - b;
  if (op == "mul") return a * b;
  if (op == "div") return b ? a / b : 0;
  if (op == "mod") return b ? a % b : a;
  if (op == "sdiv") return sb == 0 ? 0 : sb == -1 ? 0 - a : static_cast<uint64_t>(sa / sb);
  if (op == "smod") return sb == 0 ? a : sb == -1 ? 0 : static_cast<uint64_t>(sa % sb);
  if (op == "or") return a | b;
  if (op == "and") return a & b;
  if (op == "xor") return a ^ b;
  if (op == "lsh") return a << (b & 63);
  if (op == "rsh") return a >> (b & 63);
  if (op == "arsh") return static_cast<uint64_t>(sa >> (b & 63));
  if (op == "mov") return b;
  ADD_FAILURE() << op;
  return 0;
}

uint64_t alu32(const std::string& op, uint64_t a64, uint64_t b64) {
  uint32_t a = static_cast<uint32_t>(a64), b = static_cast<uint32_t>(b64);
  int32_t sa = static_cast<int32_t>(a), sb = static_cast<int32_t>(b);
  uint32_t r = 0;
  if (op == "add")
    r = a + b;
  else if (op == "sub")
    r = a - b;
  else if (op == "mul")
    r = a * b;
  else if (op == "div")
    r = b ? a / b : 0;
  else if (op == "mod")
    r = b ? a % b : a;
  else if (op == "sdiv")
    r = sb == 0 ? 0 : sb == -1 ? 0u - a : static_cast<uint32_t>(sa / sb);
  else if (op == "smod")
    r = sb == 0 ? a : sb == -1 ? 0 : static_cast<uint32_t>(sa % sb);
  else if (op == "or")
    r = a | b;
  else if (op == "and")
    r = a & b;
  else if (op == "xor")
    r = a ^ b;
  else if (op == "lsh")
    r = a << (b & 31);
  else if (op == "rsh")
    r = a >> (b & 31);
  else if (op == "arsh")
    r = static_cast<uint32_t>(sa >> (b & 31));
  else if (op == "mov")
    r = b;
  else
    ADD_FAILURE() << op;
  return r;  // ALU32 results are zero-extended
}

const char* const kAluOps[] = {"add", "sub", "mul", "div", "mod", "sdiv", "smod",
                               "or",  "and", "xor", "lsh", "rsh", "arsh", "mov"};

// Register and immediate forms of every ALU operation, both widths, over all operand pairs
// (immediates only where the value fits the sign-extended 32-bit field). One program per
// operation keeps the run count low: it folds every result into r0 with a rotate-xor.
TEST(InterpreterAlu, EveryOperationMatchesTheOracle) {
  for (const char* op : kAluOps) {
    for (bool wide : {true, false}) {
      for (bool immediate : {false, true}) {
        std::string text = "mov %r0, 0\n";
        uint64_t expected = 0;
        std::string mnemonic = std::string(op) + (wide ? "" : "32");
        for (uint64_t a : kValues) {
          for (uint64_t b : kValues) {
            int64_t sb = static_cast<int64_t>(b);
            if (immediate && (sb < INT32_MIN || sb > INT32_MAX)) continue;
            text += "lddw %r1, " + hex(a) + "\n";
            if (immediate) {
              text += mnemonic + " %r1, " + std::to_string(sb) + "\n";
            } else {
              text += "lddw %r2, " + hex(b) + "\n" + mnemonic + " %r1, %r2\n";
            }
            text += "xor %r0, %r1\nmov %r3, %r0\nlsh %r0, 7\nrsh %r3, 57\nor %r0, %r3\n";
            uint64_t r = wide ? alu64(op, a, b) : alu32(op, a, b);
            expected ^= r;
            expected = (expected << 7) | (expected >> 57);
          }
        }
        text += "exit";
        EXPECT_EQ(value_of(text), expected) << mnemonic << (immediate ? " imm" : " reg");
      }
    }
  }
}

TEST(InterpreterAlu, DivisionByZeroAndModuloByZeroFollowLinux) {
  EXPECT_EQ(value_of("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit"), 0u);
  EXPECT_EQ(value_of("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit"), 7u);
  EXPECT_EQ(value_of("mov %r0, 7\ndiv %r0, 0\nexit"), 0u);
  EXPECT_EQ(value_of("lddw %r0, 0x100000007\nmov %r1, 0\nmod32 %r0, %r1\nexit"), 7u);
  EXPECT_EQ(value_of("lddw %r0, 0x100000007\nmov %r1, 0\ndiv32 %r0, %r1\nexit"), 0u);
  // The divisor of a 32-bit division is the low half only.
  EXPECT_EQ(value_of("mov %r0, 7\nlddw %r1, 0x100000000\ndiv32 %r0, %r1\nexit"), 0u);
  EXPECT_EQ(value_of("mov %r0, -7\nmov %r1, 0\nsdiv %r0, %r1\nexit"), 0u);
  EXPECT_EQ(value_of("mov %r0, -7\nmov %r1, 0\nsmod %r0, %r1\nexit"), static_cast<uint64_t>(-7));
  EXPECT_EQ(value_of("mov %r0, -7\nmov %r1, 0\nsmod32 %r0, %r1\nexit"), 0xfffffff9u);
}

TEST(InterpreterAlu, SignedDivisionOverflowWraps) {
  EXPECT_EQ(value_of("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit"), 0x8000000000000000ull);
  EXPECT_EQ(value_of("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit"), 0u);
  EXPECT_EQ(value_of("mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit"), 0x80000000u);
  EXPECT_EQ(value_of("mov32 %r0, 0x80000000\nsmod32 %r0, -1\nexit"), 0u);
  EXPECT_EQ(value_of("mov %r0, -7\nsdiv %r0, 2\nexit"), static_cast<uint64_t>(-3));
  EXPECT_EQ(value_of("mov %r0, -7\nsmod %r0, 2\nexit"), static_cast<uint64_t>(-1));
  EXPECT_EQ(value_of("mov %r0, 7\nsmod %r0, -2\nexit"), 1u);  // sign of the dividend
}

TEST(InterpreterAlu, ShiftAmountsAreMasked) {
  EXPECT_EQ(value_of("mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1\nexit"), 2u);
  EXPECT_EQ(value_of("mov32 %r0, 1\nmov %r1, 33\nlsh32 %r0, %r1\nexit"), 2u);
  EXPECT_EQ(value_of("mov %r0, -16\narsh %r0, 2\nexit"), static_cast<uint64_t>(-4));
  EXPECT_EQ(value_of("mov32 %r0, -16\narsh32 %r0, 2\nexit"), 0xfffffffcu);
  EXPECT_EQ(value_of("mov %r0, -1\nrsh32 %r0, 36\nexit"), 0x0fffffffu);
}

TEST(InterpreterAlu, Alu32ZeroExtendsAndNegates) {
  EXPECT_EQ(value_of("mov %r0, -1\nadd32 %r0, 1\nexit"), 0u);
  EXPECT_EQ(value_of("mov %r0, -1\nmov32 %r0, %r0\nexit"), 0xffffffffu);
  EXPECT_EQ(value_of("mov %r0, 5\nneg32 %r0\nexit"), 0xfffffffbu);
  EXPECT_EQ(value_of("mov %r0, 5\nneg %r0\nexit"), static_cast<uint64_t>(-5));
  EXPECT_EQ(value_of("mov32 %r0, -1\nexit"), 0xffffffffu);
  EXPECT_EQ(value_of("mov %r0, -1\nexit"), ~0ull);
}

TEST(InterpreterAlu, SignExtendingMoves) {
  EXPECT_EQ(value_of("mov %r1, 0x80\nmovsx864 %r0, %r1\nexit"), 0xffffffffffffff80ull);
  EXPECT_EQ(value_of("mov %r1, 0x7f\nmovsx864 %r0, %r1\nexit"), 0x7fu);
  EXPECT_EQ(value_of("mov %r1, 0x8000\nmovsx1664 %r0, %r1\nexit"), 0xffffffffffff8000ull);
  EXPECT_EQ(value_of("mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1\nexit"), 0xffffffff80000000ull);
  EXPECT_EQ(value_of("mov %r1, 0x80\nmovsx832 %r0, %r1\nexit"), 0xffffff80u);
  EXPECT_EQ(value_of("mov %r1, 0x8000\nmovsx1632 %r0, %r1\nexit"), 0xffff8000u);
}

TEST(InterpreterAlu, ByteSwaps) {
  const std::string v = "lddw %r0, 0x1122334455667788\n";
  EXPECT_EQ(value_of(v + "be16 %r0\nexit"), 0x8877u);
  EXPECT_EQ(value_of(v + "be32 %r0\nexit"), 0x88776655u);
  EXPECT_EQ(value_of(v + "be64 %r0\nexit"), 0x8877665544332211ull);
  EXPECT_EQ(value_of(v + "le16 %r0\nexit"), 0x7788u);
  EXPECT_EQ(value_of(v + "le32 %r0\nexit"), 0x55667788u);
  EXPECT_EQ(value_of(v + "le64 %r0\nexit"), 0x1122334455667788ull);
  EXPECT_EQ(value_of(v + "bswap16 %r0\nexit"), 0x8877u);
  EXPECT_EQ(value_of(v + "bswap32 %r0\nexit"), 0x88776655u);
  EXPECT_EQ(value_of(v + "bswap64 %r0\nexit"), 0x8877665544332211ull);
}

// The oracle for conditional jumps.
bool taken(const std::string& op, uint64_t a, uint64_t b, bool wide) {
  if (!wide) {
    a = static_cast<uint32_t>(a);
    b = static_cast<uint32_t>(b);
  }
  int64_t sa = wide ? static_cast<int64_t>(a) : static_cast<int32_t>(a);
  int64_t sb = wide ? static_cast<int64_t>(b) : static_cast<int32_t>(b);
  if (op == "jeq") return a == b;
  if (op == "jne") return a != b;
  if (op == "jgt") return a > b;
  if (op == "jge") return a >= b;
  if (op == "jlt") return a < b;
  if (op == "jle") return a <= b;
  if (op == "jset") return (a & b) != 0;
  if (op == "jsgt") return sa > sb;
  if (op == "jsge") return sa >= sb;
  if (op == "jslt") return sa < sb;
  if (op == "jsle") return sa <= sb;
  ADD_FAILURE() << op;
  return false;
}

TEST(InterpreterJump, EveryConditionMatchesTheOracle) {
  const char* ops[] = {"jeq",  "jne",  "jgt",  "jge",  "jlt", "jle",
                       "jset", "jsgt", "jsge", "jslt", "jsle"};
  for (const char* op : ops) {
    for (bool wide : {true, false}) {
      for (bool immediate : {false, true}) {
        // Each pair sets one bit of r0 when the jump is taken (r0 <<= 1 first).
        std::string text = "mov %r0, 0\n";
        uint64_t expected = 0;
        std::string mnemonic = std::string(op) + (wide ? "" : "32");
        for (uint64_t a : kValues) {
          for (uint64_t b : kValues) {
            int64_t sb = static_cast<int64_t>(b);
            if (immediate && (sb < INT32_MIN || sb > INT32_MAX)) continue;
            text += "lsh %r0, 1\nlddw %r1, " + hex(a) + "\n";
            if (immediate) {
              text += mnemonic + " %r1, " + std::to_string(sb) + ", +1\n";
            } else {
              text += "lddw %r2, " + hex(b) + "\n" + mnemonic + " %r1, %r2, +1\n";
            }
            text += "ja +1\nor %r0, 1\n";
            // An immediate is sign-extended to 64 bits for JMP, used as 32 bits for JMP32.
            expected = (expected << 1) | (taken(op, a, b, wide) ? 1 : 0);
          }
        }
        text += "exit";
        EXPECT_EQ(value_of(text), expected) << mnemonic << (immediate ? " imm" : " reg");
      }
    }
  }
}

TEST(InterpreterJump, UnconditionalJumpsIncludingGotol) {
  EXPECT_EQ(value_of("mov %r0, 1\nja +1\nmov %r0, 2\nexit"), 1u);
  EXPECT_EQ(value_of("mov %r0, 1\nja32 +1\nmov %r0, 2\nexit"), 1u);
  EXPECT_EQ(value_of("mov %r0, 0\nja32 fwd\nback:\nadd %r0, 1\nexit\nfwd:\nadd %r0, 10\nja32 back"),
            11u);
  // An unconditional jump back to itself is a loop only a checked run's budget ends.
  Loaded loop = load("mov %r0, 0\nl:\nja l\nexit");
  EXPECT_EQ(checked(loop, 0, CheckedSetup{{}, {}, 500}).status, RunStatus::kBudgetExhausted);
}

TEST(InterpreterMemory, LoadsAndStoresOfEverySize) {
  EXPECT_EQ(value_of("stdw [%r10-8], -1\nstb [%r10-8], 0x12\nldxdw %r0, [%r10-8]\nexit"),
            0xffffffffffffff12ull);
  EXPECT_EQ(value_of("stdw [%r10-8], 0\nsth [%r10-6], 0x1234\nldxdw %r0, [%r10-8]\nexit"),
            0x12340000ull);
  EXPECT_EQ(value_of("stdw [%r10-8], 0\nstw [%r10-8], -2\nldxdw %r0, [%r10-8]\nexit"),
            0xfffffffeull);
  EXPECT_EQ(value_of("stdw [%r10-8], -2\nldxdw %r0, [%r10-8]\nexit"),
            static_cast<uint64_t>(-2));  // imm sign-extends
  EXPECT_EQ(value_of("lddw %r1, 0x1122334455667788\nstxdw [%r10-8], %r1\nldxb %r0, [%r10-8]\nexit"),
            0x88u);
  EXPECT_EQ(value_of("lddw %r1, 0x1122334455667788\nstxdw [%r10-8], %r1\nldxh %r0, [%r10-6]\nexit"),
            0x5566u);
  EXPECT_EQ(value_of("lddw %r1, 0x1122334455667788\nstxdw [%r10-8], %r1\nldxw %r0, [%r10-4]\nexit"),
            0x11223344u);
  EXPECT_EQ(
      value_of(
          "stdw [%r10-8], 0\nlddw %r1, 0x1122334455667788\nstxb [%r10-8], %r1\nstxh [%r10-6], %r1\n"
          "stxw [%r10-4], %r1\nldxdw %r0, [%r10-8]\nexit"),
      0x5566778877880088ull);
  // Unaligned accesses are allowed (the verifier decides alignment rules).
  EXPECT_EQ(value_of("stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r1, -1\nstxw [%r10-11], %r1\n"
                     "ldxdw %r0, [%r10-16]\nexit"),
            0xffffff0000000000ull);
}

TEST(InterpreterMemory, SignExtendingLoads) {
  EXPECT_EQ(value_of("stb [%r10-1], 0xfe\nldxsb %r0, [%r10-1]\nexit"), static_cast<uint64_t>(-2));
  EXPECT_EQ(value_of("stb [%r10-1], 0x7e\nldxsb %r0, [%r10-1]\nexit"), 0x7eu);
  EXPECT_EQ(value_of("sth [%r10-2], 0x8001\nldxsh %r0, [%r10-2]\nexit"), 0xffffffffffff8001ull);
  EXPECT_EQ(value_of("stw [%r10-4], -3\nldxsw %r0, [%r10-4]\nexit"), static_cast<uint64_t>(-3));
  EXPECT_EQ(value_of("stw [%r10-4], -3\nldxw %r0, [%r10-4]\nexit"), 0xfffffffdu);
}

// Atomic operations: the memory result and the register result of every operation, with
// and without FETCH, on both widths.
TEST(InterpreterAtomic, EveryOperationAndWidth) {
  struct Case {
    const char* op;
    uint64_t (*apply)(uint64_t, uint64_t);
  };
  const Case cases[] = {{"add", [](uint64_t a, uint64_t b) { return a + b; }},
                        {"or", [](uint64_t a, uint64_t b) { return a | b; }},
                        {"and", [](uint64_t a, uint64_t b) { return a & b; }},
                        {"xor", [](uint64_t a, uint64_t b) { return a ^ b; }}};
  const uint64_t memory = 0xf0f0f0f0ffff0001ull, operand = 0x0ff00ff0ffffffffull;
  for (const Case& c : cases) {
    for (bool wide : {true, false}) {
      for (bool fetch : {false, true}) {
        std::string op = std::string(fetch ? "fetch " : "") + c.op + (wide ? "" : "32");
        std::string prefix = "lddw %r1, " + hex(memory) + "\nstxdw [%r10-8], %r1\nlddw %r2, " +
                             hex(operand) +
                             "\n"
                             "lock " +
                             op + " [%r10-8], %r2\n";
        uint64_t old_value = wide ? memory : static_cast<uint32_t>(memory);
        uint64_t updated = wide ? c.apply(memory, operand)
                                : (memory & 0xffffffff00000000ull) |
                                      static_cast<uint32_t>(c.apply(memory, operand));
        EXPECT_EQ(value_of(prefix + "ldxdw %r0, [%r10-8]\nexit"), updated) << op;
        // FETCH puts the old value (zero-extended for 32 bits) in the source register.
        EXPECT_EQ(value_of(prefix + "mov %r0, %r2\nexit"), fetch ? old_value : operand) << op;
      }
    }
  }
}

TEST(InterpreterAtomic, ExchangeAndCompareExchange) {
  EXPECT_EQ(value_of("stdw [%r10-8], 1\nmov %r1, 2\nlock xchg [%r10-8], %r1\nmov %r0, %r1\nexit"),
            1u);
  EXPECT_EQ(
      value_of("stdw [%r10-8], 1\nmov %r1, 2\nlock xchg [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit"),
      2u);
  EXPECT_EQ(
      value_of("stdw [%r10-8], -1\nmov %r1, 2\nlock xchg32 [%r10-8], %r1\nmov %r0, %r1\nexit"),
      0xffffffffu);
  EXPECT_EQ(
      value_of(
          "stdw [%r10-8], -1\nmov %r1, 2\nlock xchg32 [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit"),
      0xffffffff00000002ull);
  // cmpxchg: equal -> stores, r0 = old; different -> no store, r0 = current value.
  EXPECT_EQ(value_of("stw [%r10-4], 9\nmov %r0, 9\nmov %r1, 4\nlock cmpxchg32 [%r10-4], %r1\n"
                     "ldxw %r0, [%r10-4]\nexit"),
            4u);
  EXPECT_EQ(value_of("stw [%r10-4], 9\nmov %r0, 8\nmov %r1, 4\nlock cmpxchg32 [%r10-4], %r1\n"
                     "ldxw %r2, [%r10-4]\nlsh %r0, 8\nor %r0, %r2\nexit"),
            (9u << 8) | 9u);
  EXPECT_EQ(
      value_of("stdw [%r10-8], -1\nmov %r0, -1\nmov %r1, 3\nlock cmpxchg [%r10-8], %r1\nexit"),
      ~0ull);
  // A 32-bit cmpxchg compares and returns only the low half (zero-extended).
  EXPECT_EQ(
      value_of("stw [%r10-4], -1\nlddw %r0, 0x1ffffffff\nmov %r1, 3\nlock cmpxchg32 [%r10-4], %r1\n"
               "exit"),
      0xffffffffu);
}

TEST(InterpreterImmediates, LdImm64LoadsBothHalves) {
  EXPECT_EQ(value_of("lddw %r0, 0x8000000000000001\nexit"), 0x8000000000000001ull);
  EXPECT_EQ(value_of("lddw %r0, 0xffffffff\nexit"), 0xffffffffu);  // low half not sign-extended
}

}  // namespace
