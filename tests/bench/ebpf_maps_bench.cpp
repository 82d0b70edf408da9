// SPDX-License-Identifier: MIT
// Map benchmarks: ns per lookup and update for array, hash, LRU and per-CPU maps, called
// directly on the Map interface and through the helper table as an engine calls them.
#include <benchmark/benchmark.h>

#include <cstring>

#include "ebpf/environment.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/map_budget.hpp"
#include "ebpf/maps.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

// Just enough host for per-CPU maps: the current CPU is fixed.
class BenchEnvironment final : public Environment {
 public:
  uint32_t current_cpu() override { return 1; }
  uint32_t possible_cpus() override { return 4; }
  uint64_t monotonic_ns() override { return 0; }
  uint64_t boot_ns() override { return 0; }
  uint32_t random_u32() override { return 4; }
  uint64_t current_pid_tgid() override { return 0; }
  uint64_t current_uid_gid() override { return 0; }
  long current_comm(char*, uint32_t) override { return 0; }
  long read_user(void*, uint64_t, uint32_t) override { return -14; }
  long read_kernel(void*, uint64_t, uint32_t) override { return -14; }
  uint64_t current_function_ip() override { return 0; }
  long capture_stack(bool, uint32_t, uint64_t*, uint32_t) override { return 0; }
  long trace_output(const char*, uint32_t) override { return 0; }
};

test_support::MallocAllocator heap;
BenchEnvironment environment;
constexpr uint32_t kEntries = 1024;  // hash keys present; array size

// A map of `type` with kEntries u32 keys (0..kEntries-1) holding 8-byte values.
struct BenchMap {
  MapMemoryBudget budget{heap, size_t{64} << 20};
  Map* map;
  explicit BenchMap(MapType type, uint32_t max_entries = kEntries) {
    MapAttributes a;
    a.type = type;
    a.key_size = 4;
    a.value_size = 8;
    a.max_entries = max_entries;
    map = create_map(a, budget, environment).value();
    for (uint32_t k = 0; k < kEntries && k < max_entries; ++k) {
      uint64_t v = k;
      map->update(&k, &v, kUpdateAny);
    }
  }
  ~BenchMap() { destroy_map(map, budget); }
};

// Keys visit the map in a scattered order, so lookups are not all the same cache line.
inline uint32_t key_at(uint32_t i) { return (i * 2654435761u) % kEntries; }

void lookup(benchmark::State& state, MapType type) {
  BenchMap m(type);
  uint32_t i = 0;
  for (auto _ : state) {
    uint32_t key = key_at(i++);
    benchmark::DoNotOptimize(m.map->lookup(&key));
  }
}

void lookup_miss(benchmark::State& state, MapType type) {
  BenchMap m(type);
  uint32_t i = 0;
  for (auto _ : state) {
    uint32_t key = kEntries + key_at(i++);
    benchmark::DoNotOptimize(m.map->lookup(&key));
  }
}

void update_existing(benchmark::State& state, MapType type) {
  BenchMap m(type);
  uint32_t i = 0;
  uint64_t value = 7;
  for (auto _ : state) {
    uint32_t key = key_at(i++);
    benchmark::DoNotOptimize(m.map->update(&key, &value, kUpdateAny));
  }
}

// Hash: one new key in, one old key out, so the map stays at kEntries elements.
void insert_delete(benchmark::State& state, MapType type) {
  BenchMap m(type, kEntries + 1);
  uint32_t next = kEntries, oldest = 0;
  uint64_t value = 7;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.map->update(&next, &value, kUpdateNoExist));
    benchmark::DoNotOptimize(m.map->remove(&oldest));
    ++next;
    ++oldest;
  }
}

// LRU at capacity: every update of a new key evicts the least recently used one.
void lru_evicting_update(benchmark::State& state) {
  BenchMap m(MapType::kLruHash);
  uint32_t next = kEntries;
  uint64_t value = 7;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.map->update(&next, &value, kUpdateAny));
    ++next;
  }
}

// bpf_map_lookup_elem as an engine calls it: through the helper table.
void helper_lookup(benchmark::State& state, MapType type) {
  BenchMap m(type);
  static HelperFunction table[kMaxHelperId] = {};
  fill_helper_table(table);
  ExecContext context;
  context.env = &environment;
  HelperFunction lookup_helper = table[kHelperMapLookupElem];
  benchmark::DoNotOptimize(lookup_helper);
  uint32_t i = 0;
  uint64_t map_pointer = reinterpret_cast<uint64_t>(m.map);
  for (auto _ : state) {
    uint32_t key = key_at(i++);
    benchmark::DoNotOptimize(
        lookup_helper(context, map_pointer, reinterpret_cast<uint64_t>(&key), 0, 0, 0));
  }
}

void syscall_lookup_percpu(benchmark::State& state, MapType type) {
  BenchMap m(type);
  uint64_t values[4];
  uint32_t i = 0;
  for (auto _ : state) {
    uint32_t key = key_at(i++);
    benchmark::DoNotOptimize(rt::to_negated_errno(m.map->syscall_lookup(&key, values, 0)));
  }
}

BENCHMARK_CAPTURE(lookup, array, MapType::kArray);
BENCHMARK_CAPTURE(update_existing, array, MapType::kArray);
BENCHMARK_CAPTURE(lookup, percpu_array, MapType::kPercpuArray);
BENCHMARK_CAPTURE(lookup, hash, MapType::kHash);
BENCHMARK_CAPTURE(lookup_miss, hash, MapType::kHash);
BENCHMARK_CAPTURE(update_existing, hash, MapType::kHash);
BENCHMARK_CAPTURE(insert_delete, hash, MapType::kHash);
BENCHMARK_CAPTURE(lookup, percpu_hash, MapType::kPercpuHash);
BENCHMARK_CAPTURE(lookup, lru_hash, MapType::kLruHash);
BENCHMARK_CAPTURE(update_existing, lru_hash, MapType::kLruHash);
BENCHMARK(lru_evicting_update);
BENCHMARK_CAPTURE(helper_lookup, array, MapType::kArray);
BENCHMARK_CAPTURE(helper_lookup, hash, MapType::kHash);
BENCHMARK_CAPTURE(syscall_lookup_percpu, percpu_hash_4cpus, MapType::kPercpuHash);

}  // namespace

BENCHMARK_MAIN();
