// SPDX-License-Identifier: MIT
// perf_event_open, the ioctls and read() of perf events, and probe hits running their programs.
#include "perf_test_support.hpp"

namespace trace::testing {
namespace {

constexpr uint32_t kProgKprobe = 2, kProgTracepoint = 5, kProgPerfEvent = 7, kProgRawTp = 17;

TEST_F(PerfEventTest, OpensWhatLibbpfOpens) {
  // strace_kprobe: the kprobe PMU with the function name in config1, then the kretprobe.
  int64_t entry = open_kprobe("do_unlinkat");
  ASSERT_GT(entry, 0);
  int64_t exit = open_kprobe("do_unlinkat", true);
  ASSERT_GT(exit, 0);
  ASSERT_EQ(hooks_.armed.size(), 2u);
  const FakeProbeHooks::Armed& first = hooks_.armed[probe_of(entry)];
  EXPECT_EQ(first.spec.kind, ProbeKind::kKprobe);
  EXPECT_EQ(first.text, "do_unlinkat");
  EXPECT_FALSE(first.spec.is_return);
  EXPECT_EQ(first.spec.pid, -1);
  EXPECT_TRUE(hooks_.armed[probe_of(exit)].spec.is_return);
  // strace_uprobe: the uprobe PMU, the path in config1, the file offset in config2.
  PerfEventAttr uprobe = kprobe_attr();
  uprobe.type = kPerfTypeUprobe;
  uprobe.config = kPerfProbeConfigIsRetprobe | (uint64_t{0x40} << kPerfUprobeRefCtrOffsetShift);
  uprobe.config1 = user_string("/bin/app");
  uprobe.config2 = 0x11e0;
  int64_t user = open(uprobe);
  ASSERT_GT(user, 0);
  const FakeProbeHooks::Armed& armed = hooks_.armed[probe_of(user)];
  EXPECT_EQ(armed.spec.kind, ProbeKind::kUprobe);
  EXPECT_EQ(armed.text, "/bin/app");
  EXPECT_EQ(armed.spec.offset, 0x11e0u);
  EXPECT_EQ(armed.spec.ref_ctr_offset, 0x40u);
  EXPECT_TRUE(armed.spec.is_return);
  // strace_tpcount: a tracepoint by its tracefs id; strace_perfbuf: BPF_OUTPUT.
  EXPECT_GT(open(tracepoint_attr(FakeProbeHooks::kOpenatId)), 0);
  EXPECT_GT(open(bpf_output_attr()), 0);
  EXPECT_GT(open(software_attr(kPerfCountSwCpuClock)), 0);
  // Aya's attr is 136 bytes long (6.3's size) with a zero tail.
  PerfEventAttr aya = kprobe_attr();
  aya.config1 = user_string("vfs_read");
  std::memcpy(attr_, &aya, sizeof(aya));
  uint32_t size = 136;
  std::memcpy(attr_ + 4, &size, 4);
  auto opened = perf_event_open(session_, memory_, address(attr_), -1, 0, -1, kPerfFlagFdCloexec);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(event_of(*opened)->attr.size, 136u);
}

TEST_F(PerfEventTest, KprobeByAddressAndOffset) {
  PerfEventAttr attr = kprobe_attr();
  attr.config2 = 0xffffffff81000000ull;  // no function: config2 is the address
  int64_t fd = open(attr);
  ASSERT_GT(fd, 0);
  EXPECT_EQ(hooks_.armed[probe_of(fd)].spec.symbol, nullptr);
  EXPECT_EQ(hooks_.armed[probe_of(fd)].spec.address, 0xffffffff81000000ull);
  attr.config1 = user_string("vfs_read");
  attr.config2 = 4;  // with a function: config2 is the offset
  fd = open(attr);
  ASSERT_GT(fd, 0);
  EXPECT_EQ(hooks_.armed[probe_of(fd)].spec.offset, 4u);
  EXPECT_EQ(hooks_.armed[probe_of(fd)].spec.address, 0u);
}

TEST_F(PerfEventTest, SyscallFlagsAndTargets) {
  PerfEventAttr attr = bpf_output_attr();
  EXPECT_EQ(open(attr, -1, 0, -1, 1u << 4), -rt::kEINVAL) << "unknown flag";
  EXPECT_EQ(open(attr, -1, -1), -rt::kEINVAL) << "no task and no CPU";
  EXPECT_EQ(open(attr, -1, 2), -rt::kEINVAL) << "CPU past the possible ones";
  EXPECT_EQ(open(attr, 42, 5), -rt::kEINVAL) << "a task does not excuse a bad CPU";
  EXPECT_EQ(open(attr, -5, 0), -rt::kESRCH);
  EXPECT_EQ(open(attr, 77, 0), -rt::kESRCH) << "no such task";
  EXPECT_GT(open(attr, 42, -1), 0) << "a task on any CPU";
  EXPECT_GT(open(attr, 0, -1), 0) << "the caller";
  EXPECT_EQ(open(attr, -1, 0, -1, kPerfFlagPidCgroup), -rt::kEINVAL) << "cgroup without pid";
  EXPECT_EQ(open(attr, -1, 0, 99), -rt::kEBADF) << "group_fd not open";
  int64_t map = counter_map();
  EXPECT_EQ(open(attr, -1, 0, static_cast<int32_t>(map)), -rt::kEBADF) << "group_fd no event";
  attr.flags = kPerfAttrSigtrap | kPerfAttrRemoveOnExec;
  EXPECT_EQ(open(attr), -rt::kEINVAL) << "sigtrap needs a task";
  EXPECT_GT(open(attr, 42, -1), 0);
}

TEST_F(PerfEventTest, SizeErrorsWriteTheKernelSizeBack) {
  PerfEventAttr attr = bpf_output_attr();
  attr.size = 8;
  EXPECT_EQ(open(attr), -rt::kE2BIG);
  uint32_t size;
  std::memcpy(&size, attr_ + 4, 4);
  EXPECT_EQ(size, kPerfAttrSize);
  attr.size = 256;
  std::memcpy(attr_, &attr, sizeof(attr));
  attr_[200] = 1;
  auto result = perf_event_open(session_, memory_, address(attr_), -1, 0, -1, 0);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, rt::kE2BIG);
  std::memcpy(&size, attr_ + 4, 4);
  EXPECT_EQ(size, kPerfAttrSize);
  result = perf_event_open(session_, memory_, 16, -1, 0, -1, 0);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, rt::kEFAULT) << "attr not readable";
}

