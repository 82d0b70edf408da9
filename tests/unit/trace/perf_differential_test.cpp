// SPDX-License-Identifier: MIT
// perf_event_open's attr checks against the host kernel: the same errno for attrs that attach
// nothing. Skipped where the host refuses perf_event_open; every case fails on both sides before a
// PMU takes the event (or opens a counting software event, closed at once).
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "perf_test_support.hpp"

namespace trace::testing {
namespace {

class PerfDifferential : public PerfEventTest {
 protected:
  void SetUp() override {
    PerfEventTest::SetUp();
    PerfEventAttr attr = base();
    attr.config = kPerfCountSwCpuClock;
    int64_t fd = host_open(&attr, 0, -1, -1, 0);
    if (fd < 0) GTEST_SKIP() << "the host refuses perf_event_open: errno " << -fd;
    close(static_cast<int>(fd));
  }

  // A user-only counting software event of the calling task: nothing the host needs
  // privilege for.
  static PerfEventAttr base() {
    PerfEventAttr attr = {};
    attr.type = kPerfTypeSoftware;
    attr.size = kPerfAttrSize;
    attr.config = kPerfCountSwBpfOutput;
    attr.flags = kPerfAttrExcludeKernel | kPerfAttrExcludeHv | kPerfAttrDisabled;
    return attr;
  }

  static int64_t host_open(void* attr, int pid, int cpu, int group_fd, unsigned long flags) {
    long fd = syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
    return fd < 0 ? -static_cast<int64_t>(errno) : fd;
  }

