// SPDX-License-Identifier: MIT
// libFuzzer target: hostile perf_event_attr bytes through the parser, then perf_event_open, ioctls,
// read and mmap of what opens. Any errno is fine; a crash, a leak or undefined behaviour is not.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ebpf/environment.hpp"
#include "rt/errno.hpp"
#include "support/malloc_allocator.hpp"
#include "trace/perf_event_attr.hpp"
#include "trace/perf_events.hpp"

namespace {

// The input as the caller's memory at a fixed address (the attr, and the strings config1
// points at); writes land in a copy.
constexpr uint64_t kBase = 0x10000;

class InputMemory final : public trace::UserMemory {
 public:
  InputMemory(uint8_t* bytes, size_t size) : bytes_(bytes), size_(size) {}
  rt::Result<void> read(void* destination, uint64_t source, uint64_t size) override {
    if (!inside(source, size)) return rt::err(rt::kEFAULT);
    std::memcpy(destination, bytes_ + (source - kBase), size);
    return {};
  }
  rt::Result<void> write(uint64_t destination, const void* source, uint64_t size) override {
    if (!inside(destination, size)) return rt::err(rt::kEFAULT);
    std::memcpy(bytes_ + (destination - kBase), source, size);
    return {};
  }
  rt::Result<void> write_attr(uint32_t, const void*, uint32_t) override {
    return rt::err(rt::kEFAULT);
  }

 private:
  bool inside(uint64_t address, uint64_t size) const {
    return address >= kBase && size <= size_ && address - kBase <= size_ - size;
  }
  uint8_t* bytes_;
  size_t size_;
};

class FuzzEnvironment final : public ebpf::Environment {
 public:
  uint32_t current_cpu() override { return 0; }
  uint32_t possible_cpus() override { return 2; }
  uint64_t monotonic_ns() override { return ++clock_; }
  uint64_t boot_ns() override { return clock_; }
  uint32_t random_u32() override { return 4; }
  uint64_t current_pid_tgid() override { return (uint64_t{42} << 32) | 42; }
  uint64_t current_uid_gid() override { return 0; }
  long current_comm(char* buffer, uint32_t size) override {
    std::memset(buffer, 0, size);
    return 0;
  }
  long read_user(void*, uint64_t, uint32_t) override { return -rt::kEFAULT; }
  long read_kernel(void*, uint64_t, uint32_t) override { return -rt::kEFAULT; }
  uint64_t current_function_ip() override { return 0; }
  long capture_stack(bool, uint32_t, uint64_t*, uint32_t) override { return -rt::kEFAULT; }
  long trace_output(const char*, uint32_t) override { return 0; }

 private:
  uint64_t clock_ = 0;
};

class FuzzHooks final : public trace::ProbeHooks {
 public:
  rt::Result<uint32_t> tracepoint_record_size(uint64_t id) override {
    if (id < 8) return 64;
    return rt::err(rt::kEINVAL);
  }
  const char* tracepoint_name(uint64_t id) override { return id < 8 ? "fuzz" : nullptr; }
  rt::Result<uint32_t> raw_tracepoint_arguments(const char*) override {
    return rt::err(rt::kENOENT);
  }
  bool task_exists(int32_t pid) override { return pid == 42; }
  rt::Result<void> arm(uint32_t, const trace::ProbeSpec& spec) override {
    if (spec.kind == trace::ProbeKind::kKprobe && spec.symbol != nullptr && spec.symbol[0] == 'x')
      return rt::err(rt::kENOENT);
    ++armed;
    return {};
  }
  void disarm(uint32_t) override {
    if (armed == 0) abort();  // a disarm without its arm
    --armed;
  }
  int armed = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The parser alone: any bytes, any length.
  auto parsed = trace::parse_perf_event_attr(data, static_cast<uint32_t>(size));
  if (parsed.ok() && (parsed->size < trace::kPerfAttrSizeVer0 ||
                      parsed->size > trace::kPerfAttrMaxSize || parsed->sample_max_stack == 0)) {
    abort();
  }
  if (size < 8) return 0;
  // perf_event_open: the first 8 bytes choose pid, cpu, group_fd, flags and the calls after it;
  // the rest is the caller's memory with the attr at its start.
  uint8_t pid_choice = data[0], cpu_choice = data[1], flag_bits = data[2], calls = data[3];
  uint64_t ioctl_argument;
  std::memcpy(&ioctl_argument, data + 4, 4);
  uint8_t* memory_bytes = static_cast<uint8_t*>(std::malloc(size - 8 + 1));
  std::memcpy(memory_bytes, data + 8, size - 8);
  test_support::MallocAllocator allocator;
  {
    FuzzEnvironment environment;
    FuzzHooks hooks;
    trace::ObjectTable objects(allocator, environment);
    trace::ProbeTable probes(objects, hooks);
    objects.set_probes(&probes);
    {
      trace::Session session(objects);
      InputMemory memory(memory_bytes, size - 8);
      int32_t pid = pid_choice % 4 == 0   ? -1
                    : pid_choice % 4 == 1 ? 0
                    : pid_choice % 4 == 2 ? 42
                                          : -7;
      int32_t cpu = static_cast<int32_t>(cpu_choice % 4) - 1;
      int32_t group_fd = (flag_bits & 0x80) ? 1 : -1;
      auto opened =
          trace::perf_event_open(session, memory, kBase, pid, cpu, group_fd, flag_bits & 0x1f);
      if (opened.ok()) {
        int32_t fd = *opened;
        static constexpr uint32_t kCommands[] = {
            trace::kPerfEventIocEnable,      trace::kPerfEventIocDisable,
            trace::kPerfEventIocReset,       trace::kPerfEventIocRefresh,
            trace::kPerfEventIocPeriod,      trace::kPerfEventIocId,
            trace::kPerfEventIocSetBpf,      trace::kPerfEventIocQueryBpf,
            trace::kPerfEventIocPauseOutput, trace::kPerfEventIocModifyAttributes};
        uint64_t argument = kBase + (ioctl_argument % (size - 7));
        (void)trace::perf_event_ioctl(session, memory, fd, kCommands[calls % 10], argument);
        (void)trace::perf_event_read(session, memory, fd, argument, calls);
        auto mapping = trace::perf_event_mmap(session, fd, uint64_t{calls % 5u} * 4096, 0, true);
        if (mapping.ok()) {
          trace::PerfEventObject* event = mapping->event;
          uint8_t sample[8] = {};
          (void)event->output_from(0, sample, calls % 9);
          (void)trace::perf_event_poll(session, fd);
          trace::perf_event_munmap(objects, event);
        }
        trace::ProbeHit hit{memory_bytes, static_cast<uint32_t>(size - 8), 0, 42};
        for (uint32_t number = 1; number < 4; ++number) (void)probes.report_hit(number, hit);
      }
      session.close_all();
    }
    if (hooks.armed != 0 || probes.probe_count() != 0) abort();  // a probe left armed
  }
  std::free(memory_bytes);
  if (allocator.in_use() != 0) abort();  // something was not given back
  return 0;
}
