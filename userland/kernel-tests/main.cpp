// The microkernel's user-mode test suite (in the spirit of sel4test): the root task exercises
// capabilities, IPC, threads, scheduling and faults from user mode, including the error paths,
// and prints one `TEST <name> PASS|FAIL <reason>` line per test for tests/qemu/run.py.
#include <stddef.h>
#include <stdint.h>

#include "elf/elf64.hpp"
#include "sonde/capnp/kernel_transport.hpp"
#include "supervisor.capnp.hpp"
#include "sys/clock.hpp"
#include "sys/ipc.hpp"
#include "sys/loader.hpp"
#include "sys/syscall.hpp"

namespace {

namespace abi = sonde::abi;
using abi::Error;
using abi::Label;
using abi::ObjectType;

constexpr uint64_t kRoot = abi::kSlotRootCNode;
constexpr uint64_t kSelf = abi::kSlotRootTcb;
constexpr uint64_t kVSpace = abi::kSlotRootVSpace;

const abi::BootInfo* boot;
uint64_t next_slot;
uint64_t untyped;  // the largest untyped cap
int failures = 0;

void report(const char* name, bool ok, const char* reason) {
  if (ok) {
    sys::print("TEST %s PASS\n", name);
  } else {
    sys::print("TEST %s FAIL %s\n", name, reason);
    ++failures;
  }
}

// Checks one condition; the first failing check of a test decides its reason.
struct Check {
  const char* name;
  bool ok = true;
  const char* reason = "";
  explicit Check(const char* test) : name(test) {}
  void that(bool condition, const char* why) {
    if (ok && !condition) {
      ok = false;
      reason = why;
    }
  }
  void error(Error got, Error want, const char* why) {
    if (ok && got != want) {
      ok = false;
      reason = why;
      sys::print("  %s: got %s, want %s\n", name, abi::error_name(got), abi::error_name(want));
    }
  }
  ~Check() { report(name, ok, reason); }
};

constexpr uint64_t kRootPriority = 100;

uint64_t new_slot() { return next_slot++; }

// A setup step that must work; a failure is printed (and fails the run at the end).
void must(Error error, const char* what) {
  if (error != Error::kNone) {
    sys::print("  setup failed: %s: %s\n", what, abi::error_name(error));
    ++failures;
  }
}

uint64_t make(ObjectType type, uint64_t size_bits = 0) {
  uint64_t slot = new_slot();
  Error e = sys::retype(untyped, type, size_bits, kRoot, slot);
  if (e != Error::kNone) sys::print("  retype of type %lu failed: %s\n", static_cast<uint64_t>(type), abi::error_name(e));
  return slot;
}

// ---- threads in the root task's address space ----

struct alignas(abi::kIpcBufferAlign) ThreadMemory {
  abi::IpcBuffer buffer;
  alignas(16) uint8_t stack[16 * 1024];
};
ThreadMemory thread_memory[8];
unsigned next_memory = 0;

using ThreadFunction = void (*)(uint64_t);

[[noreturn]] void thread_entry(ThreadFunction function, uint64_t argument) {
  function(argument);
  sys::thread_exit(0);
}

struct ThreadOptions {
  uint64_t priority = 200;
  uint64_t fault_endpoint = 0;
  uint64_t supervisor = 0;
  bool linux_abi = false;
  bool start = true;
};

uint64_t write_registers(uint64_t tcb, const abi::UserRegisters& registers, bool resume) {
  uint64_t words[1 + abi::kUserRegisterWords];
  words[0] = resume ? abi::tcb_message::kWriteResume : 0;
  const auto* in = reinterpret_cast<const uint64_t*>(&registers);
  for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[1 + i] = in[i];
  return static_cast<uint64_t>(sys::invoke(tcb, Label::kTcbWriteRegisters, words));
}

// A new thread running function(argument); returns its TCB cap.
uint64_t spawn(ThreadFunction function, uint64_t argument, ThreadOptions options = {}) {
  ThreadMemory& memory = thread_memory[next_memory++ % 8];
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t configure[] = {kRoot, 0, kVSpace, reinterpret_cast<uint64_t>(&memory.buffer),
                          options.fault_endpoint, options.supervisor};
  Error e = sys::invoke(tcb, Label::kTcbConfigure, configure);
  if (e != Error::kNone) sys::print("  configure failed: %s\n", abi::error_name(e));
  must(sys::bind_ipc_buffer(tcb, &memory.buffer), "bind IPC buffer");
  uint64_t priority[] = {options.priority};
  must(sys::invoke(tcb, Label::kTcbSetPriority, priority), "set priority");
  if (options.linux_abi) {
    uint64_t value[] = {static_cast<uint64_t>(abi::ThreadAbi::kLinux)};
    must(sys::invoke(tcb, Label::kTcbSetAbi, value), "set ABI");
  }
  abi::UserRegisters registers{};
  registers.rip = reinterpret_cast<uint64_t>(&thread_entry);
  registers.rsp = reinterpret_cast<uint64_t>(memory.stack + sizeof(memory.stack)) - 8;
  registers.rflags = 0x202;
  registers.rdi = reinterpret_cast<uint64_t>(function);
  registers.rsi = argument;
  registers.fs_base = reinterpret_cast<uint64_t>(&memory.buffer);
  write_registers(tcb, registers, options.start);
  return tcb;
}

void must_mint(uint64_t root, uint64_t to, uint64_t from, uint64_t rights, uint64_t badge) {
  must(sys::cnode_mint(root, to, from, rights, badge), "mint");
}

void kill(uint64_t tcb) { must(sys::cnode_delete(kRoot, tcb), "delete TCB"); }

// ---- capabilities ----

void test_boot_info() {
  Check t("boot_info_describes_untyped_memory");
  t.that(boot->magic == abi::kBootInfoMagic, "bad magic");
  t.that(boot->untyped_count > 0, "no untyped memory");
  t.that(boot->ipc_buffer != 0, "no IPC buffer");
  uint64_t total = 0;
  for (uint64_t i = 0; i < boot->untyped_count; ++i) total += uint64_t{1} << boot->untyped[i].size_bits;
  t.that(total >= (16ull << 20), "less than 16 MiB of untyped memory");
}

void test_lookup_errors() {
  {
    Check t("invoke_empty_slot_is_invalid_capability");
    t.error(sys::invoke(next_slot + 100, Label::kTcbResume), Error::kInvalidCapability, "empty slot accepted");
  }
  {
    Check t("unknown_label_is_invalid_label");
    t.error(sys::invoke(kRoot, static_cast<Label>(1000)), Error::kInvalidLabel, "label accepted");
  }
  {
    Check t("label_of_another_type_is_wrong_type");
    t.error(sys::invoke(kSelf, Label::kUntypedRetype), Error::kWrongType, "retype on a TCB accepted");
  }
  {
    Check t("cptr_beyond_guard_is_guard_mismatch");
    t.error(sys::invoke(uint64_t{1} << 40, Label::kTcbResume), Error::kGuardMismatch, "bad guard accepted");
  }
}

void test_retype_errors() {
  {
    Check t("retype_into_occupied_slot_is_slot_occupied");
    t.error(sys::retype(untyped, ObjectType::kEndpoint, 0, kRoot, kSelf), Error::kSlotOccupied,
            "overwrote a cap");
  }
  {
    Check t("retype_larger_than_untyped_is_not_enough_memory");
    uint64_t smallest = boot->untyped_first;
    for (uint64_t i = 0; i < boot->untyped_count; ++i) {
      if (boot->untyped[i].size_bits < boot->untyped[smallest - boot->untyped_first].size_bits) {
        smallest = boot->untyped_first + i;
      }
    }
    t.error(sys::retype(smallest, ObjectType::kCNode, 24, kRoot, next_slot + 1),
            Error::kNotEnoughMemory, "huge CNode fit in the smallest untyped");
  }
  {
    Check t("retype_unknown_type_is_invalid_argument");
    t.error(sys::retype(untyped, static_cast<ObjectType>(77), 0, kRoot, next_slot + 1),
            Error::kInvalidArgument, "unknown type accepted");
  }
}

void test_rights_and_revoke() {
  uint64_t endpoint = make(ObjectType::kEndpoint);
  uint64_t read_only = new_slot();
  {
    Check t("mint_reduces_rights_and_send_needs_write");
    t.error(sys::cnode_mint(kRoot, read_only, endpoint, abi::kRightRead, 0), Error::kNone, "mint failed");
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kNBSend, read_only, abi::MessageInfo{1, 0, 0}, 0, mr);
    t.error(r.error, Error::kMissingRight, "send through a read-only cap");
  }
  {
    Check t("recv_needs_read_right");
    uint64_t write_only = new_slot();
    must_mint(kRoot, write_only, endpoint, abi::kRightWrite, 0);
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kNBRecv, write_only, abi::MessageInfo{}, 0, mr);
    t.error(r.error, Error::kMissingRight, "receive through a write-only cap");
  }
  {
    Check t("revoke_deletes_derived_caps");
    uint64_t copy = new_slot();
    t.error(sys::cnode_copy(kRoot, copy, endpoint), Error::kNone, "copy failed");
    t.error(sys::cnode_revoke(kRoot, endpoint), Error::kNone, "revoke failed");
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kNBSend, copy, abi::MessageInfo{}, 0, mr);
    t.error(r.error, Error::kInvalidCapability, "revoked copy still usable");
    r = sys::ipc(abi::Syscall::kNBSend, read_only, abi::MessageInfo{}, 0, mr);
    t.error(r.error, Error::kInvalidCapability, "revoked mint still usable");
  }
  {
    Check t("deleted_cap_is_invalid_capability");
    t.error(sys::cnode_delete(kRoot, endpoint), Error::kNone, "delete failed");
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kCall, endpoint, abi::MessageInfo{}, 0, mr);
    t.error(r.error, Error::kInvalidCapability, "call on a deleted cap");
  }
}

// ---- IPC ----

uint64_t server_endpoint;
uint64_t server_reply;

