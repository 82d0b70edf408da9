// SPDX-License-Identifier: MIT
// Verifier precision and analysis hooks beyond accept/reject (those cases are cases/*.data):
// learned constants, pruning budget, entry assumptions and per-instruction facts.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/helper_ids.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/verifier.hpp"
#include "rt/errno.hpp"
#include "support/ebpf_fixture.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

struct Outcome {
  int error;
  std::string log;
  std::vector<uint8_t> facts;
};

class VerifierPrecisionTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(allocator_.in_use(), 0u) << "verifier leaked memory"; }

  Outcome check(const std::string& text, const EntryAssumptions* assumptions = nullptr) {
    AssemblyResult assembled = assemble(text);
    EXPECT_TRUE(assembled.ok()) << assembled.error;
    std::vector<uint8_t> facts(assembled.insns.size(), 0xff);
    VerifierOptions options;
    options.type = ProgramType::kKprobe;
    options.log_level = kLogLevel2;
    options.allocator = &allocator_;
    options.assumptions = assumptions;
    options.insn_facts = facts.data();
    test_support::VerifierRun run = test_support::verify_program(assembled.insns, options, 1 << 16);
    return Outcome{run.error, run.log, facts};
  }
  test_support::MallocAllocator allocator_;
};

// A read of uninitialised stack: reached only if the verifier fails to decide a jump.
constexpr const char* kTrap = "trap:\nldxdw %r0, [%r10-8]\nexit\n";

TEST_F(VerifierPrecisionTest, KnownLeftOperandDecidesAgainstARange) {
  // The constant teaches the other side: r2 == 5 makes r2 - 5 a known zero. (That 3 > r2 with
  // r2 in [8, 15] never holds is cases/known_left_operand_decides_against_a_range.data.)
  Outcome o = check(
      "call 7\nmov %r2, %r0\nmov %r1, 5\njeq %r1, %r2, eq\nmov %r0, 0\nexit\neq:\nmov %r0, %r2\n"
      "add %r0, -5\njne %r0, 0, trap\nexit\n" +
      std::string(kTrap));
  EXPECT_EQ(o.error, 0) << o.log;
}

TEST_F(VerifierPrecisionTest, LoopsWithNullChecksArePrunedThroughDeadRegisters) {
  // 1000 map lookups, each null-checked: 2^1000 paths unless the state after the check is
  // pruned, which needs liveness (r0 and r1 differ between the two sides but are dead) and
  // states stored late in the loop. Linux accepts this; so must Sonde, well within budget.
  MapAttributes a;
  a.type = MapType::kArray;
  a.key_size = 4;
  a.value_size = 8;
  a.max_entries = 16;
  test_support::MallocAllocator map_allocator;
  Map* map = create_map(a, map_allocator, 1).value();
  std::string text =
      "mov %r6, 0\nmov %r7, 0\nlddw %r8, " + std::to_string(reinterpret_cast<uint64_t>(map)) +
      "\nloop:\nmov %r1, %r6\nand %r1, 15\nstxw [%r10-4], %r1\nmov %r2, %r10\nadd %r2, -4\n"
      "mov %r1, %r8\ncall 1\njeq %r0, 0, next\nldxdw %r1, [%r0+0]\nadd %r7, %r1\nnext:\n"
      "add %r6, 1\njlt %r6, 1000, loop\nmov %r0, %r7\nexit";
  AssemblyResult assembled = assemble(text);
  ASSERT_TRUE(assembled.ok()) << assembled.error;
  assembled.insns[2].src = kPseudoMapFd;  // the Map* itself, as the loader leaves it
  VerifierOptions options;
  options.allocator = &allocator_;
  VerifierResult result =
      verify(assembled.insns.data(), static_cast<uint32_t>(assembled.insns.size()), options);
  EXPECT_EQ(result.error, 0);
  EXPECT_LT(result.instructions_processed, 200000u);
  destroy_map(map, map_allocator);
}

TEST_F(VerifierPrecisionTest, EntryAssumptionsReplaceLinuxEntryState) {
  EntryAssumptions a;
  a.regs[kFramePointer].type = AssumedType::kStack;
  a.regs[2].type = AssumedType::kScalar;
  a.regs[2].umin = 0;
  a.regs[2].umax = 7;
  // r1 is not the context any more, r2 is a bounded number, fp-8 holds data.
  for (int b = kStackSize - 8; b < kStackSize; ++b) a.stack[b] = AssumedStackByte::kScalar;
  Outcome ok = check("mov %r3, %r10\nadd %r3, -8\nadd %r3, %r2\nldxb %r0, [%r3+0]\nexit", &a);
  EXPECT_EQ(ok.error, 0) << ok.log;
  Outcome no_ctx = check("ldxdw %r0, [%r1+0]\nexit", &a);
  EXPECT_EQ(no_ctx.error, -rt::kEACCES);
  EXPECT_NE(no_ctx.log.find("R1 !read_ok"), std::string::npos) << no_ctx.log;
  // Bounds that describe no value at all are an invalid argument.
  a.regs[2].umin = 9;
  Outcome empty = check("mov %r0, 0\nexit", &a);
  EXPECT_EQ(empty.error, -rt::kEINVAL);
  EXPECT_NE(empty.log.find("entry assumptions are contradictory"), std::string::npos) << empty.log;
}

TEST_F(VerifierPrecisionTest, FactsDescribeEveryInstruction) {
  Outcome o = check(
      "call 7\n"             // 0: helper call
      "jeq %r10, 0, dead\n"  // 1: never taken
      "jgt %r0, 5, big\n"    // 2: both ways
      "mov %r0, 0\n"         // 3
      "exit\n"               // 4
      "big:\nmov %r0, 1\n"   // 5
      "exit\n"               // 6
      "dead:\nmov %r0, 2\n"  // 7: never reached
      "exit\n");             // 8
  ASSERT_EQ(o.error, 0) << o.log;
  EXPECT_EQ(o.facts[0], kFactSeen | kFactHelperCall | kFactSubprogStart);
  EXPECT_TRUE(o.facts[1] & kFactBranchFallthrough);
  EXPECT_FALSE(o.facts[1] & kFactBranchTaken);
  EXPECT_TRUE((o.facts[2] & kFactBranchTaken) && (o.facts[2] & kFactBranchFallthrough));
  EXPECT_FALSE(o.facts[7] & kFactSeen);
  EXPECT_TRUE(o.facts[7] & kFactPrunePoint);  // still a jump target
  for (int pc : {3, 4, 5, 6}) EXPECT_TRUE(o.facts[pc] & kFactSeen) << pc;
  // Tail calls are marked for the engines.
  Outcome tail = check("lddw %r2, 0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit");
  EXPECT_NE(tail.error, 0);  // no prog array: rejected, but the static facts are still there
  EXPECT_TRUE(tail.facts[3] & kFactTailCall);
}

}  // namespace
