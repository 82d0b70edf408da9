// SPDX-License-Identifier: MIT
// Structural checks before simulation: encodings, jump targets, subprograms, reachability.
#pragma once

#include <stdint.h>

#include "ebpf/isa.hpp"
#include "rt/allocator.hpp"
#include "verifier/log.hpp"

namespace ebpf::verifier {

inline constexpr uint32_t kMaxSubprograms = 256;

enum InsnFlag : uint8_t {
  kFlagPrunePoint = 1 << 0,
  kFlagImm64Tail = 1 << 1,  // second slot of an LD_IMM64
  kFlagSubprogStart = 1 << 2,
  kFlagReached = 1 << 3,
  kFlagCallbackCall = 1 << 4,  // a helper call that runs a callback (bpf_loop, for_each)
};

struct Structure {
  uint8_t* flags = nullptr;  // one per instruction
  uint32_t subprog_starts[kMaxSubprograms + 1];
  uint32_t subprog_count = 0;

  // Index of the subprogram containing `pc`.
  uint32_t subprog_of(uint32_t pc) const;
};

// Fills `structure` (flags must point at `count` zeroed bytes). Returns 0 or -EINVAL with
// the reason logged.
int check_structure(const Insn* insns, uint32_t count, VerifierLog& log, Structure& structure);

// What Linux refuses a loader without CAP_BPF on top (check_cfg, add_subprog_and_kfunc):
// bpf-to-bpf calls and callbacks (EPERM), and loops (EINVAL, "back-edge from insn T to W").
// Needs a structure check_structure() accepted.
int check_unprivileged_structure(const Insn* insns, uint32_t count, VerifierLog& log,
                                 rt::Allocator& allocator);

// Fills `live[pc]` with the registers (bit n: rN) some path from `pc` reads before writing
// (liveness.cpp). Needs a structure check_structure() accepted.
void compute_liveness(const Insn* insns, uint32_t count, const Structure& structure,
                      uint16_t* live);

}  // namespace ebpf::verifier
