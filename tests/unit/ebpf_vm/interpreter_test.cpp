// Interpreter: instruction semantics at their edges, calls, tail calls, callbacks, and the
// checks of checked runs.
#include "ebpf/interpreter.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/map.hpp"

namespace {

using namespace ebpf;

struct Loaded {
  std::vector<Insn> insns;
  Program program;
};

HelperFunction* helper_table() {
  static HelperFunction table[kMaxHelperId] = {};
  return table;
}

Loaded load(const std::string& text) {
  AssemblyResult assembled = assemble(text);
  EXPECT_TRUE(assembled.ok()) << assembled.error;
  Loaded loaded{assembled.insns, {}};
  loaded.program.insns = loaded.insns.data();
  loaded.program.insn_count = static_cast<uint32_t>(loaded.insns.size());
  loaded.program.helpers = helper_table();
  loaded.program.helper_count = kMaxHelperId;
  return loaded;
}

RunResult checked(const Loaded& loaded, uint64_t r1 = 0, uint64_t budget = 1u << 20,
                  const MemoryRegion* region = nullptr) {
  CheckedRunOptions options;
  options.instruction_budget = budget;
  options.regions = region;
  options.region_count = region ? 1 : 0;
  return run_checked(loaded.program, r1, 0, nullptr, options);
}

uint64_t value_of(const std::string& text) {
  Loaded loaded = load(text);
  RunResult result = checked(loaded);
  EXPECT_EQ(result.status, RunStatus::kOk) << run_status_message(result.status) << " at " << result.pc;
  return result.value;
}

TEST(Interpreter, DivisionByZeroAndModuloByZeroFollowLinux) {
  EXPECT_EQ(value_of("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit"), 0u);
  EXPECT_EQ(value_of("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit"), 7u);
  EXPECT_EQ(value_of("lddw %r0, 0x100000007\nmov %r1, 0\nmod32 %r0, %r1\nexit"), 7u);
  EXPECT_EQ(value_of("mov %r0, -7\nmov %r1, 0\nsdiv %r0, %r1\nexit"), 0u);
  EXPECT_EQ(value_of("mov %r0, -7\nmov %r1, 0\nsmod %r0, %r1\nexit"), static_cast<uint64_t>(-7));
}

TEST(Interpreter, SignedDivisionOverflowWraps) {
  EXPECT_EQ(value_of("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit"), 0x8000000000000000ull);
  EXPECT_EQ(value_of("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit"), 0u);
  EXPECT_EQ(value_of("mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit"), 0x80000000u);
  EXPECT_EQ(value_of("mov %r0, -7\nsdiv %r0, 2\nexit"), static_cast<uint64_t>(-3));
  EXPECT_EQ(value_of("mov %r0, -7\nsmod %r0, 2\nexit"), static_cast<uint64_t>(-1));
}

TEST(Interpreter, ShiftAmountsAreMasked) {
  EXPECT_EQ(value_of("mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1\nexit"), 2u);
  EXPECT_EQ(value_of("mov32 %r0, 1\nmov %r1, 33\nlsh32 %r0, %r1\nexit"), 2u);
  EXPECT_EQ(value_of("mov %r0, -16\narsh %r0, 2\nexit"), static_cast<uint64_t>(-4));
  EXPECT_EQ(value_of("mov32 %r0, -16\narsh32 %r0, 2\nexit"), 0xfffffffcu);
}

TEST(Interpreter, Alu32ZeroExtends) {
  EXPECT_EQ(value_of("mov %r0, -1\nadd32 %r0, 1\nexit"), 0u);
  EXPECT_EQ(value_of("mov %r0, -1\nmov32 %r0, %r0\nexit"), 0xffffffffu);
  EXPECT_EQ(value_of("mov %r0, 5\nneg32 %r0\nexit"), 0xfffffffbu);
}

TEST(Interpreter, SignExtendingMovesAndLoads) {
  EXPECT_EQ(value_of("mov %r1, 0x80\nmovsx864 %r0, %r1\nexit"), 0xffffffffffffff80ull);
  EXPECT_EQ(value_of("mov %r1, 0x8000\nmovsx1632 %r0, %r1\nexit"), 0xffff8000u);
  EXPECT_EQ(value_of("stb [%r10-1], 0xfe\nldxsb %r0, [%r10-1]\nexit"), static_cast<uint64_t>(-2));
  EXPECT_EQ(value_of("stw [%r10-4], -3\nldxsw %r0, [%r10-4]\nexit"), static_cast<uint64_t>(-3));
}

TEST(Interpreter, ByteSwaps) {
  EXPECT_EQ(value_of("lddw %r0, 0x1122334455667788\nbe16 %r0\nexit"), 0x8877u);
  EXPECT_EQ(value_of("lddw %r0, 0x1122334455667788\nle32 %r0\nexit"), 0x55667788u);
  EXPECT_EQ(value_of("lddw %r0, 0x1122334455667788\nbswap64 %r0\nexit"), 0x8877665544332211ull);
}

TEST(Interpreter, AtomicsReturnOldValues) {
  EXPECT_EQ(value_of("stdw [%r10-8], 5\nmov %r1, 3\nlock fetch add [%r10-8], %r1\nldxdw %r0, [%r10-8]\n"
                     "lsh %r0, 8\nor %r0, %r1\nexit"),
            (8u << 8) | 5u);
  EXPECT_EQ(value_of("stw [%r10-4], 9\nmov %r0, 9\nmov %r1, 4\nlock cmpxchg32 [%r10-4], %r1\n"
                     "ldxw %r0, [%r10-4]\nexit"),
            4u);
  EXPECT_EQ(value_of("stdw [%r10-8], 1\nmov %r1, 2\nlock xchg [%r10-8], %r1\nmov %r0, %r1\nexit"), 1u);
}

TEST(Interpreter, LocalCallsPreserveCalleeSavedRegistersAndGetOwnStack) {
  EXPECT_EQ(value_of("mov %r6, 6\nstdw [%r10-8], 42\ncall local f\nldxdw %r1, [%r10-8]\n"
                     "add %r0, %r1\nadd %r0, %r6\nexit\n"
                     "f:\nmov %r6, 100\nstdw [%r10-8], 7\nldxdw %r0, [%r10-8]\nexit"),
            7u + 42u + 6u);
}

TEST(Interpreter, CallDepthIsLimited) {
  // Recursion without end: the ninth frame is refused.
  Loaded loaded = load("call local f\nexit\nf:\ncall local f\nexit");
  RunResult result = checked(loaded);
  EXPECT_EQ(result.status, RunStatus::kCallDepthExceeded);
}

TEST(Interpreter, CheckedRunsCatchOutOfBoundsAccess) {
  EXPECT_EQ(checked(load("ldxdw %r0, [%r10+8]\nexit")).status, RunStatus::kOutOfBounds);
  EXPECT_EQ(checked(load("ldxdw %r0, [%r10-4097]\nexit")).status, RunStatus::kOutOfBounds);
  EXPECT_EQ(checked(load("mov %r1, 0\nldxw %r0, [%r1]\nexit")).status, RunStatus::kOutOfBounds);
  uint8_t buffer[4] = {1, 2, 3, 4};
  MemoryRegion region{reinterpret_cast<uint64_t>(buffer), sizeof(buffer), false};
  Loaded reader = load("ldxw %r0, [%r1]\nexit");
  EXPECT_EQ(checked(reader, region.start, 100, &region).value, 0x04030201u);
  Loaded overrun = load("ldxw %r0, [%r1+1]\nexit");
  EXPECT_EQ(checked(overrun, region.start, 100, &region).status, RunStatus::kOutOfBounds);
  Loaded writer = load("stb [%r1], 0\nexit");
  EXPECT_EQ(checked(writer, region.start, 100, &region).status, RunStatus::kOutOfBounds);
}

TEST(Interpreter, CheckedRunsCatchRunawayLoopsBadJumpsAndBadOpcodes) {
  EXPECT_EQ(checked(load("l:\nja l\nexit"), 0, 1000).status, RunStatus::kBudgetExhausted);
  EXPECT_EQ(checked(load("ja +5\nexit")).status, RunStatus::kJumpOutOfRange);
  EXPECT_EQ(checked(load("mov %r0, 1")).status, RunStatus::kJumpOutOfRange);  // falls off the end
  Loaded bad = load("mov %r0, 1\nexit");
  bad.insns[0].opcode = 0xff;
  EXPECT_EQ(checked(bad).status, RunStatus::kInvalidInstruction);
  EXPECT_EQ(checked(load("call 99\nexit")).status, RunStatus::kUnknownHelper);
}

// A prog_array with one slot, for tail-call tests.
class OneProgramArray : public Map {
 public:
  explicit OneProgramArray(const Program* program)
      : Map(MapAttributes{MapType::kProgArray, 4, 4, 1, 0, {}}), program_(program) {}
  void* lookup(const void*) override { return nullptr; }
  long update(const void*, const void*, uint64_t) override { return -22; }
  long remove(const void*) override { return -22; }
  long syscall_lookup(const void*, void*, uint64_t) override { return -22; }
  long syscall_update(const void*, const void*, uint64_t) override { return -22; }
  long get_next_key(const void*, void*) override { return -2; }
  const Program* tail_call_target(uint32_t index) const override { return index == 0 ? program_ : nullptr; }
  size_t memory_usage() const override { return sizeof(*this); }
  void set(const Program* program) { program_ = program; }

