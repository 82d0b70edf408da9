// SPDX-License-Identifier: MIT
// Software events on tasks and CPUs: the counters (perf stat's task-clock, context-switches,
// cpu-migrations, page-faults...) counted from sched:sched_switch hits (the microkernel's
// samples, each with its CPU and time) and the POSIX server's page-fault hook; CPU-clock
// samples on the microkernel's ticks; the side-band records (MMAP2, FORK, EXIT) from the POSIX
// server's hooks.
#include "perf_test_support.hpp"

namespace trace::testing {
namespace {

class TaskCounterTest : public PerfEventTest {
 protected:
  static constexpr int64_t kSleeping = 1, kPreempted = 0x100, kZombie = 0x20;

  int64_t open_counter(uint64_t config, int32_t pid, int32_t cpu = -1, uint64_t flags = 0) {
    PerfEventAttr attr = software_attr(config);
    attr.flags = flags;
    return open(attr, pid, cpu);
  }
  uint32_t armed(const std::string& text) {
    for (const auto& [number, armed] : hooks_.armed) {
      if (armed.text == text) return number;
    }
    return 0;
  }
  // A sched_switch on `cpu` at `time`: prev_pid at 24, prev_state at 32, next_pid at 56 (0: the
  // idle task).
  void switch_at(uint64_t time, uint32_t cpu, int32_t prev, int32_t next,
                 int64_t state = kSleeping) {
    uint8_t record[64] = {};
    std::memcpy(record + 24, &prev, 4);
    std::memcpy(record + 32, &state, 8);
    std::memcpy(record + 56, &next, 4);
    environment_.now_ns = time;
    hit(armed("sched_switch"), record, sizeof(record), prev, cpu);
  }
  // A page fault of `pid` on `cpu`: the hook's pt_regs, `handled` in rcx (offset 88).
  void fault(int32_t pid, bool handled, uint32_t cpu = 0) {
    uint8_t regs[kPtRegsSize] = {};
    uint64_t value = handled ? 1 : 0;
    std::memcpy(regs + 88, &value, 8);
    hit(armed("trace_page_fault_user"), regs, sizeof(regs), pid, cpu);
  }
  uint64_t count_at(int64_t fd, uint64_t time) {
    environment_.now_ns = time;
    uint64_t value = ~0ull;
    memory_.allow(&value, sizeof(value));
    EXPECT_EQ(read(fd, &value, sizeof(value)), 8);
    return value;
  }
};

// task-clock on a task: the time it is on a CPU while the event is enabled, from the switches
// that put it there and take it off (also when it moves to another CPU unseen), whatever the
// order the samples arrive in against enabling.
TEST_F(TaskCounterTest, TaskClockIsTheTimeTheTaskIsOnACpu) {
  environment_.now_ns = 1000;
  int64_t clock = open_counter(kPerfCountSwTaskClock, 7);
  ASSERT_GT(clock, 0);
  ASSERT_NE(armed("sched_switch"), 0u) << "switches are watched";
  switch_at(2000, 0, 0, 7);
  EXPECT_EQ(count_at(clock, 2500), 500u) << "on its CPU now";
  switch_at(3000, 0, 7, 0);
  EXPECT_EQ(count_at(clock, 5000), 1000u) << "off it";
  switch_at(6000, 1, 9, 7);
  switch_at(6300, 0, 7, 0);  // a stale switch on the CPU it left unseen counts nothing more
  switch_at(6500, 1, 7, 9, kPreempted);
  EXPECT_EQ(count_at(clock, 6600), 1500u);
  switch_at(7000, 0, 0, 7);
  switch_at(7200, 1, 0, 7);  // on CPU 1 now: it left CPU 0 at this switch
  EXPECT_EQ(count_at(clock, 7300), 1800u);
  switch_at(7400, 1, 7, 0);
  // Disabled, nothing counts; the part before the disable does.
  switch_at(8000, 0, 0, 7);
  environment_.now_ns = 8100;
  EXPECT_EQ(ioctl(clock, kPerfEventIocDisable), 0);
  switch_at(9000, 0, 7, 0);
  EXPECT_EQ(count_at(clock, 9500), 2000u);
  switch_at(9600, 0, 0, 7);
  environment_.now_ns = 10000;
  EXPECT_EQ(ioctl(clock, kPerfEventIocEnable), 0);
  switch_at(10500, 0, 7, 0);
  EXPECT_EQ(count_at(clock, 11000), 2500u) << "from the enable on";
  environment_.now_ns = 11000;
  EXPECT_EQ(ioctl(clock, kPerfEventIocReset), 0);
  EXPECT_EQ(count_at(clock, 11500), 0u);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(clock)).ok());
  EXPECT_EQ(armed("sched_switch"), 0u) << "the last counter closed: unwatched";
}