TEST_F(PerfEventTest, AttrChecksOfTheSyscall) {
  PerfEventAttr attr = bpf_output_attr();
  attr.flags = kPerfAttrFreq;
  attr.sample_period = 100001;
  EXPECT_EQ(open(attr), -rt::kEINVAL) << "frequency above the sample rate";
  attr.flags = 0;
  attr.sample_period = 1ull << 63;
  EXPECT_EQ(open(attr), -rt::kEINVAL) << "negative period";
  attr = bpf_output_attr();
  attr.sample_type |= kPerfSampleRegsUser;
  attr.sample_regs_user = 1ull << 40;  // an XMM register
  EXPECT_EQ(open(attr), -rt::kEOPNOTSUPP);
  attr = bpf_output_attr();
  attr.flags = kPerfAttrAuxOutput;
  EXPECT_EQ(open(attr), -rt::kEOPNOTSUPP);
  attr = bpf_output_attr();
  attr.sample_type |= kPerfSampleCallchain;
  attr.sample_max_stack = 200;
  EXPECT_EQ(open(attr), -rt::kEOVERFLOW);
  attr = bpf_output_attr();
  attr.flags = kPerfAttrUseClockid;
  attr.clockid = 3;  // CLOCK_THREAD_CPUTIME_ID
  EXPECT_EQ(open(attr), -rt::kEINVAL);
  attr.clockid = 1;
  EXPECT_GT(open(attr), 0);
  attr = bpf_output_attr();
  attr.reserved_2 = 1;
  EXPECT_EQ(open(attr), -rt::kEINVAL) << "perf_copy_attr's checks apply";
}

TEST_F(PerfEventTest, PmuChoiceAndProbeErrors) {
  EXPECT_EQ(open(software_attr(99)), -rt::kENOENT);
  EXPECT_EQ(open(software_attr(kPerfCountSwMax)), -rt::kENOENT);
  PerfEventAttr attr = software_attr(0);
  attr.type = 1000;
  EXPECT_EQ(open(attr), -rt::kENOENT) << "no PMU of that type";
  attr.type = 0;  // PERF_TYPE_HARDWARE: no PMU, as a guest without one
  EXPECT_EQ(open(attr), -rt::kENOENT);
  EXPECT_EQ(open(tracepoint_attr(12345)), -rt::kEINVAL) << "perf_trace_init: no such id";
  attr = tracepoint_attr(FakeProbeHooks::kOpenatId);
  attr.sample_type = kPerfSampleBranchStack;
  attr.branch_sample_type = 1u << 3;
  EXPECT_EQ(open(attr), -rt::kEOPNOTSUPP) << "no branch sampling on tracepoints";
  EXPECT_EQ(open_kprobe("no_such_function"), -rt::kENOENT);
  EXPECT_EQ(open(kprobe_attr()), -rt::kEINVAL) << "neither a function nor an address";
  attr = kprobe_attr();
  attr.config1 = user_string("");
  EXPECT_EQ(open(attr), -rt::kEINVAL) << "an empty name is no name";
  EXPECT_EQ(open_kprobe(std::string(600, 'a')), -rt::kE2BIG) << "past KSYM_NAME_LEN";
  attr.config1 = 8;
  EXPECT_EQ(open(attr), -rt::kEFAULT);
  attr = kprobe_attr();
  attr.type = kPerfTypeUprobe;
  EXPECT_EQ(open(attr), -rt::kEINVAL) << "uprobe without a path";
  attr.config1 = user_string("");
  EXPECT_EQ(open(attr), -rt::kEINVAL);
  attr.config1 = user_string("/dev/null");
  EXPECT_EQ(open(attr), -rt::kEINVAL) << "no regular file";
  attr.config1 = user_string("/missing");
  EXPECT_EQ(open(attr), -rt::kENOENT);
  EXPECT_TRUE(hooks_.armed.empty());
  EXPECT_EQ(probes_.probe_count(), 0u);
}

TEST_F(PerfEventTest, UnprivilegedCallersAreRefused) {
  session_.set_privileged(false);
  EXPECT_EQ(open(bpf_output_attr()), -rt::kEACCES);
  session_.set_privileged(true);
}

TEST_F(PerfEventTest, TracepointEventsShareOneProbe) {
  int64_t first = open(tracepoint_attr(FakeProbeHooks::kOpenatId));
  int64_t second = open(tracepoint_attr(FakeProbeHooks::kOpenatId));
  ASSERT_GT(first, 0);
  ASSERT_GT(second, 0);
  EXPECT_EQ(hooks_.armed.size(), 1u);
  EXPECT_EQ(probe_of(first), probe_of(second));
  EXPECT_EQ(session_.close(static_cast<int32_t>(first)).ok(), true);
  EXPECT_EQ(hooks_.armed.size(), 1u);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(second)).ok());
  EXPECT_TRUE(hooks_.armed.empty()) << "disarmed with its last event";
}

