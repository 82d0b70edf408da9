// SPDX-License-Identifier: MIT
// The JIT against the interpreter: every instruction class on the same programs (ALU edge
// cases, memory, atomics, jumps; also with constant blinding), calls and frames, helpers, tail
// calls, callbacks, W^X, blinded code.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>

#include "../ebpf_maps/fake_environment.hpp"
#include "vm_test_support.hpp"

namespace {

using namespace ebpf;
using namespace ebpf::testing;

// Runs `text` with r1 pointing at a copy of `memory` in the interpreter and in the JIT (with
// and without constant blinding); returns the JIT's r0 after checking r0 and memory agree.
uint64_t both_on_memory(const std::string& text, std::vector<uint8_t> memory) {
  Loaded loaded = load(text);
  std::vector<uint8_t> interpreted = memory;
  uint64_t expected = run(loaded.program, interpreted.data(), nullptr);
  uint64_t value = ~0ull;
  for (const JitOptions& options : {JitOptions{}, blinded()}) {
    std::vector<uint8_t> compiled = memory;
    Jitted jitted = jit(loaded, options);
    if (!jitted.code.compiled()) return ~0ull;
    value = execute(jitted.program, compiled.data(), nullptr);
    EXPECT_EQ(value, expected) << text << (options.blind_constants ? "\n(blinded)" : "");
    EXPECT_EQ(compiled, interpreted) << "memory differs\n" << text;
  }
  return value;
}

// r0 of `text` (verified-style: no checked run) in the interpreter and the JIT (with and
// without constant blinding), which must agree.
uint64_t both(const std::string& text) {
  Loaded loaded = load(text);
  uint64_t expected = run(loaded.program, nullptr, nullptr);
  for (const JitOptions& options : {JitOptions{}, blinded()}) {
    Jitted jitted = jit(loaded, options);
    if (!jitted.code.compiled()) return ~0ull;
    EXPECT_EQ(execute(jitted.program, nullptr, nullptr), expected)
        << text << (options.blind_constants ? "\n(blinded)" : "");
  }
  return expected;
}

TEST(Jit, DivisionEdgeCasesAsTheInterpreter) {
  // Register and immediate divisors, both widths, signed and unsigned, zero and -1, with r0,
  // r2 and r3 (rax, rdx, rcx: what x86 division uses) as dividend, divisor and bystander.
  const char* dividends[] = {"0",          "7",          "-7", "0x8000000000000000",
                             "0x80000000", "0xffffffff", "-1"};
  const char* divisors[] = {"0", "1", "-1", "2", "-2", "3", "0x80000000", "0x100000000"};
  const char* ops[] = {"div", "mod", "sdiv", "smod", "div32", "mod32", "sdiv32", "smod32"};
  for (const char* dividend : dividends) {
    for (const char* divisor : divisors) {
      for (const char* op : ops) {
        std::string setup =
            std::string("lddw %r4, ") + dividend + "\nlddw %r5, " + divisor + "\nmov %r3, 33\n";
        value_of(setup + "mov %r0, %r4\n" + op + " %r0, %r5\nadd %r0, %r3\nexit");
        value_of(setup + "mov %r3, %r4\nmov %r0, %r5\n" + op + " %r3, %r0\nmov %r0, %r3\nexit");
        value_of(setup + "mov %r2, %r4\nmov %r3, %r5\n" + op + " %r2, %r3\nmov %r0, %r2\nexit");
        value_of(setup + "mov %r0, %r4\n" + op + " %r0, %r0\nexit");
        if (std::strlen(divisor) < 11) {  // fits an immediate
          value_of(setup + "mov %r0, 9\nmov %r3, %r4\n" + op + " %r3, " + divisor +
                   "\nadd %r0, %r3\nexit");
        }
      }
    }
  }
}

TEST(Jit, ShiftsThroughEveryRegisterPair) {
  for (int dst = 0; dst <= 9; ++dst) {
    for (int src = 0; src <= 9; ++src) {
      for (const char* op : {"lsh", "rsh", "arsh", "lsh32", "rsh32", "arsh32"}) {
        std::string d = "%r" + std::to_string(dst), s = "%r" + std::to_string(src);
        std::string text;
        for (int r = 0; r <= 9; ++r)
          text += "lddw %r" + std::to_string(r) + ", " +
                  std::to_string(0x8123456789abcdefull + r * 0x1111) + "\n";
        text += "mov " + s + ", " + std::to_string(dst * 7 + src) + "\n" + op + " " + d + ", " + s +
                "\n";
        text += "mov %r0, " + d + "\nxor %r0, %r1\nxor %r0, %r2\nxor %r0, %r3\nxor %r0, %r4\nexit";
        if (dst == 0) text = text.substr(0, text.find("mov %r0, %r0")) + "exit";
        value_of(text);
      }
    }
  }
}

TEST(Jit, LoadsStoresAndSignExtendingLoads) {
  std::vector<uint8_t> memory(64);
  for (size_t i = 0; i < memory.size(); ++i) memory[i] = static_cast<uint8_t>(0x81 + i * 7);
  both_on_memory(
      "ldxb %r0, [%r1+3]\nldxh %r2, [%r1+5]\nldxw %r3, [%r1+9]\nldxdw %r4, [%r1+17]\n"
      "add %r0, %r2\nadd %r0, %r3\nadd %r0, %r4\nexit",
      memory);
  both_on_memory(
      "ldxsb %r0, [%r1+3]\nldxsh %r2, [%r1+5]\nldxsw %r3, [%r1+9]\n"
      "xor %r0, %r2\nxor %r0, %r3\nexit",
      memory);
  both_on_memory(
      "mov %r6, %r1\nmov %r2, 0x1234\nstxb [%r6+1], %r2\nstxh [%r6+3], %r2\nstxw [%r6+7], %r2\n"
      "stxdw [%r6+15], %r2\nstb [%r6+30], -2\nsth [%r6+32], -3\nstw [%r6+36], -4\nstdw [%r6+40], "
      "-5\n"
      "mov %r0, 0\nexit",
      memory);
  // Byte stores of registers whose low byte needs a REX prefix (rsi, rbp) and stack traffic.
  both_on_memory(
      "mov %r7, %r1\nmov %r1, 0x1ff\nstxb [%r7+0], %r1\nstxdw [%r10-8], %r7\nldxdw %r8, [%r10-8]\n"
      "mov %r9, 0x3ab\nstxb [%r8+2], %r9\nldxb %r0, [%r7+0]\nexit",
      memory);
}

// BPF_PROBE_MEM loads (the verifier's mark on loads through BTF-typed pointers) read through
// the Environment in both engines: the traced bytes zero-extended, 0 where nothing is readable;
// the other registers keep their values around the JIT's call.
TEST(Jit, ProbeLoadsReadThroughTheEnvironment) {
  std::vector<uint8_t> traced(32);
  for (size_t i = 0; i < traced.size(); ++i) traced[i] = static_cast<uint8_t>(0xf1 + i * 13);
  ebpf_test::FakeEnvironment environment;
  environment.readable = traced.data();
  environment.readable_size = traced.size();
  uint64_t base = reinterpret_cast<uint64_t>(traced.data());
  std::string text = "lddw %r1, " + std::to_string(base) +
                     "\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\nmov %r6, 6\n"
                     "ldxb %r0, [%r1+1]\nldxh %r7, [%r1+2]\nldxw %r8, [%r1+4]\n"
                     "ldxdw %r9, [%r1+8]\nldxdw %r3, [%r1+64]\n"  // past the readable bytes
                     "add %r0, %r7\nadd %r0, %r8\nadd %r0, %r9\nadd %r0, %r3\n"
                     "add %r0, %r2\nadd %r0, %r4\nadd %r0, %r5\nadd %r0, %r6\nadd %r0, %r1\n"
                     "exit";
  Loaded loaded = load(text);
  for (Insn& insn : loaded.insns) {
    if (insn_class(insn.opcode) == kClassLdx)
      insn.opcode = static_cast<uint8_t>(kClassLdx | op_size(insn.opcode) | kModeProbeMem);
  }
  uint64_t expected = uint64_t{traced[1]} + (traced[2] | traced[3] << 8);
  uint32_t word = 0;
  uint64_t dword = 0;
  std::memcpy(&word, traced.data() + 4, 4);
  std::memcpy(&dword, traced.data() + 8, 8);
  expected += word + dword + 2 + 4 + 5 + 6 + base;
  EXPECT_EQ(run(loaded.program, nullptr, &environment), expected);
  for (const JitOptions& options : {JitOptions{}, blinded()}) {
    Jitted jitted = jit(loaded, options);
    ASSERT_TRUE(jitted.code.compiled());
    EXPECT_EQ(execute(jitted.program, nullptr, &environment), expected);
  }
}

TEST(Jit, AtomicsOnBothWidths) {
  std::vector<uint8_t> memory(32, 0);
  memory[0] = 0xf0;
  memory[8] = 0x0f;
  for (const char* op : {"add", "or", "and", "xor"}) {
    for (const char* width : {"", "32"}) {
      std::string w = width;
      std::string size = w.empty() ? "dw" : "w";
      both_on_memory("mov %r2, 0x3c\nlock " + std::string(op) + w + " [%r1+8], %r2\nldx" + size +
                         " %r0, [%r1+8]\nexit",
                     memory);
      both_on_memory("mov %r2, 0x3c\nlock fetch " + std::string(op) + w + " [%r1+8], %r2\nldx" +
                         size + " %r0, [%r1+8]\nadd %r0, %r2\nexit",
                     memory);
      // The fetched register is r0 (rax, the cmpxchg comparand) and the base is r0.
      both_on_memory(
          "mov %r6, %r1\nmov %r0, 0x55\nlock fetch " + std::string(op) + w + " [%r6+0], %r0\nexit",
          memory);
      both_on_memory("mov %r0, %r1\nmov %r2, 0x55\nlock fetch " + std::string(op) + w +
                         " [%r0+0], %r2\nmov %r0, %r2\nexit",
                     memory);
    }
  }
  both_on_memory("mov %r2, 0x77\nlock xchg [%r1+8], %r2\nmov %r0, %r2\nexit", memory);
  both_on_memory("mov %r2, 0x77\nlock xchg32 [%r1+8], %r2\nmov %r0, %r2\nexit", memory);
  both_on_memory("lddw %r0, 0xffffffff0000000f\nmov %r2, 9\nlock cmpxchg32 [%r1+8], %r2\nexit",
                 memory);
  both_on_memory(
      "mov %r0, 0x0f\nmov %r2, 9\nlock cmpxchg [%r1+8], %r2\nldxdw %r3, [%r1+8]\nadd %r0, "
      "%r3\nexit",
      memory);
  both_on_memory("mov %r0, 1\nmov %r2, 9\nlock cmpxchg [%r1+8], %r2\nexit", memory);
}

TEST(Jit, JumpsOfBothWidths) {
  const char* values[] = {"0", "1", "-1", "0x7fffffff", "0x80000000", "0x100000000", "-0x80000000"};
  const char* ops[] = {"jeq",  "jne",  "jgt",  "jge",  "jlt", "jle",
                       "jset", "jsgt", "jsge", "jslt", "jsle"};
  for (const char* a : values) {
    for (const char* b : values) {
      for (const char* op : ops) {
        for (const char* width : {"", "32"}) {
          std::string o = std::string(op) + width;
          std::string head = std::string("lddw %r1, ") + a + "\nlddw %r2, " + b + "\nmov %r0, 1\n";
          value_of(head + o + " %r1, %r2, +1\nmov %r0, 2\nexit");
          if (std::string(b) != "0x100000000")
            value_of(head + o + " %r1, " + b + ", +1\nmov %r0, 2\nexit");
        }
      }
    }
  }
  value_of("mov %r0, 1\nja +1\nmov %r0, 2\nexit");
  value_of("mov %r0, 1\nja32 +1\nmov %r0, 2\nexit");
  value_of("mov %r0, 0\nmov %r1, 10\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, -3\nexit");  // a loop
}

uint64_t sum_helper(ExecContext&, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e) {
  return a + 10 * b + 100 * c + 1000 * d + 10000 * e;
}

uint64_t aborting_helper(ExecContext& context, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  request_abort(context);
  return 0;
}

TEST(Jit, HelpersCallxAndAbort) {
  helper_table()[201] = sum_helper;
  helper_table()[202] = aborting_helper;
  value_of(
      "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\nmov %r6, 6\ncall 201\nadd %r0, "
      "%r6\nexit");
  value_of(
      "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\nmov %r7, 201\ncall %r7\nexit");
  Jitted aborted = jit(load("mov %r0, 3\ncall 202\nmov %r0, 4\nexit"));
  JitRunResult result = jit_run_registers(aborted.program, 0, 0, nullptr);
  EXPECT_TRUE(result.aborted);
  EXPECT_EQ(result.value, 0u);
  // An unknown helper fails the run when reached, as in the interpreter.
  Jitted unknown = jit(load("mov %r0, 3\ncall 203\nexit"));
  result = jit_run_registers(unknown.program, 0, 0, nullptr);
  EXPECT_TRUE(result.failed);
  EXPECT_EQ(result.value, 0u);
  helper_table()[201] = nullptr;
  helper_table()[202] = nullptr;
}

TEST(Jit, LocalCallsFramesAndDepth) {
  value_of(
      "mov %r6, 6\nstdw [%r10-8], 42\ncall local f\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nadd %r0, "
      "%r6\nexit\n"
      "f:\nmov %r6, 100\nstdw [%r10-8], 7\nldxdw %r0, [%r10-8]\nexit");
  EXPECT_EQ(value_of("mov %r1, %r10\ncall local f\nexit\nf:\nmov %r0, %r1\nsub %r0, %r10\nexit"),
            512u);
  const std::string recursion =
      "call local f\nexit\nf:\njeq %r1, 0, +3\nsub %r1, 1\ncall local f\nadd %r0, 1\nexit";
  EXPECT_EQ(value_of("mov %r1, 6\nmov %r0, 0\n" + recursion), 6u);
  Jitted deep = jit(load("mov %r1, 7\nmov %r0, 0\n" + recursion));
  JitRunResult result = jit_run_registers(deep.program, 0, 0, nullptr);
  EXPECT_TRUE(result.failed);
  EXPECT_EQ(result.value, 0u);
}

TEST(Jit, TailCallsToCompiledAndInterpretedTargets) {
  Loaded target = load("mov %r0, 77\nexit");
  OneProgramArray array(&target.program);
  std::string call = "lddw %r2, " + address_of(&array) + "\nmov %r3, 0\ncall 12\nmov %r0, 5\nexit";
  EXPECT_EQ(both(call), 77u);  // the target is interpreted (no JIT code)
  JitProgram target_code = jit_in_place(target);
  EXPECT_EQ(both(call), 77u);  // now compiled
  EXPECT_EQ(both("lddw %r2, " + address_of(&array) + "\nmov %r3, 1\ncall 12\nmov %r0, 5\nexit"),
            5u);

  // The limit: 33 tail calls, whether the chain is compiled or interpreted.
  Loaded self = load("lddw %r2, " + address_of(&array) +
                     "\nldxdw %r0, [%r1]\nadd %r0, 1\nstxdw [%r1], %r0\nmov %r3, 0\ncall 12\nldxdw "
                     "%r0, [%r1]\nexit");
  array.set(&self.program);
  uint64_t counter = 0;
  EXPECT_EQ(run(self.program, &counter, nullptr), static_cast<uint64_t>(kMaxTailCalls) + 1);
  Jitted first = jit(self);  // compiled entry, interpreted targets
  counter = 0;
  EXPECT_EQ(execute(first.program, &counter, nullptr), static_cast<uint64_t>(kMaxTailCalls) + 1);
  JitProgram self_code = jit_in_place(self);  // compiled all the way
  counter = 0;
  EXPECT_EQ(execute(self.program, &counter, nullptr), static_cast<uint64_t>(kMaxTailCalls) + 1);

  // From a subprogram: the target's exit returns to the subprogram's caller.
  array.set(&target.program);
  EXPECT_EQ(both("mov %r6, 1000\ncall local f\nadd %r0, %r6\nexit\n"
                 "f:\nlddw %r2, " +
                 address_of(&array) + "\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit"),
            1077u);
}

uint64_t loop_helper(ExecContext& context, uint64_t count, uint64_t callback, uint64_t, uint64_t,
                     uint64_t) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < count; ++i)
    sum += context.invoke_callback(context, callback, i, 0, 0, 0, 0);
  return sum;
}

