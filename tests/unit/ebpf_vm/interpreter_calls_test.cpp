// SPDX-License-Identifier: MIT
// Interpreter control transfer: bpf-to-bpf calls and their stack frames, the call depth
// limit, helper calls and callx, tail calls (limit, fall-through, from a subprogram),
// callbacks through ExecContext::invoke_callback, and the errors of checked runs.
#include <gtest/gtest.h>

#include "vm_test_support.hpp"

namespace {

using namespace ebpf;
using namespace ebpf::testing;

TEST(InterpreterCalls, LocalCallsPreserveCalleeSavedRegistersAndGetOwnStack) {
  EXPECT_EQ(value_of("mov %r6, 6\nstdw [%r10-8], 42\ncall local f\nldxdw %r1, [%r10-8]\n"
                     "add %r0, %r1\nadd %r0, %r6\nexit\n"
                     "f:\nmov %r6, 100\nstdw [%r10-8], 7\nldxdw %r0, [%r10-8]\nexit"),
            7u + 42u + 6u);
}

TEST(InterpreterCalls, ArgumentsPassInR1ToR5AndFramesAre512BytesApart) {
  // The callee sees its caller's frame 512 bytes above its own r10.
  EXPECT_EQ(
      value_of("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall local f\nexit\n"
               "f:\nmov %r0, %r1\nadd %r0, %r2\nadd %r0, %r3\nadd %r0, %r4\nadd %r0, %r5\nexit"),
      15u);
  EXPECT_EQ(value_of("mov %r1, %r10\ncall local f\nexit\nf:\nmov %r0, %r1\nsub %r0, %r10\nexit"),
            512u);
  EXPECT_EQ(
      value_of(
          "stdw [%r10-8], 99\nmov %r1, %r10\ncall local f\nexit\nf:\nldxdw %r0, [%r10+504]\nexit"),
      99u);
}

TEST(InterpreterCalls, EightFramesAreAllowedTheNinthIsRefused) {
  // f recurses r1 times: depth 8 (main + 7 calls) runs, depth 9 fails.
  const std::string recursion =
      "call local f\nexit\nf:\njeq %r1, 0, +3\nsub %r1, 1\ncall local f\nadd %r0, 1\nexit";
  EXPECT_EQ(value_of("mov %r1, 6\nmov %r0, 0\n" + recursion), 6u);
  RunResult nine = checked(load("mov %r1, 7\nmov %r0, 0\n" + recursion));
  EXPECT_EQ(nine.status, RunStatus::kCallDepthExceeded);
  EXPECT_EQ(checked(load("call local f\nexit\nf:\ncall local f\nexit")).status,
            RunStatus::kCallDepthExceeded);
}

uint64_t sum_helper(ExecContext&, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e) {
  return a + 10 * b + 100 * c + 1000 * d + 10000 * e;
}

TEST(InterpreterCalls, HelpersAndCallx) {
  helper_table()[201] = sum_helper;
  EXPECT_EQ(value_of("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 201\nexit"),
            54321u);
  EXPECT_EQ(value_of("mov %r1, 1\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\nmov %r7, "
                     "201\ncall %r7\nexit"),
            1u);
  helper_table()[201] = nullptr;
  EXPECT_EQ(checked(load("call 201\nexit")).status, RunStatus::kUnknownHelper);
  EXPECT_EQ(checked(load("mov %r1, 5000\ncall %r1\nexit")).status, RunStatus::kUnknownHelper);
}

uint64_t aborting_helper(ExecContext& context, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  request_abort(context);
  return 0;
}

TEST(InterpreterCalls, AHelperCanEndTheProgram) {
  helper_table()[202] = aborting_helper;
  RunResult result = checked(load("mov %r0, 3\ncall 202\nmov %r0, 4\nexit"));
  EXPECT_EQ(result.status, RunStatus::kAborted);
  EXPECT_EQ(result.pc, 1u);
  helper_table()[202] = nullptr;
}

TEST(InterpreterTailCalls, JumpFallThroughAndLinuxLimit) {
  Loaded target = load("mov %r0, 77\nexit");
  OneProgramArray array(&target.program);
  CheckedSetup setup;
  setup.tail_call_maps = {&array};
  Loaded caller =
      load("lddw %r2, " + address_of(&array) + "\nmov %r3, 0\ncall 12\nmov %r0, 5\nexit");
  EXPECT_EQ(checked(caller, 0, setup).value, 77u);
  EXPECT_EQ(run(caller.program, nullptr, nullptr), 77u);

  // Missing slot (and an index past the array): the call falls through.
  EXPECT_EQ(
      checked(load("lddw %r2, " + address_of(&array) + "\nmov %r3, 1\ncall 12\nmov %r0, 5\nexit"),
              0, setup)
          .value,
      5u);
  EXPECT_EQ(
      checked(load("lddw %r2, " + address_of(&array) + "\nmov %r3, -1\ncall 12\nmov %r0, 5\nexit"),
              0, setup)
          .value,
      5u);

  // A program that tail-calls itself counts in memory until the limit stops it: 33 tail
  // calls, so 34 runs of the body.
  Loaded self = load("lddw %r2, " + address_of(&array) +
                     "\nldxdw %r0, [%r1]\nadd %r0, 1\nstxdw [%r1], %r0\nmov %r3, 0\ncall 12\n"
                     "ldxdw %r0, [%r1]\nexit");
  array.set(&self.program);
  uint64_t counter = 0;
  setup.regions = {MemoryRegion{reinterpret_cast<uint64_t>(&counter), sizeof(counter), true}};
  RunResult result = checked(self, reinterpret_cast<uint64_t>(&counter), setup);
  ASSERT_EQ(result.status, RunStatus::kOk);
  EXPECT_EQ(result.value, static_cast<uint64_t>(kMaxTailCalls) + 1);
  counter = 0;
  EXPECT_EQ(run(self.program, &counter, nullptr), static_cast<uint64_t>(kMaxTailCalls) + 1);
}

TEST(InterpreterTailCalls, FromASubprogramReturnsToTheCaller) {
  // The target replaces the subprogram; its exit returns into main, which adds 1000.
  Loaded target = load("mov %r0, 7\nexit");
  OneProgramArray array(&target.program);
  CheckedSetup setup;
  setup.tail_call_maps = {&array};
  Loaded main = load(
      "mov %r6, 1000\ncall local f\nadd %r0, %r6\nexit\n"
      "f:\nlddw %r2, " +
      address_of(&array) + "\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit");
  EXPECT_EQ(checked(main, 0, setup).value, 1007u);
  EXPECT_EQ(run(main.program, nullptr, nullptr), 1007u);
}

TEST(InterpreterTailCalls, CheckedRunsOnlyUseListedMaps) {
  Loaded target = load("mov %r0, 1\nexit");
  OneProgramArray array(&target.program);
  RunResult result =
      checked(load("lddw %r2, " + address_of(&array) + "\nmov %r3, 0\ncall 12\nexit"));
  EXPECT_EQ(result.status, RunStatus::kOutOfBounds);
  EXPECT_EQ(checked(load("mov %r2, 12345\nmov %r3, 0\ncall 12\nexit")).status,
            RunStatus::kOutOfBounds);
}

// A bpf_loop-like helper: calls the callback r1 times with the index, sums the results.
uint64_t loop_helper(ExecContext& context, uint64_t count, uint64_t callback, uint64_t, uint64_t,
                     uint64_t) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < count; ++i)
    sum += context.invoke_callback(context, callback, i, 0, 0, 0, 0);
  return sum;
}

