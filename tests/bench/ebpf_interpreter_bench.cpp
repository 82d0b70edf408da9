// Interpreter and JIT speed on the shared anchor programs (../shared/bench/bench_progs.h),
// loaded unchanged through the normal load path. Reports ns per run and ns per instruction.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_progs.h"
#include "bench_support.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/jit.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/program.hpp"
#include "ebpf/verifier.hpp"

namespace {

using namespace ebpf;

bench::BenchEnvironment environment;
bench::MallocAllocator allocator;
HelperFunction helpers[kMaxHelperId] = {};
Map* anchor_map = nullptr;  // the `map` program's array, as fd 0

struct Loaded {
  std::vector<Insn> insns;
  Program program;
  uint64_t executed;
  bool checkable;
  uint64_t expected;
  bool verified;
};

Map* map_by_fd(void*, int32_t fd) { return fd == 0 ? anchor_map : nullptr; }
const Map* const_map_by_fd(void*, int32_t fd) { return map_by_fd(nullptr, fd); }

// The trace server's load path: verify Linux's form (the map LD_IMM64 keeps src =
// BPF_PSEUDO_MAP_FD, imm = fd 0, exactly as the header ships it), then rewrite for execution.
Loaded load(const eref_prog& p) {
  Loaded loaded{};
  static_assert(sizeof(eref_insn) == sizeof(Insn));
  loaded.insns.resize(p.n_slots);
  std::memcpy(loaded.insns.data(), p.insns, p.n_slots * sizeof(Insn));
  uint32_t count = static_cast<uint32_t>(loaded.insns.size());

  VerifierOptions options;
  options.type = ProgramType::kKprobe;
  options.allocator = &allocator;
  options.resolve_map = const_map_by_fd;
  VerifierResult verdict = verify(loaded.insns.data(), count, options);
  loaded.verified = verdict.error == 0;
  if (!loaded.verified) std::fprintf(stderr, "note: the verifier rejects %s (%d)\n", p.name, verdict.error);

  if (!prepare_for_execution(loaded.insns.data(), count, LoadResolver{map_by_fd, nullptr, nullptr}).ok()) {
    std::fprintf(stderr, "cannot prepare %s\n", p.name);
    std::exit(1);
  }
  loaded.program.insns = loaded.insns.data();
  loaded.program.insn_count = count;
  loaded.program.type = ProgramType::kKprobe;
  loaded.program.helpers = helpers;
  loaded.program.helper_count = kMaxHelperId;
  loaded.program.verified = loaded.verified;
  loaded.program.max_stack_depth = verdict.max_stack_depth;
  loaded.executed = p.executed;
  loaded.checkable = p.checkable != 0;
  loaded.expected = p.expected;
  return loaded;
}

void run_program(benchmark::State& state, const Loaded* loaded) {
  uint64_t result = execute(loaded->program, nullptr, &environment);
  if (loaded->checkable && result != loaded->expected) {
    state.SkipWithError("wrong result: the engine disagrees with bench_progs.h");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(execute(loaded->program, nullptr, &environment));
  }
  state.counters["insns_per_run"] = static_cast<double>(loaded->executed);
  state.counters["verified"] = loaded->verified ? 1 : 0;
  // Time per executed instruction (shown with its unit, e.g. 612ps = 0.612 ns).
  state.counters["time_per_insn"] = benchmark::Counter(
      static_cast<double>(loaded->executed), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// JIT compile time per instruction: compiling (and releasing) the program's code.
void compile_program(benchmark::State& state, const Loaded* loaded) {
  for (auto _ : state) {
    auto compiled = jit_compile(loaded->program, host_executable_memory(), allocator);
    if (!compiled.ok()) {
      state.SkipWithError(compiled.error().message);
      return;
    }
  }
  state.counters["insns"] = static_cast<double>(loaded->program.insn_count);
  state.counters["time_per_insn"] =
      benchmark::Counter(static_cast<double>(loaded->program.insn_count),
                         benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

}  // namespace

int main(int argc, char** argv) {
  fill_helper_table(helpers);
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
  static std::vector<Loaded> programs;
  programs.reserve(EREF_N_PROGS);
  for (const eref_prog& p : progs) programs.push_back(load(p));
  for (size_t i = 0; i < programs.size(); ++i) {
    benchmark::RegisterBenchmark((std::string("interpreter/") + progs[i].name).c_str(), run_program, &programs[i]);
  }
  // The same programs through the JIT: a copy of each Program with the JIT's runner installed.
  static std::vector<JitProgram> code(programs.size());
  static std::vector<Loaded> jitted(programs);
  for (size_t i = 0; i < programs.size(); ++i) {
    jitted[i].program = programs[i].program;
    auto compiled = jit_compile(programs[i].program, host_executable_memory(), allocator);
    if (!compiled.ok()) {
      std::fprintf(stderr, "note: the JIT refuses %s: %s\n", progs[i].name, compiled.error().message);
      continue;
    }
    code[i] = static_cast<JitProgram&&>(compiled.value());
    code[i].install(jitted[i].program);
    benchmark::RegisterBenchmark((std::string("jit/") + progs[i].name).c_str(), run_program, &jitted[i]);
  }
  for (size_t i = 0; i < programs.size(); ++i) {
    benchmark::RegisterBenchmark((std::string("jit_compile/") + progs[i].name).c_str(), compile_program,
                                 &programs[i]);
  }

  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  destroy_map(anchor_map, allocator);
  return 0;
}
