// SPDX-License-Identifier: MIT
// Helpers called directly through the table, as an engine calls them: argument rules, return
// values and error paths of each, with a fake callback for bpf_loop and for_each_map_elem.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ebpf/helpers.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/perf_buffer.hpp"
#include "ebpf/ringbuf.hpp"
#include "fake_environment.hpp"
#include "rt/errno.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

uint64_t u(const void* pointer) { return reinterpret_cast<uint64_t>(pointer); }
int64_t s(uint64_t value) { return static_cast<int64_t>(value); }

// Callback calls recorded by the fake engine; each returns the next scripted value.
struct CallbackLog {
  std::vector<std::vector<uint64_t>> calls;
  std::vector<uint64_t> returns;  // by call index; 0 past the end
  bool record = true;             // false: only count (long loops)
  uint64_t count = 0;
};

uint64_t fake_invoke(ExecContext& context, uint64_t function, uint64_t a1, uint64_t a2, uint64_t a3,
                     uint64_t a4, uint64_t a5) {
  auto* log = static_cast<CallbackLog*>(context.engine_state);
  size_t index = log->count++;
  if (!log->record) return 0;
  log->calls.push_back({function, a1, a2, a3, a4, a5});
  return index < log->returns.size() ? log->returns[index] : 0;
}

struct HelperCallTest : ::testing::Test {
  ebpf_test::FakeEnvironment env;
  test_support::MallocAllocator allocator;
  HelperFunction table[kMaxHelperId] = {};
  CallbackLog log;
  ExecContext context;
  std::string strings = std::string("sshd\0/etc/passwd\0", 17);
  uint8_t address4[4] = {10, 0, 2, 15};
  uint8_t address6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::vector<uint8_t> readable;

  void SetUp() override {
    fill_helper_table(table);
    context.env = &env;
    context.invoke_callback = fake_invoke;
    context.engine_state = &log;
    readable.assign(256, 0);
    std::memcpy(readable.data(), strings.data(), strings.size());
    std::memcpy(readable.data() + 32, address4, 4);
    std::memcpy(readable.data() + 48, address6, 16);
    env.readable = readable.data();
    env.readable_size = readable.size();
  }
  uint64_t call(int id, uint64_t r1 = 0, uint64_t r2 = 0, uint64_t r3 = 0, uint64_t r4 = 0,
                uint64_t r5 = 0) {
    EXPECT_NE(table[id], nullptr) << id;
    return table[id](context, r1, r2, r3, r4, r5);
  }
  const uint8_t* at(size_t offset) const { return readable.data() + offset; }
  int64_t printk(const char* format, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0) {
    env.trace.clear();
    return s(call(kHelperTracePrintk, u(format), std::strlen(format) + 1, a1, a2, a3));
  }
};

TEST_F(HelperCallTest, PrintkFlagsWidthsAndIntegerSizes) {
  EXPECT_EQ(printk("[%5d|%-5d|%05d]", 42, 42, static_cast<uint64_t>(-42)), 19);
  EXPECT_EQ(env.trace, "[   42|42   |-0042]|");
  EXPECT_EQ(printk("[%-05d]", 7), 7) << "'-' wins over '0'";
  EXPECT_EQ(env.trace, "[7    ]|");
  EXPECT_EQ(printk("%+d % d %+u", 5, 5, 5), 7) << "'+' and ' ' only for signed conversions";
  EXPECT_EQ(env.trace, "+5  5 5|");
  EXPECT_EQ(printk("%X %lX %08x", 0xbeef, 0, 0xbeef), 15);
  EXPECT_EQ(env.trace, "BEEF 0 0000beef|");
  EXPECT_EQ(printk("%d %ld %lu", 0x1ffffffffull, 0x1ffffffffull, static_cast<uint64_t>(-1)), 34);
  EXPECT_EQ(env.trace, "-1 8589934591 18446744073709551615|");
  EXPECT_EQ(printk("%i %lli %llx", static_cast<uint64_t>(-3), static_cast<uint64_t>(-3), 0xabcull),
            9);
  EXPECT_EQ(env.trace, "-3 -3 abc|");
  EXPECT_EQ(printk("%c%3c%-3c|", 'a', 'b', 'c'), 8);
  EXPECT_EQ(env.trace, "a  bc  ||");
  EXPECT_EQ(printk("100%%"), 4);
  EXPECT_EQ(env.trace, "100%|");
}

