// SPDX-License-Identifier: MIT
// BTF-typed kernel pointers (Linux's PTR_TO_BTF_ID): tracing programs' typed arguments, loads
// through them (marked for the engines as BPF_PROBE_MEM), their refusals, and
// bpf_get_current_task_btf; against a small fake of the kernel's types.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/verifier.hpp"
#include "rt/errno.hpp"
#include "support/ebpf_fixture.hpp"
#include "support/malloc_allocator.hpp"

namespace ebpf_test {
namespace {

// struct task (id 5, 32 bytes): int pid at 0, struct task *parent at 8, char comm[16] at 16.
// struct file (id 6, 8 bytes): long pos at 0.
class FakeKernelTypes final : public ebpf::KernelTypes {
 public:
  static constexpr uint32_t kTask = 5, kFile = 6;
  int read_field(uint32_t type, int32_t offset, int size, uint32_t* pointee, char* message,
                 size_t message_size) const override {
    *pointee = 0;
    uint32_t struct_size = type == kTask ? 32 : 8;
    if (offset + size > static_cast<int32_t>(struct_size)) {
      std::snprintf(message, message_size, "access beyond struct %s at off %d size %d",
                    type_name(type), offset, size);
      return -rt::kEACCES;
    }
    if (type == kTask && offset == 8 && size == 8) *pointee = kTask;
    return 0;
  }
  const char* type_name(uint32_t type) const override { return type == kTask ? "task" : "file"; }
  uint32_t task_struct() const override { return kTask; }
};

class VerifierBtfTest : public ::testing::Test {
 protected:
  // A fentry-like program: arg 0 a struct task *, arg 1 a number, arg 2 a struct file *.
  test_support::VerifierRun check(const std::string& text,
                                  ebpf::ProgramType type = ebpf::ProgramType::kTracing,
                                  bool with_types = true) {
    ebpf::AssemblyResult assembled = ebpf::assemble(text);
    EXPECT_TRUE(assembled.ok()) << assembled.error;
    insns_ = assembled.insns;
    facts_.assign(insns_.size(), 0);
    ebpf::VerifierOptions options;
    options.type = type;
    options.log_level = ebpf::kLogLevel2;
    options.allocator = &allocator_;
    options.insn_facts = facts_.data();
    options.kernel_types = with_types ? &types_ : nullptr;
    options.attach_name = "do_thing";
    options.context_args = 3;
    options.context_arg_types[0] = FakeKernelTypes::kTask;
    options.context_arg_types[2] = FakeKernelTypes::kFile;
    options.trampoline = trampoline_;
    return test_support::verify_program(insns_, options, 1 << 16);
  }
  void expect_rejected(const std::string& text, const std::string& message) {
    test_support::VerifierRun run = check(text);
    EXPECT_EQ(run.error, -rt::kEACCES) << run.log;
    EXPECT_NE(run.log.find(message), std::string::npos) << "log lacks '" << message << "':\n"
                                                        << run.log;
  }
  bool probe_load(size_t pc) const { return (facts_[pc] & ebpf::kFactProbeLoad) != 0; }

