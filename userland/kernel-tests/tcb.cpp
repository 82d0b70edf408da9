// SPDX-License-Identifier: MIT
// Kernel tests of threads: TCB invocations and scheduling.
#include "suite.hpp"
#include "sys/clock.hpp"

namespace kernel_tests {

namespace {

volatile uint64_t counter_a = 0;
volatile uint64_t counter_b = 0;
volatile bool flag = false;

void set_flag(uint64_t) { flag = true; }

// Each spins until the other has run, then signals through the badged cap it was given.
void spin_a(uint64_t done) {
  while (counter_b == 0) counter_a = counter_a + 1;
  (void)sys::signal(done);
}
void spin_b(uint64_t done) {
  counter_b = counter_b + 1;
  while (counter_a == 0) counter_b = counter_b + 1;
  (void)sys::signal(done);
}
void spin_forever(uint64_t) {
  for (;;) counter_a = counter_a + 1;
}

}  // namespace

DEFINE_TEST(scheduling, "priorities, time slices, suspend, resume and yield") {
  done_notification = make(ObjectType::kNotification);
  {
    Check t("higher_priority_thread_runs_at_once");
    flag = false;
    uint64_t thread = spawn(set_flag, 0, ThreadOptions{.priority = 255});
    t.that(flag, "resumed higher priority thread did not run first");
    kill(thread);
  }
  {
    Check t("lower_priority_thread_waits");
    flag = false;
    uint64_t thread = spawn(set_flag, 0, ThreadOptions{.priority = 10});
    sys::yield();
    t.that(!flag, "lower priority thread ran while the root could");
    kill(thread);
  }
  {
    Check t("equal_priority_threads_share_the_cpu");
    counter_a = 0;
    counter_b = 0;
    uint64_t done = make(ObjectType::kNotification);
    uint64_t done_a = new_slot(), done_b = new_slot();
    must_mint(kRoot, done_a, done, abi::kRightsAll, 1);
    must_mint(kRoot, done_b, done, abi::kRightsAll, 2);
    // At the root's priority, both wait until the root blocks; `a` spins until `b` has run,
    // which takes the timer preempting `a` at the end of its slice.
    uint64_t a = spawn(spin_a, done_a, ThreadOptions{.priority = kRootPriority});
    uint64_t b = spawn(spin_b, done_b, ThreadOptions{.priority = kRootPriority});
    uint64_t seen = 0;
    while (seen != 3) {
      auto r = sys::wait(done);
      if (r.error != Error::kNone) break;
      seen |= r.badge;
    }
    t.that(seen == 3, "a thread did not finish");
    t.that(counter_a > 0 && counter_b > 0, "one thread never ran");
    kill(a);
    kill(b);
  }
  {
    Check t("suspend_stops_a_thread_and_resume_restarts_it");
    counter_a = 0;
    uint64_t thread = spawn(spin_forever, 0, ThreadOptions{.priority = 100});
    // Equal priority: yielding lets it run.
    for (int i = 0; i < 3 && counter_a == 0; ++i) sys::yield();
    uint64_t start = sys::debug_ticks();
    while (counter_a == 0 && sys::debug_ticks() - start < 100) {
    }
    t.that(counter_a != 0, "thread never ran");
    t.error(sys::invoke(thread, Label::kTcbSuspend), Error::kNone, "suspend failed");
    uint64_t frozen = counter_a;
    start = sys::debug_ticks();
    while (sys::debug_ticks() - start < 20) {
    }
    t.that(counter_a == frozen, "suspended thread kept running");
    t.error(sys::invoke(thread, Label::kTcbResume), Error::kNone, "resume failed");
    start = sys::debug_ticks();
    while (counter_a == frozen && sys::debug_ticks() - start < 100) {
    }
    t.that(counter_a != frozen, "resumed thread did not run");
    kill(thread);
  }
  {
    Check t("yield_returns_zero");
    sys::MessageRegisters mr;
    t.error(sys::ipc(abi::Syscall::kYield, 0, abi::MessageInfo{}, 0, mr).error, Error::kNone,
            "yield failed");
  }
}

namespace {

volatile uint64_t seen_argument = 0;
uint64_t never_signalled;
void store_argument(uint64_t argument) {
  seen_argument = argument;
  (void)sys::wait(never_signalled);  // blocks: the root (lower priority) goes on
}

}  // namespace

DEFINE_TEST(tcb_invocations,
            "TCB invocations: registers, priorities, ABI, affinity, configure, rights") {
  never_signalled = make(ObjectType::kNotification);
  {
    Check t("write_registers_starts_a_thread_where_told");
    seen_argument = 0;
    uint64_t thread = spawn(store_argument, 0xfeed, ThreadOptions{.priority = 255});
    t.that(seen_argument == 0xfeed, "argument register not set");
    t.error(sys::invoke(thread, Label::kTcbSuspend), Error::kNone, "suspend failed");
    sys::MessageRegisters out;
    abi::MessageInfo info;
    t.error(sys::invoke(thread, Label::kTcbReadRegisters, nullptr, 0, &out, &info), Error::kNone,
            "read registers failed");
    t.that(info.length == abi::kUserRegisterWords, "wrong register count");
    abi::UserRegisters registers;
    auto* words = reinterpret_cast<uint64_t*>(&registers);
    for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = sys::message_word(out, i);
    t.that(registers.rip > 0x1000 && registers.rip < 0x800000000000ull, "rip not a user address");
    t.that(registers.fs_base != 0, "fs base lost");
    kill(thread);
  }
  uint64_t thread = spawn(set_flag, 0, ThreadOptions{.start = false});
  {
    Check t("read_own_registers_is_thread_state");
    t.error(sys::invoke(kSelf, Label::kTcbReadRegisters), Error::kThreadState,
            "read own registers");
  }
  {
    Check t("write_registers_rejects_kernel_rip");
    abi::UserRegisters registers{};
    registers.rip = 0xffffffff80000000ull;
    t.that(static_cast<Error>(write_registers(thread, registers, false)) == Error::kInvalidArgument,
           "kernel rip accepted");
  }
  {
    Check t("set_priority_above_max_priority_is_range_error");
    uint64_t words[] = {256};
    t.error(sys::invoke(thread, Label::kTcbSetPriority, words), Error::kRangeError, "priority 256");
    // A thread whose maximum controlled priority is 0 cannot raise anyone.
    t.error(sys::invoke(thread, Label::kTcbSetMaxPriority, words), Error::kRangeError, "mcp 256");
  }
  {
    Check t("set_abi_rejects_unknown_abi");
    uint64_t words[] = {7};
    t.error(sys::invoke(thread, Label::kTcbSetAbi, words), Error::kInvalidArgument, "abi 7");
  }
  {
    Check t("set_affinity_rejects_missing_cpu");
    uint64_t words[] = {64};
    t.error(sys::invoke(thread, Label::kTcbSetAffinity, words), Error::kRangeError, "cpu 64");
  }
  {
    Check t("set_trace_identity_checks_its_words");
    uint64_t words[] = {7 | uint64_t{7} << 32, 0x6873, 0, 0x1000, 0};
    t.error(sys::invoke(thread, Label::kTcbSetTraceIdentity, words, 4), Error::kTruncatedMessage,
            "4 words");
    words[4] = 2;  // no such flag
    t.error(sys::invoke(thread, Label::kTcbSetTraceIdentity, words), Error::kInvalidArgument,
            "flag 2");
    words[4] = abi::tcb_message::kTraceContinues;
    t.error(sys::invoke(thread, Label::kTcbSetTraceIdentity, words), Error::kNone, "continues");
    words[0] = 0;  // no Linux task again
    t.error(sys::invoke(thread, Label::kTcbSetTraceIdentity, words), Error::kNone, "cleared");
  }
  {
    Check t("configure_rejects_unaligned_ipc_buffer");
    uint64_t words[] = {kRoot, 0, kVSpace, 0x1008, 0, 0};
    t.error(sys::invoke(thread, Label::kTcbConfigure, words), Error::kInvalidArgument,
            "unaligned buffer");
  }
  {
    Check t("configure_rejects_non_vspace");
    uint64_t words[] = {kRoot, 0, kRoot, 0, 0, 0};
    t.error(sys::invoke(thread, Label::kTcbConfigure, words), Error::kWrongType, "CNode as VSpace");
  }
  {
    Check t("configure_rejects_kernel_ipc_buffer");
    uint64_t words[] = {kRoot, 0, kVSpace, 0xffff800000000000ull, 0, 0};
    t.error(sys::invoke(thread, Label::kTcbConfigure, words), Error::kInvalidArgument,
            "kernel address");
  }
  {
    Check t("configure_with_short_message_is_truncated");
    uint64_t words[] = {kRoot, 0};
    t.error(sys::invoke(thread, Label::kTcbConfigure, words), Error::kTruncatedMessage, "2 words");
  }
  {
    Check t("resume_unconfigured_thread_is_thread_state");
    uint64_t bare = make(ObjectType::kTcb);
    t.error(sys::invoke(bare, Label::kTcbResume), Error::kThreadState,
            "resumed a thread without a VSpace");
  }
  {
    Check t("tcb_invocations_need_write_right");
    uint64_t read_only = new_slot();
    must_mint(kRoot, read_only, thread, abi::kRightRead, 0);
    t.error(sys::invoke(read_only, Label::kTcbResume), Error::kMissingRight,
            "resume through read-only cap");
    // Who a thread is to Linux tracing is the holder of a writable cap's to say, nobody else's.
    uint64_t identity[] = {42 | uint64_t{42} << 32, 0x6e776f, 0, 0x1000, 0};
    t.error(sys::invoke(read_only, Label::kTcbSetTraceIdentity, identity), Error::kMissingRight,
            "trace identity through read-only cap");
    t.error(sys::invoke(kRoot, Label::kTcbSetTraceIdentity, identity), Error::kWrongType,
            "trace identity on a CNode cap");
  }
  kill(thread);
}

namespace {

uint64_t turn_endpoint;
uint64_t turn_reply;
constexpr uint64_t kLongAnswer = 2;  // the answer takes the general path (past the registers)

// A server above the root's priority: answers each call at once, in registers (the fast path)
// or, for label kLongAnswer, with 12 words (the general path's reply_to).
void turn_server(uint64_t) {
  sys::MessageRegisters mr;
  auto r = sys::recv(turn_endpoint, turn_reply, mr);
  while (r.error == Error::kNone) {
    uint64_t length = r.info.label == kLongAnswer ? 12 : 1;
    r = sys::reply_recv(turn_endpoint, turn_reply, 0, mr, length);
  }
  sys::print("  turn server: %s\n", abi::error_name(r.error));
}

// Calls the server `calls` times with `label`; the timer ticks they took.
uint64_t ticks_for_calls(uint64_t calls, uint64_t label) {
  sys::MessageRegisters mr;
  uint64_t start = sys::debug_ticks();
  for (uint64_t i = 0; i < calls; ++i) {
    if (sys::call(turn_endpoint, label, mr, 0).error != Error::kNone) return ~uint64_t{0};
  }
  return sys::debug_ticks() - start;
}

}  // namespace

DEFINE_TEST(answered_calls_keep_their_turn,
            "a call answered by a server goes on with the caller's time slice, not behind an "
            "equal-priority thread that spins; the spinner still gets its turns") {
  turn_endpoint = make(ObjectType::kEndpoint);
  turn_reply = make(ObjectType::kReply);
  uint64_t server = spawn(turn_server, 0, ThreadOptions{.priority = 200});
  counter_a = 0;
  // Ready at the root's priority on its CPU: it runs whenever the root's turn ends.
  uint64_t spinner = spawn(spin_forever, 0, ThreadOptions{.priority = kRootPriority});
  {
    // 100 calls take microseconds. Queued behind the spinner at each answer, the root would
    // wait a whole slice (5 ticks) per call: 500 ticks.
    Check t("fast_path_answers_keep_the_turn");
    uint64_t ticks = ticks_for_calls(100, 1);
    sys::print("  100 answered calls (fast path) took %lu ticks\n", ticks);
    t.that(ticks < 40, "each answer waited for the spinner's slice");
  }
  {
    Check t("general_path_answers_keep_the_turn");
    uint64_t ticks = ticks_for_calls(100, kLongAnswer);
    sys::print("  100 answered calls (general path) took %lu ticks\n", ticks);
    t.that(ticks < 40, "each answer waited for the spinner's slice");
  }
  {
    // The root calling without end still leaves the spinner its turns: the ticks its calls
    // took count against its slice.
    Check t("a_caller_cannot_keep_the_cpu_from_its_equals");
    uint64_t before = counter_a;
    sys::MessageRegisters mr;
    uint64_t start = sys::debug_ticks();
    while (sys::debug_ticks() - start < 30) (void)sys::call(turn_endpoint, 1, mr, 0);
    t.that(counter_a != before, "the spinner never ran in 30 ticks of calls");
  }
  kill(spinner);
  kill(server);
}

namespace {

uint64_t serving_ticks = 0;  // timer ticks busy_server works on each call
uint64_t served_ns = 0;      // and the time it worked in all, by the clock

uint64_t busy_endpoint;
uint64_t busy_reply;

// A server that works on each call until the timer has ticked `serving_ticks` times.
void busy_server(uint64_t) {
  sys::MessageRegisters mr;
  auto r = sys::recv(busy_endpoint, busy_reply, mr);
  while (r.error == Error::kNone) {
    uint64_t start = sys::debug_ticks();
    uint64_t start_ns = sys::clock_ns();
    while (sys::debug_ticks() - start < serving_ticks) {
    }
    served_ns += sys::clock_ns() - start_ns;
    r = sys::reply_recv(busy_endpoint, busy_reply, 0, mr, 0);
  }
}

volatile bool calls_done = false;
void busy_caller(uint64_t calls) {
  sys::MessageRegisters mr;
  for (uint64_t i = 0; i < calls; ++i) (void)sys::call(busy_endpoint, 1, mr, 0);
  calls_done = true;
  (void)sys::signal(done_notification);
  for (;;) (void)sys::wait(never_signalled);
}

struct CpuTime {
  Error error;
  uint64_t ns, user_ticks, system_ticks;
};
CpuTime read_cpu_time(uint64_t tcb) {
  sys::MessageRegisters out;
  abi::MessageInfo info;
  CpuTime time{};
  time.error = sys::invoke(tcb, Label::kTcbReadCpuTime, nullptr, 0, &out, &info);
  if (time.error == Error::kNone && info.length == abi::tcb_message::kCpuTimeLength) {
    time.ns = sys::message_word(out, abi::tcb_message::kCpuTimeNs);
    time.user_ticks = sys::message_word(out, abi::tcb_message::kCpuTimeUserTicks);
    time.system_ticks = sys::message_word(out, abi::tcb_message::kCpuTimeSystemTicks);
  }
  return time;
}

// A thread that is Linux task `ids` (the identity set before it starts).
uint64_t spawn_task(ThreadFunction function, uint64_t argument, uint64_t ids, uint64_t priority) {
  uint64_t thread = spawn(function, argument, ThreadOptions{.priority = priority, .start = false});
  uint64_t identity[] = {ids | ids << 32, 0x6b736174, 0, 0x1000 + ids, 0};  // comm "task"
  must(sys::invoke(thread, Label::kTcbSetTraceIdentity, identity), "trace identity");
  must(sys::invoke(thread, Label::kTcbResume), "resume");
  return thread;
}

}  // namespace

DEFINE_TEST(cpu_time_of_linux_tasks,
            "TCB ReadCpuTime: a Linux task's CPU time, user ticks while it runs, system ticks "
            "while a server works on its call; nothing for other threads") {
  sys::clock_page = reinterpret_cast<const abi::ClockPage*>(abi::kRootClockPage);
  never_signalled = make(ObjectType::kNotification);
  done_notification = make(ObjectType::kNotification);
  {
    Check t("a_spinning_task_has_user_time");
    counter_a = 0;
    uint64_t sleep = make(ObjectType::kNotification);
    uint64_t start = sys::clock_ns();
    uint64_t spinner = spawn_task(spin_forever, 0, 501, kRootPriority);
    // The root sleeps 200 ms: the spinner has the CPU.
    must(sys::set_timer(sleep, start + 200000000), "timer");
    (void)sys::wait(sleep);
    CpuTime time = read_cpu_time(spinner);
    uint64_t elapsed = sys::clock_ns() - start;
    t.error(time.error, Error::kNone, "ReadCpuTime");
    sys::print("  spinner: %lu ns of %lu, %lu user and %lu system ticks\n", time.ns, elapsed,
               time.user_ticks, time.system_ticks);
    t.that(counter_a != 0, "the spinner did not run");
    t.that(time.ns > elapsed / 4 && time.ns <= elapsed, "CPU time not most of the 200 ms");
    t.that(time.user_ticks >= 5 && time.system_ticks == 0, "ticks not all user ticks");
    CpuTime later = read_cpu_time(spinner);  // it is still on the CPU: the time goes on
    t.that(later.ns > time.ns, "a running task's time did not grow");
    kill(spinner);
  }
  {
    Check t("a_served_task_has_system_time");
    busy_endpoint = make(ObjectType::kEndpoint);
    busy_reply = make(ObjectType::kReply);
    serving_ticks = 2;
    served_ns = 0;
    uint64_t server = spawn(busy_server, 0, ThreadOptions{.priority = 200});
    calls_done = false;
    uint64_t caller = spawn_task(busy_caller, 5, 502, 150);
    (void)sys::wait(done_notification);
    CpuTime time = read_cpu_time(caller);
    t.error(time.error, Error::kNone, "ReadCpuTime");
    sys::print("  served caller: %lu ns (served %lu ns), %lu user and %lu system ticks\n", time.ns,
               served_ns, time.user_ticks, time.system_ticks);
    t.that(calls_done, "the calls did not end");
    // 5 calls of 2 ticks each: about 10 ticks of service. The time is the server's own clock
    // reading of its work, not ticks times the tick period: a loaded host's QEMU delivers late
    // ticks back to back (10 ticks in 24 ms were seen), and the time charged follows the clock.
    t.that(time.system_ticks >= 5, "the server's work was not its system time");
    t.that(time.ns >= served_ns / 2, "CPU time shorter than the calls");
    kill(caller);
    kill(server);
  }
  {
    Check t("threads_that_are_no_linux_task_have_no_cpu_time");
    counter_a = 0;
    uint64_t plain = spawn(spin_forever, 0, ThreadOptions{.priority = kRootPriority});
    uint64_t start = sys::debug_ticks();
    while (counter_a == 0 && sys::debug_ticks() - start < 100) sys::yield();
    CpuTime time = read_cpu_time(plain);
    t.error(time.error, Error::kNone, "ReadCpuTime");
    t.that(counter_a != 0, "the thread did not run");
    t.that(time.ns == 0 && time.user_ticks == 0 && time.system_ticks == 0, "time counted");
    kill(plain);
  }
  {
    Check t("read_cpu_time_needs_read_right_and_a_tcb");
    uint64_t thread = spawn(spin_forever, 0, ThreadOptions{.priority = 10});
    uint64_t write_only = new_slot();
    must_mint(kRoot, write_only, thread, abi::kRightWrite, 0);
    uint64_t read_only = new_slot();
    must_mint(kRoot, read_only, thread, abi::kRightRead, 0);
    t.error(read_cpu_time(write_only).error, Error::kMissingRight, "without Read");
    t.error(read_cpu_time(read_only).error, Error::kNone, "with Read only");
    t.error(read_cpu_time(kRoot).error, Error::kWrongType, "a CNode cap");
    t.error(read_cpu_time(kSelf).error, Error::kNone, "its own thread");
    kill(thread);
  }
}

}  // namespace kernel_tests
