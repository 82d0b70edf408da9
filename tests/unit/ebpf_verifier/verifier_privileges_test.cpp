// SPDX-License-Identifier: MIT
// Verifier privileges: what a loader without CAP_PERFMON is refused, with Linux's messages.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/verifier.hpp"
#include "rt/errno.hpp"
#include "support/ebpf_fixture.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

// One attempt to leak an address or to read what Linux keeps from an unprivileged loader:
// refused with `message` for CAP_BPF alone, accepted with CAP_BPF and CAP_PERFMON.
struct LeakCase {
  const char* name;
  const char* program;  // MAP: an array map (4-byte key, 8-byte value); RING: a ring buffer
  const char* message;
};

constexpr const char* kSaveContextAndLookup =  // r6 = ctx; r0 = lookup(MAP, &key 0)
    "mov %r6, %r1\nstw [%r10-4], 0\nlddw %r1, MAP\nmov %r2, %r10\nadd %r2, -4\ncall 1\n";

const LeakCase kLeakCases[] = {
    {"PointerReturned", "mov %r0, %r1\nexit", "R0 leaks addr as return value"},
    {"PointerStoredInMap", "{LOOKUP}jeq %r0, 0, out\nstxdw [%r0+0], %r6\nout:\nmov %r0, 0\nexit",
     "R6 leaks addr into map"},
    {"PointerStoredInRingbufRecord",
     "mov %r6, %r1\nlddw %r1, RING\nmov %r2, 8\nmov %r3, 0\ncall 131\njeq %r0, 0, out\nstxdw "
     "[%r0+0], %r6\n"
     "mov %r1, %r0\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit",
     "R6 leaks addr into mem"},
    {"PointerCopiedAs32Bits", "mov32 %r0, %r1\nexit", "R1 partial copy of pointer"},
    {"PointerSignExtended", "movsx3264 %r0, %r1\nexit", "R1 sign-extension part of pointer"},
    {"PointerMinusPointer", "mov %r0, %r10\nsub %r0, %r10\nexit",
     "R0 pointer -= pointer prohibited"},
    {"PointerComparedWithConstant", "mov %r0, 0\njgt %r1, 5, +1\nmov %r0, 1\nexit",
     "R1 pointer comparison prohibited"},
    {"ScalarComparedWithPointer", "mov %r0, 0\nmov %r2, 5\njgt %r2, %r1, +1\nmov %r0, 1\nexit",
     "R1 pointer comparison prohibited"},
    {"PointerPassedAsNumberToHelper",
     "mov %r3, %r1\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 4\nmov %r0, 0\nexit",
     "R3 leaks addr into helper function"},
    {"SpilledPointerReadByHelper",
     "stxdw [%r10-8], %r1\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 6\nmov %r0, 0\nexit",
     "invalid indirect read from stack R1 off -8+0 size 8"},
    {"SpilledPointerReadInPart", "stxdw [%r10-8], %r1\nldxw %r0, [%r10-8]\nexit",
     "invalid size of register fill"},
    {"SpilledPointerOverwrittenInPart", "stxdw [%r10-8], %r1\nstb [%r10-8], 0\nmov %r0, 0\nexit",
     "attempt to corrupt spilled pointer on stack"},
    {"PointerSpilledInPart", "stxw [%r10-8], %r1\nmov %r0, 0\nexit",
     "invalid size of register spill"},
    // bypass_spec_v1: pointer arithmetic must stay in bounds and be maskable.
    {"StackPointerOutOfFrame", "mov %r1, %r10\nadd %r1, -600\nmov %r0, 0\nexit",
     "R1 stack pointer arithmetic goes out of range, prohibited for !root; off=-600"},
    {"StackPointerWithSignUnknownOffset", "call 5\nmov %r1, %r10\nadd %r1, %r0\nmov %r0, 0\nexit",
     "R0 has unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited for "
     "!root"},
    {"MapValuePointerPastTheValue", "{LOOKUP}jeq %r0, 0, out\nadd %r0, 8\nout:\nmov %r0, 0\nexit",
     "R0 pointer arithmetic of map value goes out of range, prohibited for !root"},
    {"StackPointerAtVariableOffset",
     "call 7\nand %r0, 16\nmov %r1, %r10\nadd %r1, -32\nadd %r1, %r0\nmov %r0, 0\nexit",
     "R1 variable stack access prohibited for !root, var_off=(0x0; 0x10) off=-32"},
    // allow_uninit_stack.
    {"UninitialisedStackRead", "ldxdw %r0, [%r10-8]\nexit",
     "invalid read from stack R10 off -8+0 size 8"},
    {"UninitialisedStackReadByHelper",
     "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 6\nmov %r0, 0\nexit",
     "invalid indirect read from stack R1 off -8+0 size 8"},
};

