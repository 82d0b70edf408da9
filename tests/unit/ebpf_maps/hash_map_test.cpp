// SPDX-License-Identifier: MIT
// Hash maps: Linux's creation checks, update flags, full maps, deletion, iteration order.
#include <gtest/gtest.h>

#include <set>
#include <vector>

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

// execsnoop's `execs`: 10240 elements of 7.7 KiB (79 MiB preallocated on Linux). Sonde
// preallocates at most HashMap::kPreallocBytes and takes the rest in chunks as keys arrive.
TEST(HashMapStorage, LargeMapIsCreatedWithoutItsWholeSize) {
  test_support::MallocAllocator allocator(size_t{8} << 20);
  Map* map = create_map(hash_attributes(10240, 4, 7720), allocator, 1).value();
  EXPECT_LT(allocator.in_use(), size_t{2} << 20);
  EXPECT_LE(map->memory_usage(), allocator.in_use() + 64) << "memory_usage is what is held";
  std::vector<uint8_t> value(7720, 0xab);
  // Past the preallocated part: new chunks come as keys arrive.
  for (uint32_t k = 0; k < 400; ++k) ASSERT_EQ(map->update(&k, value.data(), 0), 0) << k;
  size_t held = allocator.in_use();
  EXPECT_GT(held, size_t{3} << 20);
  EXPECT_LT(held, size_t{4} << 20);
  EXPECT_LE(map->memory_usage(), held + 64);
  EXPECT_GE(map->memory_usage() + 64, held);
  uint32_t key = 399;
  auto* stored = static_cast<uint8_t*>(map->lookup(&key));
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(stored[7719], 0xab);
  // Deleting and re-adding reuses elements: nothing more is taken.
  for (uint32_t k = 0; k < 400; ++k) ASSERT_EQ(map->remove(&k), 0);
  for (uint32_t k = 1000; k < 1400; ++k) ASSERT_EQ(map->update(&k, value.data(), 0), 0);
  EXPECT_EQ(allocator.in_use(), held);
  // The budget runs out before max_entries: ENOMEM (not E2BIG), and the map stays usable.
  long result = 0;
  uint32_t k = 2000;
  for (; k < 12000 && result == 0; ++k) result = map->update(&k, value.data(), 0);
  EXPECT_EQ(result, -rt::kENOMEM);
  key = 1000;
  EXPECT_NE(map->lookup(&key), nullptr);
  uint32_t again = k - 1;
  EXPECT_EQ(rt::to_negated_errno(map->syscall_update(&again, value.data(), 0)), -rt::kENOMEM);
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(HashMapStorage, LazyMapFillsToMaxEntriesThenE2BIG) {
  test_support::MallocAllocator allocator;
  auto a = hash_attributes(3000, 4, 1000);  // 3 MiB of elements: partly preallocated
  Map* map = create_map(a, allocator, 1).value();
  std::vector<uint8_t> value(1000, 1);
  for (uint32_t k = 0; k < 3000; ++k) ASSERT_EQ(map->update(&k, value.data(), 0), 0) << k;
  uint32_t extra = 5000;
  EXPECT_EQ(map->update(&extra, value.data(), 0), -rt::kE2BIG);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_update(&extra, value.data(), 0)), -rt::kE2BIG);
  uint32_t key = 1234;
  EXPECT_EQ(map->update(&key, value.data(), kUpdateExist), 0) << "old keys still update";
  EXPECT_EQ(map->remove(&key), 0);
  EXPECT_EQ(map->update(&extra, value.data(), 0), 0) << "a deleted element is reused";
  EXPECT_EQ(map->update(&key, value.data(), 0), -rt::kE2BIG);
  size_t full = allocator.in_use();
  EXPECT_LT(full, size_t{3000} * (1000 + 64) + 64 * 1024) << "no more than max_entries elements";
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(HashMapStorage, NoPreallocTakesNothingUntilTheFirstKey) {
  test_support::MallocAllocator allocator;
  auto a = hash_attributes(4, 4, 8);
  Map* preallocated = create_map(a, allocator, 1).value();
  size_t with_elements = allocator.in_use();
  a.map_flags = kMapNoPrealloc;
  Map* lazy = create_map(a, allocator, 1).value();
  size_t lazy_bytes = allocator.in_use() - with_elements;
  EXPECT_LT(lazy_bytes, with_elements) << "no elements until the first key";
  for (uint32_t k = 0; k < 4; ++k) ASSERT_EQ(lazy->update(&k, &k, 0), 0);
  uint32_t k = 4;
  EXPECT_EQ(lazy->update(&k, &k, 0), -rt::kE2BIG);
  destroy_map(lazy, allocator);
  destroy_map(preallocated, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(HashMapStorage, LruMapShortOfMemoryEvicts) {
  test_support::MallocAllocator allocator(size_t{3} << 20);
  auto a = hash_attributes(10240, 4, 7720);
  a.type = MapType::kLruHash;
  Map* map = create_map(a, allocator, 1).value();
  std::vector<uint8_t> value(7720, 2);
  for (uint32_t k = 0; k < 1000; ++k) ASSERT_EQ(map->update(&k, value.data(), 0), 0) << k;
  uint32_t key = 999;
  EXPECT_NE(map->lookup(&key), nullptr);
  key = 0;
  EXPECT_EQ(map->lookup(&key), nullptr) << "the oldest key made room";
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

}  // namespace
