// SPDX-License-Identifier: MIT
// IPC messages: what endpoints, notifications, replies and faults share: the result register,
// thread queues, message words and caps moved between threads, and threads' user memory.
#pragma once

#include <stdint.h>

#include "kernel/tcb.hpp"
#include "sonde/abi/ipc.hpp"
#include "sonde/abi/syscalls.hpp"

namespace kernel {

// A message in flight, gathered from its sender before it is delivered.
struct Message {
  uint64_t label = 0;
  uint64_t length = 0;
  uint64_t words[sonde::abi::kMaxMessageWords];
  bool has_cap = false;
  uint64_t cap_cptr = 0;
};

// Sets the system call result register (rax) of a thread.
void set_result(Tcb* tcb, Error error);

// Intrusive FIFO of threads through Tcb::next/previous.
void queue_append(Tcb*& head, Tcb*& tail, Tcb* tcb);
void queue_remove(Tcb*& head, Tcb*& tail, Tcb* tcb);

// Message words 0..length-1 of a thread: registers, then its IPC buffer. Each returns the
// length that could be moved: without a usable IPC buffer only the register words go.
uint64_t load_words(Tcb* thread, uint64_t* words, uint64_t length);
uint64_t store_words(Tcb* thread, const uint64_t* words, uint64_t length);

// Gathers the message a sender sends (its fault, if it has one).
void gather(Tcb* sender, Message& message);
// Delivers a gathered message (and its cap, if granted and valid) to a receiver.
void deliver(Tcb* receiver, const Message& message, uint64_t badge, Tcb* sender, bool can_grant);

// Copies message register `index` (0..7) of a register set.
uint64_t& message_register(arch::TrapFrame& regs, uint64_t index);

// Reads or writes user memory of `tcb` through its own page tables (checked on every page).
bool read_thread_memory(const Tcb* tcb, uint64_t address, void* buffer, uint64_t length);
bool write_thread_memory(const Tcb* tcb, uint64_t address, const void* buffer, uint64_t length);

}  // namespace kernel