// Echo server: replies with each word plus one and the badge in the label; stops on label 99.
void echo_server(uint64_t) {
  sys::MessageRegisters mr;
  auto r = sys::recv(server_endpoint, server_reply, mr);
  for (;;) {
    if (r.error != Error::kNone) {
      sys::print("  echo server: recv failed: %s\n", abi::error_name(r.error));
      return;
    }
    uint64_t length = r.info.length;
    if (r.info.label == 99) {
      sys::send(server_reply, 0, mr, 0);
      return;
    }
    for (uint64_t i = 0; i < length; ++i) {
      if (i < abi::kRegisterMessageWords) {
        mr.word[i] += 1;
      } else {
        sys::ipc_buffer()->message[i] += 1;
      }
    }
    r = sys::reply_recv(server_endpoint, server_reply, r.badge, mr, length);
  }
}

void test_call_reply() {
  server_endpoint = make(ObjectType::kEndpoint);
  server_reply = make(ObjectType::kReply);
  uint64_t badged = new_slot();
  must_mint(kRoot, badged, server_endpoint, abi::kRightsAll, 0x5a);
  uint64_t server = spawn(echo_server, 0);
  {
    Check t("call_reply_round_trip");
    sys::MessageRegisters mr;
    for (uint64_t i = 0; i < 8; ++i) mr.word[i] = 100 + i;
    auto r = sys::call(badged, 7, mr, 8);
    t.error(r.error, Error::kNone, "call failed");
    t.that(r.info.length == 8, "reply length wrong");
    t.that(r.info.label == 0x5a, "server did not see the badge");
    bool words_ok = true;
    for (uint64_t i = 0; i < 8; ++i) words_ok = words_ok && mr.word[i] == 101 + i;
    t.that(words_ok, "reply words wrong");
  }
  {
    Check t("long_message_through_ipc_buffers");
    uint64_t words[40];
    for (uint64_t i = 0; i < 40; ++i) words[i] = 1000 * i;
    sys::MessageRegisters mr;
    sys::load_message(mr, words, 40);
    auto r = sys::call(server_endpoint, 1, mr, 40);
    t.error(r.error, Error::kNone, "call failed");
    t.that(r.info.length == 40, "reply length wrong");
    bool ok = true;
    for (uint64_t i = 0; i < 40; ++i) ok = ok && sys::message_word(mr, i) == 1000 * i + 1;
    t.that(ok, "words beyond the registers were lost");
  }
  {
    Check t("nonblocking_send_without_receiver_would_block");
    // The server is blocked in Recv: an NBSend succeeds. After the stop message it is gone.
    sys::MessageRegisters mr;
    auto r = sys::call(server_endpoint, 99, mr, 0);
    t.error(r.error, Error::kNone, "stop call failed");
    r = sys::ipc(abi::Syscall::kNBSend, server_endpoint, abi::MessageInfo{1, 0, 0}, 0, mr);
    t.error(r.error, Error::kWouldBlock, "NBSend without a receiver");
    r = sys::ipc(abi::Syscall::kNBRecv, server_endpoint, abi::MessageInfo{}, 0, mr);
    t.error(r.error, Error::kWouldBlock, "NBRecv without a sender");
  }
  kill(server);
}

volatile uint64_t receiver_result = 0;
volatile bool receiver_done = false;
uint64_t victim_endpoint;
uint64_t done_notification;

void blocked_receiver(uint64_t) {
  sys::MessageRegisters mr;
  auto r = sys::recv(victim_endpoint, 0, mr);
  receiver_result = static_cast<uint64_t>(r.error);
  receiver_done = true;
  (void)sys::signal(done_notification);
}

void test_dead_endpoint() {
  Check t("recv_on_deleted_endpoint_wakes_with_deleted");
  victim_endpoint = make(ObjectType::kEndpoint);
  done_notification = make(ObjectType::kNotification);
  receiver_done = false;
  uint64_t thread = spawn(blocked_receiver, 0);  // above the root: runs now, blocks in Recv
  t.that(!receiver_done, "receiver returned without a message");
  t.error(sys::cnode_delete(kRoot, victim_endpoint), Error::kNone, "delete failed");
  auto w = sys::wait(done_notification);
  t.error(w.error, Error::kNone, "wait failed");
  t.that(receiver_done, "receiver never woke");
  t.that(static_cast<Error>(receiver_result) == Error::kDeleted, "receiver did not get Deleted");
  kill(thread);
}

void test_notifications() {
  uint64_t notification = make(ObjectType::kNotification);
  uint64_t a = new_slot(), b = new_slot();
  must_mint(kRoot, a, notification, abi::kRightsAll, 0x1);
  must_mint(kRoot, b, notification, abi::kRightsAll, 0x4);
  {
    Check t("notification_badges_accumulate");
    t.error(sys::signal(a), Error::kNone, "signal a");
    t.error(sys::signal(b), Error::kNone, "signal b");
    auto r = sys::wait(notification);
    t.error(r.error, Error::kNone, "wait failed");
    t.that(r.badge == 0x5, "badges not or-ed");
  }
  {
    Check t("notification_poll_when_empty_would_block");
    t.error(sys::poll(notification).error, Error::kWouldBlock, "poll of an empty notification");
  }
  {
    Check t("call_on_notification_is_illegal");
    sys::MessageRegisters mr;
    t.error(sys::call(a, 0, mr, 0).error, Error::kIllegalOperation, "call accepted");
  }
}

uint64_t grant_endpoint;
uint64_t grant_receive_slot;
volatile uint64_t grant_caps = 99;

void cap_receiver(uint64_t) {
  abi::IpcBuffer* buffer = sys::ipc_buffer();
  buffer->receive_root = kRoot;
  buffer->receive_index = grant_receive_slot;
  buffer->receive_depth = 64;
  sys::MessageRegisters mr;
  auto r = sys::recv(grant_endpoint, 0, mr);
  grant_caps = r.error == Error::kNone ? r.info.extra_caps : 100;
  (void)sys::signal(done_notification);
}

void test_cap_transfer() {
  done_notification = make(ObjectType::kNotification);
  grant_endpoint = make(ObjectType::kEndpoint);
  uint64_t gift = make(ObjectType::kNotification);
  {
    Check t("cap_transfer_with_grant");
    grant_receive_slot = new_slot();
    uint64_t thread = spawn(cap_receiver, 0, ThreadOptions{.priority = 254});
    sys::ipc_buffer()->caps[0] = gift;
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kSend, grant_endpoint, abi::MessageInfo{3, 0, 1}, 0, mr);
    t.error(r.error, Error::kNone, "send failed");
    t.that(grant_caps == 1, "receiver got no cap");
    // The received cap works: signal through it, and the original sees the signal.
    t.error(sys::signal(grant_receive_slot), Error::kNone, "received cap unusable");
    t.that(sys::poll(gift).error == Error::kNone, "signal through the received cap was lost");
    kill(thread);
  }
  {
    Check t("cap_transfer_needs_grant_right");
    grant_receive_slot = new_slot();
    uint64_t no_grant = new_slot();
    must_mint(kRoot, no_grant, grant_endpoint, abi::kRightWrite, 0);
    uint64_t thread = spawn(cap_receiver, 0, ThreadOptions{.priority = 254});
    sys::ipc_buffer()->caps[0] = gift;
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kSend, no_grant, abi::MessageInfo{3, 0, 1}, 0, mr);
    t.error(r.error, Error::kNone, "send failed");
    t.that(grant_caps == 0, "cap went through without Grant");
    sys::MessageRegisters probe;
    t.error(sys::ipc(abi::Syscall::kNBSend, grant_receive_slot, abi::MessageInfo{}, 0, probe).error,
            Error::kInvalidCapability, "receive slot filled");
    kill(thread);
  }
}

uint64_t reply_endpoint;
uint64_t reply_object;
volatile uint64_t caller_result = 0;

void caller_thread(uint64_t) {
  sys::MessageRegisters mr;
  caller_result = static_cast<uint64_t>(sys::call(reply_endpoint, 1, mr, 0).error);
  (void)sys::signal(done_notification);
}

void test_reply_errors() {
  done_notification = make(ObjectType::kNotification);
  reply_endpoint = make(ObjectType::kEndpoint);
  reply_object = make(ObjectType::kReply);
  {
    Check t("reply_without_caller_is_no_reply");
    sys::MessageRegisters mr;
    t.error(sys::send(reply_object, 0, mr, 0).error, Error::kNoReply, "reply to nobody");
  }
  {
    Check t("deleting_reply_cancels_the_call");
    caller_result = 0;
    uint64_t thread = spawn(caller_thread, 0, ThreadOptions{.priority = 254});
    sys::MessageRegisters mr;
    auto r = sys::recv(reply_endpoint, reply_object, mr);  // takes the call, binds the reply
    t.error(r.error, Error::kNone, "recv failed");
    t.error(sys::cnode_delete(kRoot, reply_object), Error::kNone, "delete failed");
    t.that(static_cast<Error>(caller_result) == Error::kCancelled, "caller not cancelled");
    kill(thread);
  }
  {
    Check t("call_to_receiver_without_reply_is_no_reply");
    caller_result = 0;
    uint64_t thread = spawn(caller_thread, 0, ThreadOptions{.priority = 254});
    sys::MessageRegisters mr;
    auto r = sys::recv(reply_endpoint, 0, mr);
    t.error(r.error, Error::kNone, "recv failed");
    t.that(static_cast<Error>(caller_result) == Error::kNoReply, "caller not told NoReply");
    kill(thread);
  }
}

// ---- threads and scheduling ----

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

void test_scheduling() {
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
    while (counter_a == 0 && sys::debug_ticks() - start < 100) {}
    t.that(counter_a != 0, "thread never ran");
    t.error(sys::invoke(thread, Label::kTcbSuspend), Error::kNone, "suspend failed");
    uint64_t frozen = counter_a;
    start = sys::debug_ticks();
    while (sys::debug_ticks() - start < 20) {}
    t.that(counter_a == frozen, "suspended thread kept running");
    t.error(sys::invoke(thread, Label::kTcbResume), Error::kNone, "resume failed");
    start = sys::debug_ticks();
    while (counter_a == frozen && sys::debug_ticks() - start < 100) {}
    t.that(counter_a != frozen, "resumed thread did not run");
    kill(thread);
  }
  {
    Check t("yield_returns_zero");
    sys::MessageRegisters mr;
    t.error(sys::ipc(abi::Syscall::kYield, 0, abi::MessageInfo{}, 0, mr).error, Error::kNone, "yield failed");
  }
}

volatile uint64_t seen_argument = 0;
uint64_t never_signalled;
void store_argument(uint64_t argument) {
  seen_argument = argument;
  (void)sys::wait(never_signalled);  // blocks: the root (lower priority) goes on
}