TEST(InterpreterCallbacks, RunAsFunctionsOfTheProgram) {
  helper_table()[200] = loop_helper;
  // Linux's form (pc-relative BPF_PSEUDO_FUNC), rewritten to an absolute index by load().
  EXPECT_EQ(
      value_of("mov %r6, 100\nmov %r1, 5\nlddw %r2, func:square\ncall 200\nadd %r0, %r6\nexit\n"
               "square:\nmov %r6, 1\nmov %r0, %r1\nmul %r0, %r0\nexit"),
      100u + 0 + 1 + 4 + 9 + 16);
  helper_table()[200] = nullptr;
}

TEST(InterpreterCallbacks, HaveTheirOwnStackFrame) {
  helper_table()[200] = loop_helper;
  // The callback writes its own fp-8; main's fp-8 survives.
  EXPECT_EQ(
      value_of("stdw [%r10-8], 40\nmov %r1, 2\nlddw %r2, func:cb\ncall 200\nldxdw %r1, [%r10-8]\n"
               "add %r0, %r1\nexit\ncb:\nstdw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit"),
      42u);
  helper_table()[200] = nullptr;
}

TEST(InterpreterCallbacks, CountTowardsTheCallDepth) {
  helper_table()[200] = loop_helper;
  // Each callback calls the helper again: the eighth frame's callback is refused.
  RunResult result =
      checked(load("mov %r1, 1\nlddw %r2, func:cb\ncall 200\nexit\n"
                   "cb:\nmov %r1, 1\nlddw %r2, func:cb\ncall 200\nexit"));
  EXPECT_EQ(result.status, RunStatus::kCallDepthExceeded);
  helper_table()[200] = nullptr;
}

