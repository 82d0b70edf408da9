// Verifier precision and analysis hooks: jumps decided from ranges, variable stack offsets,
// entry assumptions and per-instruction facts, each accepted and rejected.
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
  void expect_accepted(const std::string& text) {
    Outcome o = check(text);
    EXPECT_EQ(o.error, 0) << o.log;
  }
  void expect_rejected(const std::string& text, const std::string& message, int error = -rt::kEACCES) {
    Outcome o = check(text);
    EXPECT_EQ(o.error, error) << o.log;
    EXPECT_NE(o.log.find(message), std::string::npos) << "log lacks '" << message << "':\n" << o.log;
  }

  test_support::MallocAllocator allocator_;
};

// A read of uninitialised stack: reached only if the verifier fails to decide a jump.
constexpr const char* kTrap = "trap:\nldxdw %r0, [%r10-8]\nexit\n";

TEST_F(VerifierPrecisionTest, ByteSwapsReadOnlyTheirDestination) {
  // BPF_END's source bit selects the byte order; it names no source register (r0 is unset).
  expect_accepted("mov %r1, 0x1234\nbe16 %r1\nle32 %r1\nbswap64 %r1\nmov %r0, %r1\nexit");
  expect_rejected("mov %r3, 1\nbe16 %r3\nbe16 %r2\nmov %r0, 0\nexit", "R2 !read_ok");
}

TEST_F(VerifierPrecisionTest, JumpsBetweenTwoRangesAreDecided) {
  // r1 in [0, 7], r2 in [8, 15]: r1 < r2 always holds, so the trap is never reached.
  std::string ranges = "call 7\nmov %r6, %r0\nand %r6, 7\ncall 7\nmov %r7, %r0\nand %r7, 7\nadd %r7, 8\n";
  expect_accepted(ranges + "jge %r6, %r7, trap\nmov %r0, 0\nexit\n" + kTrap);
  expect_accepted(ranges + "jsgt %r6, %r7, trap\nmov %r0, 0\nexit\n" + kTrap);
  expect_accepted(ranges + "jeq %r6, %r7, trap\nmov %r0, 0\nexit\n" + kTrap);
  // Overlapping ranges cannot be decided: the trap is reached and rejected.
  std::string overlap = "call 7\nmov %r6, %r0\nand %r6, 15\ncall 7\nmov %r7, %r0\nand %r7, 7\nadd %r7, 8\n";
  expect_rejected(overlap + "jge %r6, %r7, trap\nmov %r0, 0\nexit\n" + kTrap, "invalid read from stack R10 off -8+0 size 8");
}

TEST_F(VerifierPrecisionTest, KnownLeftOperandDecidesAgainstARange) {
  // 3 > r2 with r2 in [8, 15] never holds.
  expect_accepted("call 7\nmov %r2, %r0\nand %r2, 7\nadd %r2, 8\nmov %r1, 3\njgt %r1, %r2, trap\nmov %r0, 0\nexit\n" +
                  std::string(kTrap));
  // ... and the constant teaches the other side: r2 == 5 makes r2 - 5 a known zero.
  Outcome o = check("call 7\nmov %r2, %r0\nmov %r1, 5\njeq %r1, %r2, eq\nmov %r0, 0\nexit\neq:\nmov %r0, %r2\n"
                    "add %r0, -5\njne %r0, 0, trap\nexit\n" + std::string(kTrap));
  EXPECT_EQ(o.error, 0) << o.log;
}

TEST_F(VerifierPrecisionTest, RangesNarrowBothRegisters) {
  // After r1 <= r2 with r2 in [0, 7], r1 is at most 7: a valid offset into 8 stack bytes.
  std::string prefix = "stdw [%r10-8], 0\ncall 7\nmov %r6, %r0\ncall 7\nmov %r7, %r0\nand %r7, 7\n";
  expect_accepted(prefix + "jgt %r6, %r7, out\nmov %r3, %r10\nadd %r3, -8\nadd %r3, %r6\nldxb %r0, [%r3+0]\nexit\n"
                           "out:\nmov %r0, 0\nexit");
  // Without the comparison the offset is unbounded.
  expect_rejected(prefix + "mov %r3, %r10\nadd %r3, -8\nadd %r3, %r6\nldxb %r0, [%r3+0]\nexit",
                  "invalid variable-offset read from stack R3");
}

