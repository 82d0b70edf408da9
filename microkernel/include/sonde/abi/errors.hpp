// SPDX-License-Identifier: MIT
// Native error codes: what a failed system call or capability invocation returns (negated) in rax.
#pragma once

#include <stdint.h>

namespace sonde::abi {

// One error space for every native call. A call returns -code in rax on failure. Codes 1..4
// are the errors of the system calls themselves; capability errors start at 16. Every code has one
// meaning, listed in docs/CAPABILITIES.md.
// clang-format off
enum class [[nodiscard]] Error : int64_t {
  kNone = 0,
  // System call level.
  kUnknownSyscall = 1,   // no such native call
  kInvalidArgument = 2,  // a word of the message is malformed (unknown object type, bad guard,
                         // undefined rights bits, data on a type that takes none)
  kBadAddress = 3,       // a user pointer is not mapped for the access
  kNotPermitted = 4,     // the call exists but this kernel or caller may not use it
  // Capability addressing.
  kInvalidCapability = 16,  // the invoked cptr names an empty slot
  kInvalidRoot = 17,        // a CNode argument (root, Retype's node) holds no CNode cap
  kDepthMismatch = 18,      // depth 0 or above 64, or the bits do not end exactly at a slot
  kGuardMismatch = 19,      // the cptr's bits do not match a CNode's guard on the way
  // Invocation.
  kInvalidLabel = 20,      // the label names no invocation at all
  kWrongType = 21,         // the label belongs to another object type than the invoked cap's
  kMissingRight = 22,      // a cap lacks a right the invocation needs
  kTruncatedMessage = 23,  // fewer message words than the label needs
  kRangeError = 24,        // a numeric argument is outside its range (sizes, counts, offsets)
  // Slots and the derivation tree.
  kSlotEmpty = 25,         // an argument slot holds no cap
  kSlotOccupied = 26,      // the destination slot already holds a cap (delete first)
  kRevokeFirst = 27,       // the untyped cap has children; revoke it before copying it
  kAlreadyBadged = 28,     // the endpoint or notification cap already carries a badge
  kIllegalOperation = 29,  // the operation is not defined for this cap
  // Memory.
  kNotEnoughMemory = 30,   // the untyped's free part cannot hold the requested objects
  // IPC and threads.
  kDeleted = 31,           // the endpoint, notification or reply the thread waited on is gone
  kWouldBlock = 32,        // a non-blocking Send or Recv found no partner
  kCancelled = 33,         // the call's Reply was reused, deleted or the server suspended it
  kNoReply = 34,           // the Reply cap is not bound to a waiting caller
  kThreadState = 35,       // the thread is in the wrong state (not configured; is the caller)
  // Address spaces.
  kAlreadyMapped = 36,     // the cap is mapped already, or the address has a mapping
  kMissingPageTable = 37,  // a paging structure on the way to the address is not mapped
  kNotMapped = 38,         // the frame cap has no mapping to change
  // Devices.
  kIrqInUse = 39,          // the interrupt line already has a handler cap
  kNoReceiver = 40,        // no cap with the Read right to the endpoint is left
};
// clang-format on

// The value a native call leaves in rax for `error`.
constexpr int64_t syscall_result(Error error) { return -static_cast<int64_t>(error); }

// A short name for logs and test output ("InvalidCapability").
constexpr const char* error_name(Error error) {
  switch (error) {
    case Error::kNone: return "None";
    case Error::kUnknownSyscall: return "UnknownSyscall";
    case Error::kInvalidArgument: return "InvalidArgument";
    case Error::kBadAddress: return "BadAddress";
    case Error::kNotPermitted: return "NotPermitted";
    case Error::kInvalidCapability: return "InvalidCapability";
    case Error::kInvalidRoot: return "InvalidRoot";
    case Error::kDepthMismatch: return "DepthMismatch";
    case Error::kGuardMismatch: return "GuardMismatch";
    case Error::kInvalidLabel: return "InvalidLabel";
    case Error::kWrongType: return "WrongType";
    case Error::kMissingRight: return "MissingRight";
    case Error::kTruncatedMessage: return "TruncatedMessage";
    case Error::kRangeError: return "RangeError";
    case Error::kSlotEmpty: return "SlotEmpty";
    case Error::kSlotOccupied: return "SlotOccupied";
    case Error::kRevokeFirst: return "RevokeFirst";
    case Error::kAlreadyBadged: return "AlreadyBadged";
    case Error::kIllegalOperation: return "IllegalOperation";
    case Error::kNotEnoughMemory: return "NotEnoughMemory";
    case Error::kDeleted: return "Deleted";
    case Error::kWouldBlock: return "WouldBlock";
    case Error::kCancelled: return "Cancelled";
    case Error::kNoReply: return "NoReply";
    case Error::kThreadState: return "ThreadState";
    case Error::kAlreadyMapped: return "AlreadyMapped";
    case Error::kMissingPageTable: return "MissingPageTable";
    case Error::kNotMapped: return "NotMapped";
    case Error::kIrqInUse: return "IrqInUse";
    case Error::kNoReceiver: return "NoReceiver";
  }
  return "Unknown";
}

}  // namespace sonde::abi
