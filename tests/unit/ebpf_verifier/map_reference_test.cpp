// SPDX-License-Identifier: MIT
// Map references in Linux's form (fds and value offsets), relocation, and read-only strings
// for bpf_snprintf: the path a libbpf program's maps, globals and .rodata take.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/environment.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/verifier.hpp"
#include "rt/errno.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

struct MapReferenceTest : ::testing::Test {
  test_support::MallocAllocator allocator;
  Map* maps[3] = {};  // fd 0: .rodata (frozen, read-only 1-element array), fd 1: .bss, fd 2: hash

  void SetUp() override {
    MapAttributes rodata;
    rodata.type = MapType::kArray;
    rodata.key_size = 4;
    rodata.value_size = 32;
    rodata.max_entries = 1;
    rodata.map_flags = kMapRdonlyProg;
    maps[0] = create_map(rodata, allocator, 1).value();
    uint32_t zero = 0;
    char text[32] = "n=%d s=%s";
    std::memcpy(text + 16, "abc", 4);
    uint32_t max_args = 5;  // a `const volatile` bound at offset 24
    std::memcpy(text + 24, &max_args, 4);
    ASSERT_EQ(rt::to_negated_errno(maps[0]->syscall_update(&zero, text, 0)), 0);
    maps[0]->freeze();
    MapAttributes bss = rodata;
    bss.map_flags = 0;
    bss.value_size = 16;
    maps[1] = create_map(bss, allocator, 1).value();
    MapAttributes hash = bss;
    hash.type = MapType::kHash;
    hash.max_entries = 4;
    maps[2] = create_map(hash, allocator, 1).value();
  }
  void TearDown() override {
    for (Map* m : maps) destroy_map(m, allocator);
  }

  static const Map* resolve(void* state, int32_t fd) {
    auto* self = static_cast<MapReferenceTest*>(state);
    return fd >= 0 && fd < 3 ? self->maps[fd] : nullptr;
  }
  static Map* resolve_mutable(void* state, int32_t fd) {
    auto* self = static_cast<MapReferenceTest*>(state);
    return fd >= 0 && fd < 3 ? self->maps[fd] : nullptr;
  }

  // `lddw %rN, map:FD` is a BPF_PSEUDO_MAP_FD; `value:FD:OFF` below becomes BPF_PSEUDO_MAP_VALUE.
  std::vector<Insn> build(const std::string& text,
                          std::vector<std::pair<size_t, std::pair<int, int>>> values = {}) {
    AssemblyResult a = assemble(text);
    EXPECT_TRUE(a.ok()) << a.error;
    for (auto& [slot, fd_off] : values) {
      a.insns[slot].src = kPseudoMapValue;
      a.insns[slot].imm = fd_off.first;
      a.insns[slot + 1].imm = fd_off.second;
    }
    return a.insns;
  }

  std::pair<int, std::string> check(const std::vector<Insn>& insns) {
    std::string log(1 << 16, '\0');
    VerifierOptions options;
    options.allocator = &allocator;
    options.resolve_map = resolve;
    options.resolve_state = this;
    options.log = log.data();
    options.log_size = static_cast<uint32_t>(log.size());
    options.log_level = 1;
    int error = verify(insns.data(), static_cast<uint32_t>(insns.size()), options).error;
    return {error, log.c_str()};
  }
};

TEST_F(MapReferenceTest, FdsAreResolvedThroughTheCaller) {
  auto ok = check(build(
      "stw [%r10-4], 0\nlddw %r1, map:2\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r0, 0\nexit"));
  EXPECT_EQ(ok.first, 0) << ok.second;
  auto bad = check(build("lddw %r1, map:7\nmov %r0, 0\nexit"));
  EXPECT_EQ(bad.first, -rt::kEBADF);
  EXPECT_NE(bad.second.find("fd 7 is not pointing to valid bpf_map"), std::string::npos)
      << bad.second;
}