  struct Answers {
    int64_t core, host;
  };
  // The same bytes (`size` of them, from `bytes`) to both, each in its own copy.
  Answers both(const uint8_t* bytes, uint32_t size, int pid = 0, int cpu = -1, int group_fd = -1,
               uint64_t flags = 0) {
    alignas(8) static uint8_t host_copy[8192];
    std::memset(host_copy, 0, sizeof(host_copy));
    std::memcpy(host_copy, bytes, size);
    std::memset(attr_, 0, sizeof(attr_));
    std::memcpy(attr_, bytes, size < sizeof(attr_) ? size : sizeof(attr_));
    Answers answers;
    answers.host = host_open(host_copy, pid, cpu, group_fd, flags);
    if (answers.host >= 0) close(static_cast<int>(answers.host));
    auto core = perf_event_open(session_, memory_, address(attr_), pid, cpu, group_fd, flags);
    answers.core = core.ok() ? 1 : -static_cast<int64_t>(core.error().code);
    if (answers.host >= 0) answers.host = 1;
    std::memcpy(&host_size_, host_copy + 4, 4);
    std::memcpy(&core_size_, attr_ + 4, 4);
    return answers;
  }
  Answers both(const PerfEventAttr& attr, int pid = 0, int cpu = -1, int group_fd = -1,
               uint64_t flags = 0) {
    return both(reinterpret_cast<const uint8_t*>(&attr), sizeof(attr), pid, cpu, group_fd, flags);
  }
  uint32_t host_size_ = 0, core_size_ = 0;
};

#define EXPECT_SAME(answers, what)                        \
  do {                                                    \
    Answers a = (answers);                                \
    EXPECT_EQ(a.core, a.host) << what << " (core, host)"; \
  } while (0)

TEST_F(PerfDifferential, AValidEventOpensOnBoth) { EXPECT_SAME(both(base()), "valid"); }

TEST_F(PerfDifferential, Sizes) {
  PerfEventAttr attr = base();
  attr.size = 1;
  Answers small = both(attr);
  EXPECT_EQ(small.core, -rt::kE2BIG);
  EXPECT_EQ(small.core, small.host);
  EXPECT_EQ(core_size_, kPerfAttrSize);
  EXPECT_GE(host_size_, kPerfAttrSize) << "the host writes its own (later, larger) size back";
  attr.size = 4097;
  EXPECT_SAME(both(attr), "above a page");
  attr.size = kPerfAttrSizeVer0;
  EXPECT_SAME(both(attr), "VER0");
  attr.size = 0;
  EXPECT_SAME(both(attr), "size 0 is VER0");
  // A 256-byte attr with a nonzero byte past every kernel's struct.
  alignas(8) uint8_t bytes[256] = {};
  attr.size = 256;
  std::memcpy(bytes, &attr, sizeof(attr));
  EXPECT_SAME(both(bytes, sizeof(bytes)), "zero tail");
  bytes[250] = 1;
  Answers tail = both(bytes, sizeof(bytes));
  EXPECT_EQ(tail.core, -rt::kE2BIG);
  EXPECT_EQ(tail.core, tail.host) << "nonzero tail";
}

TEST_F(PerfDifferential, SyscallFlagsAndTargets) {
  EXPECT_SAME(both(base(), 0, -1, -1, 1u << 4), "unknown flag");
  EXPECT_SAME(both(base(), 0, -1, -1, 1ul << 40), "high flag");
  EXPECT_SAME(both(base(), -1, -1), "no task, no CPU");
  EXPECT_SAME(both(base(), 0, 100000), "CPU past nr_cpu_ids");
  EXPECT_SAME(both(base(), -5, -1), "negative pid");
  EXPECT_SAME(both(base(), -1, 0, -1, PERF_FLAG_PID_CGROUP), "cgroup without pid");
  EXPECT_SAME(both(base(), 0, -1, 1000), "group_fd not open");
}

TEST_F(PerfDifferential, AttrFields) {
  PerfEventAttr attr = base();
  attr.flags |= 1ull << 63;
  EXPECT_SAME(both(attr), "reserved flag bit");
  attr = base();
  attr.reserved_2 = 1;
  EXPECT_SAME(both(attr), "__reserved_2");
  attr = base();
  attr.sample_type = 1ull << 40;
  EXPECT_SAME(both(attr), "unknown sample_type bit");
  attr = base();
  attr.read_format = 1ull << 10;
  EXPECT_SAME(both(attr), "unknown read_format bit");
  attr = base();
  attr.flags |= kPerfAttrInheritThread;
  EXPECT_SAME(both(attr), "inherit_thread without inherit");
  attr = base();
  attr.flags |= kPerfAttrRemoveOnExec | kPerfAttrEnableOnExec;
  EXPECT_SAME(both(attr), "remove_on_exec with enable_on_exec");
  attr = base();
  attr.flags |= kPerfAttrSigtrap;
  EXPECT_SAME(both(attr), "sigtrap without remove_on_exec");
  attr = base();
  attr.sample_period = 1ull << 63;
  EXPECT_SAME(both(attr), "negative period");
  attr = base();
  attr.flags |= kPerfAttrFreq;
  attr.sample_period = 1000000000;
  EXPECT_SAME(both(attr), "frequency above the sample rate");
  attr = base();
  attr.sample_type = kPerfSampleStackUser;
  attr.sample_stack_user = 12;
  EXPECT_SAME(both(attr), "unaligned user stack");
  attr = base();
  attr.sample_type = kPerfSampleBranchStack;
  attr.branch_sample_type = 0;
  EXPECT_SAME(both(attr), "branch stack without a branch type");
  attr = base();
  attr.sample_type = kPerfSampleRegsUser;
  attr.sample_regs_user = 0;
  EXPECT_SAME(both(attr), "empty user register mask");
  attr = base();
  attr.sample_type = kPerfSampleWeight | kPerfSampleWeightStruct;
  EXPECT_SAME(both(attr), "both weights");
}

TEST_F(PerfDifferential, UnknownEvents) {
  PerfEventAttr attr = base();
  attr.type = 0x7fff0000;
  EXPECT_SAME(both(attr), "no PMU of that type");
  attr = base();
  attr.config = 1000;
  EXPECT_SAME(both(attr), "no such software event");
  attr = base();
  attr.type = kPerfTypeTracepoint;
  attr.config = 0xfffffff0;
  EXPECT_SAME(both(attr), "no tracepoint with that id");
}

}  // namespace
}  // namespace trace::testing