TEST_F(PerfEventTest, EnableDisableResetAndRead) {
  PerfEventAttr attr = tracepoint_attr(FakeProbeHooks::kOpenatId);
  attr.flags = kPerfAttrDisabled;
  attr.read_format =
      kPerfFormatTotalTimeEnabled | kPerfFormatTotalTimeRunning | kPerfFormatId | kPerfFormatLost;
  int64_t fd = open(attr);
  ASSERT_GT(fd, 0);
  uint32_t probe = probe_of(fd);
  hit(probe);
  uint64_t values[8] = {};
  memory_.allow(values, sizeof(values));
  EXPECT_EQ(read(fd, values, sizeof(values)), 40);
  EXPECT_EQ(values[0], 0u) << "disabled events do not count";
  EXPECT_EQ(ioctl(fd, kPerfEventIocEnable), 0);
  hit(probe);
  hit(probe);
  hit(probe, nullptr, 0, 42, 1);  // CPU 1: the event is on CPU 0
  uint64_t id = 0;
  memory_.allow(&id, sizeof(id));
  EXPECT_EQ(ioctl(fd, kPerfEventIocId, address(&id)), 0);
  EXPECT_EQ(read(fd, values, sizeof(values)), 40);
  EXPECT_EQ(values[0], 2u);
  EXPECT_EQ(values[3], id);
  EXPECT_EQ(values[4], 0u) << "nothing lost";
  EXPECT_EQ(read(fd, values, 39), -rt::kENOSPC) << "shorter than read_size";
  EXPECT_EQ(read(fd, reinterpret_cast<void*>(8), 40), -rt::kEFAULT);
  EXPECT_EQ(ioctl(fd, kPerfEventIocDisable), 0);
  hit(probe);
  EXPECT_EQ(read(fd, values, 8), -rt::kENOSPC);
  EXPECT_EQ(read(fd, values, 64), 40);
  EXPECT_EQ(values[0], 2u);
  EXPECT_EQ(ioctl(fd, kPerfEventIocReset), 0);
  EXPECT_EQ(read(fd, values, 64), 40);
  EXPECT_EQ(values[0], 0u);
}

// perf stat's events: opened disabled with enable_on_exec on the workload's task, enabled by
// that task's exec (the sched_process_exec raw tracepoint, watched while any event waits).
TEST_F(PerfEventTest, EnableOnExecWaitsForTheTasksExec) {
  environment_.clock_step_ns = 100;  // every clock reading is 100 ns later
  PerfEventAttr attr = tracepoint_attr(FakeProbeHooks::kOpenatId);
  attr.flags = kPerfAttrDisabled | kPerfAttrEnableOnExec | kPerfAttrInherit;
  attr.read_format = kPerfFormatTotalTimeEnabled | kPerfFormatTotalTimeRunning;
  int64_t fd = open(attr, 42, -1);
  ASSERT_GT(fd, 0);
  uint32_t exec_probe = 0;
  for (const auto& [number, armed] : hooks_.armed) {
    if (armed.text == "sched_process_exec") exec_probe = number;
  }
  ASSERT_NE(exec_probe, 0u) << "the exec tracepoint is watched";
  uint32_t probe = probe_of(fd);
  hit(probe, nullptr, 0, 42);
  uint64_t values[3] = {};
  memory_.allow(values, sizeof(values));
  EXPECT_EQ(read(fd, values, sizeof(values)), 24);
  EXPECT_EQ(values[0], 0u) << "not before the exec";
  EXPECT_EQ(values[1], 0u) << "never enabled yet";
  uint64_t exec_args[3] = {};
  hit(exec_probe, exec_args, sizeof(exec_args), 7);  // another task's exec
  hit(probe, nullptr, 0, 42);
  EXPECT_EQ(read(fd, values, sizeof(values)), 24);
  EXPECT_EQ(values[0], 0u);
  hit(exec_probe, exec_args, sizeof(exec_args), 42);
  hit(probe, nullptr, 0, 42);
  hit(probe, nullptr, 0, 42);
  EXPECT_EQ(read(fd, values, sizeof(values)), 24);
  EXPECT_EQ(values[0], 2u) << "counting from the exec on";
  EXPECT_GT(values[1], 0u) << "time enabled";
  EXPECT_EQ(values[1], values[2]) << "running while enabled";
  EXPECT_EQ(hooks_.armed.count(exec_probe), 1u) << "kept until an event goes";
  // A waiting event that closes, and one enabled by ioctl first, stop the watch.
  int64_t second = open(attr, 42, -1);
  ASSERT_GT(second, 0);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(second)).ok());
  EXPECT_EQ(hooks_.armed.count(exec_probe), 0u);
  int64_t third = open(attr, 42, -1);
  ASSERT_GT(third, 0);
  EXPECT_EQ(ioctl(third, kPerfEventIocEnable), 0);
  for (const auto& [number, armed] : hooks_.armed) EXPECT_NE(armed.text, "sched_process_exec");
  // A CPU-wide event is in no task's context: no exec enables it.
  int64_t cpu_wide = open(attr, -1, 0);
  ASSERT_GT(cpu_wide, 0);
  for (const auto& [number, armed] : hooks_.armed) EXPECT_NE(armed.text, "sched_process_exec");
}

