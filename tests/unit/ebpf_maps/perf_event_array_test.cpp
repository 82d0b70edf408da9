// SPDX-License-Identifier: MIT
// Perf event arrays and rings: record layout libbpf's perf_buffer reads, index and CPU
// rules of bpf_perf_event_output, lost-sample accounting.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "ebpf/assembler.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/perf_buffer.hpp"
#include "fake_environment.hpp"
#include "rt/errno.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

struct PerfTest : ::testing::Test {
  test_support::MallocAllocator allocator;
  ebpf_test::FakeEnvironment env;
  PerfEventArrayMap* array = nullptr;
  uint8_t* memory[2] = {};
  PerfRing* rings[2] = {};

  void SetUp() override {
    MapAttributes a;
    a.type = MapType::kPerfEventArray;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = 2;
    array = static_cast<PerfEventArrayMap*>(create_map(a, allocator, 2).value());
    for (uint32_t cpu = 0; cpu < 2; ++cpu) {
      memory[cpu] = static_cast<uint8_t*>(std::aligned_alloc(4096, 2 * 4096));
      std::memset(memory[cpu], 0, 2 * 4096);
      rings[cpu] = new PerfRing(memory[cpu], 1, cpu);
    }
  }
  void TearDown() override {
    destroy_map(array, allocator);
    for (int cpu = 0; cpu < 2; ++cpu) {
      delete rings[cpu];
      std::free(memory[cpu]);
    }
  }
  uint32_t u32_at(const PerfRing* ring, uint64_t offset) {
    uint32_t v;
    std::memcpy(&v, ring->data() + offset, 4);
    return v;
  }
};

TEST_F(PerfTest, MetadataPageDescribesTheData) {
  uint64_t offset, size;
  std::memcpy(&offset, memory[0] + kPerfDataOffsetOffset, 8);
  std::memcpy(&size, memory[0] + kPerfDataSizeOffset, 8);
  EXPECT_EQ(offset, 4096u);
  EXPECT_EQ(size, 4096u);
}

TEST_F(PerfTest, OutputWritesARawSampleRecord) {
  ASSERT_EQ(rt::to_negated_errno(array->set(1, rings[1])), 0);
  EXPECT_EQ(array->output(kBpfFCurrentCpu, 1, "hello", 5), 0);
  // perf_event_header (8) + u32 raw size + 5 bytes, padded so the record is 8-aligned.
  EXPECT_EQ(rings[1]->head(), 24u);
  EXPECT_EQ(u32_at(rings[1], 0), kPerfRecordSample);
  uint16_t record_size;
  std::memcpy(&record_size, rings[1]->data() + 6, 2);
  EXPECT_EQ(record_size, 24u);
  EXPECT_EQ(u32_at(rings[1], 8), 12u) << "raw size includes the padding";
  EXPECT_EQ(std::memcmp(rings[1]->data() + 12, "hello", 5), 0);
}

TEST_F(PerfTest, IndexAndCpuRulesFollowLinux) {
  ASSERT_EQ(rt::to_negated_errno(array->set(0, rings[0])), 0);
  EXPECT_EQ(array->output(0, 0, "x", 1), 0);
  EXPECT_EQ(array->output(5, 0, "x", 1), -rt::kE2BIG);
  EXPECT_EQ(array->output(1, 1, "x", 1), -rt::kENOENT);
  EXPECT_EQ(array->output(0, 1, "x", 1), -rt::kEOPNOTSUPP) << "only the current CPU's event";
  EXPECT_EQ(array->output(1ull << 32, 0, "x", 1), -rt::kEINVAL);
  EXPECT_EQ(rt::to_negated_errno(array->set(2, rings[0])), -rt::kE2BIG);
  uint32_t key = 0, value = 0;
  EXPECT_EQ(rt::to_negated_errno(array->syscall_lookup(&key, &value, 0)), -rt::kENOTSUPP)
      << "no map_fd_sys_lookup_elem in Linux";
  EXPECT_EQ(array->remove(&key), 0);
  EXPECT_EQ(array->remove(&key), -rt::kENOENT);
}

TEST_F(PerfTest, FullRingCountsLostSamplesAndReportsThem) {
  ASSERT_EQ(rt::to_negated_errno(array->set(0, rings[0])), 0);
  char big[1000] = {};
  int written = 0;
  while (array->output(0, 0, big, sizeof(big)) == 0) ++written;
  EXPECT_EQ(written, 4);  // 4 x 1008 bytes fit in 4096
  EXPECT_EQ(rings[0]->lost(), 1u);
  // The next attempt first reports the loss so far (a LOST record still fits), then loses
  // its own sample.
  uint64_t first_lost_at = rings[0]->head();
  EXPECT_EQ(array->output(0, 0, big, sizeof(big)), -rt::kENOSPC);
  EXPECT_EQ(rings[0]->lost(), 2u);
  EXPECT_EQ(u32_at(rings[0], first_lost_at & 4095), kPerfRecordLost);
  rings[0]->set_tail(rings[0]->head());  // the reader caught up
  uint64_t before = rings[0]->head();
  ASSERT_EQ(array->output(0, 0, "y", 1), 0);
  EXPECT_EQ(u32_at(rings[0], before & 4095), kPerfRecordLost);
  uint64_t lost;
  std::memcpy(&lost, rings[0]->data() + ((before + 16) & 4095), 8);
  EXPECT_EQ(lost, 1u) << "only the loss not yet reported";
}

TEST_F(PerfTest, HelperFromAProgram) {
  ASSERT_EQ(rt::to_negated_errno(array->set(1, rings[1])), 0);
  env.cpu = 1;
  HelperFunction table[kMaxHelperId] = {};
  fill_helper_table(table);
  AssemblyResult program =
      assemble("stdw [%r10-8], 42\nlddw %r2, " + std::to_string(reinterpret_cast<uint64_t>(array)) +
               "\nlddw %r3, 0xffffffff\nmov %r4, %r10\nadd %r4, -8\nmov %r5, 8\ncall 25\nexit");
  ASSERT_TRUE(program.ok()) << program.error;
  Program p;
  p.insns = program.insns.data();
  p.insn_count = static_cast<uint32_t>(program.insns.size());
  p.helpers = table;
  p.helper_count = kMaxHelperId;
  EXPECT_EQ(run(p, nullptr, &env), 0u);
  uint64_t value;
  std::memcpy(&value, rings[1]->data() + 12, 8);
  EXPECT_EQ(value, 42u);
}

}  // namespace
