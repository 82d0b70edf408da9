// SPDX-License-Identifier: MIT
// Helpers: Linux numbering, and each helper's success and error paths through programs.
#include "ebpf/helpers.hpp"

#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstring>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/maps.hpp"
#include "fake_environment.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

TEST(HelperIds, MatchLinuxUapi) {
  EXPECT_EQ(kHelperMapLookupElem, BPF_FUNC_map_lookup_elem);
  EXPECT_EQ(kHelperMapUpdateElem, BPF_FUNC_map_update_elem);
  EXPECT_EQ(kHelperMapDeleteElem, BPF_FUNC_map_delete_elem);
  EXPECT_EQ(kHelperProbeRead, BPF_FUNC_probe_read);
  EXPECT_EQ(kHelperKtimeGetNs, BPF_FUNC_ktime_get_ns);
  EXPECT_EQ(kHelperTracePrintk, BPF_FUNC_trace_printk);
  EXPECT_EQ(kHelperGetPrandomU32, BPF_FUNC_get_prandom_u32);
  EXPECT_EQ(kHelperGetSmpProcessorId, BPF_FUNC_get_smp_processor_id);
  EXPECT_EQ(kHelperTailCall, BPF_FUNC_tail_call);
  EXPECT_EQ(kHelperGetCurrentPidTgid, BPF_FUNC_get_current_pid_tgid);
  EXPECT_EQ(kHelperGetCurrentUidGid, BPF_FUNC_get_current_uid_gid);
  EXPECT_EQ(kHelperGetCurrentComm, BPF_FUNC_get_current_comm);
  EXPECT_EQ(kHelperPerfEventOutput, BPF_FUNC_perf_event_output);
  EXPECT_EQ(kHelperProbeReadStr, BPF_FUNC_probe_read_str);
  EXPECT_EQ(kHelperGetStack, BPF_FUNC_get_stack);
  EXPECT_EQ(kHelperMapPushElem, BPF_FUNC_map_push_elem);
  EXPECT_EQ(kHelperMapPopElem, BPF_FUNC_map_pop_elem);
  EXPECT_EQ(kHelperMapPeekElem, BPF_FUNC_map_peek_elem);
  EXPECT_EQ(kHelperProbeReadUser, BPF_FUNC_probe_read_user);
  EXPECT_EQ(kHelperProbeReadKernel, BPF_FUNC_probe_read_kernel);
  EXPECT_EQ(kHelperProbeReadUserStr, BPF_FUNC_probe_read_user_str);
  EXPECT_EQ(kHelperProbeReadKernelStr, BPF_FUNC_probe_read_kernel_str);
  EXPECT_EQ(kHelperKtimeGetBootNs, BPF_FUNC_ktime_get_boot_ns);
  EXPECT_EQ(kHelperRingbufOutput, BPF_FUNC_ringbuf_output);
  EXPECT_EQ(kHelperRingbufReserve, BPF_FUNC_ringbuf_reserve);
  EXPECT_EQ(kHelperRingbufSubmit, BPF_FUNC_ringbuf_submit);
  EXPECT_EQ(kHelperRingbufDiscard, BPF_FUNC_ringbuf_discard);
  EXPECT_EQ(kHelperRingbufQuery, BPF_FUNC_ringbuf_query);
  EXPECT_EQ(kHelperForEachMapElem, BPF_FUNC_for_each_map_elem);
  EXPECT_EQ(kHelperSnprintf, BPF_FUNC_snprintf);
  EXPECT_EQ(kHelperGetFuncIp, BPF_FUNC_get_func_ip);
  EXPECT_EQ(kHelperTraceVprintk, BPF_FUNC_trace_vprintk);
  EXPECT_EQ(kHelperLoop, BPF_FUNC_loop);
  EXPECT_EQ(kHelperMapLookupPercpuElem, BPF_FUNC_map_lookup_percpu_elem);
}

struct HelperTest : ::testing::Test {
  ebpf_test::FakeEnvironment env;
  HelperFunction table[kMaxHelperId] = {};
  std::vector<Insn> insns;
  Program program;
  std::vector<uint8_t> memory = std::vector<uint8_t>(64, 0);

