// Interpreter speed on the shared anchor programs (../shared/bench/bench_progs.h, loaded
// unchanged), plus array-map operation costs. Reports ns per run and per instruction.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "bench_progs.h"
#include "ebpf/environment.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/verifier.hpp"

namespace {

using namespace ebpf;

class BenchEnvironment final : public Environment {
 public:
  uint32_t current_cpu() override { return 0; }
  uint32_t possible_cpus() override { return 1; }
  uint64_t monotonic_ns() override {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
  }
  uint64_t boot_ns() override { return monotonic_ns(); }
  uint32_t random_u32() override {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }
  uint64_t current_pid_tgid() override { return 0; }
  uint64_t current_uid_gid() override { return 0; }
  long current_comm(char*, uint32_t) override { return -22; }
  long read_user(void*, uint64_t, uint32_t) override { return -14; }
  long read_kernel(void*, uint64_t, uint32_t) override { return -14; }
  long trace_output(const char*, uint32_t) override { return 0; }
  uint64_t current_function_ip() override { return 0; }
  long capture_stack(bool, uint32_t, uint64_t*, uint32_t) override { return 0; }

 private:
  uint32_t state_ = 2463534242u;
};

class MallocAllocator final : public rt::Allocator {
 public:
  void* allocate(size_t size, size_t alignment) override {
    return std::aligned_alloc(alignment < 8 ? 8 : alignment, (size + 7) & ~size_t{7});
  }
  void deallocate(void* pointer, size_t) override { std::free(pointer); }
};

BenchEnvironment environment;
MallocAllocator allocator;
HelperFunction helpers[kMaxHelperId] = {};
Map* bench_map = nullptr;

struct Loaded {
  std::vector<Insn> insns;
  Program program;
  uint64_t executed;
  bool checkable;
  uint64_t expected;
};

Loaded load(const eref_prog& p) {
  Loaded loaded;
  loaded.insns.resize(p.n_slots);
  static_assert(sizeof(eref_insn) == sizeof(Insn));
  std::memcpy(loaded.insns.data(), p.insns, p.n_slots * sizeof(Insn));
  if (p.map_ld_slot >= 0) {
    // What the loader does for BPF_PSEUDO_MAP_FD: the map pointer goes into the immediates.
    uint64_t pointer = reinterpret_cast<uint64_t>(bench_map);
    Insn& first = loaded.insns[p.map_ld_slot];
    first.src = 0;
    first.imm = static_cast<int32_t>(static_cast<uint32_t>(pointer));
    loaded.insns[p.map_ld_slot + 1].imm = static_cast<int32_t>(static_cast<uint32_t>(pointer >> 32));
  }
  loaded.program.insns = loaded.insns.data();
  loaded.program.insn_count = static_cast<uint32_t>(loaded.insns.size());
  loaded.program.helpers = helpers;
  loaded.program.helper_count = kMaxHelperId;
  loaded.executed = p.executed;
  loaded.checkable = p.checkable != 0;
  loaded.expected = p.expected;
  return loaded;
}

void run_program(benchmark::State& state, const Loaded* loaded) {
  uint64_t result = run(loaded->program, nullptr, &environment);
  if (loaded->checkable && result != loaded->expected) {
    state.SkipWithError("wrong result: the interpreter disagrees with bench_progs.h");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(run(loaded->program, nullptr, &environment));
  }
  state.counters["insns_per_run"] = static_cast<double>(loaded->executed);
  // Time per executed instruction (shown with its unit, e.g. 612ps = 0.612 ns).
  state.counters["time_per_insn"] = benchmark::Counter(
      static_cast<double>(loaded->executed),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void array_lookup(benchmark::State& state) {
  uint32_t key = 3;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bench_map->lookup(&key));
    key = (key + 1) & 15;
  }
}

void array_update(benchmark::State& state) {
  uint32_t key = 3;
  uint64_t value = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bench_map->update(&key, &value, kUpdateAny));
    key = (key + 1) & 15;
    ++value;
  }
}

Map* bench_hash = nullptr;

void hash_lookup(benchmark::State& state) {
  uint32_t key = 3;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bench_hash->lookup(&key));
    key = (key + 1) & 1023;
  }
}