// perf stat's workload: opened disabled with enable_on_exec before the task runs; the switch
// that put it on its CPU is drained after the exec enabled the event, which counts from the
// exec. The caller's own count runs from the open.
TEST_F(TaskCounterTest, TaskClockFromAnEnablingExecAndOfTheCaller) {
  environment_.now_ns = 1000;
  int64_t mine = open_counter(kPerfCountSwTaskClock, 0);
  EXPECT_EQ(count_at(mine, 1400), 400u) << "the caller is on its CPU as it opens";
  EXPECT_TRUE(session_.close(static_cast<int32_t>(mine)).ok());
  int64_t clock =
      open_counter(kPerfCountSwTaskClock, 7, -1, kPerfAttrDisabled | kPerfAttrEnableOnExec);
  ASSERT_GT(clock, 0);
  uint32_t exec = armed("sched_process_exec");
  ASSERT_NE(exec, 0u);
  uint64_t arguments[3] = {};
  environment_.now_ns = 5000;
  hit(exec, arguments, sizeof(arguments), 7);  // the exec, before the earlier switch is drained
  switch_at(4000, 0, 0, 7);
  switch_at(6000, 0, 7, 0, kZombie);
  EXPECT_EQ(count_at(clock, 7000), 1000u) << "from the exec to its end";
  EXPECT_TRUE(event_of(clock)->tasks.size() == 0) << "a task gone is forgotten";
  EXPECT_TRUE(session_.close(static_cast<int32_t>(clock)).ok());
}

// context-switches: each switch off a CPU of a followed task (or, on a CPU, every switch
// there); cpu-migrations: a followed task coming on another CPU than it last ran on. With
// inherit, children count, also in the switch that ends them (drained after their exit).
TEST_F(TaskCounterTest, ContextSwitchesAndMigrations) {
  int64_t switches = open_counter(kPerfCountSwContextSwitches, 7, -1, kPerfAttrInherit);
  int64_t migrations = open_counter(kPerfCountSwCpuMigrations, 7);
  int64_t on_cpu1 = open_counter(kPerfCountSwContextSwitches, -1, 1);
  ASSERT_GT(switches, 0);
  ASSERT_GT(migrations, 0);
  ASSERT_GT(on_cpu1, 0);
  switch_at(100, 0, 0, 7);
  switch_at(200, 0, 7, 9, kPreempted);  // preempted counts as Linux's sched_out does
  switch_at(300, 0, 9, 7);
  switch_at(400, 0, 7, 0);
  switch_at(500, 1, 0, 7);  // moved
  switch_at(600, 1, 7, 9);
  switch_at(700, 1, 9, 0);  // another task
  uint8_t fork_record[48] = {};
  int32_t parent = 7, child = 77;
  std::memcpy(fork_record + 24, &parent, 4);
  std::memcpy(fork_record + 44, &child, 4);
  hit(armed("sched_process_fork"), fork_record, sizeof(fork_record), 7);
  switch_at(800, 0, 0, 77);
  uint8_t exit_record[32] = {};
  hit(armed("sched_process_exit"), exit_record, sizeof(exit_record), 77);
  switch_at(900, 0, 77, 0, kZombie);  // drained after the exit
  EXPECT_EQ(count_at(switches, 1000), 4u) << "3 of the task, 1 of its child";
  EXPECT_EQ(count_at(migrations, 1000), 1u);
  EXPECT_EQ(count_at(on_cpu1, 1000), 3u) << "every switch on CPU 1";
  for (int64_t fd : {switches, migrations, on_cpu1})
    EXPECT_TRUE(session_.close(static_cast<int32_t>(fd)).ok());
  EXPECT_TRUE(hooks_.armed.empty());
}

