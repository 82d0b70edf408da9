// SPDX-License-Identifier: MIT
// Array maps: Linux's creation checks, update flags, lookups, deletion and key iteration.
#include <gtest/gtest.h>

#include <cstring>

#include "ebpf/maps.hpp"
#include "fake_environment.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

MapAttributes array_attributes(uint32_t value_size = 8, uint32_t max_entries = 4) {
  MapAttributes a;
  a.type = MapType::kArray;
  a.key_size = 4;
  a.value_size = value_size;
  a.max_entries = max_entries;
  return a;
}

struct ArrayMapTest : ::testing::Test {
  test_support::MallocAllocator allocator;
  Map* map = nullptr;
  void SetUp() override {
    auto created = create_map(array_attributes(), allocator, 2);
    ASSERT_TRUE(created.ok());
    map = created.value();
  }
  void TearDown() override {
    destroy_map(map, allocator);
    EXPECT_EQ(allocator.in_use(), 0u) << "memory leaked";
  }
};

TEST(ArrayMapCreate, RejectsBadAttributes) {
  test_support::MallocAllocator allocator;
  auto bad_key = array_attributes();
  bad_key.key_size = 8;
  EXPECT_EQ(create_map(bad_key, allocator, 1).error().code, rt::kEINVAL);
  EXPECT_EQ(create_map(array_attributes(0), allocator, 1).error().code, rt::kEINVAL);
  EXPECT_EQ(create_map(array_attributes(8, 0), allocator, 1).error().code, rt::kEINVAL);
  auto bad_flags = array_attributes();
  bad_flags.map_flags = 1u << 30;
  EXPECT_EQ(create_map(bad_flags, allocator, 1).error().code, rt::kEINVAL);
  // KMALLOC_MAX_SIZE (4 MiB) bounds a value; a per-CPU value is bounded by 32 KiB.
  EXPECT_EQ(create_map(array_attributes((1u << 22) + 1), allocator, 1).error().code, rt::kE2BIG);
  auto per_cpu = array_attributes(32769);
  per_cpu.type = MapType::kPercpuArray;
  ebpf_test::FakeEnvironment env;
  EXPECT_EQ(create_map(per_cpu, allocator, 2, &env).error().code, rt::kE2BIG);
  // Sizes Linux accepts but the budget does not: ENOMEM, nothing left behind.
  allocator.set_budget(1u << 20);
  EXPECT_EQ(create_map(array_attributes(1u << 20, 1u << 13), allocator, 1).error().code,
            rt::kENOMEM);
  EXPECT_EQ(allocator.in_use(), 0u);
  MapAttributes unknown;
  unknown.type = static_cast<MapType>(9999);
  EXPECT_EQ(create_map(unknown, allocator, 1).error().code, rt::kEINVAL);
}

TEST(ArrayMapCreate, AllocationIsAccountedAndBounded) {
  test_support::MallocAllocator allocator;
  allocator.set_budget(100);
  EXPECT_EQ(create_map(array_attributes(8, 64), allocator, 1).error().code, rt::kENOMEM);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST_F(ArrayMapTest, ValuesStartZeroAndUpdatesFollowFlags) {
  uint32_t key = 2;
  uint64_t value = 0;
  ASSERT_EQ(rt::to_negated_errno(map->syscall_lookup(&key, &value, 0)), 0);
  EXPECT_EQ(value, 0u);
  uint64_t v = 99;
  EXPECT_EQ(rt::to_negated_errno(map->syscall_update(&key, &v, kUpdateAny)), 0);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_update(&key, &v, kUpdateExist)), 0);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_update(&key, &v, kUpdateNoExist)), -rt::kEEXIST);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_update(&key, &v, 7)), -rt::kEINVAL);
  ASSERT_EQ(rt::to_negated_errno(map->syscall_lookup(&key, &value, 0)), 0);
  EXPECT_EQ(value, 99u);
  EXPECT_EQ(*static_cast<uint64_t*>(map->lookup(&key)), 99u);
}

TEST_F(ArrayMapTest, OutOfRangeKeysAndDeletion) {
  uint32_t key = 4;
  uint64_t v = 1;
  EXPECT_EQ(map->lookup(&key), nullptr);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_lookup(&key, &v, 0)), -rt::kENOENT);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_update(&key, &v, 0)), -rt::kE2BIG);
  key = 0;
  EXPECT_EQ(map->remove(&key), -rt::kEINVAL);
}

TEST_F(ArrayMapTest, GetNextKeyWalksAndRestarts) {
  uint32_t next = 99;
  ASSERT_EQ(rt::to_negated_errno(map->get_next_key(nullptr, &next)), 0);
  EXPECT_EQ(next, 0u);
  uint32_t key = 1;
  ASSERT_EQ(rt::to_negated_errno(map->get_next_key(&key, &next)), 0);
  EXPECT_EQ(next, 2u);
  key = 3;
  EXPECT_EQ(rt::to_negated_errno(map->get_next_key(&key, &next)), -rt::kENOENT);
  key = 1000;  // out of range: start over
  ASSERT_EQ(rt::to_negated_errno(map->get_next_key(&key, &next)), 0);
  EXPECT_EQ(next, 0u);
}

TEST_F(ArrayMapTest, FrozenMapsRefuseSyscallWritesButNotProgramWrites) {
  map->freeze();
  uint32_t key = 0;
  uint64_t v = 5;
  EXPECT_EQ(rt::to_negated_errno(map->syscall_update(&key, &v, 0)), -rt::kEPERM);
  EXPECT_EQ(map->update(&key, &v, 0), 0);
}

TEST_F(ArrayMapTest, LookupBatchWalksIndexes) {
  for (uint32_t k = 0; k < 4; ++k) {
    uint64_t v = 100 + k;
    ASSERT_EQ(rt::to_negated_errno(map->syscall_update(&k, &v, 0)), 0);
  }
  uint32_t keys[3], next = 0, count = 3;
  uint64_t values[3];
  ASSERT_EQ(rt::to_negated_errno(map->lookup_batch(nullptr, &next, keys, values, &count)), 0);
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(values[2], 102u);
  uint32_t token = next;
  count = 3;
  EXPECT_EQ(rt::to_negated_errno(map->lookup_batch(&token, &next, keys, values, &count)),
            -rt::kENOENT);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(keys[0], 3u);
  EXPECT_EQ(values[0], 103u);
}

TEST_F(ArrayMapTest, MemoryUsageCoversValues) { EXPECT_GE(map->memory_usage(), 4u * 8u); }

}  // namespace
