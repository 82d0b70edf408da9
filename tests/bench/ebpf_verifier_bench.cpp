// SPDX-License-Identifier: MIT
// Verification time of a large generated program (arithmetic, stack traffic, a branch
// every 16 instructions so states are stored and pruned).
#include <benchmark/benchmark.h>

#include <vector>

#include "ebpf/verifier.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

test_support::MallocAllocator allocator;

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
  add(0xb7, 0, 0, 0, 0);    // r0 = 0
  add(0xb7, 2, 0, 0, 1);    // r2 = 1
  add(0x7b, 10, 2, -8, 0);  // *(u64 *)(r10 - 8) = r2
  while (insns.size() + 2 < n) {
    uint32_t k = static_cast<uint32_t>(insns.size());
    if (k % 16 == 0) {
      add(0x25, 0, 0, 1, 1000);  // if r0 > 1000 goto +1
      add(0x07, 0, 0, 0, 1);     // r0 += 1
    } else if (k % 5 == 0) {
      add(0x79, 3, 10, -8, 0);  // r3 = *(u64 *)(r10 - 8)
    } else {
      add(0x0f, 0, 2, 0, 0);  // r0 += r2
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

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("verifier/large_program", verify_large)
      ->Arg(4096)
      ->Arg(65536)
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
