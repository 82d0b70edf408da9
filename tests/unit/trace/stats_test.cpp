// SPDX-License-Identifier: MIT
// BPF_ENABLE_STATS and kernel.bpf_stats_enabled (run_time_ns and run_cnt in bpf_prog_info),
// BPF_TRACE_KPROBE_MULTI links (Linux 6.1's checks and errno, cookies, bpf_get_func_ip), and
// bpf_get_attach_cookie on perf event links.
#include <linux/bpf.h>

#include "perf_test_support.hpp"

namespace trace::testing {
namespace {

class StatsTest : public PerfEventTest {
 protected:
  int64_t enable_stats(uint32_t type = BPF_STATS_RUN_TIME) {
    BpfAttr attr = {};
    std::memcpy(attr.bytes, &type, sizeof type);
    return bpf(kEnableStats, attr);
  }
  // A raw tracepoint program, run once through PROG_TEST_RUN.
  int64_t test_run(int64_t program) {
    BpfAttr attr = {};
    attr.test.prog_fd = static_cast<uint32_t>(program);
    return bpf(kProgTestRun, attr);
  }
  ProgInfo info_of(int64_t program) {
    ProgInfo info = {};
    info.recursion_misses = 77;  // the kernel's answer replaces what the caller had there
    memory_.allow(&info, sizeof info);
    BpfAttr attr = {};
    attr.info.bpf_fd = static_cast<uint32_t>(program);
    attr.info.info_len = sizeof info;
    attr.info.info = address(&info);
    EXPECT_EQ(bpf(kObjGetInfoByFd, attr), 0);
    return info;
  }
  void close(int64_t handle) { ASSERT_TRUE(session_.close(static_cast<int32_t>(handle)).ok()); }
};

TEST_F(StatsTest, EnableStatsChecksTheAttrAndTheType) {
  EXPECT_EQ(enable_stats(1), -rt::kEINVAL) << "only BPF_STATS_RUN_TIME";
  BpfAttr attr = {};
  attr.bytes[4] = 1;  // past enable_stats.type
  EXPECT_EQ(bpf(kEnableStats, attr), -rt::kEINVAL);
  session_.set_privileged(false);
  EXPECT_EQ(enable_stats(), -rt::kEPERM);
  session_.set_privileged(true);
  EXPECT_FALSE(objects_.stats_enabled());
}

TEST_F(StatsTest, StatsCountWhileAnFdIsOpenAndStopAtTheLastClose) {
  int64_t program = load(assemble("mov %r0, 7\nexit"), BPF_PROG_TYPE_RAW_TRACEPOINT);
  ASSERT_GT(program, 0);
  environment_.clock_step_ns = 250;  // every clock reading is 250 ns later
  ASSERT_EQ(test_run(program), 0);
  EXPECT_EQ(info_of(program).run_cnt, 0u) << "off: nothing is counted";
  EXPECT_EQ(info_of(program).run_time_ns, 0u);

  int64_t first = enable_stats();
  ASSERT_GT(first, 0);
  int64_t second = enable_stats();
  ASSERT_GT(second, first);
  EXPECT_EQ(objects_.stats_users(), 2u);
  ASSERT_EQ(test_run(program), 0);
  ASSERT_EQ(test_run(program), 0);
  ProgInfo info = info_of(program);
  EXPECT_EQ(info.run_cnt, 2u);
  EXPECT_EQ(info.run_time_ns, 500u) << "one clock step per run";
  EXPECT_EQ(info.recursion_misses, 0u);

  close(first);
  ASSERT_EQ(test_run(program), 0);
  EXPECT_EQ(info_of(program).run_cnt, 3u) << "still on while the second fd is open";
  close(second);
  EXPECT_FALSE(objects_.stats_enabled());
  ASSERT_EQ(test_run(program), 0);
  info = info_of(program);
  EXPECT_EQ(info.run_cnt, 3u) << "off after the last close; the numbers stay";
  EXPECT_EQ(info.run_time_ns, 750u);
}

TEST_F(StatsTest, TheSysctlTurnsStatsOnAndOffAndShowsWhatWasWritten) {
  EXPECT_EQ(objects_.stats_sysctl(), 0);
  ASSERT_TRUE(objects_.set_stats_sysctl(1).ok());
  ASSERT_TRUE(objects_.set_stats_sysctl(1).ok());
  EXPECT_EQ(objects_.stats_users(), 1u) << "writing the same value again changes nothing";
  EXPECT_EQ(objects_.stats_sysctl(), 1);
  int64_t fd = enable_stats();
  ASSERT_GT(fd, 0);
  EXPECT_EQ(objects_.stats_users(), 2u);
  EXPECT_EQ(objects_.set_stats_sysctl(2).error().code, rt::kEINVAL);
  EXPECT_EQ(objects_.set_stats_sysctl(-1).error().code, rt::kEINVAL);
  ASSERT_TRUE(objects_.set_stats_sysctl(0).ok());
  EXPECT_EQ(objects_.stats_sysctl(), 0) << "the sysctl shows its own value, not the fds'";
  EXPECT_TRUE(objects_.stats_enabled());
  close(fd);
  EXPECT_FALSE(objects_.stats_enabled());
}

TEST_F(StatsTest, ProbeHitsAreCounted) {
  int64_t map = counter_map();
  int64_t program = load_counter(map, BPF_PROG_TYPE_KPROBE);
  int64_t event = open_kprobe("do_unlinkat");
  ASSERT_GT(event, 0);
  ASSERT_GT(link_create(program, event), 0);
  environment_.clock_step_ns = 10;
  int64_t stats = enable_stats();
  ASSERT_GT(stats, 0);
  uint8_t regs[kPtRegsSize] = {};
  EXPECT_EQ(hit(probe_of(event), regs, sizeof regs), 1u);
  EXPECT_EQ(hit(probe_of(event), regs, sizeof regs), 1u);
  ProgInfo info = info_of(program);
  EXPECT_EQ(info.run_cnt, 2u);
  EXPECT_EQ(info.run_time_ns, 20u);
  EXPECT_EQ(counter(map), 2u);
}

// Slot 0 of `map` gets bpf_get_attach_cookie, slot 1 bpf_get_func_ip, at every run.
std::string cookie_and_ip_program(int64_t map) {
  std::string lookup = "mov %r2, %r10\nadd %r2, -4\nlddw %r1, map:" + std::to_string(map) +
                       "\ncall 1\njeq %r0, 0, +2\n";
  return "mov %r6, %r1\ncall 174\nmov %r7, %r0\nmov %r1, %r6\ncall 173\nmov %r8, %r0\n"
         "stw [%r10-4], 0\n" +
         lookup + "stxdw [%r0+0], %r7\nstw [%r10-4], 1\n" + lookup +
         "stxdw [%r0+0], %r8\nmov %r0, 0\nexit";
}

TEST_F(StatsTest, APerfEventLinksCookieIsWhatTheProgramSees) {
  int64_t map = counter_map();
  int64_t program = load(assemble(cookie_and_ip_program(map)), BPF_PROG_TYPE_KPROBE);
  ASSERT_GT(program, 0);
  int64_t event = open_kprobe("vfs_read");
  ASSERT_GT(link_create(program, event, 0x1234567890ull), 0);
  uint8_t regs[kPtRegsSize] = {};
  ProbeHit at{regs, sizeof regs, 0, 42, 0xffffffff81000040ull};
  EXPECT_EQ(probes_.report_hit(probe_of(event), at), 1u);
  EXPECT_EQ(counter(map, 0), 0x1234567890ull);
  EXPECT_EQ(counter(map, 1), 0xffffffff81000040ull) << "the probed function";
}

class KprobeMultiTest : public StatsTest {
 protected:
  int64_t load_multi(const std::string& text, uint32_t expected = BPF_TRACE_KPROBE_MULTI) {
    insns_ = assemble(text);
    BpfAttr attr = {};
    attr.prog_load.prog_type = BPF_PROG_TYPE_KPROBE;
    attr.prog_load.insns = address(insns_.data());
    attr.prog_load.insn_cnt = static_cast<uint32_t>(insns_.size());
    attr.prog_load.license = address(license_);
    attr.prog_load.expected_attach_type = expected;
    memory_.allow(insns_.data(), insns_.size() * sizeof(ebpf::Insn), false);
    return bpf(kProgLoad, attr);
  }
  // LINK_CREATE(BPF_TRACE_KPROBE_MULTI) over `syms` (names) or `addrs`, with `cookies`.
  int64_t attach_multi(int64_t program, const std::vector<std::string>& syms,
                       const std::vector<uint64_t>& addrs = {},
                       const std::vector<uint64_t>& cookies = {}, uint32_t flags = 0,
                       int64_t count = -1) {
    names_ = syms;
    pointers_.clear();
    for (const std::string& name : names_) pointers_.push_back(address(name.c_str()));
    for (const std::string& name : names_) memory_.allow(name.c_str(), name.size() + 1, false);
    addrs_ = addrs;
    cookies_ = cookies;
    if (!pointers_.empty()) memory_.allow(pointers_.data(), pointers_.size() * 8, false);
    if (!addrs_.empty()) memory_.allow(addrs_.data(), addrs_.size() * 8, false);
    if (!cookies_.empty()) memory_.allow(cookies_.data(), cookies_.size() * 8, false);
    KprobeMultiAttr multi = {};
    multi.flags = flags;
    multi.cnt = count >= 0 ? static_cast<uint32_t>(count)
                           : static_cast<uint32_t>(names_.size() + addrs_.size());
    multi.syms = pointers_.empty() ? 0 : address(pointers_.data());
    multi.addrs = addrs_.empty() ? 0 : address(addrs_.data());
    multi.cookies = cookies_.empty() ? 0 : address(cookies_.data());
    BpfAttr attr = {};
    attr.link_create.prog_fd = static_cast<uint32_t>(program);
    attr.link_create.target_fd = static_cast<uint32_t>(-1);  // not read (libbpf passes 0)
    attr.link_create.attach_type = BPF_TRACE_KPROBE_MULTI;
    std::memcpy(attr.bytes + 16, &multi, sizeof multi);
    return bpf(kLinkCreate, attr);
  }
  // The probes armed for kprobe_multi functions, by name or address text.
  std::vector<uint32_t> multi_probes() {
    std::vector<uint32_t> numbers;
    for (const auto& [number, armed] : hooks_.armed) {
      if (armed.spec.multi) numbers.push_back(number);
    }
    return numbers;
  }

