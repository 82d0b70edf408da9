// SPDX-License-Identifier: MIT
// Map rules shared by every type: creation flags, syscall permissions, freezing, budgets,
// batch tokens, ring buffer space and wakeups, program array ids.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstring>
#include <set>
#include <vector>

#include "ebpf/map_budget.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/perf_buffer.hpp"
#include "ebpf/prog_array.hpp"
#include "ebpf/program.hpp"
#include "ebpf/ringbuf.hpp"
#include "fake_environment.hpp"
#include "rt/errno.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

MapAttributes attributes(MapType type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                         uint32_t flags = 0) {
  MapAttributes a;
  a.type = type;
  a.key_size = key_size;
  a.value_size = value_size;
  a.max_entries = max_entries;
  a.map_flags = flags;
  return a;
}

int create_error(const MapAttributes& a) {
  test_support::MallocAllocator allocator;
  allocator.set_budget(1u << 24);
  ebpf_test::FakeEnvironment env;
  auto created = create_map(a, allocator, env);
  if (created.ok()) {
    destroy_map(created.value(), allocator);
    EXPECT_EQ(allocator.in_use(), 0u);
    return 0;
  }
  EXPECT_EQ(allocator.in_use(), 0u);
  return created.error().code;
}

TEST(MapFlags, ValuesMatchLinuxUapi) {
  EXPECT_EQ(kMapNoPrealloc, BPF_F_NO_PREALLOC);
  EXPECT_EQ(kMapNoCommonLru, BPF_F_NO_COMMON_LRU);
  EXPECT_EQ(kMapNumaNode, BPF_F_NUMA_NODE);
  EXPECT_EQ(kMapRdonly, BPF_F_RDONLY);
  EXPECT_EQ(kMapWronly, BPF_F_WRONLY);
  EXPECT_EQ(kMapZeroSeed, BPF_F_ZERO_SEED);
  EXPECT_EQ(kMapRdonlyProg, BPF_F_RDONLY_PROG);
  EXPECT_EQ(kMapWronlyProg, BPF_F_WRONLY_PROG);
  EXPECT_EQ(kMapMmapable, BPF_F_MMAPABLE);
  EXPECT_EQ(kMapPreserveElems, BPF_F_PRESERVE_ELEMS);
  EXPECT_EQ(kUpdateAny, BPF_ANY);
  EXPECT_EQ(kUpdateNoExist, BPF_NOEXIST);
  EXPECT_EQ(kUpdateExist, BPF_EXIST);
  EXPECT_EQ(static_cast<uint32_t>(MapType::kRingbuf), BPF_MAP_TYPE_RINGBUF);
  EXPECT_EQ(static_cast<uint32_t>(MapType::kQueue), BPF_MAP_TYPE_QUEUE);
  EXPECT_EQ(static_cast<uint32_t>(MapType::kLruPercpuHash), BPF_MAP_TYPE_LRU_PERCPU_HASH);
  EXPECT_EQ(static_cast<uint32_t>(MapType::kLpmTrie), BPF_MAP_TYPE_LPM_TRIE);
  EXPECT_EQ(kRingbufBusyBit, static_cast<uint32_t>(BPF_RINGBUF_BUSY_BIT));
  EXPECT_EQ(kRingbufDiscardBit, static_cast<uint32_t>(BPF_RINGBUF_DISCARD_BIT));
  EXPECT_EQ(kRingbufHeaderSize, static_cast<uint32_t>(BPF_RINGBUF_HDR_SZ));
  EXPECT_EQ(kRingbufNoWakeup, BPF_RB_NO_WAKEUP);
  EXPECT_EQ(kRingbufForceWakeup, BPF_RB_FORCE_WAKEUP);
  EXPECT_EQ(kRingbufAvailData, BPF_RB_AVAIL_DATA);
  EXPECT_EQ(kRingbufRingSize, BPF_RB_RING_SIZE);
  EXPECT_EQ(kRingbufConsPos, BPF_RB_CONS_POS);
  EXPECT_EQ(kRingbufProdPos, BPF_RB_PROD_POS);
}

