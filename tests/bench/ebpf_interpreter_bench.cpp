// SPDX-License-Identifier: MIT
// Interpreter and JIT speed on the shared anchor programs (../shared/bench/bench_progs.h),
// loaded unchanged through the normal load path. Reports ns per run and ns per instruction.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bench_progs.h"
#include "bench_support.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/jit.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/program.hpp"
#include "ebpf/verifier.hpp"
#include "support/ebpf_fixture.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

bench::BenchEnvironment environment;
test_support::MallocAllocator allocator;
Map* anchor_map = nullptr;  // the `map` program's array, as fd 0

// An anchor program loaded, with what bench_progs.h says about it.
struct AnchorProgram {
  test_support::LoadedProgram loaded;
  uint64_t executed;
  bool checkable;
  uint64_t expected;
};

Map* map_by_fd(void*, int32_t fd) { return fd == 0 ? anchor_map : nullptr; }
const Map* const_map_by_fd(void*, int32_t fd) { return map_by_fd(nullptr, fd); }

// The trace server's load path: verify Linux's form (the map LD_IMM64 keeps src =
// BPF_PSEUDO_MAP_FD, imm = fd 0, exactly as the header ships it), then rewrite for execution.
AnchorProgram load(const eref_prog& p) {
  static_assert(sizeof(eref_insn) == sizeof(Insn));
  std::vector<Insn> insns(p.n_slots);
  std::memcpy(insns.data(), p.insns, p.n_slots * sizeof(Insn));
  test_support::LoadOptions options;
  options.verifier.type = ProgramType::kKprobe;
  options.verifier.allocator = &allocator;
  options.verifier.resolve_map = const_map_by_fd;
  options.resolver = LoadResolver{map_by_fd, nullptr, nullptr};
  options.helpers = test_support::real_helpers();
  options.prepare_rejected = true;  // a rejected anchor program still runs, unverified
  AnchorProgram anchor{test_support::load_program(std::move(insns), options), p.executed,
                       p.checkable != 0, p.expected};
  if (!anchor.loaded.verified()) {
    std::fprintf(stderr, "note: the verifier rejects %s (%d)\n", p.name,
                 anchor.loaded.verdict.error);
  }
  if (!anchor.loaded.prepared) {
    std::fprintf(stderr, "cannot prepare %s\n", p.name);
    std::exit(1);
  }
  return anchor;
}

// One engine's view of an anchor program: its Program (with the JIT's runner installed, for
// the JIT variant) and what bench_progs.h says about it.
struct Runnable {
  Program program;
  uint64_t executed;
  bool checkable;
  uint64_t expected;
  bool verified;
};

Runnable runnable(const AnchorProgram& anchor) {
  return Runnable{anchor.loaded.program, anchor.executed, anchor.checkable, anchor.expected,
                  anchor.loaded.verified()};
}

void run_program(benchmark::State& state, const Runnable* runnable) {
  uint64_t result = execute(runnable->program, nullptr, &environment);
  if (runnable->checkable && result != runnable->expected) {
    state.SkipWithError("wrong result: the engine disagrees with bench_progs.h");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(execute(runnable->program, nullptr, &environment));
  }
  state.counters["insns_per_run"] = static_cast<double>(runnable->executed);
  state.counters["verified"] = runnable->verified ? 1 : 0;
  // Time per executed instruction (shown with its unit, e.g. 612ps = 0.612 ns).
  state.counters["time_per_insn"] = benchmark::Counter(
      static_cast<double>(runnable->executed),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// JIT compile time per instruction: compiling (and releasing) the program's code.
void compile_program(benchmark::State& state, const Runnable* runnable) {
  for (auto _ : state) {
    auto compiled = jit_compile(runnable->program, host_executable_memory(), allocator);
    if (!compiled.ok()) {
      state.SkipWithError(compiled.error().message);
      return;
    }
  }
  state.counters["insns"] = static_cast<double>(runnable->program.insn_count);
  state.counters["time_per_insn"] = benchmark::Counter(
      static_cast<double>(runnable->program.insn_count),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

}  // namespace

int main(int argc, char** argv) {
  MapAttributes attributes;
  attributes.type = MapType::kArray;
  attributes.key_size = 4;
  attributes.value_size = 8;
  attributes.max_entries = EREF_MAP_ENTRIES;
  anchor_map = create_map(attributes, allocator, 1).value();
  for (uint32_t k = 0; k < EREF_MAP_ENTRIES; ++k) {
    uint64_t value = EREF_MAP_VALUE(k);
    anchor_map->update(&k, &value, kUpdateAny);
  }

  eref_prog progs[EREF_N_PROGS];
  eref_fill_progs(progs);
  static std::vector<AnchorProgram> anchors;
  anchors.reserve(EREF_N_PROGS);
  for (const eref_prog& p : progs) anchors.push_back(load(p));
  static std::vector<Runnable> interpreted;
  for (const AnchorProgram& anchor : anchors) interpreted.push_back(runnable(anchor));
  for (size_t i = 0; i < interpreted.size(); ++i) {
    benchmark::RegisterBenchmark((std::string("interpreter/") + progs[i].name).c_str(), run_program,
                                 &interpreted[i]);
  }
  // The same programs through the JIT: a copy of each Program with the JIT's runner installed.
  static std::vector<JitProgram> code(anchors.size());
  static std::vector<Runnable> jitted(interpreted);
  for (size_t i = 0; i < jitted.size(); ++i) {
    auto compiled = jit_compile(interpreted[i].program, host_executable_memory(), allocator);
    if (!compiled.ok()) {
      std::fprintf(stderr, "note: the JIT refuses %s: %s\n", progs[i].name,
                   compiled.error().message);
      continue;
    }
    code[i] = static_cast<JitProgram&&>(compiled.value());
    code[i].install(jitted[i].program);
    benchmark::RegisterBenchmark((std::string("jit/") + progs[i].name).c_str(), run_program,
                                 &jitted[i]);
  }
  for (size_t i = 0; i < interpreted.size(); ++i) {
    benchmark::RegisterBenchmark((std::string("jit_compile/") + progs[i].name).c_str(),
                                 compile_program, &interpreted[i]);
  }

  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  destroy_map(anchor_map, allocator);
  return 0;
}