// Linux's resolve_pseudo_ldimm64 checks every map reference before the simulation, also those
// on paths it never takes (the load step rewrites them all): found by the verifier fuzzer.
TEST_F(MapReferenceTest, ReferencesOnPathsNeverTakenAreCheckedToo) {
  // r0 = 0; if r0 == 1 goto +2 (never); exit; r1 = <reference>; exit
  const std::string dead = "mov %r0, 0\njeq %r0, 1, +1\nexit\nlddw %r1, 0\nexit";
  auto value = check(build(dead, {{3, {1, 16}}}));  // past .bss's 16 bytes
  EXPECT_EQ(value.first, -rt::kEINVAL) << value.second;
  EXPECT_NE(value.second.find("invalid access to map value pointer, value_size=16 off=16"),
            std::string::npos)
      << value.second;
  auto hash = check(build(dead, {{3, {2, 0}}}));  // a hash map has no direct value
  EXPECT_EQ(hash.first, -rt::kEINVAL) << hash.second;
  auto fd = check(build("mov %r0, 0\njeq %r0, 1, +1\nexit\nlddw %r1, map:9\nexit"));
  EXPECT_EQ(fd.first, -rt::kEBADF) << fd.second;
  EXPECT_EQ(check(build(dead, {{3, {1, 8}}})).first, 0);
}

TEST_F(MapReferenceTest, GlobalVariablesAreMapValues) {
  // r1 = &bss[8]; *(u64 *)r1 += 1
  auto ok = check(build("lddw %r1, 0\nldxdw %r0, [%r1+0]\nadd %r0, 1\nstxdw [%r1+0], %r0\nexit",
                        {{0, {1, 8}}}));
  EXPECT_EQ(ok.first, 0) << ok.second;
  auto past = check(build("lddw %r1, 0\nldxdw %r0, [%r1+8]\nexit", {{0, {1, 8}}}));
  EXPECT_NE(past.second.find("invalid access to map value, value_size=16 off=16 size=8"),
            std::string::npos)
      << past.second;
  auto offset = check(build("lddw %r1, 0\nmov %r0, 0\nexit", {{0, {1, 16}}}));
  EXPECT_EQ(offset.first, -rt::kEINVAL);
  EXPECT_NE(offset.second.find("invalid access to map value pointer, value_size=16 off=16"),
            std::string::npos);
  auto hash = check(build("lddw %r1, 0\nmov %r0, 0\nexit", {{0, {2, 0}}}));
  EXPECT_EQ(hash.first, -rt::kEINVAL);
  EXPECT_NE(hash.second.find("no direct value access support for this map type"),
            std::string::npos);
  auto rodata_write = check(build("lddw %r1, 0\nstdw [%r1+0], 1\nmov %r0, 0\nexit", {{0, {0, 0}}}));
  EXPECT_NE(rodata_write.second.find("write into map forbidden"), std::string::npos)
      << rodata_write.second;
}

TEST_F(MapReferenceTest, RelocationProducesWhatEnginesRun) {
  std::vector<Insn> insns =
      build("lddw %r1, 0\nldxdw %r0, [%r1+0]\nadd %r0, 1\nstxdw [%r1+0], %r0\nexit", {{0, {1, 8}}});
  ASSERT_EQ(check(insns).first, 0);
  ASSERT_EQ(rt::to_negated_errno(relocate_maps(insns.data(), static_cast<uint32_t>(insns.size()),
                                               resolve_mutable, this)),
            0);
  EXPECT_EQ(insns[0].src, kPseudoImm64);
  Program program;
  program.insns = insns.data();
  program.insn_count = static_cast<uint32_t>(insns.size());
  EXPECT_EQ(run(program, nullptr, nullptr), 1u);
  EXPECT_EQ(run(program, nullptr, nullptr), 2u);
  uint32_t zero = 0;
  uint64_t bss[2];
  ASSERT_EQ(rt::to_negated_errno(maps[1]->syscall_lookup(&zero, bss, 0)), 0);
  EXPECT_EQ(bss[1], 2u);
  std::vector<Insn> bad = build("lddw %r1, map:9\nexit");
  EXPECT_EQ(rt::to_negated_errno(relocate_maps(bad.data(), static_cast<uint32_t>(bad.size()),
                                               resolve_mutable, this)),
            -rt::kEBADF);
  std::vector<Insn> no_direct = build("lddw %r1, 0\nexit", {{0, {2, 0}}});
  EXPECT_EQ(rt::to_negated_errno(relocate_maps(
                no_direct.data(), static_cast<uint32_t>(no_direct.size()), resolve_mutable, this)),
            -rt::kEINVAL);
}