// What CAP_BPF alone may still do: the same programs must not be refused.
const LeakCase kAllowedCases[] = {
    {"NullCheckAgainstImmediate", "{LOOKUP}jeq %r0, 0, out\nldxdw %r0, [%r0+0]\nout:\nexit", ""},
    {"NullCheckAgainstZeroRegister",
     "{LOOKUP}mov %r1, 0\njne %r0, %r1, ok\nmov %r0, 0\nexit\nok:\nldxdw %r0, [%r0+0]\nexit", ""},
    {"PointerSpilledAndFilledWhole",
     "stxdw [%r10-8], %r1\nldxdw %r1, [%r10-8]\nldxdw %r0, [%r1+0]\nexit", ""},
    {"StackPointerInsideTheFrame",
     "mov %r1, %r10\nadd %r1, -512\nstdw [%r1+0], 1\nldxdw %r0, [%r1+0]\nexit", ""},
    {"MapValuePointerInsideTheValue",
     "{LOOKUP}jeq %r0, 0, out\nadd %r0, 7\nldxb %r0, [%r0+0]\nexit\nout:\nmov %r0, 0\nexit", ""},
    {"BoundedRegisterOffsetIntoMapValue",
     "{LOOKUP}jeq %r0, 0, out\nmov %r7, %r0\ncall 7\nand %r0, 7\nadd %r7, %r0\nldxb %r0, "
     "[%r7+0]\nexit\n"
     "out:\nmov %r0, 0\nexit",
     ""},
    {"ScalarStoredInMapAndReturned",
     "{LOOKUP}jeq %r0, 0, out\nstdw [%r0+0], 5\nout:\nmov %r0, 0\nexit", ""},
};

class VerifierPrivilegesTest : public ::testing::TestWithParam<LeakCase> {
 protected:
  void SetUp() override {
    array_ = test_support::create_test_map(map_allocator_, MapType::kArray, 4, 8, 4);
    ring_ = test_support::create_test_map(map_allocator_, MapType::kRingbuf, 0, 0, 4096);
  }
  void TearDown() override {
    destroy_map(array_, map_allocator_);
    destroy_map(ring_, map_allocator_);
    EXPECT_EQ(allocator_.in_use(), 0u) << "verifier leaked memory";
  }

  std::pair<int, std::string> check(std::string text, const VerifierPrivileges& privileges) {
    auto replace = [&](const std::string& name, const std::string& with) {
      for (size_t at; (at = text.find(name)) != std::string::npos;)
        text.replace(at, name.size(), with);
    };
    replace("{LOOKUP}", kSaveContextAndLookup);
    replace("RING", std::to_string(reinterpret_cast<uint64_t>(ring_)));
    replace("MAP", std::to_string(reinterpret_cast<uint64_t>(array_)));
    AssemblyResult assembled = assemble(text);
    EXPECT_TRUE(assembled.ok()) << assembled.error;
    for (Insn& insn : assembled.insns) {
      if (insn.opcode == kOpLdImm64 && insn.imm != 0) insn.src = kPseudoMapFd;  // the Map* itself
    }
    VerifierOptions options;
    options.allocator = &allocator_;
    options.log_level = kLogLevel1;
    options.privileges = privileges;
    test_support::VerifierRun run = test_support::verify_program(assembled.insns, options, 1 << 16);
    return {run.error, run.log};
  }

  test_support::MallocAllocator allocator_, map_allocator_;
  Map* array_ = nullptr;
  Map* ring_ = nullptr;
};

TEST_P(VerifierPrivilegesTest, RefusedWithoutPerfmonAcceptedWithIt) {
  const LeakCase& c = GetParam();
  auto unprivileged = check(c.program, VerifierPrivileges::from_capabilities(true, false));
  EXPECT_EQ(unprivileged.first, -rt::kEACCES) << unprivileged.second;
  EXPECT_NE(unprivileged.second.find(std::string(c.message) + "\n"), std::string::npos)
      << "log lacks '" << c.message << "':\n"
      << unprivileged.second;
  auto privileged = check(c.program, VerifierPrivileges::from_capabilities(true, true));
  EXPECT_EQ(privileged.first, 0) << privileged.second;
}

INSTANTIATE_TEST_SUITE_P(Leaks, VerifierPrivilegesTest, ::testing::ValuesIn(kLeakCases),
                         [](const ::testing::TestParamInfo<LeakCase>& info) {
                           return std::string(info.param.name);
                         });

class VerifierWithoutPerfmonTest : public VerifierPrivilegesTest {};

