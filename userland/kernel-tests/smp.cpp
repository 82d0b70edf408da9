// SPDX-License-Identifier: MIT
// Kernel tests on several CPUs: affinity, TLB shootdown, breakpoints hit from two CPUs.
#include "suite.hpp"

namespace kernel_tests {

namespace {

abi::Error set_cpu(uint64_t tcb, uint64_t cpu) {
  uint64_t words[] = {cpu};
  return sys::invoke(tcb, Label::kTcbSetAffinity, words);
}

volatile uint64_t smp_counter = 0;
void count_forever(uint64_t) {
  for (;;) smp_counter = smp_counter + 1;
}

volatile uint64_t window_reads = 0;
void read_window_forever(uint64_t address) {
  for (;;) {
    (void)*reinterpret_cast<volatile uint64_t*>(address);
    window_reads = window_reads + 1;
  }
}

// Two callers, one per CPU, through the probed function; the root handles every hit and counts
// them by the CPU their fault message names (hits_on: CPUs 0, 1, other).
volatile uint64_t caller_sums[2];
void probe_caller_on(uint64_t which) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < kCalls; ++i) sum += probed_function(i);
  caller_sums[which] = sum;
  sys::MessageRegisters mr;
  (void)sys::send(probe_endpoint, kDoneLabel, mr, 0);
}

// Calls the probed function until told to stop, counting calls and wrong results.
volatile bool rewrite_stop = false;
volatile uint64_t rewrite_calls = 0, rewrite_wrong = 0;
void call_until_stopped(uint64_t) {
  for (uint64_t i = 0; !rewrite_stop; ++i) {
    if (probed_function(i) != i + 1 + 1000) rewrite_wrong = rewrite_wrong + 1;
    rewrite_calls = rewrite_calls + 1;
  }
  sys::MessageRegisters mr;
  (void)sys::send(probe_endpoint, kDoneLabel, mr, 0);
}

bool two_cpu_probe_run(uint64_t address, uint64_t length, uint64_t xol, uint64_t fixup,
                       uint64_t& hits, uint64_t remove_after = 0, uint64_t* hits_on = nullptr) {
  uint64_t breakpoint = make(ObjectType::kBreakpoint);
  must(bind(breakpoint, kVSpace, probe_endpoint), "bind");
  must(insert(breakpoint, address, length, xol, fixup), "insert");
  caller_sums[0] = 0;
  caller_sums[1] = 0;
  uint64_t reply = make(ObjectType::kReply);
  uint64_t a = spawn(probe_caller_on, 0, ThreadOptions{.priority = kRootPriority, .start = false});
  uint64_t b = spawn(probe_caller_on, 1, ThreadOptions{.priority = kRootPriority, .start = false});
  must(set_cpu(b, 1), "affinity");
  must(sys::invoke(a, Label::kTcbResume), "resume a");
  must(sys::invoke(b, Label::kTcbResume), "resume b");
  hits = 0;
  int done = 0;
  sys::MessageRegisters mr;
  auto r = sys::recv(probe_endpoint, reply, mr);
  while (r.error == Error::kNone) {
    if (r.info.label == kDoneLabel) {
      if (++done == 2) break;
      r = sys::recv(probe_endpoint, reply, mr);
      continue;
    }
    if (sys::message_word(mr, 0) == address) ++hits;
    if (hits_on != nullptr) {
      uint64_t cpu = sys::message_word(mr, abi::kFaultCpuWord);
      ++hits_on[cpu < 2 ? cpu : 2];
    }
    if (remove_after != 0 && hits == remove_after)
      must(sys::cnode_delete(kRoot, breakpoint), "delete");
    r = sys::reply_recv(probe_endpoint, reply, static_cast<uint64_t>(abi::FaultReply::kResume), mr,
                        0);
  }
  kill(a);
  kill(b);
  if (remove_after == 0) kill(breakpoint);
  return done == 2 && caller_sums[0] == expected_sum(kCalls) &&
         caller_sums[1] == expected_sum(kCalls);
}

}  // namespace

