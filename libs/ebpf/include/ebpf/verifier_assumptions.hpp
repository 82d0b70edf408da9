// SPDX-License-Identifier: MIT
// Verifier entry assumptions and per-instruction facts: hooks for analysis tools and tests.
//
// Linux starts every program with r1 = ctx, r10 = the frame pointer and nothing else
// initialised. Test oracles written for other verifiers (PREVAIL's YAML cases) start from
// a stated abstract state instead; `EntryAssumptions` lets them say it in the verifier's own
// terms. The trace server never sets it.
#pragma once

#include <stdint.h>

#include "ebpf/isa.hpp"
#include "ebpf/map.hpp"

namespace ebpf {

enum class AssumedType : uint8_t {
  kNotInit,
  kScalar,
  kCtx,             // offset: fixed offset into the context
  kStack,           // offset: fixed offset from the frame pointer (e.g. -8)
  kMapPointer,      // map: the map (CONST_PTR_TO_MAP)
  kMapValue,        // map, offset: a pointer into one of the map's values
  kMapValueOrNull,  // as kMapValue, or NULL (a lookup result not yet checked)
};

struct AssumedRegister {
  AssumedType type = AssumedType::kNotInit;
  int32_t offset = 0;
  const Map* map = nullptr;
  // Scalars: the value's bounds. Pointers with `variable_offset`: bounds of a variable
  // offset added to `offset`. Inconsistent bounds make the entry state empty, which the
  // verifier reports as EINVAL.
  bool variable_offset = false;
  int64_t smin = INT64_MIN, smax = INT64_MAX;
  uint64_t umin = 0, umax = UINT64_MAX;
};

// Stack bytes of the entry frame, indexed by 512 + offset from the frame pointer.
enum class AssumedStackByte : uint8_t { kInvalid, kScalar, kZero };

struct EntryAssumptions {
  AssumedRegister regs[kNumRegisters];
  AssumedStackByte stack[kStackSize] = {};
};

// Facts per instruction, filled (when VerifierOptions::insn_facts is set) for every
// instruction the simulation reached, whether or not the program was accepted.
enum InsnFact : uint8_t {
  kFactSeen = 1 << 0,               // reached on some path (Linux's insn_aux_data.seen)
  kFactTailCall = 1 << 1,           // a call of bpf_tail_call
  kFactHelperCall = 1 << 2,         // a helper call (not bpf-to-bpf)
  kFactSubprogStart = 1 << 3,       // first instruction of a subprogram or callback
  kFactPrunePoint = 1 << 4,         // a jump target or call return, where states are compared
  kFactBranchTaken = 1 << 5,        // a conditional jump was taken on some path
  kFactBranchFallthrough = 1 << 6,  // a conditional jump fell through on some path
  // A load through a BTF-typed kernel pointer (Linux's PTR_TO_BTF_ID): the engine must run it
  // as BPF_PROBE_MEM (kModeProbeMem), a read that gives 0 where the memory is not readable.
  kFactProbeLoad = 1 << 7,
};

}  // namespace ebpf
