// SPDX-License-Identifier: MIT
// Execute out of line: Zydis decodes the probed instruction; this decides how it runs.
#include "trace/xol.hpp"

#include <Zydis/Decoder.h>
#include <Zydis/Register.h>
#include <Zydis/Utils.h>

#include "sonde/abi/ipc.hpp"
#include "xol_avoiding.hpp"

namespace trace {
namespace {

using rt::err;
using rt::kEINVAL;
using rt::kENOTSUPP;

// x86 register numbers (ModRM.rm plus REX.B).
constexpr int kRsp = 4;
constexpr int kR12 = 12;  // rm=100 with REX.B: a SIB byte follows, like rsp
constexpr int kGeneralRegisterCount = 16;

constexpr int8_t user_register_word(size_t offset) {
  return static_cast<int8_t>(offset / sizeof(uint64_t));
}
using sonde::abi::UserRegisters;
// UserRegisters' word of each general register, by x86 number.
constexpr int8_t kUserRegisterWord[kGeneralRegisterCount] = {
    user_register_word(offsetof(UserRegisters, rax)),
    user_register_word(offsetof(UserRegisters, rcx)),
    user_register_word(offsetof(UserRegisters, rdx)),
    user_register_word(offsetof(UserRegisters, rbx)),
    user_register_word(offsetof(UserRegisters, rsp)),
    user_register_word(offsetof(UserRegisters, rbp)),
    user_register_word(offsetof(UserRegisters, rsi)),
    user_register_word(offsetof(UserRegisters, rdi)),
    user_register_word(offsetof(UserRegisters, r8)),
    user_register_word(offsetof(UserRegisters, r9)),
    user_register_word(offsetof(UserRegisters, r10)),
    user_register_word(offsetof(UserRegisters, r11)),
    user_register_word(offsetof(UserRegisters, r12)),
    user_register_word(offsetof(UserRegisters, r13)),
    user_register_word(offsetof(UserRegisters, r14)),
    user_register_word(offsetof(UserRegisters, r15)),
};

// The fix-up register candidates, in order of preference: those ModRM.rm reaches without REX.B
// first, so that an instruction without REX needs no prefix inserted.
constexpr int kFixupCandidates[] = {0, 1, 2, 3, 6, 7, 5, 8, 9, 10, 11, 13, 14, 15};

struct Decoded {
  ZydisDecodedInstruction instruction;
  ZydisDecodedOperand operands[ZYDIS_MAX_OPERAND_COUNT];
};

rt::Result<void> refuse_unsteppable(const Decoded& decoded) {
  const ZydisDecodedInstruction& instruction = decoded.instruction;
  switch (instruction.mnemonic) {
    case ZYDIS_MNEMONIC_INT3:
    case ZYDIS_MNEMONIC_INT:
    case ZYDIS_MNEMONIC_INT1:
    case ZYDIS_MNEMONIC_INTO:
      return err(kENOTSUPP, "uprobe: cannot probe a trap instruction (int3, int, into)");
    case ZYDIS_MNEMONIC_SYSCALL:
    case ZYDIS_MNEMONIC_SYSENTER:
    case ZYDIS_MNEMONIC_SYSEXIT:
    case ZYDIS_MNEMONIC_SYSRET:
      return err(kENOTSUPP, "uprobe: cannot probe a system call instruction");
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_IRETQ: return err(kENOTSUPP, "uprobe: cannot probe iret");
    // A probe on an instruction whose only effect is #UD fires at most once: refused, as Linux.
    case ZYDIS_MNEMONIC_UD0:
    case ZYDIS_MNEMONIC_UD1:
    case ZYDIS_MNEMONIC_UD2: return err(kENOTSUPP, "uprobe: cannot probe ud0, ud1 or ud2");
    default: break;
  }
  if (instruction.attributes & ZYDIS_ATTRIB_IS_PRIVILEGED) {
    return err(kENOTSUPP, "uprobe: cannot probe a privileged instruction");
  }
  if (instruction.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) {
    return err(kENOTSUPP, "uprobe: cannot probe a far jump, call or return");
  }
  // A single step runs one iteration of a rep-prefixed string instruction and leaves rip on
  // it: the copy in the slot would then run on unstepped into what follows it. GAP: Linux
  // steps these; here they are refused.
  if (instruction.attributes &
      (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)) {
    return err(kENOTSUPP, "uprobe: cannot probe a rep-prefixed string instruction");
  }
  return {};
}

bool is_instruction_pointer(ZydisRegister reg) {
  return reg == ZYDIS_REGISTER_RIP || reg == ZYDIS_REGISTER_EIP || reg == ZYDIS_REGISTER_IP;
}

// jmp, jcc and call with a rel8/rel16/rel32 operand: emulated, never stepped.
const ZydisDecodedOperand* relative_branch_operand(const Decoded& decoded) {
  for (uint8_t i = 0; i < decoded.instruction.operand_count_visible; ++i) {
    const ZydisDecodedOperand& operand = decoded.operands[i];
    if (operand.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && operand.imm.is_relative) return &operand;
  }
  return nullptr;
}

bool is_conditional_jump(const ZydisDecodedInstruction& instruction) {
  if (instruction.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY) return false;
  if (instruction.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT)
    return (instruction.opcode & 0xF0) == 0x70;
  if (instruction.opcode_map == ZYDIS_OPCODE_MAP_0F) return (instruction.opcode & 0xF0) == 0x80;
  return false;
}

rt::Result<XolPlan> plan_relative_branch(const Decoded& decoded, const ZydisDecodedOperand& operand,
                                         uint64_t address) {
  const ZydisDecodedInstruction& instruction = decoded.instruction;
  // With an operand-size prefix Intel ignores, AMD truncates rip to 16 bits (Zydis decodes as
  // Intel): which one runs the program is not known here.
  bool operand_size_prefix = instruction.operand_width != 64;
  for (uint8_t i = 0; i < instruction.raw.prefix_count; ++i) {
    operand_size_prefix = operand_size_prefix || instruction.raw.prefixes[i].value == 0x66;
  }
  if (operand_size_prefix) {
    return err(kENOTSUPP, "uprobe: cannot probe a relative branch with an operand-size prefix");
  }
  XolPlan plan;
  plan.length = instruction.length;
  if (ZYAN_FAILED(ZydisCalcAbsoluteAddress(&instruction, &operand, address, &plan.target))) {
    return err(kEINVAL, "uprobe: the branch has no computable target");
  }
  if (instruction.mnemonic == ZYDIS_MNEMONIC_JMP) {
    plan.action = XolAction::kJump;
  } else if (instruction.mnemonic == ZYDIS_MNEMONIC_CALL) {
    plan.action = XolAction::kCall;
  } else if (is_conditional_jump(instruction)) {
    plan.action = XolAction::kBranch;
    plan.condition = instruction.opcode & 0x0F;
  } else {
    // GAP: jrcxz, jecxz and loop* (which read rcx) and xbegin are not emulated.
    return err(kENOTSUPP, "uprobe: cannot probe jrcxz, loop or xbegin");
  }
  return plan;
}

// The x86 number (0..15) of a general register of any width, or -1 for other registers.
int general_register_number(ZydisRegister reg) {
  if (reg == ZYDIS_REGISTER_NONE) return -1;
  const ZydisRegister enclosing = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
  if (ZydisRegisterGetClass(enclosing) != ZYDIS_REGCLASS_GPR64) return -1;
  return ZydisRegisterGetId(enclosing);
}

bool is_high_byte_register(ZydisRegister reg) {
  return reg == ZYDIS_REGISTER_AH || reg == ZYDIS_REGISTER_CH || reg == ZYDIS_REGISTER_DH ||
         reg == ZYDIS_REGISTER_BH;
}

// Bytes of the opcode itself, between the prefixes and ModRM.
int opcode_length(ZydisOpcodeMap map) {
  switch (map) {
    case ZYDIS_OPCODE_MAP_DEFAULT: return 1;
    case ZYDIS_OPCODE_MAP_0F: return 2;
    case ZYDIS_OPCODE_MAP_0F38:
    case ZYDIS_OPCODE_MAP_0F3A: return 3;
    default: return -1;
  }
}

// [rip+disp32] becomes [reg+disp32] with reg holding what rip would: the address after the
// original instruction. reg must be one the instruction does not use, visibly or not.
rt::Result<void> rewrite_rip_relative(const Decoded& decoded, uint16_t avoided, XolPlan& plan) {
  const ZydisDecodedInstruction& instruction = decoded.instruction;
  if (instruction.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY) {
    // GAP: rip-relative VEX, EVEX, XOP and 3DNow! instructions are not rewritten.
    return err(kENOTSUPP, "uprobe: cannot probe a rip-relative VEX/EVEX/XOP/3DNow! instruction");
  }
  const int opcode_bytes = opcode_length(instruction.opcode_map);
  if (!(instruction.attributes & ZYDIS_ATTRIB_HAS_MODRM) || instruction.raw.modrm.mod != 0 ||
      instruction.raw.modrm.rm != 5 || opcode_bytes < 0 ||
      instruction.raw.modrm.offset < opcode_bytes) {
    return err(kENOTSUPP, "uprobe: cannot rewrite this rip-relative operand");
  }
  const bool has_rex = (instruction.attributes & ZYDIS_ATTRIB_HAS_REX) != 0;
  const int opcode_offset = instruction.raw.modrm.offset - opcode_bytes;
  if (has_rex && instruction.raw.rex.offset + 1 != opcode_offset) {
    return err(kENOTSUPP, "uprobe: cannot rewrite this rip-relative operand");
  }

  bool used[kGeneralRegisterCount] = {};
  bool uses_high_byte = false;
  used[kRsp] = used[kR12] = true;
  for (int i = 0; i < kGeneralRegisterCount; ++i) used[i] = used[i] || ((avoided >> i) & 1);
  for (uint8_t i = 0; i < instruction.operand_count; ++i) {
    const ZydisDecodedOperand& operand = decoded.operands[i];
    ZydisRegister registers[2] = {ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE};
    if (operand.type == ZYDIS_OPERAND_TYPE_REGISTER) {
      registers[0] = operand.reg.value;
    } else if (operand.type == ZYDIS_OPERAND_TYPE_MEMORY) {
      registers[0] = operand.mem.base;
      registers[1] = operand.mem.index;
    }
    for (ZydisRegister reg : registers) {
      uses_high_byte = uses_high_byte || is_high_byte_register(reg);
      const int number = general_register_number(reg);
      if (number >= 0) used[number] = true;
    }
  }
  // Without REX, a register from r8 needs one inserted: the instruction grows by a byte and
  // ah, ch, dh, bh would turn into spl, bpl, sil, dil.
  const bool can_insert_rex = !uses_high_byte && instruction.length < kMaxInstructionLength;
  int chosen = -1;
  for (int candidate : kFixupCandidates) {
    if (used[candidate]) continue;
    if (candidate >= 8 && !has_rex && !can_insert_rex) continue;
    chosen = candidate;
    break;
  }
  if (chosen < 0) {
    return err(kENOTSUPP, "uprobe: no free register to rewrite the rip-relative operand with");
  }

  int modrm_offset = instruction.raw.modrm.offset;
  uint8_t* slot = plan.slot;
  if (has_rex) {
    slot[instruction.raw.rex.offset] =
        static_cast<uint8_t>((slot[instruction.raw.rex.offset] & ~1) | (chosen >> 3));
  } else if (chosen >= 8) {
    for (int i = plan.slot_length; i > opcode_offset; --i) slot[i] = slot[i - 1];
    slot[opcode_offset] = 0x41;  // REX.B
    ++plan.slot_length;
    ++modrm_offset;
  }
  // mod=10 (disp32), reg unchanged, rm=the register's low bits.
  slot[modrm_offset] = static_cast<uint8_t>(0x80 | (slot[modrm_offset] & 0x38) | (chosen & 7));
  plan.fixup_register = kUserRegisterWord[chosen];
  return {};
}

rt::Result<XolPlan> plan_step(const uint8_t* bytes, const Decoded& decoded, uint16_t avoided) {
  const ZydisDecodedInstruction& instruction = decoded.instruction;
  bool rip_relative = false;
  for (uint8_t i = 0; i < instruction.operand_count; ++i) {
    const ZydisDecodedOperand& operand = decoded.operands[i];
    if (operand.type == ZYDIS_OPERAND_TYPE_REGISTER && is_instruction_pointer(operand.reg.value) &&
        (operand.actions & (ZYDIS_OPERAND_ACTION_READ | ZYDIS_OPERAND_ACTION_CONDREAD))) {
      // Writing rip (ret, jmp through a register or memory) works from anywhere; reading it
      // (call through a register or memory pushes it) would see the slot's address.
      return err(kENOTSUPP, "uprobe: cannot probe an instruction that reads rip implicitly");
    }
    if (operand.type == ZYDIS_OPERAND_TYPE_MEMORY) {
      if (operand.mem.base == ZYDIS_REGISTER_EIP || operand.mem.base == ZYDIS_REGISTER_IP) {
        return err(kENOTSUPP, "uprobe: cannot probe a 32-bit rip-relative address");
      }
      if (operand.mem.base == ZYDIS_REGISTER_RIP) rip_relative = true;
    }
  }
  XolPlan plan;
  plan.action = XolAction::kStep;
  plan.length = instruction.length;
  plan.slot_length = instruction.length;
  for (uint8_t i = 0; i < instruction.length; ++i) plan.slot[i] = bytes[i];
  if (rip_relative) TRY(rewrite_rip_relative(decoded, avoided, plan));
  return plan;
}

}  // namespace

rt::Result<XolPlan> plan_out_of_line(const uint8_t* bytes, size_t available, uint64_t address) {
  return plan_out_of_line_avoiding(bytes, available, address, 0);
}

rt::Result<XolPlan> plan_out_of_line_avoiding(const uint8_t* bytes, size_t available,
                                              uint64_t address, uint16_t avoided) {
  ZydisDecoder decoder;
  if (ZYAN_FAILED(ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64))) {
    return err(kEINVAL, "uprobe: the x86 decoder did not start");
  }
  Decoded decoded;
  const size_t length = available < kMaxInstructionLength ? available : kMaxInstructionLength;
  const ZyanStatus status =
      ZydisDecoderDecodeFull(&decoder, bytes, length, &decoded.instruction, decoded.operands);
  if (status == ZYDIS_STATUS_NO_MORE_DATA) {
    return err(kEINVAL, "uprobe: the instruction continues past the bytes read");
  }
  if (ZYAN_FAILED(status)) return err(kEINVAL, "uprobe: not an x86-64 instruction");

