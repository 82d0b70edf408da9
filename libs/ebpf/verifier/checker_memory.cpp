// SPDX-License-Identifier: MIT
// Memory safety in the simulation: context, stack, map value and helper buffer accesses.
#include "rt/errno.hpp"
#include "verifier/checker.hpp"

namespace ebpf::verifier {
namespace {

constexpr int64_t kMaxAccessOffset = 1 << 29;

// Stack address a (in [-512, -1]) to slot and byte.
int slot_of(int64_t a) { return static_cast<int>((-a - 1) / 8); }
int byte_of(int64_t a) { return static_cast<int>(a + 8 * (slot_of(a) + 1)); }

}  // namespace

bool Checker::check_stack(const RegState& reg, int regno, int32_t insn_off, int size, bool write,
                          int value_regno, RegState* loaded) {
  if (!reg.var_off.is_constant())
    return check_stack_variable(reg, regno, insn_off, size, write, value_regno, loaded);
  int64_t off = reg.off + static_cast<int64_t>(reg.var_off.value) + insn_off;
  if (off < -kStackSize || off + size > 0) {
    return reject("invalid %s stack R%d off=%ld size=%d", write ? "write to" : "read from", regno,
                  off, size);
  }
  FrameState& frame = current_->frames[reg.frame];
  if (-off > frame.stack_depth) frame.stack_depth = static_cast<uint16_t>(-off);

  const VerifierPrivileges& privileges = options_.privileges;
  if (write) {
    const RegState* value = value_regno >= 0 ? &current_->current().regs[value_regno] : nullptr;
    if (!privileges.allow_ptr_leaks) {
      // GAP: Linux refuses a partial spill of a pointer, and a partial overwrite of a spilled
      // one, for every loader; Sonde only without allow_ptr_leaks (where they would leak).
      bool whole = size == 8 && off % 8 == 0;
      if (value != nullptr && value->is_pointer() && !whole) {
        return reject("invalid size of register spill");
      }
      for (int i = 0; i < size && !whole; ++i) {
        const StackSlot& slot = frame.stack[slot_of(off + i)];
        if (slot.bytes[0] == kSlotSpill && slot.spill.is_pointer()) {
          return reject("attempt to corrupt spilled pointer on stack");
        }
      }
    }
    // GAP: without bypass_spec_v4 Linux fences stack spills against speculative store
    // bypass (sanitize_stack_spill); Sonde's engines do not yet, so the switch changes nothing.
    if (size == 8 && off % 8 == 0 && value != nullptr) {
      StackSlot& slot = frame.stack[slot_of(off)];
      for (uint8_t& b : slot.bytes) b = kSlotSpill;
      // The spilled copy and the register stay one value until either changes.
      RegState& source = current_->current().regs[value_regno];
      if (source.type == RegType::kScalar && !source.var_off.is_constant() && source.id == 0)
        source.id = new_id();
      slot.spill = source;
      return true;
    }
    bool zero = value != nullptr && value->is_constant() && value->var_off.value == 0;
    for (int i = 0; i < size; ++i) {
      StackSlot& slot = frame.stack[slot_of(off + i)];
      if (slot.bytes[0] == kSlotSpill) {
        // Overwriting part of a spilled register leaves plain bytes behind.
        for (uint8_t& b : slot.bytes) b = kSlotMisc;
      }
      slot.bytes[byte_of(off + i)] = zero ? kSlotZero : kSlotMisc;
    }
    return true;
  }

  const StackSlot& first = frame.stack[slot_of(off)];
  if (size == 8 && off % 8 == 0 && first.bytes[0] == kSlotSpill) {
    if (loaded) *loaded = first.spill;
    return true;
  }
  bool all_zero = true;
  for (int i = 0; i < size; ++i) {
    const StackSlot& slot = frame.stack[slot_of(off + i)];
    uint8_t b = slot.bytes[byte_of(off + i)];
    if (b == kSlotSpill && slot.spill.is_pointer() && !privileges.allow_ptr_leaks) {
      return reject("invalid size of register fill");  // GAP: Linux refuses this for every loader
    }
    if (b == kSlotInvalid && !privileges.allow_uninit_stack) {
      return reject("invalid read from stack R%d off %ld+%d size %d", regno, off, i, size);
    }
    all_zero = all_zero && b == kSlotZero;
  }
  if (loaded) {
    if (all_zero)
      mark_constant(*loaded, 0);
    else
      mark_unknown_sized(*loaded, size);
  }
  return true;
}

// A stack access at a variable offset (Linux's check_stack_{read,write}_var_off, for
// privileged programs): every byte it may touch must be inside the frame; a read needs every
// one of them initialised; a write turns them into plain data (a zero write keeps zeros) and
// destroys spilled registers there. Unlike Linux, bytes that were never written stay
// uninitialised, because the write may not have reached them.
bool Checker::check_stack_variable(const RegState& reg, int regno, int32_t insn_off, int size,
                                   bool write, int value_regno, RegState* loaded) {
  // Bounds first: an unbounded offset would overflow the sums below.
  bool bounded = reg.smin >= -kStackSize && reg.smax <= kStackSize &&
                 reg.off >= -kMaxAccessOffset && reg.off <= kMaxAccessOffset;
  int64_t min_off = bounded ? reg.off + reg.smin + insn_off : 0;
  int64_t max_off = bounded ? reg.off + reg.smax + insn_off + size : 0;
  if (!bounded || min_off < -kStackSize || max_off > 0) {
    return reject("invalid variable-offset %s stack R%d var_off=(0x%lx; 0x%lx) off=%d size=%d",
                  write ? "write to" : "read from", regno, reg.var_off.value, reg.var_off.mask,
                  insn_off, size);
  }
  FrameState& frame = current_->frames[reg.frame];
  if (-min_off > frame.stack_depth) frame.stack_depth = static_cast<uint16_t>(-min_off);
  if (write) {
    const RegState* value = value_regno >= 0 ? &current_->current().regs[value_regno] : nullptr;
    bool zero = value != nullptr && value->is_constant() && value->var_off.value == 0;
    for (int64_t a = min_off; a < max_off; ++a) {
      StackSlot& slot = frame.stack[slot_of(a)];
      if (slot.bytes[0] == kSlotSpill) {
        for (uint8_t& b : slot.bytes) b = kSlotMisc;
      }
      uint8_t& b = slot.bytes[byte_of(a)];
      if (b == kSlotInvalid) continue;
      b = zero && b == kSlotZero ? kSlotZero : kSlotMisc;
    }
    return true;
  }
  bool all_zero = true;
  for (int64_t a = min_off; a < max_off; ++a) {
    const StackSlot& slot = frame.stack[slot_of(a)];
    uint8_t b = slot.bytes[byte_of(a)];
    bool leaks = b == kSlotSpill && slot.spill.is_pointer() && !options_.privileges.allow_ptr_leaks;
    if ((b == kSlotInvalid && !options_.privileges.allow_uninit_stack) || leaks) {
      return reject(
          "invalid variable-offset read from stack R%d var_off=(0x%lx; 0x%lx) off=%d size=%d",
          regno, reg.var_off.value, reg.var_off.mask, insn_off, size);
    }
    if (b == kSlotSpill && !(slot.spill.is_constant() && slot.spill.var_off.value == 0))
      all_zero = false;
    if (b == kSlotMisc) all_zero = false;
  }
  if (loaded) {
    if (all_zero)
      mark_constant(*loaded, 0);
    else
      mark_unknown_sized(*loaded, size);
  }
  return true;
}

bool Checker::check_memory(int regno, int32_t insn_off, int size, bool write, int value_regno,
                           RegState* loaded) {
  RegState& reg = current_->current().regs[regno];
  // A pointer stored where the program or user space can read it back as a number.
  if (write && value_regno >= 0 && !options_.privileges.allow_ptr_leaks &&
      current_->current().regs[value_regno].is_pointer()) {
    if (reg.type == RegType::kMapValue) return reject("R%d leaks addr into map", value_regno);
    if (reg.type == RegType::kRingbufMem) return reject("R%d leaks addr into mem", value_regno);
    if (reg.type == RegType::kCtx) return reject("R%d leaks addr into ctx", value_regno);
  }
  switch (reg.type) {
    case RegType::kNotInit: return reject("R%d !read_ok", regno);
    case RegType::kScalar:
    case RegType::kMapValueOrNull:
    case RegType::kMapPointer:
    case RegType::kFunc:
    case RegType::kRingbufMemOrNull:
      return reject("R%d invalid mem access '%s'", regno, reg_type_name(reg.type));
    case RegType::kCtx: {
      if (reg.off != 0 || !reg.var_off.is_constant() || reg.var_off.value != 0) {
        return reject("dereference of modified ctx ptr R%d off=%d disallowed", regno, reg.off);
      }
      if (options_.type == ProgramType::kTracing) {
        return check_tracing_context(insn_off, size, write, loaded);
      }
      uint32_t ctx_size = 0;
      switch (options_.type) {
        case ProgramType::kKprobe: ctx_size = kPtRegsSize; break;
        case ProgramType::kPerfEvent: ctx_size = kPtRegsSize + 16; break;
        case ProgramType::kTracepoint: ctx_size = options_.tracepoint_record_size; break;
        case ProgramType::kRawTracepoint: ctx_size = kRawTracepointArgs * 8; break;
        default: ctx_size = 0; break;
      }
      if (write || insn_off < 0 || static_cast<uint32_t>(insn_off) + size > ctx_size ||
          insn_off % size != 0) {
        return reject("invalid bpf_context access off=%d size=%d", insn_off, size);
      }
      if (loaded) mark_unknown_sized(*loaded, size);
      return true;
    }
    case RegType::kStack:
      return check_stack(reg, regno, insn_off, size, write, value_regno, loaded);
    case RegType::kBtfPointer: return check_btf_pointer(reg, regno, insn_off, size, write, loaded);
    case RegType::kMapKey: {
      if (write) return reject("R%d cannot write into map_key", regno);
      // Bounds before sums: an unbounded offset must not overflow into a small one.
      bool bounded = reg.smin >= 0 && reg.umax < static_cast<uint64_t>(kMaxAccessOffset);
      int64_t low = bounded ? reg.off + reg.smin + insn_off : -1;
      int64_t high = bounded ? reg.off + static_cast<int64_t>(reg.umax) + insn_off + size : 0;
      if (!bounded || low < 0 || high > reg.map->attributes().key_size) {
        return reject("invalid access to map key, key_size=%u off=%ld size=%d",
                      reg.map->attributes().key_size, low, size);
      }
      if (loaded) mark_unknown_sized(*loaded, size);
      return true;
    }
    case RegType::kRingbufMem: {
      if (reg.smin < 0) {
        return reject(
            "R%d min value is negative, either use unsigned index or do a if (index >=0) check.",
            regno);
      }
      bool bounded = reg.umax < static_cast<uint64_t>(kMaxAccessOffset);
      int64_t low = bounded ? reg.off + reg.smin + insn_off : -1;
      int64_t high = bounded ? reg.off + static_cast<int64_t>(reg.umax) + insn_off + size : 0;
      if (!bounded || low < 0 || high > reg.mem_size) {
        return reject("invalid access to memory, mem_size=%u off=%ld size=%d", reg.mem_size, low,
                      size);
      }
      if (loaded) mark_unknown_sized(*loaded, size);
      return true;
    }
    case RegType::kMapValue: {
      const MapAttributes& a = reg.map->attributes();
      if (write && (a.map_flags & kMapRdonlyProg)) {
        return reject("write into map forbidden, value_size=%u off=%d size=%d", a.value_size,
                      reg.off + insn_off, size);
      }
      if (reg.smin < 0) {
        return reject(
            "R%d min value is negative, either use unsigned index or do a if (index >=0) check.",
            regno);
      }
      if (reg.umax >= static_cast<uint64_t>(kMaxAccessOffset)) {
        return reject("R%d unbounded memory access, make sure to bounds check any such access",
                      regno);
      }
      int64_t low = reg.off + reg.smin + insn_off;
      int64_t high = reg.off + static_cast<int64_t>(reg.umax) + insn_off + size;
      if (low < 0 || high > a.value_size) {
        int64_t shown =
            reg.var_off.is_constant() ? reg.off + insn_off : (low < 0 ? low : high - size);
        return reject("invalid access to map value, value_size=%u off=%ld size=%d", a.value_size,
                      shown, size);
      }
      if (loaded) mark_unknown_sized(*loaded, size);
      // A read-only map's frozen bytes at a known offset are a known number (Linux's
      // bpf_map_direct_read): .rodata bounds (`const volatile int max_args`) bound loops.
      if (loaded && !write && reg.var_off.is_constant() && (a.map_flags & kMapRdonlyProg) != 0 &&
          reg.map->frozen() && (size == 1 || size == 2 || size == 4 || size == 8)) {
        const uint8_t* bytes = const_cast<Map*>(reg.map)->direct_value(0);
        if (bytes != nullptr) {
          uint64_t value = 0;
          __builtin_memcpy(&value, bytes + low, static_cast<size_t>(size));  // little-endian
          mark_constant(*loaded, value);
        }
      }
      return true;
    }
  }
  return reject("R%d invalid mem access", regno);
}

// The context of a tracing program (Linux's btf_ctx_access): the traced function's arguments as
// u64s, read whole or in part at a multiple of 8; a pointer to a kernel struct read whole is a
// BTF-typed pointer, anything else a number.
bool Checker::check_tracing_context(int32_t insn_off, int size, bool write, RegState* loaded) {
  const char* name = options_.attach_name != nullptr ? options_.attach_name : "";
  if (write || insn_off < 0 || insn_off >= static_cast<int32_t>(8 * kMaxTracingArgs) ||
      insn_off % size != 0) {
    return reject("invalid bpf_context access off=%d size=%d", insn_off, size);
  }
  if (insn_off % 8 != 0) {
    log_.print("func '%s' offset %d is not multiple of 8\n", name, insn_off);
    return reject("invalid bpf_context access off=%d size=%d", insn_off, size);
  }
  uint32_t arg = static_cast<uint32_t>(insn_off / 8);
  if (arg >= options_.context_args) {
    log_.print("func '%s' doesn't have %u-th argument\n", name, arg + 1);
    return reject("invalid bpf_context access off=%d size=%d", insn_off, size);
  }
  if (loaded == nullptr) return true;
  uint32_t pointee = options_.context_arg_types[arg];
  if (pointee != 0 && size == 8 && options_.kernel_types != nullptr) {
    *loaded = RegState{};
    loaded->type = RegType::kBtfPointer;
    loaded->btf_id = pointee;
  } else {
    mark_unknown_sized(*loaded, size);
  }
  return true;
}

// A read through a BTF-typed pointer (Linux's check_ptr_to_btf_access): at a known offset,
// inside the struct; a pointer field read whole gives a pointer to its struct. The engine runs
// the load as BPF_PROBE_MEM (the memory may be gone, or the pointer NULL).
bool Checker::check_btf_pointer(const RegState& reg, int regno, int32_t insn_off, int size,
                                bool write, RegState* loaded) {
  const KernelTypes* types = options_.kernel_types;
  const char* name = types != nullptr ? types->type_name(reg.btf_id) : "";
  int64_t off = int64_t{reg.off} + insn_off;
  if (off < 0) {
    return reject("R%d is ptr_%s invalid negative access: off=%ld", regno, name, off);
  }
  if (!reg.var_off.is_constant() || reg.var_off.value != 0) {
    return reject("R%d is ptr_%s invalid variable offset: off=%ld, var_off=(0x%lx; 0x%lx)", regno,
                  name, off, reg.var_off.value, reg.var_off.mask);
  }
  if (write) return reject("only read is supported");
  if (types == nullptr || options_.insn_facts == nullptr) {
    return reject("R%d invalid mem access '%s'", regno, reg_type_name(reg.type));
  }
  uint32_t pointee = 0;
  char message[160] = {};
  int error = types->read_field(reg.btf_id, static_cast<int32_t>(off), size, &pointee, message,
                                sizeof message);
  if (error < 0) {
    log_.print("%s\n", message);
    error_ = error;
    return false;
  }
  if (loaded != nullptr) {
    if (pointee != 0) {
      *loaded = RegState{};
      loaded->type = RegType::kBtfPointer;
      loaded->btf_id = pointee;
    } else {
      mark_unknown_sized(*loaded, size);
    }
  }
  return true;
}

// Whether a helper may read a stack byte (Linux's check_stack_range_initialized): written
// data, or a spilled register if it is a number or pointers may leak, or anything at all
// when uninitialised stack may be read.
bool Checker::stack_byte_readable(const StackSlot& slot, uint8_t byte) const {
  if (byte == kSlotMisc || byte == kSlotZero) return true;
  if (byte == kSlotSpill) {
    return slot.spill.type == RegType::kScalar || options_.privileges.allow_ptr_leaks;
  }
  return options_.privileges.allow_uninit_stack;
}

bool Checker::check_helper_memory(int regno, uint64_t size, bool writes, bool zero_ok) {
  RegState& reg = current_->current().regs[regno];
  if (size == 0) {
    if (zero_ok) return true;
    return reject("invalid zero-sized read");
  }
  if (reg.type == RegType::kStack) {
    if (!reg.var_off.is_constant()) {
      // As Linux's check_stack_range_initialized for privileged programs: every byte the
      // buffer may cover is inside the frame, and initialised when the helper reads it.
      // A helper's write makes data only of bytes that already were (as direct
      // variable-offset writes: it may not reach the others).
      bool bounded = reg.smin >= -kStackSize && reg.smax <= kStackSize &&
                     size <= static_cast<uint64_t>(kStackSize) && reg.off >= -kMaxAccessOffset &&
                     reg.off <= kMaxAccessOffset;
      int64_t min_off = bounded ? reg.off + reg.smin : 0;
      int64_t max_off = bounded ? reg.off + reg.smax + static_cast<int64_t>(size) : 0;
      if (!bounded || min_off < -kStackSize || max_off > 0) {
        return reject(
            "invalid variable-offset indirect access to stack R%d var_off=(0x%lx; 0x%lx) size=%lu",
            regno, reg.var_off.value, reg.var_off.mask, size);
      }
      FrameState& frame = current_->frames[reg.frame];
      if (-min_off > frame.stack_depth) frame.stack_depth = static_cast<uint16_t>(-min_off);
      for (int64_t a = min_off; a < max_off; ++a) {
        StackSlot& slot = frame.stack[slot_of(a)];
        uint8_t& b = slot.bytes[byte_of(a)];
        if (writes) {
          if (slot.bytes[0] == kSlotSpill)
            for (uint8_t& s : slot.bytes) s = kSlotMisc;
          if (b != kSlotInvalid) b = kSlotMisc;
        } else if (!stack_byte_readable(slot, b)) {
          return reject(
              "invalid variable-offset indirect read from stack R%d var_off=(0x%lx; 0x%lx) "
              "size=%lu",
              regno, reg.var_off.value, reg.var_off.mask, size);
        }
      }
      return true;
    }
    int64_t off = reg.off + static_cast<int64_t>(reg.var_off.value);
    if (off < -kStackSize || off + static_cast<int64_t>(size) > 0) {
      return reject("invalid indirect access to stack R%d off=%ld size=%lu", regno, off, size);
    }
    FrameState& frame = current_->frames[reg.frame];
    if (-off > frame.stack_depth) frame.stack_depth = static_cast<uint16_t>(-off);
    for (uint64_t i = 0; i < size; ++i) {
      int64_t a = off + static_cast<int64_t>(i);
      StackSlot& slot = frame.stack[slot_of(a)];
      if (writes) {
        if (slot.bytes[0] == kSlotSpill)
          for (uint8_t& b : slot.bytes) b = kSlotMisc;
        slot.bytes[byte_of(a)] = kSlotMisc;
      } else if (!stack_byte_readable(slot, slot.bytes[byte_of(a)])) {
        return reject("invalid indirect read from stack R%d off %ld+%lu size %lu", regno, off, i,
                      size);
      }
    }
    return true;
  }
  if (reg.type == RegType::kMapValue) {
    const MapAttributes& a = reg.map->attributes();
    if (reg.smin < 0)
      return reject(
          "R%d min value is negative, either use unsigned index or do a if (index >=0) check.",
          regno);
    bool bounded = reg.umax < static_cast<uint64_t>(kMaxAccessOffset) &&
                   size < static_cast<uint64_t>(kMaxAccessOffset);
    int64_t low = reg.off + reg.smin;
    int64_t high =
        bounded ? reg.off + static_cast<int64_t>(reg.umax) + static_cast<int64_t>(size) : 0;
    if (!bounded || low < 0 || high > a.value_size) {
      return reject("invalid access to map value, value_size=%u off=%ld size=%lu", a.value_size,
                    low, size);
    }
    if (writes && (a.map_flags & kMapRdonlyProg)) return reject("write into map forbidden");
    return true;
  }
  if (reg.type == RegType::kRingbufMem) {
    bool bounded = reg.smin >= 0 && reg.umax < static_cast<uint64_t>(kMaxAccessOffset) &&
                   size < static_cast<uint64_t>(kMaxAccessOffset);
    int64_t low = bounded ? reg.off + reg.smin : -1;
    int64_t high =
        bounded ? reg.off + static_cast<int64_t>(reg.umax) + static_cast<int64_t>(size) : 0;
    if (!bounded || low < 0 || high > reg.mem_size) {
      return reject("invalid access to memory, mem_size=%u off=%ld size=%lu", reg.mem_size, low,
                    size);
    }
    return true;
  }
  return reject("R%d type=%s expected=fp, map_value", regno, reg_type_name(reg.type));
}

}  // namespace ebpf::verifier