TEST(MapFlags, CreationAcceptsAndRefusesFlagsAsLinux) {
  // Syscall-side access flags are fine on every keyed type, but not both at once.
  EXPECT_EQ(create_error(attributes(MapType::kArray, 4, 8, 4, kMapRdonly)), 0);
  EXPECT_EQ(create_error(attributes(MapType::kHash, 4, 8, 4, kMapWronly)), 0);
  EXPECT_EQ(create_error(attributes(MapType::kQueue, 0, 8, 4, kMapRdonly)), 0);
  EXPECT_EQ(create_error(attributes(MapType::kArray, 4, 8, 4, kMapRdonly | kMapWronly)),
            rt::kEINVAL);
  EXPECT_EQ(create_error(attributes(MapType::kArray, 4, 8, 4, kMapRdonlyProg | kMapWronlyProg)),
            rt::kEINVAL);
  EXPECT_EQ(create_error(attributes(MapType::kHash, 4, 8, 4, kMapRdonlyProg | kMapWronlyProg)),
            rt::kEINVAL);
  // mmapable only for plain arrays; preserve_elems only for perf event arrays.
  EXPECT_EQ(create_error(attributes(MapType::kArray, 4, 8, 4, kMapMmapable)), 0);
  EXPECT_EQ(create_error(attributes(MapType::kPercpuArray, 4, 8, 4, kMapMmapable)), rt::kEINVAL);
  EXPECT_EQ(create_error(attributes(MapType::kHash, 4, 8, 4, kMapMmapable)), rt::kEINVAL);
  EXPECT_EQ(create_error(attributes(MapType::kPerfEventArray, 4, 4, 4, kMapPreserveElems)), 0);
  EXPECT_EQ(create_error(attributes(MapType::kArray, 4, 8, 4, kMapPreserveElems)), rt::kEINVAL);
  // Program and perf event arrays hold fds: value_size 4, no program access flags.
  EXPECT_EQ(create_error(attributes(MapType::kProgArray, 4, 8, 4)), rt::kEINVAL);
  EXPECT_EQ(create_error(attributes(MapType::kProgArray, 4, 4, 4, kMapRdonlyProg)), rt::kEINVAL);
  EXPECT_EQ(create_error(attributes(MapType::kPerfEventArray, 4, 4, 0)), rt::kEINVAL);
  // Hash-only flags.
  EXPECT_EQ(create_error(attributes(MapType::kHash, 4, 8, 4, kMapNoPrealloc | kMapZeroSeed)), 0);
  EXPECT_EQ(create_error(attributes(MapType::kLruHash, 4, 8, 4, kMapNoCommonLru)), 0);
  EXPECT_EQ(create_error(attributes(MapType::kHash, 4, 8, 4, kMapNoCommonLru)), rt::kEINVAL);
  EXPECT_EQ(create_error(attributes(MapType::kPercpuHash, 4, 8, 4, kMapNumaNode)), rt::kEINVAL);
  EXPECT_EQ(create_error(attributes(MapType::kArray, 4, 8, 4, kMapNoPrealloc)), rt::kEINVAL);
  EXPECT_EQ(create_error(attributes(MapType::kQueue, 0, 8, 4, kMapNoPrealloc)), rt::kEINVAL);
  EXPECT_EQ(create_error(attributes(MapType::kQueue, 0, (1u << 22) + 1, 1)), rt::kE2BIG);
  // Ring buffers take only BPF_F_NUMA_NODE and a power-of-two page multiple.
  EXPECT_EQ(create_error(attributes(MapType::kRingbuf, 0, 0, 4096, kMapRdonly)), rt::kEINVAL);
  EXPECT_EQ(create_error(attributes(MapType::kRingbuf, 0, 0, 4096, kMapNumaNode)), 0);
  EXPECT_EQ(create_error(attributes(MapType::kRingbuf, 0, 0, 2048)), rt::kEINVAL);
  EXPECT_EQ(create_error(attributes(MapType::kRingbuf, 0, 0, 3 * 4096)), rt::kEINVAL);
  // Types Sonde does not implement.
  EXPECT_EQ(create_error(attributes(MapType::kArrayOfMaps, 4, 4, 4)), rt::kEINVAL);
  // Stack trace maps (stack_trace_map_test.cpp has the rest of their rules).
  EXPECT_EQ(create_error(attributes(MapType::kStackTrace, 4, 8, 4)), 0);
  EXPECT_EQ(create_error(attributes(MapType::kStackTrace, 4, 12, 4)), rt::kEINVAL);
}

