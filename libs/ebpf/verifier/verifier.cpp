// SPDX-License-Identifier: MIT
// verify(): argument checks, structural checks, then the simulation, with Linux's log rules.
#include "ebpf/verifier.hpp"

#include "ebpf/helper_ids.hpp"
#include "ebpf/program.hpp"
#include "rt/errno.hpp"
#include "verifier/budget.hpp"
#include "verifier/checker.hpp"
#include "verifier/log.hpp"
#include "verifier/structure.hpp"

namespace ebpf {
namespace {

// Linux's resolve_pseudo_ldimm64, before the simulation: every map reference names a map and
// every value reference a byte the map serves directly, reached by the simulation or not (the
// engines' load step rewrites them all).
int check_map_references(const Insn* insns, uint32_t count, const VerifierOptions& options,
                         verifier::VerifierLog& log) {
  if (options.resolve_map == nullptr) return 0;
  for (uint32_t pc = 0; pc + 1 < count; ++pc) {
    const Insn& insn = insns[pc];
    if (insn.opcode != kOpLdImm64) continue;
    if (insn.src == kPseudoMapFd || insn.src == kPseudoMapValue) {
      const Map* map = options.resolve_map(options.resolve_state, insn.imm);
      if (map == nullptr) {
        log.print("fd %d is not pointing to valid bpf_map\n", insn.imm);
        return -rt::kEBADF;
      }
      if (insn.src == kPseudoMapValue) {
        uint32_t offset = static_cast<uint32_t>(insns[pc + 1].imm);
        if (const_cast<Map*>(map)->direct_value(0) == nullptr) {
          log.print("no direct value access support for this map type\n");
          return -rt::kEINVAL;
        }
        if (offset >= map->attributes().value_size) {
          log.print("invalid access to map value pointer, value_size=%u off=%u\n",
                    map->attributes().value_size, offset);
          return -rt::kEINVAL;
        }
      }
    }
    ++pc;
  }
  return 0;
}

}  // namespace

VerifierResult verify(const Insn* insns, uint32_t count, const VerifierOptions& options) {
  VerifierResult result;
  // Log arguments are all-or-nothing, as in Linux's bpf_check.
  if (options.log_level != 0 || options.log != nullptr || options.log_size != 0) {
    if (options.log_size < kMinLogSize || options.log_size > (UINT32_MAX >> 2) ||
        options.log_level == 0 || options.log == nullptr ||
        (options.log_level & ~(kLogLevel1 | kLogLevel2 | kLogStats)) != 0) {
      result.error = -rt::kEINVAL;
      return result;
    }
  }
  if (options.allocator == nullptr || insns == nullptr) {
    result.error = -rt::kEINVAL;
    return result;
  }
  if (count == 0) {
    result.error = -rt::kEINVAL;
    return result;
  }
  if (count > (options.privileges.bpf_capable ? kMaxProgramInsns : kMaxUnprivilegedInsns)) {
    result.error = -rt::kE2BIG;
    return result;
  }

  verifier::VerifierLog log(options.log, options.log_size, options.log_level);
  size_t start = log.mark();
  // Everything below allocates through the load's budget.
  verifier::BudgetAllocator budget(*options.allocator, options.memory_budget, log);
  VerifierOptions budgeted = options;
  budgeted.allocator = &budget;
  verifier::Structure structure;
  structure.flags = static_cast<uint8_t*>(budget.allocate(count, 1));
  if (structure.flags == nullptr) {
    result.error = -rt::kENOMEM;
    result.log_true_size = log.true_size();
    return result;
  }
  for (uint32_t i = 0; i < count; ++i) structure.flags[i] = 0;

  int error = verifier::check_structure(insns, count, log, structure);
  if (error == 0) error = check_map_references(insns, count, options, log);
  if (error == 0 && !options.privileges.bpf_capable) {
    error = verifier::check_unprivileged_structure(insns, count, log, budget);
  }
  if (options.insn_facts != nullptr) {
    for (uint32_t i = 0; i < count; ++i) {
      uint8_t facts = 0;
      if (error == 0) {
        if (structure.flags[i] & verifier::kFlagSubprogStart) facts |= kFactSubprogStart;
        if (structure.flags[i] & verifier::kFlagPrunePoint) facts |= kFactPrunePoint;
        if (insns[i].opcode == (kClassJmp | kJmpCall) && insns[i].src == 0) {
          facts |= kFactHelperCall;
          if (insns[i].imm == kHelperTailCall) facts |= kFactTailCall;
        }
      }
      options.insn_facts[i] = facts;
    }
  }
  if (options.call_maps != nullptr) {
    for (uint32_t i = 0; i < count; ++i) options.call_maps[i] = CallSiteMap{};
  }
  if (error == 0) {
    verifier::Checker checker(insns, count, budgeted, log, structure);
    error = checker.run(result);
  }
  budget.deallocate(structure.flags, count);
  result.peak_memory = budget.peak();

  // On success, level 1 keeps only the summary (the instruction trace matters for errors).
  if (error == 0 && log.level() == kLogLevel1) log.truncate(start);
  if (log.level() != 0) {
    log.print(
        "processed %u insns (limit %u) max_states_per_insn %u total_states %u "
        "peak_states %u mark_read 0\n",
        result.instructions_processed, options.instruction_limit, result.max_states_per_insn,
        result.states_stored, result.peak_states);
  }
  result.log_true_size = log.true_size();
  if (error == 0 && log.level() != 0 && log.truncated()) error = -rt::kENOSPC;
  result.error = error;
  return result;
}

rt::Result<void> relocate_maps(Insn* insns, uint32_t count,
                               Map* (*resolve_map)(void* state, int32_t fd), void* resolve_state) {
  LoadResolver resolver;
  resolver.map_by_fd = resolve_map;
  resolver.state = resolve_state;
  return prepare_for_execution(insns, count, resolver);
}

}  // namespace ebpf
