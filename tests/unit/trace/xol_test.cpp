// SPDX-License-Identifier: MIT
// Out-of-line plans for uprobes: lengths, actions, rip-relative rewrites (checked by decoding
// the slot again with Zydis), refusals, and jcc's conditions.
#include "trace/xol.hpp"

#include <Zydis/Decoder.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <initializer_list>
#include <vector>

#include "sonde/abi/ipc.hpp"
#include "xol_avoiding.hpp"

namespace trace {
namespace {

constexpr uint64_t kAddress = 0x401000;

int user_register_word(size_t offset) { return static_cast<int>(offset / sizeof(uint64_t)); }
using sonde::abi::UserRegisters;

rt::Result<XolPlan> plan(std::initializer_list<uint8_t> bytes, uint64_t address = kAddress,
                         uint16_t avoided = 0) {
  std::vector<uint8_t> copy(bytes);
  if (avoided != 0) return plan_out_of_line_avoiding(copy.data(), copy.size(), address, avoided);
  return plan_out_of_line(copy.data(), copy.size(), address);
}

struct Redecoded {
  bool ok = false;
  ZydisDecodedInstruction instruction{};
  ZydisDecodedOperand operands[ZYDIS_MAX_OPERAND_COUNT]{};
};
Redecoded decode(const uint8_t* bytes, size_t length) {
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  Redecoded decoded;
  decoded.ok = ZYAN_SUCCESS(
      ZydisDecoderDecodeFull(&decoder, bytes, length, &decoded.instruction, decoded.operands));
  return decoded;
}

// The UserRegisters word of a 64-bit general register, as fixup_register holds it.
int word_of(ZydisRegister reg) {
  switch (reg) {
    case ZYDIS_REGISTER_RAX: return user_register_word(offsetof(UserRegisters, rax));
    case ZYDIS_REGISTER_RCX: return user_register_word(offsetof(UserRegisters, rcx));
    case ZYDIS_REGISTER_RDX: return user_register_word(offsetof(UserRegisters, rdx));
    case ZYDIS_REGISTER_RBX: return user_register_word(offsetof(UserRegisters, rbx));
    case ZYDIS_REGISTER_RSP: return user_register_word(offsetof(UserRegisters, rsp));
    case ZYDIS_REGISTER_RBP: return user_register_word(offsetof(UserRegisters, rbp));
    case ZYDIS_REGISTER_RSI: return user_register_word(offsetof(UserRegisters, rsi));
    case ZYDIS_REGISTER_RDI: return user_register_word(offsetof(UserRegisters, rdi));
    case ZYDIS_REGISTER_R8: return user_register_word(offsetof(UserRegisters, r8));
    case ZYDIS_REGISTER_R9: return user_register_word(offsetof(UserRegisters, r9));
    case ZYDIS_REGISTER_R10: return user_register_word(offsetof(UserRegisters, r10));
    case ZYDIS_REGISTER_R11: return user_register_word(offsetof(UserRegisters, r11));
    case ZYDIS_REGISTER_R12: return user_register_word(offsetof(UserRegisters, r12));
    case ZYDIS_REGISTER_R13: return user_register_word(offsetof(UserRegisters, r13));
    case ZYDIS_REGISTER_R14: return user_register_word(offsetof(UserRegisters, r14));
    case ZYDIS_REGISTER_R15: return user_register_word(offsetof(UserRegisters, r15));
    default: return -1;
  }
}

// An instruction that runs out of line unchanged.
void expect_stepped_as_is(std::initializer_list<uint8_t> bytes) {
  auto result = plan(bytes);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->action, XolAction::kStep);
  EXPECT_EQ(result->length, bytes.size());
  ASSERT_EQ(result->slot_length, bytes.size());
  EXPECT_EQ(std::vector<uint8_t>(result->slot, result->slot + result->slot_length),
            std::vector<uint8_t>(bytes));
  EXPECT_EQ(result->fixup_register, -1);
}

TEST(XolTest, FunctionEntryInstructionsAreSteppedUnchanged) {
  expect_stepped_as_is({0x55});                    // push %rbp
  expect_stepped_as_is({0xf3, 0x0f, 0x1e, 0xfa});  // endbr64
  expect_stepped_as_is({0x48, 0x89, 0xe5});        // mov %rsp,%rbp
  expect_stepped_as_is({0x48, 0x83, 0xec, 0x18});  // sub $0x18,%rsp
  expect_stepped_as_is({0x41, 0x57});              // push %r15
  expect_stepped_as_is({0x31, 0xc0});              // xor %eax,%eax
  expect_stepped_as_is({0xc3});                    // ret: writes rip, reads none
  expect_stepped_as_is({0xff, 0xe0});              // jmp *%rax: likewise
  expect_stepped_as_is({0xc5, 0xf8, 0x28, 0xc1});  // vmovaps %xmm1,%xmm0 (VEX, no rip)
}

TEST(XolTest, LooksAtFifteenBytesAtMost) {
  auto result = plan({0x90, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
                      0xcc, 0xcc, 0xcc, 0xcc, 0xcc});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->length, 1);
  EXPECT_EQ(result->slot_length, 1);
}