TEST(Jit, Callbacks) {
  helper_table()[200] = loop_helper;
  EXPECT_EQ(
      value_of("mov %r6, 100\nmov %r1, 5\nlddw %r2, func:square\ncall 200\nadd %r0, %r6\nexit\n"
               "square:\nmov %r6, 1\nmov %r0, %r1\nmul %r0, %r0\nexit"),
      130u);
  // A callback that calls a function and runs a nested loop: frames stack below each other.
  value_of(
      "stdw [%r10-8], 3\nmov %r1, 3\nlddw %r2, func:outer\ncall 200\nldxdw %r1, [%r10-8]\nadd %r0, "
      "%r1\nexit\n"
      "outer:\nmov %r6, %r1\nstdw [%r10-8], 11\nmov %r1, 2\nlddw %r2, func:inner\ncall 200\n"
      "ldxdw %r1, [%r10-8]\nadd %r0, %r1\nadd %r0, %r6\nexit\n"
      "inner:\nmov %r0, %r10\ncall local leaf\nexit\nleaf:\nmov %r0, 1\nexit");
  helper_table()[200] = nullptr;
}

TEST(Jit, CodeIsNeverWritableAndExecutable) {
  Jitted jitted = jit(load("mov %r0, 1\nexit"));
  ASSERT_TRUE(jitted.code.compiled());
  FILE* maps = std::fopen("/proc/self/maps", "r");
  ASSERT_NE(maps, nullptr);
  char line[512];
  bool found = false;
  auto code = reinterpret_cast<uint64_t>(jitted.code.code());
  while (std::fgets(line, sizeof(line), maps)) {
    unsigned long long start = 0, end = 0;
    char permissions[5] = {};
    if (std::sscanf(line, "%llx-%llx %4s", &start, &end, permissions) != 3) continue;
    if (code >= start && code < end) {
      found = true;
      EXPECT_STREQ(permissions, "r-xp");
    }
  }
  std::fclose(maps);
  EXPECT_TRUE(found);
}

