// SPDX-License-Identifier: MIT
// The interpreter: computed-goto dispatch over the instruction stream, one body for verified
// (unchecked) and unverified (checked) runs, chosen at compile time.
#include "ebpf/interpreter.hpp"

#include "ebpf/environment.hpp"
#include "ebpf/map.hpp"

namespace ebpf {
namespace {

constexpr int32_t kHelperTailCall = 12;  // BPF_FUNC_tail_call
constexpr uint32_t kStackBytes = kStackSize * kMaxCallDepth;

// A bpf-to-bpf call in progress. The caller's program is kept because a tail call inside
// the callee replaces the callee only: its exit returns to the caller, as with Linux's JIT.
struct Frame {
  uint64_t saved[4];  // r6..r9 of the caller
  uint64_t frame_pointer;
  const Insn* return_insn;
  const Program* program;
};

struct Engine {
  const Program* program;
  ExecContext* context;
  uint8_t* stack_base;  // lowest stack address; frame i's r10 is stack_top - i * 512
  uint8_t* stack_top;
  Frame frames[kMaxCallDepth];
  int depth;  // frames in use below the current one
  const CheckedRunOptions* checked;
  uint64_t budget;
  RunStatus status;
  uint32_t fail_pc;
};

inline uint16_t swap16(uint16_t v) { return __builtin_bswap16(v); }
inline uint32_t swap32(uint32_t v) { return __builtin_bswap32(v); }
inline uint64_t swap64(uint64_t v) { return __builtin_bswap64(v); }

// Checked runs: fields RFC 9669 reserves (must be zero) are zero, as Linux's verifier
// demands ("uses reserved fields"). Opcode-specific values (division offset, MOVSX width,
// swap width, atomic operation) are checked by their handlers.
bool reserved_fields_clear(const Insn& insn) {
  uint8_t op = op_code(insn.opcode);
  bool x = op_source(insn.opcode) == kSrcX;
  switch (insn_class(insn.opcode)) {
    case kClassAlu:
    case kClassAlu64:
      if (op == kAluEnd || op == kAluNeg)
        return insn.src == 0 && insn.offset == 0 && (op == kAluEnd || insn.imm == 0);
      if (x)
        return insn.imm == 0 &&
               (insn.offset == 0 || op == kAluDiv || op == kAluMod || op == kAluMov);
      return insn.src == 0 && (insn.offset == 0 || op == kAluDiv || op == kAluMod);
    case kClassJmp:
    case kClassJmp32:
      if (op == kJmpCall)
        return insn.offset == 0 && (x ? insn.src == 0 && insn.imm == 0 : insn.dst == 0);
      if (op == kJmpExit)
        return insn.src == 0 && insn.dst == 0 && insn.offset == 0 && insn.imm == 0;
      if (op == kJmpJa) {
        return insn.src == 0 && insn.dst == 0 &&
               (insn_class(insn.opcode) == kClassJmp ? insn.imm == 0 : insn.offset == 0);
      }
      return x ? insn.imm == 0 : insn.src == 0;
    case kClassLdx: return insn.imm == 0;
    case kClassSt: return insn.src == 0;
    case kClassStx: return op_mode(insn.opcode) == kModeAtomic || insn.imm == 0;
    case kClassLd: return insn.offset == 0;
  }
  return true;
}

bool access_allowed(const Engine& e, uint64_t address, uint64_t size, bool write) {
  uint64_t stack = reinterpret_cast<uint64_t>(e.stack_base);
  if (address >= stack && address + size <= stack + kStackBytes && address + size >= address)
    return true;
  for (size_t i = 0; i < e.checked->region_count; ++i) {
    const MemoryRegion& r = e.checked->regions[i];
    if (address >= r.start && size <= r.size && address - r.start <= r.size - size) {
      return !write || r.writable;
    }
  }
  return false;
}

template <bool kChecked>
uint64_t execute(Engine& e, uint32_t start_pc, const uint64_t arguments[5], uint64_t frame_pointer);

template <bool kChecked>
uint64_t invoke_callback(ExecContext& context, uint64_t function, uint64_t a1, uint64_t a2,
                         uint64_t a3, uint64_t a4, uint64_t a5) {
  auto& e = *static_cast<Engine*>(context.engine_state);
  if (e.depth + 1 >= kMaxCallDepth) {
    e.status = RunStatus::kCallDepthExceeded;
    context.abort_requested = true;
    return 0;
  }
  if (kChecked && function >= e.program->insn_count) {
    e.status = RunStatus::kJumpOutOfRange;
    context.abort_requested = true;
    return 0;
  }
  // A callback runs as a new frame below the current deepest one; its exit returns here.
  // The program is restored afterwards in case the callback made a tail call.
  const Program* program = e.program;
  ++e.depth;
  e.frames[e.depth - 1] = Frame{{0, 0, 0, 0}, 0, nullptr, program};
  uint64_t arguments[5] = {a1, a2, a3, a4, a5};
  uint64_t result =
      execute<kChecked>(e, static_cast<uint32_t>(function), arguments,
                        reinterpret_cast<uint64_t>(e.stack_top) - e.depth * kStackSize);
  --e.depth;
  e.program = program;
  context.program = program;
  return result;
}

template <bool kChecked>
uint64_t execute(Engine& e, uint32_t start_pc, const uint64_t arguments[5],
                 uint64_t frame_pointer) {
  uint64_t reg[kNumRegisters] = {};
  for (int i = 0; i < 5; ++i) reg[i + 1] = arguments[i];
  reg[kFramePointer] = frame_pointer;
  const int base_depth = e.depth;
  const Insn* insns = e.program->insns;
  uint32_t count = e.program->insn_count;
  const Insn* insn = insns + start_pc;
  int32_t helper_id = 0;

  // Opcode -> handler. Constant-initialised (no first-run race between threads); label
  // addresses differ per template instantiation, so the table lives inside the function.
  static const void* const dispatch[256] = {
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0x00
      &&alu32_add_k,    &&jmp_ja,       &&jmp32_ja,     &&alu64_add_k,     // 0x04
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0x08
      &&alu32_add_x,    &&invalid,      &&invalid,      &&alu64_add_x,     // 0x0c
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0x10
      &&alu32_sub_k,    &&jmp_jeq_k,    &&jmp32_jeq_k,  &&alu64_sub_k,     // 0x14
      &&ld_imm64,       &&invalid,      &&invalid,      &&invalid,         // 0x18
      &&alu32_sub_x,    &&jmp_jeq_x,    &&jmp32_jeq_x,  &&alu64_sub_x,     // 0x1c
      &&invalid,        &&ldx_probe_w,  &&invalid,      &&invalid,         // 0x20
      &&alu32_mul_k,    &&jmp_jgt_k,    &&jmp32_jgt_k,  &&alu64_mul_k,     // 0x24
      &&invalid,        &&ldx_probe_h,  &&invalid,      &&invalid,         // 0x28
      &&alu32_mul_x,    &&jmp_jgt_x,    &&jmp32_jgt_x,  &&alu64_mul_x,     // 0x2c
      &&invalid,        &&ldx_probe_b,  &&invalid,      &&invalid,         // 0x30
      &&alu32_divmod_k, &&jmp_jge_k,    &&jmp32_jge_k,  &&alu64_divmod_k,  // 0x34
      &&invalid,        &&ldx_probe_dw, &&invalid,      &&invalid,         // 0x38
      &&alu32_divmod_x, &&jmp_jge_x,    &&jmp32_jge_x,  &&alu64_divmod_x,  // 0x3c
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0x40
      &&alu32_or_k,     &&jmp_jset_k,   &&jmp32_jset_k, &&alu64_or_k,      // 0x44
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0x48
      &&alu32_or_x,     &&jmp_jset_x,   &&jmp32_jset_x, &&alu64_or_x,      // 0x4c
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0x50
      &&alu32_and_k,    &&jmp_jne_k,    &&jmp32_jne_k,  &&alu64_and_k,     // 0x54
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0x58
      &&alu32_and_x,    &&jmp_jne_x,    &&jmp32_jne_x,  &&alu64_and_x,     // 0x5c
      &&invalid,        &&ldx_w,        &&st_w,         &&stx_w,           // 0x60
      &&alu32_lsh_k,    &&jmp_jsgt_k,   &&jmp32_jsgt_k, &&alu64_lsh_k,     // 0x64
      &&invalid,        &&ldx_h,        &&st_h,         &&stx_h,           // 0x68
      &&alu32_lsh_x,    &&jmp_jsgt_x,   &&jmp32_jsgt_x, &&alu64_lsh_x,     // 0x6c
      &&invalid,        &&ldx_b,        &&st_b,         &&stx_b,           // 0x70
      &&alu32_rsh_k,    &&jmp_jsge_k,   &&jmp32_jsge_k, &&alu64_rsh_k,     // 0x74
      &&invalid,        &&ldx_dw,       &&st_dw,        &&stx_dw,          // 0x78
      &&alu32_rsh_x,    &&jmp_jsge_x,   &&jmp32_jsge_x, &&alu64_rsh_x,     // 0x7c
      &&invalid,        &&ldx_sw,       &&invalid,      &&invalid,         // 0x80
      &&alu32_neg,      &&jmp_call,     &&invalid,      &&alu64_neg,       // 0x84
      &&invalid,        &&ldx_sh,       &&invalid,      &&invalid,         // 0x88
      &&invalid,        &&jmp_callx,    &&invalid,      &&invalid,         // 0x8c
      &&invalid,        &&ldx_sb,       &&invalid,      &&invalid,         // 0x90
      &&alu32_divmod_k, &&jmp_exit,     &&invalid,      &&alu64_divmod_k,  // 0x94
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0x98
      &&alu32_divmod_x, &&invalid,      &&invalid,      &&alu64_divmod_x,  // 0x9c
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xa0
      &&alu32_xor_k,    &&jmp_jlt_k,    &&jmp32_jlt_k,  &&alu64_xor_k,     // 0xa4
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xa8
      &&alu32_xor_x,    &&jmp_jlt_x,    &&jmp32_jlt_x,  &&alu64_xor_x,     // 0xac
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xb0
      &&alu32_mov_k,    &&jmp_jle_k,    &&jmp32_jle_k,  &&alu64_mov_k,     // 0xb4
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xb8
      &&alu32_mov_x,    &&jmp_jle_x,    &&jmp32_jle_x,  &&alu64_mov_x,     // 0xbc
      &&invalid,        &&invalid,      &&invalid,      &&atomic_w,        // 0xc0
      &&alu32_arsh_k,   &&jmp_jslt_k,   &&jmp32_jslt_k, &&alu64_arsh_k,    // 0xc4
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xc8
      &&alu32_arsh_x,   &&jmp_jslt_x,   &&jmp32_jslt_x, &&alu64_arsh_x,    // 0xcc
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xd0
      &&alu32_end_le,   &&jmp_jsle_k,   &&jmp32_jsle_k, &&alu64_bswap,     // 0xd4
      &&invalid,        &&invalid,      &&invalid,      &&atomic_dw,       // 0xd8
      &&alu32_end_be,   &&jmp_jsle_x,   &&jmp32_jsle_x, &&invalid,         // 0xdc
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xe0
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xe4
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xe8
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xec
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xf0
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xf4
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xf8
      &&invalid,        &&invalid,      &&invalid,      &&invalid,         // 0xfc
  };

#define PC static_cast<uint32_t>(insn - insns)
#define FAIL(why)     \
  do {                \
    e.status = (why); \
    e.fail_pc = PC;   \
    return 0;         \
  } while (0)
#define NEXT_AT(target)                                                        \
  do {                                                                         \
    insn = (target);                                                           \
    if constexpr (kChecked) {                                                  \
      if (insn < insns || insn >= insns + count) {                             \
        insn = insns;                                                          \
        FAIL(RunStatus::kJumpOutOfRange);                                      \
      }                                                                        \
      if (e.budget-- == 0) FAIL(RunStatus::kBudgetExhausted);                  \
      if (insn->dst > 10 || insn->src > 10 || !reserved_fields_clear(*insn)) { \
        FAIL(RunStatus::kInvalidInstruction);                                  \
      }                                                                        \
    }                                                                          \
    goto* dispatch[insn->opcode];                                              \
  } while (0)
#define NEXT NEXT_AT(insn + 1)
#define DST reg[insn->dst]
#define SRC reg[insn->src]
#define IMM insn->imm
#define OFF insn->offset
#define CHECK_ACCESS(address, size, write)                                               \
  do {                                                                                   \
    if constexpr (kChecked) {                                                            \
      if (!access_allowed(e, (address), (size), (write))) FAIL(RunStatus::kOutOfBounds); \
    }                                                                                    \
  } while (0)

  NEXT_AT(insn);

invalid:
  FAIL(RunStatus::kInvalidInstruction);

  // ALU64 and ALU with immediate (K) and register (X) sources.
#define ALU_BOTH(name, op64, op32)                                                                 \
  alu64_##name##_k : DST = op64(DST, static_cast<uint64_t>(static_cast<int64_t>(IMM)));            \
  NEXT;                                                                                            \
  alu64_##name##_x : DST = op64(DST, SRC);                                                         \
  NEXT;                                                                                            \
  alu32_##name##_k                                                                                 \
      : DST = static_cast<uint32_t>(op32(static_cast<uint32_t>(DST), static_cast<uint32_t>(IMM))); \
  NEXT;                                                                                            \
  alu32_##name##_x                                                                                 \
      : DST = static_cast<uint32_t>(op32(static_cast<uint32_t>(DST), static_cast<uint32_t>(SRC))); \
  NEXT;
#define OP_ADD(a, b) ((a) + (b))
#define OP_SUB(a, b) ((a) - (b))
#define OP_MUL(a, b) ((a) * (b))
#define OP_OR(a, b) ((a) | (b))
#define OP_AND(a, b) ((a) & (b))
#define OP_XOR(a, b) ((a) ^ (b))
#define OP_LSH64(a, b) ((a) << ((b)&63))
#define OP_RSH64(a, b) ((a) >> ((b)&63))
#define OP_LSH32(a, b) ((a) << ((b)&31))
#define OP_RSH32(a, b) ((a) >> ((b)&31))
#define OP_ARSH64(a, b) static_cast<uint64_t>(static_cast<int64_t>(a) >> ((b)&63))
#define OP_ARSH32(a, b) static_cast<uint32_t>(static_cast<int32_t>(a) >> ((b)&31))
  ALU_BOTH(add, OP_ADD, OP_ADD)
  ALU_BOTH(sub, OP_SUB, OP_SUB)
  ALU_BOTH(mul, OP_MUL, OP_MUL)
  ALU_BOTH(or, OP_OR, OP_OR)
  ALU_BOTH(and, OP_AND, OP_AND)
  ALU_BOTH(xor, OP_XOR, OP_XOR)
  ALU_BOTH(lsh, OP_LSH64, OP_LSH32)
  ALU_BOTH(rsh, OP_RSH64, OP_RSH32)
  ALU_BOTH(arsh, OP_ARSH64, OP_ARSH32)

  // Division and modulo: unsigned when offset is 0, signed (SDIV/SMOD) when 1. Division by
  // zero gives 0; modulo by zero leaves the dividend (truncated to 32 bits for ALU32).
#define DIVMOD64(divisor_expr)                                                  \
  {                                                                             \
    uint64_t divisor = (divisor_expr);                                          \
    bool is_div = (insn->opcode & 0xf0) == kAluDiv;                             \
    if (OFF == 0) {                                                             \
      if (is_div)                                                               \
        DST = divisor ? DST / divisor : 0;                                      \
      else if (divisor)                                                         \
        DST = DST % divisor;                                                    \
    } else if (OFF == 1) {                                                      \
      int64_t a = static_cast<int64_t>(DST), b = static_cast<int64_t>(divisor); \
      if (is_div)                                                               \
        DST = b == 0 ? 0 : (b == -1 ? 0 - DST : static_cast<uint64_t>(a / b));  \
      else if (b != 0)                                                          \
        DST = b == -1 ? 0 : static_cast<uint64_t>(a % b);                       \
    } else {                                                                    \
      FAIL(RunStatus::kInvalidInstruction);                                     \
    }                                                                           \
    NEXT;                                                                       \
  }
#define DIVMOD32(divisor_expr)                                                               \
  {                                                                                          \
    uint32_t divisor = static_cast<uint32_t>(divisor_expr);                                  \
    uint32_t dividend = static_cast<uint32_t>(DST);                                          \
    bool is_div = (insn->opcode & 0xf0) == kAluDiv;                                          \
    if (OFF == 0) {                                                                          \
      if (is_div)                                                                            \
        DST = divisor ? dividend / divisor : 0;                                              \
      else                                                                                   \
        DST = divisor ? dividend % divisor : dividend;                                       \
    } else if (OFF == 1) {                                                                   \
      int32_t a = static_cast<int32_t>(dividend), b = static_cast<int32_t>(divisor);         \
      if (is_div)                                                                            \
        DST = static_cast<uint32_t>(                                                         \
            b == 0 ? 0 : (b == -1 ? 0u - dividend : static_cast<uint32_t>(a / b)));          \
      else                                                                                   \
        DST = static_cast<uint32_t>(b == 0 ? dividend                                        \
                                           : (b == -1 ? 0u : static_cast<uint32_t>(a % b))); \
    } else {                                                                                 \
      FAIL(RunStatus::kInvalidInstruction);                                                  \
    }                                                                                        \
    NEXT;                                                                                    \
  }
alu64_divmod_k:
  DIVMOD64(static_cast<uint64_t>(static_cast<int64_t>(IMM)))
alu64_divmod_x:
  DIVMOD64(SRC)
alu32_divmod_k:
  DIVMOD32(IMM)
alu32_divmod_x:
  DIVMOD32(SRC)

alu64_neg:
  DST = 0 - DST;
  NEXT;
alu32_neg:
  DST = static_cast<uint32_t>(0u - static_cast<uint32_t>(DST));
  NEXT;

  // MOV, and MOVSX when offset is 8, 16 or 32.
alu64_mov_k:
  DST = static_cast<uint64_t>(static_cast<int64_t>(IMM));
  NEXT;
alu64_mov_x:
  switch (OFF) {
    case 0: DST = SRC; break;
    case 8: DST = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(SRC))); break;
    case 16: DST = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(SRC))); break;
    case 32: DST = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(SRC))); break;
    default: FAIL(RunStatus::kInvalidInstruction);
  }
  NEXT;