// perf record's event: attr.comm with sample_id_all; its task's exec (after enable_on_exec)
// writes a PERF_RECORD_COMM with COMM_EXEC and the new name, then the sample_id trailer.
TEST_F(PerfEventTest, ExecsAreCommRecordsForEventsThatAskForThem) {
  PerfEventAttr attr = tracepoint_attr(FakeProbeHooks::kOpenatId);
  attr.flags = kPerfAttrDisabled | kPerfAttrEnableOnExec | kPerfAttrComm | kPerfAttrSampleIdAll;
  attr.sample_period = 1;
  attr.sample_type = kPerfSampleTid | kPerfSampleTime | kPerfSampleCpu | kPerfSampleRaw;
  int64_t fd = open(attr, 42, 0);
  ASSERT_GT(fd, 0);
  auto mapping = perf_event_mmap(session_, static_cast<int32_t>(fd), 2 * 4096, 0, true);
  ASSERT_TRUE(mapping.ok());
  mappings_.push_back(*mapping);
  uint32_t exec_probe = 0;
  for (const auto& [number, armed] : hooks_.armed) {
    if (armed.text == "sched_process_exec") exec_probe = number;
  }
  ASSERT_NE(exec_probe, 0u);
  uint64_t exec_args[3] = {};
  hit(exec_probe, exec_args, sizeof(exec_args), 42);
  const uint8_t* data = mapping->memory + 4096;
  uint32_t type;
  uint16_t misc, size;
  std::memcpy(&type, data, 4);
  std::memcpy(&misc, data + 4, 2);
  std::memcpy(&size, data + 6, 2);
  EXPECT_EQ(type, kPerfRecordComm);
  EXPECT_EQ(misc, kPerfRecordMiscCommExec);
  // header 8, pid and tid 8, "test" padded to 8, then TID 8, TIME 8, CPU 8.
  EXPECT_EQ(size, 8u + 8 + 8 + 24);
  uint32_t pid, tid;
  std::memcpy(&pid, data + 8, 4);
  std::memcpy(&tid, data + 12, 4);
  EXPECT_EQ(pid, 42u);
  EXPECT_EQ(tid, 42u);
  EXPECT_STREQ(reinterpret_cast<const char*>(data + 16), "test");
  uint64_t head;
  std::memcpy(&head, mapping->memory + kPerfDataHeadOffset, 8);
  EXPECT_EQ(head, size);
  // Another task's exec names nobody here; the event still watches (attr.comm).
  hit(exec_probe, exec_args, sizeof(exec_args), 7);
  std::memcpy(&head, mapping->memory + kPerfDataHeadOffset, 8);
  EXPECT_EQ(head, size);
  EXPECT_EQ(hooks_.armed.count(exec_probe), 1u);
  // A prctl(PR_SET_NAME) rename (busybox's applets name themselves so) is a COMM without
  // COMM_EXEC: the POSIX server's trace_task_rename(pid, oldcomm, newcomm, adj, task, exec).
  uint32_t rename_probe = 0;
  for (const auto& [number, armed] : hooks_.armed) {
    if (armed.text == "trace_task_rename") rename_probe = number;
  }
  ASSERT_NE(rename_probe, 0u) << "renames are watched with execs";
  char names[16] = "cat";
  environment_.kernel_memory = names;
  environment_.kernel_size = sizeof(names);
  auto rename = [&](uint64_t pid, uint64_t exec) {
    uint64_t regs[kPtRegsSize / 8] = {};
    regs[112 / 8] = pid;
    regs[96 / 8] = reinterpret_cast<uint64_t>(names);
    regs[64 / 8] = exec;
    hit(rename_probe, regs, sizeof(regs), static_cast<int32_t>(pid));
  };
  rename(42, 1);  // an exec's: its COMM is the exec's
  rename(7, 0);   // another task's
  std::memcpy(&head, mapping->memory + kPerfDataHeadOffset, 8);
  EXPECT_EQ(head, size);
  rename(42, 0);
  std::memcpy(&head, mapping->memory + kPerfDataHeadOffset, 8);
  ASSERT_EQ(head, 2u * size);
  const uint8_t* second = data + size;
  std::memcpy(&type, second, 4);
  std::memcpy(&misc, second + 4, 2);
  EXPECT_EQ(type, kPerfRecordComm);
  EXPECT_EQ(misc, 0u);
  EXPECT_STREQ(reinterpret_cast<const char*>(second + 16), "cat");
  environment_.kernel_memory = nullptr;
  rename(42, 0);  // an unreadable name: no record
  std::memcpy(&head, mapping->memory + kPerfDataHeadOffset, 8);
  EXPECT_EQ(head, 2u * size);
}

// perf stat's events inherit (attr.inherit): the workload's children, and theirs, count into
// the event from their fork on (the sched:sched_process_fork tracepoint, watched while any
// inherited event is open); an event without inherit counts its own task alone.
TEST_F(PerfEventTest, InheritedEventsCountTheTasksChildren) {
  PerfEventAttr attr = tracepoint_attr(FakeProbeHooks::kOpenatId);
  attr.flags = kPerfAttrInherit;
  int64_t inherited = open(attr, 42, -1);
  attr.flags = 0;
  int64_t own = open(attr, 42, -1);
  ASSERT_GT(inherited, 0);
  ASSERT_GT(own, 0);
  uint32_t fork_probe = 0, exit_probe = 0;
  for (const auto& [number, armed] : hooks_.armed) {
    if (armed.text == "sched_process_fork") fork_probe = number;
    if (armed.text == "sched_process_exit") exit_probe = number;
  }
  ASSERT_NE(fork_probe, 0u) << "forks are watched";
  ASSERT_NE(exit_probe, 0u) << "and exits";
  // sched_process_fork's record: child_pid at 44.
  auto fork = [&](int32_t parent, int32_t child) {
    uint8_t record[48] = {};
    std::memcpy(record + 24, &parent, 4);
    std::memcpy(record + 44, &child, 4);
    hit(fork_probe, record, sizeof(record), parent);
  };
  uint32_t probe = probe_of(inherited);
  fork(8, 9);    // a task nobody follows
  fork(42, 77);  // the followed task's child
  fork(77, 78);  // and its grandchild
  hit(probe, nullptr, 0, 42);
  hit(probe, nullptr, 0, 77);
  hit(probe, nullptr, 0, 78);
  hit(probe, nullptr, 0, 9);
  hit(probe, nullptr, 0, 8);
  uint64_t count = 0;
  memory_.allow(&count, sizeof(count));
  EXPECT_EQ(read(inherited, &count, sizeof(count)), 8);
  EXPECT_EQ(count, 3u) << "the task, its child and grandchild";
  EXPECT_EQ(read(own, &count, sizeof(count)), 8);
  EXPECT_EQ(count, 1u) << "without inherit, the task alone";
  fork(42, 77);  // a child already known stays once
  EXPECT_EQ(event_of(inherited)->heirs.size(), 2u);
  uint8_t exit_record[32] = {};
  hit(exit_probe, exit_record, sizeof(exit_record), 77);  // the child exits: no heir any more
  EXPECT_EQ(event_of(inherited)->heirs.size(), 1u);
  hit(probe, nullptr, 0, 77);  // (its pid, if used again, is another task's)
  hit(probe, nullptr, 0, 78);
  EXPECT_EQ(read(inherited, &count, sizeof(count)), 8);
  EXPECT_EQ(count, 4u);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(inherited)).ok());
  EXPECT_EQ(hooks_.armed.count(fork_probe), 0u) << "no inherited event left: unwatched";
  EXPECT_EQ(hooks_.armed.count(exit_probe), 0u);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(own)).ok());
}

