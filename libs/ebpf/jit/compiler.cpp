// SPDX-License-Identifier: MIT
// The JIT compiler: translates each eBPF instruction to x86-64 in three passes (upper bound,
// exact layout at the final address, emission) and lays out the image.
#include "compiler.hpp"

#include <stddef.h>

#include "ebpf/environment.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/jit.hpp"

namespace ebpf {
namespace jit {

// The retpoline (Linux's __x86_indirect_thunk_r11 with retpolines on): an indirect branch to
// r11 whose target the CPU cannot speculate from a poisoned branch predictor. The `call`
// pushes a return address the return stack buffer predicts, so speculation is caught in the
// pause/lfence loop; the real return address is replaced with r11 and `ret` goes there.
// `call retpoline` is an indirect call, `jmp retpoline` an indirect jump.
void Compiler::emit_retpoline() {
  Encoder& c = code_;
  retpoline_ = c.position();
  c.byte(0xe8);  // call set_target (over the 7-byte loop)
  c.u32(7);
  c.byte(0xf3);  // capture: pause
  c.byte(0x90);
  c.byte(0x0f);  // lfence
  c.byte(0xae);
  c.byte(0xe8);
  c.byte(0xeb);  // jmp capture
  c.byte(0xf9);
  c.rm(op1(0x89), true, kR11, kRsp, 0);  // set_target: mov [rsp], r11
  c.ret();
}

// uint64_t trampoline(JitRun* run, const uint64_t args[5], uint64_t frame_pointer, target):
// saves the callee-saved registers, loads r1..r5 and r10, calls `target` (instruction code
// of this image; 0 for instruction 0, a direct call) and returns its r0. Aborts unwind to here
// through JitRun::saved_rsp. Other targets (callbacks) are reached through the retpoline.
void Compiler::emit_trampoline() {
  Encoder& c = code_;
  for (Reg r : kTrampolineSaved) c.push(r);
  c.mov_rr(true, kR12, kRdi);
  c.push_mem(kR12, kOffsetSavedRsp);
  c.rm(op1(0x89), true, kRsp, kR12, kOffsetSavedRsp);  // mov [r12+saved_rsp], rsp
  c.mov_rr(true, kRbp, kRdx);
  c.mov_rr(true, kR11, kRcx);
  c.rm(op1(0x8b), true, kR9, kRsi, 32);
  c.rm(op1(0x8b), true, kR8, kRsi, 24);
  c.rm(op1(0x8b), true, kRcx, kRsi, 16);
  c.rm(op1(0x8b), true, kRdx, kRsi, 8);
  c.rm(op1(0x8b), true, kRsi, kRsi, 0);
  c.alu_ri(kSub.ext, true, kRsp, 8);  // the body runs with rsp 16-byte aligned
  Label indirect, returned;
  c.test_rr(true, kR11, kR11);
  c.jcc(kNotEqual, indirect);
  c.call_to(target_of(0));
  c.jmp(returned);
  c.bind(indirect);
  c.call_to(retpoline_);
  c.bind(returned);
  c.alu_ri(kAdd.ext, true, kRsp, 8);
  exit_position_ = c.position();
  c.pop_mem(kR12, kOffsetSavedRsp);
  for (int i = 5; i >= 0; --i) c.pop(kTrampolineSaved[i]);
  c.ret();
}

void Compiler::emit_stubs() {
  Encoder& c = code_;
  // A runtime limit (call depth, unknown helper): the run's value is 0, as the interpreter's.
  fail_stub_ = c.position();
  c.rm(op1(0xc6), false, 0, kR12, kOffsetFailed);
  c.byte(1);
  abort_stub_ = c.position();
  c.rm(op1(0x8b), true, kRsp, kR12, kOffsetSavedRsp);
  c.alu_rr(kXor.opcode, false, kRax, kRax);
  c.jmp_to(exit_position_);
}

rt::Result<void> Compiler::compile_image(ImageHeader& header) {
  Encoder& c = code_;
  for (uint32_t i = 0; i < kHeaderSize; ++i) c.byte(0);
  emit_retpoline();
  header.trampoline = static_cast<uint32_t>(c.position());
  emit_trampoline();
  emit_stubs();
  // Stands in for a tail-call target that runs in the interpreter: called like instruction 0.
  header.tail_stub = static_cast<uint32_t>(c.position());
  c.mov_rr(true, kRdi, kR12);
  c.call_absolute(reinterpret_cast<uint64_t>(&interpreted_tail_call), retpoline_);
  c.rm(op1(0x80), false, 7, kR12, kOffsetAbort);  // cmp byte [abort], 0
  c.byte(0);
  c.jcc_to(kNotEqual, abort_stub_);
  c.ret();
  while (c.position() % 16 != 0) c.int3();
  header.main = static_cast<uint32_t>(c.position());
  for (uint32_t pc = 0; pc < program_.insn_count; ++pc) {
    offsets_[pc] = static_cast<uint32_t>(c.position());
    pc_ = pc;
    TRY(emit(pc));
    if (program_.insns[pc].opcode == kOpLdImm64) {
      ++pc;
      if (pc < program_.insn_count) offsets_[pc] = static_cast<uint32_t>(c.position());
    }
  }
  // Falling off the end is refused by the verifier; stop rather than run into data.
  c.int3();
  while (c.position() % 4 != 0) c.int3();
  header.insn_offsets = static_cast<uint32_t>(c.position());
  header.insn_count = program_.insn_count;
  for (uint32_t pc = 0; pc < program_.insn_count; ++pc) c.u32(offsets_[pc]);
  header.code_size = static_cast<uint32_t>(c.position());
  header.flags = reads_cpu_ ? kImageReadsCpu : 0;
  header.magic = kImageMagic;
  return {};
}

// Blinding (JitOptions::blind_constants): `imm` into `dst`, sign-extended to 64 bits (`wide`)
// or zero-extended from 32, without its bytes in the code: mov dst, imm ^ key; xor dst, key.
void Compiler::load_blinded(bool wide, Reg dst, int32_t imm) {
  Encoder& c = code_;
  int32_t key = static_cast<int32_t>(keys_[pc_]);
  if (wide) {
    c.rr(op1(0xc7), true, 0, dst);  // mov dst, simm32
    c.u32(static_cast<uint32_t>(imm ^ key));
  } else {
    c.mov_imm32(dst, imm ^ key);
  }
  c.alu_ri(kXor.ext, wide, dst, key);
}

rt::Result<void> Compiler::emit(uint32_t pc) {
  const Insn& insn = program_.insns[pc];
  switch (insn_class(insn.opcode)) {
    case kClassAlu: return emit_alu(insn, false);
    case kClassAlu64: return emit_alu(insn, true);
    case kClassJmp:
      if (op_code(insn.opcode) == kJmpCall) return emit_call(pc, insn);
      if (op_code(insn.opcode) == kJmpExit) {
        if (insn.opcode != (kClassJmp | kJmpExit)) return unsupported("jit: invalid exit encoding");
        code_.ret();
        return {};
      }
      return emit_jump(pc, insn, true);
    case kClassJmp32: return emit_jump(pc, insn, false);
    case kClassLd:
      if (insn.opcode != kOpLdImm64) return unsupported("jit: legacy packet access (LD ABS/IND)");
      if (pc + 1 >= program_.insn_count) return unsupported("jit: truncated LD_IMM64");
      if (insn.src != kPseudoImm64) return unsupported("jit: LD_IMM64 pseudo source not prepared");
      if (insn.dst >= kFramePointer) return unsupported("jit: bad register");
      {
        uint64_t value =
            static_cast<uint32_t>(insn.imm) |
            (static_cast<uint64_t>(static_cast<uint32_t>(program_.insns[pc + 1].imm)) << 32);
        if (!blinding()) {
          code_.mov_imm64(reg(insn.dst), value);
          return {};
        }
        uint64_t key = keys_[pc] | (static_cast<uint64_t>(keys_[pc + 1]) << 32);
        code_.mov_imm64(reg(insn.dst), value ^ key);
        code_.mov_imm64(kR10, key);
        code_.alu_rr(kXor.opcode, true, reg(insn.dst), kR10);
      }
      return {};
    case kClassLdx: return emit_load(insn);
    case kClassSt:
    case kClassStx:
      if (op_mode(insn.opcode) == kModeAtomic) return emit_atomic(insn);
      return emit_store(insn);
  }
  return unsupported("jit: unknown instruction class");
}

}  // namespace jit

JitProgram& JitProgram::operator=(JitProgram&& other) noexcept {
  if (this != &other) {
    reset();
    memory_ = other.memory_;
    region_ = other.region_;
    code_size_ = other.code_size_;
    other.memory_ = nullptr;
    other.region_ = {};
    other.code_size_ = 0;
  }
  return *this;
}

void JitProgram::reset() {
  if (memory_ != nullptr) memory_->release(region_);
  memory_ = nullptr;
  region_ = {};
  code_size_ = 0;
}

void JitProgram::install(Program& program) const {
  program.runner = jit_run;
  program.jit_image = region_.execute_view;
  program.jit_image_size = code_size_;
}

rt::Result<JitProgram> jit_compile(const Program& program, ExecutableMemory& memory,
                                   rt::Allocator& scratch, const JitOptions& options) {
  using namespace jit;
  if (program.insn_count == 0) return unsupported("jit: empty program");
  if (options.blind_constants && options.random_source == nullptr)
    return unsupported("jit: blinding needs a random source");
  size_t table_bytes = sizeof(uint32_t) * program.insn_count;
  auto* measured = static_cast<uint32_t*>(scratch.allocate(table_bytes, alignof(uint32_t)));
  auto* final_offsets = static_cast<uint32_t*>(scratch.allocate(table_bytes, alignof(uint32_t)));
  auto* keys = options.blind_constants
                   ? static_cast<uint32_t*>(scratch.allocate(table_bytes, alignof(uint32_t)))
                   : nullptr;
  struct Release {
    rt::Allocator& allocator;
    void* tables[3];
    size_t size;
    ~Release() {
      for (void* table : tables) {
        if (table != nullptr) allocator.deallocate(table, size);
      }
    }
  } release{scratch, {measured, final_offsets, keys}, table_bytes};
  if (measured == nullptr || final_offsets == nullptr || (options.blind_constants && !keys))
    return rt::err(rt::kENOMEM, "jit: no memory for tables");
  // One value per instruction, drawn once: every pass must emit the same bytes.
  if (keys != nullptr) {
    for (uint32_t pc = 0; pc < program.insn_count; ++pc)
      keys[pc] = options.random_source->random_u32();
  }

  // Pass 0: an upper bound (every helper call in its long form) to size the region.
  ImageHeader header{};
  Encoder bound(nullptr, 0, 0);
  bound.set_assume_far(true);
  TRY(Compiler(program, bound, nullptr, measured, keys).compile_image(header));
  JitProgram result;
  result.region_ = TRY(memory.allocate(
      bound.position(),
      program.helpers != nullptr ? reinterpret_cast<const void*>(&jit_run) : nullptr));
  result.memory_ = &memory;
  uint64_t base = reinterpret_cast<uint64_t>(result.region_.execute_view);
  // Pass 1: the exact layout at the final address; pass 2 writes it, jumping to pass 1's
  // offsets (every jump is rel32, so sizes do not change between the passes).
  Encoder layout(nullptr, 0, base);
  TRY(Compiler(program, layout, nullptr, measured, keys).compile_image(header));
  Encoder writer(result.region_.write_view, result.region_.size, base);
  TRY(Compiler(program, writer, measured, final_offsets, keys).compile_image(header));
  if (writer.overflowed() || writer.position() != layout.position())
    return rt::err(rt::kEINVAL, "jit: layout changed");
  __builtin_memcpy(result.region_.write_view, &header, sizeof(header));
  result.code_size_ = writer.position();
  TRY(memory.seal(result.region_));
  return result;
}

}  // namespace ebpf
