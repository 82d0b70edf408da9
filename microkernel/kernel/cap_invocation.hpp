// SPDX-License-Identifier: MIT
// Invocation dispatch: from (CSpace root, cptr, label, message words) to decode and invoke.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/cap.hpp"
#include "sonde/abi/invocations.hpp"

namespace kernel {

// What the syscall layer hands over: the label and message words it read from the caller's
// registers and IPC buffer.
struct Invocation {
  sonde::abi::Label label = sonde::abi::Label::kInvalid;
  const uint64_t* words = nullptr;
  size_t word_count = 0;
  // Where an invocation that returns words (TCB ReadRegisters) puts them; may be null.
  uint64_t* output = nullptr;
  size_t output_capacity = 0;
  size_t* output_count = nullptr;
};

// Object types whose invocations live outside the capability core (TCB, VSpace, ...) register
// a handler; it gets the resolved, type-checked slot and must decode fully before changing
// anything.
using InvocationHandler = Error (*)(const Capability& cspace_root, Slot* slot,
                                    const Invocation& invocation);
void set_invocation_handler(ObjectType type, InvocationHandler handler);

// The object type a label belongs to (kNull for labels that name nothing).
ObjectType label_object_type(sonde::abi::Label label);

// Resolves `cptr` in the CSpace whose root is `cspace_root`, checks the label against the cap
// type, decodes, and (only if decoding succeeded) invokes. Returns Error::kNone or the first
// error found; on error nothing has changed.
Error invoke_capability(const Capability& cspace_root, uint64_t cptr, const Invocation& invocation);

}  // namespace kernel
