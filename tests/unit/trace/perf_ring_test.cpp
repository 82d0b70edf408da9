// SPDX-License-Identifier: MIT
// Perf rings: mmap rules, the header page, bpf_perf_event_output records, lost records, wakeups.
#include "perf_test_support.hpp"

namespace trace::testing {
namespace {

constexpr uint32_t kProgKprobe = 2;
constexpr uint32_t kPerfEventArray = 4;

uint64_t u64_at(const uint8_t* memory, uint64_t offset) {
  uint64_t value;
  std::memcpy(&value, memory + offset, 8);
  return value;
}
uint32_t u32_at(const uint8_t* memory, uint64_t offset) {
  uint32_t value;
  std::memcpy(&value, memory + offset, 4);
  return value;
}

class PerfRingTest : public PerfEventTest {
 protected:
  rt::Result<PerfEventMapping> mmap(int64_t fd, uint64_t length, uint64_t offset = 0,
                                    bool shared = true) {
    auto mapping = perf_event_mmap(session_, static_cast<int32_t>(fd), length, offset, shared);
    if (mapping.ok()) mappings_.push_back(*mapping);
    return mapping;
  }
  int mmap_errno(int64_t fd, uint64_t length, uint64_t offset = 0, bool shared = true) {
    auto mapping = mmap(fd, length, offset, shared);
    return mapping.ok() ? 0 : mapping.error().code;
  }
  // A kprobe program that writes `size` bytes of its stack (0x11, 0x22, ...) with
  // bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, data, size) and returns its result.
  int64_t load_output(int64_t map, uint32_t size, uint64_t flags = 0xffffffffull) {
    std::string text = "mov %r6, %r1\n";
    for (uint32_t i = 0; i < 16; ++i)
      text += "stb [%r10-" + std::to_string(16 - i) + "], " + std::to_string(0x11 * (i + 1)) + "\n";
    text += "mov %r1, %r6\nlddw %r2, map:" + std::to_string(map) + "\nlddw %r3, " +
            std::to_string(flags) + "\nmov %r4, %r10\nadd %r4, -16\nmov %r5, " +
            std::to_string(size) + "\ncall 25\nexit";
    return load(assemble(text), kProgKprobe);
  }
  // A perf event array with a BPF_OUTPUT event on CPU 0 in slot 0, and a kprobe running
  // `program` into it; returns the kprobe's probe number.
  struct Pipeline {
    int64_t array, event, kprobe;
    uint32_t probe;
  };
  Pipeline pipeline(const PerfEventAttr& output_attr, uint32_t size) {
    Pipeline p;
    p.array = create_map(kPerfEventArray, 4, 4, 2);
    p.event = open(output_attr);
    uint32_t key = 0, value = static_cast<uint32_t>(p.event);
    EXPECT_EQ(elem(kMapUpdateElem, p.array, &key, &value), 0);
    int64_t program = load_output(p.array, size);
    EXPECT_GT(program, 0);
    p.kprobe = open_kprobe("do_unlinkat");
    EXPECT_EQ(ioctl(p.kprobe, kPerfEventIocSetBpf, program), 0);
    p.probe = probe_of(p.kprobe);
    return p;
  }
  int64_t run(uint32_t probe) {
    uint8_t regs[kPtRegsSize] = {};
    hit(probe, regs, sizeof(regs));
    return 0;
  }
};

TEST_F(PerfRingTest, MmapRules) {
  int64_t fd = open(bpf_output_attr());
  EXPECT_EQ(mmap_errno(fd, 4 * 4096), rt::kEINVAL) << "3 data pages";
  EXPECT_EQ(mmap_errno(fd, 7 * 4096), rt::kEINVAL) << "6 data pages";
  EXPECT_EQ(mmap_errno(fd, 9 * 4096, 0, false), rt::kEINVAL) << "private";
  EXPECT_EQ(mmap_errno(fd, 9 * 4096, 1), rt::kEINVAL) << "the AUX area";
  EXPECT_EQ(mmap_errno(fd, 0), rt::kEINVAL);
  int64_t map = counter_map();
  EXPECT_EQ(mmap_errno(map, 9 * 4096), rt::kENODEV);
  EXPECT_EQ(mmap_errno(99, 9 * 4096), rt::kEBADF);
  // libbpf's perf buffer: 1 + 8 pages (36,864 bytes).
  auto mapping = mmap(fd, 36864);
  ASSERT_TRUE(mapping.ok());
  EXPECT_EQ(mapping->data_pages, 8u);
  EXPECT_EQ(mapping->size, 36864u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(mapping->memory) % 4096, 0u);
  EXPECT_EQ(u64_at(mapping->memory, kPerfDataOffsetOffset), 4096u);
  EXPECT_EQ(u64_at(mapping->memory, kPerfDataSizeOffset), 8u * 4096);
  EXPECT_EQ(u32_at(mapping->memory, kPerfMmapPageSize), 96u);
  EXPECT_EQ(u64_at(mapping->memory, kPerfMmapPageCapabilities), kPerfCapBit0IsDeprecated);
  EXPECT_EQ(u64_at(mapping->memory, kPerfDataHeadOffset), 0u);
  EXPECT_EQ(mmap_errno(fd, 5 * 4096), rt::kEINVAL) << "another size than the ring's";
  auto again = mmap(fd, 36864 - 100);  // rounded up to pages
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->memory, mapping->memory);
  // The mapping keeps the event: closing the fd leaves the ring.
  EXPECT_TRUE(session_.close(static_cast<int32_t>(fd)).ok());
  EXPECT_EQ(u64_at(mapping->memory, kPerfDataSizeOffset), 8u * 4096);
  PerfEventAttr inherit = bpf_output_attr();
  inherit.flags = kPerfAttrInherit;
  int64_t inherited = open(inherit, 42, -1);
  EXPECT_EQ(mmap_errno(inherited, 2 * 4096), rt::kEINVAL) << "inherited and on every CPU";
  int64_t header_only = open(bpf_output_attr());
  EXPECT_EQ(mmap_errno(header_only, 4096), 0) << "the header page alone";
}

TEST_F(PerfRingTest, ArrayUpdatesTakePerfEvents) {
  int64_t array = create_map(kPerfEventArray, 4, 4, 2);
  ASSERT_GT(array, 0);
  int64_t event = open(bpf_output_attr());
  int64_t map = counter_map();
  uint32_t key = 0, value = static_cast<uint32_t>(event);
  EXPECT_EQ(elem(kMapUpdateElem, array, &key, &value, 1), -rt::kEINVAL) << "BPF_ANY only";
  key = 2;
  EXPECT_EQ(elem(kMapUpdateElem, array, &key, &value), -rt::kE2BIG);
  key = 0;
  value = static_cast<uint32_t>(map);
  EXPECT_EQ(elem(kMapUpdateElem, array, &key, &value), -rt::kEBADF) << "a map is no perf event";
  value = 99;
  EXPECT_EQ(elem(kMapUpdateElem, array, &key, &value), -rt::kEBADF);
  PerfEventAttr inherit = bpf_output_attr();
  inherit.flags = kPerfAttrInherit;
  value = static_cast<uint32_t>(open(inherit));
  EXPECT_EQ(elem(kMapUpdateElem, array, &key, &value), -rt::kEOPNOTSUPP);
  value = static_cast<uint32_t>(event);
  EXPECT_EQ(elem(kMapUpdateElem, array, &key, &value), 0);
  EXPECT_EQ(event_of(event)->references, 2u) << "the slot holds the event";
  EXPECT_EQ(elem(kMapUpdateElem, array, &key, &value), 0);
  EXPECT_EQ(event_of(event)->references, 2u) << "replacing drops the old reference";
  uint32_t out = 0;
  EXPECT_EQ(elem(kMapLookupElem, array, &key, &out), -rt::kENOTSUPP);
  EXPECT_EQ(elem(kMapDeleteElem, array, &key, nullptr), 0);
  EXPECT_EQ(event_of(event)->references, 1u);
  EXPECT_EQ(elem(kMapDeleteElem, array, &key, nullptr), -rt::kENOENT);
  EXPECT_EQ(elem(kMapUpdateElem, array, &key, &value), 0);
  // Closing the array's last handle empties it.
  EXPECT_TRUE(session_.close(static_cast<int32_t>(array)).ok());
  EXPECT_EQ(event_of(event)->references, 1u);
}

TEST_F(PerfRingTest, OutputWritesRawSamples) {
  Pipeline p = pipeline(bpf_output_attr(), 5);
  auto mapping = mmap(p.event, 2 * 4096);
  ASSERT_TRUE(mapping.ok());
  PerfEventRing* ring = event_of(p.event)->ring;
  run(p.probe);
  // PERF_RECORD_SAMPLE: header (8), u32 size, 5 bytes, padded so size + bytes end on 8.
  const uint8_t* data = mapping->memory + 4096;
  EXPECT_EQ(ring->head(), 24u);
  EXPECT_EQ(u32_at(data, 0), kPerfRecordSample);
  EXPECT_EQ(u32_at(data, 4) >> 16, 24u) << "header.size";
  EXPECT_EQ(u32_at(data, 8), 12u) << "raw size: 5 bytes and 7 of padding";
  EXPECT_EQ(data[12], 0x11);
  EXPECT_EQ(data[16], 0x55);
  EXPECT_EQ(ring->wakeups(), 1u) << "wakeup_events 1";
}

TEST_F(PerfRingTest, SampleSizesArePaddedAsLinux) {
  for (uint32_t size : {1u, 4u, 12u, 16u}) {
    PerfEventAttr attr = bpf_output_attr();
    auto ring = PerfEventRing::create(allocator_, 1, false, 1);
    ASSERT_TRUE(ring.ok());
    PerfSampleFields fields;
    fields.sample_type = kPerfSampleRaw;
    uint8_t bytes[16] = {};
    EXPECT_EQ((*ring)->output_sample(fields, bytes, size), 0);
    uint32_t raw = ((size + 4 + 7) & ~7u);
    EXPECT_EQ((*ring)->head(), 8u + raw) << size;
    EXPECT_EQ(u32_at((*ring)->memory() + 4096, 8), raw - 4) << size;
    (*ring)->destroy(allocator_);
    (void)attr;
  }
}

TEST_F(PerfRingTest, OtherSampleFieldsPrecedeRaw) {
  auto ring = PerfEventRing::create(allocator_, 1, false, 1);
  ASSERT_TRUE(ring.ok());
  PerfSampleFields fields;
  fields.sample_type = kPerfSampleRaw | kPerfSampleTid | kPerfSampleTime | (1u << 7);
  fields.pid = 42;
  fields.tid = 43;
  fields.time = 1000;
  fields.cpu = 1;
  uint32_t payload = 0xabcd;
  EXPECT_EQ((*ring)->output_sample(fields, &payload, 4), 0);
  const uint8_t* data = (*ring)->memory() + 4096;
  EXPECT_EQ(u32_at(data, 8), 42u);
  EXPECT_EQ(u32_at(data, 12), 43u);
  EXPECT_EQ(u64_at(data, 16), 1000u);
  EXPECT_EQ(u32_at(data, 24), 1u);
  EXPECT_EQ(u32_at(data, 32), 4u);
  EXPECT_EQ(u32_at(data, 36), 0xabcdu);
  EXPECT_EQ((*ring)->head(), 40u);
  (*ring)->destroy(allocator_);
}

TEST_F(PerfRingTest, AFullRingCountsLostAndReportsItWithTheNextRecord) {
  auto ring = PerfEventRing::create(allocator_, 1, false, 1);
  ASSERT_TRUE(ring.ok());
  PerfSampleFields fields;
  fields.sample_type = kPerfSampleRaw;
  fields.event_id = 9;
  std::vector<uint8_t> big(4084, 0);  // 8 + 4 + 4084 = 4096: fills the ring exactly
  EXPECT_EQ((*ring)->output_sample(fields, big.data(), 4084), 0);
  uint8_t small[4] = {};
  EXPECT_EQ((*ring)->output_sample(fields, small, 4), -rt::kENOSPC);
  EXPECT_EQ((*ring)->output_sample(fields, small, 4), -rt::kENOSPC);
  EXPECT_EQ((*ring)->lost_pending(), 2u);
  // The reader consumes everything; the next record comes after a LOST record.
  uint64_t tail = (*ring)->head();
  std::memcpy((*ring)->memory() + kPerfDataTailOffset, &tail, 8);
  EXPECT_EQ((*ring)->output_sample(fields, small, 4), 0);
  const uint8_t* data = (*ring)->memory() + 4096;
  uint64_t at = tail % 4096;
  EXPECT_EQ(u32_at(data, at), kPerfRecordLost);
  EXPECT_EQ(u32_at(data, at + 4) >> 16, 24u);
  EXPECT_EQ(u64_at(data, at + 8), 9u) << "the event's id";
  EXPECT_EQ(u64_at(data, at + 16), 2u) << "lost";
  EXPECT_EQ(u32_at(data, at + 24), kPerfRecordSample);
  EXPECT_EQ((*ring)->lost_pending(), 0u);
  EXPECT_EQ((*ring)->lost_total(), 2u);
  // A record that does not fit with the pending LOST record is lost too.
  (*ring)->destroy(allocator_);
  ring = PerfEventRing::create(allocator_, 1, false, 1);
  EXPECT_EQ((*ring)->output_sample(fields, big.data(), 4084), 0);
  EXPECT_EQ((*ring)->output_sample(fields, small, 4), -rt::kENOSPC);
  tail = 16;  // 16 bytes free: the sample (16) would fit, sample and LOST (40) do not
  std::memcpy((*ring)->memory() + kPerfDataTailOffset, &tail, 8);
  EXPECT_EQ((*ring)->output_sample(fields, small, 4), -rt::kENOSPC);
  EXPECT_EQ((*ring)->lost_pending(), 2u);
  (*ring)->destroy(allocator_);
}

TEST_F(PerfRingTest, RecordsWrapAroundTheDataArea) {
  auto ring = PerfEventRing::create(allocator_, 1, false, 0);
  ASSERT_TRUE(ring.ok());
  PerfSampleFields fields;
  fields.sample_type = kPerfSampleRaw;
  std::vector<uint8_t> filler(4068, 0);  // 4080 bytes
  EXPECT_EQ((*ring)->output_sample(fields, filler.data(), 4068), 0);
  uint64_t tail = 4080;
  std::memcpy((*ring)->memory() + kPerfDataTailOffset, &tail, 8);
  uint8_t bytes[20];
  for (uint8_t i = 0; i < 20; ++i) bytes[i] = static_cast<uint8_t>(0xa0 + i);
  EXPECT_EQ((*ring)->output_sample(fields, bytes, 20), 0);
  const uint8_t* data = (*ring)->memory() + 4096;
  EXPECT_EQ(u32_at(data, 4080), kPerfRecordSample);
  EXPECT_EQ(data[4088], 20u) << "raw size";
  EXPECT_EQ(data[4092], 0xa0);
  EXPECT_EQ(data[0], 0xa4) << "the bytes continue at the start";
  EXPECT_EQ((*ring)->head(), 4080u + 32);
  EXPECT_EQ((*ring)->wakeups(), 2u) << "wakeup_events 0: one per half ring written";
  (*ring)->destroy(allocator_);
}

TEST_F(PerfRingTest, WakeupsFollowWakeupEventsOrTheWatermark) {
  PerfSampleFields fields;
  fields.sample_type = kPerfSampleRaw;
  uint8_t bytes[4] = {};
  auto every_second = PerfEventRing::create(allocator_, 2, false, 2);
  ASSERT_TRUE(every_second.ok());
  int wakeups = 0;
  (*every_second)->set_wakeup([](void* cookie) { ++*static_cast<int*>(cookie); }, &wakeups);
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*every_second)->output_sample(fields, bytes, 4), 0);
  EXPECT_EQ((*every_second)->wakeups(), 2u);
  EXPECT_EQ(wakeups, 2);
  (*every_second)->destroy(allocator_);
  // Watermark mode: wake when more than wakeup_watermark bytes are unread.
  auto watermark = PerfEventRing::create(allocator_, 2, true, 64);
  ASSERT_TRUE(watermark.ok());
  EXPECT_EQ((*watermark)->watermark(), 64u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*watermark)->output_sample(fields, bytes, 4), 0);
  EXPECT_EQ((*watermark)->wakeups(), 0u) << "64 bytes are not more than 64";
  EXPECT_EQ((*watermark)->output_sample(fields, bytes, 4), 0);
  EXPECT_EQ((*watermark)->wakeups(), 1u);
  (*watermark)->destroy(allocator_);
  auto capped = PerfEventRing::create(allocator_, 1, true, 1u << 20);
  EXPECT_EQ((*capped)->watermark(), 4096u) << "capped at the data size";
  (*capped)->destroy(allocator_);
}