// A rip-relative instruction: its slot decodes to the same instruction with [reg+disp32] for
// [rip+disp32], reg is the fix-up register, and the instruction uses reg in no other way.
struct RipRelative {
  XolPlan plan;
  Redecoded original;
  Redecoded rewritten;
  ZydisRegister base = ZYDIS_REGISTER_NONE;
};
RipRelative expect_rewritten(std::initializer_list<uint8_t> bytes, int64_t displacement,
                             uint16_t avoided = 0) {
  RipRelative checked;
  auto result = plan(bytes, kAddress, avoided);
  EXPECT_TRUE(result.ok()) << result.error().message;
  if (!result.ok()) return checked;
  checked.plan = *result;
  std::vector<uint8_t> copy(bytes);
  checked.original = decode(copy.data(), copy.size());
  checked.rewritten = decode(checked.plan.slot, checked.plan.slot_length);
  EXPECT_EQ(checked.plan.action, XolAction::kStep);
  EXPECT_EQ(checked.plan.length, bytes.size());
  EXPECT_TRUE(checked.rewritten.ok);
  EXPECT_EQ(checked.rewritten.instruction.length, checked.plan.slot_length);
  EXPECT_EQ(checked.rewritten.instruction.mnemonic, checked.original.instruction.mnemonic);
  EXPECT_EQ(checked.rewritten.instruction.operand_count,
            checked.original.instruction.operand_count);
  int memory_operands = 0;
  for (uint8_t i = 0; i < checked.rewritten.instruction.operand_count; ++i) {
    const ZydisDecodedOperand& before = checked.original.operands[i];
    const ZydisDecodedOperand& after = checked.rewritten.operands[i];
    EXPECT_EQ(after.type, before.type) << "operand " << int{i};
    if (before.type == ZYDIS_OPERAND_TYPE_MEMORY && before.mem.base == ZYDIS_REGISTER_RIP) {
      ++memory_operands;
      checked.base = after.mem.base;
      EXPECT_EQ(after.mem.index, ZYDIS_REGISTER_NONE);
      EXPECT_TRUE(after.mem.disp.has_displacement);
      EXPECT_EQ(after.mem.disp.value, displacement);
      EXPECT_EQ(before.mem.disp.value, displacement);
      EXPECT_EQ(after.size, before.size);
    } else if (before.type == ZYDIS_OPERAND_TYPE_REGISTER) {
      EXPECT_EQ(after.reg.value, before.reg.value) << "operand " << int{i};
    } else if (before.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
      EXPECT_EQ(after.imm.value.u, before.imm.value.u) << "operand " << int{i};
    }
  }
  EXPECT_EQ(memory_operands, 1);
  EXPECT_NE(checked.base, ZYDIS_REGISTER_RSP);
  EXPECT_NE(checked.base, ZYDIS_REGISTER_RIP);
  EXPECT_EQ(checked.plan.fixup_register, word_of(checked.base));
  // The fix-up register appears nowhere else in the instruction, hidden operands included.
  for (uint8_t i = 0; i < checked.original.instruction.operand_count; ++i) {
    const ZydisDecodedOperand& operand = checked.original.operands[i];
    if (operand.type == ZYDIS_OPERAND_TYPE_REGISTER) {
      EXPECT_NE(ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, operand.reg.value),
                checked.base);
    } else if (operand.type == ZYDIS_OPERAND_TYPE_MEMORY) {
      EXPECT_NE(operand.mem.base, checked.base);
      EXPECT_NE(operand.mem.index, checked.base);
    }
  }
  return checked;
}