TEST_F(VerifierPrecisionTest, Jmp32ComparesTheLowHalf) {
  // 0x1_0000_0005: its low half is 5, whatever the upper half says.
  std::string wide = "mov %r1, 1\nlsh %r1, 32\nor %r1, 5\n";
  expect_accepted(wide + "jlt32 %r1, 5, trap\njne32 %r1, 5, trap\njgt %r1, 5, ok\nja trap\nok:\nmov %r0, 0\nexit\n" + kTrap);
  expect_rejected(wide + "jlt32 %r1, 6, trap\nmov %r0, 0\nexit\n" + kTrap, "invalid read from stack");
  // -22 is 0xffffffea in its low half: never zero, negative as s32.
  expect_accepted("mov %r4, -22\njeq32 %r4, 0, trap\njsgt32 %r4, 0, trap\nmov %r0, 0\nexit\n" + std::string(kTrap));
}

TEST_F(VerifierPrecisionTest, ARegisterEqualsItself) {
  expect_accepted("call 7\nmov %r6, %r0\njne %r0, %r0, trap\njgt %r6, %r6, trap\njle %r10, %r10, ok\nja trap\nok:\nmov %r0, 0\nexit\n" +
                  std::string(kTrap));
  expect_rejected("call 7\njeq %r0, %r0, trap\nmov %r0, 0\nexit\n" + std::string(kTrap), "invalid read from stack");
}

TEST_F(VerifierPrecisionTest, CopiesOfAScalarLearnItsBounds) {
  // r6 is a copy of r0: bounding r6 bounds r0 (and a spilled copy) too.
  std::string read = "mov %r3, %r10\nadd %r3, -8\nadd %r3, %r0\nldxb %r0, [%r3+0]\nexit\nout:\nmov %r0, 0\nexit";
  expect_accepted("stdw [%r10-8], 0\ncall 7\nmov %r6, %r0\njgt %r6, 7, out\n" + read);
  expect_accepted("stdw [%r10-8], 0\ncall 7\nstxdw [%r10-16], %r0\nmov %r6, %r0\njgt %r6, 7, out\nldxdw %r0, [%r10-16]\n" + read);
  // Once either copy changes, they are separate values again.
  expect_rejected("stdw [%r10-8], 0\ncall 7\nmov %r6, %r0\nadd %r0, 1\njgt %r6, 7, out\n" + read,
                  "invalid variable-offset read from stack R3");
  expect_rejected("stdw [%r10-8], 0\ncall 7\nmov %r6, %r0\nadd %r6, 0\njgt %r6, 7, out\n" + read,
                  "invalid variable-offset read from stack R3");
}

TEST_F(VerifierPrecisionTest, Jmp32NarrowsTheLowHalfOfAnUnknownValue) {
  // r0 is any 64-bit value; after `if w0 > 7` fails, its low half is in [0, 7], and a
  // 32-bit copy (zero-extended) is a valid index into 8 initialised stack bytes.
  std::string read = "mov32 %r1, %r0\nmov %r3, %r10\nadd %r3, -8\nadd %r3, %r1\nldxb %r0, [%r3+0]\nexit\n"
                     "out:\nmov %r0, 0\nexit";
  expect_accepted("stdw [%r10-8], 0\ncall 7\njgt32 %r0, 7, out\n" + read);
  expect_accepted("stdw [%r10-8], 0\ncall 7\njsgt32 %r0, 7, out\njslt32 %r0, 0, out\n" + read);
  // Without the 32-bit comparison, or with only its signed upper bound, the index is unknown.
  expect_rejected("stdw [%r10-8], 0\ncall 7\njeq %r0, 12345, out\n" + read,
                  "invalid variable-offset read from stack R3");
  expect_rejected("stdw [%r10-8], 0\ncall 7\njsgt32 %r0, 7, out\n" + read, "invalid variable-offset read from stack R3");
  // The 64-bit value is still unknown: JMP32 facts do not leak into the full register.
  expect_rejected("stdw [%r10-8], 0\ncall 7\njgt32 %r0, 7, out\nmov %r3, %r10\nadd %r3, -8\nadd %r3, %r0\n"
                  "ldxb %r0, [%r3+0]\nexit\nout:\nmov %r0, 0\nexit",
                  "invalid variable-offset read from stack R3");
  // ... unless the upper half is known: then the low half's range is the value's range.
  expect_accepted("stdw [%r10-8], 0\ncall 7\nand %r0, 0xff\njgt32 %r0, 7, out\nmov %r3, %r10\nadd %r3, -8\n"
                  "add %r3, %r0\nldxb %r0, [%r3+0]\nexit\nout:\nmov %r0, 0\nexit");
  // A 32-bit equality fixes the low half: the trap after `w0 != 5` is unreachable.
  expect_accepted("call 7\njne32 %r0, 5, out\nmov32 %r1, %r0\njne %r1, 5, trap\nout:\nmov %r0, 0\nexit\n" +
                  std::string(kTrap));
}

