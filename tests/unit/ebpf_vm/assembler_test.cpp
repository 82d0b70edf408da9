// SPDX-License-Identifier: MIT
// Assembler and disassembler: encodings, errors, and bpftool-style text.
#include "ebpf/assembler.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace {

using namespace ebpf;

Insn one(const std::string& text) {
  AssemblyResult result = assemble(text);
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_FALSE(result.insns.empty());
  return result.insns.empty() ? Insn{} : result.insns[0];
}

TEST(Assembler, EncodesEachForm) {
  Insn mov = one("mov %r0, -1");
  EXPECT_EQ(mov.opcode, 0xb7);
  EXPECT_EQ(mov.imm, -1);
  Insn add32 = one("add32 %r1, %r2");
  EXPECT_EQ(add32.opcode, 0x0c);
  EXPECT_EQ(add32.dst, 1);
  EXPECT_EQ(add32.src, 2);
  EXPECT_EQ(one("sdiv %r1, 3").offset, 1);
  EXPECT_EQ(one("smod32 %r1, %r2").opcode, 0x9c);
  Insn load = one("ldxh %r3, [%r1-6]");
  EXPECT_EQ(load.opcode, 0x69);
  EXPECT_EQ(load.offset, -6);
  EXPECT_EQ(one("ldxsw %r3, [%r1]").opcode, 0x81);
  EXPECT_EQ(one("stdw [%r10-8], 1").opcode, 0x7a);
  EXPECT_EQ(one("stxb [%r10-1], %r2").opcode, 0x73);
  Insn atomic = one("lock fetch xor32 [%r10-4], %r1");
  EXPECT_EQ(atomic.opcode, 0xc3);
  EXPECT_EQ(atomic.imm, kAtomicXor | kAtomicFetch);
  EXPECT_EQ(one("lock cmpxchg [%r1], %r2").imm, kAtomicCmpxchg);
  EXPECT_EQ(one("be32 %r0").opcode, 0xdc);
  EXPECT_EQ(one("le16 %r0").opcode, 0xd4);
  EXPECT_EQ(one("bswap64 %r0").opcode, 0xd7);
  Insn movsx = one("movsx1664 %r1, %r2");
  EXPECT_EQ(movsx.opcode, 0xbf);
  EXPECT_EQ(movsx.offset, 16);
  EXPECT_EQ(one("call 5").imm, 5);
  Insn callx = one("call %r3");
  EXPECT_EQ(callx.opcode, 0x8d);
  EXPECT_EQ(callx.dst, 3);
}

TEST(Assembler, ResolvesLabelsAndWideImmediates) {
  AssemblyResult result = assemble("jeq %r1, 0, done\nlddw %r0, 0x1122334455667788\ndone:\nexit");
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.insns.size(), 4u);
  EXPECT_EQ(result.insns[0].offset, 2);  // skips both LD_IMM64 slots
  EXPECT_EQ(static_cast<uint32_t>(result.insns[1].imm), 0x55667788u);
  EXPECT_EQ(static_cast<uint32_t>(result.insns[2].imm), 0x11223344u);
  AssemblyResult wide = assemble("ja32 end\nmov %r0, 1\nend:\nexit");
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(wide.insns[0].opcode, 0x06);
  EXPECT_EQ(wide.insns[0].imm, 1);
  AssemblyResult local = assemble("call local f\nexit\nf:\nexit");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local.insns[0].src, kPseudoCall);
  EXPECT_EQ(local.insns[0].imm, 1);
}

TEST(Assembler, MapReferences) {
  AssemblyResult result = assemble("lddw %r1, map:3\nexit");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.insns[0].src, kPseudoMapFd);
  EXPECT_EQ(result.insns[0].imm, 3);
  EXPECT_EQ(disassemble_one(result.insns[0], &result.insns[1]), "r1 = map[fd:3]");
  EXPECT_NE(assemble("lddw %r1, map:x").error.find("bad map fd"), std::string::npos);
}

