// SPDX-License-Identifier: MIT
// Stack trace maps and bpf_get_stackid: creation rules, the syscall side, ids, collisions, flags.
#include "maps/stack_trace_map.hpp"

#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <vector>

#include "ebpf/helpers.hpp"
#include "ebpf/map_budget.hpp"
#include "ebpf/maps.hpp"
#include "fake_environment.hpp"
#include "rt/errno.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

MapAttributes stack_attributes(uint32_t max_entries = 16, uint32_t value_size = 8 * 4) {
  MapAttributes a;
  a.type = MapType::kStackTrace;
  a.key_size = 4;
  a.value_size = value_size;
  a.max_entries = max_entries;
  return a;
}

int create_error(const MapAttributes& a) {
  test_support::MallocAllocator allocator;
  auto created = create_map(a, allocator, 1);
  if (created.ok()) {
    destroy_map(created.value(), allocator);
    return 0;
  }
  return created.error().code;
}

TEST(StackTraceMap, CreationRulesAreLinuxs) {
  EXPECT_EQ(static_cast<uint32_t>(MapType::kStackTrace), BPF_MAP_TYPE_STACK_TRACE);
  EXPECT_EQ(kMapStackBuildId, BPF_F_STACK_BUILD_ID);
  EXPECT_EQ(create_error(stack_attributes()), 0);
  EXPECT_EQ(create_error(stack_attributes(16, 8 * 127)), 0);
  EXPECT_EQ(create_error(stack_attributes(16, 8 * 128)), rt::kEINVAL);  // perf_event_max_stack
  EXPECT_EQ(create_error(stack_attributes(16, 12)), rt::kEINVAL);       // not a multiple of 8
  EXPECT_EQ(create_error(stack_attributes(16, 0)), rt::kEINVAL);
  EXPECT_EQ(create_error(stack_attributes(0)), rt::kEINVAL);
  MapAttributes a = stack_attributes();
  a.key_size = 8;
  EXPECT_EQ(create_error(a), rt::kEINVAL);
  a = stack_attributes();
  a.map_flags = BPF_F_STACK_BUILD_ID;  // GAP: build ids
  EXPECT_EQ(create_error(a), rt::kEINVAL);
  a.map_flags = BPF_F_RDONLY_PROG;  // not in STACK_CREATE_FLAG_MASK
  EXPECT_EQ(create_error(a), rt::kEINVAL);
  a.map_flags = BPF_F_NO_PREALLOC;
  EXPECT_EQ(create_error(a), rt::kEINVAL);
  a.map_flags = BPF_F_RDONLY | BPF_F_NUMA_NODE;
  EXPECT_EQ(create_error(a), 0);
}

TEST(StackTraceMap, MemoryIsReturned) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(stack_attributes(5), allocator, 1).value();
  // 8 buckets (5 rounded up); the stacks' room comes when the first stack needs it.
  EXPECT_GE(map->memory_usage(), 8 * 8u);
  EXPECT_LT(map->memory_usage(), 8 * 8 + 5 * (16 + 32u));
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

// bpftrace's kstack maps: 131,072 stacks of 127 frames (135 MB in Linux's preallocation). The
// map is made with its buckets alone; stacks take room 64 at a time; a stack that finds no
// room is Linux's empty free list (-ENOMEM), and the map keeps working for the stacks it has.
TEST(StackTraceMap, StacksTakeRoomAsTheyCome) {
  test_support::MallocAllocator parent;
  ebpf_test::FakeEnvironment env;
  const MapAttributes a = stack_attributes(131072, 8 * 127);
  size_t buckets_and_table = 131072 * 8 + 2048 * 8;
  MapMemoryBudget budget(parent, buckets_and_table + 4096);
  auto* map = static_cast<StackTraceMap*>(create_map(a, budget, env).value());
  EXPECT_EQ(map->chunks_used(), 0u);
  HelperFunction table[kMaxHelperId] = {};
  fill_helper_table(table);
  ExecContext context;
  context.env = &env;
  auto stackid = [&] {
    return static_cast<int64_t>(
        table[kHelperGetStackid](context, 0, reinterpret_cast<uint64_t>(map), 0, 0, 0));
  };
  // The first stack needs a chunk of 64 stacks (66 KB): the budget refuses it.
  EXPECT_EQ(stackid(), -rt::kENOMEM);
  budget.set_limit(budget.used() + 64 * (16 + 8 * 127));
  int64_t id = stackid();
  ASSERT_GE(id, 0);
  EXPECT_EQ(map->chunks_used(), 1u);
  for (uint64_t i = 1; i < 64; ++i) {  // 63 more stacks fit in the chunk
    env.kernel_stack = {0x1000 + i * 8};
    ASSERT_GE(stackid(), 0) << i;
  }
  env.kernel_stack = {0x9000};
  EXPECT_EQ(stackid(), -rt::kENOMEM) << "the 65th stack finds no room";
  EXPECT_EQ(map->chunks_used(), 1u);
  env.kernel_stack = {0x1000 + 8};
  EXPECT_GE(stackid(), 0) << "a stack it holds keeps its id";
  EXPECT_EQ(map->memory_usage(), budget.used()) << "memory_usage: what the map holds";
  destroy_map(map, budget);
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_EQ(parent.in_use(), 0u);
}

