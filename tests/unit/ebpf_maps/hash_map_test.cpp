// SPDX-License-Identifier: MIT
// Hash maps: Linux's creation checks, update flags, full maps, deletion, iteration order.
#include <gtest/gtest.h>

#include <set>

#include "ebpf/maps.hpp"
#include "fake_environment.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

MapAttributes hash_attributes(uint32_t max_entries = 4, uint32_t key_size = 4,
                              uint32_t value_size = 8) {
  MapAttributes a;
  a.type = MapType::kHash;
  a.key_size = key_size;
  a.value_size = value_size;
  a.max_entries = max_entries;
  return a;
}

struct HashMapTest : ::testing::Test {
  test_support::MallocAllocator allocator;
  Map* map = nullptr;
  void SetUp() override { map = create_map(hash_attributes(), allocator, 2).value(); }
  void TearDown() override {
    destroy_map(map, allocator);
    EXPECT_EQ(allocator.in_use(), 0u);
  }
  long put(uint32_t key, uint64_t value, uint64_t flags = kUpdateAny) {
    return rt::to_negated_errno(map->syscall_update(&key, &value, flags));
  }
};

TEST(HashMapCreate, RejectsBadAttributes) {
  test_support::MallocAllocator allocator;
  EXPECT_EQ(create_map(hash_attributes(0), allocator, 1).error().code, rt::kEINVAL);
  EXPECT_EQ(create_map(hash_attributes(4, 0), allocator, 1).error().code, rt::kEINVAL);
  EXPECT_EQ(create_map(hash_attributes(4, 4, 0), allocator, 1).error().code, rt::kEINVAL);
  // key_size + value_size must stay below KMALLOC_MAX_SIZE - sizeof(struct htab_elem).
  EXPECT_EQ(create_map(hash_attributes(4, 4, (1u << 22) - 52), allocator, 1).error().code,
            rt::kE2BIG);
  EXPECT_EQ(create_map(hash_attributes((1u << 28) + 1), allocator, 1).error().code, rt::kE2BIG);
  auto flags = hash_attributes();
  flags.map_flags = kMapMmapable;
  EXPECT_EQ(create_map(flags, allocator, 1).error().code, rt::kEINVAL);
  allocator.set_budget(64);
  EXPECT_EQ(create_map(hash_attributes(1024), allocator, 1).error().code, rt::kENOMEM);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST_F(HashMapTest, UpdateFlagsFollowLinux) {
  EXPECT_EQ(put(1, 10, kUpdateExist), -rt::kENOENT);
  EXPECT_EQ(put(1, 10, kUpdateNoExist), 0);
  EXPECT_EQ(put(1, 11, kUpdateNoExist), -rt::kEEXIST);
  EXPECT_EQ(put(1, 12, kUpdateExist), 0);
  EXPECT_EQ(put(1, 13, 3), -rt::kEINVAL);
  uint32_t key = 1;
  uint64_t value = 0;
  ASSERT_EQ(rt::to_negated_errno(map->syscall_lookup(&key, &value, 0)), 0);
  EXPECT_EQ(value, 12u);
}

TEST_F(HashMapTest, FullMapRefusesNewKeysButUpdatesOldOnes) {
  for (uint32_t k = 0; k < 4; ++k) ASSERT_EQ(put(k, k), 0);
  EXPECT_EQ(put(99, 1), -rt::kE2BIG);
  EXPECT_EQ(put(2, 200), 0);
  uint32_t key = 2;
  EXPECT_EQ(*static_cast<uint64_t*>(map->lookup(&key)), 200u);
  EXPECT_EQ(map->remove(&key), 0);
  EXPECT_EQ(put(99, 1), 0) << "a deleted element is reused";
}

TEST_F(HashMapTest, DeleteAndLookupAndDelete) {
  uint32_t key = 5;
  EXPECT_EQ(map->remove(&key), -rt::kENOENT);
  ASSERT_EQ(put(5, 50), 0);
  uint64_t value = 0;
  EXPECT_EQ(rt::to_negated_errno(map->lookup_and_delete(&key, &value, 0)), 0);
  EXPECT_EQ(value, 50u);
  EXPECT_EQ(map->lookup(&key), nullptr);
  EXPECT_EQ(rt::to_negated_errno(map->lookup_and_delete(&key, &value, 0)), -rt::kENOENT);
  EXPECT_EQ(rt::to_negated_errno(map->lookup_and_delete(&key, &value, 1)), -rt::kEINVAL);
}

TEST_F(HashMapTest, GetNextKeyVisitsEveryKeyOnceAndRestartsOnMissingKey) {
  for (uint32_t k = 10; k < 14; ++k) ASSERT_EQ(put(k, k), 0);
  std::set<uint32_t> seen;
  uint32_t key = 0, next = 0;
  long r = rt::to_negated_errno(map->get_next_key(nullptr, &next));
  while (r == 0) {
    EXPECT_TRUE(seen.insert(next).second) << "key visited twice: " << next;
    key = next;
    r = rt::to_negated_errno(map->get_next_key(&key, &next));
  }
  EXPECT_EQ(r, -rt::kENOENT);
  EXPECT_EQ(seen, (std::set<uint32_t>{10, 11, 12, 13}));
  uint32_t first = 0, missing = 777;
  ASSERT_EQ(rt::to_negated_errno(map->get_next_key(nullptr, &first)), 0);
  ASSERT_EQ(rt::to_negated_errno(map->get_next_key(&missing, &next)), 0);
  EXPECT_EQ(next, first);
  // An empty map has no first key.
  for (uint32_t k = 10; k < 14; ++k) ASSERT_EQ(map->remove(&k), 0);
  EXPECT_EQ(rt::to_negated_errno(map->get_next_key(nullptr, &next)), -rt::kENOENT);
}

TEST_F(HashMapTest, FrozenMapRefusesSyscallWrites) {
  map->freeze();
  EXPECT_EQ(put(1, 1), -rt::kEPERM);
  uint32_t key = 1;
  uint64_t value = 1;
  EXPECT_EQ(map->update(&key, &value, 0), 0);  // programs may still write
}

TEST(HashMapBatch, LookupBatchReturnsEveryElementOnceThenENOENT) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(hash_attributes(64), allocator, 1).value();
  for (uint32_t k = 0; k < 40; ++k) {
    uint64_t v = k * 10;
    ASSERT_EQ(map->update(&k, &v, 0), 0);
  }
  std::set<uint32_t> seen;
  uint32_t token = 0;
  bool first = true;
  long r = 0;
  do {
    uint32_t keys[8];
    uint64_t values[8];
    uint32_t count = 8, next = 0;
    r = rt::to_negated_errno(
        map->lookup_batch(first ? nullptr : &token, &next, keys, values, &count));
    ASSERT_TRUE(r == 0 || r == -rt::kENOENT) << r;
    for (uint32_t i = 0; i < count; ++i) {
      EXPECT_EQ(values[i], keys[i] * 10u);
      EXPECT_TRUE(seen.insert(keys[i]).second);
    }
    token = next;
    first = false;
  } while (r == 0);
  EXPECT_EQ(seen.size(), 40u);
  uint32_t keys[1];
  uint64_t values[1];
  uint32_t count = 0, next = 0;
  EXPECT_EQ(rt::to_negated_errno(map->lookup_batch(nullptr, &next, keys, values, &count)), 0)
      << "Linux: a zero count is a no-op";
  EXPECT_EQ(count, 0u);
  destroy_map(map, allocator);
}

TEST(HashMapKeys, LongKeysCompareEveryByte) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(hash_attributes(8, 20, 4), allocator, 1).value();
  uint8_t a[20] = {}, b[20] = {};
  b[19] = 1;
  uint32_t va = 1, vb = 2;
  ASSERT_EQ(map->update(a, &va, 0), 0);
  ASSERT_EQ(map->update(b, &vb, 0), 0);
  EXPECT_EQ(*static_cast<uint32_t*>(map->lookup(a)), 1u);
  EXPECT_EQ(*static_cast<uint32_t*>(map->lookup(b)), 2u);
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

}  // namespace