  void SetUp() override { fill_helper_table(table); }

  RunResult run_text(const std::string& text) {
    AssemblyResult assembled = assemble(text);
    EXPECT_TRUE(assembled.ok()) << assembled.error;
    insns = assembled.insns;
    program.insns = insns.data();
    program.insn_count = static_cast<uint32_t>(insns.size());
    program.helpers = table;
    program.helper_count = kMaxHelperId;
    MemoryRegion region{reinterpret_cast<uint64_t>(memory.data()), memory.size(), true};
    CheckedRunOptions options;
    options.regions = &region;
    options.region_count = 1;
    return run_checked(program, region.start, 0, &env, options);
  }
};

TEST_F(HelperTest, TimeRandomCpuAndTask) {
  EXPECT_EQ(run_text("call 5\nexit").value, 1000u);
  EXPECT_EQ(run_text("call 125\nexit").value, 5000u);
  EXPECT_EQ(run_text("call 8\nexit").value, 1u);
  EXPECT_EQ(run_text("call 14\nexit").value, (uint64_t{42} << 32) | 43);
  EXPECT_EQ(run_text("call 15\nexit").value, (uint64_t{7} << 32) | 8);
  uint64_t first = run_text("call 7\nexit").value;
  uint64_t second = run_text("call 7\nexit").value;
  EXPECT_NE(first, second);
  EXPECT_LE(first, 0xffffffffu);
}

TEST_F(HelperTest, GetCurrentCommCopiesAndPads) {
  RunResult result = run_text("mov %r6, %r1\nmov %r2, 16\ncall 16\nexit");
  EXPECT_EQ(result.value, 0u);
  EXPECT_STREQ(reinterpret_cast<char*>(memory.data()), "busybox");
  EXPECT_EQ(memory[15], 0);
  std::memset(memory.data(), 0xaa, 16);
  result = run_text("mov %r2, 0\ncall 16\nexit");
  EXPECT_EQ(static_cast<int64_t>(result.value), -22);
}

TEST_F(HelperTest, ProbeReadCopiesOrZeroesOnFault) {
  const uint8_t traced[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  env.readable = traced;
  env.readable_size = sizeof(traced);
  std::string source = std::to_string(reinterpret_cast<uint64_t>(traced));
  RunResult ok = run_text("mov %r2, 8\nlddw %r3, " + source + "\ncall 113\nexit");
  EXPECT_EQ(ok.value, 0u);
  EXPECT_EQ(std::memcmp(memory.data(), traced, 8), 0);
  std::memset(memory.data(), 0xaa, 16);
  RunResult bad = run_text("mov %r2, 16\nlddw %r3, " + source + "\ncall 112\nexit");
  EXPECT_EQ(static_cast<int64_t>(bad.value), -14);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(memory[i], 0) << i;
}

TEST_F(HelperTest, MapHelpersThroughAnArrayMap) {
  test_support::MallocAllocator allocator;
  MapAttributes attributes;
  attributes.type = MapType::kArray;
  attributes.key_size = 4;
  attributes.value_size = 8;
  attributes.max_entries = 4;
  Map* map = create_map(attributes, allocator, 1).value();
  std::string m = std::to_string(reinterpret_cast<uint64_t>(map));
  // update(map, &key(=1), &value(=77), BPF_ANY), then lookup and read it back.
  RunResult r =
      run_text("stw [%r10-4], 1\nstdw [%r10-16], 77\nlddw %r1, " + m +
               "\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\n"
               "jne %r0, 0, fail\nlddw %r1, " +
               m +
               "\nmov %r2, %r10\nadd %r2, -4\ncall 1\nexit\n"
               "fail:\nmov %r0, 0\nexit");
  ASSERT_EQ(r.status, RunStatus::kOk);
  ASSERT_NE(r.value, 0u);  // a pointer to the element (map memory is not a checked-run region)
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(r.value), 77u);
  // Lookup of a missing key returns NULL; delete on an array is EINVAL; NOEXIST is EEXIST.
  EXPECT_EQ(
      run_text("stw [%r10-4], 9\nlddw %r1, " + m + "\nmov %r2, %r10\nadd %r2, -4\ncall 1\nexit")
          .value,
      0u);
  EXPECT_EQ(static_cast<int64_t>(run_text("stw [%r10-4], 0\nlddw %r1, " + m +
                                          "\nmov %r2, %r10\nadd %r2, -4\ncall 3\nexit")
                                     .value),
            -22);
  EXPECT_EQ(static_cast<int64_t>(
                run_text("stw [%r10-4], 0\nlddw %r1, " + m +
                         "\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r2\nmov %r4, 1\ncall 2\nexit")
                    .value),
            -17);
  destroy_map(map, allocator);
}