TEST_F(VerifierPrecisionTest, NonNullPointersAreNeverZero) {
  expect_accepted("jeq %r10, 0, trap\njeq %r1, 0, trap\nmov %r0, 0\nexit\n" + std::string(kTrap));
  expect_rejected("jne %r1, 0, trap\nmov %r0, 0\nexit\n" + std::string(kTrap), "invalid read from stack");
}

TEST_F(VerifierPrecisionTest, VariableStackOffsets) {
  std::string index = "call 7\nand %r0, 7\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r0\n";
  // Reads need every byte the offset may reach to be initialised.
  expect_accepted("stdw [%r10-16], 1\nstdw [%r10-8], 2\n" + index + "ldxdw %r0, [%r3+0]\nexit");
  expect_rejected("stdw [%r10-16], 1\n" + index + "ldxdw %r0, [%r3+0]\nexit",
                  "invalid variable-offset read from stack R3 var_off=(0x0; 0x7) off=0 size=8");
  // Accesses must stay inside the frame for every offset.
  expect_rejected("stdw [%r10-16], 1\nstdw [%r10-8], 2\n" + index + "ldxdw %r0, [%r3+4]\nexit",
                  "invalid variable-offset read from stack R3");
  // An unbounded offset (found by the fuzzer: its sums overflowed) is rejected, not computed.
  expect_rejected("stdw [%r10-8], 0\ncall 7\nmov %r3, %r10\nadd %r3, %r0\nldxb %r0, [%r3-16]\nexit",
                  "invalid variable-offset read from stack R3");
  // A write marks what it may touch as data (only where the bytes were already data) and
  // destroys spilled pointers there.
  expect_accepted("stdw [%r10-16], 1\nstdw [%r10-8], 2\n" + index + "stxb [%r3+0], %r0\nldxdw %r0, [%r10-8]\nexit");
  expect_rejected(index + "stxb [%r3+0], %r0\nldxb %r0, [%r10-16]\nexit", "invalid read from stack R10 off -16+0 size 1");
  expect_rejected("stxdw [%r10-8], %r1\nstdw [%r10-16], 0\n" + index +
                      "stxb [%r3+4], %r0\nldxdw %r2, [%r10-8]\nldxdw %r0, [%r2+0]\nexit",
                  "R2 invalid mem access 'scalar'");
}

TEST_F(VerifierPrecisionTest, HelpersTakeVariableOffsetStackBuffers) {
  // bpf_probe_read_kernel(fp-16 + [0, 7], 8, src): the helper writes 8 bytes somewhere in
  // fp-16..fp-1, all of which must be in the frame; then bpf_trace_printk reads them.
  std::string index = "call 7\nand %r0, 7\nmov %r6, %r10\nadd %r6, -16\nadd %r6, %r0\n";
  expect_accepted("stdw [%r10-16], 0\nstdw [%r10-8], 0\n" + index +
                  "mov %r1, %r6\nmov %r2, 8\nmov %r3, 0\ncall 113\nmov %r1, %r6\nmov %r2, 8\ncall 6\nmov %r0, 0\nexit");
  // A read needs every byte the buffer may cover to be initialised.
  expect_rejected("stdw [%r10-16], 0\n" + index + "mov %r1, %r6\nmov %r2, 8\ncall 6\nmov %r0, 0\nexit",
                  "invalid variable-offset indirect read from stack R1");
  // And the buffer must stay in the frame for every offset.
  expect_rejected("stdw [%r10-16], 0\nstdw [%r10-8], 0\n" + index + "mov %r1, %r6\nmov %r2, 16\nmov %r3, 0\ncall 113\n"
                  "mov %r0, 0\nexit",
                  "invalid variable-offset indirect access to stack R1");
}