  TRY(refuse_unsteppable(decoded));
  if (const ZydisDecodedOperand* operand = relative_branch_operand(decoded)) {
    return plan_relative_branch(decoded, *operand, address);
  }
  return plan_step(bytes, decoded, avoided);
}

rt::Result<uint8_t> instruction_length(const uint8_t* bytes, size_t available) {
  ZydisDecoder decoder;
  if (ZYAN_FAILED(ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64))) {
    return err(kEINVAL, "the x86 decoder did not start");
  }
  ZydisDecodedInstruction instruction;
  const size_t length = available < kMaxInstructionLength ? available : kMaxInstructionLength;
  if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(&decoder, nullptr, bytes, length, &instruction))) {
    return err(kEINVAL, "not an x86-64 instruction");
  }
  return instruction.length;
}

namespace {
// `jmp *0(%rip)` followed by its 8-byte destination, at `at` in the slot; the offset after it.
size_t put_absolute_jump(KprobeSlot& slot, size_t at, uint64_t destination) {
  const uint8_t jump[] = {0xff, 0x25, 0, 0, 0, 0};
  for (uint8_t byte : jump) slot.bytes[at++] = byte;
  for (int i = 0; i < 8; ++i) slot.bytes[at++] = static_cast<uint8_t>(destination >> (8 * i));
  return at;
}
}  // namespace

