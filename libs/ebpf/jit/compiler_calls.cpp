// SPDX-License-Identifier: MIT
// The JIT compiler's calls: helpers, inlined helpers and map lookups, bpf-to-bpf calls,
// tail calls and callx.
#include "compiler.hpp"
#include "ebpf/helpers.hpp"

namespace ebpf::jit {

// A helper call: r1..r5 are already in rsi, rdx, rcx, r8, r9; rdi gets the ExecContext. A
// helper that asked to abort ends the run. (bpf_get_smp_processor_id is a load of JitRun::cpu
// and lookups may be specialised: see emit_call.)
// GAP: bpf_this_cpu_ptr and bpf_per_cpu_ptr are not Sonde helpers, so nothing inlines them.
void Compiler::emit_helper_call(uint64_t function) {
  Encoder& c = code_;
  c.rm(op1(0x89), true, kRbp, kR12, kOffsetCallbackFrame);  // callbacks go below this frame
  c.mov_rr(true, kRdi, kR12);
  c.call_absolute(function, retpoline_);
  c.rm(op1(0x80), false, 7, kR12, kOffsetAbort);
  c.byte(0);
  c.jcc_to(kNotEqual, abort_stub_);
}

// target *= factor (a shift for a power of two, else imul; factor <= INT32_MAX).
void Compiler::scale(Reg target, uint64_t factor) {
  Encoder& c = code_;
  if ((factor & (factor - 1)) == 0) {
    uint8_t shift = static_cast<uint8_t>(__builtin_ctzll(factor));
    if (shift != 0) {
      c.rr(op1(0xc1), true, 4, target);  // shl target, log2(factor)
      c.byte(shift);
    }
    return;
  }
  c.rr(op1(0x69), true, target, target);  // imul target, target, factor
  c.u32(static_cast<uint32_t>(factor));
}

// bpf_map_lookup_elem(map, key) where the verifier saw one map at this call (and the program's
// table holds Sonde's own helper): an array's lookup is computed in place, as Linux's
// array_map_gen_lookup (the key is a u32; NULL from max_entries on), and a per-CPU array's
// then moves to the running CPU's copy (JitRun::cpu, the CPU bpf_get_smp_processor_id gives;
// past the map's copies, copy 0, as the map's own lookup), as Linux's
// percpu_array_map_gen_lookup adds this CPU's offset; another map with a lookup function gets
// a direct call to it, without the helper, the callback frame or the abort check (a lookup
// never runs a callback nor aborts). False: emit the helper call.
// GAP: no Spectre v1 index masking (Linux masks the index for unprivileged programs).
bool Compiler::emit_map_lookup(uint32_t pc) {
  if (program_.call_maps == nullptr ||
      program_.helpers[kHelperMapLookupElem] != standard_helper(kHelperMapLookupElem)) {
    return false;
  }
  const CallSiteMap& site = program_.call_maps[pc];
  if (site.map == nullptr || site.varies) return false;
  Encoder& c = code_;
  Map::InlineArray array{};
  if (site.map->inline_array(array) && array.stride > 0 && array.stride <= INT32_MAX &&
      array.cpus >= 1 && array.cpu_stride <= INT32_MAX && array.cpus <= INT32_MAX) {
    Label null, done;
    c.rm(op1(0x8b), false, kRax, reg(2), 0);  // mov eax, [key]: the index, zero-extended
    c.alu_ri(kCmp.ext, false, kRax, static_cast<int32_t>(array.max_entries));
    c.jcc(kAboveEqual, null);
    scale(kRax, array.stride);
    c.mov_imm64(kR11, reinterpret_cast<uint64_t>(array.values));
    c.alu_rr(kAdd.opcode, true, kRax, kR11);
    if (array.cpus > 1) {
      reads_cpu_ = true;
      c.rm(op1(0x8b), false, kR11, kR12, kOffsetCpu);  // mov r11d, [run.cpu]
      c.alu_ri(kCmp.ext, false, kR11, static_cast<int32_t>(array.cpus));
      c.jcc(kAboveEqual, done);  // no copy for that CPU: copy 0
      scale(kR11, array.cpu_stride);
      c.alu_rr(kAdd.opcode, true, kRax, kR11);
    }
    c.jmp(done);
    c.bind(null);
    c.alu_rr(kXor.opcode, false, kRax, kRax);
    c.bind(done);
    return true;
  }
  Map::LookupFunction lookup = site.map->lookup_function();
  if (lookup == nullptr) return false;
  c.mov_rr(true, kRdi, reg(1));  // function(map, key)
  c.mov_rr(true, kRsi, reg(2));
  c.call_absolute(reinterpret_cast<uint64_t>(lookup), retpoline_);
  return true;
}

// bpf_tail_call(ctx, map, index): the runtime finds the target (and counts the call); the
// target then replaces the running function: same frame, and its exit returns to our caller.
// A missing slot or the 34th call falls through with every register kept.
void Compiler::emit_tail_call() {
  Encoder& c = code_;
  reads_cpu_ = true;  // the target may read JitRun::cpu
  for (Reg r : kTailCallKept) c.push(r);
  c.mov_rr(true, kRdi, kR12);
  c.mov_rr(true, kRsi, kRdx);
  c.mov_rr(false, kRdx, kRcx);
  c.call_absolute(reinterpret_cast<uint64_t>(&tail_call_target), retpoline_);
  c.mov_rr(true, kR11, kRax);
  for (int i = 5; i >= 0; --i) c.pop(kTailCallKept[i]);
  Label fall_through;
  c.test_rr(true, kR11, kR11);
  c.jcc(kEqual, fall_through);
  c.jmp_to(retpoline_);  // jmp r11, without speculation
  c.bind(fall_through);
}

// callx: the helper id is in a register (the conformance suite's form).
void Compiler::emit_callx(const Insn& insn) {
  Encoder& c = code_;
  Label helper, done;
  c.mov_rr(false, kR11, reg(insn.dst));
  c.alu_ri(kCmp.ext, false, kR11, kHelperTailCall);
  c.jcc(kNotEqual, helper);
  emit_tail_call();
  c.jmp(done);
  c.bind(helper);
  c.alu_ri(kCmp.ext, false, kR11, static_cast<int32_t>(program_.helper_count));
  c.jcc_to(kAboveEqual, fail_stub_);
  c.mov_imm64(kR10, reinterpret_cast<uint64_t>(program_.helpers));
  c.rm_index8(op1(0x8b), true, kR11, kR10, kR11);
  c.test_rr(true, kR11, kR11);
  Label known;
  c.jcc(kNotEqual, known);
  c.jmp_to(fail_stub_);
  c.bind(known);
  c.rm(op1(0x89), true, kRbp, kR12, kOffsetCallbackFrame);
  c.mov_rr(true, kRdi, kR12);
  c.call_to(retpoline_);  // call r11, without speculation
  c.rm(op1(0x80), false, 7, kR12, kOffsetAbort);
  c.byte(0);
  c.jcc_to(kNotEqual, abort_stub_);
  c.bind(done);
}

rt::Result<void> Compiler::emit_call(uint32_t pc, const Insn& insn) {
  Encoder& c = code_;
  if (op_source(insn.opcode) == kSrcX) {
    if (insn.dst > kFramePointer) return unsupported("jit: bad register");
    emit_callx(insn);
    return {};
  }
  if (insn.src == kPseudoCall) {
    int64_t target = static_cast<int64_t>(pc) + 1 + insn.imm;
    if (target < 0 || target >= program_.insn_count)
      return unsupported("jit: call out of the program");
    // The caller keeps r6..r9 and the running program (a tail call in the callee changes it);
    // the callee's r10 is 512 bytes below, within the 8 frames the run's stack holds.
    for (Reg r : kCalleeSaved) c.push(r);
    c.push_mem(kR12, kOffsetProgram);
    c.alu_ri(kSub.ext, true, kRbp, kStackSize);
    c.rm(op1(0x3b), true, kRbp, kR12, kOffsetFrameLimit);  // cmp rbp, [frame_limit]
    c.jcc_to(kBelow, fail_stub_);
    c.call_to(target_of(static_cast<uint32_t>(target)));
    c.alu_ri(kAdd.ext, true, kRbp, kStackSize);
    c.pop_mem(kR12, kOffsetProgram);
    for (int i = 3; i >= 0; --i) c.pop(kCalleeSaved[i]);
    return {};
  }
  if (insn.src == kPseudoKfuncCall) return unsupported("jit: kfunc calls");
  if (insn.src != kCallHelper) return unsupported("jit: invalid call source");
  if (insn.imm == kHelperTailCall) {
    emit_tail_call();
    return {};
  }
  uint32_t id = static_cast<uint32_t>(insn.imm);
  if (id >= program_.helper_count || program_.helpers[id] == nullptr) {
    c.jmp_to(fail_stub_);  // as the interpreter: the run fails when it gets here
    return {};
  }
  if (id == static_cast<uint32_t>(kHelperMapLookupElem) && emit_map_lookup(pc)) return {};
  if (id == static_cast<uint32_t>(kHelperGetSmpProcessorId) &&
      program_.helpers[id] == standard_helper(id)) {
    c.rm(op1(0x8b), false, kRax, kR12, kOffsetCpu);  // mov eax, [run.cpu]
    reads_cpu_ = true;
    return {};
  }
  emit_helper_call(reinterpret_cast<uint64_t>(program_.helpers[id]));
  return {};
}

}  // namespace ebpf::jit