  bool trampoline_ = true;
  FakeKernelTypes types_;
  test_support::MallocAllocator allocator_;
  std::vector<ebpf::Insn> insns_;
  std::vector<uint8_t> facts_;
};

TEST_F(VerifierBtfTest, TypedArgumentsAreReadThroughProbingLoads) {
  test_support::VerifierRun run = check(
      "ldxdw %r2, [%r1+0]\n"  // struct task *
      "ldxdw %r3, [%r1+8]\n"  // a number
      "ldxw %r0, [%r2+0]\n"   // task->pid
      "ldxdw %r4, [%r2+8]\n"  // task->parent: a struct task * again
      "ldxw %r0, [%r4+0]\n"   // task->parent->pid
      "ldxb %r0, [%r2+20]\n"  // a byte of task->comm
      "exit\n");
  ASSERT_EQ(run.error, 0) << run.log;
  EXPECT_FALSE(probe_load(0));  // the context is the trace server's own memory
  EXPECT_FALSE(probe_load(1));
  EXPECT_TRUE(probe_load(2));
  EXPECT_TRUE(probe_load(3));
  EXPECT_TRUE(probe_load(4));
  EXPECT_TRUE(probe_load(5));
  EXPECT_NE(run.log.find("R2=ptr_task(off=0)"), std::string::npos) << run.log;
}

TEST_F(VerifierBtfTest, TypedPointersAreReadOnlyAtKnownOffsetsInsideTheStruct) {
  expect_rejected("ldxdw %r2, [%r1+0]\nstw [%r2+0], 1\nmov %r0, 0\nexit\n",
                  "only read is supported");
  expect_rejected("ldxdw %r2, [%r1+0]\nmov %r3, 7\nstxdw [%r2+0], %r3\nmov %r0, 0\nexit\n",
                  "only read is supported");
  expect_rejected("ldxdw %r2, [%r1+0]\nldxw %r0, [%r2-4]\nexit\n",
                  "R2 is ptr_task invalid negative access: off=-4");
  expect_rejected(
      "ldxdw %r2, [%r1+0]\nldxdw %r3, [%r1+8]\nand %r3, 8\nadd %r2, %r3\nldxw %r0, [%r2+0]\n"
      "exit\n",
      "R2 is ptr_task invalid variable offset");
  expect_rejected("ldxdw %r2, [%r1+16]\nldxdw %r0, [%r2+8]\nexit\n",
                  "access beyond struct file at off 8 size 8");
  // A constant offset added first counts as the load's own.
  test_support::VerifierRun run =
      check("ldxdw %r2, [%r1+0]\nadd %r2, 16\nldxdw %r0, [%r2+8]\nexit\n");
  EXPECT_EQ(run.error, 0) << run.log;
  expect_rejected("ldxdw %r2, [%r1+0]\nadd %r2, 16\nldxdw %r0, [%r2+16]\nexit\n",
                  "access beyond struct task at off 32 size 8");
}

TEST_F(VerifierBtfTest, TheContextIsTheArgumentsAsU64s) {
  expect_rejected("ldxw %r0, [%r1+4]\nexit\n", "func 'do_thing' offset 4 is not multiple of 8");
  expect_rejected("ldxdw %r0, [%r1+24]\nexit\n", "func 'do_thing' doesn't have 4-th argument");
  expect_rejected("mov %r2, 1\nstxdw [%r1+0], %r2\nmov %r0, 0\nexit\n",
                  "invalid bpf_context access off=0 size=8");
  // The low half of an argument is a number, even of a pointer.
  test_support::VerifierRun run = check("ldxw %r2, [%r1+0]\nldxw %r0, [%r2+0]\nexit\n");
  EXPECT_EQ(run.error, -rt::kEACCES) << run.log;
  EXPECT_NE(run.log.find("R2 invalid mem access 'scalar'"), std::string::npos) << run.log;
}

TEST_F(VerifierBtfTest, NullChecksOfTypedPointersExploreBothSides) {
  // Linux's reg_type_not_null leaves PTR_TO_BTF_ID undecided: a typed pointer may be NULL.
  test_support::VerifierRun run =
      check("ldxdw %r2, [%r1+0]\nmov %r0, 0\njeq %r2, 0, out\nldxw %r0, [%r2+0]\nout:\nexit\n");
  ASSERT_EQ(run.error, 0) << run.log;
  EXPECT_EQ(facts_[2] & (ebpf::kFactBranchTaken | ebpf::kFactBranchFallthrough),
            ebpf::kFactBranchTaken | ebpf::kFactBranchFallthrough);
}

TEST_F(VerifierBtfTest, OneInstructionCannotLoadThroughBothKindsOfPointer) {
  expect_rejected(
      "ldxdw %r2, [%r1+0]\nldxdw %r3, [%r1+8]\nstdw [%r10-8], 0\nmov %r4, %r10\nadd %r4, -8\n"
      "jeq %r3, 0, load\nmov %r4, %r2\nload:\nldxw %r0, [%r4+0]\nexit\n",
      "same insn cannot be used with different pointers");
}

TEST_F(VerifierBtfTest, GetCurrentTaskBtfGivesTheTaskTyped) {
  test_support::VerifierRun run =
      check("call 158\nldxdw %r1, [%r0+8]\nldxw %r0, [%r1+0]\nexit\n", ebpf::ProgramType::kKprobe);
  ASSERT_EQ(run.error, 0) << run.log;
  EXPECT_TRUE(probe_load(1));
  EXPECT_TRUE(probe_load(2));
  // Without the kernel's types there is nothing to type it with.
  run = check("call 158\nmov %r0, 0\nexit\n", ebpf::ProgramType::kKprobe, false);
  EXPECT_EQ(run.error, -rt::kEACCES) << run.log;
}

TEST_F(VerifierBtfTest, TrampolineHelpersAreForFentryAndFexitOnly) {
  // bpf_get_func_arg(ctx, 0, fp-8), bpf_get_func_arg_cnt(ctx), bpf_get_func_ret(ctx, fp-8)
  const std::string calls =
      "mov %r6, %r1\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -8\ncall 183\nmov %r1, %r6\n"
      "call 185\nmov %r1, %r6\nmov %r2, %r10\nadd %r2, -8\ncall 184\nexit\n";
  test_support::VerifierRun run = check(calls);
  EXPECT_EQ(run.error, 0) << run.log;
  trampoline_ = false;  // a tp_btf program, or any other type
  run = check(calls);
  EXPECT_EQ(run.error, -rt::kEINVAL) << run.log;
  EXPECT_NE(run.log.find("unknown func bpf_get_func_arg#183"), std::string::npos) << run.log;
  run = check("call 185\nexit\n", ebpf::ProgramType::kKprobe);
  EXPECT_EQ(run.error, -rt::kEINVAL) << run.log;
  trampoline_ = true;
  // The value pointer must be 8 writable bytes.
  run = check("mov %r2, 0\nmov %r3, %r10\nadd %r3, -4\ncall 183\nexit\n");
  EXPECT_EQ(run.error, -rt::kEACCES) << run.log;
}

}  // namespace
}  // namespace ebpf_test