alu32_mov_k:
  DST = static_cast<uint32_t>(IMM);
  NEXT;
alu32_mov_x:
  switch (OFF) {
    case 0: DST = static_cast<uint32_t>(SRC); break;
    case 8: DST = static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(SRC))); break;
    case 16: DST = static_cast<uint32_t>(static_cast<int32_t>(static_cast<int16_t>(SRC))); break;
    default: FAIL(RunStatus::kInvalidInstruction);
  }
  NEXT;

  // Byte order: ALU END converts to little (host order: truncate) or big endian; ALU64 END
  // swaps unconditionally.
alu32_end_le:
  switch (IMM) {
    case 16: DST = static_cast<uint16_t>(DST); break;
    case 32: DST = static_cast<uint32_t>(DST); break;
    case 64: break;
    default: FAIL(RunStatus::kInvalidInstruction);
  }
  NEXT;
alu32_end_be:
alu64_bswap:
  switch (IMM) {
    case 16: DST = swap16(static_cast<uint16_t>(DST)); break;
    case 32: DST = swap32(static_cast<uint32_t>(DST)); break;
    case 64: DST = swap64(DST); break;
    default: FAIL(RunStatus::kInvalidInstruction);
  }
  NEXT;

  // Jumps.
jmp_ja:
  NEXT_AT(insn + 1 + OFF);
