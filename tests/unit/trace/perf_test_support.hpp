// SPDX-License-Identifier: MIT
// Test support for perf events and links: fake ProbeHooks, a ProbeTable, perf_event_open calls.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "trace/links.hpp"
#include "trace/perf_events.hpp"
#include "trace_test_support.hpp"

namespace trace::testing {

// The server's side as a test sees it: a few symbols, files, tracepoints and tasks, and a
// record of what is armed.
class FakeProbeHooks final : public ProbeHooks {
 public:
  struct Armed {
    ProbeSpec spec;
    std::string text;  // symbol, path or name
  };
  rt::Result<uint32_t> tracepoint_record_size(uint64_t id) override {
    if (id == kOpenatId) return 64;
    if (id == kWriteId) return 48;
    if (id == kForkId) return 48;
    if (id == kExitId) return 32;
    if (id == kSwitchId) return 64;
    return rt::err(rt::kEINVAL);
  }
  const char* tracepoint_name(uint64_t id) override {
    if (id == kOpenatId) return "sys_enter_openat";
    if (id == kWriteId) return "sys_enter_write";
    if (id == kForkId) return "sched_process_fork";
    if (id == kExitId) return "sched_process_exit";
    if (id == kSwitchId) return "sched_switch";
    return nullptr;
  }
  rt::Result<uint32_t> raw_tracepoint_arguments(const char* name) override {
    if (std::string(name) == "sys_enter") return 2;
    if (std::string(name) == "sched_switch") return 4;
    return rt::err(rt::kENOENT);
  }
  bool task_exists(int32_t pid) override { return pid == 42 || pid == 7; }
  rt::Result<void> arm(uint32_t probe, const ProbeSpec& spec) override {
    ++arm_calls;
    std::string text;
    if (spec.kind == ProbeKind::kKprobe) {
      if (spec.symbol != nullptr) {
        text = spec.symbol;
        if (text != "do_unlinkat" && text != "vfs_read" && text != "trace_page_fault_user" &&
            text != "trace_task_rename" && text != "microkernel:trace_cpu_clock_tick" &&
            text != "trace_vma_mapped" && text != "trace_task_forked" &&
            text != "trace_task_exited")
          return rt::err(rt::kENOENT);
      } else if (spec.address != 0xffffffff81000000ull) {
        return rt::err(rt::kEINVAL);
      }
    }
    if (spec.kind == ProbeKind::kUprobe) {
      text = spec.path;
      if (text == "/dev/null") return rt::err(rt::kEINVAL);  // no regular file
      if (text != "/bin/app") return rt::err(rt::kENOENT);
    }
    if (spec.kind == ProbeKind::kRawTracepoint) text = spec.name;
    if (spec.kind == ProbeKind::kTracepoint && spec.tracepoint_id == kForkId)
      text = "sched_process_fork";
    if (spec.kind == ProbeKind::kTracepoint && spec.tracepoint_id == kExitId)
      text = "sched_process_exit";
    if (spec.kind == ProbeKind::kTracepoint && spec.tracepoint_id == kSwitchId)
      text = "sched_switch";
    armed[probe] = Armed{spec, text};
    return {};
  }
  void disarm(uint32_t probe) override { armed.erase(probe); }
  struct SampleTask {
    int32_t tid, tgid;
    std::string comm;
  };
  void sample_task(int32_t tid, int32_t tgid, const char (&comm)[16]) override {
    sample_tasks.push_back(SampleTask{tid, tgid, comm});
  }
  std::vector<SampleTask> sample_tasks;

  static constexpr uint64_t kOpenatId = 659;
  static constexpr uint64_t kWriteId = 700;
  static constexpr uint64_t kForkId = 313;    // sched:sched_process_fork, Linux's id
  static constexpr uint64_t kExitId = 316;    // sched:sched_process_exit
  static constexpr uint64_t kSwitchId = 319;  // sched:sched_switch
  std::map<uint32_t, Armed> armed;
  uint32_t arm_calls = 0;
};

class PerfEventTest : public TraceCoreTest {
 protected:
  PerfEventTest() : probes_(objects_, hooks_) { objects_.set_probes(&probes_); }

  void SetUp() override {
    TraceCoreTest::SetUp();
    memory_.allow(&attr_, sizeof(attr_));
    memory_.allow(strings_, sizeof(strings_));
  }
  void TearDown() override {
    for (const PerfEventMapping& mapping : mappings_) perf_event_munmap(objects_, mapping.event);
    TraceCoreTest::TearDown();
    EXPECT_EQ(objects_.count(ObjectKind::kLink), 0u);
    EXPECT_EQ(probes_.probe_count(), 0u);
    EXPECT_TRUE(hooks_.armed.empty());
  }

  // bpf()'s element commands with the key and value readable and writable by the core.
  int64_t elem(int command, int64_t map, const void* key, void* value, uint64_t flags = 0) {
    if (key != nullptr) memory_.allow(key, 8);
    if (value != nullptr) memory_.allow(value, 8);
    return TraceCoreTest::elem(command, map, key, value, flags);
  }