void hash_update(benchmark::State& state) {
  uint32_t key = 3;
  uint64_t value = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bench_hash->update(&key, &value, kUpdateAny));
    key = (key + 1) & 1023;
    ++value;
  }
}

// Verification time of a large program: `n` instructions of arithmetic, stack traffic and
// branches (a branch every 16 instructions, so states are stored and pruned).
std::vector<Insn> large_program(uint32_t n) {
  std::vector<Insn> insns;
  auto add = [&](uint8_t opcode, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    Insn i{};
    i.opcode = opcode;
    i.dst = dst;
    i.src = src;
    i.offset = off;
    i.imm = imm;
    insns.push_back(i);
  };
  add(0xb7, 0, 0, 0, 0);          // r0 = 0
  add(0xb7, 2, 0, 0, 1);          // r2 = 1
  add(0x7b, 10, 2, -8, 0);        // *(u64 *)(r10 - 8) = r2
  while (insns.size() + 2 < n) {
    uint32_t k = static_cast<uint32_t>(insns.size());
    if (k % 16 == 0) {
      add(0x25, 0, 0, 1, 1000);   // if r0 > 1000 goto +1
      add(0x07, 0, 0, 0, 1);      // r0 += 1
    } else if (k % 5 == 0) {
      add(0x79, 3, 10, -8, 0);    // r3 = *(u64 *)(r10 - 8)
    } else {
      add(0x0f, 0, 2, 0, 0);      // r0 += r2
    }
  }
  add(0x95, 0, 0, 0, 0);
  return insns;
}

void verify_large(benchmark::State& state) {
  std::vector<Insn> insns = large_program(static_cast<uint32_t>(state.range(0)));
  VerifierOptions options;
  options.allocator = &allocator;
  uint32_t processed = 0;
  for (auto _ : state) {
    VerifierResult result = verify(insns.data(), static_cast<uint32_t>(insns.size()), options);
    if (result.error != 0) {
      state.SkipWithError("the benchmark program was rejected");
      return;
    }
    processed = result.instructions_processed;
  }
  state.counters["insns"] = static_cast<double>(insns.size());
  state.counters["processed"] = processed;
}

std::vector<Loaded>& programs() {
  static std::vector<Loaded> all;
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  fill_helper_table(helpers);
  MapAttributes attributes;
  attributes.type = MapType::kArray;
  attributes.key_size = 4;
  attributes.value_size = 8;
  attributes.max_entries = EREF_MAP_ENTRIES;
  bench_map = create_map(attributes, allocator, 1).value();
  for (uint32_t k = 0; k < EREF_MAP_ENTRIES; ++k) {
    uint64_t value = EREF_MAP_VALUE(k);
    bench_map->update(&k, &value, kUpdateAny);
  }

  eref_prog progs[EREF_N_PROGS];
  eref_fill_progs(progs);
  programs().reserve(EREF_N_PROGS);
  for (const eref_prog& p : progs) programs().push_back(load(p));
  for (size_t i = 0; i < programs().size(); ++i) {
    benchmark::RegisterBenchmark((std::string("interpreter/") + progs[i].name).c_str(), run_program,
                                 &programs()[i]);
  }
  benchmark::RegisterBenchmark("map/array_lookup", array_lookup);
  benchmark::RegisterBenchmark("map/array_update", array_update);
  MapAttributes hash_attributes;
  hash_attributes.type = MapType::kHash;
  hash_attributes.key_size = 4;
  hash_attributes.value_size = 8;
  hash_attributes.max_entries = 1024;
  bench_hash = create_map(hash_attributes, allocator, 1).value();
  for (uint32_t k = 0; k < 1024; ++k) {
    uint64_t value = k;
    bench_hash->update(&k, &value, kUpdateAny);
  }
  benchmark::RegisterBenchmark("verifier/large_program", verify_large)->Arg(4096)->Arg(65536)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("map/hash_lookup", hash_lookup);
  benchmark::RegisterBenchmark("map/hash_update", hash_update);

  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  destroy_map(bench_map, allocator);
  destroy_map(bench_hash, allocator);
  return 0;
}