TEST_F(PerfRingTest, OutputChecksTheEvent) {
  // Direct calls: the event's checks in Linux's order.
  int64_t clock = open(software_attr(kPerfCountSwCpuClock));
  uint8_t bytes[4] = {};
  EXPECT_EQ(event_of(clock)->output_from(0, bytes, 4), -rt::kEINVAL) << "not BPF_OUTPUT";
  PerfEventAttr disabled = bpf_output_attr();
  disabled.flags = kPerfAttrDisabled;
  int64_t off = open(disabled);
  EXPECT_EQ(event_of(off)->output_from(0, bytes, 4), -rt::kEOPNOTSUPP) << "not on a CPU";
  int64_t on_cpu1 = open(bpf_output_attr(), -1, 1);
  EXPECT_EQ(event_of(on_cpu1)->output_from(0, bytes, 4), -rt::kEOPNOTSUPP) << "another CPU";
  int64_t other_task = open(bpf_output_attr(), 7, -1);
  EXPECT_EQ(event_of(other_task)->output_from(0, bytes, 4), -rt::kEOPNOTSUPP)
      << "its task is not running";
  int64_t this_task = open(bpf_output_attr(), 0, -1);
  EXPECT_EQ(event_of(this_task)->output_from(1, bytes, 4), -rt::kENOSPC) << "runs: no ring";
  int64_t unmapped = open(bpf_output_attr());
  EXPECT_EQ(event_of(unmapped)->output_from(0, bytes, 4), -rt::kENOSPC) << "no ring";
  ASSERT_TRUE(mmap(unmapped, 2 * 4096).ok());
  EXPECT_EQ(event_of(unmapped)->output_from(0, bytes, 4), 0);
  EXPECT_EQ(ioctl(unmapped, kPerfEventIocPauseOutput, 1), 0);
  EXPECT_EQ(event_of(unmapped)->output_from(0, bytes, 4), -rt::kENOSPC) << "paused";
  EXPECT_EQ(event_of(unmapped)->ring->lost_total(), 1u);
  EXPECT_EQ(ioctl(unmapped, kPerfEventIocPauseOutput, 0), 0);
  EXPECT_EQ(event_of(unmapped)->output_from(0, bytes, 4), 0);
}

