// SPDX-License-Identifier: MIT
// Shared fixtures for the execution-core tests: assembling into a runnable Program, checked
// and unchecked runs, and a one-slot prog_array.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/jit.hpp"
#include "ebpf/map.hpp"
#include "ebpf/program.hpp"
#include "support/fixed_environment.hpp"

namespace ebpf::testing {

inline HelperFunction* helper_table() {
  static HelperFunction table[kMaxHelperId] = {};
  return table;
}

struct Loaded {
  std::vector<Insn> insns;
  Program program;
};

// Assembles `text` and rewrites it for execution (pseudo func -> absolute index).
inline Loaded load(const std::string& text) {
  AssemblyResult assembled = assemble(text);
  EXPECT_TRUE(assembled.ok()) << assembled.error;
  Loaded loaded{assembled.insns, {}};
  EXPECT_EQ(rt::to_negated_errno(prepare_for_execution(
                loaded.insns.data(), static_cast<uint32_t>(loaded.insns.size()), LoadResolver{})),
            0);
  loaded.program.insns = loaded.insns.data();
  loaded.program.insn_count = static_cast<uint32_t>(loaded.insns.size());
  loaded.program.helpers = helper_table();
  loaded.program.helper_count = kMaxHelperId;
  return loaded;
}

struct CheckedSetup {
  std::vector<MemoryRegion> regions;
  std::vector<Map*> tail_call_maps;
  uint64_t budget = 1u << 20;
};

inline RunResult checked(const Loaded& loaded, uint64_t r1 = 0, const CheckedSetup& setup = {}) {
  CheckedRunOptions options;
  options.instruction_budget = setup.budget;
  options.regions = setup.regions.data();
  options.region_count = setup.regions.size();
  options.tail_call_maps = setup.tail_call_maps.data();
  options.tail_call_map_count = setup.tail_call_maps.size();
  return run_checked(loaded.program, r1, 0, nullptr, options);
}

// Scratch memory for the JIT's compile-time tables.
class MallocAllocator final : public rt::Allocator {
 public:
  void* allocate(size_t size, size_t) override { return std::malloc(size); }
  void deallocate(void* pointer, size_t) override { std::free(pointer); }
};

inline rt::Allocator& test_allocator() {
  static MallocAllocator allocator;
  return allocator;
}

// The program compiled by the JIT: a copy of `loaded.program` with the JIT installed. The
// returned JitProgram owns the code; `program` must not outlive it.
struct Jitted {
  JitProgram code;
  Program program;
};

// The random values constant blinding uses in these tests: fixed, with bits in every byte.
inline test_support::FixedEnvironment& blinding_environment() {
  static test_support::FixedEnvironment environment;
  environment.random = 0x9e3779b9;
  return environment;
}

inline JitOptions blinded() {
  JitOptions options;
  options.blind_constants = true;
  options.random_source = &blinding_environment();
  return options;
}

inline Jitted jit(const Loaded& loaded, const JitOptions& options = {}) {
  Jitted jitted{{}, loaded.program};
  auto compiled = jit_compile(loaded.program, host_executable_memory(), test_allocator(), options);
  EXPECT_TRUE(compiled.ok()) << "JIT refused: " << (compiled.ok() ? "" : compiled.error().message);
  if (compiled.ok()) {
    jitted.code = static_cast<JitProgram&&>(compiled.value());
    jitted.code.install(jitted.program);
  }
  return jitted;
}

// Compiles with the JIT in place (the program's own runner is set): for tail-call targets.
inline JitProgram jit_in_place(Loaded& loaded) {
  auto compiled = jit_compile(loaded.program, host_executable_memory(), test_allocator());
  EXPECT_TRUE(compiled.ok()) << "JIT refused: " << (compiled.ok() ? "" : compiled.error().message);
  if (!compiled.ok()) return {};
  JitProgram code = static_cast<JitProgram&&>(compiled.value());
  code.install(loaded.program);
  return code;
}

// r0 of a program run checked, unchecked and through the JIT, with and without constant
// blinding (they must agree).
inline uint64_t value_of(const std::string& text) {
  Loaded loaded = load(text);
  RunResult result = checked(loaded);
  EXPECT_EQ(result.status, RunStatus::kOk)
      << run_status_message(result.status) << " at " << result.pc << "\n"
      << text;
  uint64_t unchecked = run(loaded.program, nullptr, nullptr);
  EXPECT_EQ(unchecked, result.value) << "checked and unchecked runs disagree\n" << text;
  if (result.status == RunStatus::kOk) {
    for (const JitOptions& options : {JitOptions{}, blinded()}) {
      Jitted jitted = jit(loaded, options);
      if (jitted.code.compiled()) {
        EXPECT_EQ(execute(jitted.program, nullptr, nullptr), result.value)
            << "JIT" << (options.blind_constants ? " (blinded)" : "")
            << " and interpreter disagree\n"
            << text;
      }
    }
  }
  return result.value;
}

// A prog_array with one slot, for tail-call tests.
class OneProgramArray : public Map {
 public:
  explicit OneProgramArray(const Program* program)
      : Map(MapAttributes{MapType::kProgArray, 4, 4, 1, 0, {}}), program_(program) {}
  void* lookup(const void*) override { return nullptr; }
  long update(const void*, const void*, uint64_t) override { return -22; }
  long remove(const void*) override { return -22; }
  rt::Result<void> syscall_lookup(const void*, void*, uint64_t) override {
    return rt::err(rt::kEINVAL);
  }
  rt::Result<void> syscall_update(const void*, const void*, uint64_t) override {
    return rt::err(rt::kEINVAL);
  }
  rt::Result<void> get_next_key(const void*, void*) override { return rt::err(rt::kENOENT); }
  const Program* tail_call_target(uint32_t index) const override {
    return index == 0 ? program_ : nullptr;
  }
  size_t memory_usage() const override { return sizeof(*this); }
  void set(const Program* program) { program_ = program; }

 private:
  const Program* program_;
};

inline std::string address_of(const void* pointer) {
  return std::to_string(reinterpret_cast<uint64_t>(pointer));
}

}  // namespace ebpf::testing