TEST_P(VerifierWithoutPerfmonTest, AcceptedWithCapBpfAlone) {
  auto unprivileged = check(GetParam().program, VerifierPrivileges::from_capabilities(true, false));
  EXPECT_EQ(unprivileged.first, 0) << unprivileged.second;
}

INSTANTIATE_TEST_SUITE_P(Allowed, VerifierWithoutPerfmonTest, ::testing::ValuesIn(kAllowedCases),
                         [](const ::testing::TestParamInfo<LeakCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(VerifierPrivilegesSwitches, FollowLinuxCapabilities) {
  VerifierPrivileges bpf_only = VerifierPrivileges::from_capabilities(true, false);
  EXPECT_TRUE(bpf_only.bpf_capable);
  EXPECT_FALSE(bpf_only.allow_ptr_leaks || bpf_only.bypass_spec_v1 || bpf_only.bypass_spec_v4 ||
               bpf_only.allow_uninit_stack);
  VerifierPrivileges both = VerifierPrivileges::from_capabilities(true, true);
  EXPECT_TRUE(both.bpf_capable && both.allow_ptr_leaks && both.bypass_spec_v1 &&
              both.bypass_spec_v4 && both.allow_uninit_stack);
  VerifierPrivileges admin = VerifierPrivileges::from_capabilities(false, false, true);
  EXPECT_TRUE(admin.bpf_capable && admin.allow_ptr_leaks && admin.allow_uninit_stack);
  VerifierPrivileges mitigations_off =
      VerifierPrivileges::from_capabilities(true, false, false, true);
  EXPECT_TRUE(mitigations_off.bypass_spec_v1 && mitigations_off.bypass_spec_v4);
  EXPECT_FALSE(mitigations_off.allow_ptr_leaks || mitigations_off.allow_uninit_stack);
  VerifierPrivileges none = VerifierPrivileges::from_capabilities(false, false);
  EXPECT_FALSE(none.bpf_capable);
  // The default is what Sonde accepted before: CAP_PERFMON's switches, uninitialised stack
  // reads still refused.
  VerifierPrivileges defaults;
  EXPECT_TRUE(defaults.bpf_capable && defaults.allow_ptr_leaks && defaults.bypass_spec_v1 &&
              defaults.bypass_spec_v4);
  EXPECT_FALSE(defaults.allow_uninit_stack);
}

// Without CAP_BPF (a socket filter's loader in Linux; tracing programs need CAP_BPF there):
// no loops, no bpf-to-bpf calls or callbacks, at most 4,096 instructions.
class VerifierWithoutBpfTest : public VerifierPrivilegesTest {};

TEST_F(VerifierWithoutBpfTest, LoopsCallsAndLongProgramsAreRefused) {
  VerifierPrivileges none = VerifierPrivileges::from_capabilities(false, false);
  VerifierPrivileges bpf = VerifierPrivileges::from_capabilities(true, false);
  const char* loop = "mov %r0, 0\nl:\nadd %r0, 1\njlt %r0, 10, l\nexit";
  auto refused = check(loop, none);
  EXPECT_EQ(refused.first, -rt::kEINVAL) << refused.second;
  EXPECT_NE(refused.second.find("back-edge from insn 2 to 1\n"), std::string::npos)
      << refused.second;
  EXPECT_EQ(check(loop, bpf).first, 0);
  // Forward jumps that meet again are not loops.
  auto diamond = check("mov %r0, 0\njeq %r1, 0, +1\nmov %r0, 1\nja +0\nexit", none);
  EXPECT_EQ(diamond.first, -rt::kEACCES) << diamond.second;  // r1 is a pointer: compared
  EXPECT_NE(diamond.second.find("R1 pointer comparison prohibited"), std::string::npos)
      << diamond.second;
  auto forward =
      check("call 7\nmov %r1, %r0\nmov %r0, 0\njeq %r1, 0, +1\nmov %r0, 1\nja +0\nexit", none);
  EXPECT_EQ(forward.first, 0) << forward.second;
  const char* call = "call local f\nexit\nf:\nmov %r0, 0\nexit";
  auto calls = check(call, none);
  EXPECT_EQ(calls.first, -rt::kEPERM) << calls.second;
  EXPECT_NE(calls.second.find("loading/calling other bpf or kernel functions are allowed for "
                              "CAP_BPF and CAP_SYS_ADMIN"),
            std::string::npos)
      << calls.second;
  EXPECT_EQ(check(call, bpf).first, 0);
  std::string longer;
  for (uint32_t i = 0; i < kMaxUnprivilegedInsns; ++i) longer += "mov %r0, 0\n";
  longer += "exit";
  EXPECT_EQ(check(longer, none).first, -rt::kE2BIG);
  EXPECT_EQ(check(longer, bpf).first, 0);
}

}  // namespace