namespace trace::testing {
namespace {

// The link commands' error paths against the host's bpf(): nothing is attached on the host.
class LinkDifferential : public PerfEventTest {
 protected:
  void SetUp() override {
    PerfEventTest::SetUp();
    host_raw_ = host_load(17);
    if (host_raw_ < 0) GTEST_SKIP() << "the host refuses bpf(): errno " << -host_raw_;
    host_kprobe_ = host_load(2);
    core_raw_ = load(assemble("mov %r0, 0\nexit"), 17);
    core_kprobe_ = load(assemble("mov %r0, 0\nexit"), 2);
    ASSERT_GT(host_kprobe_, 0);
    ASSERT_GT(core_raw_, 0);
  }
  void TearDown() override {
    if (host_raw_ >= 0) close(static_cast<int>(host_raw_));
    if (host_kprobe_ >= 0) close(static_cast<int>(host_kprobe_));
    PerfEventTest::TearDown();
  }
  static int64_t host_bpf(int command, BpfAttr& attr) {
    long result = syscall(SYS_bpf, command, attr.bytes, sizeof(attr));
    if (result >= 0) close(static_cast<int>(result));  // nothing here should succeed
    return result < 0 ? -static_cast<int64_t>(errno) : result;
  }
  int64_t host_load(uint32_t type) {
    static const uint64_t insns[2] = {0x00000000000000b7ull, 0x0000000000000095ull};
    static const char license[] = "GPL";
    BpfAttr attr = {};
    attr.prog_load.prog_type = type;
    attr.prog_load.insns = address(insns);
    attr.prog_load.insn_cnt = 2;
    attr.prog_load.license = address(license);
    long fd = syscall(SYS_bpf, kProgLoad, attr.bytes, sizeof(attr));
    return fd < 0 ? -static_cast<int64_t>(errno) : fd;
  }
  // `fill` writes each side's fds into the attr.
  template <typename Fill>
  void expect_same(int command, Fill fill, const char* what) {
    BpfAttr core_attr = {}, host_attr = {};
    fill(core_attr, core_raw_, core_kprobe_);
    fill(host_attr, host_raw_, host_kprobe_);
    int64_t core = bpf(command, core_attr);
    int64_t host = host_bpf(command, host_attr);
    EXPECT_EQ(core, host) << what << " (core, host)";
  }
  int64_t host_raw_ = -1, host_kprobe_ = -1, core_raw_ = -1, core_kprobe_ = -1;
  char name_[32] = "sonde_no_such_tracepoint";
};

TEST_F(LinkDifferential, RawTracepointOpenErrors) {
  memory_.allow(name_, sizeof(name_));
  auto raw = [&](uint64_t name, int64_t program) {
    return [=](BpfAttr& attr, int64_t raw_program, int64_t kprobe_program) {
      RawTracepointOpenAttr fields{name, static_cast<uint32_t>(program == 17  ? raw_program
                                                               : program == 2 ? kprobe_program
                                                                              : program)};
      std::memcpy(attr.bytes, &fields, sizeof(fields));
    };
  };
  expect_same(kRawTracepointOpen, raw(address(name_), 17), "unknown tracepoint");
  expect_same(kRawTracepointOpen, raw(address(name_), 2), "a kprobe program");
  expect_same(kRawTracepointOpen, raw(address(name_), 999), "no program");
  expect_same(kRawTracepointOpen, raw(8, 17), "unreadable name");
}

TEST_F(LinkDifferential, LinkCommandErrors) {
  expect_same(
      kLinkCreate,
      [](BpfAttr& attr, int64_t, int64_t kprobe) {
        attr.link_create.prog_fd = static_cast<uint32_t>(kprobe);
        attr.link_create.target_fd = static_cast<uint32_t>(-1);
        attr.link_create.attach_type = kAttachPerfEvent;
      },
      "libbpf's probe");
  expect_same(
      kLinkCreate,
      [](BpfAttr& attr, int64_t raw, int64_t) {
        attr.link_create.prog_fd = static_cast<uint32_t>(raw);
        attr.link_create.attach_type = kAttachPerfEvent;
      },
      "a raw tracepoint program");
  expect_same(
      kLinkDetach,
      [](BpfAttr& attr, int64_t raw, int64_t) {
        attr.get_id.start_id = static_cast<uint32_t>(raw);
      },
      "detach of a program fd");
  expect_same(
      kLinkDetach, [](BpfAttr& attr, int64_t, int64_t) { attr.get_id.start_id = 999; },
      "detach of a closed fd");
  expect_same(
      kLinkUpdate,
      [](BpfAttr& attr, int64_t raw, int64_t) {
        LinkUpdateAttr fields{static_cast<uint32_t>(raw), static_cast<uint32_t>(raw), 1, 0};
        std::memcpy(attr.bytes, &fields, sizeof(fields));
      },
      "update with unknown flags");
  expect_same(
      kLinkUpdate,
      [](BpfAttr& attr, int64_t raw, int64_t) {
        LinkUpdateAttr fields{static_cast<uint32_t>(raw), static_cast<uint32_t>(raw), 0, 0};
        std::memcpy(attr.bytes, &fields, sizeof(fields));
      },
      "update of a program fd");
  expect_same(
      kLinkGetFdById, [](BpfAttr& attr, int64_t, int64_t) { attr.get_id.start_id = 0x7ffffff0; },
      "no such link id");
  expect_same(
      kLinkGetFdById,
      [](BpfAttr& attr, int64_t, int64_t) {
        attr.get_id.start_id = 1;
        attr.get_id.open_flags = 1;
      },
      "CHECK_ATTR past link_id");
}

}  // namespace
}  // namespace trace::testing