TEST_F(HelperTest, ForEachMapElemVisitsUntilTheCallbackStops) {
  test_support::MallocAllocator allocator;
  MapAttributes attributes;
  attributes.type = MapType::kHash;
  attributes.key_size = 4;
  attributes.value_size = 8;
  attributes.max_entries = 8;
  Map* map = create_map(attributes, allocator, 1).value();
  for (uint32_t k = 1; k <= 5; ++k) {
    uint64_t v = k;
    ASSERT_EQ(map->update(&k, &v, 0), 0);
  }
  std::string m = std::to_string(reinterpret_cast<uint64_t>(map));
  // Verified programs run unchecked (map memory is not a checked-run region). The callback
  // (instruction 7) stops at the element whose value is 3.
  AssemblyResult assembled =
      assemble("lddw %r1, " + m +
               "\nmov %r2, 7\nmov %r3, 0\nmov %r4, 0\ncall 164\nexit\n"
               "ldxdw %r0, [%r3+0]\njeq %r0, 3, stop\nmov %r0, 0\nexit\nstop:\nmov %r0, 1\nexit");
  ASSERT_TRUE(assembled.ok()) << assembled.error;
  Program p;
  p.insns = assembled.insns.data();
  p.insn_count = static_cast<uint32_t>(assembled.insns.size());
  p.helpers = table;
  p.helper_count = kMaxHelperId;
  uint64_t visited = run(p, nullptr, &env);
  EXPECT_GE(visited, 1u);
  EXPECT_LE(visited, 5u);
  uint32_t three = 3;
  ASSERT_EQ(map->remove(&three), 0);
  EXPECT_EQ(run(p, nullptr, &env), 4u) << "without the stopping element every element is visited";
  // Flags must be 0.
  AssemblyResult bad = assemble(
      "lddw %r1, " + m + "\nmov %r2, 7\nmov %r3, 0\nmov %r4, 1\ncall 164\nexit\nmov %r0, 0\nexit");
  p.insns = bad.insns.data();
  p.insn_count = static_cast<uint32_t>(bad.insns.size());
  EXPECT_EQ(static_cast<int64_t>(run(p, nullptr, &env)), -22);
  destroy_map(map, allocator);
}

TEST_F(HelperTest, LoopRunsCallbackAndHonoursStopAndLimits) {
  // Callback at index 6: adds its index to *ctx (r2 = memory) and stops when index == 3.
  std::string program =
      "mov %r3, %r1\nmov %r1, 10\nmov %r2, 6\nmov %r4, 0\ncall 181\nexit\n"
      "ldxdw %r0, [%r2]\nadd %r0, %r1\nstxdw [%r2], %r0\nmov %r0, 0\njne %r1, 3, +1\nmov %r0, "
      "1\nexit";
  RunResult r = run_text(program);
  ASSERT_EQ(r.status, RunStatus::kOk);
  EXPECT_EQ(r.value, 4u);  // iterations 0..3, the fourth returned 1
  uint64_t sum;
  std::memcpy(&sum, memory.data(), 8);
  EXPECT_EQ(sum, 0u + 1 + 2 + 3);
  EXPECT_EQ(
      static_cast<int64_t>(
          run_text("mov %r1, 1\nmov %r2, 6\nmov %r3, 0\nmov %r4, 1\ncall 181\nexit\nexit").value),
      -22);
  EXPECT_EQ(
      static_cast<int64_t>(
          run_text("lddw %r1, 0x800001\nmov %r2, 6\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\nexit")
              .value),
      -7);
}