TEST(MapPermissions, ReadOnlyAndWriteOnlyMapsAndFreezing) {
  test_support::MallocAllocator allocator;
  Map* read_only =
      create_map(attributes(MapType::kHash, 4, 8, 4, kMapRdonly), allocator, 1).value();
  Map* write_only =
      create_map(attributes(MapType::kArray, 4, 8, 4, kMapWronly), allocator, 1).value();
  uint32_t key = 1;
  uint64_t value = 5, out = 0;
  uint32_t keys[4];
  uint64_t values[4];
  uint32_t count = 4, token = 0;
  // BPF_F_RDONLY: syscall writes refused, programs may still write.
  EXPECT_EQ(rt::to_negated_errno(read_only->syscall_update(&key, &value, kUpdateAny)), -rt::kEPERM);
  EXPECT_EQ(read_only->update(&key, &value, kUpdateAny), 0);
  EXPECT_EQ(rt::to_negated_errno(read_only->syscall_lookup(&key, &out, 0)), 0);
  EXPECT_EQ(out, 5u);
  EXPECT_EQ(rt::to_negated_errno(read_only->syscall_delete(&key)), -rt::kEPERM);
  EXPECT_EQ(rt::to_negated_errno(read_only->lookup_and_delete(&key, &out, 0)), -rt::kEPERM);
  EXPECT_NE(read_only->lookup(&key), nullptr);
  // BPF_F_WRONLY: syscall reads refused.
  EXPECT_EQ(rt::to_negated_errno(write_only->syscall_update(&key, &value, kUpdateAny)), 0);
  EXPECT_EQ(rt::to_negated_errno(write_only->syscall_lookup(&key, &out, 0)), -rt::kEPERM);
  EXPECT_EQ(rt::to_negated_errno(write_only->lookup_batch(nullptr, &token, keys, values, &count)),
            -rt::kEPERM);
  uint32_t next_key = 0;
  EXPECT_EQ(rt::to_negated_errno(write_only->get_next_key(nullptr, &next_key)), -rt::kEPERM);
  EXPECT_EQ(rt::to_negated_errno(read_only->get_next_key(nullptr, &next_key)), 0);
  // Freezing: once, then EBUSY; syscall writes and deletes EPERM.
  Map* hash = create_map(attributes(MapType::kHash, 4, 8, 4), allocator, 1).value();
  ASSERT_EQ(rt::to_negated_errno(hash->syscall_update(&key, &value, kUpdateAny)), 0);
  EXPECT_EQ(rt::to_negated_errno(hash->syscall_freeze()), 0);
  EXPECT_EQ(rt::to_negated_errno(hash->syscall_freeze()), -rt::kEBUSY);
  EXPECT_EQ(rt::to_negated_errno(hash->syscall_update(&key, &value, kUpdateAny)), -rt::kEPERM);
  EXPECT_EQ(rt::to_negated_errno(hash->syscall_delete(&key)), -rt::kEPERM);
  EXPECT_EQ(rt::to_negated_errno(hash->syscall_lookup(&key, &out, 0)), 0);
  EXPECT_EQ(hash->remove(&key), 0) << "programs may still delete from a frozen map";
  destroy_map(read_only, allocator);
  destroy_map(write_only, allocator);
  destroy_map(hash, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(MapPermissions, LookupAndDeleteIsNotSupportedForArrays) {
  test_support::MallocAllocator allocator;
  Map* array = create_map(attributes(MapType::kArray, 4, 8, 4), allocator, 1).value();
  uint32_t key = 0;
  uint64_t value;
  EXPECT_EQ(rt::to_negated_errno(array->lookup_and_delete(&key, &value, 0)), -rt::kENOTSUPP);
  EXPECT_EQ(rt::to_negated_errno(array->syscall_delete(&key)), -rt::kEINVAL)
      << "array elements cannot be deleted";
  EXPECT_EQ(array->update(&key, &value, BPF_F_LOCK), -rt::kEINVAL)
      << "no bpf_spin_lock in the value";
  // array_map_update_elem's order: flags, index, NOEXIST, then the lock.
  EXPECT_EQ(array->update(&key, &value, BPF_NOEXIST | BPF_F_LOCK), -rt::kEEXIST);
  uint32_t far = 9;
  EXPECT_EQ(array->update(&far, &value, BPF_NOEXIST), -rt::kE2BIG);
  EXPECT_EQ(array->update(&far, &value, 3), -rt::kEINVAL);
  EXPECT_EQ(rt::to_negated_errno(array->syscall_update(&key, &value, BPF_NOEXIST | BPF_F_LOCK)),
            -rt::kEINVAL);
  EXPECT_EQ(rt::to_negated_errno(array->syscall_lookup(&key, &value, BPF_F_LOCK)), -rt::kEINVAL);
  destroy_map(array, allocator);
}

TEST(MapBudget, BoundsEveryMapTypeAndGetsEveryByteBack) {
  test_support::MallocAllocator parent;
  ebpf_test::FakeEnvironment env;
  const MapAttributes all[] = {
      attributes(MapType::kArray, 4, 24, 100),
      attributes(MapType::kPercpuArray, 4, 24, 100),
      attributes(MapType::kHash, 8, 24, 100),
      attributes(MapType::kPercpuHash, 8, 24, 100),
      attributes(MapType::kLruHash, 8, 24, 100),
      attributes(MapType::kLruPercpuHash, 8, 24, 100),
      attributes(MapType::kQueue, 0, 24, 100),
      attributes(MapType::kStack, 0, 24, 100),
      attributes(MapType::kProgArray, 4, 4, 100),
      attributes(MapType::kPerfEventArray, 4, 4, 100),
      attributes(MapType::kRingbuf, 0, 0, 4096),
      attributes(MapType::kStackTrace, 4, 64, 100),
      attributes(MapType::kLpmTrie, 8, 24, 100, kMapNoPrealloc),
  };
  for (const MapAttributes& a : all) {
    SCOPED_TRACE(static_cast<uint32_t>(a.type));
    MapMemoryBudget unlimited(parent, SIZE_MAX);
    Map* map = create_map(a, unlimited, env).value();
    size_t needed = unlimited.used();
    EXPECT_GE(needed, map->memory_usage() / 2);
    EXPECT_LE(map->memory_usage(), needed + 64) << "memory_usage reports what the map holds";
    destroy_map(map, unlimited);
    EXPECT_EQ(unlimited.used(), 0u);
    // One byte short of what the map needs: ENOMEM and nothing kept; exactly enough: fine.
    MapMemoryBudget tight(parent, needed - 1);
    auto refused = create_map(a, tight, env);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, rt::kENOMEM);
    EXPECT_EQ(tight.used(), 0u);
    MapMemoryBudget exact(parent, needed);
    auto made = create_map(a, exact, env);
    ASSERT_TRUE(made.ok());
    EXPECT_EQ(exact.used(), needed);
    EXPECT_EQ(exact.peak(), needed);
    destroy_map(made.value(), exact);
    EXPECT_EQ(exact.used(), 0u);
  }
  EXPECT_EQ(parent.in_use(), 0u);
}

TEST(MapBudget, MmapableArraysTakeWholeAlignedPages) {
  test_support::MallocAllocator parent;
  MapMemoryBudget budget(parent, SIZE_MAX);
  Map* plain = create_map(attributes(MapType::kArray, 4, 12, 3), budget, 1).value();
  size_t plain_bytes = budget.used();
  Map* mapped = create_map(attributes(MapType::kArray, 4, 12, 3, kMapMmapable), budget, 1).value();
  EXPECT_EQ(budget.used() - plain_bytes, plain_bytes - 48 + 4096)
      << "48 value bytes become one page";
  uint32_t key = 2;
  auto address = reinterpret_cast<uintptr_t>(mapped->lookup(&key));
  EXPECT_EQ((address - 32) % 4096, 0u) << "element 2 sits 32 bytes into a page-aligned area";
  destroy_map(plain, budget);
  destroy_map(mapped, budget);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MapBatch, ArrayTokensAreTheLastKeyAsInLinux) {
  test_support::MallocAllocator allocator;
  Map* array = create_map(attributes(MapType::kArray, 4, 8, 4), allocator, 1).value();
  for (uint32_t k = 0; k < 4; ++k) {
    uint64_t v = k * 100;
    (void)array->syscall_update(&k, &v, kUpdateAny);
  }
  uint32_t keys[4], token = 99, count = 2;
  uint64_t values[4];
  EXPECT_EQ(rt::to_negated_errno(array->lookup_batch(nullptr, &token, keys, values, &count)), 0);
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(token, 1u) << "out_batch holds the last key copied";
  EXPECT_EQ(values[1], 100u);
  // Exactly the rest: 0, since the end has not been seen yet; the next call finds it.
  uint32_t next = 0;
  count = 2;
  EXPECT_EQ(rt::to_negated_errno(array->lookup_batch(&token, &next, keys, values, &count)), 0);
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(keys[0], 2u);
  EXPECT_EQ(keys[1], 3u);
  EXPECT_EQ(values[1], 300u);
  count = 2;
  uint32_t untouched = 1234;
  EXPECT_EQ(rt::to_negated_errno(array->lookup_batch(&next, &untouched, keys, values, &count)),
            -rt::kENOENT);
  EXPECT_EQ(count, 0u);
  EXPECT_EQ(untouched, 1234u) << "no element copied, no token written";
  // More room than elements: all of them and ENOENT in one call.
  count = 4 + 0;
  uint32_t all_keys[8];
  uint64_t all_values[8];
  count = 8;
  EXPECT_EQ(
      rt::to_negated_errno(array->lookup_batch(nullptr, &token, all_keys, all_values, &count)),
      -rt::kENOENT);
  EXPECT_EQ(count, 4u);
  destroy_map(array, allocator);
}

TEST(MapBatch, UpdateDeleteAndLookupAndDeleteBatches) {
  test_support::MallocAllocator allocator;
  Map* hash = create_map(attributes(MapType::kHash, 4, 8, 6), allocator, 1).value();
  uint32_t keys[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint64_t values[8] = {10, 20, 30, 40, 50, 60, 70, 80};
  uint32_t count = 0;
  EXPECT_EQ(rt::to_negated_errno(hash->update_batch(keys, values, &count, 0)), 0)
      << "a zero count does nothing";
  count = 8;
  EXPECT_EQ(rt::to_negated_errno(hash->update_batch(keys, values, &count, BPF_F_LOCK)),
            -rt::kEINVAL);
  EXPECT_EQ(rt::to_negated_errno(hash->update_batch(keys, values, &count, 0)), -rt::kE2BIG)
      << "the seventh key does not fit";
  EXPECT_EQ(count, 6u) << "count says how many were done";
  uint64_t out = 0;
  ASSERT_EQ(rt::to_negated_errno(hash->syscall_lookup(&keys[5], &out, 0)), 0);
  EXPECT_EQ(out, 60u);
  // Deletion stops at the first missing key.
  uint32_t doomed[3] = {2, 9, 3};
  count = 3;
  EXPECT_EQ(rt::to_negated_errno(hash->delete_batch(doomed, &count, 0)), -rt::kENOENT);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(rt::to_negated_errno(hash->syscall_lookup(&doomed[2], &out, 0)), 0)
      << "nothing after the error is deleted";
  // Lookup-and-delete drains the map bucket by bucket.
  std::set<uint32_t> drained;
  uint32_t token = 0, next = 0;
  bool first = true;
  long result;
  do {
    uint32_t got_keys[8];
    uint64_t got_values[8];
    count = 8;
    result = rt::to_negated_errno(hash->lookup_and_delete_batch(first ? nullptr : &token, &next,
                                                                got_keys, got_values, &count));
    ASSERT_TRUE(result == 0 || result == -rt::kENOENT) << result;
    for (uint32_t i = 0; i < count; ++i) {
      EXPECT_EQ(got_values[i], got_keys[i] * 10u);
      EXPECT_TRUE(drained.insert(got_keys[i]).second);
    }
    token = next;
    first = false;
  } while (result == 0);
  EXPECT_EQ(drained, (std::set<uint32_t>{1, 3, 4, 5, 6}));
  uint32_t probe = 0;
  EXPECT_EQ(rt::to_negated_errno(hash->get_next_key(nullptr, &probe)), -rt::kENOENT)
      << "the map is empty";
  count = 6;
  EXPECT_EQ(rt::to_negated_errno(hash->update_batch(keys, values, &count, 0)), 0)
      << "every element went back to the free list";
  (void)hash->syscall_freeze();
  count = 1;
  EXPECT_EQ(rt::to_negated_errno(hash->update_batch(keys, values, &count, 0)), -rt::kEPERM);
  EXPECT_EQ(rt::to_negated_errno(hash->delete_batch(keys, &count, 0)), -rt::kEPERM);
  EXPECT_EQ(
      rt::to_negated_errno(hash->lookup_and_delete_batch(nullptr, &next, keys, values, &count)),
      -rt::kEPERM);
  // Arrays take batch updates but not deletions; queues neither.
  Map* array = create_map(attributes(MapType::kArray, 4, 8, 4), allocator, 1).value();
  uint32_t indexes[2] = {3, 4};
  count = 2;
  EXPECT_EQ(rt::to_negated_errno(array->update_batch(indexes, values, &count, 0)), -rt::kE2BIG);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(rt::to_negated_errno(array->delete_batch(indexes, &count, 0)), -rt::kENOTSUPP);
  EXPECT_EQ(
      rt::to_negated_errno(array->lookup_and_delete_batch(nullptr, &next, keys, values, &count)),
      -rt::kENOTSUPP);
  Map* queue = create_map(attributes(MapType::kQueue, 0, 8, 4), allocator, 1).value();
  EXPECT_EQ(rt::to_negated_errno(queue->update_batch(nullptr, values, &count, 0)), -rt::kENOTSUPP);
  destroy_map(hash, allocator);
  destroy_map(array, allocator);
  destroy_map(queue, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(MapBatch, PercpuValuesUseLinuxSyscallLayout) {
  test_support::MallocAllocator allocator;
  ebpf_test::FakeEnvironment env;
  Map* map = create_map(attributes(MapType::kPercpuHash, 4, 4, 8), allocator, 3, &env).value();
  EXPECT_EQ(map->syscall_value_size(), 24u) << "round_up(4, 8) * 3 CPUs";
  uint32_t key = 9;
  uint8_t in[24], out[24];
  std::memset(in, 0xee, sizeof(in));
  for (int cpu = 0; cpu < 3; ++cpu) {
    uint32_t v = 10 + cpu;
    std::memcpy(in + cpu * 8, &v, 4);
  }
  ASSERT_EQ(rt::to_negated_errno(map->syscall_update(&key, in, kUpdateAny)), 0);
  std::memset(out, 0xaa, sizeof(out));
  ASSERT_EQ(rt::to_negated_errno(map->syscall_lookup(&key, out, 0)), 0);
  for (int cpu = 0; cpu < 3; ++cpu) {
    uint32_t v, pad;
    std::memcpy(&v, out + cpu * 8, 4);
    std::memcpy(&pad, out + cpu * 8 + 4, 4);
    EXPECT_EQ(v, 10u + cpu);
    EXPECT_EQ(pad, 0u) << "padding is zero, not the caller's bytes";
  }
  env.cpu = 2;
  EXPECT_EQ(*static_cast<uint32_t*>(map->lookup(&key)), 12u);
  destroy_map(map, allocator);
}

struct RingTest : ::testing::Test {
  test_support::MallocAllocator allocator;
  RingbufMap* ring = nullptr;
  void SetUp() override {
    ring = static_cast<RingbufMap*>(
        create_map(attributes(MapType::kRingbuf, 0, 0, 4096), allocator, 1).value());
  }
  void TearDown() override { destroy_map(ring, allocator); }
  uint32_t header_length(uint64_t position) {
    uint32_t length;
    std::memcpy(&length, ring->data() + (position & 4095), 4);
    return length;
  }
};

TEST_F(RingTest, NeverCompletelyFullAsInLinux) {
  // 4096 bytes of ring: a record of 4088 bytes (4096 with its header) would fill it exactly,
  // which Linux refuses: the producer stays at most size - 1 ahead of the consumer.
  EXPECT_EQ(ring->reserve(4088, 0), nullptr);
  void* big = ring->reserve(4080, 0);  // 4088 in the ring
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(ring->reserve(0, 0), nullptr) << "8 more bytes would make the ring exactly full";
  ring->submit(big, 0, false);
  EXPECT_EQ(ring->query(kRingbufAvailData), 4088u);
  EXPECT_EQ(ring->query(kRingbufRingSize), 4096u);
  EXPECT_EQ(ring->query(kRingbufProdPos), 4088u);
  EXPECT_EQ(ring->query(kRingbufConsPos), 0u);
  EXPECT_EQ(ring->query(99), 0u);
  ring->set_consumer_position(4088);
  EXPECT_EQ(ring->query(kRingbufAvailData), 0u);
  EXPECT_EQ(ring->reserve(kRingbufMaxRecordSize + 1, 0), nullptr);
  EXPECT_EQ(ring->reserve(8, 1), nullptr) << "reserve takes no flags";
}

TEST_F(RingTest, RecordsWrapAndReadContiguouslyThroughTheSecondMapping) {
  // Move the producer near the end with one record, consumed at once.
  void* filler = ring->reserve(3992, 0);  // 4000 bytes
  ASSERT_NE(filler, nullptr);
  ring->submit(filler, 0, false);
  ring->set_consumer_position(4000);
  char text[128];
  for (int i = 0; i < 128; ++i) text[i] = static_cast<char>('a' + i % 26);
  ASSERT_EQ(ring->output(text, 128, 0), 0);
  // Header at 4000: length 128, page offset (header's page from the ring's start: 3 + 0).
  EXPECT_EQ(header_length(4000), 128u);
  uint32_t page_offset;
  std::memcpy(&page_offset, ring->data() + 4000 + 4, 4);
  EXPECT_EQ(page_offset, 3u);
  // A reader that, like libbpf, reads len bytes from data + (pos & mask) sees the record,
  // and the bytes past the end are also at the start (where a double mapping shows them).
  EXPECT_EQ(std::memcmp(ring->data() + 4008, text, 128), 0);
  EXPECT_EQ(std::memcmp(ring->data(), text + (4096 - 4008), 128 - (4096 - 4008)), 0);
}

TEST_F(RingTest, WakeupRules) {
  int notified = 0;
  ring->set_wakeup([](void* cookie) { ++*static_cast<int*>(cookie); }, &notified);
  // The first unread record wakes the reader; later ones do not while it is behind.
  ASSERT_EQ(ring->output("a", 1, 0), 0);
  EXPECT_EQ(ring->wakeups(), 1u);
  ASSERT_EQ(ring->output("b", 1, 0), 0);
  EXPECT_EQ(ring->wakeups(), 1u);
  ASSERT_EQ(ring->output("c", 1, kRingbufForceWakeup), 0);
  EXPECT_EQ(ring->wakeups(), 2u);
  ring->set_consumer_position(ring->producer_position());
  ASSERT_EQ(ring->output("d", 1, kRingbufNoWakeup), 0);
  EXPECT_EQ(ring->wakeups(), 2u) << "BPF_RB_NO_WAKEUP even for the next record to read";
  EXPECT_EQ(ring->output("e", 1, kRingbufNoWakeup | kRingbufForceWakeup), 0);
  EXPECT_EQ(ring->wakeups(), 3u) << "FORCE wins, as Linux tests it first";
  EXPECT_EQ(ring->output("f", 1, 4), -rt::kEINVAL);
  EXPECT_EQ(notified, 3);
  // A discarded record keeps its length and carries the DISCARD bit, BUSY cleared.
  uint64_t position = ring->producer_position();
  void* sample = ring->reserve(16, 0);
  ASSERT_NE(sample, nullptr);
  EXPECT_EQ(header_length(position), 16u | kRingbufBusyBit);
  EXPECT_EQ(RingbufMap::of_sample(sample), ring);
  ring->submit(sample, 0, true);
  EXPECT_EQ(header_length(position), 16u | kRingbufDiscardBit);
}

std::vector<uint64_t> iteration_order(Map* map) {
  std::vector<uint64_t> keys;
  uint64_t key = 0;
  const void* previous = nullptr;
  while (rt::to_negated_errno(map->get_next_key(previous, &key)) == 0) {
    keys.push_back(key);
    previous = &keys.back();
  }
  return keys;
}

TEST(HashSeed, ZeroSeedIsReproducibleAndSeededMapsStillFindEveryKey) {
  test_support::MallocAllocator allocator;
  ebpf_test::FakeEnvironment env_a, env_b;
  env_b.next_random = 999;
  Map* maps[4] = {
      create_map(attributes(MapType::kHash, 8, 8, 64, kMapZeroSeed), allocator, env_a).value(),
      create_map(attributes(MapType::kHash, 8, 8, 64, kMapZeroSeed), allocator, env_b).value(),
      create_map(attributes(MapType::kHash, 8, 8, 64), allocator, env_a).value(),
      create_map(attributes(MapType::kHash, 8, 8, 64), allocator, env_b).value(),
  };
  for (Map* map : maps) {
    for (uint64_t k = 0; k < 64; ++k) {
      uint64_t key = k * 0x100000001ull, value = k;
      ASSERT_EQ(map->update(&key, &value, kUpdateNoExist), 0);
    }
    for (uint64_t k = 0; k < 64; ++k) {
      uint64_t key = k * 0x100000001ull;
      ASSERT_NE(map->lookup(&key), nullptr);
      EXPECT_EQ(*static_cast<uint64_t*>(map->lookup(&key)), k);
    }
    EXPECT_EQ(iteration_order(map).size(), 64u);
  }
  EXPECT_EQ(iteration_order(maps[0]), iteration_order(maps[1]))
      << "BPF_F_ZERO_SEED: same placement";
  EXPECT_NE(iteration_order(maps[2]), iteration_order(maps[3]))
      << "seeded maps place keys differently";
  for (Map* map : maps) destroy_map(map, allocator);
}

TEST(PerfRingWakeups, EveryRecordWakesTheReader) {
  alignas(4096) static uint8_t memory[2 * 4096];
  std::memset(memory, 0, sizeof(memory));
  PerfRing ring(memory, 1, 0);
  int notified = 0;
  ring.set_wakeup([](void* cookie) { ++*static_cast<int*>(cookie); }, &notified);
  EXPECT_EQ(ring.output("abc", 3), 0);
  EXPECT_EQ(ring.output("def", 3), 0);
  std::vector<uint8_t> big(5000);
  EXPECT_EQ(ring.output(big.data(), 5000), -rt::kENOSPC);
  EXPECT_EQ(ring.wakeups(), 2u) << "a lost sample wakes nobody";
  EXPECT_EQ(notified, 2);
}

TEST(ProgArray, SlotsIdsAndTailCallTargets) {
  test_support::MallocAllocator allocator;
  auto* array = static_cast<ProgArrayMap*>(
      create_map(attributes(MapType::kProgArray, 4, 4, 3), allocator, 1).value());
  Program a, b;
  EXPECT_EQ(array->tail_call_target(0), nullptr);
  ASSERT_EQ(rt::to_negated_errno(array->set(0, &a, 11)), 0);
  ASSERT_EQ(rt::to_negated_errno(array->set(2, &b, 12)), 0);
  EXPECT_EQ(array->tail_call_target(0), &a);
  EXPECT_EQ(array->tail_call_target(2), &b);
  EXPECT_EQ(array->tail_call_target(3), nullptr);
  EXPECT_EQ(array->tail_call_target(0xffffffffu), nullptr);
  uint32_t key = 2, id = 0, next = 0;
  EXPECT_EQ(rt::to_negated_errno(array->syscall_lookup(&key, &id, 0)), 0);
  EXPECT_EQ(id, 12u);
  key = 7;
  EXPECT_EQ(rt::to_negated_errno(array->syscall_lookup(&key, &id, 0)), -rt::kENOENT);
  EXPECT_EQ(rt::to_negated_errno(array->syscall_update(&key, &id, 0)), -rt::kEOPNOTSUPP)
      << "fds are resolved by the trace server";
  EXPECT_EQ(rt::to_negated_errno(array->get_next_key(&key, &next)), 0);
  EXPECT_EQ(next, 0u) << "an out-of-range key restarts at the first";
  key = 2;
  EXPECT_EQ(rt::to_negated_errno(array->get_next_key(&key, &next)), -rt::kENOENT);
  EXPECT_EQ(rt::to_negated_errno(array->clear(1)), -rt::kENOENT);
  EXPECT_EQ(rt::to_negated_errno(array->clear(0)), 0);
  EXPECT_EQ(array->tail_call_target(0), nullptr);
  EXPECT_EQ(rt::to_negated_errno(array->clear(3)), -rt::kE2BIG);
  EXPECT_EQ(array->lookup(&key), nullptr) << "programs cannot look into a prog_array";
  destroy_map(array, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

}  // namespace