KprobeSlot kprobe_slot(const XolPlan& plan, uint64_t address) {
  KprobeSlot slot;
  size_t at = 0;
  switch (plan.action) {
    case XolAction::kStep:
      for (; at < plan.slot_length; ++at) slot.bytes[at] = plan.slot[at];
      slot.fixup_register = plan.fixup_register;
      slot.steps = plan.fixup_register >= 0;
      if (!slot.steps) at = put_absolute_jump(slot, at, address + plan.length);
      break;
    case XolAction::kJump: at = put_absolute_jump(slot, 0, plan.target); break;
    case XolAction::kCall:
      slot.bytes[at++] = 0x41;  // push %r11
      slot.bytes[at++] = 0x53;
      at = put_absolute_jump(slot, at, plan.target);
      slot.fixup_register = kUserRegisterWord[11];
      slot.steps = true;
      break;
    case XolAction::kBranch:
      slot.bytes[at++] = static_cast<uint8_t>(0x70 | (plan.condition & 0x0F));  // j<cc> rel8
      slot.bytes[at++] = 14;  // over the first jump, to the second
      at = put_absolute_jump(slot, at, address + plan.length);
      at = put_absolute_jump(slot, at, plan.target);
      break;
  }
  slot.length = static_cast<uint8_t>(at);
  return slot;
}

bool branch_taken(uint8_t condition, uint64_t rflags) {
  const bool carry = rflags & (1u << 0);
  const bool parity = rflags & (1u << 2);
  const bool zero = rflags & (1u << 6);
  const bool sign = rflags & (1u << 7);
  const bool overflow = rflags & (1u << 11);
  // Conditions come in pairs: an even code tests, the odd one after it tests the opposite.
  bool holds = false;
  switch ((condition & 0x0F) >> 1) {
    case 0:  // o
      holds = overflow;
      break;
    case 1:  // b
      holds = carry;
      break;
    case 2:  // e
      holds = zero;
      break;
    case 3:  // be
      holds = carry || zero;
      break;
    case 4:  // s
      holds = sign;
      break;
    case 5:  // p
      holds = parity;
      break;
    case 6:  // l
      holds = sign != overflow;
      break;
    default:  // le
      holds = zero || sign != overflow;
      break;
  }
  return (condition & 1) ? !holds : holds;
}

}  // namespace trace