TEST(XolTest, LeaRipRelativeUsesAnotherRegister) {
  // lea 0x10(%rip),%rax
  auto checked = expect_rewritten({0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00}, 0x10);
  EXPECT_EQ(checked.plan.slot_length, 7);
  EXPECT_EQ(checked.rewritten.operands[0].reg.value, ZYDIS_REGISTER_RAX);
  EXPECT_NE(checked.base, ZYDIS_REGISTER_RAX);
}

TEST(XolTest, MovFromRipRelativeNeverUsesItsDestination) {
  // mov 0x2f00(%rip),%rcx
  auto checked = expect_rewritten({0x48, 0x8b, 0x0d, 0x00, 0x2f, 0x00, 0x00}, 0x2f00);
  EXPECT_NE(checked.base, ZYDIS_REGISTER_RCX);
  EXPECT_NE(checked.plan.fixup_register, user_register_word(offsetof(UserRegisters, rcx)));
  EXPECT_EQ(checked.rewritten.operands[0].reg.value, ZYDIS_REGISTER_RCX);
}

TEST(XolTest, CompareWithImmediateAfterTheDisplacement) {
  // cmpl $0x0,0x10(%rip): the immediate follows disp32 and must stay where it is.
  auto checked = expect_rewritten({0x83, 0x3d, 0x10, 0x00, 0x00, 0x00, 0x00}, 0x10);
  EXPECT_EQ(checked.plan.slot_length, 7);
  EXPECT_EQ(checked.plan.slot[6], 0x00);
}

TEST(XolTest, NegativeDisplacementIsKept) {
  // mov -0x20(%rip),%eax
  expect_rewritten({0x8b, 0x05, 0xe0, 0xff, 0xff, 0xff}, -0x20);
}

TEST(XolTest, SseLegacyEncodingIsRewritten) {
  // movaps 0x1000(%rip),%xmm0 and, with a mandatory prefix and REX.W, movapd.
  auto movaps = expect_rewritten({0x0f, 0x28, 0x05, 0x00, 0x10, 0x00, 0x00}, 0x1000);
  EXPECT_EQ(movaps.plan.slot_length, 7);
  EXPECT_EQ(movaps.rewritten.operands[0].reg.value, ZYDIS_REGISTER_XMM0);
  // movapd 0x8(%rip),%xmm9 (66 REX.R 0F 28)
  auto movapd = expect_rewritten({0x66, 0x44, 0x0f, 0x28, 0x0d, 0x08, 0x00, 0x00, 0x00}, 8);
  EXPECT_EQ(movapd.rewritten.operands[0].reg.value, ZYDIS_REGISTER_XMM9);
  EXPECT_EQ(movapd.plan.slot[0], 0x66);
}

TEST(XolTest, RexPrefixedDestinationFromR8) {
  // mov 0x40(%rip),%r8 (REX.WR)
  auto r8 = expect_rewritten({0x4c, 0x8b, 0x05, 0x40, 0x00, 0x00, 0x00}, 0x40);
  EXPECT_EQ(r8.rewritten.operands[0].reg.value, ZYDIS_REGISTER_R8);
  // mov 0x40(%rip),%r15 with REX.B set, which rip-relative addressing ignores: the rewrite must
  // give REX.B the fix-up register's high bit instead.
  auto r15 = expect_rewritten({0x4d, 0x8b, 0x3d, 0x40, 0x00, 0x00, 0x00}, 0x40);
  EXPECT_EQ(r15.rewritten.operands[0].reg.value, ZYDIS_REGISTER_R15);
  EXPECT_EQ(r15.plan.slot_length, 7);
}

TEST(XolTest, HiddenOperandsAreAvoided) {
  // cmpxchg16b 0x10(%rip) reads and writes rdx:rax and rcx:rbx without naming them.
  auto checked = expect_rewritten({0x48, 0x0f, 0xc7, 0x0d, 0x10, 0x00, 0x00, 0x00}, 0x10);
  EXPECT_NE(checked.base, ZYDIS_REGISTER_RAX);
  EXPECT_NE(checked.base, ZYDIS_REGISTER_RBX);
  EXPECT_NE(checked.base, ZYDIS_REGISTER_RCX);
  EXPECT_NE(checked.base, ZYDIS_REGISTER_RDX);
}

