// SPDX-License-Identifier: MIT
// Verifier limits: Linux's complexity limits, the per-load memory budget, packed states.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/verifier.hpp"
#include "rt/errno.hpp"
#include "support/ebpf_fixture.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

struct Outcome {
  VerifierResult result;
  std::string log;
  size_t peak = 0;  // measured by the test's allocator
  size_t requested = 0;
};

// The audit's program (issue 9 item 6): r3 grows forever, so no two loop heads are equal,
// and the unknown compare of the context pointer leaves one pending branch per iteration.
constexpr const char* kJumpSequenceAttack =
    "mov %r0, 0\nmov %r3, 0\nl:\nadd %r3, 466945\njlt %r1, 0x1070001, +0\njlt %r0, 0x260014, "
    "l\nexit";

Outcome run(const std::string& text, size_t budget = 0, uint32_t level = kLogStats,
            VerifierPrivileges privileges = {}) {
  AssemblyResult assembled = assemble(text);
  EXPECT_TRUE(assembled.ok()) << assembled.error;
  test_support::MallocAllocator allocator;
  VerifierOptions options;
  options.allocator = &allocator;
  options.log_level = level;
  options.memory_budget = budget;
  options.privileges = privileges;
  test_support::VerifierRun run = test_support::verify_program(assembled.insns, options, 1 << 20);
  Outcome o;
  o.result = run.result;
  o.log = run.log;
  o.peak = allocator.peak();
  o.requested = allocator.requested();
  EXPECT_EQ(allocator.in_use(), 0u) << "verifier leaked memory";
  return o;
}

TEST(VerifierLimitsTest, JumpSequenceAttackIsRejectedAtLinuxLimit) {
  // The budget only keeps a regression from taking the machine's memory (it then fails
  // with ENOMEM instead of E2BIG).
  Outcome o = run(kJumpSequenceAttack, size_t{256} << 20);
  EXPECT_EQ(o.result.error, -rt::kE2BIG)
      << o.log.substr(o.log.size() > 2000 ? o.log.size() - 2000 : 0);
  EXPECT_NE(o.log.find("The sequence of 8193 jumps is too complex.\n"), std::string::npos)
      << o.log.substr(o.log.size() > 2000 ? o.log.size() - 2000 : 0);
  // Stopped at 8193 pending branches (3 instructions an iteration), not at the 1M budget.
  EXPECT_LT(o.result.instructions_processed, 30000u);
  // Each pending branch keeps only the frame in use and no stack slots (about 1 KB, where a
  // full state took 62 KB): 8193 of them fit in 16 MB; before, this load asked for 21 GB.
  EXPECT_LT(o.peak, size_t{16} << 20);
  EXPECT_LT(o.requested, size_t{64} << 20);
  EXPECT_EQ(o.result.peak_memory, o.peak);
  std::printf("attack: processed %u insns, peak %zu bytes, requested %zu bytes\n",
              o.result.instructions_processed, o.peak, o.requested);
}

TEST(VerifierLimitsTest, ProgramsWithManyBranchesAndStatesAreStillAccepted) {
  // A bounded loop with an unknown branch in every iteration: thousands of states and
  // pending branches, all below the limits.
  Outcome o =
      run("mov %r6, 0\nl:\ncall 7\njgt %r0, 5, +1\nmov %r0, 1\nadd %r6, 1\njlt %r6, 3000, l\n"
          "mov %r0, 0\nexit");
  EXPECT_EQ(o.result.error, 0) << o.log;
  EXPECT_GT(o.result.states_stored, 64u);
  EXPECT_GT(o.result.instructions_processed, 3000u * 4);
}