void test_tcb_invocations() {
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
    t.error(sys::invoke(kSelf, Label::kTcbReadRegisters), Error::kThreadState, "read own registers");
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
    Check t("configure_rejects_unaligned_ipc_buffer");
    uint64_t words[] = {kRoot, 0, kVSpace, 0x1008, 0, 0};
    t.error(sys::invoke(thread, Label::kTcbConfigure, words), Error::kInvalidArgument, "unaligned buffer");
  }
  {
    Check t("configure_rejects_non_vspace");
    uint64_t words[] = {kRoot, 0, kRoot, 0, 0, 0};
    t.error(sys::invoke(thread, Label::kTcbConfigure, words), Error::kWrongType, "CNode as VSpace");
  }
  {
    Check t("configure_rejects_kernel_ipc_buffer");
    uint64_t words[] = {kRoot, 0, kVSpace, 0xffff800000000000ull, 0, 0};
    t.error(sys::invoke(thread, Label::kTcbConfigure, words), Error::kInvalidArgument, "kernel address");
  }
  {
    Check t("configure_with_short_message_is_truncated");
    uint64_t words[] = {kRoot, 0};
    t.error(sys::invoke(thread, Label::kTcbConfigure, words), Error::kTruncatedMessage, "2 words");
  }
  {
    Check t("resume_unconfigured_thread_is_thread_state");
    uint64_t bare = make(ObjectType::kTcb);
    t.error(sys::invoke(bare, Label::kTcbResume), Error::kThreadState, "resumed a thread without a VSpace");
  }
  {
    Check t("tcb_invocations_need_write_right");
    uint64_t read_only = new_slot();
    must_mint(kRoot, read_only, thread, abi::kRightRead, 0);
    t.error(sys::invoke(read_only, Label::kTcbResume), Error::kMissingRight, "resume through read-only cap");
  }
  kill(thread);
}

// ---- faults ----

uint64_t fault_endpoint;
volatile uint64_t after_fault = 0;

[[gnu::noinline]] void touch_unmapped(uint64_t) {
  *reinterpret_cast<volatile uint64_t*>(0x100000000ull) = 1;
  after_fault = 1;  // reached only if the handler skips the store
}
void recovered(uint64_t value) {
  after_fault = value;
  (void)sys::signal(done_notification);
  for (;;) sys::yield();
}
void invalid_opcode(uint64_t) { asm volatile("ud2"); }
void breakpoint_instruction(uint64_t) {
  asm volatile("int3");
  after_fault = 3;
  (void)sys::signal(done_notification);
  for (;;) sys::yield();
}
// A thread with the Linux ABI: every `syscall` is a ForeignSyscall fault, so it reports by
// making a second call (exit_group) after storing the first one's result.
void linux_syscall(uint64_t) {
  uint64_t result;
  asm volatile("syscall" : "=a"(result) : "a"(39) : "rcx", "r11", "memory");  // getpid
  after_fault = result;
  asm volatile("syscall" : : "a"(231), "D"(0) : "rcx", "r11", "memory");     // exit_group
}

// Receives one fault on fault_endpoint with `reply` bound.
sys::IpcResult receive_fault(uint64_t reply, abi::UserRegisters& registers, uint64_t& address,
                             uint64_t& detail) {
  sys::MessageRegisters mr;
  auto r = sys::recv(fault_endpoint, reply, mr);
  auto* words = reinterpret_cast<uint64_t*>(&registers);
  for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = sys::message_word(mr, i);
  address = sys::message_word(mr, abi::kFaultAddressWord);
  detail = sys::message_word(mr, abi::kFaultDetailWord);
  return r;
}

void test_faults() {
  done_notification = make(ObjectType::kNotification);
  fault_endpoint = make(ObjectType::kEndpoint);
  uint64_t reply = make(ObjectType::kReply);
  uint64_t badged = new_slot();
  must_mint(kRoot, badged, fault_endpoint, abi::kRightsAll, 0xfa);
  {
    Check t("page_fault_is_delivered_and_handler_redirects");
    after_fault = 0;
    uint64_t thread = spawn(touch_unmapped, 0, ThreadOptions{.priority = 100, .fault_endpoint = badged});
    abi::UserRegisters registers;
    uint64_t address = 0, detail = 0;
    auto r = receive_fault(reply, registers, address, detail);
    t.error(r.error, Error::kNone, "no fault message");
    t.that(r.info.label == static_cast<uint64_t>(abi::FaultKind::kPage), "not a page fault");
    t.that(r.info.length == abi::kFaultMessageWords, "fault message length");
    t.that(r.badge == 0xfa, "fault endpoint badge missing");
    t.that(address == 0x100000000ull, "fault address wrong");
    t.that((detail & 2) != 0 && (detail & 4) != 0, "not a user write");
    // Redirect the thread to `recovered(77)`.
    registers.rip = reinterpret_cast<uint64_t>(&recovered);
    registers.rdi = 77;
    sys::MessageRegisters mr;
    uint64_t words[abi::kUserRegisterWords];
    const auto* in = reinterpret_cast<const uint64_t*>(&registers);
    for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = in[i];
    sys::load_message(mr, words, abi::kUserRegisterWords);
    t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSetRegisters), mr,
                      abi::kUserRegisterWords).error,
            Error::kNone, "reply failed");
    sys::wait(done_notification);
    t.that(after_fault == 77, "thread did not continue where the handler said");
    kill(thread);
  }
  {
    Check t("invalid_opcode_is_an_exception_fault");
    uint64_t thread = spawn(invalid_opcode, 0, ThreadOptions{.priority = 100, .fault_endpoint = badged});
    abi::UserRegisters registers;
    uint64_t vector = 0, detail = 0;
    auto r = receive_fault(reply, registers, vector, detail);
    t.error(r.error, Error::kNone, "no fault message");
    t.that(r.info.label == static_cast<uint64_t>(abi::FaultKind::kException), "not an exception");
    t.that(vector == 6, "vector is not #UD");
    t.that(registers.rip == reinterpret_cast<uint64_t>(&invalid_opcode) ||
               registers.rip > reinterpret_cast<uint64_t>(&invalid_opcode),
           "rip not in the faulting function");
    sys::MessageRegisters mr;
    sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), mr, 0);
    kill(thread);
  }
  {
    Check t("int3_is_an_exception_fault_and_resumes_after_it");
    after_fault = 0;
    uint64_t thread = spawn(breakpoint_instruction, 0, ThreadOptions{.priority = 100, .fault_endpoint = badged});
    abi::UserRegisters registers;
    uint64_t vector = 0, detail = 0;
    auto r = receive_fault(reply, registers, vector, detail);
    t.error(r.error, Error::kNone, "no fault message");
    t.that(vector == 3, "vector is not #BP");
    sys::MessageRegisters mr;
    sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kResume), mr, 0);
    sys::wait(done_notification);
    t.that(after_fault == 3, "thread did not go on after int3");
    kill(thread);
  }
  {
    Check t("foreign_syscall_round_trip");
    after_fault = 0;
    uint64_t thread = spawn(linux_syscall, 0,
                            ThreadOptions{.priority = 100, .fault_endpoint = badged, .linux_abi = true});
    abi::UserRegisters registers;
    uint64_t a = 0, b = 0;
    auto r = receive_fault(reply, registers, a, b);
    t.error(r.error, Error::kNone, "no fault message");
    t.that(r.info.label == static_cast<uint64_t>(abi::FaultKind::kForeignSyscall), "not a ForeignSyscall");
    t.that(registers.rax == 39, "syscall number not in rax");
    sys::MessageRegisters mr;
    mr.word[0] = 4242;
    // Reply and wait for the next fault in one call (the ReplyRecv fast path).
    r = sys::reply_recv(fault_endpoint, reply, static_cast<uint64_t>(abi::FaultReply::kSetResult), mr, 1);
    t.error(r.error, Error::kNone, "no second fault message");
    auto* words = reinterpret_cast<uint64_t*>(&registers);
    for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = sys::message_word(mr, i);
    t.that(r.info.label == static_cast<uint64_t>(abi::FaultKind::kForeignSyscall), "second fault kind");
    t.that(registers.rax == 231 && registers.rdi == 0, "second syscall's registers wrong");
    t.that(after_fault == 4242, "syscall result not delivered");
    t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), mr, 0).error,
            Error::kNone, "suspend reply failed");
    kill(thread);
  }
  {
    Check t("malformed_fault_reply_is_rejected");
    uint64_t thread = spawn(invalid_opcode, 0, ThreadOptions{.priority = 100, .fault_endpoint = badged});
    abi::UserRegisters registers;
    uint64_t a = 0, b = 0;
    receive_fault(reply, registers, a, b);
    sys::MessageRegisters mr;
    t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSetRegisters), mr, 2).error,
            Error::kInvalidArgument, "short register set accepted");
    t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), mr, 0).error,
            Error::kNone, "the caller was lost after a bad reply");
    kill(thread);
  }
  {
    Check t("fault_without_handler_suspends_and_signals_supervisor");
    uint64_t supervisor = make(ObjectType::kNotification);
    uint64_t badged_supervisor = new_slot();
    must_mint(kRoot, badged_supervisor, supervisor, abi::kRightsAll, 0x77);
    uint64_t thread = spawn(touch_unmapped, 0,
                            ThreadOptions{.priority = 100, .supervisor = badged_supervisor});
    auto r = sys::wait(supervisor);
    t.error(r.error, Error::kNone, "supervisor not signalled");
    t.that(r.badge == 0x77, "supervisor badge wrong");
    sys::MessageRegisters out;
    t.error(sys::invoke(thread, Label::kTcbReadRegisters, nullptr, 0, &out), Error::kNone,
            "thread gone");
    kill(thread);
  }
  {
    Check t("fault_endpoint_revoked_while_waiting_signals_supervisor");
    uint64_t supervisor = make(ObjectType::kNotification);
    uint64_t lonely = make(ObjectType::kEndpoint);
    uint64_t thread = spawn(touch_unmapped, 0,
                            ThreadOptions{.priority = 100, .fault_endpoint = lonely, .supervisor = supervisor});
    // Nobody receives on `lonely`: the thread waits in its queue until the endpoint dies.
    auto r = sys::poll(supervisor);
    t.error(r.error, Error::kWouldBlock, "supervisor signalled too early");
    sys::yield();
    // The thread's own copy of the cap keeps the endpoint alive; revoking the original
    // deletes that copy, and deleting the original then destroys the endpoint.
    t.error(sys::cnode_revoke(kRoot, lonely), Error::kNone, "revoke failed");
    t.error(sys::cnode_delete(kRoot, lonely), Error::kNone, "delete failed");
    r = sys::poll(supervisor);
    t.error(r.error, Error::kNone, "supervisor not signalled when the handler went away");
    kill(thread);
  }
}

