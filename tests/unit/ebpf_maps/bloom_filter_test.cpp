// SPDX-License-Identifier: MIT
// Bloom filter maps: creation checks and sizes as Linux 6.1's, membership through push and
// peek from the syscall side and from programs, and what the keyed operations answer.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "ebpf/assembler.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/maps.hpp"
#include "fake_environment.hpp"
#include "maps/bloom_filter_map.hpp"
#include "maps/jhash.hpp"
#include "rt/errno.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

MapAttributes bloom(uint32_t value_size = 4, uint32_t max_entries = 100, uint64_t extra = 0) {
  MapAttributes a;
  a.type = MapType::kBloomFilter;
  a.value_size = value_size;
  a.max_entries = max_entries;
  a.map_extra = extra;
  return a;
}

int error_of(const MapAttributes& a) {
  test_support::MallocAllocator allocator;
  auto created = create_map(a, allocator, 1);
  if (created.ok()) {
    destroy_map(created.value(), allocator);
    return 0;
  }
  return created.error().code;
}

TEST(BloomFilter, CreationChecksAsLinux) {
  EXPECT_EQ(error_of(bloom()), 0);
  MapAttributes keyed = bloom();
  keyed.key_size = 4;
  EXPECT_EQ(error_of(keyed), rt::kEINVAL) << "no key";
  EXPECT_EQ(error_of(bloom(0)), rt::kEINVAL) << "a value";
  EXPECT_EQ(error_of(bloom(4, 0)), rt::kEINVAL) << "max_entries";
  EXPECT_EQ(error_of(bloom(4, 10, 0x10)), rt::kEINVAL) << "map_extra above the low 4 bits";
  EXPECT_EQ(error_of(bloom(4, 10, 15)), 0);
  MapAttributes flags = bloom();
  flags.map_flags = kMapNoPrealloc;
  EXPECT_EQ(error_of(flags), rt::kEINVAL) << "BPF_F_NO_PREALLOC is not a bloom flag";
  flags.map_flags = kMapZeroSeed | kMapRdonlyProg;
  EXPECT_EQ(error_of(flags), 0);
  flags.map_flags = kMapRdonlyProg | kMapWronlyProg;
  EXPECT_EQ(error_of(flags), rt::kEINVAL);
}

TEST(BloomFilter, BitArraySizesFollowLinux) {
  uint32_t mask = 0;
  // 100 entries * 5 hashes = 500, * 7 / 5 = 700 bits -> 1024 bits, 128 bytes.
  EXPECT_EQ(BloomFilterMap::bitset_bytes(bloom(), &mask), 128u);
  EXPECT_EQ(mask, 1023u);
  // 1 entry, 1 hash: 0 * 7 = 0 bits -> at least 64.
  EXPECT_EQ(BloomFilterMap::bitset_bytes(bloom(4, 1, 1), &mask), 8u);
  EXPECT_EQ(mask, 63u);
  // Past 2^31 bits: the whole 2^32-bit array.
  EXPECT_EQ(BloomFilterMap::bitset_bytes(bloom(4, 1u << 30, 15), &mask), 1ull << 29);
  EXPECT_EQ(mask, 0xFFFFFFFFu);
}

