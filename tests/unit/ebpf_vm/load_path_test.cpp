// The whole load path as the trace server runs it: Linux's instruction form, verified,
// rewritten by prepare_for_execution, run by execute() with the real helper table and maps
// (bpf_loop callbacks through invoke_callback, map lookups, globals through map values).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "ebpf/assembler.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/jit.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/prog_array.hpp"
#include "ebpf/program.hpp"
#include "ebpf/verifier.hpp"

namespace {

using namespace ebpf;

class HeapAllocator final : public rt::Allocator {
 public:
  void* allocate(size_t size, size_t alignment) override {
    return std::aligned_alloc(alignment < 8 ? 8 : alignment, (size + alignment - 1) / alignment * alignment);
  }
  void deallocate(void* pointer, size_t) override { std::free(pointer); }
};

// Parameter: false runs the interpreter, true compiles every program with the JIT.
class LoadPath : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    fill_helper_table(helpers_);
    MapAttributes array;
    array.type = MapType::kArray;
    array.key_size = 4;
    array.value_size = 8;
    array.max_entries = 4;
    maps_[0] = create_map(array, allocator_, 1).value();
    array.max_entries = 1;  // a .data-like map: one element, direct value access
    array.value_size = 16;
    maps_[1] = create_map(array, allocator_, 1).value();
    MapAttributes jumps;
    jumps.type = MapType::kProgArray;
    jumps.key_size = 4;
    jumps.value_size = 4;
    jumps.max_entries = 2;
    maps_[2] = create_map(jumps, allocator_, 1).value();
  }
  void TearDown() override {
    for (Map* map : maps_) destroy_map(map, allocator_);
  }

  static const Map* verifier_map(void* state, int32_t fd) { return by_fd(state, fd); }
  static Map* by_fd(void* state, int32_t fd) {
    auto* self = static_cast<LoadPath*>(state);
    return fd >= 0 && fd < 3 ? self->maps_[fd] : nullptr;
  }

  struct Loaded {
    std::vector<Insn> insns;
    Program program;
    bool ok = false;
    JitProgram code;
  };

  // Verifies `text` as a kprobe program and prepares it for execution.
  void load(const std::string& text, Loaded& loaded) {
    AssemblyResult assembled = assemble(text);
    EXPECT_TRUE(assembled.ok()) << assembled.error;
    loaded.insns = assembled.insns;
    std::vector<Insn>& insns_ = loaded.insns;
    uint32_t count = static_cast<uint32_t>(insns_.size());
    char log[4096] = {};
    VerifierOptions options;
    options.type = ProgramType::kKprobe;
    options.allocator = &allocator_;
    options.resolve_map = verifier_map;
    options.resolve_state = this;
    options.log = log;
    options.log_size = sizeof(log);
    options.log_level = 1;
    VerifierResult verdict = verify(insns_.data(), count, options);
    EXPECT_EQ(verdict.error, 0) << log;
    if (verdict.error != 0) return;
    EXPECT_EQ(rt::to_negated_errno(prepare_for_execution(insns_.data(), count, LoadResolver{by_fd, nullptr, this})), 0);
    Program& program = loaded.program;
    program.insns = insns_.data();
    program.insn_count = count;
    program.type = ProgramType::kKprobe;
    program.helpers = helpers_;
    program.helper_count = kMaxHelperId;
    program.verified = true;
    program.max_stack_depth = verdict.max_stack_depth;
    loaded.ok = true;
    if (GetParam()) {
      auto compiled = jit_compile(program, host_executable_memory(), allocator_);
      ASSERT_TRUE(compiled.ok()) << compiled.error().message;
      loaded.code = static_cast<JitProgram&&>(compiled.value());
      loaded.code.install(program);
    }
  }

  // Loads `text` and returns its r0 on a zeroed pt_regs.
  uint64_t load_and_run(const std::string& text) {
    load(text, main_);
    if (!main_.ok) return ~0ull;
    uint8_t pt_regs[168] = {};
    return execute(main_.program, pt_regs, nullptr);
  }

  HeapAllocator allocator_;
  HelperFunction helpers_[kMaxHelperId] = {};
  Map* maps_[3] = {};  // fd 0: array, fd 1: one-element array, fd 2: prog_array
  Loaded main_;
};

TEST_P(LoadPath, BpfLoopCallsAFunctionReferencedByPseudoFunc) {
  // bpf_loop(10, cb, &counter, 0): cb adds its index to *ctx; the sum is 45.
  EXPECT_EQ(load_and_run("stdw [%r10-8], 0\nmov %r1, 10\nlddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -8\n"
                         "mov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nexit\n"
                         "cb:\nldxdw %r3, [%r2+0]\nadd %r3, %r1\nstxdw [%r2+0], %r3\nmov %r0, 0\nexit"),
            45u);
}

TEST_P(LoadPath, MapLookupsThroughAMapFdReference) {
  uint32_t key = 2;
  uint64_t value = 40;
  ASSERT_EQ(maps_[0]->update(&key, &value, kUpdateAny), 0);
  EXPECT_EQ(load_and_run("stw [%r10-4], 2\nlddw %r1, map:0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n"
                         "jne %r0, 0, +2\nmov %r0, 0\nexit\nldxdw %r1, [%r0+0]\nadd %r1, 2\nstxdw [%r0+0], %r1\n"
                         "mov %r0, %r1\nexit"),
            42u);
  EXPECT_EQ(*static_cast<uint64_t*>(maps_[0]->lookup(&key)), 42u);
}

TEST_P(LoadPath, GlobalsThroughAMapValueReference) {
  EXPECT_EQ(load_and_run("lddw %r1, map_value:1+8\nmov %r2, 7\nstxdw [%r1+0], %r2\nldxdw %r0, [%r1+0]\nexit"), 7u);
  uint32_t zero = 0;
  uint64_t stored;
  std::memcpy(&stored, static_cast<uint8_t*>(maps_[1]->lookup(&zero)) + 8, 8);
  EXPECT_EQ(stored, 7u);
}

TEST_P(LoadPath, TailCallsThroughAProgArray) {
  Loaded target;
  load("mov %r0, 300\nexit", target);
  ASSERT_TRUE(target.ok);
  ASSERT_EQ(rt::to_negated_errno(static_cast<ProgArrayMap*>(maps_[2])->set(1, &target.program)), 0);
  // Slot 0 is empty (falls through, +1), slot 1 holds the target (300).
  EXPECT_EQ(load_and_run("mov %r6, %r1\nlddw %r2, map:2\nmov %r3, 0\ncall 12\nmov %r1, %r6\n"
                         "lddw %r2, map:2\nmov %r3, 1\ncall 12\nmov %r0, 1\nexit"),
            300u);
}

INSTANTIATE_TEST_SUITE_P(Engines, LoadPath, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "Jit" : "Interpreter"; });

}  // namespace
