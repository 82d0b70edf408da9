// SPDX-License-Identifier: MIT
// Program loading: LD_IMM64 pseudo sources (map fd, map value, fd_array index forms,
// function, BTF id) rewritten for execution, their errors, and the engine seam.
#include <gtest/gtest.h>

#include <cstring>

#include "rt/errno.hpp"
#include "vm_test_support.hpp"

namespace {

using namespace ebpf;
using namespace ebpf::testing;

// A single-element array with direct value access (like .data / .rodata maps).
class GlobalsMap : public Map {
 public:
  GlobalsMap() : Map(MapAttributes{MapType::kArray, 4, sizeof(value_), 1, 0, {}}) {}
  void* lookup(const void*) override { return value_; }
  long update(const void*, const void*, uint64_t) override { return 0; }
  long remove(const void*) override { return -22; }
  rt::Result<void> syscall_lookup(const void*, void*, uint64_t) override { return {}; }
  rt::Result<void> syscall_update(const void*, const void*, uint64_t) override { return {}; }
  rt::Result<void> get_next_key(const void*, void*) override { return rt::err(rt::kENOENT); }
  uint8_t* direct_value(uint32_t offset) override {
    return offset < sizeof(value_) ? value_ + offset : nullptr;
  }
  size_t memory_usage() const override { return sizeof(*this); }
  uint8_t value_[32] = {};
};

struct Maps {
  GlobalsMap globals;              // fd 3
  OneProgramArray jumps{nullptr};  // fd 4: no direct value access
  static Map* by_fd(void* state, int32_t fd) {
    auto* maps = static_cast<Maps*>(state);
    return fd == 3   ? static_cast<Map*>(&maps->globals)
           : fd == 4 ? static_cast<Map*>(&maps->jumps)
                     : nullptr;
  }
  LoadResolver resolver() { return LoadResolver{by_fd, nullptr, this}; }
};

std::vector<Insn> assembled(const std::string& text) {
  AssemblyResult result = assemble(text);
  EXPECT_TRUE(result.ok()) << result.error;
  return result.insns;
}

uint64_t imm64(const std::vector<Insn>& insns, size_t at) {
  return static_cast<uint32_t>(insns[at].imm) |
         (static_cast<uint64_t>(static_cast<uint32_t>(insns[at + 1].imm)) << 32);
}

int prepare(std::vector<Insn>& insns, const LoadResolver& resolver) {
  return rt::to_negated_errno(
      prepare_for_execution(insns.data(), static_cast<uint32_t>(insns.size()), resolver));
}

TEST(ProgramLoad, MapReferencesBecomePointers) {
  Maps maps;
  std::vector<Insn> insns =
      assembled("lddw %r1, map:3\nlddw %r2, map_value:3+8\nlddw %r3, 0x55\nexit");
  ASSERT_EQ(prepare(insns, maps.resolver()), 0);
  EXPECT_EQ(insns[0].src, kPseudoImm64);
  EXPECT_EQ(imm64(insns, 0), reinterpret_cast<uint64_t>(static_cast<Map*>(&maps.globals)));
  EXPECT_EQ(insns[2].src, kPseudoImm64);
  EXPECT_EQ(imm64(insns, 2), reinterpret_cast<uint64_t>(&maps.globals.value_[8]));
  EXPECT_EQ(imm64(insns, 4), 0x55u);
}

TEST(ProgramLoad, ProgramsReadAndWriteGlobalsThroughMapValues) {
  Maps maps;
  std::vector<Insn> insns =
      assembled("lddw %r1, map_value:3+4\nldxw %r0, [%r1]\nadd %r0, 1\nstxw [%r1], %r0\nexit");
  ASSERT_EQ(prepare(insns, maps.resolver()), 0);
  uint32_t start = 41;
  std::memcpy(&maps.globals.value_[4], &start, 4);
  Program program;
  program.insns = insns.data();
  program.insn_count = static_cast<uint32_t>(insns.size());
  EXPECT_EQ(execute(program, nullptr, nullptr), 42u);
  uint32_t stored;
  std::memcpy(&stored, &maps.globals.value_[4], 4);
  EXPECT_EQ(stored, 42u);
}

TEST(ProgramLoad, MapReferenceErrors) {
  Maps maps;
  std::vector<Insn> unknown = assembled("lddw %r1, map:9\nexit");
  EXPECT_EQ(prepare(unknown, maps.resolver()), -rt::kEBADF);
  std::vector<Insn> no_resolver = assembled("lddw %r1, map:3\nexit");
  EXPECT_EQ(prepare(no_resolver, LoadResolver{}), -rt::kEBADF);
  std::vector<Insn> past_value = assembled("lddw %r1, map_value:3+32\nexit");
  EXPECT_EQ(prepare(past_value, maps.resolver()), -rt::kEINVAL);
  std::vector<Insn> no_direct = assembled("lddw %r1, map_value:4+0\nexit");
  EXPECT_EQ(prepare(no_direct, maps.resolver()), -rt::kEINVAL);
  std::vector<Insn> truncated = assembled("exit\nlddw %r1, 1");
  truncated.pop_back();
  EXPECT_EQ(prepare(truncated, maps.resolver()), -rt::kEINVAL);
  std::vector<Insn> unknown_source = assembled("lddw %r1, 1\nexit");
  unknown_source[0].src = 7;
  EXPECT_EQ(prepare(unknown_source, maps.resolver()), -rt::kEINVAL);
  std::vector<Insn> index_form = assembled("lddw %r1, map:0\nexit");
  index_form[0].src = kPseudoMapIdx;  // must go through resolve_fd_array first
  EXPECT_EQ(prepare(index_form, maps.resolver()), -rt::kEINVAL);
}

TEST(ProgramLoad, FdArrayIndexFormsBecomeFdForms) {
  std::vector<Insn> insns = assembled("lddw %r1, map:1\nlddw %r2, map_value:0+8\nexit");
  insns[0].src = kPseudoMapIdx;
  insns[2].src = kPseudoMapIdxValue;
  const int32_t fd_array[] = {3, 4};
  ASSERT_EQ(rt::to_negated_errno(
                resolve_fd_array(insns.data(), static_cast<uint32_t>(insns.size()), fd_array, 2)),
            0);
  EXPECT_EQ(insns[0].src, kPseudoMapFd);
  EXPECT_EQ(insns[0].imm, 4);
  EXPECT_EQ(insns[2].src, kPseudoMapValue);
  EXPECT_EQ(insns[2].imm, 3);
  EXPECT_EQ(insns[3].imm, 8);  // the value offset is kept

  std::vector<Insn> again = assembled("lddw %r1, map:2\nexit");
  again[0].src = kPseudoMapIdx;
  EXPECT_EQ(rt::to_negated_errno(resolve_fd_array(again.data(), 3, fd_array, 2)), -rt::kEFAULT);
  EXPECT_EQ(rt::to_negated_errno(resolve_fd_array(again.data(), 3, nullptr, 0)), -rt::kEPROTO);
  std::vector<Insn> plain = assembled("lddw %r1, map:2\nexit");
  EXPECT_EQ(rt::to_negated_errno(resolve_fd_array(plain.data(), 3, nullptr, 0)),
            0);  // nothing to resolve
  EXPECT_EQ(plain[0].imm, 2);
}

TEST(ProgramLoad, FunctionReferencesBecomeAbsoluteIndexes) {
  std::vector<Insn> insns = assembled("mov %r0, 0\nlddw %r2, func:cb\nexit\ncb:\nexit");
  ASSERT_EQ(prepare(insns, LoadResolver{}), 0);
  EXPECT_EQ(insns[1].src, kPseudoImm64);
  EXPECT_EQ(imm64(insns, 1), 4u);
  std::vector<Insn> outside = assembled("lddw %r2, func:+5\nexit");
  EXPECT_EQ(prepare(outside, LoadResolver{}), -rt::kEINVAL);
  std::vector<Insn> before = assembled("lddw %r2, func:-2\nexit");
  EXPECT_EQ(prepare(before, LoadResolver{}), -rt::kEINVAL);
}

uint64_t kernel_variable(void*, int32_t btf_id, int32_t btf_fd) {
  return btf_id == 77 && btf_fd == 0 ? 0xffff888000001000ull : 0;
}

TEST(ProgramLoad, BtfIdsGoThroughTheResolver) {
  std::vector<Insn> insns = assembled("lddw %r1, 0\nexit");
  insns[0].src = kPseudoBtfId;
  insns[0].imm = 77;
  std::vector<Insn> unknown = insns;
  EXPECT_EQ(prepare(unknown, LoadResolver{}), -rt::kENOENT);
  unknown[0].imm = 78;
  EXPECT_EQ(prepare(unknown, LoadResolver{nullptr, kernel_variable, nullptr}), -rt::kENOENT);
  ASSERT_EQ(prepare(insns, LoadResolver{nullptr, kernel_variable, nullptr}), 0);
  EXPECT_EQ(imm64(insns, 0), 0xffff888000001000ull);
}

uint64_t fake_engine(const Program& program, void*, Environment*) {
  return program.insn_count + 1000;
}

TEST(ProgramEngine, ExecuteUsesTheProgramsRunnerOrTheInterpreter) {
  Loaded loaded = load("mov %r0, 3\nexit");
  EXPECT_EQ(execute(loaded.program, nullptr, nullptr), 3u);
  loaded.program.runner = fake_engine;  // what a JIT installs
  EXPECT_EQ(execute(loaded.program, nullptr, nullptr), 1002u);
}

}  // namespace
