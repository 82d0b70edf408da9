// SPDX-License-Identifier: MIT
// Per-CPU arrays and hashes (one copy per CPU, all copies through syscalls) and LRU hashes
// (the least recently used key makes room).
#include <gtest/gtest.h>

#include <cstring>

#include "ebpf/maps.hpp"
#include "fake_environment.hpp"
#include "rt/errno.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

MapAttributes attributes(MapType type, uint32_t max_entries = 4) {
  MapAttributes a;
  a.type = type;
  a.key_size = 4;
  a.value_size = 4;  // rounded up to 8 per CPU in syscall buffers
  a.max_entries = max_entries;
  return a;
}

TEST(PercpuMaps, NeedACpuSource) {
  test_support::MallocAllocator allocator;
  EXPECT_EQ(create_map(attributes(MapType::kPercpuArray), allocator, 2).error().code, rt::kEINVAL);
  ebpf_test::FakeEnvironment env;
  EXPECT_EQ(create_map(attributes(MapType::kPercpuHash), allocator, 0, &env).error().code,
            rt::kEINVAL);
  auto mmapable = attributes(MapType::kPercpuArray);
  mmapable.map_flags = kMapMmapable;
  EXPECT_EQ(create_map(mmapable, allocator, 2, &env).error().code, rt::kEINVAL);
}

void check_per_cpu(MapType type) {
  test_support::MallocAllocator allocator;
  ebpf_test::FakeEnvironment env;
  Map* map = create_map(attributes(type), allocator, 2, &env).value();
  EXPECT_EQ(map->value_copies(), 2u);
  EXPECT_EQ(map->syscall_value_size(), 16u);
  uint32_t key = 1, value = 0;
  env.cpu = 0;
  value = 10;
  ASSERT_EQ(map->update(&key, &value, kUpdateAny), 0);
  env.cpu = 1;
  value = 11;
  ASSERT_EQ(map->update(&key, &value, kUpdateAny), 0);
  EXPECT_EQ(*static_cast<uint32_t*>(map->lookup(&key)), 11u);
  env.cpu = 0;
  EXPECT_EQ(*static_cast<uint32_t*>(map->lookup(&key)), 10u);
  EXPECT_EQ(*static_cast<uint32_t*>(map->lookup_percpu(&key, 1)), 11u);
  EXPECT_EQ(map->lookup_percpu(&key, 2), nullptr);
  // Syscalls see every CPU's copy, each in an 8-byte slot.
  uint8_t all[16] = {};
  ASSERT_EQ(rt::to_negated_errno(map->syscall_lookup(&key, all, 0)), 0);
  uint32_t first, second;
  std::memcpy(&first, all, 4);
  std::memcpy(&second, all + 8, 4);
  EXPECT_EQ(first, 10u);
  EXPECT_EQ(second, 11u);
  uint32_t fresh[4] = {20, 0, 21, 0};
  ASSERT_EQ(rt::to_negated_errno(map->syscall_update(&key, fresh, kUpdateAny)), 0);
  EXPECT_EQ(*static_cast<uint32_t*>(map->lookup_percpu(&key, 1)), 21u);
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(PercpuMaps, ArrayKeepsOneCopyPerCpu) { check_per_cpu(MapType::kPercpuArray); }
TEST(PercpuMaps, HashKeepsOneCopyPerCpu) { check_per_cpu(MapType::kPercpuHash); }
TEST(PercpuMaps, LruHashKeepsOneCopyPerCpu) { check_per_cpu(MapType::kLruPercpuHash); }

TEST(PercpuMaps, NonPercpuMapsHaveNoPerCpuLookup) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(attributes(MapType::kHash), allocator, 2).value();
  uint32_t key = 1, value = 1;
  ASSERT_EQ(map->update(&key, &value, 0), 0);
  EXPECT_EQ(map->lookup_percpu(&key, 0), nullptr);
  destroy_map(map, allocator);
}

TEST(LruHash, EvictsTheLeastRecentlyUsedKey) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(attributes(MapType::kLruHash, 3), allocator, 1).value();
  for (uint32_t k = 1; k <= 3; ++k) ASSERT_EQ(map->update(&k, &k, kUpdateAny), 0);
  uint32_t one = 1;
  ASSERT_NE(map->lookup(&one), nullptr);  // 1 is now the most recent; 2 the least
  uint32_t four = 4;
  ASSERT_EQ(map->update(&four, &four, kUpdateAny), 0) << "full LRU maps make room instead of E2BIG";
  uint32_t two = 2, three = 3;
  EXPECT_EQ(map->lookup(&two), nullptr);
  EXPECT_NE(map->lookup(&three), nullptr);
  EXPECT_NE(map->lookup(&one), nullptr);
  EXPECT_NE(map->lookup(&four), nullptr);
  EXPECT_EQ(map->remove(&three), 0);
  uint32_t five = 5;
  ASSERT_EQ(map->update(&five, &five, kUpdateNoExist), 0);
  EXPECT_NE(map->lookup(&one), nullptr) << "a free element is used before evicting";
  auto no_prealloc = attributes(MapType::kLruHash);
  no_prealloc.map_flags = kMapNoPrealloc;
  EXPECT_EQ(create_map(no_prealloc, allocator, 1).error().code, rt::kENOTSUPP);
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

}  // namespace
