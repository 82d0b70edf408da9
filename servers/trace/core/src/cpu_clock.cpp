// SPDX-License-Identifier: MIT
// CPU_CLOCK sampling (Linux's cpu-clock PMU on its hrtimer): the microkernel's timer ticks,
// seen through a kernel probe on trace_cpu_clock_tick while a sampling CPU_CLOCK event is open,
// each give the time since the CPU's last tick to the events that follow the task it found;
// a period's end runs the event's perf_event program and writes a sample with the
// interrupted ip.
#include "rt/format.hpp"
#include "rt/kernel_alias.hpp"
#include "trace/perf_events.hpp"

namespace trace {
namespace {

constexpr uint64_t kMinimumClockPeriod = 10000;  // perf_swevent_start_hrtimer's floor
constexpr uint32_t kPtRegsIp = 128;              // offsetof(struct pt_regs, ip)

bool samples_clock(const PerfEventObject& event) {
  return event.enabled && event.attr.sample_period != 0;
}

uint64_t clock_period(const PerfEventObject& event) {
  return event.attr.sample_period > kMinimumClockPeriod ? event.attr.sample_period
                                                        : kMinimumClockPeriod;
}

}  // namespace

rt::Result<void> ProbeTable::add_clock_event(PerfEventObject* event) {
  if (event->attr.sample_period != 0) {
    if (tick_probe_ == nullptr) {
      // The microkernel's trace_cpu_clock_tick: a kernel probe, its hits samples (with their
      // CPU and time) drained after the fact.
      ProbeSpec spec;
      spec.kind = ProbeKind::kKprobe;
      spec.symbol = "microkernel:trace_cpu_clock_tick";
      tick_probe_ = TRY(open_probe(spec, kPtRegsSize));
      tick_probe_->watches |= Probe::kWatchesTicks;
      for (uint64_t& last : last_tick_) last = 0;
    }
    ++sampling_clocks_;
  }
  event->next_on_probe = clock_events_;
  clock_events_ = event;
  return {};
}

void ProbeTable::remove_clock_event(PerfEventObject* event) {
  PerfEventObject** link = &clock_events_;
  while (*link != nullptr && *link != event) link = &(*link)->next_on_probe;
  if (*link != event) return;
  *link = event->next_on_probe;
  if (event->attr.sample_period == 0 || sampling_clocks_ == 0) return;
  if (--sampling_clocks_ == 0 && tick_probe_ != nullptr) {
    tick_probe_->watches &= static_cast<uint16_t>(~Probe::kWatchesTicks);
    close_probe(tick_probe_);
    tick_probe_ = nullptr;
  }
}

uint64_t ProbeTable::cpu_clock_period(uint32_t cpu) const {
  uint64_t shortest = 0;
  for (const PerfEventObject* event = clock_events_; event != nullptr;
       event = event->next_on_probe) {
    if (!samples_clock(*event) || (event->cpu >= 0 && static_cast<uint32_t>(event->cpu) != cpu))
      continue;
    uint64_t period = clock_period(*event);
    if (shortest == 0 || period < shortest) shortest = period;
  }
  return shortest;
}

uint32_t ProbeTable::report_cpu_clock(uint32_t cpu, int32_t pid, const void* regs,
                                      uint64_t elapsed_ns) {
  uint64_t pid_tgid = objects_.environment().current_pid_tgid();
  ClockTick tick{
      cpu,        pid, static_cast<uint32_t>(pid_tgid), static_cast<uint32_t>(pid_tgid >> 32), regs,
      elapsed_ns, 0};
  return clock_samples(tick);
}

uint32_t ProbeTable::clock_samples(const ClockTick& tick) {
  uint32_t overflows = 0;
  ebpf::Environment& environment = objects_.environment();
  bool in_kernel = tick.misc == kPerfRecordMiscKernel;
  for (PerfEventObject* event = clock_events_; event != nullptr; event = event->next_on_probe) {
    if (!samples_clock(*event) || !event->on_cpu(tick.cpu) || !event->follows_task(tick.pid))
      continue;
    if (event->attr.has(in_kernel ? kPerfAttrExcludeKernel : kPerfAttrExcludeUser) &&
        tick.misc != 0) {
      continue;
    }
    uint64_t period = clock_period(*event);
    if (event->period_left == 0) event->period_left = period;
    uint64_t elapsed = tick.elapsed_ns;
    while (elapsed >= event->period_left) {
      elapsed -= event->period_left;
      event->period_left = period;
      ++overflows;
      // bpf_overflow_handler, then the default handler unless the program returned 0.
      PerfEventData data = {};
      if (tick.regs != nullptr) __builtin_memcpy(data.regs, tick.regs, kPtRegsSize);
      data.sample_period = period;
      uint64_t ip = 0;
      __builtin_memcpy(&ip, data.regs + kPtRegsIp, sizeof ip);
      SampledRegisters sampled{ip, tick.misc == kPerfRecordMiscKernel};
      if (event->program != nullptr &&
          objects_.run_on_sample(*event->program, &data, RunContext{event->cookie, 0}, sampled) ==
              0) {
        continue;
      }
      PerfEventRing* ring = event->output_ring();
      if (ring == nullptr) continue;
      PerfSampleFields fields =
          event->record_fields(tick.tgid, tick.tid, environment.monotonic_ns(), tick.cpu);
      fields.period = period;
      fields.misc = tick.misc;
      __builtin_memcpy(&fields.ip, data.regs + kPtRegsIp, sizeof(fields.ip));
      // GAP: the tick records no frame pointer, so its callchain is the ip alone.
      Callchain chain;
      if (event->attr.sample_type & kPerfSampleCallchain) {
        fields.callchain_length =
            ip_callchain(event->attr, fields.ip, tick.misc == kPerfRecordMiscKernel, chain);
        fields.callchain = chain;
      }
      (void)ring->output_sample(fields, nullptr, 0);
    }
    event->period_left -= elapsed;
  }
  return overflows;
}

void ProbeTable::tick_seen(const ProbeHit& hit) {
  // trace_cpu_clock_tick(ids, comm0, comm1, ip, sp, in_kernel) in the sample's pt_regs.
  PtRegs in;
  if (!registers_of(hit, in)) return;
  uint64_t ids = in.di, in_kernel = in.r9;
  // The time since this CPU's last tick is what the tick found the CPU doing (the first tick
  // after the probe is armed only starts the count).
  uint64_t now = objects_.environment().monotonic_ns();
  uint64_t& last = last_tick_[hit.cpu % kMaxTickCpus];
  uint64_t elapsed = last != 0 && now > last ? now - last : 0;
  last = now;
  if (elapsed == 0) return;
  // The interrupted registers as a perf_event program sees them (user_mode() reads cs).
  PtRegs regs = {};
  regs.ip = in_kernel != 0 ? sonde::abi::kernel_alias(in.cx) : in.cx;  // as kallsyms lists it
  regs.sp = in.r8;
  regs.cs = in_kernel != 0 ? 0x10 : 0x33;
  regs.ss = in_kernel != 0 ? 0x18 : 0x2b;
  regs.flags = 0x202;
  auto tid = static_cast<uint32_t>(ids);
  // The interrupted task is `current` for the events' programs (comm in the next two words).
  char comm[16];
  __builtin_memcpy(comm, &in.si, 8);
  __builtin_memcpy(comm + 8, &in.dx, 8);
  comm[15] = 0;
  if (tid == 0 && comm[0] == 0) {
    (void)rt::format_to(comm, sizeof comm, "swapper/%u",
                        hit.cpu);  // an idle CPU: Linux's idle task
  }
  hooks_.sample_task(static_cast<int32_t>(tid), static_cast<int32_t>(ids >> 32), comm);
  ClockTick tick{
      hit.cpu,
      static_cast<int32_t>(tid),
      tid,
      static_cast<uint32_t>(ids >> 32),
      &regs,
      elapsed,
      static_cast<uint16_t>(in_kernel != 0 ? kPerfRecordMiscKernel : kPerfRecordMiscUser)};
  (void)clock_samples(tick);
}
}  // namespace trace