jmp32_ja:
  NEXT_AT(insn + 1 + IMM);
#define JUMP_BOTH(name, cmp)                                                               \
  jmp_##name##_k                                                                           \
      : if (cmp(DST, static_cast<uint64_t>(static_cast<int64_t>(IMM)), uint64_t, int64_t)) \
            NEXT_AT(insn + 1 + OFF);                                                       \
  NEXT;                                                                                    \
  jmp_##name##_x : if (cmp(DST, SRC, uint64_t, int64_t)) NEXT_AT(insn + 1 + OFF);          \
  NEXT;                                                                                    \
  jmp32_##name##_k : if (cmp(DST, static_cast<uint32_t>(IMM), uint32_t, int32_t))          \
                         NEXT_AT(insn + 1 + OFF);                                          \
  NEXT;                                                                                    \
  jmp32_##name##_x : if (cmp(DST, SRC, uint32_t, int32_t)) NEXT_AT(insn + 1 + OFF);        \
  NEXT;
#define CMP_EQ(a, b, U, S) (static_cast<U>(a) == static_cast<U>(b))
#define CMP_NE(a, b, U, S) (static_cast<U>(a) != static_cast<U>(b))
#define CMP_GT(a, b, U, S) (static_cast<U>(a) > static_cast<U>(b))
#define CMP_GE(a, b, U, S) (static_cast<U>(a) >= static_cast<U>(b))
#define CMP_LT(a, b, U, S) (static_cast<U>(a) < static_cast<U>(b))
#define CMP_LE(a, b, U, S) (static_cast<U>(a) <= static_cast<U>(b))
#define CMP_SET(a, b, U, S) ((static_cast<U>(a) & static_cast<U>(b)) != 0)
#define CMP_SGT(a, b, U, S) (static_cast<S>(static_cast<U>(a)) > static_cast<S>(static_cast<U>(b)))
#define CMP_SGE(a, b, U, S) (static_cast<S>(static_cast<U>(a)) >= static_cast<S>(static_cast<U>(b)))
#define CMP_SLT(a, b, U, S) (static_cast<S>(static_cast<U>(a)) < static_cast<S>(static_cast<U>(b)))
#define CMP_SLE(a, b, U, S) (static_cast<S>(static_cast<U>(a)) <= static_cast<S>(static_cast<U>(b)))
  JUMP_BOTH(jeq, CMP_EQ)
  JUMP_BOTH(jne, CMP_NE)
  JUMP_BOTH(jgt, CMP_GT)
  JUMP_BOTH(jge, CMP_GE)
  JUMP_BOTH(jlt, CMP_LT)
  JUMP_BOTH(jle, CMP_LE)
  JUMP_BOTH(jset, CMP_SET)
  JUMP_BOTH(jsgt, CMP_SGT)
  JUMP_BOTH(jsge, CMP_SGE)
  JUMP_BOTH(jslt, CMP_SLT)
  JUMP_BOTH(jsle, CMP_SLE)

  // Calls: helpers (src 0), bpf-to-bpf (src 1), and callx (helper id in a register).
