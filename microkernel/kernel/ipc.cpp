// IPC: rendezvous on endpoints, notifications, replies, cap transfer and fault messages.
#include "kernel/ipc.hpp"

#include <stddef.h>

#include "kernel/breakpoint.hpp"
#include "kernel/cap_invocation.hpp"
#include "kernel/cdt.hpp"
#include "kernel/cnode.hpp"
#include "kernel/console.hpp"
#include "kernel/loader.hpp"
#include "kernel/memory.hpp"
#include "kernel/panic.hpp"
#include "kernel/syscall.hpp"

namespace kernel {

namespace abi = sonde::abi;
using abi::FaultKind;
using abi::MessageInfo;
using abi::Syscall;

namespace {

enum EndpointState : uint64_t { kIdle = 0, kSending = 1, kReceiving = 2 };

// A message in flight, gathered from its sender before it is delivered.
struct Message {
  uint64_t label = 0;
  uint64_t length = 0;
  uint64_t words[abi::kMaxMessageWords];
  bool has_cap = false;
  uint64_t cap_cptr = 0;
};

int64_t result(Error error) { return abi::syscall_result(error); }
void set_result(Tcb* tcb, Error error) { tcb->regs.rax = static_cast<uint64_t>(result(error)); }

// Intrusive FIFO of threads through Tcb::next/previous.
void queue_append(Tcb*& head, Tcb*& tail, Tcb* tcb) {
  tcb->next = nullptr;
  tcb->previous = tail;
  if (tail != nullptr) {
    tail->next = tcb;
  } else {
    head = tcb;
  }
  tail = tcb;
}

void queue_remove(Tcb*& head, Tcb*& tail, Tcb* tcb) {
  if (tcb->previous != nullptr) {
    tcb->previous->next = tcb->next;
  } else {
    head = tcb->next;
  }
  if (tcb->next != nullptr) {
    tcb->next->previous = tcb->previous;
  } else {
    tail = tcb->previous;
  }
  tcb->next = tcb->previous = nullptr;
}

Tcb* endpoint_pop(Endpoint* endpoint) {
  Tcb* tcb = endpoint->head;
  queue_remove(endpoint->head, endpoint->tail, tcb);
  if (endpoint->head == nullptr) endpoint->state = kIdle;
  tcb->blocked_on = nullptr;
  return tcb;
}

PageTable thread_table(const Tcb* tcb) { return PageTable(frame_source(), thread_page_table(tcb)); }

uint64_t buffer_field(const Tcb* tcb, size_t offset) { return tcb->ipc_buffer + offset; }

// Message words 0..length-1 of a thread: registers, then its IPC buffer. Each returns the
// length that could be moved: without a usable IPC buffer only the register words go.
uint64_t load_words(Tcb* thread, uint64_t* words, uint64_t length) {
  for (uint64_t i = 0; i < length && i < abi::kRegisterMessageWords; ++i) {
    words[i] = message_register(thread->regs, i);
  }
  if (length <= abi::kRegisterMessageWords) return length;
  uint64_t address = buffer_field(thread, offsetof(abi::IpcBuffer, message) + abi::kRegisterMessageWords * 8);
  uint64_t bytes = (length - abi::kRegisterMessageWords) * 8;
  if (thread->ipc_buffer == 0 ||
      !read_thread_memory(thread, address, &words[abi::kRegisterMessageWords], bytes)) {
    return abi::kRegisterMessageWords;
  }
  return length;
}

uint64_t store_words(Tcb* thread, const uint64_t* words, uint64_t length) {
  for (uint64_t i = 0; i < length && i < abi::kRegisterMessageWords; ++i) {
    message_register(thread->regs, i) = words[i];
  }
  if (length <= abi::kRegisterMessageWords) return length;
  uint64_t address = buffer_field(thread, offsetof(abi::IpcBuffer, message) + abi::kRegisterMessageWords * 8);
  uint64_t bytes = (length - abi::kRegisterMessageWords) * 8;
  if (thread->ipc_buffer == 0 ||
      !write_thread_memory(thread, address, &words[abi::kRegisterMessageWords], bytes)) {
    return abi::kRegisterMessageWords;
  }
  return length;
}

void gather(Tcb* sender, Message& message) {
  if (sender->fault_kind != 0) {
    message.label = sender->fault_kind;
    message.length = abi::kFaultMessageWords;
    abi::UserRegisters registers;
    registers_to_user(*sender, registers);
    const auto* words = reinterpret_cast<const uint64_t*>(&registers);
    for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) message.words[i] = words[i];
    message.words[abi::kFaultAddressWord] = sender->fault_address;
    message.words[abi::kFaultDetailWord] = sender->fault_detail;
    return;
  }
  MessageInfo info = MessageInfo::decode(sender->regs.rsi);
  message.label = info.label;
  uint64_t length = info.length < abi::kMaxMessageWords ? info.length : abi::kMaxMessageWords;
  message.length = load_words(sender, message.words, length);
  if (info.extra_caps > 0 && sender->ipc_buffer != 0) {
    message.has_cap = read_thread_memory(sender, buffer_field(sender, offsetof(abi::IpcBuffer, caps)),
                                         &message.cap_cptr, 8);
  }
}

// Copies the cap the sender named into the receiver's receive slot; false (and nothing done)
// if any part is missing or invalid: the message still goes through, without the cap.
bool transfer_cap(Tcb* sender, uint64_t cptr, Tcb* receiver) {
  if (sender->cspace_root.empty() || receiver->cspace_root.empty() || receiver->ipc_buffer == 0) {
    return false;
  }
  Slot* source = nullptr;
  if (lookup_cap_slot(sender->cspace_root.cap, cptr, source) != Error::kNone || source->empty()) {
    return false;
  }
  uint64_t where[3];
  if (!read_thread_memory(receiver, buffer_field(receiver, offsetof(abi::IpcBuffer, receive_root)),
                          where, sizeof(where))) {
    return false;
  }
  Slot* root = nullptr;
  if (lookup_cap_slot(receiver->cspace_root.cap, where[0], root) != Error::kNone ||
      root->type() != ObjectType::kCNode) {
    return false;
  }
  Slot* destination = nullptr;
  if (resolve_slot(root->cap, where[1], where[2], destination) != Error::kNone ||
      !destination->empty()) {
    return false;
  }
  Capability derived;
  if (derive_cap(*source, false, abi::kRightsAll, 0, true, derived) != Error::kNone) return false;
  cdt_insert_copy(source, destination, derived);
  return true;
}

void deliver(Tcb* receiver, const Message& message, uint64_t badge, Tcb* sender, bool can_grant) {
  uint64_t length = store_words(receiver, message.words, message.length);
  uint64_t caps = 0;
  if (message.has_cap && can_grant && sender != nullptr &&
      transfer_cap(sender, message.cap_cptr, receiver)) {
    caps = 1;
  }
  receiver->regs.rsi = MessageInfo{message.label, length, caps}.encode();
  receiver->regs.rdi = badge;
  receiver->regs.rax = 0;
}

void bind_reply(Reply* reply, Tcb* caller) {
  reply->caller = caller;
  caller->reply = reply;
  thread_block(caller, ThreadState::kBlockedOnReply);
}

void unbind_reply(Reply* reply) {
  if (reply->caller != nullptr) reply->caller->reply = nullptr;
  reply->caller = nullptr;
}

void signal(Notification* notification, uint64_t badge) {
  if (notification->head != nullptr) {
    Tcb* waiter = notification->head;
    queue_remove(notification->head, notification->tail, waiter);
    waiter->blocked_on = nullptr;
    waiter->regs.rdi = badge | notification->word;
    notification->word = 0;
    notification->active = 0;
    waiter->regs.rsi = 0;
    set_result(waiter, Error::kNone);
    thread_make_runnable(waiter);
    return;
  }
  notification->word |= badge;
  notification->active = 1;
}

// With no fault handler left: the thread stops, and its supervisor (if any) is told.
void handler_gone(Tcb* tcb) {
  ipc_cancel(tcb);
  if (tcb->fault_kind == static_cast<uint64_t>(FaultKind::kBreakpoint)) {
    // A probe's listener is gone: the thread goes on at the probe (which is removed at the
    // next hit, or already is), never stuck and never past it unobserved.
    tcb->fault_kind = 0;
    tcb->regs.rip = tcb->probe_address;
    thread_make_runnable(tcb);
    return;
  }
  if (tcb->fault_kind == static_cast<uint64_t>(FaultKind::kForeignSyscall)) {
    printk("USER FAULT in task '%s': foreign syscall %lu with no fault handler\n", tcb->name,
           tcb->regs.rax);
  } else if (tcb->fault_kind == static_cast<uint64_t>(FaultKind::kPage)) {
    printk("USER FAULT in task '%s': %s (vector 14) error code 0x%lx\n", tcb->name,
           exception_name(14), tcb->fault_detail);
  } else {
    printk("USER FAULT in task '%s': %s (vector %lu) error code 0x%lx\n", tcb->name,
           exception_name(tcb->fault_address), tcb->fault_address, tcb->fault_detail);
  }
  print_registers(tcb->regs, false);
  tcb->fault_kind = 0;
  if (!tcb->supervisor.empty()) {
    printk("kernel: thread '%s' suspended; signalling its supervisor\n", tcb->name);
    signal(reinterpret_cast<Notification*>(tcb->supervisor.cap.object), tcb->supervisor.cap.data);
    return;
  }
  printk("kernel: thread '%s' suspended: no fault handler and no supervisor\n", tcb->name);
  if (test_kernel()) machine_exit(abi::kShutdownFailure);
}

// The caller of a Call (or a faulting thread) whose message was taken by a receiver.
void caller_delivered(Tcb* sender, bool expects_reply, Reply* reply) {
  if (!expects_reply) {
    set_result(sender, Error::kNone);
    thread_make_runnable(sender);
  } else if (reply != nullptr) {
    bind_reply(reply, sender);
  } else if (sender->fault_kind != 0) {
    handler_gone(sender);
  } else {
    set_result(sender, Error::kNoReply);
    thread_make_runnable(sender);
  }
}

void send(Tcb* sender, Endpoint* endpoint, uint64_t badge, bool can_grant, bool is_call,
          bool blocking) {
  if (endpoint->state == kReceiving) {
    Tcb* receiver = endpoint_pop(endpoint);
    Message message;
    gather(sender, message);
    deliver(receiver, message, badge, sender, can_grant);
    Reply* reply = receiver->reply;
    receiver->reply = nullptr;
    if (reply != nullptr) reply->receiver = nullptr;
    thread_make_runnable(receiver);
    caller_delivered(sender, is_call, reply);
    return;
  }
  if (!blocking) {
    set_result(sender, Error::kWouldBlock);
    return;
  }
  if (endpoint->receivers == 0) {
    // Nobody can ever take the message: a fault has no handler, a send fails now.
    if (sender->fault_kind != 0) {
      handler_gone(sender);
    } else {
      set_result(sender, Error::kNoReceiver);
    }
    return;
  }
  sender->send_badge = badge;
  sender->send_can_grant = can_grant;
  sender->send_is_call = is_call;
  thread_block(sender, ThreadState::kBlockedOnSend);
  queue_append(endpoint->head, endpoint->tail, sender);
  sender->blocked_on = endpoint;
  endpoint->state = kSending;
}

// Frees a Reply for a new Recv: a caller still bound to it will never get its answer.
void reclaim_reply(Reply* reply, Tcb* receiver) {
  if (reply->caller != nullptr) {
    Tcb* caller = reply->caller;
    unbind_reply(reply);
    if (caller->fault_kind != 0) {
      handler_gone(caller);
    } else {
      set_result(caller, Error::kCancelled);
      thread_make_runnable(caller);
    }
  }
  if (reply->receiver != nullptr && reply->receiver != receiver) {
    reply->receiver->reply = nullptr;
    reply->receiver = nullptr;
  }
}

void receive(Tcb* receiver, Endpoint* endpoint, Reply* reply, bool blocking) {
  if (reply != nullptr) reclaim_reply(reply, receiver);
  if (endpoint->state == kSending) {
    Tcb* sender = endpoint_pop(endpoint);
    Message message;
    gather(sender, message);
    deliver(receiver, message, sender->send_badge, sender, sender->send_can_grant);
    bool expects_reply = sender->send_is_call || sender->fault_kind != 0;
    // The sender is out of the queue but still marked blocked; caller_delivered moves it on.
    sender->state = ThreadState::kInactive;
    caller_delivered(sender, expects_reply, reply);
    return;
  }
  if (!blocking) {
    set_result(receiver, Error::kWouldBlock);
    return;
  }
  thread_block(receiver, ThreadState::kBlockedOnRecv);
  receiver->reply = reply;
  if (reply != nullptr) reply->receiver = receiver;
  queue_append(endpoint->head, endpoint->tail, receiver);
  receiver->blocked_on = endpoint;
  endpoint->state = kReceiving;
}

void wait(Tcb* waiter, Notification* notification, bool blocking) {
  if (notification->active != 0) {
    waiter->regs.rdi = notification->word;
    waiter->regs.rsi = 0;
    notification->word = 0;
    notification->active = 0;
    set_result(waiter, Error::kNone);
    return;
  }
  if (!blocking) {
    set_result(waiter, Error::kWouldBlock);
    return;
  }
  thread_block(waiter, ThreadState::kBlockedOnNotification);
  queue_append(notification->head, notification->tail, waiter);
  waiter->blocked_on = notification;
}

// Applies a fault handler's reply to the faulted thread; false if the reply is malformed
// (the thread stays waiting for a proper one).
bool answer_fault(Tcb* faulted, const Message& message) {
  switch (static_cast<abi::FaultReply>(message.label)) {
    case abi::FaultReply::kResume:
      if (faulted->fault_kind == static_cast<uint64_t>(FaultKind::kBreakpoint)) {
        breakpoint_resume(faulted);
      }
      break;
    case abi::FaultReply::kSetResult:
      if (message.length < 1) return false;
      faulted->regs.rax = message.words[0];
      break;
    case abi::FaultReply::kSetRegisters: {
      if (message.length < abi::kUserRegisterWords) return false;
      abi::UserRegisters registers;
      auto* words = reinterpret_cast<uint64_t*>(&registers);
      for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = message.words[i];
      if (!registers_from_user(*faulted, registers)) return false;
      break;
    }
    case abi::FaultReply::kSuspend:
      faulted->fault_kind = 0;
      faulted->state = ThreadState::kInactive;
      return true;
    default:
      return false;
  }
  faulted->fault_kind = 0;
  faulted->state = ThreadState::kInactive;
  thread_make_runnable(faulted);
  return true;
}

void reply_to(Tcb* replier, Reply* reply) {
  Tcb* caller = reply->caller;
  if (caller == nullptr) {
    set_result(replier, Error::kNoReply);
    return;
  }
  Message message;
  gather(replier, message);
  message.has_cap = false;  // replies carry no caps (yet)
  if (caller->fault_kind != 0) {
    // answer_fault changes nothing when it fails, so the caller stays bound.
    if (!answer_fault(caller, message)) {
      set_result(replier, Error::kInvalidArgument);
      return;
    }
    unbind_reply(reply);
  } else {
    unbind_reply(reply);
    deliver(caller, message, 0, nullptr, false);
    caller->state = ThreadState::kInactive;
    thread_make_runnable(caller);
  }
  set_result(replier, Error::kNone);
}

Error lookup(Tcb* tcb, uint64_t cptr, Slot*& slot) {
  if (tcb->cspace_root.empty()) return Error::kInvalidRoot;
  Error error = lookup_cap_slot(tcb->cspace_root.cap, cptr, slot);
  if (error != Error::kNone) return error;
  if (slot->empty()) return Error::kInvalidCapability;
  return Error::kNone;
}

Error lookup_reply(Tcb* tcb, uint64_t cptr, Reply*& reply) {
  reply = nullptr;
  if (cptr == 0) return Error::kNone;
  Slot* slot = nullptr;
  Error error = lookup(tcb, cptr, slot);
  if (error != Error::kNone) return error;
  if (slot->type() != ObjectType::kReply) return Error::kWrongType;
  reply = reinterpret_cast<Reply*>(slot->cap.object);
  return Error::kNone;
}

// Call or Send on a kernel object: an invocation whose results come back in registers.
void invoke(Tcb* caller, uint64_t cptr) {
  MessageInfo info = MessageInfo::decode(caller->regs.rsi);
  uint64_t words[abi::kMaxInvocationWords];
  uint64_t length = info.length < abi::kMaxInvocationWords ? info.length : abi::kMaxInvocationWords;
  length = load_words(caller, words, length);
  uint64_t output[abi::kMaxInvocationWords];
  size_t output_count = 0;
  Invocation invocation{static_cast<abi::Label>(info.label), words, length, output,
                        abi::kMaxInvocationWords, &output_count};
  Error error = invoke_capability(caller->cspace_root.cap, cptr, invocation);
  if (current_thread() != caller) {
    // The invocation destroyed or suspended the caller; a suspended caller sees the result
    // when it is resumed.
    if (caller->state == ThreadState::kInactive) set_result(caller, error);
    return;
  }
  set_result(caller, error);
  if (error != Error::kNone || output_count == 0) return;
  uint64_t length_out = store_words(caller, output, output_count);
  caller->regs.rsi = MessageInfo{0, length_out, 0}.encode();
}

void send_syscall(Tcb* caller, Syscall number) {
  Slot* slot = nullptr;
  Error error = lookup(caller, caller->regs.rdi, slot);
  if (error != Error::kNone) {
    set_result(caller, error);
    return;
  }
  bool is_call = number == Syscall::kCall;
  bool blocking = number != Syscall::kNBSend;
  switch (slot->type()) {
    case ObjectType::kEndpoint:
      if (!has_rights(slot->cap, abi::kRightWrite)) return set_result(caller, Error::kMissingRight);
      send(caller, reinterpret_cast<Endpoint*>(slot->cap.object), slot->cap.data,
           has_rights(slot->cap, abi::kRightGrant), is_call, blocking);
      return;
    case ObjectType::kNotification:
      if (is_call) return set_result(caller, Error::kIllegalOperation);
      if (!has_rights(slot->cap, abi::kRightWrite)) return set_result(caller, Error::kMissingRight);
      signal(reinterpret_cast<Notification*>(slot->cap.object), slot->cap.data);
      set_result(caller, Error::kNone);
      return;
    case ObjectType::kReply:
      if (is_call) return set_result(caller, Error::kIllegalOperation);
      reply_to(caller, reinterpret_cast<Reply*>(slot->cap.object));
      return;
    default:
      invoke(caller, caller->regs.rdi);
      return;
  }
}

void receive_syscall(Tcb* caller, bool blocking) {
  Slot* slot = nullptr;
  Error error = lookup(caller, caller->regs.rdi, slot);
  if (error != Error::kNone) return set_result(caller, error);
  switch (slot->type()) {
    case ObjectType::kEndpoint: {
      if (!has_rights(slot->cap, abi::kRightRead)) return set_result(caller, Error::kMissingRight);
      Reply* reply = nullptr;
      error = lookup_reply(caller, caller->regs.rdx, reply);
      if (error != Error::kNone) return set_result(caller, error);
      receive(caller, reinterpret_cast<Endpoint*>(slot->cap.object), reply, blocking);
      return;
    }
    case ObjectType::kNotification:
      if (!has_rights(slot->cap, abi::kRightRead)) return set_result(caller, Error::kMissingRight);
      wait(caller, reinterpret_cast<Notification*>(slot->cap.object), blocking);
      return;
    default:
      set_result(caller, Error::kIllegalOperation);
      return;
  }
}

void reply_receive_syscall(Tcb* caller) {
  Reply* reply = nullptr;
  Error error = lookup_reply(caller, caller->regs.rdx, reply);
  if (error != Error::kNone) return set_result(caller, error);
  if (reply == nullptr) return set_result(caller, Error::kInvalidCapability);
  Slot* slot = nullptr;
  error = lookup(caller, caller->regs.rdi, slot);
  if (error != Error::kNone) return set_result(caller, error);
  if (slot->type() != ObjectType::kEndpoint) return set_result(caller, Error::kIllegalOperation);
  if (!has_rights(slot->cap, abi::kRightRead)) return set_result(caller, Error::kMissingRight);
  if (reply->caller != nullptr) {
    reply_to(caller, reply);
    if (static_cast<int64_t>(caller->regs.rax) != 0) return;  // malformed fault answer
  }
  receive(caller, reinterpret_cast<Endpoint*>(slot->cap.object), reply, true);
}

// The fast path for the common case of Call and ReplyRecv: a message that fits in registers,
// no caps, no fault, and a partner already waiting (Call) or none (ReplyRecv, which then
// blocks). It does what the general path would, without gathering into a message buffer;
// anything else falls back to the general path (returns false, having changed nothing).
void copy_registers(const arch::TrapFrame& from, arch::TrapFrame& to) {
  to.r10 = from.r10;
  to.r8 = from.r8;
  to.r9 = from.r9;
  to.r12 = from.r12;
  to.r13 = from.r13;
  to.r14 = from.r14;
  to.r15 = from.r15;
  to.rbx = from.rbx;
}

bool fast_message(const Tcb* sender, MessageInfo& info) {
  info = MessageInfo::decode(sender->regs.rsi);
  return info.length <= abi::kRegisterMessageWords && info.extra_caps == 0 &&
         sender->fault_kind == 0;
}

Slot* fast_lookup(const Tcb* tcb, uint64_t cptr, ObjectType type, uint64_t rights) {
  Slot* slot = nullptr;
  if (tcb->cspace_root.empty() || lookup_cap_slot(tcb->cspace_root.cap, cptr, slot) != Error::kNone ||
      slot->type() != type || !has_rights(slot->cap, rights)) {
    return nullptr;
  }
  return slot;
}

bool fast_call(Tcb* caller) {
  MessageInfo info;
  if (!fast_message(caller, info)) return false;
  Slot* slot = fast_lookup(caller, caller->regs.rdi, ObjectType::kEndpoint, abi::kRightWrite);
  if (slot == nullptr) return false;
  auto* endpoint = reinterpret_cast<Endpoint*>(slot->cap.object);
  if (endpoint->state != kReceiving || endpoint->head->reply == nullptr) return false;
  Tcb* receiver = endpoint_pop(endpoint);
  Reply* reply = receiver->reply;
  receiver->reply = nullptr;
  reply->receiver = nullptr;
  copy_registers(caller->regs, receiver->regs);
  receiver->regs.rsi = MessageInfo{info.label, info.length, 0}.encode();
  receiver->regs.rdi = slot->cap.data;
  receiver->regs.rax = 0;
  bind_reply(reply, caller);
  thread_make_runnable(receiver);
  return true;
}

bool fast_reply_receive(Tcb* caller) {
  MessageInfo info;
  if (!fast_message(caller, info)) return false;
  Slot* reply_slot = fast_lookup(caller, caller->regs.rdx, ObjectType::kReply, 0);
  Slot* slot = fast_lookup(caller, caller->regs.rdi, ObjectType::kEndpoint, abi::kRightRead);
  if (reply_slot == nullptr || slot == nullptr) return false;
  auto* reply = reinterpret_cast<Reply*>(reply_slot->cap.object);
  auto* endpoint = reinterpret_cast<Endpoint*>(slot->cap.object);
  Tcb* waiting = reply->caller;
  if (waiting == nullptr || endpoint->state == kSending || reply->receiver != nullptr) return false;
  if (waiting->fault_kind != 0) {
    // Answers to faults on the hot paths: resume (a breakpoint hit) or set the result (a
    // ForeignSyscall). Everything else takes the general path.
    auto answer = static_cast<abi::FaultReply>(info.label);
    if (answer != abi::FaultReply::kResume &&
        !(answer == abi::FaultReply::kSetResult && info.length >= 1)) {
      return false;
    }
    unbind_reply(reply);
    if (answer == abi::FaultReply::kSetResult) waiting->regs.rax = caller->regs.r10;
    if (waiting->fault_kind == static_cast<uint64_t>(FaultKind::kBreakpoint)) breakpoint_resume(waiting);
    waiting->fault_kind = 0;
  } else {
    unbind_reply(reply);
    copy_registers(caller->regs, waiting->regs);
    waiting->regs.rsi = MessageInfo{info.label, info.length, 0}.encode();
    waiting->regs.rdi = 0;
    waiting->regs.rax = 0;
  }
  waiting->state = ThreadState::kInactive;
  thread_make_runnable(waiting);
  thread_block(caller, ThreadState::kBlockedOnRecv);
  caller->reply = reply;
  reply->receiver = caller;
  queue_append(endpoint->head, endpoint->tail, caller);
  caller->blocked_on = endpoint;
  endpoint->state = kReceiving;
  return true;
}

}  // namespace

