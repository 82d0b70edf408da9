// SPDX-License-Identifier: MIT
// Verifier: what the accept/reject cases (cases/*.data, verifier_cases_test.cpp) cannot say:
// exact log positions and levels, instruction counts, hand-built instructions and callbacks.
#include "ebpf/verifier.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "ebpf/assembler.hpp"
#include "rt/errno.hpp"
#include "verifier_fixture.hpp"

namespace {

using namespace ebpf;

using ebpf_test::Outcome;
using ebpf_test::VerifierTest;

constexpr const char* kLookup =  // r0 = lookup(MAP, &key) with key 0 at fp-4
    "stw [%r10-4], 0\nlddw %r1, MAP\nmov %r2, %r10\nadd %r2, -4\ncall 1\n";

TEST_F(VerifierTest, SeededOutOfBoundsMapValueAccessIsRejectedNamingTheInstruction) {
  Outcome o = check(std::string(kLookup) + "jeq %r0, 0, out\nldxdw %r0, [%r0+8]\nout:\nexit");
  EXPECT_EQ(o.error, -rt::kEACCES);
  EXPECT_NE(
      o.log.find(
          "7: (79) r0 = *(u64 *)(r0 +8)\ninvalid access to map value, value_size=8 off=8 size=8"),
      std::string::npos)
      << o.log;
}

TEST_F(VerifierTest, BoundedLoopsAreAcceptedAndTerminate) {
  Outcome o = check("mov %r0, 0\nmov %r1, 0\nl:\nadd %r0, %r1\nadd %r1, 1\njlt %r1, 100, l\nexit");
  EXPECT_EQ(o.error, 0) << o.log;
  EXPECT_GT(o.result.instructions_processed, 300u);  // the loop was walked, not assumed
}

TEST_F(VerifierTest, InstructionBudgetIsEnforced) {
  Outcome o = check("mov %r0, 0\nmov %r1, 0\nl:\nadd %r1, 1\njlt %r1, 100000, l\nexit", kLogLevel1,
                    ProgramType::kKprobe, 1 << 20, 10000);
  EXPECT_EQ(o.error, -rt::kE2BIG);
  EXPECT_NE(o.log.find("BPF program is too large. Processed 10001 insn"), std::string::npos)
      << o.log.substr(o.log.size() - 300);
}

TEST_F(VerifierTest, StructuralErrors) {
  // Instructions the assembler does not write; the others are cases/structural_errors.data.
  std::vector<Insn> bad = program("mov %r0, 0\nexit");
  bad[0].opcode = 0xff;
  std::string log(4096, '\0');
  VerifierOptions options;
  options.allocator = &allocator_;
  options.log = log.data();
  options.log_size = 4096;
  options.log_level = 1;
  EXPECT_EQ(verify(bad.data(), 2, options).error, -rt::kEINVAL);
  EXPECT_NE(log.find("invalid BPF_ALU opcode f0"), std::string::npos) << log.c_str();
  bad[0].opcode = 0x20;  // LD_ABS: packet access, not for tracing programs
  EXPECT_EQ(verify(bad.data(), 2, options).error, -rt::kEINVAL);
  EXPECT_NE(std::string(log.c_str()).find("BPF_LD_[ABS|IND] instructions not allowed"),
            std::string::npos);
  bad = program("mov %r0, 0\nexit");
  bad[0].src = 3;  // reserved field of a K-form ALU
  EXPECT_EQ(verify(bad.data(), 2, options).error, -rt::kEINVAL);
}

TEST_F(VerifierTest, CallbacksAreVerifiedAsFunctions) {
  // bpf_loop(10, cb, NULL, 0) with cb returning 0.
  std::string loop = "mov %r1, 10\nlddw %r2, 0\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n";
  std::vector<Insn> ok =
      program("mov %r1, 10\nlddw %r2, 0\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\nmov %r0, 0\nexit");
  ok[1].src = kPseudoFunc;
  ok[1].imm = 5;  // instruction 7: the callback (1 + 5 + 1)
  std::string log(1 << 16, '\0');
  VerifierOptions options;
  options.allocator = &allocator_;
  options.log = log.data();
  options.log_size = static_cast<uint32_t>(log.size());
  options.log_level = 2;
  EXPECT_EQ(verify(ok.data(), static_cast<uint32_t>(ok.size()), options).error, 0) << log.c_str();
  std::vector<Insn> bad =
      program("mov %r1, 10\nlddw %r2, 0\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\nmov %r0, 5\nexit");
  bad[1].src = kPseudoFunc;
  bad[1].imm = 5;
  EXPECT_EQ(verify(bad.data(), static_cast<uint32_t>(bad.size()), options).error, -rt::kEACCES);
  EXPECT_NE(std::string(log.c_str()).find("At callback return the register R0"), std::string::npos);
  (void)loop;
}

TEST_F(VerifierTest, ForEachMapElemCallbacksSeeKeyAndValue) {
  auto verify_callback = [&](const std::string& callback) {
    std::vector<Insn> insns =
        program("lddw %r1, MAP\nlddw %r2, 0\nmov %r3, 0\nmov %r4, 0\ncall 164\nexit\n" + callback);
    insns[2].src = kPseudoFunc;
    insns[2].imm = 5;  // instruction 2 + 5 + 1 = 8: the callback
    std::string log(1 << 16, '\0');
    VerifierOptions options;
    options.allocator = &allocator_;
    options.log = log.data();
    options.log_size = static_cast<uint32_t>(log.size());
    options.log_level = 1;
    int error = verify(insns.data(), static_cast<uint32_t>(insns.size()), options).error;
    return std::make_pair(error, std::string(log.c_str()));
  };
  auto ok = verify_callback("ldxw %r0, [%r2+0]\nldxdw %r0, [%r3+0]\nmov %r0, 0\nexit");
  EXPECT_EQ(ok.first, 0) << ok.second;
  auto write_key = verify_callback("stw [%r2+0], 1\nmov %r0, 0\nexit");
  EXPECT_EQ(write_key.first, -rt::kEACCES);
  EXPECT_NE(write_key.second.find("R2 cannot write into map_key"), std::string::npos)
      << write_key.second;
  auto past_key = verify_callback("ldxdw %r0, [%r2+0]\nmov %r0, 0\nexit");
  EXPECT_NE(past_key.second.find("invalid access to map key, key_size=4 off=0 size=8"),
            std::string::npos)
      << past_key.second;
  // An offset of up to 2^63 - 1 past a fixed offset must not wrap around into the key.
  auto huge = verify_callback(
      "ldxdw %r4, [%r3+0]\nrsh %r4, 1\nadd %r2, 8\nadd %r2, %r4\nldxb %r0, [%r2+0]\nmov %r0, "
      "0\nexit");
  EXPECT_EQ(huge.first, -rt::kEACCES) << huge.second;
  EXPECT_NE(huge.second.find("invalid access to map key"), std::string::npos) << huge.second;
  auto past_value = verify_callback("ldxdw %r0, [%r3+8]\nmov %r0, 0\nexit");
  EXPECT_NE(past_value.second.find("invalid access to map value, value_size=8 off=8 size=8"),
            std::string::npos);
}

TEST_F(VerifierTest, LogLevelsFollowLinux) {
  // Bad log arguments.
  EXPECT_EQ(check("mov %r0, 0\nexit", 1, ProgramType::kKprobe, 64).error, -rt::kEINVAL);
  EXPECT_EQ(check("mov %r0, 0\nexit", 8, ProgramType::kKprobe, 4096).error, -rt::kEINVAL);
  EXPECT_EQ(check("mov %r0, 0\nexit", 0, ProgramType::kKprobe, 4096).error, -rt::kEINVAL);
  EXPECT_EQ(check("mov %r0, 0\nexit", 0, ProgramType::kKprobe, 0).error, 0);
  // Level 1 success keeps only the summary; level 2 shows register state.
  Outcome one = check("mov %r0, 0\nexit", 1);
  EXPECT_EQ(one.error, 0);
  EXPECT_EQ(one.log.rfind("processed 2 insns (limit 1000000)", 0), 0u) << one.log;
  Outcome two = check("mov %r0, 0\nexit", 2);
  EXPECT_NE(
      two.log.find(
          "0: R1=ctx(off=0) R10=fp0\n0: (b7) r0 = 0\n1: R0=0 R1=ctx(off=0) R10=fp0\n1: (95) exit"),
      std::string::npos)
      << two.log;
  // A log too small for the whole trace: truncated, NUL-terminated, and ENOSPC.
  std::string many;
  for (int i = 0; i < 40; ++i) many += "mov %r0, " + std::to_string(i) + "\n";
  Outcome small = check(many + "exit", 2, ProgramType::kKprobe, 128);
  EXPECT_EQ(small.error, -rt::kENOSPC);
  EXPECT_EQ(small.log.size(), 127u);
  EXPECT_GT(small.result.log_true_size, 128u);
}

}  // namespace