TEST(Assembler, ReportsErrorsWithLineNumbers) {
  EXPECT_EQ(assemble("mov %r0, 1\nfrobnicate %r1").error,
            "line 2: unknown instruction 'frobnicate'");
  EXPECT_NE(assemble("mov %r11, 1").error.find("bad register"), std::string::npos);
  EXPECT_NE(assemble("ja nowhere").error.find("bad jump target"), std::string::npos);
  EXPECT_NE(assemble("mov %r0, 0x1ffffffff").error.find("bad 32-bit immediate"), std::string::npos);
  EXPECT_NE(assemble("ldxw %r0, %r1").error.find("memory operand"), std::string::npos);
  EXPECT_NE(assemble("a:\na:\nexit").error.find("duplicate label"), std::string::npos);
  EXPECT_NE(assemble("exit %r0").error.find("takes 0 operand"), std::string::npos);
  EXPECT_NE(assemble("ldxw %r0, [%r1+70000]").error.find("memory operand"), std::string::npos);
}

TEST(Disassembler, PrintsLikeBpftool) {
  AssemblyResult program = assemble(
      "mov %r0, 1\nmov %r1, %r2\nadd32 %r1, 8\nldxw %r0, [%r1+4]\nstxdw [%r10-8], %r1\n"
      "stw [%r10-4], 7\njne %r1, 0x10, +1\nlddw %r2, 0x100000000\ncall 1\nlock add [%r10-8], %r1\n"
      "lock fetch add32 [%r10-4], %r1\nbe16 %r0\nsdiv %r0, %r1\nmovsx864 %r0, %r1\nja -3\nexit");
  ASSERT_TRUE(program.ok()) << program.error;
  EXPECT_EQ(disassemble(program.insns),
            "0: (b7) r0 = 1\n"
            "1: (bf) r1 = r2\n"
            "2: (04) w1 += 8\n"
            "3: (61) r0 = *(u32 *)(r1 +4)\n"
            "4: (7b) *(u64 *)(r10 -8) = r1\n"
            "5: (62) *(u32 *)(r10 -4) = 7\n"
            "6: (55) if r1 != 0x10 goto pc+1\n"
            "7: (18) r2 = 0x100000000\n"
            "9: (85) call bpf_map_lookup_elem#1\n"
            "10: (db) lock *(u64 *)(r10 -8) += r1\n"
            "11: (c3) r1 = atomic_fetch_add((u32 *)(r10 -4), r1)\n"
            "12: (dc) r0 = be16 r0\n"
            "13: (3f) r0 s/= r1\n"
            "14: (bf) r0 = (s8)r1\n"
            "15: (05) goto pc-3\n"
            "16: (95) exit\n");
}

// Linux's print_bpf_insn conventions: ALU and store immediates in signed decimal, jump
// immediates as unsigned 32-bit hex, 64-bit immediates as unsigned hex, helper names.
TEST(Disassembler, NumbersAndNamesFollowLinux) {
  AssemblyResult program = assemble(
      "mov32 %r3, -5\njeq32 %r2, -1, +0\njsgt %r2, -2, +3\nlddw %r4, -1\nstb [%r1+0], -1\n"
      "call 12\ncall 999\ncall local +1\nexit\nja32 -2\nlock cmpxchg32 [%r1-2], %r5\n"
      "lock xchg [%r1], %r6\nldxsh %r7, [%r8+2]\nle64 %r9\nbswap32 %r9\nneg32 %r1\nexit");
  ASSERT_TRUE(program.ok()) << program.error;
  EXPECT_EQ(disassemble(program.insns),
            "0: (b4) w3 = -5\n"
            "1: (16) if w2 == 0xffffffff goto pc+0\n"
            "2: (65) if r2 s> 0xfffffffe goto pc+3\n"
            "3: (18) r4 = 0xffffffffffffffff\n"
            "5: (72) *(u8 *)(r1 +0) = -1\n"
            "6: (85) call bpf_tail_call#12\n"
            "7: (85) call unknown#999\n"
            "8: (85) call pc+1\n"
            "9: (95) exit\n"
            "10: (06) gotol pc-2\n"
            "11: (c3) r0 = atomic_cmpxchg((u32 *)(r1 -2), r0, r5)\n"
            "12: (db) r6 = atomic64_xchg((u64 *)(r1 +0), r6)\n"
            "13: (89) r7 = *(s16 *)(r8 +2)\n"
            "14: (d4) r9 = le64 r9\n"
            "15: (d7) r9 = bswap32 r9\n"
            "16: (84) w1 = -w1\n"
            "17: (95) exit\n");
}

