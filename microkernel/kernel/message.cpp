// SPDX-License-Identifier: MIT
// IPC messages: message words through registers and the IPC buffer, cap transfer, queues.
#include "kernel/message.hpp"

#include <stddef.h>

#include "kernel/cdt.hpp"
#include "kernel/cnode.hpp"
#include "kernel/loader.hpp"
#include "kernel/memory.hpp"
#include "kernel/page_table.hpp"

namespace kernel {

namespace abi = sonde::abi;
using abi::MessageInfo;

namespace {

int64_t result(Error error) { return abi::syscall_result(error); }

PageTable thread_table(const Tcb* tcb) { return PageTable(frame_source(), thread_page_table(tcb)); }

uint64_t buffer_field(const Tcb* tcb, size_t offset) { return tcb->ipc_buffer + offset; }

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

}  // namespace

void set_result(Tcb* tcb, Error error) { tcb->regs.rax = static_cast<uint64_t>(result(error)); }

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

uint64_t load_words(Tcb* thread, uint64_t* words, uint64_t length) {
  for (uint64_t i = 0; i < length && i < abi::kRegisterMessageWords; ++i) {
    words[i] = message_register(thread->regs, i);
  }
  if (length <= abi::kRegisterMessageWords) return length;
  uint64_t address =
      buffer_field(thread, offsetof(abi::IpcBuffer, message) + abi::kRegisterMessageWords * 8);
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
  uint64_t address =
      buffer_field(thread, offsetof(abi::IpcBuffer, message) + abi::kRegisterMessageWords * 8);
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
    message.words[abi::kFaultCpuWord] = sender->fault_cpu;
    return;
  }
  MessageInfo info = MessageInfo::decode(sender->regs.rsi);
  message.label = info.label;
  uint64_t length = info.length < abi::kMaxMessageWords ? info.length : abi::kMaxMessageWords;
  message.length = load_words(sender, message.words, length);
  if (info.extra_caps > 0 && sender->ipc_buffer != 0) {
    message.has_cap = read_thread_memory(
        sender, buffer_field(sender, offsetof(abi::IpcBuffer, caps)), &message.cap_cptr, 8);
  }
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

bool read_thread_memory(const Tcb* tcb, uint64_t address, void* buffer, uint64_t length) {
  if (thread_page_table(tcb) == 0) return false;
  return copy_from_user(thread_table(tcb), buffer, address, length);
}

bool write_thread_memory(const Tcb* tcb, uint64_t address, const void* buffer, uint64_t length) {
  if (thread_page_table(tcb) == 0) return false;
  return copy_to_user(thread_table(tcb), address, buffer, length);
}

}  // namespace kernel