uint64_t& message_register(arch::TrapFrame& regs, uint64_t index) {
  switch (index) {
    case 0: return regs.r10;
    case 1: return regs.r8;
    case 2: return regs.r9;
    case 3: return regs.r12;
    case 4: return regs.r13;
    case 5: return regs.r14;
    case 6: return regs.r15;
    default: return regs.rbx;
  }
}

void registers_to_user(const Tcb& tcb, abi::UserRegisters& out) {
  const arch::TrapFrame& r = tcb.regs;
  out = abi::UserRegisters{r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
                           r.rbp, r.r8,  r.r9,     r.r10, r.r11, r.r12, r.r13, r.r14, r.r15,
                           tcb.fs_base};
}

bool registers_from_user(Tcb& tcb, const abi::UserRegisters& in) {
  // A user rip or fs base in the kernel half, or a stack pointer the CPU cannot return to,
  // is refused here; a thread that makes its own rsp non-canonical is caught on the way out
  // (interrupt_dispatch).
  if (in.rip >= page::kUserTop || in.fs_base >= page::kUserTop || !page::is_canonical(in.rsp)) {
    return false;
  }
  arch::TrapFrame& r = tcb.regs;
  r.rip = in.rip;
  r.rsp = in.rsp;
  // Arithmetic flags, TF and DF are the thread's; interrupts stay on, IOPL 0.
  r.rflags = (in.rflags & 0xdd5) | 0x202;
  r.rax = in.rax;
  r.rbx = in.rbx;
  r.rcx = in.rcx;
  r.rdx = in.rdx;
  r.rsi = in.rsi;
  r.rdi = in.rdi;
  r.rbp = in.rbp;
  r.r8 = in.r8;
  r.r9 = in.r9;
  r.r10 = in.r10;
  r.r11 = in.r11;
  r.r12 = in.r12;
  r.r13 = in.r13;
  r.r14 = in.r14;
  r.r15 = in.r15;
  tcb.fs_base = in.fs_base;
  return true;
}