// perf record with two events on a CPU: the second's records go to the first's ring
// (PERF_EVENT_IOC_SET_OUTPUT), with Linux's checks, until the first is unmapped.
TEST_F(PerfEventTest, SetOutputSendsRecordsToAnotherEventsRing) {
  PerfEventAttr attr = tracepoint_attr(FakeProbeHooks::kOpenatId);
  attr.sample_period = 1;
  attr.sample_type = kPerfSampleRaw;
  int64_t first = open(attr, -1, 0);
  PerfEventAttr second_attr = tracepoint_attr(FakeProbeHooks::kWriteId);
  second_attr.sample_period = 1;
  second_attr.sample_type = kPerfSampleRaw;
  int64_t second = open(second_attr, -1, 0);
  int64_t other_cpu = open(second_attr, -1, 1);
  ASSERT_GT(first, 0);
  ASSERT_GT(second, 0);
  ASSERT_GT(other_cpu, 0);
  EXPECT_EQ(ioctl(second, kPerfEventIocSetOutput, static_cast<uint64_t>(first)), -rt::kEINVAL)
      << "the output event has no ring yet";
  auto mapping = perf_event_mmap(session_, static_cast<int32_t>(first), 2 * 4096, 0, true);
  ASSERT_TRUE(mapping.ok());
  EXPECT_EQ(ioctl(second, kPerfEventIocSetOutput, static_cast<uint64_t>(second)), -rt::kEINVAL);
  EXPECT_EQ(ioctl(other_cpu, kPerfEventIocSetOutput, static_cast<uint64_t>(first)), -rt::kEINVAL)
      << "no cross-CPU buffers";
  EXPECT_EQ(ioctl(second, kPerfEventIocSetOutput, 99), -rt::kEBADF);
  EXPECT_EQ(ioctl(second, kPerfEventIocSetOutput, static_cast<uint64_t>(first)), 0);
  uint64_t record[2] = {1, 2};
  hit(probe_of(first), record, sizeof(record));
  hit(probe_of(second), record, sizeof(record));
  uint64_t head;
  std::memcpy(&head, mapping->memory + kPerfDataHeadOffset, 8);
  // Two samples of header 8 + raw (4 + 16, padded to 24).
  EXPECT_EQ(head, 2u * (8 + 24));
  EXPECT_EQ(ioctl(first, kPerfEventIocSetOutput, static_cast<uint64_t>(second)), -rt::kEBUSY)
      << "an event with its own mapping";
  // A mapping of the redirected event maps the shared ring (of the same size only), which
  // then outlives the first event's own mapping.
  EXPECT_EQ(perf_event_mmap(session_, static_cast<int32_t>(second), 3 * 4096, 0, true).error().code,
            rt::kEINVAL);
  auto shared = perf_event_mmap(session_, static_cast<int32_t>(second), 2 * 4096, 0, true);
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(shared->memory, mapping->memory) << "the redirected event maps the output's ring";
  perf_event_munmap(objects_, mapping->event);
  hit(probe_of(second), record, sizeof(record));
  std::memcpy(&head, shared->memory + kPerfDataHeadOffset, 8);
  EXPECT_EQ(head, 3u * (8 + 24)) << "the ring went with the first event's mapping";
  perf_event_munmap(objects_, shared->event);
  hit(probe_of(second), record, sizeof(record));  // the ring went: nothing to write into
  EXPECT_EQ(ioctl(second, kPerfEventIocSetOutput, static_cast<uint64_t>(-1)), 0);
  // The output event closed first stays until the redirected one lets go.
  auto again = perf_event_mmap(session_, static_cast<int32_t>(first), 2 * 4096, 0, true);
  ASSERT_TRUE(again.ok());
  mappings_.push_back(*again);
  EXPECT_EQ(ioctl(second, kPerfEventIocSetOutput, static_cast<uint64_t>(first)), 0);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(first)).ok());
  hit(probe_of(second), record, sizeof(record));
  std::memcpy(&head, again->memory + kPerfDataHeadOffset, 8);
  EXPECT_EQ(head, 8u + 24);
}

TEST_F(PerfEventTest, GroupReadFormatAndTaskFilter) {
  PerfEventAttr attr = tracepoint_attr(FakeProbeHooks::kOpenatId);
  attr.read_format = kPerfFormatGroup | kPerfFormatId;
  int64_t fd = open(attr, 7, -1);
  ASSERT_GT(fd, 0);
  hit(probe_of(fd), nullptr, 0, 7);
  hit(probe_of(fd), nullptr, 0, 8);  // another task
  uint64_t values[4] = {};
  memory_.allow(values, sizeof(values));
  EXPECT_EQ(read(fd, values, sizeof(values)), 24);
  EXPECT_EQ(values[0], 1u) << "nr";
  EXPECT_EQ(values[1], 1u) << "the count";
  EXPECT_EQ(values[2], event_of(fd)->event_id);
}

