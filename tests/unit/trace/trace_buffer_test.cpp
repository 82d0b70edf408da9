// SPDX-License-Identifier: MIT
// TraceBuffer: Linux's trace and trace_pipe lines, the ring's budget, clearing and tracing_on.
#include "trace/trace_buffer.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tracefs_test_support.hpp"

namespace trace::testing {
namespace {

using test_support::MallocAllocator;

// The context of a bpf_trace_printk from a kprobe program on Linux 6.1: preemption depth 2,
// migration disabled once.
constexpr uint8_t kKprobePreempt = 0x12;

TEST(TraceBufferTest, PipeLinesMatchLinuxByteForByte) {
  std::string reference = reference_file("trace_pipe.txt");
  if (reference.empty()) GTEST_SKIP() << "no Linux 6.1 reference data";
  MallocAllocator allocator;
  {
    TraceBuffer buffer(allocator);
    struct Entry {
      const char* comm;
      int pid;
      uint64_t ns;
      uint8_t flags;
      const char* message;
    } entries[] = {
        {"rm", 114, 2985335000, kTraceNeedResched | kTracePreemptResched,
         "KPROBE ENTRY pid = 114, filename = /tmp/file_one\n"},
        {"rm", 114, 2989996000, 0, "KPROBE EXIT: pid = 114, ret = 0\n"},
        {"rm", 115, 2992611000, 0, "KPROBE ENTRY pid = 115, filename = /tmp/file_two\n"},
        {"rm", 115, 2992893000, 0, "KPROBE EXIT: pid = 115, ret = 0\n"},
        {"rm", 116, 2994705000, 0, "KPROBE ENTRY pid = 116, filename = /tmp/file_three\n"},
        {"rm", 116, 2995068000, 0, "KPROBE EXIT: pid = 116, ret = 0\n"},
        {"unlink", 117, 2997385000, 0, "KPROBE ENTRY pid = 117, filename = /tmp/file_missing\n"},
        {"unlink", 117, 2997639000, 0, "KPROBE EXIT: pid = 117, ret = 4294967294\n"},
    };
    for (const Entry& entry : entries) {
      ASSERT_TRUE(buffer.record_printk(
          context(entry.comm, entry.pid, entry.ns, entry.flags, kKprobePreempt), entry.message,
          std::strlen(entry.message)));
    }
    TextBuffer out(allocator);
    EXPECT_EQ(buffer.consume_pipe(out, 1 << 20), out.size());
    size_t start = reference.find("# trace_pipe:\n") + 14;
    size_t end = reference.find("# loader exit status");
    EXPECT_EQ(text_of(out), reference.substr(start, end - start));
    EXPECT_TRUE(buffer.pipe_empty());
    EXPECT_EQ(buffer.entries(), 0u);
  }
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(TraceBufferTest, TraceFileHeaderAndLinesMatchLinux) {
  std::string session = reference_file("tracefs.txt");
  if (session.empty()) GTEST_SKIP() << "no Linux 6.1 reference data";
  MallocAllocator allocator;
  TraceBuffer buffer(allocator);
  const char* lines[] = {
      "sys_mkdirat(dfd: ffffff9c, pathname: 7fffca5e0f79, mode: 1ed)",
      "sys_mkdirat(dfd: ffffff9c, pathname: 7ffd66001f79, mode: 1c0)",
      "sys_mkdir(pathname: 52eed00, mode: 1ff)",
      "sys_mkdir(pathname: 52eedb0, mode: 1ff)",
  };
  ASSERT_TRUE(
      buffer.record(context("mkdirat", 333, 43927797000, 0, 1), lines[0], std::strlen(lines[0])));
  ASSERT_TRUE(
      buffer.record(context("mkdirat", 334, 43934139000, 0, 1), lines[1], std::strlen(lines[1])));
  ASSERT_TRUE(
      buffer.record(context("mkdir", 335, 43936889000, 0, 1), lines[2], std::strlen(lines[2])));
  ASSERT_TRUE(
      buffer.record(context("mkdir", 336, 43939669000, 0, 1), lines[3], std::strlen(lines[3])));
  TextBuffer out(allocator);
  ASSERT_TRUE(buffer.render_trace(out).ok());
  EXPECT_EQ(text_of(out), reference_output(session, "cat trace"));
  // Reading `trace` consumes nothing.
  TextBuffer again(allocator);
  ASSERT_TRUE(buffer.render_trace(again).ok());
  EXPECT_EQ(text_of(again), text_of(out));
}

TEST(TraceBufferTest, EmptyTraceShowsZeroEntries) {
  std::string session = reference_file("tracefs.txt");
  if (session.empty()) GTEST_SKIP() << "no Linux 6.1 reference data";
  MallocAllocator allocator;
  TraceBuffer buffer(allocator);
  TextBuffer out(allocator);
  ASSERT_TRUE(buffer.render_trace(out).ok());
  // The fourth `cat trace` of the session printed an empty buffer.
  EXPECT_EQ(text_of(out), reference_output(session, "cat trace", 2));
}

TEST(TraceBufferTest, FlagColumns) {
  MallocAllocator allocator;
  TextBuffer out(allocator);
  TraceBuffer::render_line(out, context("task", 1234, 123456789000, kTraceIrqsOff, 0x03), "x", 1);
  EXPECT_EQ(text_of(out), "            task-1234    [000] d..3.   123.456789: x\n");
  out.clear();
  TraceBuffer::render_line(
      out, context("", 7, 5, kTraceIrqsOff | kTraceBhOff | kTraceHardirq | kTraceSoftirq, 0xf1, 12),
      "y", 1);
  EXPECT_EQ(text_of(out), "           <...>-7       [012] D.H1f     0.000000: y\n");
  out.clear();
  TraceBuffer::render_line(out, context("swapper/0", 0, 0, kTraceNeedResched | kTraceNmi), "z", 1);
  EXPECT_EQ(text_of(out), "          <idle>-0       [000] .nz..     0.000000: z\n");
}

TEST(TraceBufferTest, PipeConsumesAndCutsLongLines) {
  MallocAllocator allocator;
  TraceBuffer buffer(allocator);
  ASSERT_TRUE(buffer.record_printk(context("a", 1, 0), "one", 3));
  ASSERT_TRUE(buffer.record_printk(context("a", 1, 0), "two", 3));
  std::string line1 = "               a-1       [000] .....     0.000000: bpf_trace_printk: one\n";
  TextBuffer out(allocator);
  // A read shorter than the first line gets a piece of it; the rest comes next.
  EXPECT_EQ(buffer.consume_pipe(out, 10), 10u);
  EXPECT_EQ(buffer.entries(), 1u);
  // Whole lines only once something was written: the second line does not fit with the first.
  EXPECT_EQ(buffer.consume_pipe(out, line1.size()), line1.size() - 10);
  EXPECT_EQ(text_of(out), line1);
  out.clear();
  EXPECT_GT(buffer.consume_pipe(out, 4096), 0u);
  EXPECT_TRUE(buffer.pipe_empty());
  EXPECT_EQ(buffer.consume_pipe(out, 4096), 0u);
}

TEST(TraceBufferTest, RingKeepsTheNewestWithinItsBudget) {
  MallocAllocator allocator;
  TraceBuffer buffer(allocator);
  ASSERT_TRUE(buffer.set_size_kb(1).ok());
  EXPECT_EQ(buffer.size_kb(), 1u);
  char message[40];
  for (int i = 0; i < 1000; ++i) {
    int length = std::snprintf(message, sizeof(message), "message %d", i);
    ASSERT_TRUE(buffer.record_printk(context("w", 2, i), message, length));
  }
  EXPECT_EQ(buffer.entries_written(), 1000u);  // held and overwritten
  EXPECT_LT(buffer.entries(), 1000u);
  EXPECT_GT(buffer.entries(), 5u);
  EXPECT_LE(allocator.in_use(), 1024u);
  TextBuffer out(allocator);
  ASSERT_TRUE(buffer.render_trace(out).ok());
  std::string text = text_of(out);
  EXPECT_NE(text.find("message 999\n"), std::string::npos);
  EXPECT_EQ(text.find("message 0\n"), std::string::npos);
  // The newest entries come out in order.
  uint64_t kept = buffer.entries();
  out.clear();
  buffer.consume_pipe(out, 1 << 20);
  std::string pipe = text_of(out);
  size_t first = pipe.find("message ");
  EXPECT_EQ(std::stoi(pipe.substr(first + 8)), static_cast<int>(1000 - kept));
  // An entry larger than the whole ring is dropped.
  std::string huge(2000, 'x');
  EXPECT_FALSE(buffer.record(context("w", 2, 0), huge.data(), huge.size()));
}

TEST(TraceBufferTest, ResizeKeepsNewestEntries) {
  MallocAllocator allocator;
  {
    TraceBuffer buffer(allocator);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(buffer.record_printk(context("w", 2, i), "abc", 3));
    ASSERT_TRUE(buffer.set_size_kb(2).ok());
    // Entries the smaller ring could not keep count as overwritten.
    EXPECT_EQ(buffer.entries_written(), 100u);
    EXPECT_LT(buffer.entries(), 100u);
    EXPECT_GT(buffer.entries(), 10u);
    EXPECT_EQ(buffer.set_size_kb(0).error().code, rt::kEINVAL);
  }
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(TraceBufferTest, ClearAndTracingOff) {
  MallocAllocator allocator;
  TraceBuffer buffer(allocator);
  ASSERT_TRUE(buffer.record_printk(context("a", 1, 0), "x", 1));
  buffer.clear();
  EXPECT_EQ(buffer.entries(), 0u);
  EXPECT_EQ(buffer.entries_written(), 0u);
  buffer.set_tracing_on(false);
  EXPECT_FALSE(buffer.record_printk(context("a", 1, 0), "x", 1));
  EXPECT_EQ(buffer.entries(), 0u);
  buffer.set_tracing_on(true);
  EXPECT_TRUE(buffer.record_printk(context("a", 1, 0), "x", 1));
}

}  // namespace
}  // namespace trace::testing