jmp_call : {
  if (insn->src == kPseudoCall) {
    if (e.depth + 1 >= kMaxCallDepth) FAIL(RunStatus::kCallDepthExceeded);
    Frame& frame = e.frames[e.depth++];
    frame.saved[0] = reg[6];
    frame.saved[1] = reg[7];
    frame.saved[2] = reg[8];
    frame.saved[3] = reg[9];
    frame.frame_pointer = reg[kFramePointer];
    frame.return_insn = insn + 1;
    frame.program = e.program;
    reg[kFramePointer] -= kStackSize;
    NEXT_AT(insn + 1 + IMM);
  }
  if (insn->src != kCallHelper) FAIL(RunStatus::kInvalidInstruction);
  helper_id = IMM;
  if (helper_id == kHelperTailCall) goto tail_call;
  goto helper_call;
}
helper_call:
  if (static_cast<uint32_t>(helper_id) >= e.program->helper_count ||
      e.program->helpers[helper_id] == nullptr) {
    FAIL(RunStatus::kUnknownHelper);
  }
  reg[0] = e.program->helpers[helper_id](*e.context, reg[1], reg[2], reg[3], reg[4], reg[5]);
  if (e.context->abort_requested) {
    if (e.status == RunStatus::kOk) e.status = RunStatus::kAborted;
    e.fail_pc = PC;
    return 0;
  }
  NEXT;
