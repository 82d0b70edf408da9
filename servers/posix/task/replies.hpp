// SPDX-License-Identifier: MIT
// Reply objects: the one the server receives with, the ones blocked calls hold, and answers.
#pragma once

#include <stdint.h>

#include "task/process.hpp"

namespace posix {

void init_replies(uint64_t first);
// The Reply the next receive binds.
uint64_t receive_reply();
// The receive Reply now belongs to a blocked call: returns it and takes a fresh one.
uint64_t detach_receive_reply();
void return_reply(uint64_t reply);

// Answers a system call: rax = result, or every register when the handler replaced them.
void answer(uint64_t reply, const SyscallContext& context, int64_t result);

// Ends the machine (after init exits): QEMU's debug-exit port, else the thread stops.
void init_power(uint64_t exit_ports);
[[noreturn]] void power_off(int status);

}  // namespace posix
