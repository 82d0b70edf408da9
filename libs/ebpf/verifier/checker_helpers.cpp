// SPDX-License-Identifier: MIT
// Helper calls in the simulation: arguments, map compatibility, callbacks, results, references.
#include "ebpf/helper_ids.hpp"
#include "rt/errno.hpp"
#include "verifier/checker.hpp"

namespace ebpf::verifier {
namespace {

constexpr int64_t kMaxAccessOffset = 1 << 29;

}  // namespace

bool Checker::release_reference(uint32_t ref) {
  uint32_t n = current_->ref_count;
  uint32_t at = n;
  for (uint32_t i = 0; i < n; ++i) {
    if (current_->refs[i] == ref) at = i;
  }
  if (at == n) return false;
  current_->refs[at] = current_->refs[n - 1];
  current_->ref_insns[at] = current_->ref_insns[n - 1];
  --current_->ref_count;
  // Every copy of the released pointer stops being a pointer.
  for (uint32_t d = 0; d <= current_->depth; ++d) {
    for (RegState& r : current_->frames[d].regs) {
      if (r.ref == ref) mark_unknown(r);
    }
    for (StackSlot& s : current_->frames[d].stack) {
      if (s.bytes[0] == kSlotSpill && s.spill.ref == ref) mark_unknown(s.spill);
    }
  }
  return true;
}

// Which maps a helper takes (Linux's check_map_func_compatibility).
bool Checker::check_map_func_compatibility(const Map& map, int32_t id, const char* name) {
  MapType type = map.type();
  bool prog_array = type == MapType::kProgArray;
  bool queue = type == MapType::kQueue || type == MapType::kStack;
  bool plain = type == MapType::kArray || type == MapType::kHash || type == MapType::kPercpuArray ||
               type == MapType::kPercpuHash || type == MapType::kLruHash ||
               type == MapType::kLruPercpuHash || type == MapType::kLpmTrie;
  bool queue_helper =
      id == kHelperMapPushElem || id == kHelperMapPopElem || id == kHelperMapPeekElem;
  bool ring_helper =
      id == kHelperRingbufOutput || id == kHelperRingbufReserve || id == kHelperRingbufQuery;
  bool per_cpu = type == MapType::kPercpuArray || type == MapType::kPercpuHash ||
                 type == MapType::kLruPercpuHash;
  // A stack trace map only goes to bpf_get_stackid, which takes no other map (Linux: lookups
  // of its stacks are for user space).
  if (type == MapType::kStackTrace || id == kHelperGetStackid) {
    if (type != MapType::kStackTrace || id != kHelperGetStackid) {
      return reject("cannot pass map_type %u into func %s#%d", static_cast<uint32_t>(type), name,
                    id);
    }
    return true;
  }
  bool compatible = id == kHelperTailCall                 ? prog_array
                    : id == kHelperCurrentTaskUnderCgroup ? type == MapType::kCgroupArray
                    : id == kHelperPerfEventOutput        ? type == MapType::kPerfEventArray
                    : id == kHelperMapLookupPercpuElem    ? per_cpu
                    : id == kHelperMapPopElem             ? queue
                    : queue_helper                        ? queue || type == MapType::kBloomFilter
                    : ring_helper                         ? type == MapType::kRingbuf
                                                          : plain;
  if (!compatible) {
    return reject("cannot pass map_type %u into func %s#%d", static_cast<uint32_t>(type), name, id);
  }
  // Linux lets an LPM trie through to bpf_for_each_map_elem and refuses it, with ENOTSUPP, when
  // setting up the callback (set_map_elem_callback_state: the trie has no map_for_each_callback).
  if (id == kHelperForEachMapElem && type == MapType::kLpmTrie) {
    error_ = -rt::kENOTSUPP;
    return reject("callback function not allowed for map");
  }
  return true;
}

// One argument of a helper against its prototype (Linux's check_func_arg); what later
// arguments need (the map, the buffer a size belongs to, the callback) goes into `args`.
bool Checker::check_helper_argument(const HelperPrototype& proto, int32_t id, int arg,
                                    HelperCallArgs& args) {
  int regno = arg + 1;
  if (!read_ok(regno)) return false;
  RegState& reg = current_->current().regs[regno];
  switch (proto.args[arg]) {
    case ArgType::kNone: break;
    case ArgType::kAnything:
      if (reg.is_pointer() && !options_.privileges.allow_ptr_leaks) {
        return reject("R%d leaks addr into helper function", regno);
      }
      break;
    case ArgType::kMapPointer: {
      if (reg.type != RegType::kMapPointer)
        return reject("R%d type=%s expected=map_ptr", regno, reg_type_name(reg.type));
      args.map = reg.map;
      if (!check_map_func_compatibility(*args.map, id, proto.name)) return false;
      break;
    }
    case ArgType::kMapKey:
      if (!check_helper_memory(regno, args.map->attributes().key_size, false, false)) return false;
      break;
    case ArgType::kMapValue:
      if (!check_helper_memory(regno, args.map->attributes().value_size, false, false))
        return false;
      break;
    case ArgType::kUninitMapValue:
      if (!check_helper_memory(regno, args.map->attributes().value_size, true, false)) return false;
      break;
    case ArgType::kUninitMemory:
      args.memory_reg = regno;
      args.memory_read = false;
      break;
    case ArgType::kReadMemory:
    case ArgType::kReadMemoryOrNull:
    case ArgType::kUninitMemoryOrNull: {
      args.memory_reg = regno;
      args.memory_read = proto.args[arg] != ArgType::kUninitMemoryOrNull;
      bool nullable = proto.args[arg] != ArgType::kReadMemory;
      if (nullable && reg.is_constant() && reg.var_off.value == 0) args.memory_reg = -1;
      break;
    }
    case ArgType::kConstString: {
      if (reg.type != RegType::kMapValue || !reg.var_off.is_constant()) {
        return reject("R%d type=%s expected=map_value", regno, reg_type_name(reg.type));
      }
      Map* string_map = const_cast<Map*>(reg.map);
      if (!string_map->frozen() || !(string_map->attributes().map_flags & kMapRdonlyProg)) {
        return reject("R%d does not point to a readonly map'", regno);
      }
      uint32_t offset = static_cast<uint32_t>(reg.off + static_cast<int64_t>(reg.var_off.value));
      const uint8_t* text = string_map->direct_value(0);
      uint32_t size = string_map->attributes().value_size;
      if (text == nullptr || offset >= size)
        return reject("R%d invalid access to map value for a string", regno);
      bool terminated = false;
      for (uint32_t k = offset; k < size && !terminated; ++k) terminated = text[k] == 0;
      if (!terminated) return reject("string is not zero-terminated");
      break;
    }
    case ArgType::kConstSize:
    case ArgType::kConstSizeOrZero: {
      if (reg.type != RegType::kScalar)
        return reject("R%d type=%s expected=scalar", regno, reg_type_name(reg.type));
      if (reg.smin < 0)
        return reject("R%d min value is negative, either use unsigned or 'var &= const'", regno);
      if (reg.umax >= static_cast<uint64_t>(kMaxAccessOffset)) {
        return reject("R%d unbounded memory access, use 'var &= const' or 'if (var < const)'",
                      regno);
      }
      bool zero_ok = proto.args[arg] == ArgType::kConstSizeOrZero;
      if (reg.umin == 0 && !zero_ok) return reject("R%d invalid zero-sized read", regno);
      if (args.memory_reg < 0) {
        if (reg.umax != 0) return reject("R%d must be 0 when the buffer is NULL", regno);
        break;
      }
      if (!check_helper_memory(args.memory_reg, reg.umax, !args.memory_read,
                               zero_ok && reg.umax == 0))
        return false;
      break;
    }
    case ArgType::kCtx:
      if (reg.type != RegType::kCtx || reg.off != 0)
        return reject("R%d type=%s expected=ctx", regno, reg_type_name(reg.type));
      break;
    case ArgType::kFunc:
      if (reg.type != RegType::kFunc)
        return reject("R%d type=%s expected=func", regno, reg_type_name(reg.type));
      args.callback = reg.func;
      args.has_callback = true;
      break;
    case ArgType::kConstAllocSize:
      if (!reg.is_constant()) return reject("R%d is not a known constant'", regno);
      if (reg.var_off.value > (1u << 28))
        return reject("R%d size %lu is too large for a reservation", regno, reg.var_off.value);
      break;
    case ArgType::kReleaseMemory: {
      if (reg.type != RegType::kRingbufMem)
        return reject("R%d type=%s expected=ringbuf_mem", regno, reg_type_name(reg.type));
      if (reg.off != 0 || !reg.var_off.is_constant() || reg.var_off.value != 0) {
        return reject("R%d must have zero offset when passed to release func", regno);
      }
      if (!release_reference(reg.ref))
        return reject("R%d reference has already been released", regno);
      break;
    }
    case ArgType::kLongOut:
      if (!check_helper_memory(regno, 8, true, false)) return false;
      break;
    case ArgType::kStackOrNull:
      if (reg.type != RegType::kStack && !(reg.is_constant() && reg.var_off.value == 0)) {
        return reject("R%d type=%s expected=fp", regno, reg_type_name(reg.type));
      }
      break;
  }
  return true;
}

bool Checker::check_helper_call(int32_t id, uint32_t& pc, bool& entered_callback) {
  const HelperPrototype* proto = helper_prototype(id);
  if (proto == nullptr) {
    log_.print("invalid func unknown#%d\n", id);
    error_ = -rt::kEINVAL;
    return false;
  }
  // The trampoline's helpers exist for fentry and fexit programs only (Linux's
  // bpf_prog_has_trampoline): for the others they are unknown functions.
  bool trampoline_only =
      id == kHelperGetFuncArg || id == kHelperGetFuncRet || id == kHelperGetFuncArgCnt;
  if (trampoline_only && !options_.trampoline) {
    log_.print("unknown func bpf_%s#%d\n", proto->name, id);
    error_ = -rt::kEINVAL;
    return false;
  }
  HelperCallArgs args;
  for (int i = 0; i < 5 && proto->args[i] != ArgType::kNone; ++i) {
    if (!check_helper_argument(*proto, id, i, args)) return false;
  }
  if (options_.call_maps != nullptr && proto->args[0] == ArgType::kMapPointer) {
    CallSiteMap& site = options_.call_maps[pc];
    if (site.map == nullptr && !site.varies) {
      site.map = args.map;
    } else if (site.map != args.map) {
      site.map = nullptr;  // poisoned, as Linux's BPF_MAP_PTR_POISON
      site.varies = true;
    }
  }
  FrameState& f = current_->current();
  if (args.has_callback) {
    if (current_->depth + 1 >= static_cast<uint32_t>(kMaxCallDepth)) {
      return reject("the call stack of %u frames is too deep", current_->depth + 2);
    }
    // The helper may run the callback any number of times, zero included: the caller goes
    // on from here with nothing changed, and after each iteration (exit() comes back to
    // this call to try one more).
    {
      State& done = branch_copy();
      FrameState& caller = done.current();
      mark_unknown(caller.regs[0]);  // iterations done (bpf_loop) or elements visited
      for (int i = 1; i <= 5; ++i) mark_not_init(caller.regs[i]);
      if (!push_branch(pc + 1, done)) return false;
    }
    RegState context_arg = f.regs[3];
    const Map* iterated = args.map;
    FrameState& callee = current_->frames[++current_->depth];
    __builtin_memset(&callee, 0, sizeof(FrameState));  // a fresh frame, without a large temporary
    callee.callsite = pc;
    callee.subprog_start = args.callback;
    callee.is_callback = true;
    if (id == kHelperForEachMapElem) {
      // callback(map, key, value, ctx)
      callee.regs[1].type = RegType::kMapPointer;
      callee.regs[1].map = iterated;
      callee.regs[2].type = RegType::kMapKey;
      callee.regs[2].map = iterated;
      callee.regs[3].type = RegType::kMapValue;
      callee.regs[3].map = iterated;
      callee.regs[4] = context_arg;
    } else {
      // bpf_loop: callback(index, ctx)
      mark_unknown(callee.regs[1]);
      callee.regs[1].umax = (1u << 23) - 1;
      sync_bounds(callee.regs[1]);
      callee.regs[2] = context_arg;
    }
    callee.regs[kFramePointer].type = RegType::kStack;
    callee.regs[kFramePointer].frame = static_cast<uint8_t>(current_->depth);
    pc = args.callback;
    entered_callback = true;
    return true;
  }

  switch (proto->ret) {
    case ReturnType::kInteger: mark_unknown(f.regs[0]); break;
    case ReturnType::kVoid: mark_not_init(f.regs[0]); break;
    case ReturnType::kMapValueOrNull:
      f.regs[0] = RegState{};
      f.regs[0].type = RegType::kMapValueOrNull;
      f.regs[0].map = args.map;
      f.regs[0].id = new_id();
      break;
    case ReturnType::kTaskBtf: {
      uint32_t task = options_.kernel_types != nullptr ? options_.kernel_types->task_struct() : 0;
      if (task == 0) return reject("invalid return type %u of func %s#%d", 8u, proto->name, id);
      f.regs[0] = RegState{};
      f.regs[0].type = RegType::kBtfPointer;
      f.regs[0].btf_id = task;
      break;
    }
    case ReturnType::kRingbufMemOrNull: {
      if (current_->ref_count == static_cast<uint32_t>(kMaxReferences))
        return reject("too many unreleased references");
      uint32_t size = static_cast<uint32_t>(f.regs[2].var_off.value);
      f.regs[0] = RegState{};
      f.regs[0].type = RegType::kRingbufMemOrNull;
      f.regs[0].id = new_id();
      f.regs[0].ref = f.regs[0].id;
      f.regs[0].mem_size = size;
      current_->refs[current_->ref_count] = f.regs[0].ref;
      current_->ref_insns[current_->ref_count] = pc;
      ++current_->ref_count;
      break;
    }
  }
  for (int i = 1; i <= 5; ++i) mark_not_init(f.regs[i]);
  return true;
}

}  // namespace ebpf::verifier
