// SPDX-License-Identifier: MIT
// Invocation dispatch: label to object type, then the type's decode and invoke.
#include "kernel/cap_invocation.hpp"

#include "kernel/cnode.hpp"
#include "kernel/untyped.hpp"

namespace kernel {

namespace abi = sonde::abi;
using abi::Label;

namespace {
InvocationHandler handlers[static_cast<size_t>(ObjectType::kCount)];
}  // namespace

void set_invocation_handler(ObjectType type, InvocationHandler handler) {
  if (static_cast<size_t>(type) < static_cast<size_t>(ObjectType::kCount)) {
    handlers[static_cast<size_t>(type)] = handler;
  }
}

ObjectType label_object_type(Label label) {
  switch (label) {
    case Label::kCNodeCopy:
    case Label::kCNodeMint:
    case Label::kCNodeMove:
    case Label::kCNodeMutate:
    case Label::kCNodeDelete:
    case Label::kCNodeRevoke: return ObjectType::kCNode;
    case Label::kUntypedRetype: return ObjectType::kUntyped;
    case Label::kTcbConfigure:
    case Label::kTcbSetPriority:
    case Label::kTcbReadRegisters:
    case Label::kTcbWriteRegisters:
    case Label::kTcbResume:
    case Label::kTcbSuspend:
    case Label::kTcbSetAbi:
    case Label::kTcbSetAffinity:
    case Label::kTcbSetTls:
    case Label::kTcbSetMaxPriority:
    case Label::kTcbReadFpu:
    case Label::kTcbWriteFpu:
    case Label::kTcbSetTraceIdentity:
    case Label::kTcbReadCpuTime: return ObjectType::kTcb;
    case Label::kIrqControlGet: return ObjectType::kIrqControl;
    case Label::kNotificationSetTimer: return ObjectType::kNotification;
    case Label::kIrqHandlerSetNotification:
    case Label::kIrqHandlerAck: return ObjectType::kIrqHandler;
    case Label::kIoPortsIn8:
    case Label::kIoPortsIn16:
    case Label::kIoPortsIn32:
    case Label::kIoPortsOut8:
    case Label::kIoPortsOut16:
    case Label::kIoPortsOut32:
    case Label::kIoPortsIssue: return ObjectType::kIoPorts;
    case Label::kVSpaceMapForeign:
    case Label::kVSpaceUnmapForeign: return ObjectType::kVSpace;
    case Label::kFrameMap:
    case Label::kFrameUnmap:
    case Label::kFrameRemap:
    case Label::kFrameGetAddress: return ObjectType::kFrame;
    case Label::kPageTableMap:
    case Label::kPageTableUnmap: return ObjectType::kPageTable;
    case Label::kBreakpointBind:
    case Label::kBreakpointInsert:
    case Label::kBreakpointRemove:
    case Label::kBreakpointBindKernel: return ObjectType::kBreakpoint;
    default: return ObjectType::kNull;
  }
}

Error invoke_capability(const Capability& cspace_root, uint64_t cptr,
                        const Invocation& invocation) {
  Slot* slot = nullptr;
  Error error = lookup_cap_slot(cspace_root, cptr, slot);
  if (error != Error::kNone) return error;
  if (slot->empty()) return Error::kInvalidCapability;
  ObjectType wanted = label_object_type(invocation.label);
  if (wanted == ObjectType::kNull) return Error::kInvalidLabel;
  if (slot->type() != wanted) return Error::kWrongType;

  switch (wanted) {
    case ObjectType::kCNode: {
      CNodeOperation operation;
      error = decode_cnode_invocation(cspace_root, slot->cap, invocation.label, invocation.words,
                                      invocation.word_count, operation);
      if (error == Error::kNone) invoke_cnode(operation);
      return error;
    }
    case ObjectType::kUntyped: {
      RetypeOperation operation;
      error = decode_untyped_invocation(cspace_root, slot, invocation.label, invocation.words,
                                        invocation.word_count, operation);
      if (error == Error::kNone) invoke_untyped(operation);
      return error;
    }
    default: {
      InvocationHandler handler = handlers[static_cast<size_t>(wanted)];
      if (handler == nullptr) return Error::kInvalidLabel;
      return handler(cspace_root, slot, invocation);
    }
  }
}

}  // namespace kernel