// perf record -e cs and bpftrace's `software:cs:N`: a sampling context-switches event samples
// the task leaving each period's end, after its program (which counts its runs here).
TEST_F(TaskCounterTest, ContextSwitchesSample) {
  int64_t map = counter_map();
  int64_t program = load_counter(map, 7 /* BPF_PROG_TYPE_PERF_EVENT */);
  ASSERT_GT(program, 0);
  PerfEventAttr attr = software_attr(kPerfCountSwContextSwitches);
  attr.sample_period = 2;
  attr.sample_type = kPerfSampleTid;
  int64_t on_cpu0 = open(attr, -1, 0);
  ASSERT_GT(on_cpu0, 0);
  auto mapping = perf_event_mmap(session_, static_cast<int32_t>(on_cpu0), 2 * 4096, 0, true);
  ASSERT_TRUE(mapping.ok());
  mappings_.push_back(*mapping);
  attr.sample_period = 1;
  int64_t with_program = open(attr, -1, 0);
  ASSERT_GT(with_program, 0);
  ASSERT_EQ(ioctl(with_program, kPerfEventIocSetBpf, program), 0);
  switch_at(100, 0, 0, 7);
  switch_at(200, 0, 7, 9);
  switch_at(300, 0, 9, 7);
  switch_at(400, 1, 7, 0);  // another CPU
  EXPECT_EQ(counter(map, 0), 3u) << "a run per switch on CPU 0";
  uint64_t head = 0;
  std::memcpy(&head, mapping->memory + kPerfDataHeadOffset, 8);
  ASSERT_EQ(head, 16u) << "the second of CPU 0's three switches (header, pid/tid); none of CPU 1";
  uint16_t misc = 0;
  uint32_t tid = 0;
  std::memcpy(&misc, mapping->memory + 4096 + 4, 2);
  std::memcpy(&tid, mapping->memory + 4096 + 12, 4);
  EXPECT_EQ(misc, kPerfRecordMiscKernel);
  EXPECT_EQ(tid, 7u) << "the task leaving at the second switch";
  for (int64_t fd : {on_cpu0, with_program})
    EXPECT_TRUE(session_.close(static_cast<int32_t>(fd)).ok());
}

// page-faults: every fault the POSIX server takes for a followed task (or on a CPU);
// minor-faults: those it resolved. Counters nothing on Sonde can make count open and read 0,
// and a CPU's task clock is its time enabled.
TEST_F(TaskCounterTest, PageFaultsAndCountersThatStayZero) {
  int64_t faults = open_counter(kPerfCountSwPageFaults, 42);
  int64_t minor = open_counter(kPerfCountSwPageFaultsMin, 42);
  int64_t on_cpu1 = open_counter(kPerfCountSwPageFaults, -1, 1);
  ASSERT_GT(faults, 0);
  ASSERT_GT(minor, 0);
  ASSERT_GT(on_cpu1, 0);
  ASSERT_NE(armed("trace_page_fault_user"), 0u) << "the fault hook is probed";
  EXPECT_EQ(armed("sched_switch"), 0u) << "faults need no switches";
  EXPECT_EQ(probes_.find(armed("trace_page_fault_user"))->events_follow,
            Probe::kFollowsTask | Probe::kFollowsCpu)
      << "its hits find out their task";
  fault(42, true);
  fault(42, false);  // a SIGSEGV: a page fault, not a minor one
  fault(7, true, 1);
  EXPECT_EQ(count_at(faults, 0), 2u);
  EXPECT_EQ(count_at(minor, 0), 1u);
  EXPECT_EQ(count_at(on_cpu1, 0), 1u);
  EXPECT_EQ(ioctl(faults, kPerfEventIocDisable), 0);
  fault(42, true);
  EXPECT_EQ(count_at(faults, 0), 2u) << "disabled";
  for (uint64_t config :
       {kPerfCountSwPageFaultsMaj, kPerfCountSwAlignmentFaults, kPerfCountSwEmulationFaults,
        kPerfCountSwDummy, kPerfCountSwCgroupSwitches}) {
    int64_t fd = open_counter(config, 42);
    ASSERT_GT(fd, 0) << config;
    fault(42, true);
    EXPECT_EQ(count_at(fd, 0), 0u) << config;
    EXPECT_TRUE(session_.close(static_cast<int32_t>(fd)).ok());
  }
  environment_.now_ns = 1000;
  int64_t cpu_clock = open_counter(kPerfCountSwTaskClock, -1, 0);
  EXPECT_EQ(count_at(cpu_clock, 1700), 700u);
  for (int64_t fd : {faults, minor, on_cpu1, cpu_clock})
    EXPECT_TRUE(session_.close(static_cast<int32_t>(fd)).ok());
  EXPECT_TRUE(hooks_.armed.empty());
}

