// SPDX-License-Identifier: MIT
// Kernel tests of breakpoints: user probes here and in another VSpace, kernel-text probes.
#include "elf/elf64.hpp"
#include "suite.hpp"

namespace kernel_tests {

namespace {

volatile uint64_t call_sum = 0;

// Calls the probed function kCalls times, then tells the handler it is done.
void probe_caller(uint64_t) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < kCalls; ++i) sum += probed_function(i);
  call_sum = sum;
  sys::MessageRegisters mr;
  (void)sys::send(probe_endpoint, kDoneLabel, mr, 0);
}

struct ProbeRun {
  uint64_t hits = 0;
  bool rip_ok = true;
  bool finished = false;
};

// Handles hits on probe_endpoint until the caller reports; deletes the breakpoint cap after
// `remove_after` hits (0: never).
ProbeRun handle_hits(uint64_t breakpoint, uint64_t address, uint64_t remove_after) {
  ProbeRun run;
  uint64_t reply = make(ObjectType::kReply);
  uint64_t thread = spawn(probe_caller, 0, ThreadOptions{.priority = kRootPriority});
  sys::MessageRegisters mr;
  auto r = sys::recv(probe_endpoint, reply, mr);
  while (r.error == Error::kNone) {
    if (r.info.label == kDoneLabel) {
      run.finished = true;
      break;
    }
    if (r.info.label != static_cast<uint64_t>(abi::FaultKind::kBreakpoint)) break;
    ++run.hits;
    if (sys::message_word(mr, 0) != address ||
        sys::message_word(mr, abi::kFaultAddressWord) != address) {
      run.rip_ok = false;
    }
    if (remove_after != 0 && run.hits == remove_after)
      must(sys::cnode_delete(kRoot, breakpoint), "delete breakpoint");
    r = sys::reply_recv(probe_endpoint, reply, static_cast<uint64_t>(abi::FaultReply::kResume), mr,
                        0);
  }
  kill(thread);
  return run;
}

// xol_page's writable alias: out-of-line instructions are written through it.
volatile uint8_t* xol_writer = nullptr;

void prepare_xol() {
  uint64_t frame = make(ObjectType::kFrame, 12);
  uint64_t alias = new_slot();
  must(sys::cnode_copy(kRoot, alias, frame), "copy XOL frame");
  xol_page = kWindow + 0x10000;
  must(map_frame(frame, kVSpace, xol_page, abi::kMapExecute), "map XOL page");
  must(map_frame(alias, kVSpace, xol_page + 0x1000, abi::kMapWrite), "map XOL alias");
  xol_writer = reinterpret_cast<volatile uint8_t*>(xol_page + 0x1000);
}

}  // namespace