TEST_F(HelperTest, UnimplementedHelpersAreAbsentNotFaked) {
  // BPF_FUNC_task_storage_get: no task storage maps.
  constexpr int kTaskStorageGet = 156;
  EXPECT_EQ(table[kTaskStorageGet], nullptr);
  EXPECT_NE(table[kHelperTracePrintk], nullptr);
  EXPECT_EQ(run_text("call 156\nexit").status, RunStatus::kUnknownHelper);
}

TEST_F(HelperTest, GetCurrentTaskBtfIsTheTaskStructTyped) {
  EXPECT_EQ(kHelperGetCurrentTaskBtf, BPF_FUNC_get_current_task_btf);
  EXPECT_EQ(run_text("call 158\nexit").value, env.task);
}

TEST_F(HelperTest, GetCurrentTaskIsTheHostsTaskStruct) {
  EXPECT_EQ(kHelperGetCurrentTask, BPF_FUNC_get_current_task);
  EXPECT_EQ(run_text("call 35\nexit").value, env.task);
}

// Writes `text` (NUL-terminated) into the test memory at offset 0 and calls trace_printk.
struct PrintkCase {
  std::string format;
  uint64_t a1, a2, a3;
};

TEST_F(HelperTest, TracePrintkFormatsLikeLinux) {
  const char name[] = "sshd";
  env.readable = reinterpret_cast<const uint8_t*>(name);
  env.readable_size = sizeof(name);
  auto printk = [&](const std::string& format, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0) {
    std::memset(memory.data(), 0, memory.size());
    std::memcpy(memory.data(), format.c_str(), format.size() + 1);
    env.trace.clear();
    RunResult r = run_text("mov %r2, " + std::to_string(format.size() + 1) + "\nlddw %r3, " +
                           std::to_string(a1) + "\nlddw %r4, " + std::to_string(a2) +
                           "\nlddw %r5, " + std::to_string(a3) + "\ncall 6\nexit");
    EXPECT_EQ(r.status, RunStatus::kOk);
    return static_cast<int64_t>(r.value);
  };
  EXPECT_EQ(printk("pid %d comm %s\n", 42, reinterpret_cast<uint64_t>(name)), 17);
  EXPECT_EQ(env.trace, "pid 42 comm sshd\n|");
  EXPECT_EQ(printk("%u %x %lld", 0xffffffffu, 255, static_cast<uint64_t>(-5)), 16);
  EXPECT_EQ(env.trace, "4294967295 ff -5|");
  EXPECT_GT(printk("%llx %c %%", 0xabcdef0123ull, 'A'), 0);
  EXPECT_EQ(env.trace, "abcdef0123 A %|");
  EXPECT_GT(printk("%d", 0xffffffffu), 0);
  EXPECT_EQ(env.trace, "-1|");
  EXPECT_GT(printk("[%5d|%-4u|%04x]", 7, 3, 0xa), 0);
  EXPECT_EQ(env.trace, "[    7|3   |000a]|");
  EXPECT_EQ(printk("<%s>", 0xdead0000), 2) << "an unreadable string prints as empty, as Linux";
  EXPECT_EQ(env.trace, "<>|");
  // Refused formats write nothing and return -EINVAL.
  EXPECT_EQ(printk("%d %d %d %d", 1, 2, 3), -22);
  EXPECT_EQ(printk("%n"), -22);
  EXPECT_EQ(printk("%lllx", 1), -22);
  EXPECT_EQ(printk("%f", 1), -22);
  EXPECT_EQ(env.trace, "");
}