// The id of `ips` in a map of `buckets` buckets, as __bpf_get_stackid computes it.
uint32_t bucket_of(const std::vector<uint64_t>& ips, uint32_t buckets) {
  return jhash2(reinterpret_cast<const uint32_t*>(ips.data()),
                static_cast<uint32_t>(ips.size() * 2), 0) &
         (buckets - 1);
}

struct StackIdTest : ::testing::Test {
  ebpf_test::FakeEnvironment env;
  test_support::MallocAllocator allocator;
  HelperFunction table[kMaxHelperId] = {};
  ExecContext context;
  Map* map = nullptr;

  void SetUp() override {
    fill_helper_table(table);
    context.env = &env;
  }
  void TearDown() override { destroy_map(map, allocator); }
  void make(uint32_t max_entries, uint32_t depth = 4) {
    map = create_map(stack_attributes(max_entries, depth * 8), allocator, 1).value();
  }
  int64_t stackid(uint64_t flags) {
    return static_cast<int64_t>(
        table[kHelperGetStackid](context, 0, reinterpret_cast<uint64_t>(map), flags, 0, 0));
  }
  std::vector<uint64_t> lookup(uint32_t id) {
    std::vector<uint64_t> ips(map->attributes().value_size / 8, 0xaa);
    if (!map->syscall_lookup(&id, ips.data(), 0).ok()) return {};
    return ips;
  }
};

TEST_F(StackIdTest, SameStackSameIdAndLookupCopiesIps) {
  make(1024);
  int64_t id = stackid(0);
  ASSERT_GE(id, 0);
  EXPECT_LT(id, 1024);
  EXPECT_EQ(stackid(0), id);
  EXPECT_EQ(stackid(BPF_F_FAST_STACK_CMP), id);
  EXPECT_EQ(lookup(static_cast<uint32_t>(id)),
            (std::vector<uint64_t>{0x1000, 0x2000, 0x3000, 0x4000}));
  // A shorter stack: zeros past its depth.
  env.kernel_stack = {0x5000, 0x6000};
  int64_t other = stackid(0);
  ASSERT_GE(other, 0);
  if (other != id) {
    EXPECT_EQ(lookup(static_cast<uint32_t>(other)), (std::vector<uint64_t>{0x5000, 0x6000, 0, 0}));
  }
}

TEST_F(StackIdTest, DepthIsTheValueSizeAfterTheSkip) {
  make(64, 2);
  env.last_stack_max = 0;
  int64_t id = stackid(1);  // skip one frame, keep two
  ASSERT_GE(id, 0);
  EXPECT_EQ(env.last_stack_max, 2u);
  EXPECT_EQ(lookup(static_cast<uint32_t>(id)), (std::vector<uint64_t>{0x2000, 0x3000}));
  // The user stack.
  int64_t user = stackid(BPF_F_USER_STACK);
  ASSERT_GE(user, 0);
  EXPECT_EQ(lookup(static_cast<uint32_t>(user)), (std::vector<uint64_t>{0x401000, 0x402000}));
  // Skipping every frame, or more, is EFAULT.
  EXPECT_EQ(stackid(4), -rt::kEFAULT);
  EXPECT_EQ(stackid(5), -rt::kEFAULT);
}

