// TCB invocations: configure, priority, registers, suspend and resume, ABI, affinity, TLS.
#include "kernel/tcb.hpp"

#include "arch/x86_64/cpu.hpp"
#include "kernel/cap_invocation.hpp"
#include "kernel/cdt.hpp"
#include "kernel/cnode.hpp"
#include "kernel/ipc.hpp"
#include "kernel/page_table.hpp"
#include "kernel/smp.hpp"
#include "sonde/abi/invocations.hpp"

namespace kernel {

namespace abi = sonde::abi;
using abi::Label;

namespace {

// A cap argument: an optional (cptr 0 = none) cap of `type` with `rights`, to be copied.
Error optional_cap(const Capability& cspace_root, uint64_t cptr, ObjectType type,
                   uint64_t rights, Slot*& slot) {
  slot = nullptr;
  if (cptr == 0) return Error::kNone;
  Error error = lookup_cap_slot(cspace_root, cptr, slot);
  if (error != Error::kNone) return error;
  if (slot->empty()) return Error::kSlotEmpty;
  if (slot->type() != type) return Error::kWrongType;
  if (!has_rights(slot->cap, rights)) return Error::kMissingRight;
  return Error::kNone;
}

// Replaces the cap in one of the TCB's own slots by a copy of `source` (or empties it). The
// old cap moves to a scratch slot first, so deleting it (which may destroy objects, even the
// CNode `source` lives in) happens after the new cap is safely in the tree.
void install(Slot* own, Slot* source, const Capability& derived) {
  Slot scratch;
  bool had_old = !own->empty();
  if (had_old) cdt_move(own, &scratch);
  if (source != nullptr) cdt_insert_copy(source, own, derived);
  if (had_old) delete_cap(&scratch);
}

Error configure(const Capability& cspace_root, Tcb* tcb, const uint64_t* words, size_t count) {
  namespace m = abi::tcb_message;
  if (count < m::kConfigureLength) return Error::kTruncatedMessage;
  Slot* cspace = nullptr;
  Error error = lookup_cap_slot(cspace_root, words[m::kCSpaceRoot], cspace);
  if (error != Error::kNone) return error;
  if (cspace->type() != ObjectType::kCNode) return Error::kInvalidRoot;
  Capability cspace_copy;
  bool mint = words[m::kCSpaceRootData] != 0;
  error = derive_cap(*cspace, mint, abi::kRightsAll, words[m::kCSpaceRootData], true, cspace_copy);
  if (error != Error::kNone) return error;
  Slot* vspace = nullptr;
  error = lookup_cap_slot(cspace_root, words[m::kVSpace], vspace);
  if (error != Error::kNone) return error;
  if (vspace->empty()) return Error::kSlotEmpty;
  if (vspace->type() != ObjectType::kVSpace) return Error::kWrongType;
  uint64_t buffer = words[m::kIpcBuffer];
  if (buffer % abi::kIpcBufferAlign != 0 || buffer >= page::kUserTop) {
    return Error::kInvalidArgument;
  }
  Slot* fault_endpoint = nullptr;
  error = optional_cap(cspace_root, words[m::kFaultEndpoint], ObjectType::kEndpoint,
                       abi::kRightWrite, fault_endpoint);
  if (error != Error::kNone) return error;
  Slot* supervisor = nullptr;
  error = optional_cap(cspace_root, words[m::kSupervisor], ObjectType::kNotification,
                       abi::kRightWrite, supervisor);
  if (error != Error::kNone) return error;

  // Decoded: from here on nothing fails.
  install(&tcb->cspace_root, cspace, cspace_copy);
  install(&tcb->vspace, vspace, vspace->cap);
  // The thread only sends to its fault endpoint: its copy has no Read right, so it never
  // counts as a receiver (Endpoint::receivers).
  Capability fault_cap = fault_endpoint ? fault_endpoint->cap : Capability{};
  fault_cap.rights &= abi::kRightWrite;
  install(&tcb->fault_endpoint, fault_endpoint, fault_cap);
  install(&tcb->supervisor, supervisor, supervisor ? supervisor->cap : Capability{});
  tcb->ipc_buffer = buffer;
  return Error::kNone;
}

void suspend(Tcb* tcb) {
  bool was_blocked = tcb->state != ThreadState::kRunning && tcb->state != ThreadState::kInactive;
  ipc_cancel(tcb);
  tcb->fault_kind = 0;
  // An IPC the thread was blocked in ends with Cancelled when it is resumed.
  if (was_blocked) tcb->regs.rax = static_cast<uint64_t>(abi::syscall_result(Error::kCancelled));
}

Error invoke_tcb(const Capability& cspace_root, Slot* slot, const Invocation& invocation) {
  namespace m = abi::tcb_message;
  auto* tcb = reinterpret_cast<Tcb*>(slot->cap.object);
  Tcb* caller = current_thread();
  const uint64_t* words = invocation.words;
  size_t count = invocation.word_count;
  bool reads = invocation.label == Label::kTcbReadRegisters;
  if (!has_rights(slot->cap, reads ? abi::kRightRead : abi::kRightWrite)) {
    return Error::kMissingRight;
  }
  switch (invocation.label) {
    case Label::kTcbConfigure: return configure(cspace_root, tcb, words, count);
    case Label::kTcbSetPriority:
    case Label::kTcbSetMaxPriority: {
      if (count < 1) return Error::kTruncatedMessage;
      uint64_t ceiling = caller != nullptr ? caller->max_priority : 0;
      if (words[m::kPriority] > ceiling) return Error::kRangeError;
      if (invocation.label == Label::kTcbSetMaxPriority) {
        tcb->max_priority = static_cast<uint8_t>(words[m::kPriority]);
      } else {
        thread_set_priority(tcb, static_cast<uint8_t>(words[m::kPriority]));
      }
      return Error::kNone;
    }
    case Label::kTcbReadRegisters: {
      if (tcb == caller) return Error::kThreadState;
      if (invocation.output == nullptr || invocation.output_capacity < abi::kUserRegisterWords) {
        return Error::kRangeError;
      }
      abi::UserRegisters registers;
      registers_to_user(*tcb, registers);
      const auto* out = reinterpret_cast<const uint64_t*>(&registers);
      for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) invocation.output[i] = out[i];
      *invocation.output_count = abi::kUserRegisterWords;
      return Error::kNone;
    }
    case Label::kTcbWriteRegisters: {
      if (count < 1 + abi::kUserRegisterWords) return Error::kTruncatedMessage;
      if (tcb == caller) return Error::kThreadState;
      uint64_t flags = words[m::kWriteFlags];
      if ((flags & ~m::kWriteResume) != 0) return Error::kInvalidArgument;
      bool resume = (flags & m::kWriteResume) != 0;
      if (resume && (tcb->vspace.empty() || tcb->cspace_root.empty())) return Error::kThreadState;
      abi::UserRegisters registers;
      auto* in = reinterpret_cast<uint64_t*>(&registers);
      for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) in[i] = words[1 + i];
      if (!registers_from_user(*tcb, registers)) return Error::kInvalidArgument;
      if (resume && tcb->state == ThreadState::kInactive) thread_make_runnable(tcb);
      return Error::kNone;
    }
    case Label::kTcbResume:
      if (tcb->vspace.empty() || tcb->cspace_root.empty()) return Error::kThreadState;
      if (tcb->state == ThreadState::kInactive) thread_make_runnable(tcb);
      return Error::kNone;
    case Label::kTcbSuspend:
      suspend(tcb);
      return Error::kNone;
    case Label::kTcbSetAbi:
      if (count < 1) return Error::kTruncatedMessage;
      if (words[m::kValue] > static_cast<uint64_t>(abi::ThreadAbi::kLinux)) {
        return Error::kInvalidArgument;
      }
      tcb->abi = static_cast<uint8_t>(words[m::kValue]);
      return Error::kNone;
    case Label::kTcbSetAffinity:
      if (count < 1) return Error::kTruncatedMessage;
      if (words[m::kValue] >= cpu_count()) return Error::kRangeError;
      thread_set_cpu(tcb, static_cast<uint8_t>(words[m::kValue]));
      return Error::kNone;
    case Label::kTcbSetTls:
      if (count < 1) return Error::kTruncatedMessage;
      if (words[m::kValue] >= page::kUserTop) return Error::kInvalidArgument;
      tcb->fs_base = words[m::kValue];
      if (tcb == caller) arch::write_msr(arch::kMsrFsBase, tcb->fs_base);
      return Error::kNone;
    default:
      return Error::kInvalidLabel;
  }
}

}  // namespace

uint64_t cpu_count() { return cpus_online(); }

void tcb_invocations_init() { set_invocation_handler(ObjectType::kTcb, invoke_tcb); }

}  // namespace kernel