TEST_F(HelperCallTest, PrintkStringsPointersAndAddresses) {
  EXPECT_EQ(printk("%s:%8s:%-6s|", u(at(0)), u(at(0)), u(at(5))), 26);
  EXPECT_EQ(env.trace, "sshd:    sshd:/etc/passwd||");
  EXPECT_EQ(printk("%pks %pus", u(at(0)), u(at(5))), 16);
  EXPECT_EQ(env.trace, "sshd /etc/passwd|");
  EXPECT_EQ(printk("[%s]", 0x10), 2) << "unreadable: empty, as Linux";
  EXPECT_EQ(env.trace, "[]|");
  EXPECT_EQ(printk("%p %px %pK", 0xffff888012345678ull, 0x1234, 0), 50);
  EXPECT_EQ(env.trace, "ffff888012345678 0000000000001234 0000000000000000|");
  EXPECT_EQ(printk("%pS", 0xffffffff81000010ull), 18);
  EXPECT_EQ(env.trace, "0xffffffff81000010|");
  EXPECT_EQ(printk("%pI4 %pi4", u(at(32)), u(at(32))), 25);
  EXPECT_EQ(env.trace, "10.0.2.15 010.000.002.015|");
  EXPECT_GT(printk("%pI6", u(at(48))), 0);
  EXPECT_EQ(env.trace, "2001:0db8:0000:0000:0000:0000:0000:0001|");
  EXPECT_GT(printk("%pi6", u(at(48))), 0);
  EXPECT_EQ(env.trace, "20010db8000000000000000000000001|");
  EXPECT_GT(printk("%pI4", 0x10), 0) << "an unreadable address prints as zeros";
  EXPECT_EQ(env.trace, "0.0.0.0|");
}

TEST_F(HelperCallTest, PrintkRefusesWhatLinuxRefuses) {
  const char* refused[] = {"%#x", "%.2d", "%q",     "%lllx",       "%sx", "%pZ", "%pks1", "%hd",
                           "%n",  "%f",   "bell\a", "%d %d %d %d", "%",   "%l",  "%5"};
  for (const char* format : refused) {
    EXPECT_EQ(printk(format, 1, 2, 3), -rt::kEINVAL) << format;
    EXPECT_EQ(env.trace, "") << format;
  }
  const char unterminated[4] = {'a', 'b', 'c', 'd'};
  EXPECT_EQ(s(call(kHelperTracePrintk, u(unterminated), 4)), -rt::kEINVAL);
  EXPECT_EQ(s(call(kHelperTracePrintk, u("x"), 0)), -rt::kEINVAL);
  // Tabs and newlines are fine; "%s." and "%p," end their conversions.
  EXPECT_GT(printk("a\tb\n%s.%p,", u(at(0)), 1), 0);
}

TEST_F(HelperCallTest, PrintkReturnsTheUntruncatedLength) {
  std::string format(600, 'x');
  EXPECT_EQ(printk(format.c_str()), 600);
  EXPECT_EQ(env.trace, std::string(511, 'x') + "|") << "a message is at most 511 characters";
}

