// SPDX-License-Identifier: MIT
// Interpreter and JIT speed on the shared anchor programs (../shared/bench/bench_progs.h),
// loaded unchanged through the normal load path, next to Linux's JIT on the same bytecode in
// the same run (BPF_PROG_TEST_RUN), and the JIT's compile time. Reports ns per run and ns per
// instruction, then one table with every engine per program.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
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
#include "linux_test_run.hpp"
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

// Executable memory that is a reused host buffer, never made executable: compiling into it
// times the JIT's own work per instruction (three passes, the image) without the mmap,
// mprotect and munmap of real code memory, which dominate short programs.
class ScratchCodeMemory final : public ExecutableMemory {
 public:
  rt::Result<ExecutableRegion> allocate(size_t size, const void*) override {
    if (size > sizeof(buffer_)) return rt::err(rt::kENOMEM, "bench: program too large");
    return ExecutableRegion{buffer_, buffer_, size, nullptr};
  }
  rt::Result<void> seal(ExecutableRegion&) override { return {}; }
  void release(ExecutableRegion&) override {}

 private:
  alignas(64) uint8_t buffer_[1 << 20];
};

// Code generation only (ScratchCodeMemory), per instruction of the program.
void generate_code(benchmark::State& state, const Runnable* runnable) {
  static ScratchCodeMemory memory;
  for (auto _ : state) {
    auto compiled = jit_compile(runnable->program, memory, allocator);
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

// A long straight-line program for compile time per instruction (the anchor programs are 2-21
// instructions, too short for a per-instruction figure): ALU with immediates and registers,
// stack stores and loads, a conditional jump and a helper call every 16 instructions.
std::vector<Insn> long_program(uint32_t count) {
  std::vector<Insn> insns;
  insns.push_back(Insn{0xb7, 0, 0, 0, 0});  // mov r0, 0
  insns.push_back(Insn{0xb7, 6, 0, 0, 1});  // mov r6, 1
  while (insns.size() + 1 < count) {
    int32_t i = static_cast<int32_t>(insns.size());
    switch (i % 16) {
      case 0: insns.push_back(Insn{0x85, 0, 0, 0, 7}); break;    // call 7
      case 1: insns.push_back(Insn{0x0f, 6, 0, 0, 0}); break;    // add r6, r0
      case 2: insns.push_back(Insn{0x7b, 10, 6, -8, 0}); break;  // stxdw [r10-8], r6
      case 3: insns.push_back(Insn{0x79, 7, 10, -8, 0}); break;  // ldxdw r7, [r10-8]
      case 4: insns.push_back(Insn{0x15, 7, 0, 1, i}); break;    // jeq r7, i, +1
      case 5: insns.push_back(Insn{0x27, 7, 0, 0, 3}); break;    // mul r7, 3
      case 6: insns.push_back(Insn{0xaf, 6, 7, 0, 0}); break;    // xor r6, r7
      case 7: insns.push_back(Insn{0x77, 6, 0, 0, 3}); break;    // rsh r6, 3
      default: insns.push_back(Insn{0x07, 6, 0, 0, i}); break;   // add r6, i
    }
  }
  insns.push_back(Insn{0x95, 0, 0, 0, 0});  // exit
  return insns;
}

// Linux's JIT on the same bytecode: each iteration is `repeat` runs in the kernel, timed by the
// kernel (BPF_PROG_TEST_RUN's mean duration), so the figure has no system-call cost in it.
struct LinuxRunnable {
  bench::LinuxTestRun* linux;
  int fd;
  uint64_t executed;
  bool checkable;
  uint64_t expected;
};

void run_in_linux(benchmark::State& state, const LinuxRunnable* runnable) {
  std::string why;
  uint32_t repeat = static_cast<uint32_t>(2000000 / runnable->executed);
  repeat = repeat < 100 ? 100 : repeat;
  uint32_t mean_ns = 0, retval = 0;
  if (!runnable->linux->run(runnable->fd, 1, mean_ns, retval, why)) {
    state.SkipWithError(why.c_str());
    return;
  }
  if (runnable->checkable && retval != static_cast<uint32_t>(runnable->expected)) {
    state.SkipWithError("wrong result: Linux disagrees with bench_progs.h");
    return;
  }
  for (auto _ : state) {
    if (!runnable->linux->run(runnable->fd, repeat, mean_ns, retval, why)) {
      state.SkipWithError(why.c_str());
      return;
    }
    state.SetIterationTime(static_cast<double>(mean_ns) * repeat * 1e-9);
  }
  state.counters["insns_per_run"] = static_cast<double>(runnable->executed);
  state.counters["time_per_insn"] = benchmark::Counter(
      static_cast<double>(runnable->executed) * repeat,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// Shows each row as usual and keeps every row's time per instruction (and per run) for the
// table printed at the end.
class TableReporter final : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      auto found = run.counters.find("time_per_insn");
      if (found == run.counters.end()) continue;
      std::string name = run.benchmark_name();
      const std::string manual = "/manual_time";
      if (name.size() > manual.size() && name.ends_with(manual))
        name.resize(name.size() - manual.size());
      per_insn_ns[name] = found->second.value * 1e9;
    }
  }
  // ns per instruction of `row` ("jit/arith"), or a negative value when it has none.
  double ns(const std::string& row) const {
    auto found = per_insn_ns.find(row);
    return found == per_insn_ns.end() ? -1 : found->second;
  }
  std::map<std::string, double> per_insn_ns;
};

std::string cell(double value, int precision = 3) {
  if (value < 0) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.*f", precision, value);
  return text;
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
  // Linux's JIT on the same bytecode, in this run, when the host lets us.
  static bench::LinuxTestRun linux;
  static std::vector<LinuxRunnable> in_linux;
  in_linux.reserve(EREF_N_PROGS);
  std::string linux_missing;
  if (linux.open(linux_missing)) {
    for (const eref_prog& p : progs) {
      std::string why;
      int fd = linux.load(p, why);
      if (fd < 0) {
        std::fprintf(stderr, "note: Linux refuses %s: %s\n", p.name, why.c_str());
        continue;
      }
      in_linux.push_back(LinuxRunnable{&linux, fd, p.executed, p.checkable != 0, p.expected});
      benchmark::RegisterBenchmark((std::string("linux_jit/") + p.name).c_str(), run_in_linux,
                                   &in_linux.back())
          ->UseManualTime();
    }
  } else {
    std::fprintf(stderr, "note: no Linux JIT column: %s\n", linux_missing.c_str());
  }
  for (size_t i = 0; i < interpreted.size(); ++i) {
    benchmark::RegisterBenchmark((std::string("jit_compile/") + progs[i].name).c_str(),
                                 compile_program, &interpreted[i]);
    benchmark::RegisterBenchmark((std::string("jit_codegen/") + progs[i].name).c_str(),
                                 generate_code, &interpreted[i]);
  }

  // Compile time on a long program (the anchor programs are too short to divide by).
  static std::vector<Insn> long_insns = long_program(4096);
  static Runnable long_runnable{interpreted[0].program, 0, false, 0, false};
  long_runnable.program.insns = long_insns.data();
  long_runnable.program.insn_count = static_cast<uint32_t>(long_insns.size());
  long_runnable.program.call_maps = nullptr;
  benchmark::RegisterBenchmark("jit_compile/long", compile_program, &long_runnable);
  benchmark::RegisterBenchmark("jit_codegen/long", generate_code, &long_runnable);

  benchmark::Initialize(&argc, argv);
  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  // One table: every engine per program, from the rows above (ns per instruction; compile
  // figures per instruction of the program text, the others per executed instruction).
  std::printf("\n%-11s %10s %8s %9s %9s %9s %9s %11s %11s\n", "program", "insns/run", "interp",
              "jit", "linux_jit", "jit/linux", "jit/interp", "compile", "codegen");
  for (const eref_prog& p : progs) {
    std::string name = p.name;
    double interpreter = reporter.ns("interpreter/" + name);
    double jit = reporter.ns("jit/" + name);
    double linux_jit = reporter.ns("linux_jit/" + name);
    double compile = reporter.ns("jit_compile/" + name);
    double codegen = reporter.ns("jit_codegen/" + name);
    std::printf("%-11s %10llu %8s %9s %9s %9s %9s %11s %11s\n", p.name,
                static_cast<unsigned long long>(p.executed), cell(interpreter).c_str(),
                cell(jit).c_str(), cell(linux_jit).c_str(),
                cell(jit >= 0 && linux_jit > 0 ? jit / linux_jit : -1, 2).c_str(),
                cell(jit >= 0 && interpreter > 0 ? jit / interpreter : -1, 2).c_str(),
                cell(compile, 1).c_str(), cell(codegen, 1).c_str());
  }
  std::printf("%-11s %10zu %8s %9s %9s %9s %9s %11s %11s\n", "long", long_insns.size(), "-", "-",
              "-", "-", "-", cell(reporter.ns("jit_compile/long"), 1).c_str(),
              cell(reporter.ns("jit_codegen/long"), 1).c_str());
  std::printf(
      "ns per executed instruction (CPU time; linux_jit: the kernel's BPF_PROG_TEST_RUN mean)%s;\n"
      "compile: jit_compile with its mmap/mprotect, codegen: into a reused buffer, both per\n"
      "instruction of the program; long: a generated 4096-instruction program, compiled only\n",
      linux_missing.empty() ? "" : (", Linux: " + linux_missing).c_str());
  destroy_map(anchor_map, allocator);
  return 0;
}
