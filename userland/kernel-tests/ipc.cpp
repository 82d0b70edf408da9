// SPDX-License-Identifier: MIT
// Kernel tests of IPC: endpoints, notifications, replies, cap transfer, hostile messages.
#include "suite.hpp"

namespace kernel_tests {

namespace {

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

}  // namespace

DEFINE_TEST(call_reply,
            "Call and ReplyRecv with an echo server: badges, long messages, non-blocking IPC") {
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

namespace {

volatile uint64_t receiver_result = 0;
volatile bool receiver_done = false;
uint64_t victim_endpoint;

void blocked_receiver(uint64_t) {
  sys::MessageRegisters mr;
  auto r = sys::recv(victim_endpoint, 0, mr);
  receiver_result = static_cast<uint64_t>(r.error);
  receiver_done = true;
  (void)sys::signal(done_notification);
}

}  // namespace

DEFINE_TEST(dead_endpoint, "a thread receiving on an endpoint that is deleted wakes with Deleted") {
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

DEFINE_TEST(notifications,
            "notification badges accumulate, polling an empty one would block, Call is illegal") {
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

namespace {

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

}  // namespace

DEFINE_TEST(cap_transfer,
            "a cap sent over IPC arrives with the Grant right and is refused without it") {
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

namespace {

uint64_t reply_endpoint;
uint64_t reply_object;
volatile uint64_t caller_result = 0;

void caller_thread(uint64_t) {
  sys::MessageRegisters mr;
  caller_result = static_cast<uint64_t>(sys::call(reply_endpoint, 1, mr, 0).error);
  (void)sys::signal(done_notification);
}

}  // namespace

DEFINE_TEST(reply_errors,
            "Reply objects: replying to nobody, deleting a bound reply, no reply to bind") {
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

namespace {

volatile uint64_t hostile_seen_length = 0;
uint64_t hostile_endpoint;

void hostile_receiver(uint64_t) {
  sys::MessageRegisters mr;
  auto r = sys::recv(hostile_endpoint, 0, mr);
  hostile_seen_length = r.error == Error::kNone ? r.info.length : 999;
}

}  // namespace

DEFINE_TEST(hostile_messages,
            "hostile lengths, no IPC buffer, misused Reply caps and syscall numbers") {
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
    t.that(hostile_seen_length == abi::kRegisterMessageWords,
           "words beyond the registers invented");
    kill(thread);
  }
  {
    Check t("recv_with_a_non_reply_cap_is_wrong_type");
    sys::MessageRegisters mr;
    auto r =
        sys::ipc(abi::Syscall::kNBRecv, hostile_endpoint, abi::MessageInfo{}, hostile_endpoint, mr);
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
    t.that(sys::raw_syscall(4096) == abi::syscall_result(abi::Error::kUnknownSyscall),
           "call 4096 accepted");
  }
}

// Loads a distinct pattern (0x5a..01 .. 0x5a..0c) into every register the native ABI
// preserves, makes system call `number`, and stores what came back: out[0] rax, out[1..12] rbx,
// rbp, rdi, rsi, rdx, r8, r9, r10, r12, r13, r14, r15, out[13] rsp after, out[14] rsp before.
extern "C" void unknown_syscall_registers(uint64_t number, uint64_t* out);
asm(R"(
    .text
    .globl unknown_syscall_registers
unknown_syscall_registers:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rdi, %rax
    mov %rsp, 112(%rsi)
    push %rsi
    movabs $0x5a5a5a5a5a5a5a01, %rbx
    movabs $0x5a5a5a5a5a5a5a02, %rbp
    movabs $0x5a5a5a5a5a5a5a03, %rdi
    movabs $0x5a5a5a5a5a5a5a04, %rsi
    movabs $0x5a5a5a5a5a5a5a05, %rdx
    movabs $0x5a5a5a5a5a5a5a06, %r8
    movabs $0x5a5a5a5a5a5a5a07, %r9
    movabs $0x5a5a5a5a5a5a5a08, %r10
    movabs $0x5a5a5a5a5a5a5a09, %r12
    movabs $0x5a5a5a5a5a5a5a0a, %r13
    movabs $0x5a5a5a5a5a5a5a0b, %r14
    movabs $0x5a5a5a5a5a5a5a0c, %r15
    syscall
    mov (%rsp), %rcx
    mov %rax, 0(%rcx)
    mov %rbx, 8(%rcx)
    mov %rbp, 16(%rcx)
    mov %rdi, 24(%rcx)
    mov %rsi, 32(%rcx)
    mov %rdx, 40(%rcx)
    mov %r8, 48(%rcx)
    mov %r9, 56(%rcx)
    mov %r10, 64(%rcx)
    mov %r12, 72(%rcx)
    mov %r13, 80(%rcx)
    mov %r14, 88(%rcx)
    mov %r15, 96(%rcx)
    lea 8(%rsp), %r11
    mov %r11, 104(%rcx)
    pop %rsi
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret
)");

DEFINE_TEST(unknown_syscall,
            "a number no native call has returns UnknownSyscall and keeps every other register") {
  // The first number after the last call, one far above, and the largest.
  const uint64_t numbers[] = {static_cast<uint64_t>(abi::Syscall::kCount), 4096, ~uint64_t{0}};
  Check t("unknown_syscall_returns_unknown_syscall_and_preserves_registers");
  for (uint64_t number : numbers) {
    uint64_t out[15] = {};
    unknown_syscall_registers(number, out);
    t.that(out[0] == static_cast<uint64_t>(abi::syscall_result(Error::kUnknownSyscall)),
           "rax is not -UnknownSyscall");
    for (uint64_t i = 1; i <= 12; ++i) {
      t.that(out[i] == 0x5a5a5a5a5a5a5a00 + i, "a register the ABI preserves changed");
    }
    t.that(out[13] == out[14], "rsp changed");
  }
}

namespace {

volatile uint64_t lonely_send_result = 0;
uint64_t lonely_write_only;
void lonely_sender(uint64_t) {
  sys::MessageRegisters mr;
  lonely_send_result = static_cast<uint64_t>(sys::send(lonely_write_only, 1, mr, 0).error);
}

}  // namespace

DEFINE_TEST(receivers_gone,
            "senders, fault handlers and breakpoints when no cap can receive any more") {
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
    uint64_t thread =
        spawn(touch_unmapped, 0,
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

}  // namespace kernel_tests