TEST_F(HelperCallTest, VprintkTakesUpToTwelveArgumentsInAnArray) {
  uint64_t args[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  const char* twelve = "%d%d%d%d%d%d%d%d%d%d%d%d";
  env.trace.clear();
  EXPECT_EQ(s(call(kHelperTraceVprintk, u(twelve), std::strlen(twelve) + 1, u(args), 96)), 15);
  EXPECT_EQ(env.trace, "123456789101112|");
  EXPECT_EQ(s(call(kHelperTraceVprintk, u(twelve), std::strlen(twelve) + 1, u(args), 104)),
            -rt::kEINVAL);
  EXPECT_EQ(s(call(kHelperTraceVprintk, u(twelve), std::strlen(twelve) + 1, u(args), 12)),
            -rt::kEINVAL);
  EXPECT_EQ(s(call(kHelperTraceVprintk, u(twelve), std::strlen(twelve) + 1, 0, 96)), -rt::kEINVAL);
  EXPECT_EQ(s(call(kHelperTraceVprintk, u(twelve), std::strlen(twelve) + 1, u(args), 88)),
            -rt::kEINVAL)
      << "twelve conversions, eleven arguments";
  EXPECT_EQ(s(call(kHelperTraceVprintk, u("plain"), 6, 0, 0)), 5);
}

TEST_F(HelperCallTest, SnprintfReturnsTheLengthNeededWithItsNul) {
  char out[8];
  uint64_t args[2] = {12345, u(at(0))};
  std::memset(out, 'z', sizeof(out));
  EXPECT_EQ(s(call(kHelperSnprintf, u(out), sizeof(out), u("%d-%s"), u(args), 16)), 11);
  EXPECT_STREQ(out, "12345-s") << "truncated, always terminated";
  EXPECT_EQ(s(call(kHelperSnprintf, u(out), 0, u("%d"), u(args), 8)), 6);
  EXPECT_EQ(s(call(kHelperSnprintf, u(out), sizeof(out), u("%d"), u(args), 7)), -rt::kEINVAL);
  EXPECT_EQ(s(call(kHelperSnprintf, u(out), sizeof(out), u("%d %d"), u(args), 8)), -rt::kEINVAL);
  EXPECT_EQ(s(call(kHelperSnprintf, u(out), sizeof(out), u("%y"), u(args), 8)), -rt::kEINVAL);
  EXPECT_EQ(s(call(kHelperSnprintf, u(out), sizeof(out), u("ok"), 0, 0)), 3);
  EXPECT_STREQ(out, "ok");
}

TEST_F(HelperCallTest, LoopTakesAU32CountAndStopsOnNonZero) {
  EXPECT_EQ(call(kHelperLoop, (1ull << 32) | 3, 77, 99, 0), 3u) << "nr_loops is a u32";
  ASSERT_EQ(log.calls.size(), 3u);
  EXPECT_EQ(log.calls[2], (std::vector<uint64_t>{77, 2, 99, 0, 0, 0}));
  log.calls.clear();
  log.count = 0;
  log.returns = {0, 0, 2};
  EXPECT_EQ(call(kHelperLoop, 10, 77, 99, 0), 3u) << "any non-zero return stops";
  EXPECT_EQ(call(kHelperLoop, 0, 77, 99, 0), 0u);
  EXPECT_EQ(s(call(kHelperLoop, 1, 77, 99, 1)), -rt::kEINVAL);
  EXPECT_EQ(s(call(kHelperLoop, (1u << 23) + 1, 77, 99, 0)), -rt::kE2BIG);
  log.record = false;
  log.count = 0;
  EXPECT_EQ(call(kHelperLoop, 1u << 23, 77, 99, 0), 1u << 23) << "the limit itself is allowed";
  EXPECT_EQ(log.count, 1u << 23);
}

TEST_F(HelperCallTest, ForEachMapElemCountsVisitsAndStops) {
  MapAttributes a;
  a.type = MapType::kHash;
  a.key_size = 4;
  a.value_size = 8;
  a.max_entries = 8;
  Map* hash = create_map(a, allocator, 1).value();
  for (uint32_t k = 0; k < 5; ++k) {
    uint64_t v = k;
    hash->update(&k, &v, kUpdateAny);
  }
  EXPECT_EQ(call(kHelperForEachMapElem, u(hash), 55, 66, 0), 5u);
  ASSERT_EQ(log.calls.size(), 5u);
  EXPECT_EQ(log.calls[0][0], 55u);
  EXPECT_EQ(log.calls[0][1], u(hash)) << "callback(map, key, value, ctx)";
  EXPECT_EQ(log.calls[0][4], 66u);
  uint32_t key;
  std::memcpy(&key, reinterpret_cast<void*>(log.calls[0][2]), 4);
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(log.calls[0][3]), key);
  log.calls.clear();
  log.count = 0;
  log.returns = {0, 1};
  EXPECT_EQ(call(kHelperForEachMapElem, u(hash), 55, 66, 0), 2u) << "the stopping element counts";
  EXPECT_EQ(s(call(kHelperForEachMapElem, u(hash), 55, 66, 1)), -rt::kEINVAL);
  destroy_map(hash, allocator);
  a.type = MapType::kQueue;
  a.key_size = 0;
  Map* queue = create_map(a, allocator, 1).value();
  EXPECT_EQ(s(call(kHelperForEachMapElem, u(queue), 55, 66, 0)), -rt::kEINVAL);
  destroy_map(queue, allocator);
}