DEFINE_TEST(
    breakpoints,
    "user breakpoints: errors, entry NOP, out-of-line steps, per-thread hits, deletion mid-run") {
  probe_endpoint = make(ObjectType::kEndpoint);
  prepare_xol();
  auto entry = reinterpret_cast<uint64_t>(&probed_function);
  auto ordinary = reinterpret_cast<uint64_t>(probe_ordinary);
  auto riprel = reinterpret_cast<uint64_t>(probe_riprel);
  {
    Check t("breakpoint_errors");
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    t.error(insert(breakpoint, entry, 5, 0, 0), Error::kIllegalOperation, "insert before bind");
    t.error(bind(breakpoint, kRoot, probe_endpoint), Error::kWrongType, "CNode as VSpace");
    t.error(bind(breakpoint, kVSpace, kRoot), Error::kWrongType, "CNode as endpoint");
    t.error(bind(breakpoint, kVSpace, probe_endpoint), Error::kNone, "bind");
    t.error(insert(breakpoint, entry, 0, 0, 0), Error::kRangeError, "length 0");
    t.error(insert(breakpoint, entry, 16, 0, 0), Error::kRangeError, "length 16");
    t.error(insert(breakpoint, 0x100000000ull, 1, 0, 0), Error::kNotMapped, "unmapped address");
    t.error(insert(breakpoint, ordinary, 4, xol_page + 0x1000, 0), Error::kNotMapped,
            "non-executable XOL");
    t.error(insert(breakpoint, ordinary, 4, xol_page, 2), Error::kInvalidArgument,
            "rflags as fix-up");
    t.error(insert(breakpoint, entry, 5, 0, 0), Error::kNone, "insert");
    t.that(*reinterpret_cast<volatile uint8_t*>(entry) == 0xcc, "no int3 in the code");
    t.error(insert(breakpoint, entry, 5, 0, 0), Error::kAlreadyMapped,
            "second probe at one address");
    uint64_t words[] = {entry};
    t.error(sys::invoke(breakpoint, Label::kBreakpointRemove, words), Error::kNone, "remove");
    t.that(*reinterpret_cast<volatile uint8_t*>(entry) == 0x0f, "original byte not restored");
    t.error(sys::invoke(breakpoint, Label::kBreakpointRemove, words), Error::kNotMapped,
            "remove twice");
    kill(breakpoint);
  }
  {
    Check t("breakpoint_on_entry_nop_sees_every_call");
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    must(bind(breakpoint, kVSpace, probe_endpoint), "bind");
    t.error(insert(breakpoint, entry, 5, 0, 0), Error::kNone, "insert");
    ProbeRun run = handle_hits(breakpoint, entry, 0);
    t.that(run.finished, "caller did not finish");
    t.that(run.hits == kCalls, "hit count is not the call count");
    t.that(run.rip_ok, "a hit reported the wrong address");
    t.that(call_sum == expected_sum(kCalls), "results changed under the probe");
    sys::print("  entry NOP: %lu hits\n", run.hits);
    kill(breakpoint);
    t.that(*reinterpret_cast<volatile uint8_t*>(entry) == 0x0f, "deleting the cap left the int3");
  }
  {
    Check t("breakpoint_out_of_line_on_ordinary_instruction");
    for (int i = 0; i < 4; ++i)
      xol_writer[i] = static_cast<uint8_t>(probe_ordinary[i] == '\xcc' ? 0 : probe_ordinary[i]);
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    must(bind(breakpoint, kVSpace, probe_endpoint), "bind");
    t.error(insert(breakpoint, ordinary, 4, xol_page, 0), Error::kNone, "insert");
    ProbeRun run = handle_hits(breakpoint, ordinary, 0);
    t.that(run.finished && run.hits == kCalls, "hit count is not the call count");
    t.that(run.rip_ok, "a hit reported the wrong address");
    t.that(call_sum == expected_sum(kCalls), "results changed under the probe");
    kill(breakpoint);
  }
  {
    // kFixupNoStep: the slot's copy ends with a jump back (jmp *0(%rip), then the address after
    // the original), so Resume sends the thread there and no single step follows.
    Check t("breakpoint_out_of_line_without_a_step");
    constexpr uint64_t kSlot = 0x80;
    for (int i = 0; i < 4; ++i)
      xol_writer[kSlot + i] =
          static_cast<uint8_t>(probe_ordinary[i] == '\xcc' ? 0 : probe_ordinary[i]);
    const uint8_t jump[] = {0xff, 0x25, 0, 0, 0, 0};
    for (int i = 0; i < 6; ++i) xol_writer[kSlot + 4 + i] = jump[i];
    for (int i = 0; i < 8; ++i)
      xol_writer[kSlot + 10 + i] = static_cast<uint8_t>((ordinary + 4) >> (8 * i));
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    must(bind(breakpoint, kVSpace, probe_endpoint), "bind");
    t.error(insert(breakpoint, ordinary, 4, 0, abi::breakpoint_message::kFixupNoStep),
            Error::kInvalidArgument, "no step without a slot");
    t.error(insert(breakpoint, ordinary, 4, xol_page + 0x1000 + kSlot,
                   abi::breakpoint_message::kFixupNoStep),
            Error::kNotMapped, "a slot that is not executable");
    t.error(insert(breakpoint, ordinary, 4, xol_page + kSlot,
                   abi::breakpoint_message::kFixupNoStep | 3),
            Error::kInvalidArgument, "no step with a fix-up register");
    t.error(
        insert(breakpoint, ordinary, 4, xol_page + kSlot, abi::breakpoint_message::kFixupNoStep),
        Error::kNone, "insert");
    ProbeRun run = handle_hits(breakpoint, ordinary, 0);
    t.that(run.finished && run.hits == kCalls, "hit count is not the call count");
    t.that(run.rip_ok, "a hit reported the wrong address");
    t.that(call_sum == expected_sum(kCalls), "results changed under the probe");
    kill(breakpoint);
  }
  {
    Check t("breakpoint_out_of_line_on_rip_relative_load");
    // add disp32(%rip), %rax (48 03 05 disp32) becomes add disp32(%rcx), %rax (48 03 81 disp32)
    // with rcx set to the original next instruction's address during the step.
    const auto* original = reinterpret_cast<const uint8_t*>(probe_riprel);
    t.that(original[0] == 0x48 && original[1] == 0x03 && original[2] == 0x05,
           "unexpected encoding");
    xol_writer[0x40] = 0x48;
    xol_writer[0x41] = 0x03;
    xol_writer[0x42] = 0x81;
    for (int i = 3; i < 7; ++i) xol_writer[0x40 + i] = original[i];
    constexpr uint64_t kRcx = 5;  // index of rcx in UserRegisters
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    must(bind(breakpoint, kVSpace, probe_endpoint), "bind");
    t.error(insert(breakpoint, riprel, 7, xol_page + 0x40, kRcx), Error::kNone, "insert");
    ProbeRun run = handle_hits(breakpoint, riprel, 0);
    t.that(run.finished && run.hits == kCalls, "hit count is not the call count");
    t.that(call_sum == expected_sum(kCalls), "results changed under the probe");
    kill(breakpoint);
  }
  {
    // A page fault of the stepped copy pauses the step: the handler sees the thread at the slot
    // with the program's own registers (rcx not the fix-up value, no trap flag), maps the page
    // and answers Resume, and the step goes on: one hit a call, not two. The last fault is
    // answered otherwise (SetSomeRegisters, rdx): the step is dropped, the thread goes back to
    // the probe and hits it once more, and that step, with the page there, just runs.
    Check t("breakpoint_step_paused_by_a_page_fault_goes_on_after_resume");
    static_assert(kProbeWindowWord >= kWindow + 0xb0000 && kProbeWindowWord < kWindow + 0xb1000);
    constexpr uint64_t kRounds = 20;
    constexpr uint64_t kRcx = 5;  // index of rcx in UserRegisters
    constexpr uint64_t kSlot = 0xc0;
    const uint64_t page = kProbeWindowWord & ~uint64_t{0xfff};
    uint64_t frame = make(ObjectType::kFrame, 12);
    must(map_frame(frame, kVSpace, page, abi::kMapWrite), "map the window word");
    *reinterpret_cast<volatile uint64_t*>(kProbeWindowWord) = 42;
    auto load = reinterpret_cast<uint64_t>(probe_window_load);
    const auto* original = reinterpret_cast<const uint8_t*>(probe_window_load);
    t.that(original[0] == 0x48 && original[1] == 0x8b && original[2] == 0x05,
           "unexpected encoding");
    xol_writer[kSlot] = 0x48;  // mov disp32(%rcx), %rax
    xol_writer[kSlot + 1] = 0x8b;
    xol_writer[kSlot + 2] = 0x81;
    for (int i = 3; i < 7; ++i) xol_writer[kSlot + i] = original[i];
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    must(bind(breakpoint, kVSpace, probe_endpoint), "bind");
    t.error(insert(breakpoint, load, 7, xol_page + kSlot, kRcx), Error::kNone, "insert");
    static volatile uint64_t window_sum = 0;
    auto caller = [](uint64_t) {
      uint64_t sum = 0;
      for (uint64_t i = 0; i < kRounds; ++i) sum += probe_window_entry();
      window_sum = sum;
      sys::MessageRegisters done;
      (void)sys::send(probe_endpoint, kDoneLabel, done, 0);
    };
    uint64_t reply = make(ObjectType::kReply);
    uint64_t thread = spawn(
        caller, 0, ThreadOptions{.priority = kRootPriority, .fault_endpoint = probe_endpoint});
    uint64_t hits = 0, faults = 0;
    bool at_slot = true, own_rcx = true, no_trap_flag = true, finished = false, dropped = false;
    sys::MessageRegisters mr;
    auto r = sys::recv(probe_endpoint, reply, mr);
    while (r.error == Error::kNone && hits <= 2 * kRounds) {
      if (r.info.label == kDoneLabel) {
        finished = true;
        break;
      }
      uint64_t answer = static_cast<uint64_t>(abi::FaultReply::kResume), length = 0;
      if (r.info.label == static_cast<uint64_t>(abi::FaultKind::kBreakpoint)) {
        // Each call's hit takes the page away, so the stepped load faults (not the hit again
        // after the dropped step).
        ++hits;
        if (hits <= kRounds) (void)sys::invoke(frame, Label::kFrameUnmap);
      } else if (r.info.label == static_cast<uint64_t>(abi::FaultKind::kPage) &&
                 sys::message_word(mr, abi::kFaultAddressWord) == kProbeWindowWord) {
        ++faults;
        at_slot &= sys::message_word(mr, 0) == xol_page + kSlot;
        own_rcx &= sys::message_word(mr, kRcx) == 0x1234;
        no_trap_flag &= (sys::message_word(mr, 2) & 0x100) == 0;
        must(map_frame(frame, kVSpace, page, abi::kMapWrite), "map the word again");
        if (faults == kRounds) {
          constexpr uint64_t kRdx = 6;
          const uint64_t words[] = {uint64_t{1} << kRdx, 0};
          sys::load_message(mr, words, 2);
          answer = static_cast<uint64_t>(abi::FaultReply::kSetSomeRegisters);
          length = 2;
          dropped = true;
        }
      } else {
        break;
      }
      r = sys::reply_recv(probe_endpoint, reply, answer, mr, length);
    }
    kill(thread);
    if (!finished) {
      sys::print("  stopped at label %lu (error %lu) after %lu hits, %lu faults, address 0x%lx\n",
                 r.info.label, static_cast<uint64_t>(r.error), hits, faults,
                 sys::message_word(mr, abi::kFaultAddressWord));
    }
    t.that(finished, "the caller did not finish");
    t.that(dropped && hits == kRounds + 1,
           "a call was hit more than once (the fault ended the step), or the dropped step did "
           "not go back to the probe");
    t.that(faults == kRounds, "the stepped load did not fault at each call");
    t.that(at_slot, "the fault was not reported at the slot");
    t.that(own_rcx, "the fault showed the fix-up value in rcx");
    t.that(no_trap_flag, "the fault showed the step's trap flag");
    t.that(window_sum == 42 * kRounds, "the load read the wrong word");
    sys::print("  paused steps: %lu hits, %lu page faults\n", hits, faults);
    kill(breakpoint);
    (void)sys::invoke(frame, Label::kFrameUnmap);
  }
  {
    Check t("deleting_breakpoint_mid_run_restores_code_and_loop_finishes");
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    must(bind(breakpoint, kVSpace, probe_endpoint), "bind");
    t.error(insert(breakpoint, ordinary, 4, xol_page, 0), Error::kNone, "insert");
    ProbeRun run = handle_hits(breakpoint, ordinary, kCalls / 2);
    t.that(run.finished, "caller did not finish");
    t.that(run.hits == kCalls / 2, "hits after the cap was deleted");
    t.that(call_sum == expected_sum(kCalls), "results changed");
    t.that(*reinterpret_cast<volatile uint8_t*>(ordinary) == 0x48, "original byte not restored");
  }
  {
    // kBindToThread: hits come through the hitting thread's own fault endpoint (badge 9),
    // not the bound cap (badge 7); the bound endpoint still has to have a receiver.
    Check t("breakpoint_bound_to_threads_hits_through_the_thread_fault_endpoint");
    uint64_t bound = new_slot(), own = new_slot();
    must_mint(kRoot, bound, probe_endpoint, abi::kRightsAll, 7);
    must_mint(kRoot, own, probe_endpoint, abi::kRightsAll, 9);
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    uint64_t bad[] = {kVSpace, bound, 2};
    t.error(sys::invoke(breakpoint, Label::kBreakpointBind, bad), Error::kInvalidArgument,
            "unknown bind flag");
    uint64_t words[] = {kVSpace, bound, abi::breakpoint_message::kBindToThread};
    t.error(sys::invoke(breakpoint, Label::kBreakpointBind, words), Error::kNone, "bind");
    t.error(insert(breakpoint, entry, 5, 0, 0), Error::kNone, "insert");
    uint64_t reply = make(ObjectType::kReply);
    uint64_t thread =
        spawn(probe_caller, 0, ThreadOptions{.priority = kRootPriority, .fault_endpoint = own});
    uint64_t hits = 0, other_badges = 0;
    bool finished = false;
    sys::MessageRegisters mr;
    auto r = sys::recv(probe_endpoint, reply, mr);
    while (r.error == Error::kNone) {
      if (r.info.label == kDoneLabel) {
        finished = true;
        break;
      }
      if (r.info.label != static_cast<uint64_t>(abi::FaultKind::kBreakpoint)) break;
      ++hits;
      if (r.badge != 9) ++other_badges;
      r = sys::reply_recv(probe_endpoint, reply, static_cast<uint64_t>(abi::FaultReply::kResume),
                          mr, 0);
    }
    kill(thread);
    t.that(finished && hits == kCalls, "hit count is not the call count");
    t.that(other_badges == 0, "a hit came with another badge than the thread's");
    t.that(call_sum == expected_sum(kCalls), "results changed under the probe");
    kill(breakpoint);
  }
  {
    Check t("call_probe_errors");
    auto target = reinterpret_cast<uint64_t>(&call_probe_target);
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    must(bind(breakpoint, kVSpace, probe_endpoint), "bind");
    t.error(insert_call(breakpoint, entry, target, 4), Error::kInvalidArgument, "length 4");
    t.error(insert_call(breakpoint, entry, target, 5, xol_page), Error::kInvalidArgument,
            "with an out-of-line slot");
    t.error(insert_call(breakpoint, ordinary, target), Error::kInvalidArgument, "not on a NOP");
    t.error(insert_call(breakpoint, entry, xol_page + 0x1000), Error::kNotMapped,
            "a target that is not executable");
    t.error(insert_call(breakpoint, entry, 0x100000000ull), Error::kNotMapped,
            "an unmapped target");
    // Executable, but more than 2 GiB from the NOP: no rel32 reaches it.
    constexpr uint64_t kFar = 0x0000600000000000ull;
    must(map_anywhere(make(ObjectType::kFrame, 12), kVSpace, kFar, abi::kMapExecute), "map far");
    t.error(insert_call(breakpoint, entry, kFar), Error::kRangeError, "a target out of reach");
    t.that(*reinterpret_cast<volatile uint8_t*>(entry) == 0x0f, "a refused insert wrote code");
    kill(breakpoint);
  }
  {
    Check t("call_probe_calls_its_target_and_remove_restores_the_nop");
    auto target = reinterpret_cast<uint64_t>(&call_probe_target);
    const auto* code = reinterpret_cast<const volatile uint8_t*>(entry);
    uint8_t nop[5];
    for (int i = 0; i < 5; ++i) nop[i] = code[i];
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    must(bind(breakpoint, kVSpace, probe_endpoint), "bind");
    t.error(insert_call(breakpoint, entry, target), Error::kNone, "insert");
    auto rel32 = static_cast<int32_t>(target - (entry + 5));
    bool written = code[0] == 0xe8;
    for (int i = 0; i < 4; ++i) written &= code[1 + i] == static_cast<uint8_t>(rel32 >> (8 * i));
    t.that(written, "the NOP is not `call target`");
    t.error(insert(breakpoint, entry, 5, 0, 0), Error::kAlreadyMapped, "an int3 over the call");
    call_probe_calls = 0;
    ProbeRun run = handle_hits(breakpoint, entry, 0);
    t.that(run.finished && run.hits == 0, "a call probe trapped");
    t.that(call_probe_calls == kCalls, "the target was not called at every call");
    t.that(call_sum == expected_sum(kCalls), "results changed under the call probe");
    uint64_t words[] = {entry};
    t.error(sys::invoke(breakpoint, Label::kBreakpointRemove, words), Error::kNone, "remove");
    bool restored = true;
    for (int i = 0; i < 5; ++i) restored &= code[i] == nop[i];
    t.that(restored, "Remove did not put the NOP back");
    t.that(probed_function(1) == 1002 && call_probe_calls == kCalls, "the call stayed");
    // Deleting the cap restores it too.
    t.error(insert_call(breakpoint, entry, target), Error::kNone, "insert again");
    kill(breakpoint);
    restored = true;
    for (int i = 0; i < 5; ++i) restored &= code[i] == nop[i];
    t.that(restored, "deleting the cap left the call");
  }
  {
    // The kernel remembers the probe the last trap found: a probe removed from one breakpoint
    // and inserted at the same address in another must report through the second (badge 9),
    // never the first (badge 7), and a rebind must not leave the first answering either.
    Check t("probe_moved_between_breakpoints_reports_through_the_new_one");
    uint64_t first_cap = new_slot(), second_cap = new_slot();
    must_mint(kRoot, first_cap, probe_endpoint, abi::kRightsAll, 7);
    must_mint(kRoot, second_cap, probe_endpoint, abi::kRightsAll, 9);
    uint64_t first = make(ObjectType::kBreakpoint), second = make(ObjectType::kBreakpoint);
    must(bind(first, kVSpace, first_cap), "bind first");
    must(bind(second, kVSpace, second_cap), "bind second");
    auto count_badges = [&](uint64_t& sevens, uint64_t& nines) {
      uint64_t reply = make(ObjectType::kReply);
      uint64_t thread = spawn(probe_caller, 0, ThreadOptions{.priority = kRootPriority});
      sys::MessageRegisters mr;
      auto r = sys::recv(probe_endpoint, reply, mr);
      bool finished = false;
      while (r.error == Error::kNone) {
        if (r.info.label == kDoneLabel) {
          finished = true;
          break;
        }
        if (r.info.label != static_cast<uint64_t>(abi::FaultKind::kBreakpoint)) break;
        sevens += r.badge == 7;
        nines += r.badge == 9;
        r = sys::reply_recv(probe_endpoint, reply, static_cast<uint64_t>(abi::FaultReply::kResume),
                            mr, 0);
      }
      kill(thread);
      kill(reply);
      return finished;
    };
    uint64_t sevens = 0, nines = 0;
    t.error(insert(first, entry, 5, 0, 0), Error::kNone, "insert into the first");
    t.that(count_badges(sevens, nines) && sevens == kCalls && nines == 0,
           "the first breakpoint did not see every call");
    uint64_t words[] = {entry};
    t.error(sys::invoke(first, Label::kBreakpointRemove, words), Error::kNone, "remove");
    t.error(insert(second, entry, 5, 0, 0), Error::kNone, "insert into the second");
    sevens = nines = 0;
    t.that(count_badges(sevens, nines) && nines == kCalls && sevens == 0,
           "hits went to the breakpoint the probe left");
    // Deleting the second (its probes go) and probing the same address from the first again.
    kill(second);
    t.error(insert(first, entry, 5, 0, 0), Error::kNone, "insert into the first again");
    sevens = nines = 0;
    t.that(count_badges(sevens, nines) && sevens == kCalls && nines == 0,
           "hits went to a deleted breakpoint");
    kill(first);
    t.that(*reinterpret_cast<volatile uint8_t*>(entry) == 0x0f, "the int3 stayed");
  }
  {
    Check t("breakpoint_with_endpoint_revoked_lets_threads_pass");
    uint64_t endpoint = make(ObjectType::kEndpoint);
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    must(bind(breakpoint, kVSpace, endpoint), "bind");
    t.error(insert(breakpoint, entry, 5, 0, 0), Error::kNone, "insert");
    must(sys::cnode_revoke(kRoot, endpoint), "revoke endpoint");
    t.that(probed_function(1) == 1002, "call through a probe with no listener failed");
    t.that(*reinterpret_cast<volatile uint8_t*>(entry) == 0x0f,
           "probe without listener not removed");
    kill(breakpoint);
  }
}