TEST(XolTest, HighByteRegisterKeepsItsMeaning) {
  // mov %ah,0x4(%rip): no REX may appear, so the fix-up register is one of the first eight.
  auto checked = expect_rewritten({0x88, 0x25, 0x04, 0x00, 0x00, 0x00}, 4);
  EXPECT_EQ(checked.plan.slot_length, 6);
  EXPECT_EQ(checked.rewritten.operands[1].reg.value, ZYDIS_REGISTER_AH);
}

TEST(XolTest, IndirectJumpThroughRipRelativeMemoryIsStepped) {
  // jmp *0x0(%rip): writes rip from memory, reads rip only for the address.
  expect_rewritten({0xff, 0x25, 0x00, 0x00, 0x00, 0x00}, 0);
}

TEST(XolTest, PushRipRelativeAvoidsRsp) {
  // push 0x8(%rip): rsp is used implicitly, and never a fix-up register anyway.
  auto checked = expect_rewritten({0xff, 0x35, 0x08, 0x00, 0x00, 0x00}, 8);
  EXPECT_NE(checked.base, ZYDIS_REGISTER_RSP);
}

// Registers rax..rdi kept from the fix-up choice: a register from r8 must be used.
constexpr uint16_t kFirstEight = 0x00ff;

TEST(XolTest, RexIsInsertedForAFixupRegisterFromR8) {
  // mov 0x10(%rip),%eax becomes 41 8b 80 10 00 00 00: mov 0x10(%r8),%eax.
  auto mov = expect_rewritten({0x8b, 0x05, 0x10, 0x00, 0x00, 0x00}, 0x10, kFirstEight);
  EXPECT_EQ(mov.base, ZYDIS_REGISTER_R8);
  EXPECT_EQ(mov.plan.length, 6);
  EXPECT_EQ(std::vector<uint8_t>(mov.plan.slot, mov.plan.slot + mov.plan.slot_length),
            (std::vector<uint8_t>{0x41, 0x8b, 0x80, 0x10, 0x00, 0x00, 0x00}));
  EXPECT_EQ(mov.rewritten.operands[0].reg.value, ZYDIS_REGISTER_EAX);
  // After a mandatory prefix and before 0F: movapd 0x8(%rip),%xmm1.
  auto movapd = expect_rewritten({0x66, 0x0f, 0x28, 0x0d, 0x08, 0x00, 0x00, 0x00}, 8, kFirstEight);
  EXPECT_EQ(movapd.plan.slot[0], 0x66);
  EXPECT_EQ(movapd.plan.slot[1], 0x41);
  EXPECT_EQ(movapd.rewritten.operands[0].reg.value, ZYDIS_REGISTER_XMM1);
  // An existing REX gets REX.B: mov 0x40(%rip),%rcx.
  auto rex = expect_rewritten({0x48, 0x8b, 0x0d, 0x40, 0x00, 0x00, 0x00}, 0x40, kFirstEight);
  EXPECT_EQ(rex.plan.slot_length, 7);
  EXPECT_EQ(rex.plan.slot[0], 0x49);
  EXPECT_EQ(rex.rewritten.operands[0].reg.value, ZYDIS_REGISTER_RCX);
  // r12 would need a SIB byte, like rsp: never chosen.
  auto no_r12 = expect_rewritten({0x8b, 0x05, 0x10, 0x00, 0x00, 0x00}, 0x10, 0x0fff & ~(1 << 12));
  EXPECT_EQ(no_r12.base, ZYDIS_REGISTER_R13);
}

TEST(XolTest, NoRexIsInsertedBesideAHighByteRegister) {
  // mov %ah,0x4(%rip): a REX would make ah spl.
  auto result = plan({0x88, 0x25, 0x04, 0x00, 0x00, 0x00}, kAddress, kFirstEight);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, rt::kENOTSUPP);
}