// perf record -e page-faults -d: a sampling fault counter writes a sample at each period's end
// with the fault's ip and address (a frequency samples every fault).
TEST_F(TaskCounterTest, PageFaultCountersSample) {
  PerfEventAttr attr = software_attr(kPerfCountSwPageFaults);
  attr.sample_period = 2;
  attr.sample_type = kPerfSampleIp | kPerfSampleAddr | kPerfSampleDataSrc;
  int64_t fd = open(attr, 42, 0);
  ASSERT_GT(fd, 0);
  auto mapping = perf_event_mmap(session_, static_cast<int32_t>(fd), 2 * 4096, 0, true);
  ASSERT_TRUE(mapping.ok());
  mappings_.push_back(*mapping);
  for (uint64_t i = 1; i <= 5; ++i) {
    uint64_t regs[kPtRegsSize / 8] = {};
    regs[112 / 8] = 0x5e0000 + i;  // the address
    regs[104 / 8] = 0x401000 + i;  // the ip
    regs[88 / 8] = 1;
    hit(armed("trace_page_fault_user"), regs, sizeof(regs), 42, 0);
  }
  EXPECT_EQ(count_at(fd, 0), 5u);
  uint64_t head = 0;
  std::memcpy(&head, mapping->memory + kPerfDataHeadOffset, 8);
  ASSERT_EQ(head, 2u * (8 + 24)) << "faults 2 and 4: header, ip, addr, data_src";
  const uint8_t* record = mapping->memory + 4096;
  uint16_t misc = 0;
  uint64_t ip = 0, address = 0;
  std::memcpy(&misc, record + 4, 2);
  std::memcpy(&ip, record + 8, 8);
  std::memcpy(&address, record + 16, 8);
  EXPECT_EQ(misc, kPerfRecordMiscUser);
  EXPECT_EQ(ip, 0x401002u);
  EXPECT_EQ(address, 0x5e0002u);
  uint64_t data_src = 0;
  std::memcpy(&data_src, record + 24, 8);
  EXPECT_EQ(data_src, 0x5080021u) << "PERF_MEM_NA";
}

// bpftrace's `software:page-faults:2`: the event's perf_event program runs at each period's end
// on the faulting user registers (ip, user mode) with the fault's address as ctx->addr; it
// stores ctx->addr (offset 176) and regs->ip (128) in a map.
TEST_F(TaskCounterTest, PageFaultSamplesRunTheEventsProgram) {
  int64_t map = counter_map();
  std::string store =
      "stw [%r10-4], SLOT\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map:" + std::to_string(map) +
      "\ncall 1\njeq %r0, 0, +1\nstxdw [%r0+0], VALUE\n";
  auto with = [&](const char* slot, const char* value) {
    std::string text = store;
    text.replace(text.find("SLOT"), 4, slot);
    text.replace(text.find("VALUE"), 5, value);
    return text;
  };
  int64_t program = load(assemble("ldxdw %r6, [%r1+176]\nldxdw %r7, [%r1+128]\n" +
                                  with("0", "%r6") + with("1", "%r7") + "mov %r0, 0\nexit"),
                         7 /* BPF_PROG_TYPE_PERF_EVENT */);
  ASSERT_GT(program, 0);
  PerfEventAttr attr = software_attr(kPerfCountSwPageFaults);
  attr.sample_period = 2;
  int64_t fd = open(attr, -1, 0);
  ASSERT_GT(fd, 0);
  ASSERT_EQ(ioctl(fd, kPerfEventIocSetBpf, program), 0);
  for (uint64_t i = 1; i <= 3; ++i) {
    uint64_t regs[kPtRegsSize / 8] = {};
    regs[112 / 8] = 0x5e0000 + i;  // the address
    regs[104 / 8] = 0x401000 + i;  // the ip
    regs[88 / 8] = 1;
    hit(armed("trace_page_fault_user"), regs, sizeof(regs), 42, 0);
  }
  EXPECT_EQ(counter(map, 0), 0x5e0002u) << "the second fault's address";
  EXPECT_EQ(counter(map, 1), 0x401002u) << "and its ip";
  EXPECT_TRUE(session_.close(static_cast<int32_t>(fd)).ok());
}