TEST(VerifierLimitsTest, PendingBranchLimitIsExact) {
  // One branch left pending per iteration until the loop ends: 8190 pending is fine, the
  // 8193rd is refused.
  auto loop = [](int iterations) {
    return "mov %r6, 0\nl:\ncall 7\njgt %r0, 5, +1\nmov %r0, 1\nadd %r6, 1\njlt %r6, " +
           std::to_string(iterations) + ", l\nmov %r0, 0\nexit";
  };
  Outcome below = run(loop(8190));
  EXPECT_EQ(below.result.error, 0) << below.log;
  Outcome above = run(loop(8193));
  EXPECT_EQ(above.result.error, -rt::kE2BIG) << above.log;
  EXPECT_NE(above.log.find("The sequence of 8193 jumps is too complex.\n"), std::string::npos)
      << above.log;
}

TEST(VerifierLimitsTest, InstructionLimitIsLinuxMessageAndE2big) {
  // Unknown r1 bounds the loop only through a long count: a million instructions.
  Outcome o = run("mov %r0, 0\nmov %r1, 0\nl:\nadd %r1, 1\njlt %r1, 10000000, l\nexit");
  EXPECT_EQ(o.result.error, -rt::kE2BIG);
  EXPECT_NE(o.log.find("BPF program is too large. Processed 1000001 insn\n"), std::string::npos)
      << o.log.substr(o.log.size() > 500 ? o.log.size() - 500 : 0);
  // The states of a loop still being explored stay until it ends (as in Linux): about
  // 46,000 here, each packed to about 1.2 KB.
  EXPECT_LT(o.peak, size_t{64} << 20);
}

TEST(VerifierLimitsTest, StateCountsAreReportedAsLinuxDoes) {
  // Forty diamonds whose sides differ: many stored states, some at the same instruction.
  std::string text = "mov %r6, 0\n";
  for (int i = 0; i < 40; ++i) text += "call 7\njgt %r0, 5, +1\nadd %r6, 1\nmov %r1, %r6\n";
  text += "mov %r0, 0\nexit";
  for (bool cap_bpf : {true, false}) {
    Outcome o = run(text, 0, kLogStats, VerifierPrivileges::from_capabilities(cap_bpf, true));
    EXPECT_EQ(o.result.error, 0) << o.log;
    EXPECT_GT(o.result.max_states_per_insn, 1u);
    // Without CAP_BPF at most BPF_COMPLEXITY_LIMIT_STATES + 1 are kept at one instruction.
    if (!cap_bpf) EXPECT_LE(o.result.max_states_per_insn, kComplexityLimitStates + 1);
    EXPECT_LE(o.result.peak_states, o.result.states_stored);
    std::string summary = "max_states_per_insn " + std::to_string(o.result.max_states_per_insn) +
                          " total_states " + std::to_string(o.result.states_stored) +
                          " peak_states " + std::to_string(o.result.peak_states) + " mark_read 0\n";
    EXPECT_NE(o.log.find(summary), std::string::npos) << o.log;
  }
}

TEST(VerifierLimitsTest, MemoryBudgetBoundsTheLoad) {
  constexpr size_t kBudget = 1 << 20;
  Outcome o = run(kJumpSequenceAttack, kBudget);
  EXPECT_EQ(o.result.error, -rt::kENOMEM);
  EXPECT_NE(o.log.find("verifier memory budget of 1048576 bytes exhausted"), std::string::npos)
      << o.log.substr(o.log.size() > 2000 ? o.log.size() - 2000 : 0);
  EXPECT_LE(o.peak, kBudget);
  EXPECT_LE(o.result.peak_memory, kBudget);
  // An ordinary program fits easily.
  Outcome small =
      run("mov %r0, 0\nmov %r1, 0\nl:\nadd %r0, %r1\nadd %r1, 1\njlt %r1, 100, l\nexit", kBudget);
  EXPECT_EQ(small.result.error, 0) << small.log;
  // A budget too small for the fixed tables fails cleanly too.
  Outcome tiny = run("mov %r0, 0\nexit", 1024);
  EXPECT_EQ(tiny.result.error, -rt::kENOMEM);
  EXPECT_NE(tiny.log.find("verifier memory budget of 1024 bytes exhausted"), std::string::npos)
      << tiny.log;
}

}  // namespace