TEST(XolTest, NoRexIsInsertedIntoAFifteenByteInstruction) {
  // movl $0x0,0x10(%rip) behind five redundant segment prefixes: fifteen bytes.
  const std::initializer_list<uint8_t> bytes = {0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0xc7, 0x05, 0x10,
                                                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  ASSERT_EQ(bytes.size(), kMaxInstructionLength);
  EXPECT_TRUE(plan(bytes).ok());
  auto result = plan(bytes, kAddress, kFirstEight);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, rt::kENOTSUPP);
}

void expect_emulated(std::initializer_list<uint8_t> bytes, XolAction action, uint64_t target,
                     uint64_t address = kAddress) {
  auto result = plan(bytes, address);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->action, action);
  EXPECT_EQ(result->length, bytes.size());
  EXPECT_EQ(result->target, target);
  EXPECT_EQ(result->slot_length, 0);
}

TEST(XolTest, RelativeJumpsAndCallsAreEmulated) {
  expect_emulated({0xeb, 0x05}, XolAction::kJump, kAddress + 2 + 5);  // jmp rel8
  expect_emulated({0xeb, 0xfe}, XolAction::kJump, kAddress);          // jmp . (rel8 -2)
  expect_emulated({0xe9, 0x00, 0x01, 0x00, 0x00}, XolAction::kJump, kAddress + 5 + 0x100);
  expect_emulated({0xe9, 0xfb, 0xff, 0xff, 0xff}, XolAction::kJump, kAddress);  // jmp rel32 -5
  expect_emulated({0xe8, 0x10, 0x00, 0x00, 0x00}, XolAction::kCall, kAddress + 5 + 0x10);
  expect_emulated({0xe8, 0x00, 0x00, 0x00, 0x80}, XolAction::kCall, kAddress + 5 - 0x80000000ull);
}

TEST(XolTest, ConditionalJumpsAreEmulatedWithTheirCondition) {
  expect_emulated({0x74, 0x10}, XolAction::kBranch, kAddress + 2 + 0x10);  // je rel8
  EXPECT_EQ(plan({0x74, 0x10})->condition, 0x4);
  // jne rel32, backwards
  expect_emulated({0x0f, 0x85, 0xf0, 0xff, 0xff, 0xff}, XolAction::kBranch, kAddress + 6 - 0x10);
  EXPECT_EQ(plan({0x0f, 0x85, 0xf0, 0xff, 0xff, 0xff})->condition, 0x5);
  for (uint8_t condition = 0; condition < 16; ++condition) {
    auto short_form = plan({static_cast<uint8_t>(0x70 | condition), 0x00});
    ASSERT_TRUE(short_form.ok());
    EXPECT_EQ(short_form->condition, condition);
    auto near_form = plan({0x0f, static_cast<uint8_t>(0x80 | condition), 0x00, 0x00, 0x00, 0x00});
    ASSERT_TRUE(near_form.ok());
    EXPECT_EQ(near_form->condition, condition);
    EXPECT_EQ(near_form->target, kAddress + 6);
  }
}

void expect_refused(std::initializer_list<uint8_t> bytes, int code) {
  auto result = plan(bytes);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, code)
      << "first byte " << std::hex << int{*bytes.begin()} << ": " << result.error().message;
  EXPECT_NE(result.error().message, nullptr);
}

