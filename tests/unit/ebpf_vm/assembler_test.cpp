// Assembler and disassembler: encodings, errors, and bpftool-style text.
#include "ebpf/assembler.hpp"

#include <gtest/gtest.h>

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
  EXPECT_EQ(assemble("mov %r0, 1\nfrobnicate %r1").error, "line 2: unknown instruction 'frobnicate'");
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
            "0: (b7) r0 = 0x1\n"
            "1: (bf) r1 = r2\n"
            "2: (04) w1 += 0x8\n"
            "3: (61) r0 = *(u32 *)(r1 +4)\n"
            "4: (7b) *(u64 *)(r10 -8) = r1\n"
            "5: (62) *(u32 *)(r10 -4) = 7\n"
            "6: (55) if r1 != 0x10 goto pc+1\n"
            "7: (18) r2 = 0x100000000\n"
            "9: (85) call #1\n"
            "10: (db) lock *(u64 *)(r10 -8) += r1\n"
            "11: (c3) w1 = atomic_fetch_add((u32 *)(r10 -4), w1)\n"
            "12: (dc) r0 = be16 r0\n"
            "13: (3f) r0 s/= r1\n"
            "14: (bf) r0 = (s8)r1\n"
            "15: (05) goto pc-3\n"
            "16: (95) exit\n");
}

}  // namespace
