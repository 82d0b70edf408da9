// SPDX-License-Identifier: MIT
// ReaderWakeups (reader_wakeups.hpp): what tells the POSIX server to look again at a ring or at
// trace_pipe. Each object a reader polls or blocks on reports its wakeups to the table's, and a
// wakeup is passed on only once a reader waits.
#include "trace/reader_wakeups.hpp"

#include "ebpf/ringbuf.hpp"
#include "perf_test_support.hpp"
#include "trace/object_mmap.hpp"
#include "trace/trace_buffer.hpp"

namespace trace::testing {
namespace {

constexpr uint32_t kRingbuf = 27;

TEST(ReaderWakeupsAlone, PassedOnOnlyToAWaitingReader) {
  ReaderWakeups wakeups;
  EXPECT_FALSE(wakeups.take_due()) << "nothing happened";
  wakeups.wake();
  EXPECT_FALSE(wakeups.take_due()) << "nobody waits: whoever looks next finds the record";
  wakeups.reader_waits();
  EXPECT_FALSE(wakeups.take_due()) << "a waiting reader, nothing new since";
  wakeups.wake();
  wakeups.wake();
  EXPECT_TRUE(wakeups.take_due()) << "two wakeups, one signal";
  EXPECT_FALSE(wakeups.take_due()) << "told once";
  wakeups.wake();
  EXPECT_FALSE(wakeups.take_due()) << "the reader told has not waited again";
  // A poll and a record in one message (the poll drains kernel samples first): told, in vain
  // at worst.
  wakeups.wake();
  wakeups.reader_waits();
  EXPECT_TRUE(wakeups.take_due());
  // A hang-up reaches a reader whose last poll found something too.
  wakeups.wake_everyone();
  EXPECT_TRUE(wakeups.take_due());
  EXPECT_EQ(wakeups.wakeups(), 6u);
}

class ReaderWakeupsTest : public PerfEventTest {
 protected:
  ebpf::RingbufMap& ring_of(int64_t fd) {
    Handle handle = session_.lookup(static_cast<int32_t>(fd)).value();
    return *static_cast<ebpf::RingbufMap*>(static_cast<MapObject*>(handle.object)->map);
  }
  ReaderWakeups& wakeups() { return objects_.reader_wakeups(); }
};

TEST_F(ReaderWakeupsTest, RingBuffersWakeAsLinuxDoes) {
  int64_t fd = create_map(kRingbuf, 0, 0, 4096);
  ASSERT_GT(fd, 0);
  ebpf::RingbufMap& ring = ring_of(fd);
  uint64_t record = 7;
  ASSERT_EQ(poll_object(session_, static_cast<int32_t>(fd)).value(), 0u);
  wakeups().reader_waits();  // what the service's poll does
  EXPECT_EQ(ring.output(&record, sizeof record, ebpf::kRingbufNoWakeup), 0);
  EXPECT_EQ(wakeups().wakeups(), 0u) << "BPF_RB_NO_WAKEUP";
  EXPECT_FALSE(wakeups().take_due());
  ring.set_consumer_position(ring.producer_position());  // the reader caught up
  EXPECT_EQ(ring.output(&record, sizeof record, 0), 0);
  EXPECT_EQ(wakeups().wakeups(), 1u) << "the record the reader reads next";
  EXPECT_EQ(ring.output(&record, sizeof record, 0), 0);
  EXPECT_EQ(wakeups().wakeups(), 1u) << "the reader has one to read before it";
  EXPECT_EQ(ring.output(&record, sizeof record, ebpf::kRingbufForceWakeup), 0);
  EXPECT_EQ(wakeups().wakeups(), 2u) << "BPF_RB_FORCE_WAKEUP";
  EXPECT_TRUE(wakeups().take_due());
  EXPECT_NE(poll_object(session_, static_cast<int32_t>(fd)).value(), 0u);
}

TEST_F(ReaderWakeupsTest, PerfRingsWakeAndHangUp) {
  int64_t event = open(bpf_output_attr());
  ASSERT_GT(event, 0);
  auto mapping = mmap_object(session_, static_cast<int32_t>(event), 0, 4096 * 2, true, true);
  ASSERT_TRUE(mapping.ok());
  PerfEventRing* ring = event_of(event)->ring;
  ASSERT_NE(ring, nullptr);
  wakeups().reader_waits();
  PerfSampleFields fields;
  fields.sample_type = kPerfSampleRaw;
  uint32_t data = 1;
  ASSERT_EQ(ring->output_sample(fields, &data, sizeof data), 0);  // wakeup_events 1
  EXPECT_EQ(wakeups().wakeups(), 1u);
  EXPECT_TRUE(wakeups().take_due());
  EXPECT_EQ(poll_object(session_, static_cast<int32_t>(event)).value(), 1u) << "EPOLLIN";
  // The last mapping goes: a poll now answers EPOLLHUP, which every reader must see (even one
  // whose last poll found a record).
  EXPECT_TRUE(session_.close(mapping.value().handle).ok());
  EXPECT_TRUE(wakeups().take_due());
  EXPECT_EQ(poll_object(session_, static_cast<int32_t>(event)).value(), 0x10u) << "EPOLLHUP";
}

TEST_F(ReaderWakeupsTest, EveryTraceLineWakes) {
  TraceBuffer buffer(allocator_);
  buffer.set_wakeup(&ReaderWakeups::wake, &wakeups());
  TraceContext context;
  EXPECT_TRUE(buffer.record(context, "one", 3));
  EXPECT_TRUE(buffer.record_printk(context, "two\n", 4));
  EXPECT_EQ(wakeups().wakeups(), 2u);
  buffer.set_tracing_on(false);
  EXPECT_FALSE(buffer.record(context, "off", 3));
  EXPECT_EQ(wakeups().wakeups(), 2u) << "nothing recorded, nothing to read";
}

}  // namespace
}  // namespace trace::testing