TEST(Jit, HelpersAreCalledDirectly) {
  // The host provider places code within rel32 reach of the program text, so a helper call
  // is `call rel32` to the helper itself, not a far call through the retpoline; also while
  // many programs' code is alive at once (each takes the next free place near the text).
  helper_table()[201] = sum_helper;
  Loaded loaded = load("call 201\nexit");
  std::vector<Jitted> programs;
  for (int i = 0; i < 40; ++i) programs.push_back(jit(loaded));
  helper_table()[201] = nullptr;
  for (size_t n = 0; n < programs.size(); ++n) {
    const JitProgram& jitted = programs[n].code;
    ASSERT_TRUE(jitted.compiled());
    const uint8_t* code = jitted.code();
    bool direct = false;
    for (size_t i = 0; i + 5 <= jitted.code_size(); ++i) {
      if (code[i] != 0xe8) continue;
      int32_t rel;
      std::memcpy(&rel, code + i + 1, 4);
      direct |=
          reinterpret_cast<uint64_t>(code + i + 5) + rel == reinterpret_cast<uint64_t>(&sum_helper);
    }
    EXPECT_TRUE(direct) << "program " << n;
  }
}

// Executable memory placed far (terabytes) from the program text, so no helper is within rel32
// reach and every call to C++ takes the far form: mov r11, address; call the retpoline.
class FarExecutableMemory final : public ExecutableMemory {
 public:
  rt::Result<ExecutableRegion> allocate(size_t size, const void*) override {
    return host_executable_memory().allocate(size, reinterpret_cast<const void*>(0x100000000000));
  }
  rt::Result<void> seal(ExecutableRegion& region) override {
    return host_executable_memory().seal(region);
  }
  void release(ExecutableRegion& region) override { host_executable_memory().release(region); }
};