 private:
  const Program* program_;
};

TEST(Interpreter, TailCallsJumpAndStopAtLinuxLimit) {
  Loaded target = load("mov %r0, 77\nexit");
  OneProgramArray array(&target.program);
  std::string caller_text = "lddw %r2, " + std::to_string(reinterpret_cast<uint64_t>(&array)) +
                            "\nmov %r3, 0\ncall 12\nmov %r0, 5\nexit";
  Loaded caller = load(caller_text);
  EXPECT_EQ(checked(caller).value, 77u);

  // Missing slot: the call falls through.
  std::string miss_text = "lddw %r2, " + std::to_string(reinterpret_cast<uint64_t>(&array)) +
                          "\nmov %r3, 1\ncall 12\nmov %r0, 5\nexit";
  EXPECT_EQ(checked(load(miss_text)).value, 5u);

  // A program that tail-calls itself counts r6 until the limit stops it: 33 tail calls.
  Loaded self = load("lddw %r2, " + std::to_string(reinterpret_cast<uint64_t>(&array)) +
                     "\nldxdw %r0, [%r1]\nadd %r0, 1\nstxdw [%r1], %r0\nmov %r3, 0\ncall 12\n"
                     "ldxdw %r0, [%r1]\nexit");
  array.set(&self.program);
  uint64_t counter = 0;
  MemoryRegion region{reinterpret_cast<uint64_t>(&counter), sizeof(counter), true};
  RunResult result = checked(self, region.start, 1u << 20, &region);
  ASSERT_EQ(result.status, RunStatus::kOk);
  EXPECT_EQ(result.value, static_cast<uint64_t>(kMaxTailCalls) + 1);
}

// A bpf_loop-like helper: calls the callback r1 times with the index, sums the results.
uint64_t loop_helper(ExecContext& context, uint64_t count, uint64_t callback, uint64_t, uint64_t, uint64_t) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < count; ++i) sum += context.invoke_callback(context, callback, i, 0, 0, 0, 0);
  return sum;
}