TEST_F(StackIdTest, CollisionIsEexistUnlessReuse) {
  make(3);  // 4 buckets, 3 stacks preallocated
  int64_t id = stackid(0);
  ASSERT_GE(id, 0);
  ASSERT_EQ(static_cast<uint32_t>(id), bucket_of(env.kernel_stack, 4));
  // Another stack in the same bucket.
  std::vector<uint64_t> other = {0x7000, 0x8000, 0x9000};
  while (bucket_of(other, 4) != static_cast<uint32_t>(id)) other[0] += 8;
  env.kernel_stack = other;
  EXPECT_EQ(stackid(0), -rt::kEEXIST);
  EXPECT_EQ(stackid(BPF_F_FAST_STACK_CMP), -rt::kEEXIST);  // the hashes differ
  EXPECT_EQ(lookup(static_cast<uint32_t>(id)),
            (std::vector<uint64_t>{0x1000, 0x2000, 0x3000, 0x4000}));
  EXPECT_EQ(stackid(BPF_F_REUSE_STACKID), id);
  other.push_back(0);
  EXPECT_EQ(lookup(static_cast<uint32_t>(id)), other);
  EXPECT_EQ(stackid(0), id);  // now the same stack
}

TEST_F(StackIdTest, NoFreeStackIsEnomem) {
  make(1);  // one bucket, one stack: Linux takes a free stack before giving back the old one
  ASSERT_EQ(stackid(0), 0);
  env.kernel_stack = {0x7000};
  EXPECT_EQ(stackid(BPF_F_REUSE_STACKID), -rt::kENOMEM);
  uint32_t id = 0;
  EXPECT_TRUE(map->syscall_delete(&id).ok());
  EXPECT_EQ(stackid(0), 0);  // the deleted stack's element came back
  EXPECT_EQ(lookup(0), (std::vector<uint64_t>{0x7000, 0, 0, 0}));
}

TEST_F(StackIdTest, BadFlagsAreEinval) {
  make(16);
  EXPECT_EQ(stackid(1u << 11), -rt::kEINVAL);  // BPF_F_USER_BUILD_ID is get_stack's only
  EXPECT_EQ(stackid(uint64_t{1} << 32), -rt::kEINVAL);
  EXPECT_EQ(stackid(1u << 12), -rt::kEINVAL);
}

TEST_F(StackIdTest, SyscallSide) {
  make(16);
  uint32_t first = 0;
  EXPECT_EQ(map->get_next_key(nullptr, &first).error().code, rt::kENOENT);  // empty
  int64_t a = stackid(0);
  ASSERT_GE(a, 0);
  env.kernel_stack = {0x1234};  // a stack in another bucket
  while (bucket_of(env.kernel_stack, 16) == static_cast<uint32_t>(a)) env.kernel_stack[0] += 8;
  int64_t b = stackid(0);
  ASSERT_GE(b, 0);
  ASSERT_NE(a, b);
  uint32_t low = static_cast<uint32_t>(a < b ? a : b), high = static_cast<uint32_t>(a < b ? b : a);
  // get_next_key walks the ids holding stacks; an absent key restarts at the first.
  ASSERT_TRUE(map->get_next_key(nullptr, &first).ok());
  EXPECT_EQ(first, low);
  uint32_t next = 0;
  ASSERT_TRUE(map->get_next_key(&low, &next).ok());
  EXPECT_EQ(next, high);
  EXPECT_EQ(map->get_next_key(&high, &next).error().code, rt::kENOENT);
  uint32_t absent = 1000;
  ASSERT_TRUE(map->get_next_key(&absent, &next).ok());
  EXPECT_EQ(next, low);
  // Update from user space is EINVAL; lookup flags EINVAL; absent ids ENOENT.
  std::vector<uint64_t> value(4, 0);
  EXPECT_EQ(map->syscall_update(&low, value.data(), 0).error().code, rt::kEINVAL);
  EXPECT_EQ(map->syscall_lookup(&low, value.data(), BPF_F_LOCK).error().code, rt::kEINVAL);
  EXPECT_EQ(map->syscall_lookup(&absent, value.data(), 0).error().code, rt::kENOENT);
  // Programs get nothing from lookup (the verifier refuses it anyway).
  EXPECT_EQ(map->lookup(&low), nullptr);
  // Delete: the stack goes, ENOENT after, E2BIG past the buckets.
  EXPECT_TRUE(map->syscall_delete(&low).ok());
  EXPECT_EQ(map->syscall_delete(&low).error().code, rt::kENOENT);
  uint32_t beyond = 16;
  EXPECT_EQ(map->syscall_delete(&beyond).error().code, rt::kE2BIG);
  ASSERT_TRUE(map->get_next_key(nullptr, &first).ok());
  EXPECT_EQ(first, high);
}

}  // namespace