TEST_F(PerfRingTest, LostSamplesInRead) {
  PerfEventAttr attr = bpf_output_attr();
  attr.read_format = kPerfFormatLost;
  int64_t fd = open(attr);
  ASSERT_TRUE(mmap(fd, 2 * 4096).ok());
  ASSERT_EQ(ioctl(fd, kPerfEventIocPauseOutput, 1), 0);
  uint8_t bytes[4] = {};
  EXPECT_EQ(event_of(fd)->output_from(0, bytes, 4), -rt::kENOSPC);
  uint64_t values[2] = {};
  memory_.allow(values, sizeof(values));
  EXPECT_EQ(read(fd, values, sizeof(values)), 16);
  EXPECT_EQ(values[1], 1u);
}

}  // namespace
}  // namespace trace::testing

namespace trace::testing {
namespace {

// strace_perfbuf's calls in its order, with Linux's answers, then a reader's view of the ring.
TEST_F(PerfRingTest, ReplaysLibbpfsPerfBuffer) {
  int64_t array = create_map(kPerfEventArray, 4, 4, 1, 0, "events");
  ASSERT_GT(array, 0);
  int64_t program = load_output(array, 16);
  ASSERT_GT(program, 0);
  int64_t kprobe = open_kprobe("do_unlinkat");
  ASSERT_GT(kprobe, 0);
  int64_t probe_program = load(assemble("mov %r0, 0\nexit"), 5);
  EXPECT_EQ(link_create(probe_program, -1), -rt::kEBADF);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(probe_program)).ok());
  int64_t link = link_create(program, kprobe);
  ASSERT_GT(link, 0);
  EXPECT_EQ(ioctl(kprobe, kPerfEventIocEnable), 0);
  int64_t output = open(bpf_output_attr());
  ASSERT_GT(output, 0);
  EXPECT_EQ(perf_event_poll(session_, static_cast<int32_t>(output)).value(), 0x10u)
      << "no ring yet: EPOLLHUP";
  auto mapping = mmap(output, 36864);
  ASSERT_TRUE(mapping.ok());
  EXPECT_EQ(ioctl(output, kPerfEventIocEnable), 0);
  uint32_t key = 0, value = static_cast<uint32_t>(output);
  EXPECT_EQ(elem(kMapUpdateElem, array, &key, &value), 0);
  EXPECT_EQ(perf_event_poll(session_, static_cast<int32_t>(output)).value(), 0u);
  for (int i = 0; i < 3; ++i) run(probe_of(kprobe));
  EXPECT_EQ(perf_event_poll(session_, static_cast<int32_t>(output)).value(), 1u) << "EPOLLIN";
  EXPECT_EQ(perf_event_poll(session_, static_cast<int32_t>(output)).value(), 0u);
  // The reader: three 32-byte samples (8 header, 4 size, 16 bytes, 4 padding).
  uint64_t head = u64_at(mapping->memory, kPerfDataHeadOffset);
  EXPECT_EQ(head, 96u);
  const uint8_t* data = mapping->memory + 4096;
  for (uint64_t at = 0; at < head; at += 32) {
    EXPECT_EQ(u32_at(data, at), kPerfRecordSample);
    EXPECT_EQ(u32_at(data, at + 8), 20u);
    EXPECT_EQ(data[at + 12], 0x11);
    EXPECT_EQ(data[at + 27], 0x110 & 0xff);
  }
  // Teardown as recorded.
  EXPECT_EQ(ioctl(kprobe, kPerfEventIocDisable), 0);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(kprobe)).ok());
  EXPECT_TRUE(session_.close(static_cast<int32_t>(link)).ok());
  EXPECT_TRUE(hooks_.armed.empty());
  EXPECT_EQ(elem(kMapDeleteElem, array, &key, nullptr), 0);
  perf_event_munmap(objects_, mapping->event);
  mappings_.clear();
  EXPECT_EQ(ioctl(output, kPerfEventIocDisable), 0);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(output)).ok());
  EXPECT_TRUE(session_.close(static_cast<int32_t>(array)).ok());
  EXPECT_TRUE(session_.close(static_cast<int32_t>(program)).ok());
  EXPECT_EQ(session_.open_count(), 0u);
}

}  // namespace
}  // namespace trace::testing