TEST(Jit, FarCallsGoThroughTheRetpoline) {
  helper_table()[201] = sum_helper;
  helper_table()[200] = loop_helper;
  Loaded target = load("mov %r0, 77\nexit");
  OneProgramArray array(&target.program);
  // A helper, callx, a callback and a tail call to an interpreted target (the stub's call).
  Loaded loaded = load(
      "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 201\nmov %r6, %r0\n"
      "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\nmov %r7, 201\ncall %r7\n"
      "add %r6, %r0\nmov %r1, 3\nlddw %r2, func:square\ncall 200\n"
      "add %r6, %r0\nstxdw [%r10-8], %r6\nlddw %r2, " +
      address_of(&array) +
      "\nmov %r3, 0\ncall 12\nexit\n"
      "square:\nmov %r0, %r1\nmul %r0, %r0\nexit");
  FarExecutableMemory far;
  auto compiled = jit_compile(loaded.program, far, test_allocator());
  ASSERT_TRUE(compiled.ok());
  uint64_t distance = reinterpret_cast<uint64_t>(compiled->code()) -
                      reinterpret_cast<uint64_t>(reinterpret_cast<const void*>(&sum_helper));
  if (distance + (1ull << 31) < (1ull << 32)) GTEST_SKIP() << "mmap placed the code near";
  // mov r11, sum_helper (REX.WB b8+3, imm64) then call rel32 to the thunk at image offset 64.
  uint8_t far_call[10] = {0x49, 0xbb};
  uint64_t helper = reinterpret_cast<uint64_t>(&sum_helper);
  std::memcpy(far_call + 2, &helper, 8);
  const uint8_t* code = compiled->code();
  bool found = false;
  for (size_t i = 0; i + 15 <= compiled->code_size() && !found; ++i) {
    if (std::memcmp(code + i, far_call, 10) != 0 || code[i + 10] != 0xe8) continue;
    int32_t rel;
    std::memcpy(&rel, code + i + 11, 4);
    found = static_cast<int64_t>(i) + 15 + rel == 64;
  }
  EXPECT_TRUE(found) << "the helper is called through the retpoline";
  Program program = loaded.program;
  compiled->install(program);
  uint64_t expected = run(loaded.program, nullptr, nullptr);
  EXPECT_EQ(expected, 77u);
  EXPECT_EQ(execute(program, nullptr, nullptr), expected);
  // Without the tail call: two sums of 54321 and the callbacks' 0 + 1 + 4, in both engines.
  Loaded no_tail = load(
      "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 201\nmov %r6, %r0\n"
      "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\nmov %r7, 201\ncall %r7\n"
      "add %r6, %r0\nmov %r1, 3\nlddw %r2, func:square\ncall 200\n"
      "add %r6, %r0\nmov %r0, %r6\nexit\n"
      "square:\nmov %r0, %r1\nmul %r0, %r0\nexit");
  auto no_tail_code = jit_compile(no_tail.program, far, test_allocator());
  ASSERT_TRUE(no_tail_code.ok());
  Program no_tail_program = no_tail.program;
  no_tail_code->install(no_tail_program);
  EXPECT_EQ(run(no_tail.program, nullptr, nullptr), 108647u);
  EXPECT_EQ(execute(no_tail_program, nullptr, nullptr), 108647u);
  helper_table()[200] = nullptr;
  helper_table()[201] = nullptr;
}