TEST(BloomFilter, PushedValuesAreFoundOthersMostlyNot) {
  test_support::MallocAllocator allocator;
  ebpf_test::FakeEnvironment environment;
  Map* map = create_map(bloom(4, 1000, 3), allocator, 1, &environment).value();
  for (uint32_t v = 0; v < 1000; v += 2)
    ASSERT_EQ(rt::to_negated_errno(map->syscall_update(nullptr, &v, kUpdateAny)), 0);
  uint32_t found_odd = 0;
  for (uint32_t v = 0; v < 1000; ++v) {
    long result = rt::to_negated_errno(map->syscall_lookup(nullptr, &v, 0));
    if (v % 2 == 0) {
      EXPECT_EQ(result, 0) << v << " was pushed: never a false negative";
    } else if (result == 0) {
      ++found_odd;
    } else {
      EXPECT_EQ(result, -rt::kENOENT);
    }
  }
  // 500 values in 8192 bits with 3 hashes: a false positive rate near 0.5%; 10% is generous.
  EXPECT_LT(found_odd, 50u);
  uint32_t value = 2;
  EXPECT_EQ(map->push(&value, kUpdateExist), -rt::kEINVAL) << "BPF_ANY only";
  EXPECT_EQ(map->push(&value, kUpdateNoExist), -rt::kEINVAL);
  EXPECT_EQ(map->pop(&value), -rt::kEOPNOTSUPP);
  EXPECT_EQ(map->remove(nullptr), -rt::kEOPNOTSUPP);
  EXPECT_EQ(map->lookup(nullptr), nullptr);
  EXPECT_EQ(rt::to_negated_errno(map->get_next_key(nullptr, &value)), -rt::kEOPNOTSUPP);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_lookup(nullptr, &value, 1)), -rt::kEINVAL);
  EXPECT_EQ(rt::to_negated_errno(map->lookup_and_delete(nullptr, &value, 0)), -rt::kENOTSUPP);
  map->freeze();
  EXPECT_EQ(rt::to_negated_errno(map->syscall_update(nullptr, &value, kUpdateAny)), -rt::kEPERM);
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

// Linux's jhash of whole words equals its jhash2 of them (lookup3 reads the same words), and
// an empty input hashes to the initial value.
TEST(BloomFilter, JhashAgreesWithJhash2OnWholeWords) {
  uint32_t words[7] = {1, 0xdeadbeef, 3, 0x12345678, 5, 6, 0xffffffff};
  uint8_t bytes[sizeof(words)];
  std::memcpy(bytes, words, sizeof(words));
  for (uint32_t n = 0; n <= 7; ++n) {
    EXPECT_EQ(jhash(bytes, 4 * n, 77), jhash2(words, n, 77)) << n << " words";
  }
  EXPECT_EQ(jhash(bytes, 0, 0), 0xdeadbeefu);
  EXPECT_NE(jhash(bytes, 5, 0), jhash(bytes, 4, 0)) << "the fifth byte counts";
}

TEST(BloomFilter, ValuesOfOddSizesHashByteWise) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(bloom(7, 64), allocator, 1).value();
  char first[7] = {'a', 'b', 'c', 'd', 'e', 'f', 'g'};
  char second[7] = {'a', 'b', 'c', 'd', 'e', 'f', 'h'};
  ASSERT_EQ(map->push(first, kUpdateAny), 0);
  EXPECT_EQ(map->peek(first), 0);
  EXPECT_EQ(map->peek(second), -rt::kENOENT) << "one byte apart (no collision at this seed)";
  destroy_map(map, allocator);
}

TEST(BloomFilter, ProgramsPushAndPeek) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(bloom(), allocator, 1).value();
  HelperFunction table[kMaxHelperId] = {};
  fill_helper_table(table);
  std::string m = std::to_string(reinterpret_cast<uint64_t>(map));
  // push 7; return peek(7) * 10 + (peek(8) == -ENOENT).
  AssemblyResult program =
      assemble("stw [%r10-4], 7\nlddw %r1, " + m +
               "\nmov %r2, %r10\nadd %r2, -4\nmov %r3, 0\ncall 87\n"
               "lddw %r1, " +
               m +
               "\nmov %r2, %r10\nadd %r2, -4\ncall 89\nmov %r6, %r0\nmul %r6, 10\n"
               "stw [%r10-4], 8\nlddw %r1, " +
               m +
               "\nmov %r2, %r10\nadd %r2, -4\ncall 89\njne %r0, -2, +1\nadd %r6, 1\n"
               "mov %r0, %r6\nexit");
  ASSERT_TRUE(program.ok()) << program.error;
  Program p;
  p.insns = program.insns.data();
  p.insn_count = static_cast<uint32_t>(program.insns.size());
  p.helpers = table;
  p.helper_count = kMaxHelperId;
  CheckedRunOptions options;
  RunResult r = run_checked(p, 0, 0, nullptr, options);
  ASSERT_EQ(r.status, RunStatus::kOk);
  EXPECT_EQ(r.value, 1u) << "7 found (0 * 10), 8 not (+1)";
  destroy_map(map, allocator);
}

}  // namespace