namespace trace::testing {
namespace {

// perf record -e syscalls:sys_enter_openat: each hit's record as a raw sample in the ring.
TEST_F(PerfRingTest, TracepointEventsSampleTheirRecords) {
  PerfEventAttr attr = tracepoint_attr(FakeProbeHooks::kOpenatId);
  attr.sample_period = 1;
  attr.sample_type = kPerfSampleRaw | kPerfSampleTid;
  int64_t every = open(attr);
  attr.sample_period = 3;
  int64_t third = open(attr);
  ASSERT_TRUE(mmap(every, 2 * 4096).ok());
  ASSERT_TRUE(mmap(third, 2 * 4096).ok());
  uint8_t record[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  for (int i = 0; i < 4; ++i) hit(probe_of(every), record, sizeof(record), 42);
  PerfEventRing* ring = event_of(every)->ring;
  // header 8, pid/tid 8, raw size 4, 12 bytes, no padding (4 + 12 ends on 8).
  EXPECT_EQ(ring->head(), 4u * 32);
  const uint8_t* data = ring->memory() + 4096;
  EXPECT_EQ(u32_at(data, 12), 42u) << "tid";
  EXPECT_EQ(u32_at(data, 16), 12u) << "raw size";
  EXPECT_EQ(data[20], 1);
  EXPECT_EQ(data[31], 12);
  EXPECT_EQ(event_of(third)->ring->head(), 32u) << "one sample per 3 hits";
}

// perf record -g: a hit's callchain (its length, PERF_CONTEXT_KERNEL and the kernel stack, then
// PERF_CONTEXT_USER and the user stack) between the fields before it and RAW, as Linux's
// perf_output_sample; exclude_callchain_user and sample_max_stack bound it.
TEST_F(PerfRingTest, HitSamplesCarryTheirCallchain) {
  environment_.kernel_stack = {0xffffffff81001234ull, 0xffffffff81005678ull};
  environment_.user_stack = {0x401000};
  PerfEventAttr attr = tracepoint_attr(FakeProbeHooks::kForkId);
  attr.sample_period = 1;
  attr.sample_type = kPerfSampleCallchain | kPerfSampleRaw;
  int64_t whole = open(attr);
  attr.flags |= kPerfAttrExcludeCallchainUser;
  int64_t kernel_only = open(attr);
  attr.flags &= ~kPerfAttrExcludeCallchainUser;
  attr.sample_max_stack = 2;
  int64_t short_chain = open(attr);
  for (int64_t fd : {whole, kernel_only, short_chain}) ASSERT_TRUE(mmap(fd, 2 * 4096).ok());
  uint8_t record[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  hit(probe_of(whole), record, sizeof(record), 42);
  const uint8_t* data = event_of(whole)->ring->memory() + 4096;
  // header 8, nr 8, five entries 40, raw size 4 and 12 bytes.
  EXPECT_EQ(event_of(whole)->ring->head(), 72u);
  EXPECT_EQ(u64_at(data, 8), 5u);
  EXPECT_EQ(u64_at(data, 16), static_cast<uint64_t>(-128)) << "PERF_CONTEXT_KERNEL";
  EXPECT_EQ(u64_at(data, 24), 0xffffffff81001234ull);
  EXPECT_EQ(u64_at(data, 32), 0xffffffff81005678ull);
  EXPECT_EQ(u64_at(data, 40), static_cast<uint64_t>(-512)) << "PERF_CONTEXT_USER";
  EXPECT_EQ(u64_at(data, 48), 0x401000u);
  EXPECT_EQ(u32_at(data, 56), 12u) << "raw size after the chain";
  EXPECT_EQ(data[60], 1);
  const uint8_t* kernel = event_of(kernel_only)->ring->memory() + 4096;
  EXPECT_EQ(u64_at(kernel, 8), 3u) << "exclude_callchain_user";
  EXPECT_EQ(u64_at(kernel, 32), 0xffffffff81005678ull);
  EXPECT_EQ(u32_at(kernel, 40), 12u);
  const uint8_t* bounded = event_of(short_chain)->ring->memory() + 4096;
  EXPECT_EQ(u64_at(bounded, 8), 3u) << "sample_max_stack 2: the kernel's two ips, no user part";
  // A syscalls:sys_enter_* sample carries the call's user registers (Linux's
  // perf_syscall_enter): its chain is the user part alone.
  PerfEventAttr syscall = tracepoint_attr(FakeProbeHooks::kOpenatId);
  syscall.sample_period = 1;
  syscall.sample_type = kPerfSampleCallchain;
  int64_t enter = open(syscall);
  ASSERT_TRUE(mmap(enter, 2 * 4096).ok());
  uint8_t openat[64] = {};
  hit(probe_of(enter), openat, sizeof(openat), 42);
  const uint8_t* user = event_of(enter)->ring->memory() + 4096;
  EXPECT_EQ(u64_at(user, 8), 2u);
  EXPECT_EQ(u64_at(user, 16), static_cast<uint64_t>(-512));
  EXPECT_EQ(u64_at(user, 24), 0x401000u);
  // No stack to walk: an empty chain, still a sample perf can parse.
  environment_.kernel_stack.clear();
  environment_.user_stack.clear();
  hit(probe_of(whole), record, sizeof(record), 42);
  EXPECT_EQ(event_of(whole)->ring->head(), 72u + 8 + 8 + 16);
  EXPECT_EQ(u64_at(data, 72 + 8), 0u);
}

// A tracepoint sample's ip and cpumode are its registers': a kernel tracepoint's the first
// kernel frame (PERF_RECORD_MISC_KERNEL), a syscalls one's the call's user ip (MISC_USER), as
// Linux's perf_syscall_enter passes the call's user registers.
TEST_F(PerfRingTest, TracepointSamplesCarryTheirIpAndMode) {
  environment_.kernel_stack = {0xffffffff81001234ull, 0xffffffff81005678ull};
  environment_.user_stack = {0x401000, 0x402000};
  PerfEventAttr attr = tracepoint_attr(FakeProbeHooks::kForkId);
  attr.sample_period = 1;
  attr.sample_type = kPerfSampleIp;
  int64_t fork = open(attr);
  attr = tracepoint_attr(FakeProbeHooks::kOpenatId);
  attr.sample_period = 1;
  attr.sample_type = kPerfSampleIp;
  int64_t openat = open(attr);
  for (int64_t fd : {fork, openat}) ASSERT_TRUE(mmap(fd, 2 * 4096).ok());
  uint8_t record[64] = {};
  hit(probe_of(fork), record, 48, 42);
  hit(probe_of(openat), record, 64, 42);
  const uint8_t* kernel = event_of(fork)->ring->memory() + 4096;
  EXPECT_EQ(kernel[4], 1) << "PERF_RECORD_MISC_KERNEL";
  EXPECT_EQ(u64_at(kernel, 8), 0xffffffff81001234ull);
  const uint8_t* user = event_of(openat)->ring->memory() + 4096;
  EXPECT_EQ(user[4], 2) << "PERF_RECORD_MISC_USER";
  EXPECT_EQ(u64_at(user, 8), 0x401000u);
  // Nothing to walk: ip 0.
  environment_.kernel_stack.clear();
  hit(probe_of(fork), record, 48, 42);
  EXPECT_EQ(u64_at(kernel, 16 + 8), 0u);
}

}  // namespace
}  // namespace trace::testing