// ---- address spaces ----

constexpr uint64_t kWindow = 0x20000000;  // in the root's address space: PD present, PT not

abi::Error map_frame(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights) {
  uint64_t words[] = {vspace, address, rights};
  return sys::invoke(frame, Label::kFrameMap, words);
}
abi::Error map_table(uint64_t table, uint64_t vspace, uint64_t address) {
  uint64_t words[] = {vspace, address};
  return sys::invoke(table, Label::kPageTableMap, words);
}

void write_word(uint64_t address) { *reinterpret_cast<volatile uint64_t*>(address) = 1; }
void read_word(uint64_t address) { (void)*reinterpret_cast<volatile uint64_t*>(address); }

// Runs function(address) in a thread whose faults come to the root; true if it faulted at
// `address` with a page fault (the thread is then suspended and deleted).
bool faults_at(ThreadFunction function, uint64_t address) {
  uint64_t reply = make(ObjectType::kReply);
  uint64_t thread = spawn(function, address, ThreadOptions{.priority = kRootPriority, .fault_endpoint = fault_endpoint});
  abi::UserRegisters registers;
  uint64_t fault_address = 0, detail = 0;
  auto r = receive_fault(reply, registers, fault_address, detail);
  sys::MessageRegisters mr;
  (void)sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), mr, 0);
  kill(thread);
  return r.error == Error::kNone && r.info.label == static_cast<uint64_t>(abi::FaultKind::kPage) &&
         fault_address == address;
}

void test_vspace() {
  fault_endpoint = make(ObjectType::kEndpoint);
  uint64_t frame = make(ObjectType::kFrame, 12);
  uint64_t table = make(ObjectType::kPageTable);
  {
    Check t("frame_map_without_page_table_is_missing_page_table");
    t.error(map_frame(frame, kVSpace, kWindow, abi::kMapWrite), Error::kMissingPageTable, "mapped");
  }
  {
    Check t("page_table_and_frame_map_make_memory");
    t.error(map_table(table, kVSpace, kWindow), Error::kNone, "page table map failed");
    t.error(map_table(table, kVSpace, kWindow), Error::kAlreadyMapped, "page table mapped twice");
    t.error(map_frame(frame, kVSpace, kWindow, abi::kMapWrite), Error::kNone, "frame map failed");
    auto* memory = reinterpret_cast<volatile uint64_t*>(kWindow);
    t.that(memory[0] == 0 && memory[511] == 0, "new frame not zeroed");
    memory[7] = 0xabcdef;
    t.that(memory[7] == 0xabcdef, "memory does not hold a value");
  }
  {
    Check t("frame_map_errors");
    uint64_t other = make(ObjectType::kFrame, 12);
    t.error(map_frame(frame, kVSpace, kWindow + 0x1000, 0), Error::kAlreadyMapped, "frame mapped twice");
    t.error(map_frame(other, kVSpace, kWindow, 0), Error::kAlreadyMapped, "address mapped twice");
    t.error(map_frame(other, kVSpace, kWindow + 0x800, 0), Error::kInvalidArgument, "unaligned");
    t.error(map_frame(other, kVSpace, 0xffff800000000000ull, 0), Error::kRangeError, "kernel address");
    t.error(map_frame(other, kVSpace, kWindow + 0x1000, 8), Error::kInvalidArgument, "bad rights");
    t.error(map_frame(other, kRoot, kWindow + 0x1000, 0), Error::kWrongType, "CNode as VSpace");
    uint64_t read_only = new_slot();
    must_mint(kRoot, read_only, other, abi::kRightRead, 0);
    t.error(map_frame(read_only, kVSpace, kWindow + 0x1000, abi::kMapWrite), Error::kMissingRight,
            "writable map of a read-only frame cap");
    uint64_t unmapped_frame = make(ObjectType::kFrame, 12);
    uint64_t words[] = {0};
    t.error(sys::invoke(unmapped_frame, Label::kFrameRemap, words), Error::kNotMapped, "remap unmapped");
  }
  {
    Check t("frame_copy_shares_memory_at_another_address");
    uint64_t copy = new_slot();
    t.error(sys::cnode_copy(kRoot, copy, frame), Error::kNone, "copy failed");
    t.error(map_frame(copy, kVSpace, kWindow + 0x1000, abi::kMapWrite), Error::kNone, "copy map failed");
    t.that(reinterpret_cast<volatile uint64_t*>(kWindow + 0x1000)[7] == 0xabcdef, "not the same memory");
    t.error(sys::cnode_delete(kRoot, copy), Error::kNone, "delete failed");
    t.that(faults_at(read_word, kWindow + 0x1000), "deleting the copy left its mapping");
    t.that(reinterpret_cast<volatile uint64_t*>(kWindow)[7] == 0xabcdef, "original mapping lost");
  }
  {
    Check t("frame_get_address_is_page_aligned");
    sys::MessageRegisters out;
    abi::MessageInfo info;
    t.error(sys::invoke(frame, Label::kFrameGetAddress, nullptr, 0, &out, &info), Error::kNone, "failed");
    t.that(info.length == 1 && out.word[0] != 0 && out.word[0] % 4096 == 0, "bad address");
  }
  {
    Check t("remap_read_only_makes_writes_fault");
    uint64_t words[] = {abi::kMapRead};
    t.error(sys::invoke(frame, Label::kFrameRemap, words), Error::kNone, "remap failed");
    t.that(faults_at(write_word, kWindow + 8), "write to a read-only page did not fault");
    t.that(reinterpret_cast<volatile uint64_t*>(kWindow)[7] == 0xabcdef, "read after remap failed");
  }
  {
    Check t("unmap_removes_the_mapping");
    t.error(sys::invoke(frame, Label::kFrameUnmap), Error::kNone, "unmap failed");
    t.that(faults_at(read_word, kWindow), "read after unmap did not fault");
    t.error(map_frame(frame, kVSpace, kWindow, abi::kMapWrite), Error::kNone, "map again failed");
    t.that(reinterpret_cast<volatile uint64_t*>(kWindow)[7] == 0xabcdef, "contents lost");
  }
  {
    Check t("page_table_unmap_takes_its_mappings");
    t.error(sys::invoke(table, Label::kPageTableUnmap), Error::kNone, "unmap failed");
    t.that(faults_at(read_word, kWindow), "read through an unmapped page table worked");
    t.error(map_table(table, kVSpace, kWindow), Error::kNone, "remap of the table failed");
    t.that(faults_at(read_word, kWindow), "old mappings came back with the table");
  }
}

uint64_t new_vspace_endpoint;

void test_thread_in_another_vspace() {
  Check t("thread_in_another_vspace_runs_and_sends");
  new_vspace_endpoint = make(ObjectType::kEndpoint);
  uint64_t badged = new_slot();
  must_mint(kRoot, badged, new_vspace_endpoint, abi::kRightWrite, 0x33);
  uint64_t vspace = make(ObjectType::kVSpace);
  uint64_t code = make(ObjectType::kFrame, 12);
  for (int i = 0; i < 3; ++i) {
    t.error(map_table(make(ObjectType::kPageTable), vspace, 0x400000), Error::kNone, "page table");
  }
  t.error(map_table(make(ObjectType::kPageTable), vspace, 0x400000), Error::kAlreadyMapped,
          "a fourth level");
  t.error(map_frame(code, vspace, 0x400000, abi::kMapExecute), Error::kNone, "code frame");
  // Write the program through a second mapping in the root's own address space.
  uint64_t window = new_slot();
  must(sys::cnode_copy(kRoot, window, code), "copy code frame");
  must(map_frame(window, kVSpace, kWindow + 0x2000, abi::kMapWrite), "map code window");
  auto* bytes = reinterpret_cast<volatile uint8_t*>(kWindow + 0x2000);
  const uint8_t program[] = {
      0x41, 0xba, 0x2a, 0x00, 0x00, 0x00,  // mov $42, %r10d  (message word 0)
      0xbf, 0x00, 0x00, 0x00, 0x00,        // mov $cptr, %edi
      0xbe, 0x01, 0x00, 0x00, 0x00,        // mov $1, %esi   (MessageInfo: one word)
      0xb8, 0x05, 0x00, 0x00, 0x00,        // mov $5, %eax   (Syscall::kSend)
      0x0f, 0x05,                          // syscall
      0xeb, 0xfe,                          // jmp .
  };
  for (size_t i = 0; i < sizeof(program); ++i) bytes[i] = program[i];
  for (int i = 0; i < 4; ++i) bytes[7 + i] = static_cast<uint8_t>(badged >> (8 * i));
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t configure[] = {kRoot, 0, vspace, 0, 0, 0};
  t.error(sys::invoke(tcb, Label::kTcbConfigure, configure), Error::kNone, "configure");
  uint64_t priority[] = {kRootPriority};
  must(sys::invoke(tcb, Label::kTcbSetPriority, priority), "priority");
  abi::UserRegisters registers{};
  registers.rip = 0x400000;
  registers.rflags = 0x202;
  t.that(write_registers(tcb, registers, true) == 0, "start failed");
  sys::MessageRegisters mr;
  auto r = sys::recv(new_vspace_endpoint, 0, mr);
  t.error(r.error, Error::kNone, "no message");
  t.that(r.badge == 0x33 && r.info.length == 1 && mr.word[0] == 42, "wrong message");
  // The thread's address space is its own: the root's window is not mapped there.
  kill(tcb);
  t.error(sys::cnode_delete(kRoot, vspace), Error::kNone, "delete VSpace");
  t.error(map_frame(new_slot(), kVSpace, 0, 0), Error::kInvalidCapability, "empty slot mapped");
}

// ---- breakpoints ----

}  // namespace