// perf record's default event (cpu-clock, sampling): the microkernel's timer ticks, a kernel
// probe on trace_cpu_clock_tick armed while a sampling CPU_CLOCK event is open, each give the
// time since that CPU's last tick to the events following the task it found; every period in
// it is a sample with the interrupted ip, marked user or kernel (exclude_kernel drops these).
TEST_F(TaskCounterTest, CpuClockSamplesOnTheMicrokernelsTicks) {
  PerfEventAttr attr = software_attr(kPerfCountSwCpuClock);
  attr.sample_period = 1'000'000;
  attr.sample_type = kPerfSampleIp | kPerfSampleTid | kPerfSamplePeriod;
  int64_t fd = open(attr, 42, 0);
  attr.flags = kPerfAttrExcludeKernel;
  int64_t user_only = open(attr, 42, 0);
  ASSERT_GT(fd, 0);
  ASSERT_GT(user_only, 0);
  EXPECT_EQ(open(software_attr(kPerfCountSwCpuClock), 42, 0) > 0, true) << "counting: no ticks";
  uint32_t tick_probe = armed("microkernel:trace_cpu_clock_tick");
  ASSERT_NE(tick_probe, 0u) << "ticks are watched while a CPU_CLOCK event samples";
  auto mapping = perf_event_mmap(session_, static_cast<int32_t>(fd), 2 * 4096, 0, true);
  ASSERT_TRUE(mapping.ok());
  mappings_.push_back(*mapping);
  auto user_mapping = perf_event_mmap(session_, static_cast<int32_t>(user_only), 2 * 4096, 0, true);
  ASSERT_TRUE(user_mapping.ok());
  mappings_.push_back(*user_mapping);
  // trace_cpu_clock_tick(ids, comm0, comm1, ip, sp, in_kernel) in the sample's pt_regs.
  auto tick = [&](uint64_t time, uint64_t ids, uint64_t ip, uint64_t in_kernel) {
    uint64_t regs[kPtRegsSize / 8] = {};
    regs[112 / 8] = ids;
    if (ids != 0) std::memcpy(&regs[104 / 8], "busybox", 8);  // comm0 (si); comm1 (dx) zero
    regs[88 / 8] = ip;
    regs[72 / 8] = 0x7fff0000;
    regs[64 / 8] = in_kernel;
    environment_.now_ns = time;
    hit(tick_probe, regs, sizeof(regs), 0, 0);
  };
  const uint64_t task = (uint64_t{42} << 32) | 42;
  tick(10'000'000, task, 0x401000, 0);                     // the first tick only starts the count
  tick(13'000'000, task, 0x401000, 0);                     // 3 ms in user mode: 3 samples
  tick(14'000'000, (uint64_t{7} << 32) | 7, 0x402000, 0);  // another task's millisecond
  tick(15'500'000, task, 0x406000, 1);  // served by the POSIX server: 1.5 ms, a kernel sample
  auto samples = [](const PerfEventMapping& ring, std::vector<std::pair<uint16_t, uint64_t>>& out) {
    uint64_t head = 0;
    std::memcpy(&head, ring.memory + kPerfDataHeadOffset, 8);
    for (uint64_t at = 0; at < head;) {
      const uint8_t* record = ring.memory + 4096 + at;
      uint16_t misc, size;
      uint64_t ip;
      std::memcpy(&misc, record + 4, 2);
      std::memcpy(&size, record + 6, 2);
      std::memcpy(&ip, record + 8, 8);
      out.emplace_back(misc, ip);
      at += size;
    }
  };
  std::vector<std::pair<uint16_t, uint64_t>> all, user;
  samples(*mapping, all);
  samples(*user_mapping, user);
  ASSERT_EQ(all.size(), 4u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(all[i], std::make_pair(kPerfRecordMiscUser, uint64_t{0x401000}));
  // A user ip stays as it is; the POSIX server's is its kernel alias, where kallsyms lists it.
  EXPECT_EQ(all[3], std::make_pair(kPerfRecordMiscKernel, uint64_t{0xffffffff81006000}));
  EXPECT_EQ(user.size(), 3u) << "exclude_kernel: the served tick is not sampled";
  // Each tick's task is `current` for the programs (bpftrace's profile probes read comm).
  ASSERT_EQ(hooks_.sample_tasks.size(), 3u) << "the first tick only starts the count";
  EXPECT_EQ(hooks_.sample_tasks[1].tid, 7);
  EXPECT_EQ(hooks_.sample_tasks[2].tid, 42);
  EXPECT_EQ(hooks_.sample_tasks[2].tgid, 42);
  EXPECT_EQ(hooks_.sample_tasks[2].comm, "busybox");
  // perf record -e task-clock: the same ticks sample a task clock.
  attr = software_attr(kPerfCountSwTaskClock);
  attr.sample_period = 1'000'000;
  attr.sample_type = kPerfSampleIp;
  int64_t task_clock = open(attr, 42, 0);
  ASSERT_GT(task_clock, 0);
  auto task_mapping =
      perf_event_mmap(session_, static_cast<int32_t>(task_clock), 2 * 4096, 0, true);
  ASSERT_TRUE(task_mapping.ok());
  mappings_.push_back(*task_mapping);
  tick(17'500'000, task, 0x401234, 0);  // 2 ms
  std::vector<std::pair<uint16_t, uint64_t>> task_samples;
  samples(*task_mapping, task_samples);
  ASSERT_EQ(task_samples.size(), 2u);
  EXPECT_EQ(task_samples[0], std::make_pair(kPerfRecordMiscUser, uint64_t{0x401234}));
  EXPECT_TRUE(session_.close(static_cast<int32_t>(task_clock)).ok());
  // perf record -g: a tick's callchain is its ip under the context it was taken in (the tick
  // records no frame pointer to walk further).
  attr.sample_type = kPerfSampleIp | kPerfSampleCallchain;
  int64_t chained = open(attr, 42, 0);
  ASSERT_GT(chained, 0);
  auto chained_mapping =
      perf_event_mmap(session_, static_cast<int32_t>(chained), 2 * 4096, 0, true);
  ASSERT_TRUE(chained_mapping.ok());
  mappings_.push_back(*chained_mapping);
  tick(18'500'000, task, 0x401234, 0);  // 1 ms in user mode
  tick(19'500'000, task, 0x406000, 1);  // 1 ms served by the POSIX server
  auto u64_at = [&](uint64_t at) {
    uint64_t value;
    std::memcpy(&value, chained_mapping->memory + 4096 + at, 8);
    return value;
  };
  // header 8, ip 8, nr 8, two entries 16: 40 bytes a sample.
  EXPECT_EQ(u64_at(16), 2u);
  EXPECT_EQ(u64_at(24), static_cast<uint64_t>(-512)) << "PERF_CONTEXT_USER";
  EXPECT_EQ(u64_at(32), 0x401234u);
  EXPECT_EQ(u64_at(40 + 16), 2u);
  EXPECT_EQ(u64_at(40 + 24), static_cast<uint64_t>(-128)) << "PERF_CONTEXT_KERNEL";
  EXPECT_EQ(u64_at(40 + 32), 0xffffffff81006000u) << "the POSIX server at its kernel alias";
  EXPECT_TRUE(session_.close(static_cast<int32_t>(chained)).ok());
  EXPECT_TRUE(session_.close(static_cast<int32_t>(fd)).ok());
  EXPECT_NE(armed("microkernel:trace_cpu_clock_tick"), 0u) << "one sampling event left";
  EXPECT_TRUE(session_.close(static_cast<int32_t>(user_only)).ok());
  tick(20'000'000, 0, 0xffffffff80001000, 1);  // an idle CPU: Linux's swapper
  EXPECT_EQ(hooks_.sample_tasks.back().tid, 0);
  EXPECT_EQ(hooks_.sample_tasks.back().comm, "swapper/0");
}

// bpftrace's profile probes (`@[kstack] = count()`): a perf_event program's bpf_get_stack at a
// tick is the interrupted mode's stack, which starts at the tick's ip (the POSIX server's at its
// kernel alias); the other mode's is none (EFAULT), as a user-mode sample's kernel stack on
// Linux. The program stores the helper's result (slot 0) and the first ip (slot 1).
TEST_F(TaskCounterTest, ProfileProgramsSeeTheTicksStack) {
  int64_t map = counter_map();
  auto program_for = [&](uint64_t flags) {
    std::string store =
        "stw [%r10-4], %SLOT\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map:" + std::to_string(map) +
        "\ncall 1\njeq %r0, 0, +1\nstxdw [%r0+0], %VALUE\n";
    auto with = [&](const char* slot, const char* value) {
      std::string text = store;
      text.replace(text.find("%SLOT"), 5, slot);
      text.replace(text.find("%VALUE"), 6, value);
      return text;
    };
    std::string text = "stdw [%r10-16], 0\nmov %r2, %r10\nadd %r2, -16\nmov %r3, 8\nmov %r4, " +
                       std::to_string(flags) + "\ncall 67\nmov %r6, %r0\nldxdw %r7, [%r10-16]\n" +
                       with("0", "%r6") + with("1", "%r7") + "mov %r0, 0\nexit";
    return load(assemble(text), 7 /* BPF_PROG_TYPE_PERF_EVENT */);
  };
  PerfEventAttr attr = software_attr(kPerfCountSwCpuClock);
  attr.sample_period = 1'000'000;
  int64_t fd = open(attr, -1, 0);
  ASSERT_GT(fd, 0);
  uint32_t tick_probe = armed("microkernel:trace_cpu_clock_tick");
  ASSERT_NE(tick_probe, 0u);
  auto tick = [&](uint64_t time, uint64_t ip, uint64_t in_kernel) {
    uint64_t regs[kPtRegsSize / 8] = {};
    regs[112 / 8] = (uint64_t{42} << 32) | 42;
    regs[88 / 8] = ip;
    regs[64 / 8] = in_kernel;
    environment_.now_ns = time;
    hit(tick_probe, regs, sizeof(regs), 0, 0);
  };
  tick(10'000'000, 0x401000, 0);  // starts the count
  int64_t kernel_stack = program_for(0);
  ASSERT_GT(kernel_stack, 0);
  ASSERT_EQ(ioctl(fd, kPerfEventIocSetBpf, kernel_stack), 0);
  tick(11'000'000, 0x406000, 1);  // in the POSIX server
  EXPECT_EQ(counter(map, 0), 8u) << "one frame";
  EXPECT_EQ(counter(map, 1), 0xffffffff81006000u);
  tick(12'000'000, 0x401234, 0);  // in user mode: no kernel stack
  EXPECT_EQ(static_cast<int64_t>(counter(map, 0)), -14);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(fd)).ok());
  fd = open(attr, -1, 0);
  ASSERT_GT(fd, 0);
  int64_t user_stack = program_for(1u << 8);  // BPF_F_USER_STACK
  ASSERT_GT(user_stack, 0);
  ASSERT_EQ(ioctl(fd, kPerfEventIocSetBpf, user_stack), 0);
  tick_probe = armed("microkernel:trace_cpu_clock_tick");  // armed again for the new event
  tick(13'000'000, 0x401234, 0);
  tick(14'000'000, 0x401234, 0);
  EXPECT_EQ(counter(map, 0), 8u);
  EXPECT_EQ(counter(map, 1), 0x401234u);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(fd)).ok());
}