TEST(XolTest, UnsteppableInstructionsAreRefused) {
  expect_refused({0xcc}, rt::kENOTSUPP);                                // int3
  expect_refused({0xcd, 0x80}, rt::kENOTSUPP);                          // int $0x80
  expect_refused({0x0f, 0x05}, rt::kENOTSUPP);                          // syscall
  expect_refused({0x0f, 0x34}, rt::kENOTSUPP);                          // sysenter
  expect_refused({0x48, 0x0f, 0x07}, rt::kENOTSUPP);                    // sysretq
  expect_refused({0x48, 0xcf}, rt::kENOTSUPP);                          // iretq
  expect_refused({0x0f, 0x0b}, rt::kENOTSUPP);                          // ud2
  expect_refused({0xf4}, rt::kENOTSUPP);                                // hlt: privileged
  expect_refused({0x0f, 0x01, 0xf8}, rt::kENOTSUPP);                    // swapgs: privileged
  expect_refused({0xff, 0xd0}, rt::kENOTSUPP);                          // call *%rax pushes rip
  expect_refused({0xff, 0x15, 0x00, 0x00, 0x00, 0x00}, rt::kENOTSUPP);  // call *0(%rip)
  expect_refused({0xff, 0x2d, 0x00, 0x00, 0x00, 0x00}, rt::kENOTSUPP);  // ljmp *0(%rip)
  expect_refused({0xcb}, rt::kENOTSUPP);                                // lret
  expect_refused({0xe3, 0x10}, rt::kENOTSUPP);                          // jrcxz
  expect_refused({0xe2, 0x10}, rt::kENOTSUPP);                          // loop
  expect_refused({0x66, 0xe9, 0x10, 0x00, 0x00, 0x00}, rt::kENOTSUPP);  // data16 jmp
  expect_refused({0xf3, 0xa4}, rt::kENOTSUPP);                          // rep movsb
  expect_refused({0xf3, 0x48, 0xab}, rt::kENOTSUPP);                    // rep stos %rax
  expect_refused({0xf2, 0xae}, rt::kENOTSUPP);                          // repnz scasb
  // vmovaps 0x0(%rip),%xmm0: rip-relative VEX is not rewritten.
  expect_refused({0xc5, 0xf8, 0x28, 0x05, 0x00, 0x00, 0x00, 0x00}, rt::kENOTSUPP);
  // mov 0x0(%eip),%eax: a 32-bit rip-relative address.
  expect_refused({0x67, 0x8b, 0x05, 0x00, 0x00, 0x00, 0x00}, rt::kENOTSUPP);
}

TEST(XolTest, UndecodableBytesAreInvalid) {
  expect_refused({0x48, 0x8b}, rt::kEINVAL);                    // mov cut after its opcode
  expect_refused({0x48, 0x8b, 0x05, 0x00, 0x00}, rt::kEINVAL);  // cut in its displacement
  expect_refused({0x06}, rt::kEINVAL);                          // push %es: none in 64-bit mode
  expect_refused({}, rt::kEINVAL);
  // Fifteen prefixes and then an opcode: longer than any instruction.
  expect_refused({0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                  0x66, 0x66, 0x90},
                 rt::kEINVAL);
}

// rflags bits jcc reads.
constexpr uint64_t kCarry = 1 << 0;
constexpr uint64_t kParity = 1 << 2;
constexpr uint64_t kZero = 1 << 6;
constexpr uint64_t kSign = 1 << 7;
constexpr uint64_t kOverflow = 1 << 11;

TEST(XolTest, BranchTakenFollowsEachCondition) {
  // The Intel SDM's table of jcc conditions, one row per code.
  struct Row {
    uint8_t condition;
    bool (*holds)(bool cf, bool pf, bool zf, bool sf, bool of);
  };
  const Row rows[] = {
      {0x0, [](bool, bool, bool, bool, bool of) { return of; }},                     // jo
      {0x1, [](bool, bool, bool, bool, bool of) { return !of; }},                    // jno
      {0x2, [](bool cf, bool, bool, bool, bool) { return cf; }},                     // jb
      {0x3, [](bool cf, bool, bool, bool, bool) { return !cf; }},                    // jae
      {0x4, [](bool, bool, bool zf, bool, bool) { return zf; }},                     // je
      {0x5, [](bool, bool, bool zf, bool, bool) { return !zf; }},                    // jne
      {0x6, [](bool cf, bool, bool zf, bool, bool) { return cf || zf; }},            // jbe
      {0x7, [](bool cf, bool, bool zf, bool, bool) { return !cf && !zf; }},          // ja
      {0x8, [](bool, bool, bool, bool sf, bool) { return sf; }},                     // js
      {0x9, [](bool, bool, bool, bool sf, bool) { return !sf; }},                    // jns
      {0xa, [](bool, bool pf, bool, bool, bool) { return pf; }},                     // jp
      {0xb, [](bool, bool pf, bool, bool, bool) { return !pf; }},                    // jnp
      {0xc, [](bool, bool, bool, bool sf, bool of) { return sf != of; }},            // jl
      {0xd, [](bool, bool, bool, bool sf, bool of) { return sf == of; }},            // jge
      {0xe, [](bool, bool, bool zf, bool sf, bool of) { return zf || sf != of; }},   // jle
      {0xf, [](bool, bool, bool zf, bool sf, bool of) { return !zf && sf == of; }},  // jg
  };
  for (const Row& row : rows) {
    for (unsigned bits = 0; bits < 32; ++bits) {
      const bool cf = bits & 1, pf = bits & 2, zf = bits & 4, sf = bits & 8, of = bits & 16;
      // Other bits (the reserved 1, IF, TF, DF, AF) must not matter.
      const uint64_t rflags = 0x202 | (cf ? kCarry : 0) | (pf ? kParity : 0) | (zf ? kZero : 0) |
                              (sf ? kSign : 0) | (of ? kOverflow : 0) | 0x10 | 0x400;
      EXPECT_EQ(branch_taken(row.condition, rflags), row.holds(cf, pf, zf, sf, of))
          << "condition " << int{row.condition} << " flags " << std::hex << rflags;
    }
  }
}