// The probed function, in assembly so the tests know every instruction: an entry NOP (as
// -fpatchable-function-entry makes), an ordinary instruction, a rip-relative load.
//   probed_function(x) = x + 1 + probe_constant
extern "C" uint64_t probed_function(uint64_t);
extern "C" uint64_t probe_constant;
asm(R"(
    .section .data
    .balign 8
    .globl probe_constant
probe_constant:
    .quad 1000
    .text
    .globl probed_function
    .globl probe_ordinary
    .globl probe_riprel
    .balign 16
probed_function:
    .byte 0x0f, 0x1f, 0x44, 0x00, 0x00
probe_ordinary:
    lea 1(%rdi), %rax
probe_riprel:
    add probe_constant(%rip), %rax
    ret
)");
extern "C" char probe_ordinary[];
extern "C" char probe_riprel[];

namespace {

constexpr uint64_t kCalls = 10000;
constexpr uint64_t kDoneLabel = 77;
uint64_t probe_endpoint;
volatile uint64_t call_sum = 0;

uint64_t expected_sum(uint64_t calls) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < calls; ++i) sum += i + 1 + 1000;
  return sum;
}

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
    if (remove_after != 0 && run.hits == remove_after) must(sys::cnode_delete(kRoot, breakpoint), "delete breakpoint");
    r = sys::reply_recv(probe_endpoint, reply, static_cast<uint64_t>(abi::FaultReply::kResume), mr, 0);
  }
  kill(thread);
  return run;
}

abi::Error bind(uint64_t breakpoint, uint64_t vspace, uint64_t endpoint) {
  uint64_t words[] = {vspace, endpoint};
  return sys::invoke(breakpoint, Label::kBreakpointBind, words);
}
abi::Error insert(uint64_t breakpoint, uint64_t address, uint64_t length, uint64_t xol, uint64_t fixup) {
  uint64_t words[] = {address, length, xol, fixup};
  return sys::invoke(breakpoint, Label::kBreakpointInsert, words);
}

// An executable out-of-line page in the root's space, written through a writable alias.
uint64_t xol_page = 0;
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

void test_breakpoints() {
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
    t.error(insert(breakpoint, ordinary, 4, xol_page + 0x1000, 0), Error::kNotMapped, "non-executable XOL");
    t.error(insert(breakpoint, ordinary, 4, xol_page, 2), Error::kInvalidArgument, "rflags as fix-up");
    t.error(insert(breakpoint, entry, 5, 0, 0), Error::kNone, "insert");
    t.that(*reinterpret_cast<volatile uint8_t*>(entry) == 0xcc, "no int3 in the code");
    t.error(insert(breakpoint, entry, 5, 0, 0), Error::kAlreadyMapped, "second probe at one address");
    uint64_t words[] = {entry};
    t.error(sys::invoke(breakpoint, Label::kBreakpointRemove, words), Error::kNone, "remove");
    t.that(*reinterpret_cast<volatile uint8_t*>(entry) == 0x0f, "original byte not restored");
    t.error(sys::invoke(breakpoint, Label::kBreakpointRemove, words), Error::kNotMapped, "remove twice");
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
    for (int i = 0; i < 4; ++i) xol_writer[i] = static_cast<uint8_t>(probe_ordinary[i] == '\xcc' ? 0 : probe_ordinary[i]);
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
    Check t("breakpoint_out_of_line_on_rip_relative_load");
    // add disp32(%rip), %rax (48 03 05 disp32) becomes add disp32(%rcx), %rax (48 03 81 disp32)
    // with rcx set to the original next instruction's address during the step.
    const auto* original = reinterpret_cast<const uint8_t*>(probe_riprel);
    t.that(original[0] == 0x48 && original[1] == 0x03 && original[2] == 0x05, "unexpected encoding");
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
    Check t("breakpoint_with_endpoint_revoked_lets_threads_pass");
    uint64_t endpoint = make(ObjectType::kEndpoint);
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    must(bind(breakpoint, kVSpace, endpoint), "bind");
    t.error(insert(breakpoint, entry, 5, 0, 0), Error::kNone, "insert");
    must(sys::cnode_revoke(kRoot, endpoint), "revoke endpoint");
    t.that(probed_function(1) == 1002, "call through a probe with no listener failed");
    t.that(*reinterpret_cast<volatile uint8_t*>(entry) == 0x0f, "probe without listener not removed");
    kill(breakpoint);
  }
}

// A thread in another VSpace loops calling a function at 0x400000 (machine code below); the
// root owns a breakpoint on that function's entry NOP in that VSpace.
void test_breakpoint_in_another_vspace() {
  Check t("breakpoint_on_a_looping_thread_in_another_vspace");
  uint64_t endpoint = make(ObjectType::kEndpoint);
  uint64_t vspace = make(ObjectType::kVSpace);
  uint64_t code = make(ObjectType::kFrame, 12);
  uint64_t stack = make(ObjectType::kFrame, 12);
  for (int i = 0; i < 3; ++i) must(map_table(make(ObjectType::kPageTable), vspace, 0x400000), "table");
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
    consistent = consistent && sys::message_word(mr, 0) == 0x400000 &&
                 sys::message_word(mr, 4) == hits - 1;
    if (hits == 100) break;
    r = sys::reply_recv(endpoint, reply, static_cast<uint64_t>(abi::FaultReply::kResume), mr, 0);
  }
  t.that(hits == 100, "hits stopped");
  t.that(consistent, "a hit saw the wrong rip or call count");
  // Delete the breakpoint while the thread is stopped on it, then answer: it runs on.
  t.error(sys::cnode_delete(kRoot, breakpoint), Error::kNone, "delete");
  t.that(bytes[0] == 0x0f, "original byte not restored");
  t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kResume), mr, 0).error, Error::kNone,
          "reply after delete");
  for (int i = 0; i < 3; ++i) sys::yield();
  must(sys::invoke(tcb, Label::kTcbSuspend), "suspend");
  sys::MessageRegisters out;
  must(sys::invoke(tcb, Label::kTcbReadRegisters, nullptr, 0, &out), "read registers");
  t.that(sys::message_word(out, 4) > 100, "the thread did not run on past the probe");
  kill(tcb);
}

// ---- several CPUs ----

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

// Two callers, one per CPU, through the probed function; the root handles every hit.
volatile uint64_t caller_sums[2];
void probe_caller_on(uint64_t which) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < kCalls; ++i) sum += probed_function(i);
  caller_sums[which] = sum;
  sys::MessageRegisters mr;
  (void)sys::send(probe_endpoint, kDoneLabel, mr, 0);
}

bool two_cpu_probe_run(uint64_t address, uint64_t length, uint64_t xol, uint64_t fixup,
                       uint64_t& hits, uint64_t remove_after = 0) {
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
    if (remove_after != 0 && hits == remove_after) must(sys::cnode_delete(kRoot, breakpoint), "delete");
    r = sys::reply_recv(probe_endpoint, reply, static_cast<uint64_t>(abi::FaultReply::kResume), mr, 0);
  }
  kill(a);
  kill(b);
  if (remove_after == 0) kill(breakpoint);
  return done == 2 && caller_sums[0] == expected_sum(kCalls) && caller_sums[1] == expected_sum(kCalls);
}

void test_smp() {
  {
    Check t("boot_info_reports_several_cpus");
    t.that(boot->cpu_count >= 2, "the suite must run with at least 2 CPUs (QEMU -smp 2)");
  }
  if (boot->cpu_count < 2) return;
  {
    Check t("thread_with_affinity_runs_on_another_cpu");
    smp_counter = 0;
    // Below the root's priority: on one CPU it could not run while the root spins.
    uint64_t thread = spawn(count_forever, 0, ThreadOptions{.priority = 10, .start = false});
    t.error(set_cpu(thread, 1), Error::kNone, "affinity");
    t.error(sys::invoke(thread, Label::kTcbResume), Error::kNone, "resume");
    uint64_t start = sys::debug_ticks();
    while (smp_counter < 1000 && sys::debug_ticks() - start < 200) {}
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
      while (sys::debug_ticks() - tick < 10) {}
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
    uint64_t thread = spawn(read_window_forever, kWindow + 0x20000,
                            ThreadOptions{.priority = 10, .fault_endpoint = fault_endpoint, .start = false});
    must(set_cpu(thread, 1), "affinity");
    must(sys::invoke(thread, Label::kTcbResume), "resume");
    uint64_t start = sys::debug_ticks();
    while (window_reads < 1000 && sys::debug_ticks() - start < 200) {}
    t.that(window_reads >= 1000, "reader did not start");
    t.error(sys::invoke(frame, Label::kFrameUnmap), Error::kNone, "unmap");
    // Poll (a stale TLB on CPU 1 would keep the reader going, and a blocking receive hang).
    sys::MessageRegisters fault;
    sys::IpcResult r;
    start = sys::debug_ticks();
    do {
      r = sys::ipc(abi::Syscall::kNBRecv, fault_endpoint, abi::MessageInfo{}, reply, fault);
    } while (r.error == Error::kWouldBlock && sys::debug_ticks() - start < 200);
    t.that(r.error == Error::kNone && r.info.label == static_cast<uint64_t>(abi::FaultKind::kPage) &&
               sys::message_word(fault, abi::kFaultAddressWord) == kWindow + 0x20000,
           "the reader on CPU 1 kept reading an unmapped page");
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
    t.that(two_cpu_probe_run(entry, 5, 0, 0, hits), "results changed or a caller did not finish");
    t.that(hits == 2 * kCalls, "hit count is not the call count");
  }
  {
    Check t("breakpoint_out_of_line_with_callers_on_two_cpus");
    uint64_t hits = 0;
    t.that(two_cpu_probe_run(ordinary, 4, xol_page, 0, hits), "results changed or a caller did not finish");
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
    Check t("breakpoint_rip_relative_with_callers_on_two_cpus");
    uint64_t hits = 0;
    t.that(two_cpu_probe_run(riprel, 7, xol_page + 0x40, 5, hits), "results changed or a caller did not finish");
    t.that(hits == 2 * kCalls, "hit count is not the call count");
  }
}

// ---- programs from boot modules ----

abi::Error map_anywhere(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights) {
  abi::Error e = map_frame(frame, vspace, address, rights);
  for (int level = 0; level < 3 && e == Error::kMissingPageTable; ++level) {
    must(map_table(make(ObjectType::kPageTable), vspace, address), "page table");
    e = map_frame(frame, vspace, address, rights);
  }
  return e;
}