// perf record's tracking event (attr.mmap2): a followed task's executable file mapping (the
// POSIX server's trace_vma_mapped at exec and mmap) is a PERF_RECORD_MMAP2 on the event of the
// CPU it happened on, so perf report names the file of user samples.
TEST_F(TaskCounterTest, ExecutableMappingsAreMmap2Records) {
  PerfEventAttr attr = software_attr(kPerfCountSwDummy);
  attr.flags = kPerfAttrMmap | kPerfAttrMmap2 | kPerfAttrComm;
  int64_t here = open(attr, 42, 0);
  int64_t other_cpu = open(attr, 42, 1);
  attr.flags = kPerfAttrMmap;  // the old record
  int64_t old_style = open(attr, 42, 0);
  ASSERT_GT(here, 0);
  ASSERT_GT(other_cpu, 0);
  ASSERT_GT(old_style, 0);
  std::vector<PerfEventMapping> rings;
  for (int64_t fd : {here, other_cpu, old_style}) {
    auto mapping = perf_event_mmap(session_, static_cast<int32_t>(fd), 2 * 4096, 0, true);
    ASSERT_TRUE(mapping.ok());
    mappings_.push_back(*mapping);
    rings.push_back(*mapping);
  }
  uint32_t mmap_probe = armed("trace_vma_mapped");
  ASSERT_NE(mmap_probe, 0u);
  // trace_vma_mapped(ids, address, length, pgoff, prot_flags, path, inode): the inode above
  // the return address at sp.
  struct {
    uint64_t return_address = 0;
    uint64_t inode = 6;
    char path[16] = "/bin/busybox";
  } stack;
  environment_.kernel_memory = &stack;
  environment_.kernel_size = sizeof(stack);
  auto mapped = [&](uint64_t tid, uint32_t cpu) {
    uint64_t regs[kPtRegsSize / 8] = {};
    regs[112 / 8] = tid | uint64_t{42} << 32;
    regs[104 / 8] = 0x401000;
    regs[96 / 8] = 0x184000;
    regs[88 / 8] = 0x1000;
    regs[72 / 8] = 5 | 0x02 << 8 | uint64_t{1} << 32;  // r-x, MAP_PRIVATE, device 00:01
    regs[64 / 8] = reinterpret_cast<uint64_t>(stack.path);
    regs[152 / 8] = reinterpret_cast<uint64_t>(&stack);
    hit(mmap_probe, regs, sizeof(regs), static_cast<int32_t>(tid), cpu);
  };
  mapped(42, 0);
  mapped(7, 0);  // a task nobody follows
  auto head_of = [](const PerfEventMapping& ring) {
    uint64_t head = 0;
    std::memcpy(&head, ring.memory + kPerfDataHeadOffset, 8);
    return head;
  };
  EXPECT_EQ(head_of(rings[1]), 0u) << "the event of another CPU";
  const uint8_t* record = rings[0].memory + 4096;
  uint32_t type = 0, pid = 0, tid = 0, major = 0, minor = 0, prot = 0, flags = 0;
  uint16_t misc = 0, size = 0;
  uint64_t address = 0, length = 0, pgoff = 0, inode = 0;
  std::memcpy(&type, record, 4);
  std::memcpy(&misc, record + 4, 2);
  std::memcpy(&size, record + 6, 2);
  std::memcpy(&pid, record + 8, 4);
  std::memcpy(&tid, record + 12, 4);
  std::memcpy(&address, record + 16, 8);
  std::memcpy(&length, record + 24, 8);
  std::memcpy(&pgoff, record + 32, 8);
  std::memcpy(&major, record + 40, 4);
  std::memcpy(&minor, record + 44, 4);
  std::memcpy(&inode, record + 48, 8);
  std::memcpy(&prot, record + 64, 4);
  std::memcpy(&flags, record + 68, 4);
  EXPECT_EQ(type, kPerfRecordMmap2);
  EXPECT_EQ(misc, kPerfRecordMiscUser);
  EXPECT_EQ(size, 72u + 16) << "header, fields, the path padded to 16";
  EXPECT_EQ(head_of(rings[0]), size) << "one record: the other task's is not here";
  EXPECT_EQ(pid, 42u);
  EXPECT_EQ(tid, 42u);
  EXPECT_EQ(address, 0x401000u);
  EXPECT_EQ(length, 0x184000u);
  EXPECT_EQ(pgoff, 0x1000u);
  EXPECT_EQ(major, 0u);
  EXPECT_EQ(minor, 1u);
  EXPECT_EQ(inode, 6u);
  EXPECT_EQ(prot, 5u);
  EXPECT_EQ(flags, 2u);
  EXPECT_STREQ(reinterpret_cast<const char*>(record + 72), "/bin/busybox");
  // PERF_RECORD_MMAP without mmap2: pid, tid, address, length, pgoff, the path.
  const uint8_t* old_record = rings[2].memory + 4096;
  std::memcpy(&type, old_record, 4);
  std::memcpy(&size, old_record + 6, 2);
  EXPECT_EQ(type, kPerfRecordMmap);
  EXPECT_EQ(size, 40u + 16);
  EXPECT_STREQ(reinterpret_cast<const char*>(old_record + 40), "/bin/busybox");
  environment_.kernel_memory = nullptr;  // an unreadable path: no record
  mapped(42, 0);
  EXPECT_EQ(head_of(rings[0]), 72u + 16);
}

