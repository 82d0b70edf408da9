// SPDX-License-Identifier: MIT
// libFuzzer target: random programs through the verifier; whatever it accepts runs in the
// interpreter and in the JIT (lookups specialised on the verifier's maps; constants blinded for
// inputs of odd length) on the same maps and context, and r0, the context and every map's
// contents must match.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ebpf/environment.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/jit.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/verifier.hpp"
#include "support/fixed_environment.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

test_support::MallocAllocator allocator;
test_support::FixedEnvironment environment;
HelperFunction helpers[kMaxHelperId] = {};
// By fd: array, hash, queue, and a one-element array (global variables). No ring buffer:
// its consumer position cannot be put back between the two runs.
constexpr int kMaps = 4;
Map* maps[kMaps] = {};

const Map* resolve(void*, int32_t fd) { return fd >= 0 && fd < kMaps ? maps[fd] : nullptr; }
Map* resolve_for_relocation(void*, int32_t fd) {
  return fd >= 0 && fd < kMaps ? maps[fd] : nullptr;
}

void setup() {
  if (maps[0] != nullptr) return;
  fill_helper_table(helpers);
  MapAttributes a;
  a.type = MapType::kArray;
  a.key_size = 4;
  a.value_size = 16;
  a.max_entries = 4;
  maps[0] = create_map(a, allocator, 1).value();
  a.type = MapType::kHash;
  maps[1] = create_map(a, allocator, 1).value();
  MapAttributes q;
  q.type = MapType::kQueue;
  q.value_size = 8;
  q.max_entries = 4;
  maps[2] = create_map(q, allocator, 1).value();
  MapAttributes g;
  g.type = MapType::kArray;
  g.key_size = 4;
  g.value_size = 24;
  g.max_entries = 1;
  maps[3] = create_map(g, allocator, 1).value();
}

void append(std::vector<uint64_t>& words, const void* bytes, size_t size) {
  for (size_t at = 0; at < size; at += 8) {
    uint64_t word = 0;
    std::memcpy(&word, static_cast<const uint8_t*>(bytes) + at, size - at < 8 ? size - at : 8);
    words.push_back(word);
  }
}

// Everything a run can change, as 8-byte words, and the state put back as it started: the
// arrays zeroed, the hash map and queue emptied, the context refilled.
std::vector<uint64_t> capture_and_reset(uint64_t r0, uint8_t* context) {
  std::vector<uint64_t> words{r0};
  append(words, context, kPtRegsSize);
  std::memset(context, 0x5a, kPtRegsSize);
  for (int fd : {0, 3}) {
    for (uint32_t key = 0; key < maps[fd]->attributes().max_entries; ++key) {
      void* value = maps[fd]->lookup(&key);
      append(words, value, maps[fd]->attributes().value_size);
      std::memset(value, 0, maps[fd]->attributes().value_size);
    }
  }
  uint32_t key = 0;
  uint8_t value[16];
  while (maps[1]->get_next_key(nullptr, &key).ok()) {
    append(words, &key, sizeof(key));
    if (maps[1]->syscall_lookup(&key, value, 0).ok()) append(words, value, sizeof(value));
    maps[1]->remove(&key);
  }
  uint64_t element = 0;
  while (maps[2]->pop(&element) == 0) words.push_back(element);
  return words;
}

// Each engine has its own stack, so a word derived from r10 (a stack address, even one moved
// far off by pointer arithmetic the verifier allows) differs between them by exactly the
// distance between their frames. That distance is measured with a program returning r10, run
// through the same calls as the fuzzed one: two words that differ by it count as equal.
__attribute__((noinline)) uint64_t interpret(const Program& program, void* context) {
  return run(program, context, &environment);
}
__attribute__((noinline)) uint64_t run_compiled(const Program& program, void* context) {
  return execute(program, context, &environment);
}

struct FrameProbe {
  Insn insns[2] = {{0xbf, 0, 10, 0, 0}, {0x95, 0, 0, 0, 0}};  // r0 = r10; exit
  Program interpreted;
  Program compiled;
  bool ready = false;
};
FrameProbe frame_probe;

void prepare_frame_probe() {
  FrameProbe& p = frame_probe;
  VerifierOptions options;
  options.type = ProgramType::kKprobe;
  options.allocator = &allocator;
  VerifierResult result = verify(p.insns, 2, options);
  if (result.error != 0) std::abort();
  p.interpreted.insns = p.insns;
  p.interpreted.insn_count = 2;
  p.interpreted.type = ProgramType::kKprobe;
  p.interpreted.helpers = helpers;
  p.interpreted.helper_count = kMaxHelperId;
  p.interpreted.verified = true;
  p.interpreted.max_stack_depth = result.max_stack_depth;
  static auto compiled = jit_compile(p.interpreted, host_executable_memory(), allocator, {});
  if (!compiled.ok()) std::abort();
  p.compiled = p.interpreted;
  compiled->install(p.compiled);
  p.ready = true;
}