TEST(Interpreter, CallbacksRunAsFunctionsOfTheProgram) {
  helper_table()[200] = loop_helper;
  // The callback is at instruction 4 (absolute index, as the loader resolves pseudo-func).
  Loaded loaded = load("mov %r1, 5\nmov %r2, 4\ncall 200\nexit\nmov %r0, %r1\nmul %r0, %r0\nexit");
  EXPECT_EQ(checked(loaded).value, 0u + 1 + 4 + 9 + 16);
  Program unchecked = loaded.program;
  EXPECT_EQ(run(unchecked, nullptr, nullptr), 30u);
  helper_table()[200] = nullptr;
}

TEST(Interpreter, UncheckedRunMatchesCheckedRun) {
  Loaded loaded = load("mov %r0, 0\nmov %r1, 0\nl:\nadd %r0, %r1\nadd %r1, 1\njlt %r1, 100, l\nexit");
  EXPECT_EQ(run(loaded.program, nullptr, nullptr), 4950u);
  EXPECT_EQ(checked(loaded).value, 4950u);
}

TEST(Interpreter, StatusMessagesAreDistinct) {
  EXPECT_STREQ(run_status_message(RunStatus::kOk), "ok");
  EXPECT_STRNE(run_status_message(RunStatus::kOutOfBounds), run_status_message(RunStatus::kJumpOutOfRange));
}

}  // namespace