// attr.task (perf record's tracking event): a fork by a followed task is a PERF_RECORD_FORK
// (the child's pid and tid, the forking task's), a followed task's end an EXIT (its real
// parent's group as both parent ids), from the POSIX server's trace_task_forked and
// trace_task_exited (ids: tid | tgid << 32, then the parent's).
TEST_F(TaskCounterTest, ForksAndExitsAreTaskRecords) {
  PerfEventAttr attr = software_attr(kPerfCountSwDummy);
  attr.flags = kPerfAttrTask | kPerfAttrSampleIdAll;
  attr.sample_type = kPerfSampleTid;
  int64_t fd = open(attr, 42, 0);
  ASSERT_GT(fd, 0);
  auto mapping = perf_event_mmap(session_, static_cast<int32_t>(fd), 2 * 4096, 0, true);
  ASSERT_TRUE(mapping.ok());
  mappings_.push_back(*mapping);
  uint32_t forked = armed("trace_task_forked"), exited = armed("trace_task_exited");
  ASSERT_NE(forked, 0u);
  ASSERT_NE(exited, 0u);
  auto call = [&](uint32_t probe, uint64_t ids, uint64_t parent) {
    uint64_t regs[kPtRegsSize / 8] = {};
    regs[112 / 8] = ids;
    regs[104 / 8] = parent;
    hit(probe, regs, sizeof(regs), static_cast<int32_t>(static_cast<uint32_t>(ids)), 0);
  };
  const uint64_t shell = uint64_t{42} << 32 | 42, child = uint64_t{77} << 32 | 77;
  call(forked, child, shell);
  call(forked, uint64_t{9} << 32 | 9, uint64_t{8} << 32 | 8);  // nobody followed forks
  call(exited, shell, uint64_t{1} << 32 | 1);
  uint64_t head = 0;
  std::memcpy(&head, mapping->memory + kPerfDataHeadOffset, 8);
  ASSERT_EQ(head, 2u * (8 + 16 + 8 + 8)) << "header, the ids, the time, the sample_id's tid";
  const uint8_t* fork_record = mapping->memory + 4096;
  const uint8_t* exit_record = fork_record + 40;
  uint32_t type = 0, ids[4] = {}, sample[2] = {};
  std::memcpy(&type, fork_record, 4);
  std::memcpy(ids, fork_record + 8, 16);
  std::memcpy(sample, fork_record + 32, 8);
  EXPECT_EQ(type, kPerfRecordFork);
  EXPECT_EQ(ids[0], 77u) << "pid";
  EXPECT_EQ(ids[1], 42u) << "ppid";
  EXPECT_EQ(ids[2], 77u) << "tid";
  EXPECT_EQ(ids[3], 42u) << "ptid";
  EXPECT_EQ(sample[1], 42u) << "the sample_id names the forking task";
  std::memcpy(&type, exit_record, 4);
  std::memcpy(ids, exit_record + 8, 16);
  EXPECT_EQ(type, kPerfRecordExit);
  EXPECT_EQ(ids[0], 42u);
  EXPECT_EQ(ids[1], 1u);
  EXPECT_EQ(ids[2], 42u);
  EXPECT_EQ(ids[3], 1u) << "the real parent's group, as ptid too";
}

}  // namespace
}  // namespace trace::testing