bool read_thread_memory(const Tcb* tcb, uint64_t address, void* buffer, uint64_t length) {
  if (thread_page_table(tcb) == 0) return false;
  return copy_from_user(thread_table(tcb), buffer, address, length);
}

bool write_thread_memory(const Tcb* tcb, uint64_t address, const void* buffer, uint64_t length) {
  if (thread_page_table(tcb) == 0) return false;
  return copy_to_user(thread_table(tcb), address, buffer, length);
}

void ipc_syscall(Tcb* caller, Syscall number) {
  if (number == Syscall::kCall && fast_call(caller)) return;
  if (number == Syscall::kReplyRecv && fast_reply_receive(caller)) return;
  switch (number) {
    case Syscall::kCall:
    case Syscall::kSend:
    case Syscall::kNBSend: send_syscall(caller, number); return;
    case Syscall::kRecv: receive_syscall(caller, true); return;
    case Syscall::kNBRecv: receive_syscall(caller, false); return;
    case Syscall::kReplyRecv: reply_receive_syscall(caller); return;
    default: set_result(caller, Error::kUnknownSyscall); return;
  }
}

void deliver_fault(Tcb* tcb, FaultKind kind, uint64_t address, uint64_t detail) {
  tcb->fault_kind = static_cast<uint64_t>(kind);
  tcb->fault_address = address;
  tcb->fault_detail = detail;
  if (tcb->fault_endpoint.empty()) {
    handler_gone(tcb);
    return;
  }
  const Capability& cap = tcb->fault_endpoint.cap;
  send(tcb, reinterpret_cast<Endpoint*>(cap.object), cap.data, false, true, true);
}

