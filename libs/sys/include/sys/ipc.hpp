// SPDX-License-Identifier: MIT
// User-side IPC and invocations: one inline stub over the register convention of
// sonde/abi/ipc.hpp, and typed wrappers for the kernel objects.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sonde/abi/errors.hpp"
#include "sonde/abi/invocations.hpp"
#include "sonde/abi/ipc.hpp"
#include "sonde/abi/objects.hpp"
#include "sonde/abi/rights.hpp"
#include "sonde/abi/syscalls.hpp"

namespace sys {

namespace abi = sonde::abi;

// The eight register message words, in and out.
struct MessageRegisters {
  uint64_t word[abi::kRegisterMessageWords] = {};
};

struct IpcResult {
  abi::Error error = abi::Error::kNone;  // from rax
  uint64_t badge = 0;                    // rdi on return
  abi::MessageInfo info;                 // rsi on return
};

// One IPC system call. `mr` is sent and overwritten with what comes back.
inline IpcResult ipc(abi::Syscall number, uint64_t cptr, abi::MessageInfo info, uint64_t reply,
                     MessageRegisters& mr) {
  uint64_t rax = static_cast<uint64_t>(number);
  uint64_t rdi = cptr;
  uint64_t rsi = info.encode();
  uint64_t rdx = reply;
  register uint64_t r10 asm("r10") = mr.word[0];
  register uint64_t r8 asm("r8") = mr.word[1];
  register uint64_t r9 asm("r9") = mr.word[2];
  register uint64_t r12 asm("r12") = mr.word[3];
  register uint64_t r13 asm("r13") = mr.word[4];
  register uint64_t r14 asm("r14") = mr.word[5];
  register uint64_t r15 asm("r15") = mr.word[6];
  register uint64_t rbx asm("rbx") = mr.word[7];
  asm volatile("syscall"
               : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9),
                 "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15), "+r"(rbx)
               :
               : "rcx", "r11", "memory");
  mr.word[0] = r10;
  mr.word[1] = r8;
  mr.word[2] = r9;
  mr.word[3] = r12;
  mr.word[4] = r13;
  mr.word[5] = r14;
  mr.word[6] = r15;
  mr.word[7] = rbx;
  return IpcResult{static_cast<abi::Error>(-static_cast<int64_t>(rax)), rdi,
                   abi::MessageInfo::decode(rsi)};
}

// The calling thread's IPC buffer. Native threads keep its address in the buffer's own
// `user_data` word and point fs at the buffer, so each thread finds its own.
inline abi::IpcBuffer* ipc_buffer() {
  uint64_t address;
  asm volatile("mov %%fs:%c1, %0" : "=r"(address) : "i"(offsetof(abi::IpcBuffer, user_data)));
  return reinterpret_cast<abi::IpcBuffer*>(address);
}

// Puts words 0..count-1 of a message into registers and the IPC buffer.
inline void load_message(MessageRegisters& mr, const uint64_t* words, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (i < abi::kRegisterMessageWords) {
      mr.word[i] = words[i];
    } else {
      ipc_buffer()->message[i] = words[i];
    }
  }
}
inline uint64_t message_word(const MessageRegisters& mr, size_t index) {
  return index < abi::kRegisterMessageWords ? mr.word[index] : ipc_buffer()->message[index];
}

// Invokes a kernel object: label and words in, error out; results (if any) in `out`.
inline abi::Error invoke(uint64_t cptr, abi::Label label, const uint64_t* words, size_t count,
                         MessageRegisters* out = nullptr, abi::MessageInfo* out_info = nullptr) {
  MessageRegisters mr;
  load_message(mr, words, count);
  IpcResult r = ipc(abi::Syscall::kCall, cptr,
                    abi::MessageInfo{static_cast<uint64_t>(label), count, 0}, 0, mr);
  if (out != nullptr) *out = mr;
  if (out_info != nullptr) *out_info = r.info;
  return r.error;
}
template <size_t N>
abi::Error invoke(uint64_t cptr, abi::Label label, const uint64_t (&words)[N]) {
  return invoke(cptr, label, words, N);
}
inline abi::Error invoke(uint64_t cptr, abi::Label label) {
  return invoke(cptr, label, nullptr, 0);
}