tail_call : {
  Map* map = reinterpret_cast<Map*>(reg[2]);
  uint32_t index = static_cast<uint32_t>(reg[3]);
  if constexpr (kChecked) {
    // An unverified program may pass anything as the map: only listed maps are used.
    bool listed = false;
    for (size_t i = 0; i < e.checked->tail_call_map_count; ++i)
      listed |= e.checked->tail_call_maps[i] == map;
    if (!listed) FAIL(RunStatus::kOutOfBounds);
  }
  const Program* target = map->tail_call_target(index);
  if (target == nullptr || e.context->tail_call_count >= static_cast<uint32_t>(kMaxTailCalls)) NEXT;
  ++e.context->tail_call_count;
  e.program = target;
  e.context->program = target;
  insns = target->insns;
  count = target->insn_count;
  NEXT_AT(insns);
}
jmp_callx:
  helper_id = static_cast<int32_t>(reg[insn->dst]);
  if (helper_id == kHelperTailCall) goto tail_call;
  goto helper_call;

jmp_exit:
  if (e.depth == base_depth) return reg[0];
  {
    Frame& frame = e.frames[--e.depth];
    reg[6] = frame.saved[0];
    reg[7] = frame.saved[1];
    reg[8] = frame.saved[2];
    reg[9] = frame.saved[3];
    reg[kFramePointer] = frame.frame_pointer;
    if (frame.program != e.program) {  // the callee tail-called: back to the caller's code
      e.program = frame.program;
      e.context->program = frame.program;
      insns = frame.program->insns;
      count = frame.program->insn_count;
    }
    NEXT_AT(frame.return_insn);
  }

  // 64-bit immediate load (two slots). Map references were resolved at load time.