void test_program_from_boot_module() {
  Check t("boot_module_program_runs_in_its_own_vspace_and_cspace");
  const abi::ModuleDescription* module = nullptr;
  for (uint64_t i = 0; i < boot->module_count; ++i) {
    const char* n = boot->modules[i].name;
    if (n[0] == 'h' && n[1] == 'e' && n[2] == 'l' && n[3] == 'l' && n[4] == 'o' && n[5] == '\0') {
      module = &boot->modules[i];
    }
  }
  t.that(module != nullptr, "no boot module named hello");
  if (module == nullptr) return;
  t.that(module->frame_count * 4096 >= module->size + module->offset, "module frames too few");
  constexpr uint64_t kModuleWindow = 0x30000000;
  for (uint64_t i = 0; i < module->frame_count; ++i) {
    t.error(map_anywhere(module->first_slot + i, kVSpace, kModuleWindow + i * 4096, 0), Error::kNone,
            "map a module frame");
  }
  const auto* image = reinterpret_cast<const uint8_t*>(kModuleWindow + module->offset);
  t.that(image[0] == 0x7f && image[1] == 'E', "module is not an ELF file");
  sys::LoaderResources resources{untyped, kRoot, &next_slot, kVSpace, kWindow + 0x30000};
  sys::LoadedProgram program;
  t.error(sys::load_program(image, module->size, 4, resources, program), Error::kNone, "load");
  // A malformed image is refused before anything is made.
  t.error(sys::load_program(image, 64, 4, resources, program), Error::kInvalidArgument, "truncated ELF");
  uint64_t endpoint = make(ObjectType::kEndpoint);
  uint64_t cnode = make(ObjectType::kCNode, 4);
  uint64_t mint[] = {1, 4, kRoot, endpoint, 64, abi::kRightWrite, 0x77};
  t.error(sys::invoke(cnode, Label::kCNodeMint, mint), Error::kNone, "endpoint into its CNode");
  uint64_t console[] = {abi::kSlotDebugConsole, 4, kRoot, abi::kSlotDebugConsole, 64};
  t.error(sys::invoke(cnode, Label::kCNodeCopy, console), Error::kNone, "console into its CNode");
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t configure[] = {cnode, abi::cnode_guard_data(0, 60), program.vspace, 0, 0, 0};
  t.error(sys::invoke(tcb, Label::kTcbConfigure, configure), Error::kNone, "configure");
  uint64_t priority[] = {kRootPriority};
  must(sys::invoke(tcb, Label::kTcbSetPriority, priority), "priority");
  abi::UserRegisters registers{};
  registers.rip = program.entry;
  registers.rsp = program.stack_top;
  registers.rflags = 0x202;
  t.that(write_registers(tcb, registers, true) == 0, "start failed");
  sys::MessageRegisters mr;
  auto r = sys::recv(endpoint, 0, mr);
  t.error(r.error, Error::kNone, "no message from the program");
  t.that(r.badge == 0x77 && mr.word[0] == 0x4e110, "wrong message from the program");
  kill(tcb);
}

// ---- kernel-text probes ----

const abi::ModuleDescription* find_module(const char* name) {
  for (uint64_t i = 0; i < boot->module_count; ++i) {
    const char* n = boot->modules[i].name;
    size_t j = 0;
    while (name[j] != '\0' && n[j] == name[j]) ++j;
    if (name[j] == '\0' && n[j] == '\0') return &boot->modules[i];
  }
  return nullptr;
}

void test_kernel_text_probe() {
  Check t("kernel_text_probe_records_samples_and_signals");
  // The kernel's own ELF image is the `symbols` boot module: find a kernel function in it.
  const abi::ModuleDescription* symbols = find_module("symbols");
  t.that(symbols != nullptr, "no symbols module");
  if (symbols == nullptr) return;
  constexpr uint64_t kSymbolsWindow = 0x40000000;
  for (uint64_t i = 0; i < symbols->frame_count; ++i) {
    must(map_anywhere(symbols->first_slot + i, kVSpace, kSymbolsWindow + i * 4096, 0), "map symbols");
  }
  elf::SymbolTable table;
  t.that(table.open(reinterpret_cast<const uint8_t*>(kSymbolsWindow + symbols->offset), symbols->size) ==
             elf::ElfError::kNone,
         "kernel symbol table unreadable");
  uint64_t function = 0;
  t.that(table.find("_ZN6kernel16syscall_dispatchEPNS_3TcbE", function), "syscall_dispatch not found");
  uint64_t ring_frame = make(ObjectType::kFrame, 12);
  must(map_anywhere(ring_frame, kVSpace, kSymbolsWindow - 0x1000, abi::kMapWrite), "map ring");
  auto* ring = reinterpret_cast<volatile abi::SampleRing*>(kSymbolsWindow - 0x1000);
  uint64_t notification = make(ObjectType::kNotification);
  uint64_t badged = new_slot();
  must_mint(kRoot, badged, notification, abi::kRightsAll, 0x5a);
  uint64_t breakpoint = make(ObjectType::kBreakpoint);
  uint64_t bind_words[] = {ring_frame, badged, abi::kSlotKernelProbes};
  t.error(sys::invoke(breakpoint, Label::kBreakpointBindKernel, bind_words), Error::kNone, "bind kernel");
  t.error(insert(breakpoint, function + 1, 5, 0, 0), Error::kInvalidArgument, "probe inside a NOP");
  t.error(insert(breakpoint, function, 4, 0, 0), Error::kInvalidArgument, "probe with length 4");
  t.error(insert(breakpoint, 0x400000, 5, 0, 0), Error::kInvalidArgument, "user address on a kernel probe");
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

// ---- page protection: another VSpace's pages read-only ----

abi::Error borrow(uint64_t source_vspace, uint64_t source, uint64_t destination_vspace,
                  uint64_t destination, Label label = Label::kVSpaceMapForeign) {
  uint64_t words[] = {source, destination_vspace, destination};
  return sys::invoke(source_vspace, label, words);
}

void test_foreign_mappings() {
  Check t("foreign_pages_map_read_only_and_are_revocable");
  uint64_t target = make(ObjectType::kVSpace);
  uint64_t data = make(ObjectType::kFrame, 12);
  must(map_anywhere(data, target, 0x400000, abi::kMapWrite), "map target data");
  uint64_t alias = new_slot();
  must(sys::cnode_copy(kRoot, alias, data), "alias");
  must(map_frame(alias, kVSpace, kWindow + 0x50000, abi::kMapWrite), "map alias");
  reinterpret_cast<volatile uint64_t*>(kWindow + 0x50000)[3] = 0x5eed;
  const uint64_t here = kWindow + 0x40000;
  t.error(borrow(target, 0x401000, kVSpace, here), Error::kNotMapped, "unmapped source page");
  t.error(borrow(target, 0x400800, kVSpace, here), Error::kInvalidArgument, "unaligned source");
  t.error(borrow(target, 0x400000, kVSpace, kWindow + 0x50000), Error::kAlreadyMapped, "occupied destination");
  uint64_t write_only = new_slot();
  must_mint(kRoot, write_only, target, abi::kRightWrite, 0);
  t.error(borrow(write_only, 0x400000, kVSpace, here), Error::kMissingRight, "borrow without Read");
  t.error(borrow(target, 0x400000, kVSpace, here), Error::kNone, "borrow");
  t.that(reinterpret_cast<volatile uint64_t*>(here)[3] == 0x5eed, "borrowed page shows other memory");
  t.that(faults_at(write_word, here), "borrowed page is writable");
  // The owner unmaps its page: the borrowed mapping goes with it.
  must(sys::invoke(data, Label::kFrameUnmap), "owner unmap");
  t.that(faults_at(read_word, here), "borrow outlived the owner's mapping");
  must(map_frame(data, target, 0x400000, abi::kMapWrite), "owner maps again");
  // Explicit unmap.
  t.error(borrow(target, 0x400000, kVSpace, here), Error::kNone, "borrow again");
  t.error(borrow(target, 0x400000, kVSpace, here, Label::kVSpaceUnmapForeign), Error::kNone, "unborrow");
  t.that(faults_at(read_word, here), "unborrowed page still mapped");
  t.error(borrow(target, 0x400000, kVSpace, here, Label::kVSpaceUnmapForeign), Error::kNotMapped,
          "unborrow twice");
  // Revoking the holder's cap to the VSpace ends its borrows.
  uint64_t holder = new_slot();
  must(sys::cnode_copy(kRoot, holder, target), "holder cap");
  t.error(borrow(holder, 0x400000, kVSpace, here), Error::kNone, "borrow through the holder's cap");
  t.that(reinterpret_cast<volatile uint64_t*>(here)[3] == 0x5eed, "borrow through copy failed");
  t.error(sys::cnode_revoke(kRoot, target), Error::kNone, "revoke");
  t.that(faults_at(read_word, here), "borrow survived the revocation of the holder's cap");
}

// ---- hostile messages ----

volatile uint64_t hostile_seen_length = 0;
uint64_t hostile_endpoint;

void hostile_receiver(uint64_t) {
  sys::MessageRegisters mr;
  auto r = sys::recv(hostile_endpoint, 0, mr);
  hostile_seen_length = r.error == Error::kNone ? r.info.length : 999;
}

void test_hostile_messages() {
  hostile_endpoint = make(ObjectType::kEndpoint);
  {
    Check t("message_length_above_the_maximum_is_clamped");
    hostile_seen_length = 0;
    uint64_t thread = spawn(hostile_receiver, 0, ThreadOptions{.priority = 254});
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kSend, hostile_endpoint, abi::MessageInfo{1, 127, 0}, 0, mr);
    t.error(r.error, Error::kNone, "send failed");
    t.that(hostile_seen_length == abi::kMaxMessageWords, "length not clamped to 120");
    kill(thread);
  }
  {
    Check t("receiver_without_ipc_buffer_gets_register_words_only");
    hostile_seen_length = 0;
    // A thread configured without an IPC buffer (spawn gives one; configure it away first).
    uint64_t thread = spawn(hostile_receiver, 0, ThreadOptions{.priority = 254, .start = false});
    uint64_t configure[] = {kRoot, 0, kVSpace, 0, 0, 0};
    must(sys::invoke(thread, Label::kTcbConfigure, configure), "configure without buffer");
    must(sys::invoke(thread, Label::kTcbResume), "resume");
    uint64_t words[30] = {};
    sys::MessageRegisters mr;
    sys::load_message(mr, words, 30);
    auto r = sys::ipc(abi::Syscall::kSend, hostile_endpoint, abi::MessageInfo{1, 30, 0}, 0, mr);
    t.error(r.error, Error::kNone, "send failed");
    t.that(hostile_seen_length == abi::kRegisterMessageWords, "words beyond the registers invented");
    kill(thread);
  }
  {
    Check t("recv_with_a_non_reply_cap_is_wrong_type");
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kNBRecv, hostile_endpoint, abi::MessageInfo{}, hostile_endpoint, mr);
    t.error(r.error, Error::kWrongType, "endpoint accepted as a Reply");
  }
  {
    Check t("reply_recv_without_reply_cap_is_invalid_capability");
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kReplyRecv, hostile_endpoint, abi::MessageInfo{}, 0, mr);
    t.error(r.error, Error::kInvalidCapability, "ReplyRecv without a Reply");
  }
  {
    Check t("recv_on_a_kernel_object_is_illegal");
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kNBRecv, kSelf, abi::MessageInfo{}, 0, mr);
    t.error(r.error, Error::kIllegalOperation, "receive on a TCB");
  }
  {
    Check t("unknown_system_call_number_is_unknown_syscall");
    t.that(sys::raw_syscall(4096) == abi::syscall_result(abi::Error::kUnknownSyscall), "call 4096 accepted");
  }
}