// Makes `buffer` the IPC buffer ipc_buffer() returns in the thread of `tcb` (the caller's own
// TCB cap, or a new thread's before it starts). The buffer must also be the one configured
// in the TCB for long messages to use it.
inline abi::Error bind_ipc_buffer(uint64_t tcb, abi::IpcBuffer* buffer) {
  buffer->user_data = reinterpret_cast<uint64_t>(buffer);
  uint64_t words[] = {reinterpret_cast<uint64_t>(buffer)};
  return invoke(tcb, abi::Label::kTcbSetTls, words);
}

// Common invocations.
inline abi::Error retype(uint64_t untyped, abi::ObjectType type, uint64_t size_bits, uint64_t root,
                         uint64_t slot, uint64_t count = 1) {
  uint64_t words[] = {static_cast<uint64_t>(type), size_bits, root, 0, 0, slot, count};
  return invoke(untyped, abi::Label::kUntypedRetype, words);
}
// Slot operations relative to a root CNode whose guard makes index == cptr (depth 64).
inline abi::Error cnode_copy(uint64_t root, uint64_t to, uint64_t from) {
  uint64_t words[] = {to, 64, root, from, 64};
  return invoke(root, abi::Label::kCNodeCopy, words);
}
inline abi::Error cnode_mint(uint64_t root, uint64_t to, uint64_t from, uint64_t rights,
                             uint64_t badge) {
  uint64_t words[] = {to, 64, root, from, 64, rights, badge};
  return invoke(root, abi::Label::kCNodeMint, words);
}
inline abi::Error cnode_move(uint64_t root, uint64_t to, uint64_t from) {
  uint64_t words[] = {to, 64, root, from, 64};
  return invoke(root, abi::Label::kCNodeMove, words);
}
inline abi::Error cnode_delete(uint64_t root, uint64_t slot) {
  uint64_t words[] = {slot, 64};
  return invoke(root, abi::Label::kCNodeDelete, words);
}
inline abi::Error cnode_revoke(uint64_t root, uint64_t slot) {
  uint64_t words[] = {slot, 64};
  return invoke(root, abi::Label::kCNodeRevoke, words);
}

// IPC shorthands.
inline IpcResult send(uint64_t cptr, uint64_t label, MessageRegisters& mr, uint64_t length) {
  return ipc(abi::Syscall::kSend, cptr, abi::MessageInfo{label, length, 0}, 0, mr);
}
inline IpcResult call(uint64_t cptr, uint64_t label, MessageRegisters& mr, uint64_t length) {
  return ipc(abi::Syscall::kCall, cptr, abi::MessageInfo{label, length, 0}, 0, mr);
}
inline IpcResult recv(uint64_t cptr, uint64_t reply, MessageRegisters& mr) {
  return ipc(abi::Syscall::kRecv, cptr, abi::MessageInfo{}, reply, mr);
}
inline IpcResult reply_recv(uint64_t cptr, uint64_t reply, uint64_t label, MessageRegisters& mr,
                            uint64_t length) {
  return ipc(abi::Syscall::kReplyRecv, cptr, abi::MessageInfo{label, length, 0}, reply, mr);
}
inline abi::Error signal(uint64_t notification) {
  MessageRegisters mr;
  return ipc(abi::Syscall::kSend, notification, abi::MessageInfo{}, 0, mr).error;
}
// Waits on a notification; returns the badges signalled (0 with an error).
inline IpcResult wait(uint64_t notification) {
  MessageRegisters mr;
  return ipc(abi::Syscall::kRecv, notification, abi::MessageInfo{}, 0, mr);
}
inline IpcResult poll(uint64_t notification) {
  MessageRegisters mr;
  return ipc(abi::Syscall::kNBRecv, notification, abi::MessageInfo{}, 0, mr);
}
// Signals `notification` (with its cap's badge) when the clock reaches `deadline_ns`; 0 cancels.
inline abi::Error set_timer(uint64_t notification, uint64_t deadline_ns) {
  uint64_t words[] = {deadline_ns};
  return invoke(notification, abi::Label::kNotificationSetTimer, words);
}
inline void yield() {
  MessageRegisters mr;
  ipc(abi::Syscall::kYield, 0, abi::MessageInfo{}, 0, mr);
}

}  // namespace sys