TEST_F(HelperTest, TracePrintkNeedsATerminatedFormat) {
  std::memcpy(memory.data(), "abc", 3);
  RunResult r = run_text("mov %r2, 3\ncall 6\nexit");
  EXPECT_EQ(static_cast<int64_t>(r.value), -22);
  EXPECT_EQ(env.trace, "");
}

TEST_F(HelperTest, ProbeReadStrTerminatesTruncatesAndZeroesOnFault) {
  const char traced[] = "hello";
  env.readable = reinterpret_cast<const uint8_t*>(traced);
  env.readable_size = sizeof(traced);
  std::string source = std::to_string(reinterpret_cast<uint64_t>(traced));
  EXPECT_EQ(run_text("mov %r2, 16\nlddw %r3, " + source + "\ncall 115\nexit").value, 6u);
  EXPECT_STREQ(reinterpret_cast<char*>(memory.data()), "hello");
  std::memset(memory.data(), 0xaa, 16);
  EXPECT_EQ(run_text("mov %r2, 4\nlddw %r3, " + source + "\ncall 114\nexit").value, 4u);
  EXPECT_STREQ(reinterpret_cast<char*>(memory.data()), "hel");
  EXPECT_EQ(memory[4], 0xaa) << "bytes past size are untouched";
  std::memset(memory.data(), 0xaa, 16);
  EXPECT_EQ(static_cast<int64_t>(run_text("mov %r2, 8\nmov %r3, 16\ncall 45\nexit").value), -14);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(memory[i], 0);
  EXPECT_EQ(run_text("mov %r2, 0\nmov %r3, 16\ncall 45\nexit").value, 0u);
}

TEST_F(HelperTest, GetFuncIpAndGetStack) {
  EXPECT_EQ(run_text("call 173\nexit").value, 0xffffffff81234560ull);
  // Kernel stack, skipping one frame, into 24 bytes: three addresses.
  EXPECT_EQ(run_text("mov %r2, %r1\nmov %r3, 24\nmov %r4, 1\ncall 67\nexit").value, 24u);
  uint64_t ips[4];
  std::memcpy(ips, memory.data(), sizeof(ips));
  EXPECT_EQ(ips[0], 0x2000u);
  EXPECT_EQ(ips[2], 0x4000u);
  // User stack into 32 bytes: two addresses, the rest zeroed.
  std::memset(memory.data(), 0xaa, 32);
  EXPECT_EQ(run_text("mov %r2, %r1\nmov %r3, 32\nmov %r4, 256\ncall 67\nexit").value, 16u);
  std::memcpy(ips, memory.data(), sizeof(ips));
  EXPECT_EQ(ips[0], 0x401000u);
  EXPECT_EQ(ips[2], 0u);
  EXPECT_EQ(static_cast<int64_t>(
                run_text("mov %r2, %r1\nmov %r3, 32\nmov %r4, 0x10000\ncall 67\nexit").value),
            -22);
  EXPECT_EQ(
      static_cast<int64_t>(run_text("mov %r2, %r1\nmov %r3, 12\nmov %r4, 0\ncall 67\nexit").value),
      -22);
}

TEST_F(HelperTest, TraceVprintkTakesAnArgumentArray) {
  const char format[] = "%d-%d-%d-%d";
  std::memcpy(memory.data(), format, sizeof(format));
  uint64_t args[4] = {1, 2, 3, 4};
  std::memcpy(memory.data() + 32, args, sizeof(args));
  RunResult r = run_text("mov %r6, %r1\nmov %r2, " + std::to_string(sizeof(format)) +
                         "\nmov %r3, %r6\nadd %r3, 32\nmov %r4, 32\ncall 177\nexit");
  EXPECT_EQ(static_cast<int64_t>(r.value), 7);
  EXPECT_EQ(env.trace, "1-2-3-4|");
  r = run_text("mov %r6, %r1\nmov %r2, " + std::to_string(sizeof(format)) +
               "\nmov %r3, %r6\nadd %r3, 32\nmov %r4, 12\ncall 177\nexit");
  EXPECT_EQ(static_cast<int64_t>(r.value), -22);
}

}  // namespace
