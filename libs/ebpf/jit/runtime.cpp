// SPDX-License-Identifier: MIT
// The JIT's C++ runtime: entering compiled code, callbacks, and tail calls between programs.
#include "ebpf/environment.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/jit.hpp"
#include "jit_layout.hpp"

namespace ebpf {
namespace jit {
namespace {

constexpr uint32_t kStackBytes = kStackSize * kMaxCallDepth;

const ImageHeader& header_of(const Program& program) {
  return *static_cast<const ImageHeader*>(program.jit_image);
}

uint64_t code_address(const Program& program, uint32_t offset) {
  return reinterpret_cast<uint64_t>(program.jit_image) + offset;
}

uint64_t enter(JitRun& run, const Program& program, const uint64_t arguments[5],
               uint64_t frame_pointer, uint64_t target) {
  auto trampoline =
      reinterpret_cast<Trampoline>(code_address(program, header_of(program).trampoline));
  return trampoline(&run, arguments, frame_pointer, target);
}

// ExecContext::invoke_callback: `function` is an instruction index of the running program
// (prepare_for_execution's encoding); the callback gets a frame below the helper's caller.
uint64_t invoke_callback(ExecContext& context, uint64_t function, uint64_t a1, uint64_t a2,
                         uint64_t a3, uint64_t a4, uint64_t a5) {
  auto& run = *static_cast<JitRun*>(context.engine_state);
  const Program* program = context.program;
  const ImageHeader& header = header_of(*program);
  uint64_t caller_frame = run.callback_frame_pointer;
  uint64_t frame_pointer = caller_frame - kStackSize;
  if (frame_pointer < run.frame_limit || function >= header.insn_count) {
    run.failed = 1;  // the interpreter's kCallDepthExceeded / kJumpOutOfRange
    context.abort_requested = true;
    return 0;
  }
  const auto* offsets =
      reinterpret_cast<const uint32_t*>(code_address(*program, header.insn_offsets));
  uint64_t arguments[5] = {a1, a2, a3, a4, a5};
  uint64_t result =
      enter(run, *program, arguments, frame_pointer, code_address(*program, offsets[function]));
  run.callback_frame_pointer = caller_frame;
  context.program = program;  // the callback may have tail-called
  return result;
}

JitRunResult start(const Program& program, uint64_t r1, uint64_t r2, Environment* environment,
                   void* context) {
  alignas(16) uint8_t stack[kStackBytes];
  JitRun run{};
  run.context.env = environment;
  run.context.program = &program;
  run.context.program_context = context;
  run.context.invoke_callback = invoke_callback;
  run.context.engine_state = &run;
  run.frame_limit = reinterpret_cast<uint64_t>(stack) + kStackSize;
  run.interpreted_tail_stub = code_address(program, header_of(program).tail_stub);
  if ((header_of(program).flags & kImageReadsCpu) != 0 && environment != nullptr)
    run.cpu = environment->current_cpu();
  uint64_t arguments[5] = {r1, r2, 0, 0, 0};
  // Target 0: the trampoline calls instruction 0 directly (no indirect call per run).
  uint64_t value =
      enter(run, program, arguments, reinterpret_cast<uint64_t>(stack + kStackBytes), 0);
  bool aborted = run.context.abort_requested;
  bool failed = run.failed != 0;
  return JitRunResult{aborted || failed ? 0 : value, aborted, failed};
}

}  // namespace

// Finds and counts a tail call; returns where to jump (the target's instruction 0, or the
// stub that interprets it), or 0 to fall through.
uint64_t tail_call_target(JitRun* run, Map* map, uint32_t index) {
  const Program* target = map->tail_call_target(index);
  if (target == nullptr || run->context.tail_call_count >= static_cast<uint32_t>(kMaxTailCalls))
    return 0;
  ++run->context.tail_call_count;
  run->context.program = target;
  if (target->runner == jit_run && target->jit_image != nullptr) {
    return code_address(*target, header_of(*target).main);
  }
  run->pending_tail_target = target;
  return run->interpreted_tail_stub;
}

uint64_t probe_load(JitRun* run, uint64_t address, uint64_t size) {
  uint64_t value = 0;
  Environment* environment = run->context.env;
  if (environment == nullptr || size > sizeof value ||
      environment->read_kernel(&value, address, static_cast<uint32_t>(size)) < 0) {
    return 0;
  }
  return value;
}

uint64_t interpreted_tail_call(JitRun* run, uint64_t r1) {
  return run_tail_call_target(*run->pending_tail_target, r1, run->context);
}

}  // namespace jit

uint64_t jit_run(const Program& program, void* context, Environment* environment) {
  return jit::start(program, reinterpret_cast<uint64_t>(context), 0, environment, context).value;
}

JitRunResult jit_run_registers(const Program& program, uint64_t r1, uint64_t r2,
                               Environment* environment) {
  return jit::start(program, r1, r2, environment, reinterpret_cast<void*>(r1));
}

}  // namespace ebpf