// A thread in another VSpace loops calling a function at 0x400000 (machine code below); the
// root owns a breakpoint on that function's entry NOP in that VSpace.
DEFINE_TEST(breakpoint_in_another_vspace, "a breakpoint on a thread looping in another VSpace") {
  Check t("breakpoint_on_a_looping_thread_in_another_vspace");
  uint64_t endpoint = make(ObjectType::kEndpoint);
  uint64_t vspace = make(ObjectType::kVSpace);
  uint64_t code = make(ObjectType::kFrame, 12);
  uint64_t stack = make(ObjectType::kFrame, 12);
  for (int i = 0; i < 3; ++i)
    must(map_table(make(ObjectType::kPageTable), vspace, 0x400000), "table");
  must(map_frame(code, vspace, 0x400000, abi::kMapExecute), "code");
  must(map_frame(stack, vspace, 0x401000, abi::kMapWrite), "stack");
  uint64_t alias = new_slot();
  must(sys::cnode_copy(kRoot, alias, code), "alias");
  must(map_frame(alias, kVSpace, kWindow + 0x3000, abi::kMapWrite), "map alias");
  auto* bytes = reinterpret_cast<volatile uint8_t*>(kWindow + 0x3000);
  const uint8_t program[] = {
      0x0f, 0x1f, 0x44, 0x00, 0x00,  // 0x400000 f: 5-byte NOP
      0x48, 0xff, 0xc3,              //            inc %rbx (counts calls)
      0xc3,                          //            ret
      0xe8, 0xf2, 0xff, 0xff, 0xff,  // 0x400009 loop: call f (rel32 = -14)
      0xeb, 0xf9,                    //            jmp loop
  };
  for (size_t i = 0; i < sizeof(program); ++i) bytes[i] = program[i];
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t configure[] = {kRoot, 0, vspace, 0, 0, 0};
  must(sys::invoke(tcb, Label::kTcbConfigure, configure), "configure");
  uint64_t priority[] = {kRootPriority};
  must(sys::invoke(tcb, Label::kTcbSetPriority, priority), "priority");
  uint64_t breakpoint = make(ObjectType::kBreakpoint);
  t.error(bind(breakpoint, vspace, endpoint), Error::kNone, "bind to the other VSpace");
  t.error(insert(breakpoint, 0x400000, 5, 0, 0), Error::kNone, "insert");
  t.that(bytes[0] == 0xcc, "int3 not visible through the alias");
  abi::UserRegisters registers{};
  registers.rip = 0x400009;
  registers.rsp = 0x402000;
  registers.rflags = 0x202;
  t.that(write_registers(tcb, registers, true) == 0, "start failed");
  uint64_t reply = make(ObjectType::kReply);
  sys::MessageRegisters mr;
  uint64_t hits = 0;
  bool consistent = true;
  auto r = sys::recv(endpoint, reply, mr);
  while (r.error == Error::kNone && hits < 100) {
    ++hits;
    // rbx counts completed calls: at the n-th hit, n - 1 calls have finished.
    consistent =
        consistent && sys::message_word(mr, 0) == 0x400000 && sys::message_word(mr, 4) == hits - 1;
    if (hits == 100) break;
    r = sys::reply_recv(endpoint, reply, static_cast<uint64_t>(abi::FaultReply::kResume), mr, 0);
  }
  t.that(hits == 100, "hits stopped");
  t.that(consistent, "a hit saw the wrong rip or call count");
  // Delete the breakpoint while the thread is stopped on it, then answer: it runs on.
  t.error(sys::cnode_delete(kRoot, breakpoint), Error::kNone, "delete");
  t.that(bytes[0] == 0x0f, "original byte not restored");
  t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kResume), mr, 0).error,
          Error::kNone, "reply after delete");
  for (int i = 0; i < 3; ++i) sys::yield();
  must(sys::invoke(tcb, Label::kTcbSuspend), "suspend");
  sys::MessageRegisters out;
  must(sys::invoke(tcb, Label::kTcbReadRegisters, nullptr, 0, &out), "read registers");
  t.that(sys::message_word(out, 4) > 100, "the thread did not run on past the probe");
  kill(tcb);
}