TEST(InterpreterChecked, OutOfBoundsAccessIsCaught) {
  EXPECT_EQ(checked(load("ldxdw %r0, [%r10+8]\nexit")).status, RunStatus::kOutOfBounds);
  EXPECT_EQ(checked(load("ldxdw %r0, [%r10-4097]\nexit")).status, RunStatus::kOutOfBounds);
  EXPECT_EQ(checked(load("mov %r1, 0\nldxw %r0, [%r1]\nexit")).status, RunStatus::kOutOfBounds);
  EXPECT_EQ(checked(load("mov %r1, 0\nstw [%r1], 1\nexit")).status, RunStatus::kOutOfBounds);
  EXPECT_EQ(checked(load("mov %r1, 0\nmov %r2, 1\nlock add [%r1], %r2\nexit")).status,
            RunStatus::kOutOfBounds);
  uint8_t buffer[4] = {1, 2, 3, 4};
  CheckedSetup read_only;
  read_only.regions = {MemoryRegion{reinterpret_cast<uint64_t>(buffer), sizeof(buffer), false}};
  uint64_t at = reinterpret_cast<uint64_t>(buffer);
  EXPECT_EQ(checked(load("ldxw %r0, [%r1]\nexit"), at, read_only).value, 0x04030201u);
  RunResult overrun = checked(load("mov %r0, 0\nldxw %r0, [%r1+1]\nexit"), at, read_only);
  EXPECT_EQ(overrun.status, RunStatus::kOutOfBounds);
  EXPECT_EQ(overrun.pc, 1u);
  EXPECT_EQ(checked(load("stb [%r1], 0\nexit"), at, read_only).status, RunStatus::kOutOfBounds);
  EXPECT_EQ(checked(load("ldxw %r0, [%r1-1]\nexit"), at, read_only).status,
            RunStatus::kOutOfBounds);
}