TEST_F(PerfEventTest, CpuClockCountsNanosecondsEnabled) {
  int64_t fd = open(software_attr(kPerfCountSwCpuClock));
  ASSERT_GT(fd, 0);
  uint64_t value = 0;
  memory_.allow(&value, sizeof(value));
  EXPECT_EQ(read(fd, &value, 8), 8);
  EXPECT_EQ(value, 0u) << "the test clock stands still";
}

TEST_F(PerfEventTest, IdsAreDistinctAndIncreasing) {
  int64_t a = open(bpf_output_attr());
  int64_t b = open(bpf_output_attr());
  uint64_t ids[2] = {};
  memory_.allow(ids, sizeof(ids));
  EXPECT_EQ(ioctl(a, kPerfEventIocId, address(&ids[0])), 0);
  EXPECT_EQ(ioctl(b, kPerfEventIocId, address(&ids[1])), 0);
  EXPECT_GT(ids[0], 0u);
  EXPECT_EQ(ids[1], ids[0] + 1);
  EXPECT_EQ(ioctl(a, kPerfEventIocId, 8), -rt::kEFAULT);
}

TEST_F(PerfEventTest, IoctlErrors) {
  int64_t fd = open(bpf_output_attr());
  int64_t map = counter_map();
  EXPECT_EQ(ioctl(fd, 0x2499), -rt::kENOTTY);
  EXPECT_EQ(ioctl(map, kPerfEventIocEnable), -rt::kENOTTY) << "a map has no perf ioctls";
  EXPECT_EQ(ioctl(99, kPerfEventIocEnable), -rt::kEBADF);
  EXPECT_EQ(ioctl(fd, kPerfEventIocSetOutput, static_cast<uint64_t>(-1)), 0);
  EXPECT_EQ(ioctl(fd, kPerfEventIocSetFilter, 0), -rt::kEINVAL);
  EXPECT_EQ(ioctl(fd, kPerfEventIocPauseOutput, 1), -rt::kEINVAL) << "no ring yet";
  uint64_t period = 0;
  memory_.allow(&period, sizeof(period));
  EXPECT_EQ(ioctl(fd, kPerfEventIocPeriod, address(&period)), -rt::kEINVAL) << "period 0";
  period = 10;
  EXPECT_EQ(ioctl(fd, kPerfEventIocPeriod, address(&period)), 0);
  EXPECT_EQ(event_of(fd)->attr.sample_period, 10u);
  EXPECT_EQ(ioctl(fd, kPerfEventIocPeriod, 8), -rt::kEFAULT);
  int64_t counting = open(tracepoint_attr(FakeProbeHooks::kOpenatId));
  EXPECT_EQ(ioctl(counting, kPerfEventIocPeriod, address(&period)), -rt::kEINVAL)
      << "not a sampling event";
  EXPECT_EQ(ioctl(counting, kPerfEventIocRefresh, 1), -rt::kEINVAL);
  EXPECT_EQ(ioctl(fd, kPerfEventIocRefresh, 1), 0);
  // MODIFY_ATTRIBUTES: only breakpoints change; another type is EINVAL.
  PerfEventAttr change = bpf_output_attr();
  alignas(8) uint8_t bytes[sizeof(PerfEventAttr)];
  std::memcpy(bytes, &change, sizeof(change));
  memory_.allow(bytes, sizeof(bytes));
  EXPECT_EQ(ioctl(fd, kPerfEventIocModifyAttributes, address(bytes)), -rt::kEOPNOTSUPP);
  change.type = kPerfTypeTracepoint;
  std::memcpy(bytes, &change, sizeof(change));
  EXPECT_EQ(ioctl(fd, kPerfEventIocModifyAttributes, address(bytes)), -rt::kEINVAL);
}

TEST_F(PerfEventTest, SetBpfMatchesProgramAndEvent) {
  int64_t map = counter_map();
  int64_t kprobe_program = load_counter(map, kProgKprobe);
  int64_t tracepoint_program = load_counter(map, kProgTracepoint);
  int64_t perf_program = load_counter(map, kProgPerfEvent);
  int64_t raw_program = load_counter(map, kProgRawTp);
  ASSERT_GT(raw_program, 0);
  int64_t kprobe = open_kprobe("do_unlinkat");
  int64_t tracepoint = open(tracepoint_attr(FakeProbeHooks::kOpenatId));
  int64_t clock = open(software_attr(kPerfCountSwCpuClock));
  EXPECT_EQ(ioctl(kprobe, kPerfEventIocSetBpf, tracepoint_program), -rt::kEINVAL);
  EXPECT_EQ(ioctl(kprobe, kPerfEventIocSetBpf, raw_program), -rt::kEINVAL);
  EXPECT_EQ(ioctl(tracepoint, kPerfEventIocSetBpf, kprobe_program), -rt::kEINVAL);
  EXPECT_EQ(ioctl(clock, kPerfEventIocSetBpf, kprobe_program), -rt::kEINVAL);
  EXPECT_EQ(ioctl(kprobe, kPerfEventIocSetBpf, 99), -rt::kEBADF);
  EXPECT_EQ(ioctl(kprobe, kPerfEventIocSetBpf, map), -rt::kEINVAL);
  EXPECT_EQ(ioctl(kprobe, kPerfEventIocSetBpf, kprobe_program), 0);
  EXPECT_EQ(ioctl(kprobe, kPerfEventIocSetBpf, kprobe_program), -rt::kEEXIST);
  EXPECT_EQ(ioctl(tracepoint, kPerfEventIocSetBpf, tracepoint_program), 0);
  EXPECT_EQ(ioctl(clock, kPerfEventIocSetBpf, perf_program), 0);
  EXPECT_EQ(ioctl(clock, kPerfEventIocSetBpf, perf_program), -rt::kEEXIST);
  // The event holds its program: closing the program's handle leaves it running.
  EXPECT_TRUE(session_.close(static_cast<int32_t>(kprobe_program)).ok());
  EXPECT_EQ(hit(probe_of(kprobe)), 1u);
  EXPECT_EQ(counter(map), 1u);
}