TEST(Jit, RefusesWhatItDoesNotImplement) {
  Loaded legacy = load("mov %r0, 1\nexit");
  legacy.insns[0] = Insn{0x20, 0, 0, 0, 0};  // LD ABS
  auto compiled = jit_compile(legacy.program, host_executable_memory(), test_allocator());
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.error().code, rt::kEINVAL);
  EXPECT_NE(std::string(compiled.error().message).find("LD ABS"), std::string::npos);
}

// Whether `needle`'s bytes occur in the program's code.
bool code_contains(const JitProgram& code, const void* needle, size_t size) {
  const uint8_t* bytes = code.code();
  for (size_t i = 0; i + size <= code.code_size(); ++i) {
    if (std::memcmp(bytes + i, needle, size) == 0) return true;
  }
  return false;
}

TEST(Jit, BlindedConstantsDoNotAppearInTheCode) {
  // Each immediate form: ALU, MUL, MOV, DIV, jump, store, LD_IMM64.
  const std::string text =
      "mov %r0, 0x12345678\nadd %r0, 0x12345678\nmul32 %r0, 0x12345678\n"
      "div %r0, 0x12345678\njeq %r0, 0x12345678, +0\nstw [%r10-8], 0x12345678\n"
      "lddw %r1, 0x1122334455667788\nadd %r0, %r1\nldxw %r1, [%r10-8]\nadd %r0, %r1\nexit";
  Loaded loaded = load(text);
  const uint32_t word = 0x12345678;
  const uint64_t dword = 0x1122334455667788;
  Jitted plain = jit(loaded);
  ASSERT_TRUE(plain.code.compiled());
  EXPECT_TRUE(code_contains(plain.code, &word, 4));
  EXPECT_TRUE(code_contains(plain.code, &dword, 8));
  Jitted hardened = jit(loaded, blinded());
  ASSERT_TRUE(hardened.code.compiled());
  EXPECT_FALSE(code_contains(hardened.code, &word, 4));
  EXPECT_FALSE(code_contains(hardened.code, &dword, 4));
  EXPECT_FALSE(code_contains(hardened.code, reinterpret_cast<const uint8_t*>(&dword) + 4, 4));
  EXPECT_EQ(execute(hardened.program, nullptr, nullptr), run(loaded.program, nullptr, nullptr));
}

TEST(Jit, BlindingWithoutARandomSourceIsRefused) {
  JitOptions options;
  options.blind_constants = true;
  auto compiled = jit_compile(load("mov %r0, 1\nexit").program, host_executable_memory(),
                              test_allocator(), options);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.error().code, rt::kEINVAL);
}

}  // namespace