// Two words are the same run's when equal, when they differ by the frame distance, or when
// only a slice of 1, 2 or 4 bytes differs and by that distance truncated to the slice: a
// stack address stored in part (a privileged program may spill the low half of r10 + 2 into a
// stack slot and read the slot back as one number).
bool same(uint64_t a, uint64_t b, uint64_t frame_distance) {
  if (a == b) return true;
  if (frame_distance == 0) return false;
  if (a - b == frame_distance) return true;
  for (unsigned width : {1u, 2u, 4u}) {
    const uint64_t mask = (uint64_t{1} << (8 * width)) - 1;
    for (unsigned at = 0; at + width <= 8; ++at) {
      const uint64_t slice = mask << (8 * at);
      if ((a & ~slice) != (b & ~slice)) continue;
      const uint64_t difference = ((a >> (8 * at)) - (b >> (8 * at))) & mask;
      if (difference == (frame_distance & mask)) return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  setup();
  size_t count = size / sizeof(Insn);
  if (count == 0 || count > 256) return 0;
  std::vector<Insn> insns(count);
  std::memcpy(insns.data(), data, count * sizeof(Insn));
  for (size_t i = 0; i + 1 < count; ++i) {
    if (insns[i].opcode == kOpLdImm64 &&
        (insns[i].src == kPseudoMapFd || insns[i].src == kPseudoMapValue)) {
      insns[i].imm = static_cast<int32_t>(static_cast<uint32_t>(insns[i].imm) % kMaps);
    }
  }
  VerifierOptions options;
  options.type = ProgramType::kKprobe;
  options.allocator = &allocator;
  options.instruction_limit = 100000;
  options.resolve_map = resolve;
  std::vector<CallSiteMap> call_maps(count);  // so the JIT specialises map lookups
  options.call_maps = call_maps.data();
  VerifierResult result = verify(insns.data(), static_cast<uint32_t>(count), options);
  if (result.error != 0) return 0;
  LoadResolver resolver;
  resolver.map_by_fd = resolve_for_relocation;
  if (!prepare_for_execution(insns.data(), static_cast<uint32_t>(count), resolver).ok())
    std::abort();

  Program program;
  program.insns = insns.data();
  program.insn_count = static_cast<uint32_t>(count);
  program.type = ProgramType::kKprobe;
  program.helpers = helpers;
  program.helper_count = kMaxHelperId;
  program.verified = true;
  program.max_stack_depth = result.max_stack_depth;
  program.call_maps = call_maps.data();
  JitOptions jit_options;  // inputs of odd length also blind constants
  jit_options.blind_constants = count % 2 == 1;
  jit_options.random_source = &environment;
  auto compiled = jit_compile(program, host_executable_memory(), allocator, jit_options);
  if (!compiled.ok()) {
    std::fprintf(stderr, "the JIT refused a verified program: %s\n", compiled.error().message);
    std::abort();
  }
  static const bool verbose =
      std::getenv("SONDE_FUZZ_VERBOSE") != nullptr;  // count accepted inputs
  if (verbose) std::fprintf(stderr, "accepted: %zu instructions\n", count);
  Program jitted = program;
  compiled->install(jitted);

  auto* context = static_cast<uint8_t*>(std::malloc(kPtRegsSize));
  if (!frame_probe.ready) prepare_frame_probe();
  uint64_t frame_distance =
      interpret(frame_probe.interpreted, context) - run_compiled(frame_probe.compiled, context);
  std::vector<uint64_t> start = capture_and_reset(0, context);  // a clean state
  std::vector<uint64_t> interpreted = capture_and_reset(interpret(program, context), context);
  std::vector<uint64_t> compiled_run = capture_and_reset(run_compiled(jitted, context), context);
  std::free(context);
  if (interpreted.size() != compiled_run.size()) std::abort();
  for (size_t i = 0; i < interpreted.size(); ++i) {
    if (!same(interpreted[i], compiled_run[i], frame_distance)) {
      std::fprintf(stderr, "engines disagree at word %zu (0 is r0): interpreter %#llx, JIT %#llx\n",
                   i, static_cast<unsigned long long>(interpreted[i]),
                   static_cast<unsigned long long>(compiled_run[i]));
      std::abort();
    }
  }
  return 0;
}