class StringEnvironment final : public Environment {
 public:
  uint32_t current_cpu() override { return 0; }
  uint32_t possible_cpus() override { return 1; }
  uint64_t monotonic_ns() override { return 0; }
  uint64_t boot_ns() override { return 0; }
  uint32_t random_u32() override { return 0; }
  uint64_t current_pid_tgid() override { return 0; }
  uint64_t current_uid_gid() override { return 0; }
  long current_comm(char*, uint32_t) override { return -22; }
  long read_user(void*, uint64_t, uint32_t) override { return -14; }
  long read_kernel(void* destination, uint64_t source, uint32_t size) override {
    std::memcpy(destination, reinterpret_cast<const void*>(source),
                size);  // test strings are real memory
    return 0;
  }
  uint64_t current_function_ip() override { return 0; }
  long capture_stack(bool, uint32_t, uint64_t*, uint32_t) override { return 0; }
  long trace_output(const char*, uint32_t) override { return 0; }
};

TEST_F(MapReferenceTest, SnprintfTakesItsFormatFromReadOnlyMaps) {
  // data[0] = 42, data[1] = &rodata[16] ("abc"); snprintf(fp-64, 8, rodata, data, 16)
  std::string text =
      "stdw [%r10-16], 42\nlddw %r1, 0\nstxdw [%r10-8], %r1\n"
      "mov %r1, %r10\nadd %r1, -64\nmov %r2, 8\nlddw %r3, 0\nmov %r4, %r10\nadd %r4, -16\nmov %r5, "
      "16\ncall 165\nexit";
  std::vector<Insn> insns = build(text, {{1, {0, 16}}, {7, {0, 0}}});
  auto verdict = check(insns);
  ASSERT_EQ(verdict.first, 0) << verdict.second;
  ASSERT_EQ(rt::to_negated_errno(relocate_maps(insns.data(), static_cast<uint32_t>(insns.size()),
                                               resolve_mutable, this)),
            0);
  HelperFunction table[kMaxHelperId] = {};
  fill_helper_table(table);
  StringEnvironment env;
  Program program;
  program.insns = insns.data();
  program.insn_count = static_cast<uint32_t>(insns.size());
  program.helpers = table;
  program.helper_count = kMaxHelperId;
  EXPECT_EQ(run(program, nullptr, &env), 11u) << "\"n=42 s=abc\" plus its NUL";

  // A writable map is not a constant string.
  std::vector<Insn> writable = build(text, {{1, {0, 16}}, {7, {1, 0}}});
  auto refused = check(writable);
  EXPECT_EQ(refused.first, -rt::kEACCES);
  EXPECT_NE(refused.second.find("R3 does not point to a readonly map"), std::string::npos)
      << refused.second;
}

// Linux's bpf_map_direct_read: a load from a frozen read-only map at a known offset is that
// number, so branches on it are decided (a loop bounded by .rodata ends where the value says).
TEST_F(MapReferenceTest, FrozenReadOnlyValuesAreKnownNumbers) {
  // r2 = rodata[24] (5); the other side of `r2 == 5` reads an uninitialised register.
  const char* program =
      "lddw %r1, 0\nldxw %r2, [%r1+0]\njeq %r2, 5, known\nmov %r0, %r9\nexit\n"
      "known:\nmov %r0, 0\nexit";
  auto rodata = check(build(program, {{0, {0, 24}}}));
  EXPECT_EQ(rodata.first, 0) << rodata.second;
  // The same load from a writable map is any number: the bad side is checked.
  auto bss = check(build(program, {{0, {1, 8}}}));
  EXPECT_EQ(bss.first, -rt::kEACCES) << bss.second;
  EXPECT_NE(bss.second.find("R9 !read_ok"), std::string::npos) << bss.second;
  // A byte and a word of it too.
  auto byte =
      check(build("lddw %r1, 0\nldxb %r2, [%r1+1]\njeq %r2, 0, known\nmov %r0, %r9\n"
                  "exit\nknown:\nmov %r0, 0\nexit",
                  {{0, {0, 24}}}));
  EXPECT_EQ(byte.first, 0) << byte.second;
}

}  // namespace
