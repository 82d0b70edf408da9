// SPDX-License-Identifier: MIT
// Listings of JIT output (Zydis): the instruction sequences the JIT emits for small programs,
// an inlined array lookup without a call, a hash lookup with one, blinded immediates, indirect
// branches only through the retpoline.
#include "ebpf/jit_disassembly.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/jit.hpp"
#include "ebpf/maps.hpp"
#include "support/ebpf_fixture.hpp"
#include "support/fixed_environment.hpp"
#include "support/malloc_allocator.hpp"
#include "vm_test_support.hpp"

namespace {

using namespace ebpf;
using Lines = std::vector<std::string>;

bool any_call(const Lines& lines) {
  for (const std::string& line : lines) {
    if (line.rfind("call", 0) == 0) return true;
  }
  return false;
}

class JitDisassembly : public ::testing::Test {
 protected:
  void SetUp() override {
    maps_[0] = test_support::create_test_map(allocator_, MapType::kArray, 4, 8, 4);
    maps_[1] = test_support::create_test_map(allocator_, MapType::kHash, 4, 8, 4);
  }
  void TearDown() override {
    for (Map* map : maps_) destroy_map(map, allocator_);
  }
  static const Map* verifier_map(void* state, int32_t fd) { return by_fd(state, fd); }
  static Map* by_fd(void* state, int32_t fd) {
    return fd >= 0 && fd < 2 ? static_cast<JitDisassembly*>(state)->maps_[fd] : nullptr;
  }

  // Verifies and compiles `text` (a kprobe program; map:0 is an array, map:1 a hash).
  JitProgram compile(const std::string& text, const JitOptions& jit_options = {}) {
    AssemblyResult assembled = assemble(text);
    EXPECT_TRUE(assembled.ok()) << assembled.error;
    test_support::LoadOptions options;
    options.verifier.type = ProgramType::kKprobe;
    options.verifier.allocator = &allocator_;
    options.verifier.resolve_map = verifier_map;
    options.verifier.resolve_state = this;
    options.resolver = LoadResolver{by_fd, nullptr, this};
    options.helpers = test_support::real_helpers();
    loaded_ = test_support::load_program(assembled.insns, options);
    EXPECT_TRUE(loaded_.ok());
    auto compiled = jit_compile(loaded_.program, host_executable_memory(), allocator_, jit_options);
    EXPECT_TRUE(compiled.ok());
    return compiled.ok() ? static_cast<JitProgram&&>(compiled.value()) : JitProgram{};
  }

  test_support::MallocAllocator allocator_;
  test_support::LoadedProgram loaded_;
  Map* maps_[2] = {};
};

TEST_F(JitDisassembly, AluAndExit) {
  JitProgram code = compile("mov %r0, 1\nadd %r0, 2\nmov32 %r1, %r0\nlsh %r0, %r1\nexit");
  EXPECT_EQ(jit_instructions(code, 0, 5),
            (Lines{"mov eax, 0x01", "add rax, 0x02", "mov esi, eax", "mov r11, rcx", "mov rcx, rsi",
                   "shl rax, cl", "mov rcx, r11", "ret"}));
}

TEST_F(JitDisassembly, AnInlinedArrayLookupHasNoCall) {
  // Instruction 4 is the call: the index load, bounds check, scaling and base, no call.
  JitProgram code = compile(
      "stw [%r10-4], 1\nlddw %r1, map:0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n"
      "jeq %r0, 0, +1\nldxdw %r0, [%r0+0]\nexit");
  Lines lookup = jit_instructions(code, 5, 6);
  EXPECT_FALSE(any_call(lookup));
  ASSERT_GE(lookup.size(), 5u);
  EXPECT_EQ(lookup[0], "mov eax, [rdx]");
  EXPECT_EQ(lookup[1], "cmp eax, 0x04");
  EXPECT_EQ(lookup[2].rfind("jnb ", 0), 0u) << lookup[2];
  EXPECT_EQ(lookup[3], "shl rax, 0x03");
}

TEST_F(JitDisassembly, AHashLookupIsOneDirectCall) {
  JitProgram code = compile(
      "stw [%r10-4], 1\nlddw %r1, map:1\nmov %r2, %r10\nadd %r2, -4\ncall 1\n"
      "jeq %r0, 0, +1\nldxdw %r0, [%r0+0]\nexit");
  Lines lookup = jit_instructions(code, 5, 6);
  ASSERT_EQ(lookup.size(), 3u);
  EXPECT_EQ(lookup[0], "mov rdi, rsi");
  EXPECT_EQ(lookup[1], "mov rsi, rdx");
  EXPECT_TRUE(any_call(lookup));
}

TEST_F(JitDisassembly, ABlindedMoveIsAMoveAndAnXor) {
  test_support::FixedEnvironment environment;
  environment.random = 0x0f0f0f0f;
  JitOptions options;
  options.blind_constants = true;
  options.random_source = &environment;
  JitProgram code = compile("mov %r0, 0x12345678\nexit", options);
  // 0x12345678 ^ 0x0f0f0f0f = 0x1d3b5977
  EXPECT_EQ(jit_instructions(code, 0, 1), (Lines{"mov rax, 0x1D3B5977", "xor rax, 0xF0F0F0F"}));
  EXPECT_NE(jit_listing(code).find("insn 1:\n"), std::string::npos);
}

// A callx (an indirect call), a tail call (an indirect jump) and the trampoline's entry to a
// callback all go through the retpoline thunk; no call or jmp anywhere takes a register or
// memory operand.
TEST_F(JitDisassembly, IndirectBranchesGoThroughTheRetpoline) {
  ebpf::testing::Loaded loaded =
      ebpf::testing::load("mov %r7, 201\ncall %r7\nlddw %r2, 0x1000\nmov %r3, 0\ncall 12\nexit");
  auto compiled = jit_compile(loaded.program, host_executable_memory(), allocator_);
  ASSERT_TRUE(compiled.ok());
  std::string listing = jit_listing(compiled.value());
  const std::string thunk = "0x0000000000000040";  // the first thing after the 64-byte header
  // The thunk: call over the capture loop, pause and lfence until the return, r11 as the return
  // address, ret to it.
  EXPECT_NE(listing.find("  0040  call 0x000000000000004C\n  0045  pause\n  0047  lfence\n"
                         "  004a  jmp 0x0000000000000045\n  004c  mov [rsp], r11\n  0050  ret\n"),
            std::string::npos)
      << listing;
  int calls_to_thunk = 0, jumps_to_thunk = 0;
  size_t start = 0;
  while (start < listing.size()) {
    size_t end = listing.find('\n', start);
    std::string line = listing.substr(start, end - start);
    start = end + 1;
    if (line.size() < 8 || line[0] != ' ') continue;  // a heading
    std::string text = line.substr(8);
    for (const char* branch : {"call ", "jmp "}) {
      if (text.rfind(branch, 0) != 0) continue;
      std::string operand = text.substr(std::string(branch).size());
      EXPECT_EQ(operand.rfind("0x", 0), 0u) << "an indirect branch: " << line;
      if (operand == thunk) ++(branch[0] == 'c' ? calls_to_thunk : jumps_to_thunk);
    }
  }
  EXPECT_EQ(calls_to_thunk, 2) << "the trampoline's and callx's";
  EXPECT_EQ(jumps_to_thunk, 2) << "the tail call's, and callx's (its id may be bpf_tail_call)";
}

}  // namespace