ld_imm64:
  if constexpr (kChecked) {
    // A second slot must follow, and pseudo sources must have been rewritten at load time
    // (prepare_for_execution); an unresolved map fd is no pointer.
    if (PC + 1 >= count || insn->src != kPseudoImm64 || insn[1].opcode != 0)
      FAIL(RunStatus::kInvalidInstruction);
  }
  DST = static_cast<uint32_t>(IMM) |
        (static_cast<uint64_t>(static_cast<uint32_t>(insn[1].imm)) << 32);
  NEXT_AT(insn + 2);

  // Loads and stores.
#define LOAD(name, type, result_type)                                               \
  name : {                                                                          \
    uint64_t address = SRC + static_cast<int64_t>(OFF);                             \
    CHECK_ACCESS(address, sizeof(type), false);                                     \
    type value;                                                                     \
    __builtin_memcpy(&value, reinterpret_cast<const void*>(address), sizeof(type)); \
    DST = static_cast<uint64_t>(static_cast<result_type>(value));                   \
    NEXT;                                                                           \
  }
  LOAD(ldx_b, uint8_t, uint8_t)
  LOAD(ldx_h, uint16_t, uint16_t)
  LOAD(ldx_w, uint32_t, uint32_t)
  LOAD(ldx_dw, uint64_t, uint64_t)
  LOAD(ldx_sb, int8_t, int64_t)
  LOAD(ldx_sh, int16_t, int64_t)
  LOAD(ldx_sw, int32_t, int64_t)
  // BPF_PROBE_MEM: a field of a kernel struct through a BTF-typed pointer (the verifier marked
  // the load), read from traced memory as bpf_probe_read_kernel does; 0 where it is unreadable.