void notification_signal(Notification* notification, uint64_t badge) { signal(notification, badge); }

void deliver_fault_to(Tcb* tcb, const Capability& endpoint, FaultKind kind, uint64_t address,
                      uint64_t detail) {
  tcb->fault_kind = static_cast<uint64_t>(kind);
  tcb->fault_address = address;
  tcb->fault_detail = detail;
  send(tcb, reinterpret_cast<Endpoint*>(endpoint.object), endpoint.data, false, true, true);
}

void ipc_cancel(Tcb* tcb) {
  switch (tcb->state) {
    case ThreadState::kBlockedOnSend:
    case ThreadState::kBlockedOnRecv: {
      auto* endpoint = static_cast<Endpoint*>(tcb->blocked_on);
      if (endpoint != nullptr) {
        queue_remove(endpoint->head, endpoint->tail, tcb);
        if (endpoint->head == nullptr) endpoint->state = kIdle;
      }
      if (tcb->reply != nullptr) tcb->reply->receiver = nullptr;
      break;
    }
    case ThreadState::kBlockedOnNotification: {
      auto* notification = static_cast<Notification*>(tcb->blocked_on);
      if (notification != nullptr) queue_remove(notification->head, notification->tail, tcb);
      break;
    }
    case ThreadState::kBlockedOnReply:
      if (tcb->reply != nullptr) tcb->reply->caller = nullptr;
      break;
    default:
      break;
  }
  tcb->reply = nullptr;
  tcb->blocked_on = nullptr;
  if (tcb->state != ThreadState::kRunning) {
    tcb->state = ThreadState::kInactive;
  } else {
    thread_block(tcb, ThreadState::kInactive);
  }
}