TEST_F(HelperCallTest, GetStackFlagsSkipDepthAndZeroing) {
  uint64_t buffer[8];
  std::memset(buffer, 0xff, sizeof(buffer));
  EXPECT_EQ(call(kHelperGetStack, 0, u(buffer), sizeof(buffer), 1), 24u)
      << "kernel stack, one frame skipped";
  EXPECT_EQ(buffer[0], 0x2000u);
  EXPECT_EQ(buffer[2], 0x4000u);
  EXPECT_EQ(buffer[3], 0u) << "the rest is zeroed";
  EXPECT_EQ(call(kHelperGetStack, 0, u(buffer), sizeof(buffer), 1u << 8), 16u);
  EXPECT_EQ(buffer[0], 0x401000u);
  std::memset(buffer, 0xff, sizeof(buffer));
  EXPECT_EQ(s(call(kHelperGetStack, 0, u(buffer), sizeof(buffer), (1u << 8) | (1u << 11))),
            -rt::kEINVAL)
      << "build ids are not supported";
  EXPECT_EQ(buffer[0], 0u) << "zeroed on error";
  EXPECT_EQ(s(call(kHelperGetStack, 0, u(buffer), 12, 0)), -rt::kEINVAL);
  EXPECT_EQ(s(call(kHelperGetStack, 0, u(buffer), sizeof(buffer), 1u << 9)), -rt::kEINVAL);
  std::memset(buffer, 0xff, sizeof(buffer));
  EXPECT_EQ(s(call(kHelperGetStack, 0, u(buffer), sizeof(buffer), (1u << 8) | 3)), -rt::kEFAULT)
      << "fewer frames than skipped";
  EXPECT_EQ(buffer[0], 0u);
  std::vector<uint64_t> big(200);
  call(kHelperGetStack, 0, u(big.data()), big.size() * 8, 10);
  EXPECT_EQ(env.last_stack_max, 117u) << "127 frames deep at most, skipped ones included";
}

TEST_F(HelperCallTest, ProbeReadFamily) {
  char out[8];
  std::memset(out, 'z', sizeof(out));
  EXPECT_EQ(call(kHelperProbeReadKernel, u(out), 4, u(at(0))), 0u);
  EXPECT_EQ(std::memcmp(out, "sshd", 4), 0);
  EXPECT_EQ(s(call(kHelperProbeReadUser, u(out), 8, u(at(252)))), -rt::kEFAULT);
  EXPECT_EQ(std::string(out, 8), std::string(8, '\0')) << "zeroed on a fault";
  EXPECT_EQ(call(kHelperProbeRead, u(out), 4, u(at(5))), 0u);
  EXPECT_EQ(std::memcmp(out, "/etc", 4), 0);
  // String forms: length with the NUL, truncation keeps a NUL, size 0 reads nothing.
  EXPECT_EQ(call(kHelperProbeReadUserStr, u(out), sizeof(out), u(at(0))), 5u);
  EXPECT_STREQ(out, "sshd");
  EXPECT_EQ(call(kHelperProbeReadKernelStr, u(out), sizeof(out), u(at(5))), 8u);
  EXPECT_STREQ(out, "/etc/pa");
  EXPECT_EQ(env.string_reads, 2u) << "strings go through Environment::read_string";
  EXPECT_EQ(call(kHelperProbeReadStr, u(out), 0, u(at(5))), 0u);
  std::memset(out, 'z', sizeof(out));
  EXPECT_EQ(s(call(kHelperProbeReadKernelStr, u(out), sizeof(out), 0x10)), -rt::kEFAULT);
  EXPECT_EQ(std::string(out, 8), std::string(8, '\0'));
}

TEST_F(HelperCallTest, TaskTimeCpuAndRandom) {
  EXPECT_EQ(call(kHelperGetCurrentPidTgid), (uint64_t{42} << 32) | 43);
  EXPECT_EQ(call(kHelperGetCurrentUidGid), (uint64_t{7} << 32) | 8);
  EXPECT_EQ(call(kHelperGetSmpProcessorId), 1u);
  EXPECT_EQ(call(kHelperKtimeGetBootNs), 5000u);
  uint64_t t1 = call(kHelperKtimeGetNs), t2 = call(kHelperKtimeGetNs);
  EXPECT_GT(t2, t1);
  EXPECT_NE(call(kHelperGetPrandomU32), call(kHelperGetPrandomU32));
  EXPECT_EQ(call(kHelperGetFuncIp, 0), 0xffffffff81234560ull);
  char comm[16];
  std::memset(comm, 'z', sizeof(comm));
  EXPECT_EQ(call(kHelperGetCurrentComm, u(comm), sizeof(comm)), 0u);
  EXPECT_EQ(std::string(comm, 8), std::string("busybox\0", 8));
  EXPECT_EQ(comm[15], 0);
  std::memset(comm, 'z', sizeof(comm));
  EXPECT_EQ(call(kHelperGetCurrentComm, u(comm), 4), 0u);
  EXPECT_EQ(std::string(comm, 5), std::string("bus\0z", 5)) << "size - 1 characters and a NUL";
  char wide[32];
  std::memset(wide, 'z', sizeof(wide));
  EXPECT_EQ(call(kHelperGetCurrentComm, u(wide), sizeof(wide)), 0u);
  EXPECT_EQ(std::string(wide, 32), std::string("busybox") + std::string(25, '\0'))
      << "padded to the end";
  EXPECT_EQ(s(call(kHelperGetCurrentComm, u(comm), 0)), -rt::kEINVAL);
}

