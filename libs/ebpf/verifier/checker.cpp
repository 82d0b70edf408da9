// SPDX-License-Identifier: MIT
// The simulation loop: one abstract state at a time, branches pushed and popped depth-first.
#include "verifier/checker.hpp"

#include <stdarg.h>

#include "ebpf/helper_ids.hpp"
#include "ebpf/insn_format.hpp"
#include "rt/errno.hpp"

namespace ebpf::verifier {
namespace {

// Linux's bpf_alu_string: how its messages name an ALU operation.
const char* alu_string(uint8_t op) {
  static const char* const kNames[16] = {"+=",  "-=", "*=", "/=", "|=",   "&=",     "<<=", ">>=",
                                         "neg", "%=", "^=", "=",  "s>>=", "endian", "?",   "?"};
  return kNames[op >> 4];
}

}  // namespace

Checker::~Checker() {
  if (allocator_ == nullptr) return;
  for (uint32_t pc = 0; checkpoints_ != nullptr && pc < count_; ++pc) {
    for (Checkpoint* c = checkpoints_[pc]; c != nullptr;) {
      Checkpoint* next = c->next_at_pc;
      allocator_->deallocate(c, offsetof(Checkpoint, state) + c->state.bytes);
      c = next;
    }
  }
  for (uint32_t i = 0; i < pending_count_; ++i) free_packed(pending_[i].state);
  if (pending_ != nullptr)
    allocator_->deallocate(pending_, pending_capacity_ * sizeof(PendingBranch));
  if (checkpoints_ != nullptr) allocator_->deallocate(checkpoints_, count_ * sizeof(Checkpoint*));
  if (checkpoint_counts_ != nullptr)
    allocator_->deallocate(checkpoint_counts_, count_ * sizeof(uint16_t));
  if (live_ != nullptr) allocator_->deallocate(live_, count_ * sizeof(uint16_t));
  if (load_kinds_ != nullptr) allocator_->deallocate(load_kinds_, count_);
  for (Checkpoint* c = retired_; c != nullptr;) {
    Checkpoint* next = c->next_at_pc;
    allocator_->deallocate(c, offsetof(Checkpoint, state) + c->state.bytes);
    c = next;
  }
  if (current_ != nullptr) allocator_->deallocate(current_, sizeof(State));
  if (scratch_ != nullptr) allocator_->deallocate(scratch_, sizeof(State));
}

PackedState* Checker::pack(const State& state) {
  size_t bytes = packed_size(state);
  auto* packed = static_cast<PackedState*>(allocator_->allocate(bytes, alignof(PackedState)));
  if (packed == nullptr) return nullptr;
  pack_state(state, packed);
  return packed;
}

void Checker::free_packed(PackedState* state) { allocator_->deallocate(state, state->bytes); }

State& Checker::branch_copy() {
  __builtin_memcpy(scratch_, current_, current_->used_size());
  return *scratch_;
}

bool Checker::reject(const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  log_.vprint(format, arguments);
  va_end(arguments);
  log_.print("\n");
  if (error_ == 0) error_ = -rt::kEACCES;
  return false;
}

bool Checker::read_ok(int regno) {
  if (current_->current().regs[regno].type == RegType::kNotInit)
    return reject("R%d !read_ok", regno);
  return true;
}

void Checker::print_reg(const RegState& r) {
  switch (r.type) {
    case RegType::kScalar:
      if (r.var_off.is_constant()) {
        log_.print("%ld", static_cast<int64_t>(r.var_off.value));
      } else {
        log_.print("scalar(");
        const char* sep = "";
        if (r.smin != INT64_MIN) {
          log_.print("%ssmin=%ld", sep, r.smin);
          sep = ",";
        }
        if (r.smax != INT64_MAX) {
          log_.print("%ssmax=%ld", sep, r.smax);
          sep = ",";
        }
        if (r.umin != 0) {
          log_.print("%sumin=%lu", sep, r.umin);
          sep = ",";
        }
        if (r.umax != UINT64_MAX) {
          log_.print("%sumax=%lu", sep, r.umax);
          sep = ",";
        }
        if (r.var_off.mask != ~uint64_t{0})
          log_.print("%svar_off=(0x%lx; 0x%lx)", sep, r.var_off.value, r.var_off.mask);
        // The low half, when it says more than the 64-bit bounds (as Linux prints it).
        if (r.umax > UINT32_MAX || (r.umin >> 32) != (r.umax >> 32)) {
          if (r.s32min != INT32_MIN) {
            log_.print("%ss32_min=%d", sep, r.s32min);
            sep = ",";
          }
          if (r.s32max != INT32_MAX) {
            log_.print("%ss32_max=%d", sep, r.s32max);
            sep = ",";
          }
          if (r.u32min != 0) {
            log_.print("%su32_min=%u", sep, r.u32min);
            sep = ",";
          }
          if (r.u32max != UINT32_MAX) {
            log_.print("%su32_max=%u", sep, r.u32max);
            sep = ",";
          }
        }
        log_.print(")");
      }
      return;
    case RegType::kStack:
      log_.print("fp%d", r.off);
      if (!r.var_off.is_constant())
        log_.print("(smin=%ld,smax=%ld,var_off=(0x%lx; 0x%lx))", r.smin, r.smax, r.var_off.value,
                   r.var_off.mask);
      return;
    case RegType::kCtx: log_.print("ctx(off=%d)", r.off); return;
    case RegType::kMapValue:
    case RegType::kMapValueOrNull:
      log_.print("%s(", reg_type_name(r.type));
      if (r.type == RegType::kMapValueOrNull) log_.print("id=%u,", r.id);
      log_.print("off=%d,ks=%u,vs=%u", r.off, r.map->attributes().key_size,
                 r.map->attributes().value_size);
      if (!r.var_off.is_constant() || r.var_off.value != 0) log_.print(",umax=%lu", r.umax);
      log_.print(")");
      return;
    case RegType::kMapPointer:
      log_.print("map_ptr(ks=%u,vs=%u)", r.map->attributes().key_size,
                 r.map->attributes().value_size);
      return;
    case RegType::kMapKey:
      log_.print("map_key(off=%d,ks=%u)", r.off, r.map->attributes().key_size);
      return;
    case RegType::kFunc: log_.print("func(pc=%u)", r.func); return;
    case RegType::kBtfPointer: {
      const char* name =
          options_.kernel_types != nullptr ? options_.kernel_types->type_name(r.btf_id) : "";
      log_.print("ptr_%s(off=%d)", name, r.off);
      return;
    }
    case RegType::kRingbufMem:
    case RegType::kRingbufMemOrNull:
      log_.print("%s(", reg_type_name(r.type));
      if (r.type == RegType::kRingbufMemOrNull) log_.print("id=%u,", r.id);
      log_.print("ref_obj_id=%u,off=%d,mem_size=%u)", r.ref, r.off, r.mem_size);
      return;
    case RegType::kNotInit: log_.print("?"); return;
  }
}

void Checker::print_state(uint32_t pc) {
  FrameState& f = current_->current();
  log_.print("%u:", pc);
  if (current_->depth > 0) log_.print(" frame%u:", current_->depth);
  for (int i = 0; i < kNumRegisters; ++i) {
    if (f.regs[i].type == RegType::kNotInit) continue;
    log_.print(" R%d=", i);
    print_reg(f.regs[i]);
  }
  for (int s = 0; s < kSlots; ++s) {
    const StackSlot& slot = f.stack[s];
    bool any = false;
    for (uint8_t b : slot.bytes) any = any || b != kSlotInvalid;
    if (!any) continue;
    log_.print(" fp%d=", -(s + 1) * 8);
    if (slot.bytes[0] == kSlotSpill) {
      print_reg(slot.spill);
    } else {
      for (int b = 7; b >= 0; --b) log_.print("%c", "?mzr"[slot.bytes[b]]);
    }
  }
  log_.print("\n");
}

void Checker::print_insn(uint32_t pc) {
  char text[160];
  format_insn(text, sizeof(text), insns_[pc], pc + 1 < count_ ? &insns_[pc + 1] : nullptr);
  log_.print("%u: (%02x) %s\n", pc, insns_[pc].opcode, text);
}

bool Checker::next_branch(uint32_t& pc) {
  finish_path();
  if (pending_count_ == 0) return false;
  PendingBranch next = pending_[--pending_count_];
  unpack_state(*next.state, *current_);
  free_packed(next.state);
  parent_ = next.parent;
  pc = next.pc;
  if (log_.enabled(kLogLevel2)) log_.print("from branch to %u:\n", pc);
  return true;
}

int Checker::run(VerifierResult& result) {
  allocator_ = options_.allocator;
  current_ = static_cast<State*>(allocator_->allocate(sizeof(State), alignof(State)));
  scratch_ = static_cast<State*>(allocator_->allocate(sizeof(State), alignof(State)));
  checkpoints_ = static_cast<Checkpoint**>(
      allocator_->allocate(count_ * sizeof(Checkpoint*), alignof(Checkpoint*)));
  checkpoint_counts_ =
      static_cast<uint16_t*>(allocator_->allocate(count_ * sizeof(uint16_t), alignof(uint16_t)));
  live_ =
      static_cast<uint16_t*>(allocator_->allocate(count_ * sizeof(uint16_t), alignof(uint16_t)));
  load_kinds_ = static_cast<uint8_t*>(allocator_->allocate(count_, 1));
  // The checkpoint lists first: the destructor walks them whatever else failed.
  for (uint32_t i = 0; checkpoints_ != nullptr && i < count_; ++i) checkpoints_[i] = nullptr;
  if (current_ == nullptr || scratch_ == nullptr || checkpoints_ == nullptr ||
      checkpoint_counts_ == nullptr || live_ == nullptr || load_kinds_ == nullptr) {
    return -rt::kENOMEM;
  }
  for (uint32_t i = 0; i < count_; ++i) load_kinds_[i] = 0;
  compute_liveness(insns_, count_, structure_, live_);
  for (uint32_t i = 0; i < count_; ++i) checkpoint_counts_[i] = 0;

  // Entry: r1 is the context, r10 the frame pointer; everything else is uninitialised.
  __builtin_memset(current_, 0, sizeof(State));  // all-zero is the empty state (no big temporary)
  FrameState& entry = current_->frames[0];
  entry.regs[1].type = RegType::kCtx;
  entry.regs[kFramePointer].type = RegType::kStack;
  entry.regs[kFramePointer].frame = 0;
  if (options_.assumptions != nullptr && !apply_assumptions(*options_.assumptions, entry)) {
    log_.print("entry assumptions are contradictory\n");
    return -rt::kEINVAL;
  }

  uint32_t pc = 0;
  for (;;) {
    if (++processed_ > options_.instruction_limit) {
      log_.print("BPF program is too large. Processed %u insn\n", processed_);
      error_ = -rt::kE2BIG;
      break;
    }
    if (structure_.flags[pc] & kFlagPrunePoint) {
      bool prune = false;
      if (int e = visit_prune_point(pc, prune)) {
        error_ = e;
        break;
      }
      if (prune) {
        if (log_.enabled(kLogLevel2)) log_.print("%u: safe\n", pc);
        if (!next_branch(pc)) break;
        continue;
      }
    }
    if (log_.enabled(kLogLevel2)) print_state(pc);
    if (log_.enabled(kLogLevel1 | kLogLevel2)) print_insn(pc);
    if (options_.insn_facts != nullptr) options_.insn_facts[pc] |= kFactSeen;
    Step s = step(pc);
    if (s == Step::kError) break;
    if (s == Step::kPathDone && !next_branch(pc)) break;
  }

  result.instructions_processed = processed_;
  result.states_stored = states_stored_;
  result.peak_states = peak_states_;
  result.max_states_per_insn = max_states_per_insn_;
  if (error_ == 0) {
    // Combined stack of the deepest call chain, seen through the frames' recorded depths.
    uint32_t deepest = 0;
    for (uint32_t i = 0; i < structure_.subprog_count; ++i)
      deepest = deepest > subprog_stack_[i] ? deepest : subprog_stack_[i];
    result.max_stack_depth = deepest;
  }
  return error_;
}

Checker::Step Checker::step(uint32_t& pc) {
  const Insn& insn = insns_[pc];
  FrameState& f = current_->current();
  switch (insn_class(insn.opcode)) {
    case kClassAlu:
    case kClassAlu64: {
      Step s = alu(insn);
      if (s == Step::kNext) ++pc;
      return s;
    }
    case kClassJmp:
    case kClassJmp32: ++jumps_; return jump(insn, pc);
    case kClassLd: {
      Step s = load_imm64(insn);
      if (s == Step::kNext) pc += 2;
      return s;
    }
    case kClassLdx: {
      if (!read_ok(insn.src)) return Step::kError;
      RegState loaded;
      int size = size_bytes(op_size(insn.opcode));
      if (!check_memory(insn.src, insn.offset, size, false, -1, &loaded)) return Step::kError;
      // A load through a BTF-typed pointer runs as BPF_PROBE_MEM; one instruction cannot be
      // both kinds (the engine has one form of it).
      uint8_t kind = f.regs[insn.src].type == RegType::kBtfPointer ? kLoadProbe : kLoadPlain;
      if (load_kinds_[pc] != 0 && load_kinds_[pc] != kind) {
        reject("same insn cannot be used with different pointers");
        return Step::kError;
      }
      load_kinds_[pc] = kind;
      if (kind == kLoadProbe) mark_edge(pc, kFactProbeLoad);
      if (op_mode(insn.opcode) == kModeMemsx && loaded.type == RegType::kScalar &&
          !loaded.is_constant()) {
        mark_unknown(loaded);
        uint64_t half = uint64_t{1} << (size * 8 - 1);
        loaded.smin = -static_cast<int64_t>(half);
        loaded.smax = static_cast<int64_t>(half - 1);
        sync_bounds(loaded);
      } else if (op_mode(insn.opcode) == kModeMemsx && loaded.is_constant()) {
        uint64_t v = loaded.var_off.value;
        int shift = 64 - size * 8;
        mark_constant(loaded, static_cast<uint64_t>(static_cast<int64_t>(v << shift) >> shift));
      }
      f.regs[insn.dst] = loaded;
      ++pc;
      return Step::kNext;
    }
    case kClassSt: {
      if (!read_ok(insn.dst)) return Step::kError;
      RegState value;
      mark_constant(value, static_cast<uint64_t>(static_cast<int64_t>(insn.imm)));
      // A constant store goes through a scratch register slot so the stack sees its value.
      RegState saved = f.regs[0];
      bool uses_r0 = insn.dst == 0;
      if (!uses_r0) f.regs[0] = value;
      bool ok = check_memory(insn.dst, insn.offset, size_bytes(op_size(insn.opcode)), true,
                             uses_r0 ? -2 : 0, nullptr);
      if (!uses_r0) f.regs[0] = saved;
      if (!ok) return Step::kError;
      ++pc;
      return Step::kNext;
    }
    case kClassStx: {
      if (!read_ok(insn.dst) || !read_ok(insn.src)) return Step::kError;
      int size = size_bytes(op_size(insn.opcode));
      if (op_mode(insn.opcode) == kModeAtomic) {
        RegType base = f.regs[insn.dst].type;
        if (base != RegType::kStack && base != RegType::kMapValue) {
          reject("BPF_ATOMIC stores into R%d %s is not allowed", insn.dst, reg_type_name(base));
          return Step::kError;
        }
        if (f.regs[insn.src].is_pointer()) {
          reject("R%d leaks addr into mem", insn.src);
          return Step::kError;
        }
        if (insn.imm == kAtomicCmpxchg && !read_ok(0)) return Step::kError;
        RegState loaded;
        if (!check_memory(insn.dst, insn.offset, size, false, -1, &loaded)) return Step::kError;
        if (!check_memory(insn.dst, insn.offset, size, true, -2, nullptr)) return Step::kError;
        if (insn.imm == kAtomicCmpxchg) {
          mark_unknown_sized(f.regs[0], size);
        } else if (insn.imm & kAtomicFetch) {
          mark_unknown_sized(f.regs[insn.src], size);
        }
        ++pc;
        return Step::kNext;
      }
      if (!check_memory(insn.dst, insn.offset, size, true, insn.src, nullptr)) return Step::kError;
      ++pc;
      return Step::kNext;
    }
  }
  reject("unknown opcode %02x", insn.opcode);
  return Step::kError;
}

Checker::Step Checker::load_imm64(const Insn& insn) {
  RegState& dst = current_->current().regs[insn.dst];
  const Insn& next = insns_[&insn - insns_ + 1];
  uint64_t value = static_cast<uint32_t>(insn.imm) |
                   (static_cast<uint64_t>(static_cast<uint32_t>(next.imm)) << 32);
  if (insn.src == kPseudoImm64) {
    mark_constant(dst, value);
  } else if (insn.src == kPseudoMapFd || insn.src == kPseudoMapValue) {
    const Map* map = nullptr;
    if (options_.resolve_map != nullptr) {
      if (insn.src == kPseudoMapFd && next.imm != 0) {
        reject("invalid bpf_ld_imm64 insn");
        error_ = -rt::kEINVAL;
        return Step::kError;
      }
      map = options_.resolve_map(options_.resolve_state, insn.imm);
      if (map == nullptr) {
        log_.print("fd %d is not pointing to valid bpf_map\n", insn.imm);
        error_ = -rt::kEBADF;
        return Step::kError;
      }
    } else if (insn.src == kPseudoMapFd) {
      map = reinterpret_cast<const Map*>(value);
      if (map == nullptr) {
        reject("map reference was not resolved");
        error_ = -rt::kEINVAL;
        return Step::kError;
      }
    } else {
      reject("BPF_PSEUDO_MAP_VALUE needs a map resolver");
      error_ = -rt::kEINVAL;
      return Step::kError;
    }
    dst = RegState{};
    dst.map = map;
    if (insn.src == kPseudoMapFd) {
      dst.type = RegType::kMapPointer;
    } else {
      uint32_t offset = static_cast<uint32_t>(next.imm);
      if (const_cast<Map*>(map)->direct_value(0) == nullptr) {
        reject("no direct value access support for this map type");
        error_ = -rt::kEINVAL;
        return Step::kError;
      }
      if (offset >= map->attributes().value_size) {
        reject("invalid access to map value pointer, value_size=%u off=%u",
               map->attributes().value_size, offset);
        error_ = -rt::kEINVAL;
        return Step::kError;
      }
      dst.type = RegType::kMapValue;
      dst.off = static_cast<int32_t>(offset);
    }
  } else if (insn.src == kPseudoFunc) {
    dst = RegState{};
    dst.type = RegType::kFunc;
    dst.func = static_cast<uint32_t>(static_cast<int64_t>(&insn - insns_) + insn.imm + 1);
  } else {
    reject("unsupported ld_imm64 source %d", insn.src);
    return Step::kError;
  }
  return Step::kNext;
}

// Linux's sanitize_check_bounds: without bypass_spec_v1 the result of pointer arithmetic
// must itself be in bounds, so that later accesses can be masked.
bool Checker::pointer_in_bounds_for_unprivileged(const RegState& ptr, int regno) {
  if (ptr.type == RegType::kStack) {
    if (!ptr.var_off.is_constant()) {
      // Linux prints the fixed offset plus the known bits of the variable one.
      return reject(
          "R%d variable stack access prohibited for !root, var_off=(0x%lx; 0x%lx) off=%ld", regno,
          ptr.var_off.value, ptr.var_off.mask, ptr.off + static_cast<int64_t>(ptr.var_off.value));
    }
    int64_t off = ptr.off + static_cast<int64_t>(ptr.var_off.value);
    if (off >= 0 || off < -kStackSize) {
      return reject("R%d stack pointer arithmetic goes out of range, prohibited for !root; off=%ld",
                    regno, off);
    }
  } else if (ptr.type == RegType::kMapValue) {
    // As check_map_access of one byte: off + smin >= 0 and off + umax < value_size.
    int64_t value_size = ptr.map->attributes().value_size;
    bool inside = ptr.umax < (uint64_t{1} << 29) && ptr.off + ptr.smin >= 0 &&
                  ptr.off + static_cast<int64_t>(ptr.umax) < value_size;
    if (!inside) {
      return reject("R%d pointer arithmetic of map value goes out of range, prohibited for !root",
                    regno);
    }
  }
  return true;
}

Checker::Step Checker::alu(const Insn& insn) {
  FrameState& f = current_->current();
  bool is32 = insn_class(insn.opcode) == kClassAlu;
  uint8_t op = op_code(insn.opcode);
  bool x =
      op_source(insn.opcode) == kSrcX && op != kAluEnd;  // for END the bit picks the byte order
  RegState& dst = f.regs[insn.dst];

  if (op == kAluMov) {
    if (x) {
      if (!read_ok(insn.src)) return Step::kError;
      const RegState& src = f.regs[insn.src];
      // Without allow_ptr_leaks a pointer may be copied only whole (Linux's check_alu_op).
      if (src.is_pointer() && !options_.privileges.allow_ptr_leaks && (is32 || insn.offset != 0)) {
        reject(is32 ? "R%d partial copy of pointer" : "R%d sign-extension part of pointer",
               insn.src);
        return Step::kError;
      }
      if (insn.offset != 0) {  // MOVSX
        if (src.type != RegType::kScalar) {
          mark_unknown(dst);
        } else if (src.is_constant()) {
          int shift = 64 - insn.offset;
          uint64_t v =
              static_cast<uint64_t>(static_cast<int64_t>(src.var_off.value << shift) >> shift);
          mark_constant(dst, is32 ? static_cast<uint32_t>(v) : v);
        } else {
          mark_unknown(dst);
          if (is32) {
            dst.umax = UINT32_MAX;
            sync_bounds(dst);
          }
        }
      } else if (!is32) {
        // A copy of an unknown scalar shares its id, so a bound learned on either applies
        // to both (Linux's find_equal_scalars).
        RegState& shared = f.regs[insn.src];
        if (shared.type == RegType::kScalar && !shared.var_off.is_constant() &&
            insn.src != insn.dst && shared.id == 0) {
          shared.id = new_id();
        }
        dst = shared;
      } else if (src.type == RegType::kScalar) {
        RegState copy = src;
        RegState zero;
        mark_constant(zero, 0);
        scalar_alu(copy, zero, kAluOr, 0, true);  // the low 32 bits, zero-extended
        dst = copy;
      } else {
        mark_unknown(dst);  // a partial copy of a pointer is just a number
        dst.umax = UINT32_MAX;
        sync_bounds(dst);
      }
    } else {
      mark_constant(dst, is32 ? static_cast<uint32_t>(insn.imm)
                              : static_cast<uint64_t>(static_cast<int64_t>(insn.imm)));
    }
    return Step::kNext;
  }

  if (!read_ok(insn.dst)) return Step::kError;
  RegState src;
  if (x) {
    if (!read_ok(insn.src)) return Step::kError;
    src = f.regs[insn.src];
  } else {
    mark_constant(src, is32 ? static_cast<uint32_t>(insn.imm)
                            : static_cast<uint64_t>(static_cast<int64_t>(insn.imm)));
  }

  if (op == kAluEnd || op == kAluNeg) {
    if (dst.is_pointer())
      return reject("R%d pointer arithmetic prohibited", insn.dst) ? Step::kNext : Step::kError;
    if (op == kAluNeg) {
      scalar_alu(dst, src, kAluNeg, 0, is32);
    } else if (dst.is_constant()) {
      uint64_t v = dst.var_off.value;
      bool swap = insn_class(insn.opcode) == kClassAlu64 || op_source(insn.opcode) == kEndToBe;
      if (insn.imm == 16)
        v = swap ? __builtin_bswap16(static_cast<uint16_t>(v)) : static_cast<uint16_t>(v);
      else if (insn.imm == 32)
        v = swap ? __builtin_bswap32(static_cast<uint32_t>(v)) : static_cast<uint32_t>(v);
      else
        v = swap ? __builtin_bswap64(v) : v;
      mark_constant(dst, v);
    } else {
      mark_unknown(dst);
      if (insn.imm < 64) {
        dst.umax = (uint64_t{1} << insn.imm) - 1;
        sync_bounds(dst);
      }
    }
    return Step::kNext;
  }

  // Pointer arithmetic.
  if (dst.is_pointer() || src.is_pointer()) {
    const char* name = dst.is_pointer() ? reg_type_name(dst.type) : reg_type_name(src.type);
    int ptr_reg = dst.is_pointer() ? insn.dst : insn.src;
    if (is32)
      return reject("R%d 32-bit pointer arithmetic prohibited", ptr_reg) ? Step::kNext
                                                                         : Step::kError;
    if (dst.is_pointer() && src.is_pointer()) {
      // The distance between two pointers reveals an address: only with allow_ptr_leaks.
      if (op == kAluSub && options_.privileges.allow_ptr_leaks && dst.type == src.type &&
          dst.type != RegType::kMapValueOrNull && dst.type != RegType::kRingbufMemOrNull) {
        mark_unknown(dst);  // distance between two pointers of one kind
        return Step::kNext;
      }
      reject("R%d pointer %s pointer prohibited", insn.dst, alu_string(op));
      return Step::kError;
    }
    if (op != kAluAdd && op != kAluSub) {
      if (op == kAluAnd || op == kAluOr || op == kAluXor) {
        reject("R%d bitwise operator %s on pointer prohibited", ptr_reg, alu_string(op));
      } else {
        reject("R%d pointer arithmetic with %s operator prohibited", ptr_reg, alu_string(op));
      }
      return Step::kError;
    }
    if (!dst.is_pointer() && op == kAluSub)
      return reject("R%d tried to subtract pointer from scalar", insn.dst) ? Step::kNext
                                                                           : Step::kError;
    RegState ptr = dst.is_pointer() ? dst : src;
    const RegState scalar = dst.is_pointer() ? src : dst;
    // Without bypass_spec_v1, Linux's sanitize_ptr_alu: a register offset whose sign is
    // unknown cannot be masked against speculative out-of-bounds use.
    // GAP: its other refusals (offsets that differ between paths, REASON_PATHS) need
    // per-instruction records across paths that Sonde does not keep.
    if (!options_.privileges.bypass_spec_v1 && x && !scalar.var_off.is_constant() &&
        (scalar.smin < 0) != (scalar.smax < 0)) {
      reject(
          "R%d has unknown scalar with mixed signed bounds, "
          "pointer arithmetic with it prohibited for !root",
          dst.is_pointer() ? insn.src : insn.dst);
      return Step::kError;
    }
    if (ptr.type == RegType::kMapValueOrNull || ptr.type == RegType::kRingbufMemOrNull) {
      reject("R%d pointer arithmetic on %s prohibited, null-check it first", ptr_reg, name);
      return Step::kError;
    }
    if (ptr.type != RegType::kCtx && ptr.type != RegType::kStack &&
        ptr.type != RegType::kMapValue && ptr.type != RegType::kRingbufMem &&
        ptr.type != RegType::kMapKey && ptr.type != RegType::kBtfPointer) {
      reject("R%d pointer arithmetic on %s prohibited", ptr_reg, name);
      return Step::kError;
    }
    constexpr int64_t kMaxOffset = 1 << 29;
    if (scalar.is_constant()) {
      int64_t delta = static_cast<int64_t>(scalar.var_off.value);
      int64_t off = op == kAluAdd ? ptr.off + delta : ptr.off - delta;
      if (off >= kMaxOffset || off <= -kMaxOffset) {
        reject("value %ld makes %s pointer be out of bounds", delta, name);
        return Step::kError;
      }
      ptr.off = static_cast<int32_t>(off);
    } else {
      // Variable offset: accumulate it in the pointer's own bounds.
      if (scalar.smin <= -kMaxOffset || scalar.smax >= kMaxOffset) {
        // Linux keeps going and fails at the access; keep the bounds honest.
      }
      RegState offset = ptr;
      offset.type = RegType::kScalar;
      if (op == kAluAdd)
        scalar_alu(offset, scalar, kAluAdd, 0, false);
      else
        scalar_alu(offset, scalar, kAluSub, 0, false);
      ptr.var_off = offset.var_off;
      ptr.smin = offset.smin;
      ptr.smax = offset.smax;
      ptr.umin = offset.umin;
      ptr.umax = offset.umax;
      ptr.u32min = offset.u32min;
      ptr.u32max = offset.u32max;
      ptr.s32min = offset.s32min;
      ptr.s32max = offset.s32max;
    }
    if (!options_.privileges.bypass_spec_v1 && !pointer_in_bounds_for_unprivileged(ptr, insn.dst)) {
      return Step::kError;
    }
    dst = ptr;
    return Step::kNext;
  }

  scalar_alu(dst, src, op, insn.offset, is32);
  return Step::kNext;
}

}  // namespace ebpf::verifier