TEST_F(PerfEventTest, HitsRunEveryProgramOfATracepoint) {
  int64_t map = counter_map();
  int64_t first_program = load_counter(map, kProgTracepoint, 0);
  int64_t second_program = load_counter(map, kProgTracepoint, 1);
  int64_t first = open(tracepoint_attr(FakeProbeHooks::kOpenatId));
  int64_t second = open(tracepoint_attr(FakeProbeHooks::kOpenatId));
  EXPECT_EQ(ioctl(first, kPerfEventIocSetBpf, first_program), 0);
  EXPECT_EQ(ioctl(second, kPerfEventIocSetBpf, first_program), -rt::kEEXIST)
      << "a program is in a tracepoint's array once";
  EXPECT_EQ(ioctl(second, kPerfEventIocSetBpf, second_program), 0);
  ASSERT_EQ(ioctl(first, kPerfEventIocDisable), 0);
  uint8_t record[64] = {};
  // Programs run whether or not the events are enabled (Linux runs the tracepoint's array).
  EXPECT_EQ(hit(probe_of(first), record, sizeof(record)), 2u);
  EXPECT_EQ(counter(map, 0), 1u);
  EXPECT_EQ(counter(map, 1), 1u);
  EXPECT_EQ(event_of(first)->count, 0u);
  EXPECT_EQ(event_of(second)->count, 1u);
  // Closing an event takes its program out of the array.
  EXPECT_TRUE(session_.close(static_cast<int32_t>(second)).ok());
  EXPECT_EQ(hit(probe_of(first), record, sizeof(record)), 1u);
  EXPECT_EQ(counter(map, 1), 1u);
  EXPECT_EQ(hit(12345), 0u) << "an unknown probe runs nothing";
}

TEST_F(PerfEventTest, AProgramReturningZeroStopsTheCount) {
  int64_t map = counter_map();
  int64_t program = load_counter(map, kProgKprobe, 0, 0);
  int64_t fd = open_kprobe("vfs_read");
  EXPECT_EQ(ioctl(fd, kPerfEventIocSetBpf, program), 0);
  uint8_t regs[kPtRegsSize] = {};
  EXPECT_EQ(hit(probe_of(fd), regs, sizeof(regs)), 1u);
  EXPECT_EQ(counter(map), 1u);
  EXPECT_EQ(event_of(fd)->count, 0u);
}

TEST_F(PerfEventTest, KprobeProgramsReadPtRegs) {
  // r0 = regs->di (offset 112): the first argument, as PT_REGS_PARM1.
  int64_t map = counter_map();
  std::string text =
      "ldxdw %r6, [%r1+112]\nstw [%r10-4], 2\nmov %r2, %r10\nadd %r2, -4\n"
      "lddw %r1, map:" +
      std::to_string(map) + "\ncall 1\njeq %r0, 0, +1\nstxdw [%r0+0], %r6\nmov %r0, 1\nexit";
  int64_t program = load(assemble(text), kProgKprobe);
  ASSERT_GT(program, 0);
  int64_t fd = open_kprobe("do_unlinkat");
  EXPECT_EQ(ioctl(fd, kPerfEventIocSetBpf, program), 0);
  uint64_t regs[kPtRegsSize / 8] = {};
  regs[14] = 0xabcdef;
  EXPECT_EQ(hit(probe_of(fd), regs, sizeof(regs)), 1u);
  EXPECT_EQ(counter(map, 2), 0xabcdefu);
  EXPECT_EQ(hit(probe_of(fd), regs, 8), 1u) << "a short context is padded with zeroes";
  EXPECT_EQ(counter(map, 2), 0u);
  EXPECT_EQ(hit(probe_of(fd), regs, 120), 1u) << "short, with di";
  EXPECT_EQ(counter(map, 2), 0xabcdefu);
  EXPECT_EQ(hit(probe_of(fd), regs, 8), 1u) << "what the last short one left is zeroes again";
  EXPECT_EQ(counter(map, 2), 0u);
}

TEST_F(PerfEventTest, QueryBpfListsTheTracepointsPrograms) {
  int64_t map = counter_map();
  int64_t first_program = load_counter(map, kProgTracepoint, 0);
  int64_t second_program = load_counter(map, kProgTracepoint, 1);
  int64_t first = open(tracepoint_attr(FakeProbeHooks::kOpenatId));
  int64_t second = open(tracepoint_attr(FakeProbeHooks::kOpenatId));
  ASSERT_EQ(ioctl(first, kPerfEventIocSetBpf, first_program), 0);
  ASSERT_EQ(ioctl(second, kPerfEventIocSetBpf, second_program), 0);
  uint32_t query[2 + 4] = {4, 0, 9, 9, 9, 9};
  memory_.allow(query, sizeof(query));
  EXPECT_EQ(ioctl(second, kPerfEventIocQueryBpf, address(query)), 0);
  EXPECT_EQ(query[1], 2u);
  ProgramObject* one =
      static_cast<ProgramObject*>(session_.lookup(static_cast<int32_t>(first_program))->object);
  ProgramObject* two =
      static_cast<ProgramObject*>(session_.lookup(static_cast<int32_t>(second_program))->object);
  EXPECT_EQ(query[2], one->id);
  EXPECT_EQ(query[3], two->id);
  EXPECT_EQ(query[4], 0u) << "ids_len entries are written";
  query[0] = 1;
  EXPECT_EQ(ioctl(second, kPerfEventIocQueryBpf, address(query)), -rt::kENOSPC);
  EXPECT_EQ(query[1], 2u);
  EXPECT_EQ(query[2], one->id);
  query[0] = 0;
  EXPECT_EQ(ioctl(second, kPerfEventIocQueryBpf, address(query)), 0) << "the count alone";
  query[0] = 65;
  EXPECT_EQ(ioctl(second, kPerfEventIocQueryBpf, address(query)), -rt::kE2BIG);
  EXPECT_EQ(ioctl(second, kPerfEventIocQueryBpf, 8), -rt::kEFAULT);
  int64_t kprobe = open_kprobe("do_unlinkat");
  EXPECT_EQ(ioctl(kprobe, kPerfEventIocQueryBpf, address(query)), -rt::kEINVAL)
      << "only PERF_TYPE_TRACEPOINT events";
}

}  // namespace
}  // namespace trace::testing