TEST_F(VerifierPrecisionTest, CallbacksRunAnyNumberOfTimes) {
  // bpf_loop(100, cb, &counter): cb increments the counter each time. Verifying one
  // iteration would "prove" counter == 1 and accept indexing 8 bytes with it, while it is
  // 100 at run time (the bug Linux fixed in 6.8). Iterations repeat until they add nothing,
  // with changing scalars widened, so the counter is unknown here and the read is rejected.
  std::string call = "mov %r1, 100\nlddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\n";
  std::string use = "ldxdw %r6, [%r10-8]\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r6\nldxb %r0, [%r3+0]\nexit\n";
  expect_rejected("stdw [%r10-8], 0\nstdw [%r10-16], 0\n" + call + use +
                      "cb:\nldxdw %r3, [%r2+0]\nadd %r3, 1\nstxdw [%r2+0], %r3\nmov %r0, 0\nexit",
                  "invalid variable-offset read from stack R3");
  // A counter the callback keeps in [0, 7] is an invariant of the loop: accepted.
  expect_accepted("stdw [%r10-8], 0\nstdw [%r10-16], 0\n" + call + use +
                  "cb:\nldxdw %r3, [%r2+0]\nadd %r3, 1\nand %r3, 7\nstxdw [%r2+0], %r3\nmov %r0, 0\nexit");
  // Zero iterations happen too: what only the callback writes may still be unwritten.
  expect_rejected(call + "ldxdw %r0, [%r10-8]\nexit\ncb:\nstdw [%r2+0], 1\nmov %r0, 0\nexit",
                  "invalid read from stack R10 off -8+0 size 8");
  // A callback that keeps nothing converges at once.
  expect_accepted(call + "mov %r0, 0\nexit\ncb:\nmov %r0, 0\nexit");
}

TEST_F(VerifierPrecisionTest, FunctionsMayLeaveR0UnsetButCallersCannotReadIt) {
  expect_accepted("mov %r6, 0\ncall local f\nmov %r0, 0\nexit\nf:\nmov %r6, 1\nexit");
  expect_rejected("call local f\nadd %r0, 1\nexit\nf:\nexit", "R0 !read_ok");
  // The program's own exit still needs R0.
  expect_rejected("call local f\nexit\nf:\nexit", "R0 !read_ok");
  // No stack pointer goes back to a caller, not even one into the caller's own frame.
  expect_rejected("mov %r1, %r10\ncall local f\nmov %r0, 0\nexit\nf:\nmov %r0, %r1\nexit",
                  "cannot return stack pointer to the caller", -rt::kEINVAL);
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
  std::string text = "mov %r6, 0\nmov %r7, 0\nlddw %r8, " + std::to_string(reinterpret_cast<uint64_t>(map)) +
                     "\nloop:\nmov %r1, %r6\nand %r1, 15\nstxw [%r10-4], %r1\nmov %r2, %r10\nadd %r2, -4\n"
                     "mov %r1, %r8\ncall 1\njeq %r0, 0, next\nldxdw %r1, [%r0+0]\nadd %r7, %r1\nnext:\n"
                     "add %r6, 1\njlt %r6, 1000, loop\nmov %r0, %r7\nexit";
  AssemblyResult assembled = assemble(text);
  ASSERT_TRUE(assembled.ok()) << assembled.error;
  assembled.insns[2].src = kPseudoMapFd;  // the Map* itself, as the loader leaves it
  VerifierOptions options;
  options.allocator = &allocator_;
  VerifierResult result = verify(assembled.insns.data(), static_cast<uint32_t>(assembled.insns.size()), options);
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
      "call 7\n"               // 0: helper call
      "jeq %r10, 0, dead\n"    // 1: never taken
      "jgt %r0, 5, big\n"      // 2: both ways
      "mov %r0, 0\n"           // 3
      "exit\n"                 // 4
      "big:\nmov %r0, 1\n"     // 5
      "exit\n"                 // 6
      "dead:\nmov %r0, 2\n"    // 7: never reached
      "exit\n");               // 8
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