#define PROBE_LOAD(name, type)                                                                 \
  name : {                                                                                     \
    uint64_t address = SRC + static_cast<int64_t>(OFF);                                        \
    type value = 0;                                                                            \
    Environment* environment = e.context->env;                                                 \
    if (environment == nullptr || environment->read_kernel(&value, address, sizeof(type)) < 0) \
      value = 0;                                                                               \
    DST = static_cast<uint64_t>(value);                                                        \
    NEXT;                                                                                      \
  }
  PROBE_LOAD(ldx_probe_b, uint8_t)
  PROBE_LOAD(ldx_probe_h, uint16_t)
  PROBE_LOAD(ldx_probe_w, uint32_t)
  PROBE_LOAD(ldx_probe_dw, uint64_t)
#define STORE(name, type, value_expr)                                         \
  name : {                                                                    \
    uint64_t address = DST + static_cast<int64_t>(OFF);                       \
    CHECK_ACCESS(address, sizeof(type), true);                                \
    type value = static_cast<type>(value_expr);                               \
    __builtin_memcpy(reinterpret_cast<void*>(address), &value, sizeof(type)); \
    NEXT;                                                                     \
  }
  STORE(st_b, uint8_t, IMM)
  STORE(st_h, uint16_t, IMM)
  STORE(st_w, uint32_t, IMM)
  STORE(st_dw, uint64_t, static_cast<int64_t>(IMM))
  STORE(stx_b, uint8_t, SRC)
  STORE(stx_h, uint16_t, SRC)
  STORE(stx_w, uint32_t, SRC)
  STORE(stx_dw, uint64_t, SRC)

  // Atomic read-modify-write on 32 or 64 bits.