TEST_F(HelperCallTest, MapHelpersReturnLinuxErrors) {
  MapAttributes a;
  a.type = MapType::kHash;
  a.key_size = 4;
  a.value_size = 8;
  a.max_entries = 1;
  Map* hash = create_map(a, allocator, 1).value();
  uint32_t k1 = 1, k2 = 2;
  uint64_t v = 9;
  EXPECT_EQ(call(kHelperMapLookupElem, u(hash), u(&k1)), 0u);
  EXPECT_EQ(s(call(kHelperMapUpdateElem, u(hash), u(&k1), u(&v), kUpdateExist)), -rt::kENOENT);
  EXPECT_EQ(call(kHelperMapUpdateElem, u(hash), u(&k1), u(&v), kUpdateNoExist), 0u);
  EXPECT_EQ(s(call(kHelperMapUpdateElem, u(hash), u(&k1), u(&v), kUpdateNoExist)), -rt::kEEXIST);
  EXPECT_EQ(s(call(kHelperMapUpdateElem, u(hash), u(&k2), u(&v), kUpdateAny)), -rt::kE2BIG);
  EXPECT_EQ(s(call(kHelperMapUpdateElem, u(hash), u(&k1), u(&v), 3)), -rt::kEINVAL);
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(call(kHelperMapLookupElem, u(hash), u(&k1))), 9u);
  EXPECT_EQ(call(kHelperMapLookupPercpuElem, u(hash), u(&k1), 0), 0u) << "not a per-CPU map";
  EXPECT_EQ(call(kHelperMapDeleteElem, u(hash), u(&k1)), 0u);
  EXPECT_EQ(s(call(kHelperMapDeleteElem, u(hash), u(&k1))), -rt::kENOENT);
  EXPECT_EQ(s(call(kHelperMapPushElem, u(hash), u(&v), 0)), -rt::kEINVAL)
      << "push is for queues and stacks";
  destroy_map(hash, allocator);

  a.type = MapType::kPercpuArray;
  a.max_entries = 2;
  Map* per_cpu = create_map(a, allocator, env).value();
  uint32_t index = 1;
  v = 5;
  env.cpu = 0;
  call(kHelperMapUpdateElem, u(per_cpu), u(&index), u(&v), kUpdateAny);
  env.cpu = 1;
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(call(kHelperMapLookupElem, u(per_cpu), u(&index))), 0u);
  EXPECT_EQ(
      *reinterpret_cast<uint64_t*>(call(kHelperMapLookupPercpuElem, u(per_cpu), u(&index), 0)), 5u);
  EXPECT_EQ(call(kHelperMapLookupPercpuElem, u(per_cpu), u(&index), 2), 0u) << "no such CPU";
  EXPECT_EQ(s(call(kHelperMapDeleteElem, u(per_cpu), u(&index))), -rt::kEINVAL);
  destroy_map(per_cpu, allocator);

  a.type = MapType::kStack;
  a.key_size = 0;
  Map* stack = create_map(a, allocator, 1).value();
  uint64_t out = 0;
  EXPECT_EQ(s(call(kHelperMapPopElem, u(stack), u(&out))), -rt::kENOENT);
  EXPECT_EQ(s(call(kHelperMapPeekElem, u(stack), u(&out))), -rt::kENOENT);
  for (uint64_t x : {1, 2}) EXPECT_EQ(call(kHelperMapPushElem, u(stack), u(&x), 0), 0u);
  uint64_t three = 3;
  EXPECT_EQ(s(call(kHelperMapPushElem, u(stack), u(&three), 0)), -rt::kE2BIG);
  EXPECT_EQ(s(call(kHelperMapPushElem, u(stack), u(&three), kUpdateNoExist)), -rt::kEINVAL);
  EXPECT_EQ(call(kHelperMapPushElem, u(stack), u(&three), kUpdateExist), 0u)
      << "BPF_EXIST drops the oldest";
  EXPECT_EQ(call(kHelperMapPeekElem, u(stack), u(&out)), 0u);
  EXPECT_EQ(out, 3u);
  EXPECT_EQ(call(kHelperMapPopElem, u(stack), u(&out)), 0u);
  EXPECT_EQ(call(kHelperMapPopElem, u(stack), u(&out)), 0u);
  EXPECT_EQ(out, 2u);
  EXPECT_EQ(s(call(kHelperMapPopElem, u(stack), u(&out))), -rt::kENOENT) << "1 was dropped";
  destroy_map(stack, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST_F(HelperCallTest, RingbufHelpers) {
  MapAttributes a;
  a.type = MapType::kRingbuf;
  a.max_entries = 4096;
  auto* ring = static_cast<RingbufMap*>(create_map(a, allocator, 1).value());
  EXPECT_EQ(call(kHelperRingbufOutput, u(ring), u("hello"), 5, 0), 0u);
  EXPECT_EQ(s(call(kHelperRingbufOutput, u(ring), u("hello"), 5, 8)), -rt::kEINVAL);
  EXPECT_EQ(s(call(kHelperRingbufOutput, u(ring), u("hello"), 5000, 0)), -rt::kEAGAIN);
  EXPECT_EQ(call(kHelperRingbufQuery, u(ring), kRingbufAvailData), 16u);
  EXPECT_EQ(call(kHelperRingbufQuery, u(ring), kRingbufRingSize), 4096u);
  EXPECT_EQ(call(kHelperRingbufReserve, u(ring), 8, 1), 0u);
  EXPECT_EQ(call(kHelperRingbufReserve, u(ring), 5000, 0), 0u);
  uint64_t first = call(kHelperRingbufReserve, u(ring), 8, 0);
  uint64_t second = call(kHelperRingbufReserve, u(ring), 8, 0);
  ASSERT_NE(first, 0u);
  ASSERT_NE(second, 0u);
  EXPECT_EQ(second - first, 16u);
  EXPECT_EQ(call(kHelperRingbufQuery, u(ring), kRingbufProdPos), 48u);
  EXPECT_EQ(call(kHelperRingbufSubmit, second, 0), 0u);
  EXPECT_EQ(call(kHelperRingbufDiscard, first, 0), 0u);
  uint32_t header;
  std::memcpy(&header, ring->data() + 16, 4);
  EXPECT_EQ(header, 8u | kRingbufDiscardBit);
  std::memcpy(&header, ring->data() + 32, 4);
  EXPECT_EQ(header, 8u);
  destroy_map(ring, allocator);
}

TEST_F(HelperCallTest, PerfEventOutputUsesTheCurrentCpu) {
  MapAttributes a;
  a.type = MapType::kPerfEventArray;
  a.key_size = 4;
  a.value_size = 4;
  a.max_entries = 2;
  auto* array = static_cast<PerfEventArrayMap*>(create_map(a, allocator, 1).value());
  alignas(4096) static uint8_t memory[2][3 * 4096];
  std::memset(memory, 0, sizeof(memory));
  PerfRing ring0(memory[0], 2, 0), ring1(memory[1], 2, 1);
  (void)array->set(0, &ring0);
  (void)array->set(1, &ring1);
  env.cpu = 1;
  EXPECT_EQ(call(kHelperPerfEventOutput, 0, u(array), kBpfFCurrentCpu, u("abcd"), 4), 0u);
  EXPECT_EQ(ring1.head(), 16u) << "8-byte header, u32 size, 4 bytes (already 8-aligned)";
  EXPECT_EQ(ring0.head(), 0u);
  EXPECT_EQ(s(call(kHelperPerfEventOutput, 0, u(array), 0, u("abcd"), 4)), -rt::kEOPNOTSUPP);
  EXPECT_EQ(s(call(kHelperPerfEventOutput, 0, u(array), 2, u("abcd"), 4)), -rt::kE2BIG);
  EXPECT_EQ(s(call(kHelperPerfEventOutput, 0, u(array), 1ull << 40, u("abcd"), 4)), -rt::kEINVAL);
  destroy_map(array, allocator);
}

}  // namespace