TEST(XolTest, BranchTakenAfterACompare) {
  // cmp $2,%eax with eax=1: 1-2 borrows and is negative, without overflow.
  const uint64_t below = 0x202 | kCarry | kSign | kParity;
  EXPECT_TRUE(branch_taken(0x2, below));   // jb
  EXPECT_TRUE(branch_taken(0xc, below));   // jl
  EXPECT_FALSE(branch_taken(0x4, below));  // je
  EXPECT_FALSE(branch_taken(0xf, below));  // jg
  // cmp %eax,%eax
  const uint64_t equal = 0x202 | kZero | kParity;
  EXPECT_TRUE(branch_taken(0x4, equal));
  EXPECT_TRUE(branch_taken(0xd, equal));   // jge
  EXPECT_FALSE(branch_taken(0x7, equal));  // ja
}

// Kprobes inside functions walk instruction boundaries with instruction_length: any instruction,
// probe-able or not, has one.
TEST(XolTest, InstructionLengthsOfAnyInstruction) {
  struct Case {
    std::vector<uint8_t> bytes;
    uint8_t length;
  };
  const Case cases[] = {
      {{0x55}, 1},                                      // push %rbp
      {{0x48, 0x89, 0xe5}, 3},                          // mov %rsp,%rbp
      {{0x0f, 0x1f, 0x44, 0x00, 0x08}, 5},              // the entry NOP
      {{0xe8, 0x10, 0x20, 0x30, 0x40}, 5},              // call rel32
      {{0x0f, 0x05}, 2},                                // syscall: not probe-able, but a length
      {{0x48, 0x8b, 0x05, 0x01, 0x02, 0x03, 0x04}, 7},  // mov d(%rip),%rax
      {{0xcc}, 1},                                      // int3
  };
  for (const Case& c : cases) {
    auto length = instruction_length(c.bytes.data(), c.bytes.size());
    ASSERT_TRUE(length.ok());
    EXPECT_EQ(length.value(), c.length);
  }
  const uint8_t truncated[] = {0x48, 0x8b, 0x05, 0x01};
  EXPECT_FALSE(instruction_length(truncated, sizeof truncated).ok());
  const uint8_t invalid[] = {0x06, 0x90, 0x90};  // push %es: none in 64-bit mode
  auto refused = instruction_length(invalid, sizeof invalid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, rt::kEINVAL);
}

uint64_t quad_at(const KprobeSlot& slot, size_t at) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= uint64_t{slot.bytes[at + i]} << (8 * i);
  return value;
}

TEST(XolTest, KprobeSlotOfARipRelativeInstructionIsItsSteppedCopy) {
  auto planned = plan({0x48, 0x8b, 0x05, 0x01, 0x02, 0x03, 0x04});  // mov d(%rip),%rax
  ASSERT_TRUE(planned.ok());
  KprobeSlot slot = kprobe_slot(planned.value(), kAddress);
  ASSERT_EQ(slot.length, planned.value().slot_length);
  for (size_t i = 0; i < slot.length; ++i) EXPECT_EQ(slot.bytes[i], planned.value().slot[i]);
  EXPECT_EQ(slot.fixup_register, planned.value().fixup_register);
  EXPECT_NE(slot.fixup_register, -1);
  EXPECT_TRUE(slot.steps);
}