TEST(InterpreterChecked, BadJumpsOpcodesAndFields) {
  EXPECT_EQ(checked(load("ja +5\nexit")).status, RunStatus::kJumpOutOfRange);
  EXPECT_EQ(checked(load("ja -2\nexit")).status, RunStatus::kJumpOutOfRange);
  EXPECT_EQ(checked(load("call local +5\nexit")).status, RunStatus::kJumpOutOfRange);
  EXPECT_EQ(checked(load("mov %r0, 1")).status, RunStatus::kJumpOutOfRange);  // falls off the end
  Program empty;
  EXPECT_EQ(run_checked(empty, 0, 0, nullptr, CheckedRunOptions{}).status,
            RunStatus::kJumpOutOfRange);

  Loaded bad = load("mov %r0, 1\nexit");
  bad.insns[0].opcode = 0xff;
  EXPECT_EQ(checked(bad).status, RunStatus::kInvalidInstruction);
  Loaded bad_register = load("mov %r0, 1\nexit");
  bad_register.insns[0].dst = 11;
  EXPECT_EQ(checked(bad_register).status, RunStatus::kInvalidInstruction);
  Loaded bad_offset = load("div %r0, 1\nexit");
  bad_offset.insns[0].offset = 2;  // only 0 (unsigned) and 1 (signed) exist
  EXPECT_EQ(checked(bad_offset).status, RunStatus::kInvalidInstruction);
  Loaded bad_movsx = load("movsx832 %r0, %r1\nexit");
  bad_movsx.insns[0].offset = 32;  // ALU32 MOVSX has no 32-bit form
  EXPECT_EQ(checked(bad_movsx).status, RunStatus::kInvalidInstruction);
  Loaded bad_swap = load("be16 %r0\nexit");
  bad_swap.insns[0].imm = 8;
  EXPECT_EQ(checked(bad_swap).status, RunStatus::kInvalidInstruction);
  Loaded bad_atomic = load("lock add [%r10-8], %r1\nexit");
  bad_atomic.insns[0].imm = 0x10;  // sub is not an atomic operation
  EXPECT_EQ(checked(bad_atomic).status, RunStatus::kInvalidInstruction);
  Loaded half_lddw = load("lddw %r0, 1\nexit");
  half_lddw.insns.pop_back();
  half_lddw.insns.pop_back();
  half_lddw.program.insn_count = 1;
  EXPECT_EQ(checked(half_lddw).status, RunStatus::kInvalidInstruction);
  // Reserved fields must be zero (Linux: "uses reserved fields").
  struct Reserved {
    const char* text;
    void (*spoil)(Insn&);
  };
  const Reserved reserved[] = {
      {"add %r0, 1\nexit", [](Insn& i) { i.src = 1; }},
      {"add %r0, 1\nexit", [](Insn& i) { i.offset = 1; }},
      {"add %r0, %r1\nexit", [](Insn& i) { i.imm = 1; }},
      {"mov %r0, 1\nexit", [](Insn& i) { i.offset = 8; }},  // MOVSX has no immediate form
      {"neg %r0\nexit", [](Insn& i) { i.imm = 1; }},
      {"be16 %r0\nexit", [](Insn& i) { i.src = 1; }},
      {"jeq %r0, 0, +0\nexit", [](Insn& i) { i.src = 1; }},
      {"jeq %r0, %r1, +0\nexit", [](Insn& i) { i.imm = 1; }},
      {"ja +0\nexit", [](Insn& i) { i.imm = 1; }},
      {"ja32 +0\nexit", [](Insn& i) { i.offset = 1; }},
      {"mov %r0, 0\nexit", [](Insn& i) { i.imm = 1; }},  // applied to exit below
      {"ldxw %r0, [%r10-4]\nexit", [](Insn& i) { i.imm = 1; }},
      {"stw [%r10-4], 1\nexit", [](Insn& i) { i.src = 1; }},
      {"stxw [%r10-4], %r1\nexit", [](Insn& i) { i.imm = 1; }},
      {"call 1\nexit", [](Insn& i) { i.dst = 1; }},
  };
  for (const Reserved& r : reserved) {
    Loaded spoiled = load(r.text);
    Insn& target =
        std::string(r.text).rfind("mov %r0, 0", 0) == 0 ? spoiled.insns[1] : spoiled.insns[0];
    r.spoil(target);
    EXPECT_EQ(checked(spoiled).status, RunStatus::kInvalidInstruction) << r.text;
  }
  // A map reference the loader has not rewritten is refused, not used as a pointer.
  AssemblyResult unresolved = assemble("lddw %r1, map:3\nexit");
  Loaded raw{unresolved.insns, {}};
  raw.program.insns = raw.insns.data();
  raw.program.insn_count = static_cast<uint32_t>(raw.insns.size());
  EXPECT_EQ(checked(raw).status, RunStatus::kInvalidInstruction);
  // Jumping into the second slot of an LD_IMM64 runs opcode 0: invalid.
  EXPECT_EQ(checked(load("ja +1\nlddw %r0, 1\nexit")).status, RunStatus::kInvalidInstruction);
}

TEST(InterpreterChecked, UncheckedRunMatchesCheckedRun) {
  Loaded loaded =
      load("mov %r0, 0\nmov %r1, 0\nl:\nadd %r0, %r1\nadd %r1, 1\njlt %r1, 100, l\nexit");
  EXPECT_EQ(run(loaded.program, nullptr, nullptr), 4950u);
  EXPECT_EQ(checked(loaded).value, 4950u);
  EXPECT_EQ(execute(loaded.program, nullptr, nullptr), 4950u);
}

TEST(InterpreterChecked, StatusMessagesAreDistinct) {
  const RunStatus all[] = {RunStatus::kOk,
                           RunStatus::kInvalidInstruction,
                           RunStatus::kOutOfBounds,
                           RunStatus::kCallDepthExceeded,
                           RunStatus::kUnknownHelper,
                           RunStatus::kBudgetExhausted,
                           RunStatus::kJumpOutOfRange,
                           RunStatus::kAborted};
  for (RunStatus a : all) {
    for (RunStatus b : all) {
      if (a != b) EXPECT_STRNE(run_status_message(a), run_status_message(b));
    }
  }
}

}  // namespace
