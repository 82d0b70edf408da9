// SPDX-License-Identifier: MIT
// Queue, stack and prog_array maps: order, full and empty behaviour, flags, and tail calls.
#include <gtest/gtest.h>

#include <string>

#include "ebpf/assembler.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/prog_array.hpp"
#include "fake_environment.hpp"
#include "rt/errno.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

MapAttributes queue_attributes(MapType type, uint32_t max_entries = 3) {
  MapAttributes a;
  a.type = type;
  a.key_size = 0;
  a.value_size = 4;
  a.max_entries = max_entries;
  return a;
}

TEST(QueueMap, FifoOrderFullAndEmpty) {
  test_support::MallocAllocator allocator;
  Map* q = create_map(queue_attributes(MapType::kQueue), allocator, 1).value();
  uint32_t v = 0;
  EXPECT_EQ(q->pop(&v), -rt::kENOENT);
  EXPECT_EQ(q->peek(&v), -rt::kENOENT);
  for (uint32_t i = 1; i <= 3; ++i) ASSERT_EQ(q->push(&i, kUpdateAny), 0);
  uint32_t four = 4;
  EXPECT_EQ(q->push(&four, kUpdateAny), -rt::kE2BIG);
  EXPECT_EQ(q->push(&four, kUpdateExist), 0);  // drops the oldest (1)
  EXPECT_EQ(q->push(&four, kUpdateNoExist), -rt::kEINVAL);
  ASSERT_EQ(q->peek(&v), 0);
  EXPECT_EQ(v, 2u);
  for (uint32_t expect : {2u, 3u, 4u}) {
    ASSERT_EQ(q->pop(&v), 0);
    EXPECT_EQ(v, expect);
  }
  EXPECT_EQ(q->pop(&v), -rt::kENOENT);
  EXPECT_EQ(rt::to_negated_errno(q->get_next_key(nullptr, &v)), -rt::kEINVAL);
  EXPECT_EQ(q->remove(nullptr), -rt::kEINVAL);
  destroy_map(q, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(QueueMap, StackIsLifoAndSyscallsMapToPushPeekPop) {
  test_support::MallocAllocator allocator;
  Map* s = create_map(queue_attributes(MapType::kStack), allocator, 1).value();
  for (uint32_t i = 1; i <= 3; ++i)
    ASSERT_EQ(rt::to_negated_errno(s->syscall_update(nullptr, &i, kUpdateAny)), 0);
  uint32_t v = 0;
  ASSERT_EQ(rt::to_negated_errno(s->syscall_lookup(nullptr, &v, 0)), 0);
  EXPECT_EQ(v, 3u);
  ASSERT_EQ(rt::to_negated_errno(s->lookup_and_delete(nullptr, &v, 0)), 0);
  EXPECT_EQ(v, 3u);
  ASSERT_EQ(s->pop(&v), 0);
  EXPECT_EQ(v, 2u);
  s->freeze();
  EXPECT_EQ(rt::to_negated_errno(s->syscall_update(nullptr, &v, kUpdateAny)), -rt::kEPERM);
  destroy_map(s, allocator);
}

TEST(QueueMap, CreationChecks) {
  test_support::MallocAllocator allocator;
  auto keyed = queue_attributes(MapType::kQueue);
  keyed.key_size = 4;
  EXPECT_EQ(create_map(keyed, allocator, 1).error().code, rt::kEINVAL);
  EXPECT_EQ(create_map(queue_attributes(MapType::kStack, 0), allocator, 1).error().code,
            rt::kEINVAL);
  MapAttributes prog;
  prog.type = MapType::kProgArray;
  prog.key_size = 4;
  prog.value_size = 8;
  prog.max_entries = 2;
  EXPECT_EQ(create_map(prog, allocator, 1).error().code, rt::kEINVAL);
}

TEST(QueueMap, HelpersPushPopPeekFromPrograms) {
  test_support::MallocAllocator allocator;
  Map* q = create_map(queue_attributes(MapType::kQueue), allocator, 1).value();
  HelperFunction table[kMaxHelperId] = {};
  fill_helper_table(table);
  std::string m = std::to_string(reinterpret_cast<uint64_t>(q));
  // push 7 and 9, pop into fp-8, return popped value * 100 + peeked value.
  AssemblyResult program =
      assemble("stw [%r10-4], 7\nlddw %r1, " + m +
               "\nmov %r2, %r10\nadd %r2, -4\nmov %r3, 0\ncall 87\n"
               "stw [%r10-4], 9\nlddw %r1, " +
               m +
               "\nmov %r2, %r10\nadd %r2, -4\nmov %r3, 0\ncall 87\n"
               "lddw %r1, " +
               m +
               "\nmov %r2, %r10\nadd %r2, -8\ncall 88\n"
               "lddw %r1, " +
               m +
               "\nmov %r2, %r10\nadd %r2, -12\ncall 89\n"
               "ldxw %r0, [%r10-8]\nmul %r0, 100\nldxw %r1, [%r10-12]\nadd %r0, %r1\nexit");
  ASSERT_TRUE(program.ok()) << program.error;
  Program p;
  p.insns = program.insns.data();
  p.insn_count = static_cast<uint32_t>(program.insns.size());
  p.helpers = table;
  p.helper_count = kMaxHelperId;
  CheckedRunOptions options;
  RunResult r = run_checked(p, 0, 0, nullptr, options);
  ASSERT_EQ(r.status, RunStatus::kOk);
  EXPECT_EQ(r.value, 709u);
  destroy_map(q, allocator);
}

TEST(ProgArrayMap, HoldsProgramsForTailCalls) {
  test_support::MallocAllocator allocator;
  MapAttributes a;
  a.type = MapType::kProgArray;
  a.key_size = 4;
  a.value_size = 4;
  a.max_entries = 2;
  Map* map = create_map(a, allocator, 1).value();
  auto* array = static_cast<ProgArrayMap*>(map);
  AssemblyResult target_code = assemble("mov %r0, 42\nexit");
  Program target;
  target.insns = target_code.insns.data();
  target.insn_count = 2;
  EXPECT_EQ(rt::to_negated_errno(array->set(5, &target)), -rt::kE2BIG);
  EXPECT_EQ(rt::to_negated_errno(array->set(1, nullptr)), -rt::kEINVAL);
  ASSERT_EQ(rt::to_negated_errno(array->set(1, &target, 77)), 0);
  HelperFunction table[kMaxHelperId] = {};
  AssemblyResult caller_code =
      assemble("lddw %r2, " + std::to_string(reinterpret_cast<uint64_t>(map)) +
               "\nmov %r3, 1\ncall 12\nmov %r0, 1\nexit");
  Program caller;
  caller.insns = caller_code.insns.data();
  caller.insn_count = static_cast<uint32_t>(caller_code.insns.size());
  caller.helpers = table;
  caller.helper_count = kMaxHelperId;
  target.helpers = table;
  target.helper_count = kMaxHelperId;
  EXPECT_EQ(run(caller, nullptr, nullptr), 42u);
  uint32_t key = 1, value = 0;
  EXPECT_EQ(rt::to_negated_errno(map->syscall_lookup(&key, &value, 0)), 0)
      << "Linux returns the program's id";
  EXPECT_EQ(value, 77u);
  uint32_t empty = 0;
  EXPECT_EQ(rt::to_negated_errno(map->syscall_lookup(&empty, &value, 0)), -rt::kENOENT);
  EXPECT_EQ(map->remove(&key), 0);
  EXPECT_EQ(map->remove(&key), -rt::kENOENT);
  EXPECT_EQ(run(caller, nullptr, nullptr), 1u) << "an empty slot falls through";
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

}  // namespace
