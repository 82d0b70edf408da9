// SPDX-License-Identifier: MIT
// libFuzzer target: random programs through the verifier; whatever it accepts runs in the
// unchecked interpreter under AddressSanitizer. An accepted program must never crash or
// touch memory it does not own.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "ebpf/environment.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/verifier.hpp"
#include "support/ebpf_fixture.hpp"
#include "support/fixed_environment.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

test_support::MallocAllocator allocator;
test_support::FixedEnvironment environment;
constexpr int kMaps = 5;
// By fd: array, hash, ring buffer, queue, and a one-element array (global variables,
// reachable through BPF_PSEUDO_MAP_VALUE).
Map* maps[kMaps] = {};

const Map* resolve(void*, int32_t fd) { return fd >= 0 && fd < kMaps ? maps[fd] : nullptr; }
Map* resolve_for_relocation(void*, int32_t fd) {
  return fd >= 0 && fd < kMaps ? maps[fd] : nullptr;
}

void setup() {
  if (maps[0] != nullptr) return;
  maps[0] = test_support::create_test_map(allocator, MapType::kArray, 4, 16, 4);
  maps[1] = test_support::create_test_map(allocator, MapType::kHash, 4, 16, 4);
  maps[2] = test_support::create_test_map(allocator, MapType::kRingbuf, 0, 0, 4096);
  maps[3] = test_support::create_test_map(allocator, MapType::kQueue, 0, 8, 4);
  maps[4] = test_support::create_test_map(allocator, MapType::kArray, 4, 24, 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  setup();
  size_t count = size / sizeof(Insn);
  if (count == 0 || count > 256) return 0;
  std::vector<Insn> insns(count);
  std::memcpy(insns.data(), data, count * sizeof(Insn));
  // Map references in Linux's form, as a loader passes them: fds (any fd names one of the
  // test maps) for BPF_PSEUDO_MAP_FD and BPF_PSEUDO_MAP_VALUE, resolved by the verifier and
  // rewritten into addresses after it accepts the program.
  for (size_t i = 0; i + 1 < count; ++i) {
    if (insns[i].opcode == kOpLdImm64 &&
        (insns[i].src == kPseudoMapFd || insns[i].src == kPseudoMapValue)) {
      insns[i].imm = static_cast<int32_t>(static_cast<uint32_t>(insns[i].imm) % kMaps);
    }
  }
  test_support::LoadOptions options;
  options.verifier.type = ProgramType::kKprobe;
  options.verifier.allocator = &allocator;
  options.verifier.instruction_limit = 100000;
  options.verifier.resolve_map = resolve;
  // Whatever the verifier accepted must load: map references and callbacks rewritten into
  // what the engines execute, as the trace server does.
  options.resolver.map_by_fd = resolve_for_relocation;
  options.helpers = test_support::real_helpers();
  test_support::LoadedProgram loaded = test_support::load_program(std::move(insns), options);
  if (!loaded.verified()) return 0;
  if (!loaded.prepared) std::abort();

  // Accepted: run it on a pt_regs-sized context, exactly as a probe would.
  auto* context = static_cast<uint8_t*>(std::malloc(kPtRegsSize));
  std::memset(context, 0x5a, kPtRegsSize);
  run(loaded.program, context, &environment);
  std::free(context);
  return 0;
}