#define ATOMIC(name, type)                                                               \
  name : {                                                                               \
    uint64_t address = DST + static_cast<int64_t>(OFF);                                  \
    CHECK_ACCESS(address, sizeof(type), true);                                           \
    if constexpr (kChecked) {                                                            \
      if (address % sizeof(type) != 0) FAIL(RunStatus::kOutOfBounds);                    \
    }                                                                                    \
    type* target = reinterpret_cast<type*>(address);                                     \
    type operand = static_cast<type>(SRC);                                               \
    type old;                                                                            \
    switch (IMM) {                                                                       \
      case kAtomicAdd:                                                                   \
      case kAtomicAdd | kAtomicFetch:                                                    \
        old = __atomic_fetch_add(target, operand, __ATOMIC_SEQ_CST);                     \
        break;                                                                           \
      case kAtomicOr:                                                                    \
      case kAtomicOr | kAtomicFetch:                                                     \
        old = __atomic_fetch_or(target, operand, __ATOMIC_SEQ_CST);                      \
        break;                                                                           \
      case kAtomicAnd:                                                                   \
      case kAtomicAnd | kAtomicFetch:                                                    \
        old = __atomic_fetch_and(target, operand, __ATOMIC_SEQ_CST);                     \
        break;                                                                           \
      case kAtomicXor:                                                                   \
      case kAtomicXor | kAtomicFetch:                                                    \
        old = __atomic_fetch_xor(target, operand, __ATOMIC_SEQ_CST);                     \
        break;                                                                           \
      case kAtomicXchg:                                                                  \
        old = __atomic_exchange_n(target, operand, __ATOMIC_SEQ_CST);                    \
        SRC = old;                                                                       \
        NEXT;                                                                            \
      case kAtomicCmpxchg: {                                                             \
        type expected = static_cast<type>(reg[0]);                                       \
        __atomic_compare_exchange_n(target, &expected, operand, false, __ATOMIC_SEQ_CST, \
                                    __ATOMIC_SEQ_CST);                                   \
        reg[0] = expected; /* the old value, zero-extended for 32 bits */                \
        NEXT;                                                                            \
      }                                                                                  \
      default: FAIL(RunStatus::kInvalidInstruction);                                     \
    }                                                                                    \
    if (IMM & kAtomicFetch) SRC = old;                                                   \
    NEXT;                                                                                \
  }
  ATOMIC(atomic_w, uint32_t)
  ATOMIC(atomic_dw, uint64_t)
}

template <bool kChecked>
RunResult start(const Program& program, uint64_t r1, uint64_t r2, Environment* environment,
                void* program_context, const CheckedRunOptions* checked,
                ExecContext* parent = nullptr) {
  alignas(16) uint8_t stack[kStackBytes];
  ExecContext context;
  context.env = environment;
  context.program = &program;
  context.program_context = program_context;
  context.invoke_callback = invoke_callback<kChecked>;
  if (parent != nullptr) context.tail_call_count = parent->tail_call_count;
  Engine engine;
  engine.program = &program;
  engine.context = &context;
  engine.stack_base = stack;
  engine.stack_top = stack + kStackBytes;
  engine.depth = 0;
  engine.checked = checked;
  engine.budget = checked ? checked->instruction_budget : 0;
  engine.status = RunStatus::kOk;
  engine.fail_pc = 0;
  context.engine_state = &engine;
  if (kChecked && program.insn_count == 0) return RunResult{RunStatus::kJumpOutOfRange, 0, 0};
  uint64_t arguments[5] = {r1, r2, 0, 0, 0};
  uint64_t value =
      execute<kChecked>(engine, 0, arguments, reinterpret_cast<uint64_t>(engine.stack_top));
  if (parent != nullptr) {
    parent->tail_call_count = context.tail_call_count;
    if (engine.status != RunStatus::kOk) parent->abort_requested = true;
  }
  return RunResult{engine.status, engine.status == RunStatus::kOk ? value : 0, engine.fail_pc};
}

}  // namespace

const char* run_status_message(RunStatus status) {
  switch (status) {
    case RunStatus::kOk: return "ok";
    case RunStatus::kInvalidInstruction: return "invalid instruction";
    case RunStatus::kOutOfBounds: return "memory access out of bounds";
    case RunStatus::kCallDepthExceeded: return "call depth exceeded";
    case RunStatus::kUnknownHelper: return "unknown helper function";
    case RunStatus::kBudgetExhausted: return "instruction budget exhausted";
    case RunStatus::kJumpOutOfRange: return "jump out of range";
    case RunStatus::kAborted: return "aborted by a helper";
  }
  return "unknown status";
}

uint64_t run(const Program& program, void* context, Environment* environment) {
  return start<false>(program, reinterpret_cast<uint64_t>(context), 0, environment, context,
                      nullptr)
      .value;
}

uint64_t run_tail_call_target(const Program& program, uint64_t r1, ExecContext& parent) {
  return start<false>(program, r1, 0, parent.env, parent.program_context, nullptr, &parent).value;
}

RunResult run_checked(const Program& program, uint64_t r1, uint64_t r2, Environment* environment,
                      const CheckedRunOptions& options) {
  return start<true>(program, r1, r2, environment, reinterpret_cast<void*>(r1), &options);
}

void request_abort(ExecContext& context) { context.abort_requested = true; }

}  // namespace ebpf