// ---- devices: I/O ports and interrupt lines ----

abi::Error port_in(uint64_t ports, Label label, uint64_t port, uint64_t& value) {
  uint64_t words[] = {port};
  sys::MessageRegisters out;
  abi::Error e = sys::invoke(ports, label, words, 1, &out);
  value = out.word[0];
  return e;
}
abi::Error port_out(uint64_t ports, Label label, uint64_t port, uint64_t value) {
  uint64_t words[] = {port, value};
  return sys::invoke(ports, label, words);
}
abi::Error issue_ports(uint64_t ports, uint64_t first, uint64_t last, uint64_t slot) {
  uint64_t words[] = {first, last, slot, 64};
  return sys::invoke(ports, Label::kIoPortsIssue, words);
}

constexpr uint64_t kCom1 = 0x3f8;

// A user-mode COM1 driver: wait for the transmitter, write a byte.
abi::Error com1_write(uint64_t ports, const char* text) {
  for (const char* c = text; *c != '\0'; ++c) {
    uint64_t status = 0;
    do {
      if (abi::Error e = port_in(ports, Label::kIoPortsIn8, kCom1 + 5, status); e != Error::kNone) return e;
    } while ((status & 0x20) == 0);
    if (abi::Error e = port_out(ports, Label::kIoPortsOut8, kCom1, static_cast<uint8_t>(*c)); e != Error::kNone) {
      return e;
    }
  }
  return Error::kNone;
}

void test_devices() {
  uint64_t com1 = new_slot();
  {
    Check t("user_mode_com1_driver_writes_through_io_port_cap");
    t.error(issue_ports(abi::kSlotIoPorts, kCom1, kCom1 + 7, com1), Error::kNone, "issue COM1's ports");
    t.error(com1_write(com1, "kernel-tests: hello from a user-mode COM1 driver\n"), Error::kNone, "write");
  }
  {
    Check t("io_ports_outside_the_range_are_refused");
    uint64_t value = 0;
    t.error(port_in(com1, Label::kIoPortsIn8, 0x60, value), Error::kRangeError, "keyboard port read");
    t.error(port_out(com1, Label::kIoPortsOut16, kCom1 + 7, 0), Error::kRangeError, "word past the end");
    t.error(issue_ports(com1, kCom1 - 8, kCom1, new_slot()), Error::kRangeError, "wider range issued");
    t.error(issue_ports(com1, kCom1 + 2, kCom1 + 1, new_slot()), Error::kRangeError, "empty range issued");
  }
  {
    Check t("io_ports_need_rights_and_revoke_with_their_parent");
    uint64_t read_only = new_slot();
    must_mint(kRoot, read_only, com1, abi::kRightRead, 0);
    uint64_t value = 0;
    t.error(port_in(read_only, Label::kIoPortsIn8, kCom1 + 5, value), Error::kNone, "read");
    t.error(port_out(read_only, Label::kIoPortsOut8, kCom1 + 7, 0), Error::kMissingRight, "write through read-only");
    uint64_t scratch = new_slot();
    t.error(issue_ports(com1, kCom1 + 7, kCom1 + 7, scratch), Error::kNone, "issue the scratch register");
    t.error(sys::cnode_revoke(kRoot, com1), Error::kNone, "revoke");
    t.error(port_in(scratch, Label::kIoPortsIn8, kCom1 + 7, value), Error::kInvalidCapability,
            "narrower cap survived its parent's revocation");
  }
  uint64_t irq4 = new_slot();
  {
    Check t("irq_control_hands_out_each_line_once");
    uint64_t get[] = {0, new_slot(), 64};
    t.error(sys::invoke(abi::kSlotIrqControl, Label::kIrqControlGet, get), Error::kNotPermitted, "timer line");
    get[0] = 16;
    t.error(sys::invoke(abi::kSlotIrqControl, Label::kIrqControlGet, get), Error::kRangeError, "line 16");
    uint64_t get4[] = {4, irq4, 64};
    t.error(sys::invoke(abi::kSlotIrqControl, Label::kIrqControlGet, get4), Error::kNone, "line 4");
    get4[1] = new_slot();
    t.error(sys::invoke(abi::kSlotIrqControl, Label::kIrqControlGet, get4), Error::kIrqInUse, "line 4 twice");
    uint64_t wrong[] = {kSelf};
    t.error(sys::invoke(irq4, Label::kIrqHandlerSetNotification, wrong), Error::kWrongType, "TCB as notification");
  }
  {
    Check t("com1_interrupt_signals_the_bound_notification");
    uint64_t notification = make(ObjectType::kNotification);
    uint64_t badged = new_slot();
    must_mint(kRoot, badged, notification, abi::kRightsAll, 0x44);
    uint64_t bind_words[] = {badged};
    t.error(sys::invoke(irq4, Label::kIrqHandlerSetNotification, bind_words), Error::kNone, "bind");
    uint64_t ports = new_slot();
    must(issue_ports(abi::kSlotIoPorts, kCom1, kCom1 + 7, ports), "ports");
    uint64_t mcr = 0;
    must(port_in(ports, Label::kIoPortsIn8, kCom1 + 4, mcr), "read MCR");
    must(port_out(ports, Label::kIoPortsOut8, kCom1 + 4, mcr | 0x08), "OUT2: IRQ line on");
    must(port_out(ports, Label::kIoPortsOut8, kCom1 + 1, 0x02), "IER: transmitter empty");
    sys::IpcResult r;
    uint64_t start = sys::debug_ticks();
    do {
      r = sys::poll(notification);
    } while (r.error == Error::kWouldBlock && sys::debug_ticks() - start < 200);
    t.error(r.error, Error::kNone, "no interrupt arrived");
    t.that(r.badge == 0x44, "interrupt badge lost");
    must(port_out(ports, Label::kIoPortsOut8, kCom1 + 1, 0x00), "IER off");
    uint64_t iir = 0;
    must(port_in(ports, Label::kIoPortsIn8, kCom1 + 2, iir), "read IIR");
    t.error(sys::invoke(irq4, Label::kIrqHandlerAck), Error::kNone, "ack");
    must(port_out(ports, Label::kIoPortsOut8, kCom1 + 4, mcr), "MCR back");
    t.error(sys::cnode_delete(kRoot, irq4), Error::kNone, "delete handler");
    uint64_t again[] = {4, new_slot(), 64};
    t.error(sys::invoke(abi::kSlotIrqControl, Label::kIrqControlGet, again), Error::kNone,
            "line not free after its handler cap was deleted");
  }
}

// ---- the clock page ----

void test_clock() {
  sys::clock_page = reinterpret_cast<const abi::ClockPage*>(abi::kRootClockPage);
  {
    Check t("clock_reads_monotonic_nanoseconds_without_a_syscall");
    t.that(sys::clock_page->tsc_hz > 0 && (sys::clock_page->sequence & 1) == 0, "clock page empty");
    uint64_t previous = sys::clock_ns();
    bool monotonic = previous > 0;
    for (int i = 0; i < 10000; ++i) {
      uint64_t now = sys::clock_ns();
      monotonic = monotonic && now >= previous;
      previous = now;
    }
    t.that(monotonic, "the clock went backwards");
  }
  {
    Check t("clock_advances_with_the_timer");
    uint64_t tick = sys::debug_ticks();
    while (sys::debug_ticks() == tick) {}  // start on a tick edge
    uint64_t start_ns = sys::clock_ns();
    uint64_t start_tick = sys::debug_ticks();
    while (sys::debug_ticks() - start_tick < 20) {}
    uint64_t elapsed = sys::clock_ns() - start_ns;
    uint64_t expected = 20 * (1000000000 / boot->timer_hz);  // 200 ms
    // Generous: under emulation the PIT and the TSC both follow the host, loosely.
    t.that(elapsed > expected / 2 && elapsed < expected * 2, "clock and timer disagree by 2x");
    sys::print("  clock: %lu ns over 20 ticks (%lu MHz TSC)\n", elapsed, sys::clock_page->tsc_hz / 1000000);
  }
  {
    Check t("clock_page_is_read_only");
    t.that(faults_at(write_word, abi::kRootClockPage), "the clock page is writable");
    t.error(map_frame(abi::kSlotClock, kVSpace, kWindow + 0x60000, abi::kMapWrite), Error::kMissingRight,
            "writable mapping of the clock");
    t.error(map_frame(abi::kSlotClock, kVSpace, kWindow + 0x60000, abi::kMapRead), Error::kNone,
            "read-only mapping of the clock");
    const auto* copy = reinterpret_cast<const volatile abi::ClockPage*>(kWindow + 0x60000);
    t.that(copy->tsc_hz == sys::clock_page->tsc_hz, "second mapping shows other memory");
  }
}

// ---- endpoints nobody can receive from ----

volatile uint64_t lonely_send_result = 0;
uint64_t lonely_write_only;
void lonely_sender(uint64_t) {
  sys::MessageRegisters mr;
  lonely_send_result = static_cast<uint64_t>(sys::send(lonely_write_only, 1, mr, 0).error);
}