TEST(XolTest, KprobeSlotOfAnOrdinaryInstructionJumpsBackByItself) {
  auto planned = plan({0x48, 0x89, 0xe5});  // mov %rsp,%rbp
  ASSERT_TRUE(planned.ok());
  KprobeSlot slot = kprobe_slot(planned.value(), kAddress);
  ASSERT_EQ(slot.length, 3 + 14);
  EXPECT_EQ(slot.bytes[0], 0x48);
  EXPECT_EQ(slot.bytes[1], 0x89);
  EXPECT_EQ(slot.bytes[2], 0xe5);
  EXPECT_EQ(slot.bytes[3], 0xff);
  EXPECT_EQ(slot.bytes[4], 0x25);
  EXPECT_EQ(quad_at(slot, 9), kAddress + 3);
  EXPECT_FALSE(slot.steps);
  EXPECT_EQ(slot.fixup_register, -1);
}

TEST(XolTest, KprobeSlotOfAJumpLandsOnItsTarget) {
  auto planned = plan({0xeb, 0x10});  // jmp +0x10
  ASSERT_TRUE(planned.ok());
  KprobeSlot slot = kprobe_slot(planned.value(), kAddress);
  ASSERT_EQ(slot.length, 14);
  EXPECT_EQ(slot.bytes[0], 0xff);
  EXPECT_EQ(slot.bytes[1], 0x25);
  EXPECT_EQ(quad_at(slot, 6), kAddress + 2 + 0x10);
  EXPECT_EQ(slot.fixup_register, -1);
  EXPECT_FALSE(slot.steps);
  auto redecoded = decode(slot.bytes, 6);
  ASSERT_TRUE(redecoded.ok);
  EXPECT_EQ(redecoded.instruction.mnemonic, ZYDIS_MNEMONIC_JMP);
}

TEST(XolTest, KprobeSlotOfACallPushesTheReturnAddressThroughTheFixupRegister) {
  auto planned = plan({0xe8, 0x00, 0x01, 0x00, 0x00});  // call +0x100
  ASSERT_TRUE(planned.ok());
  KprobeSlot slot = kprobe_slot(planned.value(), kAddress);
  ASSERT_EQ(slot.length, 16);
  EXPECT_EQ(slot.bytes[0], 0x41);  // push %r11: the kernel holds address + 5 in r11 for the step
  EXPECT_EQ(slot.bytes[1], 0x53);
  EXPECT_EQ(slot.fixup_register, user_register_word(offsetof(UserRegisters, r11)));
  EXPECT_TRUE(slot.steps);
  auto push = decode(slot.bytes, 2);
  ASSERT_TRUE(push.ok);
  EXPECT_EQ(push.instruction.mnemonic, ZYDIS_MNEMONIC_PUSH);
  EXPECT_EQ(push.operands[0].reg.value, ZYDIS_REGISTER_R11);
  EXPECT_EQ(slot.bytes[2], 0xff);
  EXPECT_EQ(slot.bytes[3], 0x25);
  EXPECT_EQ(quad_at(slot, 8), kAddress + 5 + 0x100);
}

TEST(XolTest, KprobeSlotOfABranchTakesItOnTheRealFlags) {
  for (const std::vector<uint8_t>& bytes :
       {std::vector<uint8_t>{0x74, 0x20},                             // je +0x20
        std::vector<uint8_t>{0x0f, 0x84, 0x20, 0x00, 0x00, 0x00}}) {  // je rel32 +0x20
    auto planned = plan_out_of_line(bytes.data(), bytes.size(), kAddress);
    ASSERT_TRUE(planned.ok());
    KprobeSlot slot = kprobe_slot(planned.value(), kAddress);
    ASSERT_EQ(slot.length, 30);
    auto branch = decode(slot.bytes, 2);
    ASSERT_TRUE(branch.ok);
    EXPECT_EQ(branch.instruction.mnemonic, ZYDIS_MNEMONIC_JZ);
    EXPECT_EQ(slot.bytes[1], 14);                          // taken: to the second jump at 16
    EXPECT_EQ(quad_at(slot, 8), kAddress + bytes.size());  // not taken: after the branch
    EXPECT_EQ(quad_at(slot, 22), kAddress + bytes.size() + 0x20);  // taken: its target
    EXPECT_EQ(slot.bytes[16], 0xff);
    EXPECT_EQ(slot.bytes[17], 0x25);
    EXPECT_FALSE(slot.steps);
  }
}

}  // namespace
}  // namespace trace