DEFINE_TEST(smp, "a second CPU: affinity, TLB shootdown on unmap, breakpoints hit on two CPUs") {
  // With one CPU there is nothing to test here; the harness checks the CPU count main()
  // prints against the -smp it gave QEMU, so a CPU that failed to start is a failure.
  if (boot->cpu_count < 2) return;
  {
    Check t("thread_with_affinity_runs_on_another_cpu");
    smp_counter = 0;
    // Below the root's priority: on one CPU it could not run while the root spins.
    uint64_t thread = spawn(count_forever, 0, ThreadOptions{.priority = 10, .start = false});
    t.error(set_cpu(thread, 1), Error::kNone, "affinity");
    t.error(sys::invoke(thread, Label::kTcbResume), Error::kNone, "resume");
    uint64_t start = sys::debug_ticks();
    while (smp_counter < 1000 && sys::debug_ticks() - start < 200) {
    }
    t.that(smp_counter >= 1000, "the thread did not run beside the spinning root");
    t.error(set_cpu(thread, boot->cpu_count), Error::kRangeError, "affinity beyond the CPUs");
    // Moved back to CPU 0 (CPU 1 gets a reschedule IPI), it cannot run while the root spins:
    // the counter stops within a short while (the IPI's delivery time depends on the host).
    t.error(set_cpu(thread, 0), Error::kNone, "affinity back");
    bool stopped = false;
    start = sys::debug_ticks();
    uint64_t last = smp_counter;
    while (!stopped && sys::debug_ticks() - start < 300) {
      uint64_t tick = sys::debug_ticks();
      while (sys::debug_ticks() - tick < 10) {
      }
      stopped = smp_counter == last;
      last = smp_counter;
    }
    t.that(stopped, "the moved thread still ran on CPU 1");
    kill(thread);
  }
  {
    Check t("unmap_reaches_the_tlb_of_another_cpu");
    uint64_t frame = make(ObjectType::kFrame, 12);
    must(map_frame(frame, kVSpace, kWindow + 0x20000, 0), "map");
    window_reads = 0;
    uint64_t reply = make(ObjectType::kReply);
    uint64_t thread =
        spawn(read_window_forever, kWindow + 0x20000,
              ThreadOptions{.priority = 10, .fault_endpoint = fault_endpoint, .start = false});
    must(set_cpu(thread, 1), "affinity");
    must(sys::invoke(thread, Label::kTcbResume), "resume");
    uint64_t start = sys::debug_ticks();
    while (window_reads < 1000 && sys::debug_ticks() - start < 200) {
    }
    t.that(window_reads >= 1000, "reader did not start");
    t.error(sys::invoke(frame, Label::kFrameUnmap), Error::kNone, "unmap");
    // Poll (a stale TLB on CPU 1 would keep the reader going, and a blocking receive hang).
    sys::MessageRegisters fault;
    sys::IpcResult r;
    start = sys::debug_ticks();
    do {
      r = sys::ipc(abi::Syscall::kNBRecv, fault_endpoint, abi::MessageInfo{}, reply, fault);
    } while (r.error == Error::kWouldBlock && sys::debug_ticks() - start < 200);
    t.that(r.error == Error::kNone &&
               r.info.label == static_cast<uint64_t>(abi::FaultKind::kPage) &&
               sys::message_word(fault, abi::kFaultAddressWord) == kWindow + 0x20000,
           "the reader on CPU 1 kept reading an unmapped page");
    t.that(r.error == Error::kNone && sys::message_word(fault, abi::kFaultCpuWord) == 1,
           "the page fault's message does not say CPU 1");
    sys::MessageRegisters mr;
    (void)sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), mr, 0);
    kill(thread);
  }
  auto entry = reinterpret_cast<uint64_t>(&probed_function);
  auto ordinary = reinterpret_cast<uint64_t>(probe_ordinary);
  auto riprel = reinterpret_cast<uint64_t>(probe_riprel);
  {
    Check t("breakpoint_on_entry_nop_with_callers_on_two_cpus");
    uint64_t hits = 0;
    uint64_t hits_on[3] = {};
    t.that(two_cpu_probe_run(entry, 5, 0, 0, hits, 0, hits_on),
           "results changed or a caller did not finish");
    t.that(hits == 2 * kCalls, "hit count is not the call count");
    // The caller pinned to CPU 1 hits there (the general path: the root listens on CPU 0), the
    // other on CPU 0 (the fast path where it can): each fault message names its CPU.
    t.that(hits_on[0] == kCalls && hits_on[1] == kCalls && hits_on[2] == 0,
           "the fault messages do not name the CPU of the hit");
  }
  {
    Check t("breakpoint_out_of_line_with_callers_on_two_cpus");
    uint64_t hits = 0;
    t.that(two_cpu_probe_run(ordinary, 4, xol_page, 0, hits),
           "results changed or a caller did not finish");
    t.that(hits == 2 * kCalls, "hit count is not the call count");
  }
  {
    Check t("breakpoint_deleted_mid_run_with_callers_on_two_cpus");
    uint64_t hits = 0;
    t.that(two_cpu_probe_run(ordinary, 4, xol_page, 0, hits, kCalls / 2),
           "results changed or a caller did not finish after the deletion");
    // The other CPU's caller may have hit the probe just before the deletion: that hit is still
    // delivered (once), and nothing after it.
    t.that(hits == kCalls / 2 || hits == kCalls / 2 + 1, "hits after the breakpoint was deleted");
    t.that(*reinterpret_cast<volatile uint8_t*>(ordinary) == 0x48, "original byte not restored");
  }
  {
    // The root writes a call over the entry NOP and takes it away again, 200 times, while a
    // thread on CPU 1 calls through it: every call returns the right result, a call that met
    // the int3 of a rewrite traps and goes on after the NOP (answered here), and the NOP is
    // back at the end.
    Check t("call_probe_rewritten_while_a_caller_on_another_cpu_runs_through_it");
    auto target = reinterpret_cast<uint64_t>(&call_probe_target);
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    must(bind(breakpoint, kVSpace, probe_endpoint), "bind");
    call_probe_calls = 0;
    rewrite_stop = false;
    rewrite_calls = 0;
    rewrite_wrong = 0;
    uint64_t reply = make(ObjectType::kReply);
    uint64_t caller =
        spawn(call_until_stopped, 0, ThreadOptions{.priority = kRootPriority, .start = false});
    must(set_cpu(caller, 1), "affinity");
    must(sys::invoke(caller, Label::kTcbResume), "resume");
    bool done = false;
    uint64_t traps = 0, refusals = 0;
    // Answers what came in: the caller's "done" and its hits when it met an int3.
    auto drain = [&] {
      for (;;) {
        sys::MessageRegisters mr;
        auto r = sys::ipc(abi::Syscall::kNBRecv, probe_endpoint, abi::MessageInfo{}, reply, mr);
        if (r.error != Error::kNone) return;
        if (r.info.label == kDoneLabel) {
          done = true;
          continue;
        }
        ++traps;
        (void)sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kResume), mr, 0);
      }
    };
    uint64_t words[] = {entry};
    for (int i = 0; i < 200; ++i) {
      if (insert_call(breakpoint, entry, target) != Error::kNone) ++refusals;
      drain();
      if (sys::invoke(breakpoint, Label::kBreakpointRemove, words) != Error::kNone) ++refusals;
      drain();
    }
    rewrite_stop = true;
    uint64_t start = sys::debug_ticks();
    while (!done && sys::debug_ticks() - start < 1000) drain();
    kill(caller);
    kill(breakpoint);
    t.that(done, "the caller did not finish");
    t.that(refusals == 0, "an insert or remove was refused");
    t.that(rewrite_wrong == 0, "a call returned a wrong result while the call was rewritten");
    t.that(*reinterpret_cast<volatile uint8_t*>(entry) == 0x0f, "the NOP is not back");
    sys::print("  call probe: 200 rewrites, %lu calls, %lu through the probe, %lu trapped\n",
               static_cast<uint64_t>(rewrite_calls), static_cast<uint64_t>(call_probe_calls),
               traps);
  }
  {
    Check t("breakpoint_rip_relative_with_callers_on_two_cpus");
    uint64_t hits = 0;
    t.that(two_cpu_probe_run(riprel, 7, xol_page + 0x40, 5, hits),
           "results changed or a caller did not finish");
    t.that(hits == 2 * kCalls, "hit count is not the call count");
  }
}

}  // namespace kernel_tests