namespace trace::testing {
namespace {

PerfEventAttr sampling_clock(uint64_t period, bool freq = false) {
  PerfEventAttr attr = {};
  attr.type = kPerfTypeSoftware;
  attr.size = kPerfAttrSize;
  attr.config = kPerfCountSwCpuClock;
  attr.sample_period = period;
  attr.flags = freq ? kPerfAttrFreq : 0;
  return attr;
}

TEST_F(PerfEventTest, CpuClockSamplesRunPerfEventPrograms) {
  // The program reads regs->ip (128) and sample_period (168) into the counter map.
  int64_t map = counter_map();
  std::string text =
      "ldxdw %r6, [%r1+168]\nldxdw %r7, [%r1+128]\nstw [%r10-4], 1\n"
      "mov %r2, %r10\nadd %r2, -4\nlddw %r1, map:" +
      std::to_string(map) +
      "\ncall 1\njeq %r0, 0, +2\nstxdw [%r0+0], %r6\nstxdw [%r0+0], %r7\n"
      "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map:" +
      std::to_string(map) +
      "\ncall 1\njeq %r0, 0, +3\nldxdw %r1, [%r0+0]\nadd %r1, 1\n"
      "stxdw [%r0+0], %r1\nmov %r0, 0\nexit";
  int64_t program = load(assemble(text), kProgPerfEvent);
  ASSERT_GT(program, 0);
  int64_t fd = open(sampling_clock(99, true), -1, 0);  // 99 Hz, as libbpf-tools' profile
  ASSERT_GT(fd, 0);
  EXPECT_EQ(event_of(fd)->attr.sample_period, 1000000000u / 99) << "freq became a period";
  EXPECT_FALSE(event_of(fd)->attr.has(kPerfAttrFreq));
  int64_t other = open(sampling_clock(20000), -1, 0);
  ASSERT_GT(other, 0);
  EXPECT_EQ(probes_.cpu_clock_period(0), 20000u);
  EXPECT_EQ(probes_.cpu_clock_period(1), 0u) << "nothing samples CPU 1";
  ASSERT_TRUE(session_.close(static_cast<int32_t>(other)).ok());
  EXPECT_EQ(ioctl(fd, kPerfEventIocSetBpf, program), 0);
  uint64_t regs[kPtRegsSize / 8] = {};
  regs[16] = 0x401000;  // ip
  uint64_t period = 1000000000u / 99;
  EXPECT_EQ(probes_.report_cpu_clock(0, 42, regs, period - 1), 0u);
  EXPECT_EQ(probes_.report_cpu_clock(1, 42, regs, period), 0u) << "another CPU";
  EXPECT_EQ(probes_.report_cpu_clock(0, 42, regs, 1), 1u);
  EXPECT_EQ(counter(map, 0), 1u);
  EXPECT_EQ(counter(map, 1), 0x401000u);
  EXPECT_EQ(probes_.report_cpu_clock(0, 42, regs, 3 * period), 3u);
  EXPECT_EQ(counter(map, 0), 4u);
  ASSERT_EQ(ioctl(fd, kPerfEventIocDisable), 0);
  EXPECT_EQ(probes_.report_cpu_clock(0, 42, regs, 3 * period), 0u) << "disabled";
}

TEST_F(PerfEventTest, CpuClockSamplesGoToTheRingWithoutAProgram) {
  PerfEventAttr attr = sampling_clock(5);  // below the 10 us floor
  attr.sample_type = kPerfSampleIp | kPerfSampleTid | kPerfSamplePeriod;
  int64_t fd = open(attr, 42, -1);
  ASSERT_GT(fd, 0);
  EXPECT_EQ(probes_.cpu_clock_period(1), 10000u);
  auto mapping = perf_event_mmap(session_, static_cast<int32_t>(fd), 2 * 4096, 0, true);
  ASSERT_TRUE(mapping.ok());
  mappings_.push_back(*mapping);
  uint64_t regs[kPtRegsSize / 8] = {};
  regs[16] = 0x1234;
  EXPECT_EQ(probes_.report_cpu_clock(1, 7, regs, 10000), 0u) << "another task";
  EXPECT_EQ(probes_.report_cpu_clock(1, 42, regs, 10000), 1u);
  const uint8_t* data = mapping->memory + 4096;
  uint64_t ip, period;
  uint32_t size_and_misc;
  std::memcpy(&size_and_misc, data + 4, 4);
  EXPECT_EQ(size_and_misc >> 16, 8u + 8 + 8 + 8);
  std::memcpy(&ip, data + 8, 8);
  std::memcpy(&period, data + 24, 8);
  EXPECT_EQ(ip, 0x1234u);
  EXPECT_EQ(period, 10000u);
}

}  // namespace
}  // namespace trace::testing