namespace {

// Wakes every thread queued on the endpoint with `error`; faulted threads lost their handler.
void release_waiters(Endpoint* endpoint, Error error) {
  while (endpoint->head != nullptr) {
    Tcb* tcb = endpoint->head;
    bool faulted = tcb->fault_kind != 0 && tcb->state == ThreadState::kBlockedOnSend;
    ipc_cancel(tcb);
    if (faulted) {
      handler_gone(tcb);
    } else {
      set_result(tcb, error);
      thread_make_runnable(tcb);
    }
  }
}

}  // namespace

void endpoint_destroyed(Endpoint* endpoint) { release_waiters(endpoint, Error::kDeleted); }

void endpoint_lost_receivers(Endpoint* endpoint) {
  // Threads blocked in Recv still receive; senders would wait for ever.
  if (endpoint->state == kSending) release_waiters(endpoint, Error::kNoReceiver);
}

void endpoint_cap_counted(const Capability& cap, int64_t change) {
  if (cap.type != static_cast<uint8_t>(ObjectType::kEndpoint) || !has_rights(cap, abi::kRightRead)) {
    return;
  }
  auto* endpoint = reinterpret_cast<Endpoint*>(cap.object);
  endpoint->receivers += static_cast<uint64_t>(change);
  if (change < 0 && endpoint->receivers == 0) endpoint_lost_receivers(endpoint);
}

void notification_destroyed(Notification* notification) {
  while (notification->head != nullptr) {
    Tcb* tcb = notification->head;
    ipc_cancel(tcb);
    set_result(tcb, Error::kDeleted);
    thread_make_runnable(tcb);
  }
}

void reply_destroyed(Reply* reply) {
  if (reply->receiver != nullptr) {
    reply->receiver->reply = nullptr;
    reply->receiver = nullptr;
  }
  if (reply->caller != nullptr) {
    Tcb* caller = reply->caller;
    unbind_reply(reply);
    caller->state = ThreadState::kInactive;
    if (caller->fault_kind != 0) {
      handler_gone(caller);
    } else {
      set_result(caller, Error::kCancelled);
      thread_make_runnable(caller);
    }
  }
}

}  // namespace kernel
