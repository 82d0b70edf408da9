// SPDX-License-Identifier: MIT
// Kernel tests of the IPC fast paths: every precondition that fails takes the general path, and
// the results are the same as on the fast path.
#include "suite.hpp"

namespace kernel_tests {

namespace {

constexpr uint64_t kServerMarker = 0x5e5e;  // the server's registers beyond a message
constexpr uint64_t kCallerMarker = 0xca11;  // the caller's registers beyond a reply
constexpr uint64_t kLabel = 5;
constexpr uint64_t kDeleteReplyLabel = 98;  // the server deletes its Reply, then replies
constexpr uint64_t kMaxWords = 12;

struct Server {
  uint64_t endpoint;
  uint64_t reply;
};
Server servers[2];
uint64_t grant_slot;  // where the servers receive a cap

// What the server saw of the last message it took.
struct Seen {
  uint64_t label;
  uint64_t length;
  uint64_t badge;
  uint64_t caps;
  uint64_t order;  // when (see `order`)
  uint64_t words[kMaxWords];
  bool untouched;  // its registers beyond the message kept the values it had
  Error last_error;
};
volatile Seen seen;
volatile uint64_t order = 0;  // counts events of the server and the bystander
volatile uint64_t bystander_order = 0;
uint64_t bystander_notification;

// Records each message, answers every word plus one with the badge as the label; stops on an
// error (the ReplyRecv after kDeleteReplyLabel).
void recording_server(uint64_t index) {
  const Server& server = servers[index];
  abi::IpcBuffer* buffer = sys::ipc_buffer();
  buffer->receive_root = kRoot;
  buffer->receive_index = grant_slot;
  buffer->receive_depth = 64;
  sys::MessageRegisters mr;
  for (uint64_t& word : mr.word) word = kServerMarker;
  uint64_t before[abi::kRegisterMessageWords];
  for (uint64_t i = 0; i < abi::kRegisterMessageWords; ++i) before[i] = mr.word[i];
  auto r = sys::recv(server.endpoint, server.reply, mr);
  while (r.error == Error::kNone) {
    uint64_t length = r.info.length;
    seen.label = r.info.label;
    seen.length = length;
    seen.badge = r.badge;
    seen.caps = r.info.extra_caps;
    order = order + 1;
    seen.order = order;
    bool untouched = true;
    for (uint64_t i = length; i < abi::kRegisterMessageWords; ++i) {
      untouched = untouched && mr.word[i] == before[i];
    }
    seen.untouched = untouched;
    for (uint64_t i = 0; i < length && i < kMaxWords; ++i) seen.words[i] = sys::message_word(mr, i);
    if (r.info.label == kDeleteReplyLabel) must(sys::cnode_delete(kRoot, server.reply), "delete");
    for (uint64_t i = 0; i < length; ++i) {
      if (i < abi::kRegisterMessageWords) {
        mr.word[i] += 1;
      } else {
        buffer->message[i] += 1;
      }
    }
    for (uint64_t i = length; i < abi::kRegisterMessageWords; ++i) mr.word[i] = kServerMarker;
    for (uint64_t i = 0; i < abi::kRegisterMessageWords; ++i) before[i] = mr.word[i];
    r = sys::reply_recv(server.endpoint, server.reply, r.badge, mr, length);
  }
  seen.last_error = r.error;
  (void)sys::signal(done_notification);
}

void bystander(uint64_t) {
  order = order + 1;
  bystander_order = order;
  (void)sys::wait(bystander_notification);
}

// Calls through `cptr` with `length` words (10 i + 1) and checks what the server saw and what
// came back: the same whichever path the kernel took. `events`: the server's and any other
// thread's that run during the call.
void call_and_check(Check& t, uint64_t cptr, uint64_t length, uint64_t badge,
                    uint64_t extra_caps = 0, uint64_t events = 1) {
  uint64_t words[kMaxWords];
  for (uint64_t i = 0; i < kMaxWords; ++i) words[i] = 10 * i + 1;
  sys::MessageRegisters mr;
  for (uint64_t& word : mr.word) word = kCallerMarker;
  sys::load_message(mr, words, length);
  uint64_t before = order;
  auto r = sys::ipc(abi::Syscall::kCall, cptr, abi::MessageInfo{kLabel, length, extra_caps}, 0, mr);
  t.error(r.error, Error::kNone, "call failed");
  t.that(order == before + events, "the server did not take the message once");
  t.that(seen.label == kLabel && seen.length == length && seen.badge == badge,
         "the server saw the wrong label, length or badge");
  t.that(seen.caps == extra_caps, "the server saw the wrong number of caps");
  t.that(seen.untouched, "the server's registers beyond the message changed");
  bool words_ok = true;
  for (uint64_t i = 0; i < length; ++i) {
    words_ok = words_ok && seen.words[i] == 10 * i + 1 && sys::message_word(mr, i) == 10 * i + 2;
  }
  t.that(words_ok, "message or reply words wrong");
  t.that(r.info.label == badge && r.info.length == length, "reply label or length wrong");
  bool untouched = true;
  for (uint64_t i = length; i < abi::kRegisterMessageWords; ++i) {
    untouched = untouched && mr.word[i] == kCallerMarker;
  }
  t.that(untouched, "the caller's registers beyond the reply changed");
}

uint64_t set_priority(uint64_t tcb, uint64_t priority) {
  uint64_t words[] = {priority};
  return static_cast<uint64_t>(sys::invoke(tcb, Label::kTcbSetPriority, words));
}

volatile uint64_t waiting_caller_result = 99;
volatile uint64_t waiting_caller_word = 0;
uint64_t waiting_caller_endpoint;

void waiting_caller(uint64_t) {
  sys::MessageRegisters mr;
  mr.word[0] = 7;
  auto r = sys::call(waiting_caller_endpoint, 1, mr, 1);
  waiting_caller_word = mr.word[0];
  waiting_caller_result = static_cast<uint64_t>(r.error);
  (void)sys::signal(done_notification);
}

}  // namespace

DEFINE_TEST(fastpath_fallbacks,
            "each IPC fast-path precondition that fails takes the general path, same results") {
  done_notification = make(ObjectType::kNotification);
  bystander_notification = make(ObjectType::kNotification);
  grant_slot = new_slot();
  for (Server& server : servers) {
    server.endpoint = make(ObjectType::kEndpoint);
    server.reply = make(ObjectType::kReply);
  }
  uint64_t badged = new_slot();
  must_mint(kRoot, badged, servers[0].endpoint, abi::kRightsAll, 0x77);
  // Server 0 runs above the root, so it waits in Recv before every call (the fast path).
  uint64_t fast_server = spawn(recording_server, 0, ThreadOptions{.priority = 200});
  {
    Check t("fastpath_register_message_through_badged_cap");
    call_and_check(t, badged, 3, 0x77);
  }
  {
    Check t("fastpath_fallback_message_longer_than_the_registers");
    call_and_check(t, badged, kMaxWords, 0x77);
  }
  {
    Check t("fastpath_fallback_cap_transfer");
    uint64_t gift = make(ObjectType::kNotification);
    sys::ipc_buffer()->caps[0] = gift;
    call_and_check(t, badged, 2, 0x77, 1);
    t.error(sys::signal(grant_slot), Error::kNone, "the transferred cap is unusable");
    t.error(sys::poll(gift).error, Error::kNone, "signal through the transferred cap was lost");
  }
  {
    Check t("fastpath_fallback_without_write_right");
    uint64_t read_only = new_slot();
    must_mint(kRoot, read_only, servers[0].endpoint, abi::kRightRead, 0);
    uint64_t before = order;
    sys::MessageRegisters mr;
    t.error(sys::call(read_only, kLabel, mr, 1).error, Error::kMissingRight, "call without Write");
    t.that(order == before, "a message went through without Write");
  }
  // Server 1 runs below the root: it has not reached its Recv when the first call comes.
  uint64_t slow_server = spawn(recording_server, 1, ThreadOptions{.priority = 50});
  {
    Check t("fastpath_fallback_no_receiver_waiting");
    call_and_check(t, servers[1].endpoint, 4, 0);
  }
  {
    Check t("fastpath_fallback_receiver_below_a_ready_thread");
    // Server 1 now waits at 50 and a thread at 60 is ready: the general scheduler runs the
    // bystander first, as it would have without the fast path.
    bystander_order = 0;
    uint64_t thread = spawn(bystander, 0, ThreadOptions{.priority = 60});
    call_and_check(t, servers[1].endpoint, 4, 0, 0, 2);
    t.that(bystander_order != 0 && bystander_order < seen.order,
           "the lower-priority receiver ran before a higher ready thread");
    kill(thread);
  }
  if (boot->cpu_count >= 2) {
    Check t("fastpath_fallback_receiver_on_another_cpu");
    uint64_t cpu[] = {1};
    t.error(sys::invoke(slow_server, Label::kTcbSetAffinity, cpu), Error::kNone, "affinity");
    t.error(static_cast<Error>(set_priority(slow_server, 200)), Error::kNone, "priority");
    call_and_check(t, servers[1].endpoint, 4, 0);
  }
  {
    Check t("fastpath_fallback_deleted_reply");
    // The server deletes its Reply while the call is bound to it: the caller is Cancelled,
    // and the server's ReplyRecv through the deleted cap fails in the general path.
    sys::MessageRegisters mr;
    auto r = sys::call(badged, kDeleteReplyLabel, mr, 0);
    t.error(r.error, Error::kCancelled, "caller not cancelled");
    t.error(sys::wait(done_notification).error, Error::kNone, "wait");
    t.error(seen.last_error, Error::kInvalidCapability, "ReplyRecv through a deleted Reply");
  }
  kill(fast_server);
  kill(slow_server);
  {
    Check t("fastpath_fallback_reply_recv_rights_and_types");
    // The root answers a waiting caller: ReplyRecv through an endpoint cap without Read, or
    // with a non-Reply cap, fails before anything is answered; the caller gets one answer.
    waiting_caller_endpoint = make(ObjectType::kEndpoint);
    uint64_t reply = make(ObjectType::kReply);
    uint64_t write_only = new_slot();
    must_mint(kRoot, write_only, waiting_caller_endpoint, abi::kRightWrite, 0);
    waiting_caller_result = 99;
    uint64_t thread = spawn(waiting_caller, 0, ThreadOptions{.priority = 200});
    sys::MessageRegisters mr;
    auto r = sys::recv(waiting_caller_endpoint, reply, mr);
    t.error(r.error, Error::kNone, "recv of the waiting call");
    mr.word[0] = 8;
    r = sys::ipc(abi::Syscall::kReplyRecv, write_only, abi::MessageInfo{2, 1, 0}, reply, mr);
    t.error(r.error, Error::kMissingRight, "ReplyRecv without Read");
    r = sys::ipc(abi::Syscall::kReplyRecv, waiting_caller_endpoint, abi::MessageInfo{2, 1, 0},
                 done_notification, mr);
    t.error(r.error, Error::kWrongType, "ReplyRecv with a notification as the Reply");
    t.that(waiting_caller_result == 99, "the caller was answered by a failed ReplyRecv");
    mr.word[0] = 8;
    t.error(sys::send(reply, 2, mr, 1).error, Error::kNone, "reply");
    t.error(sys::wait(done_notification).error, Error::kNone, "wait");
    t.that(static_cast<Error>(waiting_caller_result) == Error::kNone && waiting_caller_word == 8,
           "the caller's answer");
    kill(thread);
  }
}

namespace {

uint64_t handler_endpoint;
uint64_t handler_reply;
volatile uint64_t handler_length = 0;
volatile uint64_t handler_label = 0;
volatile uint64_t handler_words[abi::kFaultMessageWords];

// Takes one fault and answers SetResult(4242).
void fault_handler(uint64_t) {
  sys::MessageRegisters mr;
  auto r = sys::recv(handler_endpoint, handler_reply, mr);
  handler_label = r.info.label;
  handler_length = r.error == Error::kNone ? r.info.length : 999;
  for (uint64_t i = 0; i < r.info.length && i < abi::kFaultMessageWords; ++i) {
    handler_words[i] = sys::message_word(mr, i);
  }
  mr.word[0] = 4242;
  (void)sys::send(handler_reply, static_cast<uint64_t>(abi::FaultReply::kSetResult), mr, 1);
  (void)sys::signal(done_notification);
}

volatile uint64_t linux_result = 0;

void linux_thread(uint64_t) {
  uint64_t result;
  asm volatile("syscall" : "=a"(result) : "a"(39), "D"(0x1d1) : "rcx", "r11", "memory");
  linux_result = result;
  asm volatile("syscall" : : "a"(231), "D"(0) : "rcx", "r11", "memory");
}

// A ForeignSyscall to a handler with (fast path) or without (general path) an IPC buffer.
void foreign_syscall_to_handler(Check& t, bool with_buffer) {
  handler_endpoint = make(ObjectType::kEndpoint);
  handler_reply = make(ObjectType::kReply);
  handler_length = 0;
  linux_result = 0;
  for (auto& word : handler_words) word = 0;
  uint64_t handler = spawn(fault_handler, 0, ThreadOptions{.priority = 200, .start = false});
  if (!with_buffer) {
    uint64_t configure[] = {kRoot, 0, kVSpace, 0, 0, 0};
    must(sys::invoke(handler, Label::kTcbConfigure, configure), "configure without buffer");
  }
  must(sys::invoke(handler, Label::kTcbResume), "resume handler");  // waits in Recv
  uint64_t thread =
      spawn(linux_thread, 0,
            ThreadOptions{.priority = 150, .fault_endpoint = handler_endpoint, .linux_abi = true});
  t.error(sys::wait(done_notification).error, Error::kNone, "wait");
  t.that(handler_label == static_cast<uint64_t>(abi::FaultKind::kForeignSyscall),
         "not a ForeignSyscall");
  uint64_t length = with_buffer ? abi::kFaultMessageWords : abi::kRegisterMessageWords;
  t.that(handler_length == length, "fault message length");
  abi::UserRegisters registers{};
  auto* words = reinterpret_cast<uint64_t*>(&registers);
  for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = handler_words[i];
  t.that(registers.rax == 39, "syscall number");
  if (with_buffer) {
    t.that(registers.rdi == 0x1d1 && handler_words[abi::kFaultAddressWord] == 0 &&
               handler_words[abi::kFaultDetailWord] == 0,
           "fault words in the IPC buffer");
  }
  t.that(linux_result == 4242, "the result did not reach the thread");
  kill(thread);
  kill(handler);
}

}  // namespace

DEFINE_TEST(fastpath_fault_fallbacks,
            "a fault to a handler without an IPC buffer takes the general path, same results") {
  done_notification = make(ObjectType::kNotification);
  {
    Check t("fastpath_foreign_syscall_to_handler_with_ipc_buffer");
    foreign_syscall_to_handler(t, true);
  }
  {
    Check t("fastpath_fallback_foreign_syscall_to_handler_without_ipc_buffer");
    foreign_syscall_to_handler(t, false);
  }
}

namespace {

// The fault fast path keeps where a handler's IPC buffer is in the kernel (fastpath.cpp); a
// buffer page replaced under the same address must get the next fault's words, not the old
// frame.
constexpr uint64_t kMovedBuffer = kWindow + 0xa0000;
constexpr uint64_t kOldFrameAlias = kWindow + 0xa1000;
volatile uint64_t moved_words[2];
uint64_t go_notification;

uint64_t buffer_word(uint64_t index) {
  auto* buffer = reinterpret_cast<volatile abi::IpcBuffer*>(kMovedBuffer);
  return buffer->message[index];
}

// Takes two faults, keeping word 8 (rdi) of each from the IPC buffer at kMovedBuffer; answers
// the first only once the test has replaced the buffer's page (go_notification).
void moved_buffer_handler(uint64_t) {
  sys::MessageRegisters mr;
  auto r = sys::recv(handler_endpoint, handler_reply, mr);
  for (int i = 0; i < 2 && r.error == Error::kNone; ++i) {
    moved_words[i] = buffer_word(8);
    (void)sys::signal(done_notification);
    if (i == 0) (void)sys::wait(go_notification);
    mr.word[0] = 0;
    r = sys::reply_recv(handler_endpoint, handler_reply,
                        static_cast<uint64_t>(abi::FaultReply::kSetResult), mr, 1);
  }
}

// Two getpids (rdi 0x1d1, then 0x2d2), then exit.
void linux_thread_twice(uint64_t) {
  uint64_t result;
  asm volatile("syscall" : "=a"(result) : "a"(39), "D"(0x1d1) : "rcx", "r11", "memory");
  asm volatile("syscall" : "=a"(result) : "a"(39), "D"(0x2d2) : "rcx", "r11", "memory");
  asm volatile("syscall" : : "a"(231), "D"(0) : "rcx", "r11", "memory");
}

}  // namespace

DEFINE_TEST(fastpath_fault_after_ipc_buffer_page_replaced,
            "a fault after the handler's IPC buffer page was replaced lands in the new page") {
  Check t("fastpath_fault_after_ipc_buffer_page_replaced");
  done_notification = make(ObjectType::kNotification);
  go_notification = make(ObjectType::kNotification);
  handler_endpoint = make(ObjectType::kEndpoint);
  handler_reply = make(ObjectType::kReply);
  moved_words[0] = 0;
  moved_words[1] = 0;
  uint64_t old_frame = make(ObjectType::kFrame, 12);
  uint64_t old_alias = new_slot();
  must(sys::cnode_copy(kRoot, old_alias, old_frame), "copy frame");
  must(map_anywhere(old_frame, kVSpace, kMovedBuffer, abi::kMapWrite), "map the buffer page");
  must(map_anywhere(old_alias, kVSpace, kOldFrameAlias, abi::kMapWrite), "map its alias");
  uint64_t handler = spawn(moved_buffer_handler, 0, ThreadOptions{.priority = 200, .start = false});
  uint64_t configure[] = {kRoot, 0, kVSpace, kMovedBuffer, 0, 0};
  must(sys::invoke(handler, Label::kTcbConfigure, configure), "the buffer at kMovedBuffer");
  must(sys::invoke(handler, Label::kTcbResume), "resume handler");
  uint64_t thread =
      spawn(linux_thread_twice, 0,
            ThreadOptions{.priority = 150, .fault_endpoint = handler_endpoint, .linux_abi = true});
  t.error(sys::wait(done_notification).error, Error::kNone, "wait for the first fault");
  t.that(moved_words[0] == 0x1d1, "the first fault's rdi");
  // Another frame at the same address while the handler holds the first fault.
  t.error(sys::invoke(old_frame, Label::kFrameUnmap), Error::kNone, "unmap the old page");
  uint64_t new_frame = make(ObjectType::kFrame, 12);
  t.error(map_frame(new_frame, kVSpace, kMovedBuffer, abi::kMapWrite), Error::kNone,
          "map the new page");
  t.error(sys::signal(go_notification), Error::kNone, "let the handler answer");
  t.error(sys::wait(done_notification).error, Error::kNone, "wait for the second fault");
  t.that(moved_words[1] == 0x2d2, "the second fault's words are not in the new page");
  auto* old_page = reinterpret_cast<volatile abi::IpcBuffer*>(kOldFrameAlias);
  t.that(old_page->message[8] == 0x1d1, "the second fault wrote into the unmapped page");
  kill(thread);
  kill(handler);
  kill(new_frame);
  kill(old_alias);
  kill(old_frame);
}

namespace {

volatile uint64_t pair_calls = 0;
uint64_t pair_endpoint;
uint64_t pair_reply;

void pair_server(uint64_t) {
  sys::MessageRegisters mr;
  auto r = sys::recv(pair_endpoint, pair_reply, mr);
  while (r.error == Error::kNone) r = sys::reply_recv(pair_endpoint, pair_reply, 0, mr, 1);
}

void pair_client(uint64_t) {
  sys::MessageRegisters mr;
  for (;;) {
    mr.word[0] = 1;
    (void)sys::call(pair_endpoint, 1, mr, 1);
    pair_calls = pair_calls + 1;
  }
}

uint64_t start_on_cpu1(ThreadFunction function) {
  uint64_t thread = spawn(function, 0, ThreadOptions{.priority = 10, .start = false});
  uint64_t cpu[] = {1};
  must(sys::invoke(thread, Label::kTcbSetAffinity, cpu), "affinity");
  must(sys::invoke(thread, Label::kTcbResume), "resume");
  return thread;
}

}  // namespace

DEFINE_TEST(fastpath_destroy_on_another_cpu,
            "threads calling each other on CPU 1 (fast path) are destroyed from CPU 0 mid-run") {
  // Each entry saves the registers straight into the TCB: a CPU whose thread is destroyed must
  // not write into it afterwards (the destroying CPU waits for it). Ten rounds of a client and
  // a server on CPU 1, deleted while they run; the system goes on, and nothing runs after.
  if (boot->cpu_count < 2) return;
  Check t("fastpath_threads_destroyed_mid_ipc_on_another_cpu");
  for (int round = 0; round < 10 && t.ok; ++round) {
    pair_endpoint = make(ObjectType::kEndpoint);
    pair_reply = make(ObjectType::kReply);
    uint64_t server = start_on_cpu1(pair_server);
    uint64_t client = start_on_cpu1(pair_client);
    uint64_t first = pair_calls;
    uint64_t start = sys::debug_ticks();
    while (pair_calls - first < 200 && sys::debug_ticks() - start < 200) {
    }
    t.that(pair_calls - first >= 200, "the pair did not run on CPU 1");
    kill(round % 2 == 0 ? client : server);
    kill(round % 2 == 0 ? server : client);
    uint64_t after = pair_calls;
    start = sys::debug_ticks();
    while (sys::debug_ticks() - start < 5) {
    }
    t.that(pair_calls == after, "a destroyed thread still ran");
  }
}

}  // namespace kernel_tests