TEST(Assembler, FunctionAndMapValueReferences) {
  AssemblyResult result = assemble("lddw %r2, func:cb\nlddw %r3, map_value:4+16\nexit\ncb:\nexit");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.insns[0].src, kPseudoFunc);
  EXPECT_EQ(result.insns[0].imm, 4);  // pc-relative, like Linux: 0 + 1 + 4 = slot 5
  EXPECT_EQ(result.insns[2].src, kPseudoMapValue);
  EXPECT_EQ(result.insns[2].imm, 4);
  EXPECT_EQ(result.insns[3].imm, 16);
  EXPECT_EQ(disassemble_one(result.insns[2], &result.insns[3]), "r3 = map[fd:4][0]+16");
  EXPECT_NE(assemble("lddw %r2, func:nowhere\nexit").error.find("unknown function"),
            std::string::npos);
  EXPECT_NE(assemble("lddw %r2, map_value:1+x\nexit").error.find("bad map value"),
            std::string::npos);
}

// Every conformance program survives assemble -> to_assembly -> assemble bit for bit, and
// disassembles without an "invalid" marker.
TEST(RoundTrip, EveryConformanceProgram) {
  std::filesystem::path dir = SONDE_CONFORMANCE_DIR;
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no conformance data at " << dir;
  int programs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".data") continue;
    std::ifstream in(entry.path());
    std::string line, text;
    bool in_asm = false;
    while (std::getline(in, line)) {
      if (line.rfind("-- ", 0) == 0) {
        in_asm = line.rfind("-- asm", 0) == 0;
        continue;
      }
      if (in_asm) text += line + "\n";
    }
    AssemblyResult first = assemble(text);
    ASSERT_TRUE(first.ok()) << entry.path() << ": " << first.error;
    std::string error;
    std::string written = to_assembly(first.insns, &error);
    ASSERT_TRUE(error.empty()) << entry.path() << ": " << error;
    AssemblyResult second = assemble(written);
    ASSERT_TRUE(second.ok()) << entry.path() << ": " << second.error << "\n" << written;
    ASSERT_EQ(first.insns.size(), second.insns.size()) << entry.path();
    EXPECT_EQ(
        std::memcmp(first.insns.data(), second.insns.data(), first.insns.size() * sizeof(Insn)), 0)
        << entry.path() << "\n"
        << written;
    EXPECT_EQ(disassemble(first.insns).find("invalid"), std::string::npos) << entry.path();
    ++programs;
  }
  EXPECT_GE(programs, 313);
}

TEST(RoundTrip, EncodingsWithoutASpellingAreRefused) {
  std::vector<Insn> insns = assemble("mov %r0, 1\nexit").insns;
  insns[0].src = 3;  // a register in an immediate-form instruction
  std::string error;
  EXPECT_EQ(to_assembly(insns, &error), "");
  EXPECT_NE(error.find("instruction 0"), std::string::npos);
  insns[0].src = 0;
  insns[0].opcode = 0xff;
  EXPECT_EQ(to_assembly(insns, &error), "");
}

}  // namespace