namespace {

const abi::ModuleDescription* find_module(const char* name) {
  for (uint64_t i = 0; i < boot->module_count; ++i) {
    const char* n = boot->modules[i].name;
    size_t j = 0;
    while (name[j] != '\0' && n[j] == name[j]) ++j;
    if (name[j] == '\0' && n[j] == '\0') return &boot->modules[i];
  }
  return nullptr;
}

}  // namespace

DEFINE_TEST(kernel_text_probe, "a probe on kernel text records samples in a ring and signals") {
  Check t("kernel_text_probe_records_samples_and_signals");
  // The kernel's own ELF image is the `symbols` boot module: find a kernel function in it.
  const abi::ModuleDescription* symbols = find_module("symbols");
  t.that(symbols != nullptr, "no symbols module");
  if (symbols == nullptr) return;
  constexpr uint64_t kSymbolsWindow = 0x40000000;
  for (uint64_t i = 0; i < symbols->frame_count; ++i) {
    must(map_anywhere(symbols->first_slot + i, kVSpace, kSymbolsWindow + i * 4096, 0),
         "map symbols");
  }
  elf::SymbolTable table;
  t.that(table.open(reinterpret_cast<const uint8_t*>(kSymbolsWindow + symbols->offset),
                    symbols->size) == elf::ElfError::kNone,
         "kernel symbol table unreadable");
  uint64_t function = 0;
  t.that(table.find("_ZN6kernel16syscall_dispatchEPNS_3TcbE", function),
         "syscall_dispatch not found");
  uint64_t ring_frame = make(ObjectType::kFrame, 12);
  must(map_anywhere(ring_frame, kVSpace, kSymbolsWindow - 0x1000, abi::kMapWrite), "map ring");
  auto* ring = reinterpret_cast<volatile abi::SampleRing*>(kSymbolsWindow - 0x1000);
  uint64_t notification = make(ObjectType::kNotification);
  uint64_t badged = new_slot();
  must_mint(kRoot, badged, notification, abi::kRightsAll, 0x5a);
  uint64_t breakpoint = make(ObjectType::kBreakpoint);
  uint64_t bind_words[] = {ring_frame, badged, abi::kSlotKernelProbes};
  t.error(sys::invoke(breakpoint, Label::kBreakpointBindKernel, bind_words), Error::kNone,
          "bind kernel");
  t.error(insert(breakpoint, function + 1, 5, 0, 0), Error::kInvalidArgument, "probe inside a NOP");
  t.error(insert(breakpoint, function, 4, 0, 0), Error::kInvalidArgument, "probe with length 4");
  t.error(insert(breakpoint, 0x400000, 5, 0, 0), Error::kInvalidArgument,
          "user address on a kernel probe");
  t.error(insert_call(breakpoint, function, function + 64), Error::kInvalidArgument,
          "a call probe on kernel text");
  t.error(insert(breakpoint, function, 5, 0, 0), Error::kNone, "insert");
  t.error(insert(breakpoint, function, 5, 0, 0), Error::kAlreadyMapped, "second probe there");
  uint64_t before = ring->head;
  for (int i = 0; i < 5; ++i) (void)sys::debug_ticks();
  auto w = sys::wait(notification);
  t.error(w.error, Error::kNone, "no signal");
  t.that(w.badge == 0x5a, "notification badge lost");
  uint64_t after = ring->head;
  t.that(after - before >= 5, "fewer samples than system calls");
  bool records_ok = true;
  for (uint64_t i = before; i < after && i < before + ring->capacity; ++i) {
    const volatile abi::SampleRecord& record = ring->records[i % ring->capacity];
    records_ok = records_ok && record.address == function && record.thread != 0 &&
                 record.timestamp != 0 && record.rsp >= 0xffff800000000000ull;
  }
  t.that(records_ok, "a sample has the wrong address, thread, time or stack");
  // A full ring counts drops and never blocks the kernel.
  for (int i = 0; i < 64; ++i) (void)sys::debug_ticks();
  t.that(ring->dropped > 0 && ring->head - ring->tail <= ring->capacity, "full ring not handled");
  // Deleting the cap removes the probe: no more samples.
  kill(breakpoint);
  uint64_t final_head = ring->head;
  for (int i = 0; i < 5; ++i) (void)sys::debug_ticks();
  t.that(ring->head == final_head, "samples after the probe was deleted");
  uint64_t user_bound = make(ObjectType::kBreakpoint);
  uint64_t wrong[] = {notification, badged, abi::kSlotKernelProbes};
  t.error(sys::invoke(user_bound, Label::kBreakpointBindKernel, wrong), Error::kWrongType,
          "notification as the ring");
}

}  // namespace kernel_tests