void test_receivers_gone() {
  {
    Check t("send_to_an_endpoint_nobody_can_receive_from_is_no_receiver");
    uint64_t endpoint = make(ObjectType::kEndpoint);
    uint64_t write_only = new_slot();
    must_mint(kRoot, write_only, endpoint, abi::kRightWrite, 0);
    must(sys::cnode_delete(kRoot, endpoint), "delete the receiving cap");
    sys::MessageRegisters mr;
    t.error(sys::send(write_only, 1, mr, 0).error, Error::kNoReceiver, "send waited for nobody");
  }
  {
    Check t("waiting_sender_is_released_when_the_last_receiving_cap_goes");
    uint64_t endpoint = make(ObjectType::kEndpoint);
    lonely_write_only = new_slot();
    must_mint(kRoot, lonely_write_only, endpoint, abi::kRightWrite, 0);
    lonely_send_result = 0;
    uint64_t thread = spawn(lonely_sender, 0, ThreadOptions{.priority = 254});  // blocks in Send
    t.that(lonely_send_result == 0, "sender did not wait");
    must(sys::cnode_delete(kRoot, endpoint), "delete the receiving cap");
    t.that(static_cast<Error>(lonely_send_result) == Error::kNoReceiver, "sender not released");
    kill(thread);
  }
  {
    Check t("fault_handler_gone_when_its_endpoint_loses_every_receiver");
    uint64_t endpoint = make(ObjectType::kEndpoint);
    uint64_t supervisor = make(ObjectType::kNotification);
    uint64_t thread = spawn(touch_unmapped, 0,
                            ThreadOptions{.priority = 254, .fault_endpoint = endpoint, .supervisor = supervisor});
    t.error(sys::poll(supervisor).error, Error::kWouldBlock, "supervisor signalled early");
    must(sys::cnode_delete(kRoot, endpoint), "delete the handler's cap");
    t.error(sys::poll(supervisor).error, Error::kNone, "supervisor not told");
    kill(thread);
  }
  {
    Check t("breakpoint_passes_when_its_endpoint_loses_every_receiver");
    uint64_t endpoint = make(ObjectType::kEndpoint);
    uint64_t breakpoint = make(ObjectType::kBreakpoint);
    must(bind(breakpoint, kVSpace, endpoint), "bind");
    auto entry = reinterpret_cast<uint64_t>(&probed_function);
    must(insert(breakpoint, entry, 5, 0, 0), "insert");
    must(sys::cnode_delete(kRoot, endpoint), "delete the listener's cap");
    t.that(probed_function(2) == 1003, "call through a probe nobody hears failed");
    t.that(*reinterpret_cast<volatile uint8_t*>(entry) == 0x0f, "probe not removed");
    kill(breakpoint);
  }
}

// ---- Cap'n Proto over the kernel's IPC ----

namespace proto = sonde::proto;

class TestSupervisor final : public proto::Supervisor::Server {
 public:
  rt::Result<void> start(proto::Supervisor::StartParams::Reader params,
                         proto::Supervisor::StartResults::Builder results) override {
    if (params.getServer() == proto::ServerKind::kPosix) return rt::err(rt::kEEXIST, "posix already runs");
    auto arguments = params.getArguments();
    if (!arguments.ok()) return arguments.error();
    uint32_t bytes = 0;
    for (uint32_t i = 0; i < arguments.value().size(); ++i) {
      auto text = arguments.value()[i];
      if (!text.ok()) return text.error();
      bytes += text.value().size;
    }
    auto status = results.initStatus();
    status.setHealth(proto::Health::kRunning);
    status.setInstance(arguments.value().size());
    status.setRestarts(bytes);
    return rt::Result<void>();
  }
  rt::Result<void> health(proto::Supervisor::HealthParams::Reader params,
                          proto::Supervisor::HealthResults::Builder results) override {
    uint32_t count = params.getAll() ? 60 : 1;
    auto servers = results.initServers(count);
    for (uint32_t i = 0; i < count; ++i) {
      servers[i].setServer(params.getServer());
      servers[i].setInstance(i);
      servers[i].setHealth(proto::Health::kRunning);
    }
    return rt::Result<void>();
  }
};

constexpr uint64_t kSessionWindow = 0x50000000;
uint64_t capnp_endpoint;
uint64_t capnp_reply;

void capnp_server(uint64_t calls) {
  static TestSupervisor server;
  sonde::capnp::KernelServerConfig config{
      capnp_endpoint, capnp_reply,
      sonde::capnp::Bytes{reinterpret_cast<const uint8_t*>(kSessionWindow + 0x1000), 4096},
      sonde::capnp::MutableBytes{reinterpret_cast<uint8_t*>(kSessionWindow + 0x2000), 4096},
      sonde::capnp::ReaderLimits(), calls};
  (void)sonde::capnp::serveKernelEndpoint(server, config);
}

void test_capnp_over_ipc() {
  capnp_endpoint = make(ObjectType::kEndpoint);
  capnp_reply = make(ObjectType::kReply);
  // The session's two shared buffers, each mapped twice (client and server views at
  // different addresses, as in two address spaces): request at +0 (client, writable) and
  // +0x1000 (server, read-only); reply at +0x2000 (server, writable) and +0x3000 (client).
  uint64_t request = make(ObjectType::kFrame, 12);
  uint64_t reply = make(ObjectType::kFrame, 12);
  uint64_t request_view = new_slot(), reply_view = new_slot();
  must(sys::cnode_copy(kRoot, request_view, request), "copy request frame");
  must(sys::cnode_copy(kRoot, reply_view, reply), "copy reply frame");
  must(map_anywhere(request, kVSpace, kSessionWindow, abi::kMapWrite), "client request view");
  must(map_anywhere(request_view, kVSpace, kSessionWindow + 0x1000, abi::kMapRead), "server request view");
  must(map_anywhere(reply, kVSpace, kSessionWindow + 0x2000, abi::kMapWrite), "server reply view");
  must(map_anywhere(reply_view, kVSpace, kSessionWindow + 0x3000, abi::kMapRead), "client reply view");
  uint64_t server = spawn(capnp_server, 4, ThreadOptions{.priority = 254});
  sonde::capnp::KernelTransport transport(
      capnp_endpoint, sonde::capnp::MutableBytes{reinterpret_cast<uint8_t*>(kSessionWindow), 4096},
      sonde::capnp::Bytes{reinterpret_cast<const uint8_t*>(kSessionWindow + 0x3000), 4096});
  proto::Supervisor::Client client(transport);
  {
    Check t("capnp_call_inline_through_kernel_ipc");
    auto request_message = client.startRequest();
    request_message.params().setServer(proto::ServerKind::kTrace);
    auto arguments = request_message.params().initArguments(2);
    arguments.setText(0, "a");
    arguments.setText(1, "bc");
    auto result = request_message.send();
    t.that(result.ok(), "call failed");
    if (result.ok()) {
      auto status = result.value().getStatus();
      t.that(status.ok() && status.value().getInstance() == 2 && status.value().getRestarts() == 3,
             "wrong results");
    }
  }
  {
    Check t("capnp_error_reply_carries_the_errno");
    auto request_message = client.startRequest();
    request_message.params().setServer(proto::ServerKind::kPosix);
    auto result = request_message.send();
    t.that(!result.ok() && result.error().code == rt::kEEXIST, "EEXIST not delivered");
  }
  {
    Check t("capnp_large_request_read_in_place_from_the_shared_buffer");
    auto request_message = client.startRequest();
    request_message.params().setServer(proto::ServerKind::kTrace);
    auto arguments = request_message.params().initArguments(100);
    for (uint32_t i = 0; i < 100; ++i) arguments.setText(i, "12345678");
    auto result = request_message.send();
    t.that(result.ok(), "large call failed");
    if (result.ok()) {
      auto status = result.value().getStatus();
      t.that(status.ok() && status.value().getInstance() == 100 && status.value().getRestarts() == 800,
             "wrong results for the large request");
    }
  }
  {
    Check t("capnp_large_reply_read_in_place_from_the_shared_buffer");
    auto request_message = client.healthRequest();
    request_message.params().setServer(proto::ServerKind::kPosix);
    request_message.params().setAll(true);
    auto result = request_message.send();
    t.that(result.ok(), "health call failed");
    if (result.ok()) {
      auto servers = result.value().getServers();
      bool ok = servers.ok() && servers.value().size() == 60;
      for (uint32_t i = 0; ok && i < 60; ++i) {
        ok = servers.value()[i].getInstance() == i && servers.value()[i].getServer() == proto::ServerKind::kPosix;
      }
      t.that(ok, "wrong or truncated large reply");
    }
  }
  kill(server);
}

}  // namespace

extern "C" int main() {
  const auto* info = reinterpret_cast<const abi::BootInfo*>(abi::kRootBootInfo);
  boot = info;
  sys::print("kernel-tests: root task started, %lu untyped caps\n", info->untyped_count);
  next_slot = info->first_free_slot;
  untyped = info->untyped_first;
  for (uint64_t i = 1; i < info->untyped_count; ++i) {
    if (info->untyped[i].size_bits > info->untyped[untyped - info->untyped_first].size_bits) {
      untyped = info->untyped_first + i;
    }
  }
  must(sys::bind_ipc_buffer(kSelf, reinterpret_cast<abi::IpcBuffer*>(info->ipc_buffer)),
       "bind the root's IPC buffer");
  // The root runs at 100 and keeps its maximum controlled priority of 255, so threads it makes
  // above 100 run as soon as they are resumed, and threads at 100 when it blocks or yields.
  uint64_t priority[] = {kRootPriority};
  must(sys::invoke(kSelf, Label::kTcbSetPriority, priority), "lower the root's priority");

  test_boot_info();
  test_lookup_errors();
  test_retype_errors();
  test_rights_and_revoke();
  test_call_reply();
  test_notifications();
  test_cap_transfer();
  test_reply_errors();
  test_tcb_invocations();
  test_faults();
  test_dead_endpoint();
  test_scheduling();
  test_vspace();
  test_thread_in_another_vspace();
  test_breakpoints();
  test_breakpoint_in_another_vspace();
  test_smp();
  test_program_from_boot_module();
  test_kernel_text_probe();
  test_foreign_mappings();
  test_hostile_messages();
  test_devices();
  test_clock();
  test_receivers_gone();
  test_capnp_over_ipc();

  sys::print("kernel-tests: %d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