  std::vector<ebpf::Insn> insns_;
  std::vector<std::string> names_;
  std::vector<uint64_t> pointers_, addrs_, cookies_;
};

TEST_F(KprobeMultiTest, LinkCreateChecksAsLinux61) {
  int64_t plain = load(assemble("mov %r0, 0\nexit"), BPF_PROG_TYPE_KPROBE);
  EXPECT_EQ(attach_multi(plain, {"do_unlinkat"}), -rt::kEINVAL)
      << "expected_attach_type must be BPF_TRACE_KPROBE_MULTI";
  int64_t program = load_multi("mov %r0, 0\nexit");
  ASSERT_GT(program, 0);
  EXPECT_EQ(attach_multi(program, {"do_unlinkat"}, {}, {}, 2), -rt::kEINVAL) << "flags";
  EXPECT_EQ(attach_multi(program, {"do_unlinkat"}, {0xffffffff81000000ull}), -rt::kEINVAL)
      << "both syms and addrs";
  EXPECT_EQ(attach_multi(program, {}, {}), -rt::kEINVAL) << "neither";
  EXPECT_EQ(attach_multi(program, {"do_unlinkat"}, {}, {}, 0, 0), -rt::kEINVAL) << "cnt 0";
  EXPECT_EQ(attach_multi(program, {"do_unlinkat"}, {}, {}, 0, (1 << 20) + 1), -rt::kE2BIG);
  EXPECT_EQ(attach_multi(program, {"do_unlinkat"}, {}, {}, 0, 2), -rt::kEFAULT)
      << "a second pointer past what the caller has";
  EXPECT_EQ(attach_multi(program, {"do_unlinkat", "no_such_function"}), -rt::kESRCH)
      << "ftrace_lookup_symbols";
  EXPECT_EQ(attach_multi(program, {}, {0x1234}), -rt::kEINVAL) << "no function entry there";
  EXPECT_EQ(attach_multi(program, {std::string(600, 'a')}), -rt::kE2BIG) << "KSYM_NAME_LEN";
  EXPECT_TRUE(hooks_.armed.empty()) << "a failed link leaves nothing armed";
  EXPECT_EQ(objects_.count(ObjectKind::kLink), 0u) << "nor a link id";
  // A kprobe_multi program still attaches to a perf event as Linux 6.1 lets it; a perf event
  // program cannot make a kprobe_multi link.
  int64_t perf = load(assemble("mov %r0, 0\nexit"), BPF_PROG_TYPE_PERF_EVENT);
  EXPECT_EQ(attach_multi(perf, {"do_unlinkat"}), -rt::kEINVAL);
}

TEST_F(KprobeMultiTest, EachFunctionRunsTheProgramWithItsCookie) {
  int64_t map = counter_map();
  int64_t program = load_multi(cookie_and_ip_program(map));
  ASSERT_GT(program, 0);
  int64_t link = attach_multi(program, {"do_unlinkat", "vfs_read"}, {}, {11, 22});
  ASSERT_GT(link, 0);
  std::vector<uint32_t> armed = multi_probes();
  ASSERT_EQ(armed.size(), 2u);
  uint8_t regs[kPtRegsSize] = {};
  for (uint32_t number : armed) {
    const std::string& name = hooks_.armed[number].text;
    uint64_t ip = name == "do_unlinkat" ? 0x1000 : 0x2000;
    EXPECT_EQ(probes_.report_hit(number, ProbeHit{regs, sizeof regs, 0, 42, ip}), 1u);
    EXPECT_EQ(counter(map, 0), name == "do_unlinkat" ? 11u : 22u) << name;
    EXPECT_EQ(counter(map, 1), ip) << "bpf_get_func_ip: the function's entry";
    EXPECT_FALSE(hooks_.armed[number].spec.is_return);
  }
  // bpf_link_info: type, id and prog_id only in 6.1.
  LinkInfo info = {};
  memory_.allow(&info, sizeof info);
  BpfAttr attr = {};
  attr.info.bpf_fd = static_cast<uint32_t>(link);
  attr.info.info_len = sizeof info;
  attr.info.info = address(&info);
  ASSERT_EQ(bpf(kObjGetInfoByFd, attr), 0);
  EXPECT_EQ(info.type, 8u);  // BPF_LINK_TYPE_KPROBE_MULTI
  EXPECT_EQ(info.prog_id, info_of(program).id);
  EXPECT_EQ(info.tp_name, 0u);
  // Closing the link disarms every function.
  close(link);
  EXPECT_TRUE(multi_probes().empty());
}

TEST_F(KprobeMultiTest, ReturnProbesByAddressWithoutCookies) {
  int64_t map = counter_map();
  int64_t program = load_multi(cookie_and_ip_program(map));
  int64_t link = attach_multi(program, {}, {0xffffffff81000000ull}, {}, BPF_F_KPROBE_MULTI_RETURN);
  ASSERT_GT(link, 0);
  std::vector<uint32_t> armed = multi_probes();
  ASSERT_EQ(armed.size(), 1u);
  EXPECT_TRUE(hooks_.armed[armed[0]].spec.is_return);
  EXPECT_EQ(hooks_.armed[armed[0]].spec.address, 0xffffffff81000000ull);
  uint8_t regs[kPtRegsSize] = {};
  EXPECT_EQ(probes_.report_hit(armed[0], ProbeHit{regs, sizeof regs, 0, 42, 0xffffffff81000000ull}),
            1u);
  EXPECT_EQ(counter(map, 0), 0u) << "no cookies: 0";
  EXPECT_EQ(counter(map, 1), 0xffffffff81000000ull);
  // TASK_FD_QUERY knows no kprobe_multi link (ENOTSUPP, as 6.1).
  BpfAttr query = {};
  uint32_t fd = static_cast<uint32_t>(link);
  std::memcpy(query.bytes + 4, &fd, sizeof fd);
  EXPECT_EQ(bpf(kTaskFdQuery, query), -524);
}

}  // namespace
}  // namespace trace::testing
