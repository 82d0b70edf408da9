// SPDX-License-Identifier: MIT
// The whole load path as the trace server runs it: Linux's instruction form, verified,
// rewritten by prepare_for_execution, run by execute() with the real helper table and maps
// (bpf_loop callbacks through invoke_callback, map lookups, globals through map values).
#include <gtest/gtest.h>

#include <cstring>

#include "ebpf/assembler.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/jit.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/prog_array.hpp"
#include "ebpf/program.hpp"
#include "ebpf/verifier.hpp"
#include "support/ebpf_fixture.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

// Parameter: false runs the interpreter, true compiles every program with the JIT.
class LoadPath : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    maps_[0] = test_support::create_test_map(allocator_, MapType::kArray, 4, 8, 4);
    // A .data-like map: one element, direct value access.
    maps_[1] = test_support::create_test_map(allocator_, MapType::kArray, 4, 16, 1);
    maps_[2] = test_support::create_test_map(allocator_, MapType::kProgArray, 4, 4, 2);
  }
  void TearDown() override {
    for (Map* map : maps_) destroy_map(map, allocator_);
  }

  static const Map* verifier_map(void* state, int32_t fd) { return by_fd(state, fd); }
  static Map* by_fd(void* state, int32_t fd) {
    auto* self = static_cast<LoadPath*>(state);
    return fd >= 0 && fd < 3 ? self->maps_[fd] : nullptr;
  }

  struct Loaded : test_support::LoadedProgram {
    JitProgram code;
  };

  // Verifies `text` as a kprobe program and prepares it for execution.
  void load(const std::string& text, Loaded& loaded) {
    AssemblyResult assembled = assemble(text);
    EXPECT_TRUE(assembled.ok()) << assembled.error;
    test_support::LoadOptions options;
    options.verifier.type = ProgramType::kKprobe;
    options.verifier.allocator = &allocator_;
    options.verifier.resolve_map = verifier_map;
    options.verifier.resolve_state = this;
    options.verifier.log_level = 1;
    options.log_size = 4096;
    options.resolver = LoadResolver{by_fd, nullptr, this};
    options.helpers = test_support::real_helpers();
    static_cast<test_support::LoadedProgram&>(loaded) =
        test_support::load_program(assembled.insns, options);
    EXPECT_EQ(loaded.verdict.error, 0) << loaded.verdict.log;
    if (loaded.verified()) EXPECT_EQ(loaded.prepare_error, 0);
    if (loaded.ok() && GetParam()) {
      auto compiled = jit_compile(loaded.program, host_executable_memory(), allocator_);
      ASSERT_TRUE(compiled.ok()) << compiled.error().message;
      loaded.code = static_cast<JitProgram&&>(compiled.value());
      loaded.code.install(loaded.program);
    }
  }

  // Loads `text` and returns its r0 on a zeroed pt_regs.
  uint64_t load_and_run(const std::string& text) {
    load(text, main_);
    if (!main_.ok()) return ~0ull;
    uint8_t pt_regs[168] = {};
    return execute(main_.program, pt_regs, nullptr);
  }

  test_support::MallocAllocator allocator_;
  Map* maps_[3] = {};  // fd 0: array, fd 1: one-element array, fd 2: prog_array
  Loaded main_;
};

TEST_P(LoadPath, BpfLoopCallsAFunctionReferencedByPseudoFunc) {
  // bpf_loop(10, cb, &counter, 0): cb adds its index to *ctx; the sum is 45.
  EXPECT_EQ(
      load_and_run("stdw [%r10-8], 0\nmov %r1, 10\nlddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -8\n"
                   "mov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nexit\n"
                   "cb:\nldxdw %r3, [%r2+0]\nadd %r3, %r1\nstxdw [%r2+0], %r3\nmov %r0, 0\nexit"),
      45u);
}

TEST_P(LoadPath, MapLookupsThroughAMapFdReference) {
  uint32_t key = 2;
  uint64_t value = 40;
  ASSERT_EQ(maps_[0]->update(&key, &value, kUpdateAny), 0);
  EXPECT_EQ(
      load_and_run(
          "stw [%r10-4], 2\nlddw %r1, map:0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n"
          "jne %r0, 0, +2\nmov %r0, 0\nexit\nldxdw %r1, [%r0+0]\nadd %r1, 2\nstxdw [%r0+0], %r1\n"
          "mov %r0, %r1\nexit"),
      42u);
  EXPECT_EQ(*static_cast<uint64_t*>(maps_[0]->lookup(&key)), 42u);
}

TEST_P(LoadPath, GlobalsThroughAMapValueReference) {
  EXPECT_EQ(
      load_and_run(
          "lddw %r1, map_value:1+8\nmov %r2, 7\nstxdw [%r1+0], %r2\nldxdw %r0, [%r1+0]\nexit"),
      7u);
  uint32_t zero = 0;
  uint64_t stored;
  std::memcpy(&stored, static_cast<uint8_t*>(maps_[1]->lookup(&zero)) + 8, 8);
  EXPECT_EQ(stored, 7u);
}

TEST_P(LoadPath, TailCallsThroughAProgArray) {
  Loaded target;
  load("mov %r0, 300\nexit", target);
  ASSERT_TRUE(target.ok());
  ASSERT_EQ(rt::to_negated_errno(static_cast<ProgArrayMap*>(maps_[2])->set(1, &target.program)), 0);
  // Slot 0 is empty (falls through, +1), slot 1 holds the target (300).
  EXPECT_EQ(load_and_run("mov %r6, %r1\nlddw %r2, map:2\nmov %r3, 0\ncall 12\nmov %r1, %r6\n"
                         "lddw %r2, map:2\nmov %r3, 1\ncall 12\nmov %r0, 1\nexit"),
            300u);
}

INSTANTIATE_TEST_SUITE_P(Engines, LoadPath, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Jit" : "Interpreter";
                         });

}  // namespace
