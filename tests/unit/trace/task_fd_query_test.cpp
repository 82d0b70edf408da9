// SPDX-License-Identifier: MIT
// BPF_TASK_FD_QUERY: what a perf event or link fd is attached to, as bpftool perf asks it.
#include "perf_test_support.hpp"

namespace trace::testing {
namespace {

constexpr uint32_t kProgKprobe = 2, kProgTracepoint = 5, kProgRawTp = 17;
constexpr uint32_t kPerfEventIocSetBpf = 0x40042408;

// bpf_attr.task_fd_query.
struct Query {
  uint32_t pid, fd, flags, buf_len;
  uint64_t buf;
  uint32_t prog_id, fd_type;
  uint64_t probe_offset, probe_addr;
};

class TaskFdQueryTest : public PerfEventTest {
 protected:
  // The query of `fd` with a `capacity`-byte buffer: the result, the attr as written back.
  int64_t query(int64_t fd, uint32_t capacity = sizeof(buffer_), uint32_t flags = 0) {
    BpfAttr attr = {};
    Query q{
        42, static_cast<uint32_t>(fd), flags, capacity, capacity ? address(buffer_) : 0, 0, 0, 0,
        0};
    std::memcpy(attr.bytes, &q, sizeof(q));
    std::memset(buffer_, 'x', sizeof(buffer_));
    memory_.allow(buffer_, sizeof(buffer_));
    int64_t result = bpf(kTaskFdQuery, attr);
    std::memcpy(&out_, attr.bytes, sizeof(out_));
    return result;
  }
  uint32_t id_of(int64_t handle) {
    return session_.lookup(static_cast<int32_t>(handle))->object->id;
  }
  char buffer_[64] = {};
  Query out_ = {};
};

TEST_F(TaskFdQueryTest, KprobeAndKretprobe) {
  int64_t map = counter_map();
  int64_t program = load_counter(map, kProgKprobe);
  int64_t event = open_kprobe("do_unlinkat");
  EXPECT_EQ(query(event), -rt::kENOENT) << "no program attached yet";
  ASSERT_EQ(ioctl(event, kPerfEventIocSetBpf, static_cast<uint64_t>(program)), 0);
  EXPECT_EQ(query(event), 0);
  EXPECT_EQ(out_.fd_type, 2u);  // BPF_FD_TYPE_KPROBE
  EXPECT_EQ(out_.prog_id, id_of(program));
  EXPECT_STREQ(buffer_, "do_unlinkat");
  EXPECT_EQ(out_.buf_len, 11u) << "the name's length";
  EXPECT_EQ(out_.probe_offset, 0u);
  EXPECT_EQ(out_.probe_addr, 0u);

  int64_t ret = open_kprobe("vfs_read", true);
  ASSERT_EQ(link_create(program, ret) > 0, true);
  EXPECT_EQ(query(ret), 0);
  EXPECT_EQ(out_.fd_type, 3u);  // BPF_FD_TYPE_KRETPROBE
  EXPECT_STREQ(buffer_, "vfs_read");
}

TEST_F(TaskFdQueryTest, NamesAreCutWithEnospc) {
  int64_t map = counter_map();
  int64_t program = load_counter(map, kProgKprobe);
  int64_t event = open_kprobe("do_unlinkat");
  ASSERT_EQ(ioctl(event, kPerfEventIocSetBpf, static_cast<uint64_t>(program)), 0);
  EXPECT_EQ(query(event, 4), -rt::kENOSPC);
  EXPECT_STREQ(buffer_, "do_");
  EXPECT_EQ(out_.buf_len, 11u);
  EXPECT_EQ(out_.fd_type, 2u) << "the other fields are written before ENOSPC";
  EXPECT_EQ(query(event, 0), 0) << "no buffer: the length alone";
  EXPECT_EQ(out_.buf_len, 11u);
}

TEST_F(TaskFdQueryTest, TracepointAndRawTracepoint) {
  int64_t map = counter_map();
  int64_t tp_program = load_counter(map, kProgTracepoint);
  int64_t event = open(tracepoint_attr(FakeProbeHooks::kOpenatId));
  ASSERT_GT(event, 0);
  ASSERT_EQ(ioctl(event, kPerfEventIocSetBpf, static_cast<uint64_t>(tp_program)), 0);
  EXPECT_EQ(query(event), 0);
  EXPECT_EQ(out_.fd_type, 1u);  // BPF_FD_TYPE_TRACEPOINT
  EXPECT_STREQ(buffer_, "sys_enter_openat");

  int64_t raw_program = load_counter(map, kProgRawTp);
  int64_t link = raw_tracepoint_open(raw_program, user_string("sys_enter"));
  ASSERT_GT(link, 0);
  EXPECT_EQ(query(link), 0);
  EXPECT_EQ(out_.fd_type, 0u);  // BPF_FD_TYPE_RAW_TRACEPOINT
  EXPECT_EQ(out_.prog_id, id_of(raw_program));
  EXPECT_STREQ(buffer_, "sys_enter");
  EXPECT_TRUE(session_.close(static_cast<int32_t>(link)).ok());
}

TEST_F(TaskFdQueryTest, Errors) {
  int64_t map = counter_map();
  EXPECT_EQ(query(99), -rt::kEBADF) << "a closed fd";
  EXPECT_EQ(query(map), -524) << "a map: ENOTSUPP";
  int64_t event = open_kprobe("do_unlinkat");
  EXPECT_EQ(query(event, sizeof(buffer_), 1), -rt::kEINVAL) << "flags";
  BpfAttr attr = {};
  attr.bytes[48] = 1;
  EXPECT_EQ(bpf(kTaskFdQuery, attr), -rt::kEINVAL) << "CHECK_ATTR past probe_addr";
  int64_t program = load_counter(map, kProgKprobe);
  ASSERT_EQ(ioctl(event, kPerfEventIocSetBpf, static_cast<uint64_t>(program)), 0);
  BpfAttr bad = {};
  Query q{42, static_cast<uint32_t>(event), 0, 16, 8, 0, 0, 0, 0};  // an unwritable buffer
  std::memcpy(bad.bytes, &q, sizeof(q));
  EXPECT_EQ(bpf(kTaskFdQuery, bad), -rt::kEFAULT);
}

}  // namespace
}  // namespace trace::testing