  // A string the caller passes by pointer (kprobe_func, uprobe_path, a raw tracepoint name).
  uint64_t user_string(const std::string& text, uint32_t slot = 0) {
    char* at = strings_ + slot * 1024;
    std::memset(at, 0, 1024);
    std::memcpy(at, text.data(), text.size() < 1023 ? text.size() : 1023);
    return address(at);
  }

  static PerfEventAttr kprobe_attr() {
    PerfEventAttr attr = {};
    attr.type = kPerfTypeKprobe;
    attr.size = kPerfAttrSize;
    return attr;
  }
  static PerfEventAttr software_attr(uint64_t config) {
    PerfEventAttr attr = {};
    attr.type = kPerfTypeSoftware;
    attr.size = kPerfAttrSize;
    attr.config = config;
    return attr;
  }
  static PerfEventAttr tracepoint_attr(uint64_t id) {
    PerfEventAttr attr = {};
    attr.type = kPerfTypeTracepoint;
    attr.size = kPerfAttrSize;
    attr.config = id;
    return attr;
  }
  // libbpf's perf buffer event: BPF_OUTPUT, one sample per wakeup.
  static PerfEventAttr bpf_output_attr() {
    PerfEventAttr attr = software_attr(kPerfCountSwBpfOutput);
    attr.sample_period = 1;
    attr.sample_type = kPerfSampleRaw;
    attr.wakeup_events = 1;
    return attr;
  }

  // perf_event_open(&attr_, pid, cpu, group_fd, flags): the handle or -errno.
  int64_t open(const PerfEventAttr& attr, int32_t pid = -1, int32_t cpu = 0, int32_t group_fd = -1,
               uint64_t flags = kPerfFlagFdCloexec) {
    std::memcpy(attr_, &attr, sizeof(attr));
    auto result = perf_event_open(session_, memory_, address(attr_), pid, cpu, group_fd, flags);
    return result.ok() ? result.value() : -static_cast<int64_t>(result.error().code);
  }
  int64_t open_kprobe(const std::string& symbol, bool retprobe = false) {
    PerfEventAttr attr = kprobe_attr();
    attr.config = retprobe ? kPerfProbeConfigIsRetprobe : 0;
    attr.config1 = user_string(symbol);
    return open(attr);
  }
  int64_t ioctl(int64_t fd, uint32_t command, uint64_t argument = 0) {
    return status(perf_event_ioctl(session_, memory_, static_cast<int32_t>(fd), command, argument));
  }
  int64_t read(int64_t fd, void* buffer, uint64_t count) {
    return status(
        perf_event_read(session_, memory_, static_cast<int32_t>(fd), address(buffer), count));
  }
  PerfEventObject* event_of(int64_t fd) {
    auto handle = session_.lookup(static_cast<int32_t>(fd));
    if (!handle.ok() || handle->object->kind != ObjectKind::kPerfEvent) return nullptr;
    return static_cast<PerfEventObject*>(handle->object);
  }
  // The probe number the server would report hits with.
  uint32_t probe_of(int64_t fd) { return event_of(fd)->probe->number; }

  int64_t link_create(int64_t program, int64_t target, uint64_t cookie = 0,
                      uint32_t attach_type = kAttachPerfEvent) {
    BpfAttr attr = {};
    attr.link_create.prog_fd = static_cast<uint32_t>(program);
    attr.link_create.target_fd = static_cast<uint32_t>(target);
    attr.link_create.attach_type = attach_type;
    attr.link_create.target[0] = cookie;
    return bpf(kLinkCreate, attr);
  }
  int64_t raw_tracepoint_open(int64_t program, uint64_t name) {
    BpfAttr attr = {};
    RawTracepointOpenAttr raw{name, static_cast<uint32_t>(program)};
    std::memcpy(attr.bytes, &raw, sizeof(raw));
    return bpf(kRawTracepointOpen, attr);
  }

  // Programs: a counter in slot `slot` of array `map` incremented on each run, returning `ret`.
  int64_t load_counter(int64_t map, uint32_t type, uint32_t slot = 0, int ret = 1) {
    std::string text = "stw [%r10-4], " + std::to_string(slot) +
                       "\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map:" + std::to_string(map) +
                       "\ncall 1\njeq %r0, 0, +3\nldxdw %r1, [%r0+0]\nadd %r1, 1\n"
                       "stxdw [%r0+0], %r1\nmov %r0, " +
                       std::to_string(ret) + "\nexit";
    return load(assemble(text), type);
  }
  uint64_t counter(int64_t map, uint32_t slot = 0) {
    uint64_t value = 0;
    EXPECT_EQ(elem(kMapLookupElem, map, &slot, &value), 0);
    return value;
  }
  int64_t counter_map() {
    int64_t map = create_map(2 /* BPF_MAP_TYPE_ARRAY */, 4, 8, 4);
    EXPECT_GT(map, 0);
    return map;
  }
  uint32_t hit(uint32_t probe, void* context = nullptr, uint32_t size = 0, int32_t pid = 42,
               uint32_t cpu = 0) {
    return probes_.report_hit(probe, ProbeHit{context, size, cpu, pid});
  }

  FakeProbeHooks hooks_;
  ProbeTable probes_;
  alignas(8) uint8_t attr_[4096] = {};
  char strings_[4096] = {};
  std::vector<PerfEventMapping> mappings_;
};

}  // namespace trace::testing
