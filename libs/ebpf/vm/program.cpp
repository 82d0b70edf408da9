// SPDX-License-Identifier: MIT
// Load-time rewriting of LD_IMM64 pseudo sources into the plain loads the engines execute.
#include "ebpf/program.hpp"

#include "ebpf/map.hpp"
#include "rt/errno.hpp"

namespace ebpf {
namespace {

void set_imm64(Insn* pair, uint64_t value) {
  pair[0].src = kPseudoImm64;
  pair[0].imm = static_cast<int32_t>(static_cast<uint32_t>(value));
  pair[1].imm = static_cast<int32_t>(static_cast<uint32_t>(value >> 32));
}

}  // namespace

rt::Result<void> resolve_fd_array(Insn* insns, uint32_t count, const int32_t* fd_array,
                                  uint32_t fd_array_count) {
  for (uint32_t pc = 0; pc < count; ++pc) {
    if (insns[pc].opcode != kOpLdImm64) continue;
    if (pc + 1 >= count) return rt::err(rt::kEINVAL);
    Insn& insn = insns[pc];
    if (insn.src == kPseudoMapIdx || insn.src == kPseudoMapIdxValue) {
      if (fd_array == nullptr) return rt::err(rt::kEPROTO);
      uint32_t index = static_cast<uint32_t>(insn.imm);
      if (index >= fd_array_count) return rt::err(rt::kEFAULT);
      insn.src = insn.src == kPseudoMapIdx ? kPseudoMapFd : kPseudoMapValue;
      insn.imm = fd_array[index];
    }
    ++pc;  // the second slot of the pair
  }
  return {};
}

rt::Result<void> prepare_for_execution(Insn* insns, uint32_t count, const LoadResolver& resolver) {
  for (uint32_t pc = 0; pc < count; ++pc) {
    if (insns[pc].opcode != kOpLdImm64) continue;
    if (pc + 1 >= count) return rt::err(rt::kEINVAL);
    Insn* pair = &insns[pc];
    switch (pair[0].src) {
      case kPseudoImm64: break;
      case kPseudoMapFd:
      case kPseudoMapValue: {
        Map* map = resolver.map_by_fd ? resolver.map_by_fd(resolver.state, pair[0].imm) : nullptr;
        if (map == nullptr) return rt::err(rt::kEBADF);
        uint64_t value = reinterpret_cast<uint64_t>(map);
        if (pair[0].src == kPseudoMapValue) {
          uint32_t offset = static_cast<uint32_t>(pair[1].imm);
          if (offset >= map->attributes().value_size) return rt::err(rt::kEINVAL);
          uint8_t* address = map->direct_value(offset);
          if (address == nullptr) return rt::err(rt::kEINVAL);
          value = reinterpret_cast<uint64_t>(address);
        }
        set_imm64(pair, value);
        break;
      }
      case kPseudoFunc: {
        // Linux's form is relative to the next instruction, like a bpf-to-bpf call.
        int64_t target = static_cast<int64_t>(pc) + 1 + pair[0].imm;
        if (target < 0 || target >= static_cast<int64_t>(count) || pair[1].imm != 0)
          return rt::err(rt::kEINVAL);
        set_imm64(pair, static_cast<uint64_t>(target));
        break;
      }
      case kPseudoBtfId: {
        uint64_t address = resolver.btf_variable
                               ? resolver.btf_variable(resolver.state, pair[0].imm, pair[1].imm)
                               : 0;
        if (address == 0) return rt::err(rt::kENOENT);
        set_imm64(pair, address);
        break;
      }
      default:  // MAP_IDX forms must go through resolve_fd_array first
        return rt::err(rt::kEINVAL);
    }
    ++pc;
  }
  return {};
}

}  // namespace ebpf
