// SPDX-License-Identifier: MIT
// TCB: thread life cycle, user register conversion, and the invocations (configure, priority,
// registers, suspend and resume, ABI, affinity, TLS, trace identity).
#include "kernel/tcb.hpp"

#include "arch/x86_64/cpu.hpp"
#include "kernel/breakpoint.hpp"
#include "kernel/cap_invocation.hpp"
#include "kernel/cdt.hpp"
#include "kernel/cnode.hpp"
#include "kernel/endpoint.hpp"
#include "kernel/memory.hpp"
#include "kernel/page_table.hpp"
#include "kernel/scheduler.hpp"
#include "kernel/smp.hpp"
#include "sonde/abi/invocations.hpp"

namespace kernel {

namespace abi = sonde::abi;
using abi::Label;

namespace {

// A checked TCB invocation, ready to run.
struct TcbOperation {
  Label label = Label::kInvalid;
  Tcb* tcb = nullptr;
  bool on_caller = false;  // the invoked thread is the caller (SetTls loads fs at once)
  // Configure: the caps to install (null: none) and the IPC buffer.
  Slot* cspace = nullptr;
  Capability cspace_copy;
  Slot* vspace = nullptr;
  Slot* fault_endpoint = nullptr;
  Slot* supervisor = nullptr;
  uint64_t ipc_buffer = 0;
  // SetPriority, SetMaxPriority, SetAbi, SetAffinity, SetTls: the new value; SetTraceIdentity:
  // its flags.
  uint64_t value = 0;
  // WriteRegisters.
  abi::UserRegisters registers{};
  bool resume = false;
  // ReadRegisters, ReadFpu: where the words go.
  uint64_t* output = nullptr;
  size_t* output_count = nullptr;
  // WriteFpu: the legacy area in the invocation's words (checked).
  const uint64_t* fpu_area = nullptr;
  // SetTraceIdentity.
  abi::TraceIdentity trace{};
};

// The MXCSR bits the CPU accepts (fxsave's MXCSR_MASK; 0 there means the default 0xffbf).
// fxrstor of an MXCSR with another bit set faults, so WriteFpu refuses it.
uint32_t mxcsr_mask = 0xffbf;

// The components TCB ReadFpu reports and WriteFpu takes.
constexpr uint64_t kFpuFeatures = abi::tcb_message::kFpuX87 | abi::tcb_message::kFpuSse;

void read_mxcsr_mask() {
  alignas(16) uint8_t area[512] = {};
  asm volatile("fxsave64 %0" : "=m"(area));
  uint32_t mask;
  __builtin_memcpy(&mask, area + abi::tcb_message::kFpuMxcsrMaskOffset, sizeof(mask));
  if (mask != 0) mxcsr_mask = mask;
}

// A cap argument: an optional (cptr 0 = none) cap of `type` with `rights`, to be copied.
Error optional_cap(const Capability& cspace_root, uint64_t cptr, ObjectType type, uint64_t rights,
                   Slot*& slot) {
  slot = nullptr;
  if (cptr == 0) return Error::kNone;
  return lookup_cap_argument(cspace_root, cptr, type, rights, slot);
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

Error decode_configure(const Capability& cspace_root, const uint64_t* words, size_t count,
                       TcbOperation& operation) {
  namespace m = abi::tcb_message;
  if (count < m::kConfigureLength) return Error::kTruncatedMessage;
  Slot* cspace = nullptr;
  Error error = lookup_cap_slot(cspace_root, words[m::kCSpaceRoot], cspace);
  if (error != Error::kNone) return error;
  if (cspace->type() != ObjectType::kCNode) return Error::kInvalidRoot;
  bool mint = words[m::kCSpaceRootData] != 0;
  error = derive_cap(*cspace, mint, abi::kRightsAll, words[m::kCSpaceRootData], true,
                     operation.cspace_copy);
  if (error != Error::kNone) return error;
  operation.cspace = cspace;
  error =
      lookup_cap_argument(cspace_root, words[m::kVSpace], ObjectType::kVSpace, 0, operation.vspace);
  if (error != Error::kNone) return error;
  uint64_t buffer = words[m::kIpcBuffer];
  if (buffer % abi::kIpcBufferAlign != 0 || buffer >= page::kUserTop) {
    return Error::kInvalidArgument;
  }
  operation.ipc_buffer = buffer;
  error = optional_cap(cspace_root, words[m::kFaultEndpoint], ObjectType::kEndpoint,
                       abi::kRightWrite, operation.fault_endpoint);
  if (error != Error::kNone) return error;
  return optional_cap(cspace_root, words[m::kSupervisor], ObjectType::kNotification,
                      abi::kRightWrite, operation.supervisor);
}

void invoke_configure(const TcbOperation& operation) {
  Tcb* tcb = operation.tcb;
  Slot* fault_endpoint = operation.fault_endpoint;
  Slot* supervisor = operation.supervisor;
  install(&tcb->cspace_root, operation.cspace, operation.cspace_copy);
  install(&tcb->vspace, operation.vspace, operation.vspace->cap);
  // The thread only sends to its fault endpoint: its copy has no Read right, so it never
  // counts as a receiver (Endpoint::receivers).
  Capability fault_cap = fault_endpoint ? fault_endpoint->cap : Capability{};
  fault_cap.rights &= abi::kRightWrite;
  install(&tcb->fault_endpoint, fault_endpoint, fault_cap);
  install(&tcb->supervisor, supervisor, supervisor ? supervisor->cap : Capability{});
  tcb->ipc_buffer = operation.ipc_buffer;
}

void suspend(Tcb* tcb) {
  bool was_blocked = tcb->state != ThreadState::kRunning && tcb->state != ThreadState::kInactive;
  // A fault its handler has not received yet is taken back: the thread is left where it was
  // before the faulting instruction, so Resume faults again (a handler that suspends threads
  // asynchronously, the POSIX server's signals, never loses a system call it did not see).
  bool unreceived_fault = tcb->fault_kind != 0 && tcb->state == ThreadState::kBlockedOnSend;
  uint64_t kind = tcb->fault_kind;
  breakpoint_drop_paused_step(tcb);  // a page fault's paused step: back to the probe
  ipc_cancel(tcb);
  tcb->fault_kind = 0;
  if (unreceived_fault) {
    // Page faults and exceptions left rip at the instruction; `syscall` (0f 05) and a probe's
    // int3 left it after theirs.
    if (kind == static_cast<uint64_t>(abi::FaultKind::kForeignSyscall)) tcb->regs.rip -= 2;
    if (kind == static_cast<uint64_t>(abi::FaultKind::kBreakpoint)) {
      tcb->regs.rip = tcb->probe_address;
    }
    return;
  }
  // An IPC the thread was blocked in ends with Cancelled when it is resumed.
  if (was_blocked) tcb->regs.rax = static_cast<uint64_t>(abi::syscall_result(Error::kCancelled));
  // A thread running on another CPU stops there before Suspend returns: that CPU has entered
  // the kernel (its registers are in the TCB) and saved its FPU state, so ReadRegisters,
  // ReadFpu and WriteRegisters see and change the thread as it stopped (a signal handler's
  // frame is built on its real stack pointer).
  int on = running_on(tcb);
  if (on >= 0 && static_cast<unsigned>(on) != this_cpu().index)
    save_fpu_on(static_cast<unsigned>(on));
}

// Checks a TCB invocation on the TCB cap in `slot`; fills `operation` or returns the first
// error.
Error decode_tcb_invocation(const Capability& cspace_root, Slot* slot, const Invocation& invocation,
                            TcbOperation& operation) {
  namespace m = abi::tcb_message;
  auto* tcb = reinterpret_cast<Tcb*>(slot->cap.object);
  Tcb* caller = current_thread();
  const uint64_t* words = invocation.words;
  size_t count = invocation.word_count;
  operation = TcbOperation{};
  operation.label = invocation.label;
  operation.tcb = tcb;
  operation.on_caller = tcb == caller;
  bool reads = invocation.label == Label::kTcbReadRegisters ||
               invocation.label == Label::kTcbReadFpu || invocation.label == Label::kTcbReadCpuTime;
  if (!has_rights(slot->cap, reads ? abi::kRightRead : abi::kRightWrite)) {
    return Error::kMissingRight;
  }
  switch (invocation.label) {
    case Label::kTcbConfigure: return decode_configure(cspace_root, words, count, operation);
    case Label::kTcbSetPriority:
    case Label::kTcbSetMaxPriority: {
      if (count < 1) return Error::kTruncatedMessage;
      uint64_t ceiling = caller != nullptr ? caller->max_priority : 0;
      if (words[m::kPriority] > ceiling) return Error::kRangeError;
      operation.value = words[m::kPriority];
      return Error::kNone;
    }
    case Label::kTcbReadRegisters:
      if (tcb == caller) return Error::kThreadState;
      if (invocation.output == nullptr || invocation.output_capacity < abi::kUserRegisterWords) {
        return Error::kRangeError;
      }
      operation.output = invocation.output;
      operation.output_count = invocation.output_count;
      return Error::kNone;
    case Label::kTcbWriteRegisters: {
      if (count < 1 + abi::kUserRegisterWords) return Error::kTruncatedMessage;
      if (tcb == caller) return Error::kThreadState;
      uint64_t flags = words[m::kWriteFlags];
      if ((flags & ~m::kWriteResume) != 0) return Error::kInvalidArgument;
      operation.resume = (flags & m::kWriteResume) != 0;
      if (operation.resume && (tcb->vspace.empty() || tcb->cspace_root.empty())) {
        return Error::kThreadState;
      }
      auto* in = reinterpret_cast<uint64_t*>(&operation.registers);
      for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) in[i] = words[1 + i];
      if (!user_registers_valid(operation.registers)) return Error::kInvalidArgument;
      return Error::kNone;
    }
    case Label::kTcbReadCpuTime:
      if (invocation.output == nullptr || invocation.output_capacity < m::kCpuTimeLength) {
        return Error::kRangeError;
      }
      operation.output = invocation.output;
      operation.output_count = invocation.output_count;
      return Error::kNone;
    case Label::kTcbReadFpu:
      if (tcb == caller || !fpu_state_in_tcb(tcb)) return Error::kThreadState;
      if (invocation.output == nullptr || invocation.output_capacity < m::kFpuLength) {
        return Error::kRangeError;
      }
      operation.output = invocation.output;
      operation.output_count = invocation.output_count;
      return Error::kNone;
    case Label::kTcbWriteFpu: {
      if (count < m::kFpuLength) return Error::kTruncatedMessage;
      if (tcb == caller || !fpu_state_in_tcb(tcb)) return Error::kThreadState;
      if (words[m::kFpuFeatures] != kFpuFeatures) return Error::kInvalidArgument;
      const uint64_t* area = &words[m::kFpuArea];
      // MXCSR is the low half of the area's word 3 (byte 24).
      auto mxcsr = static_cast<uint32_t>(area[m::kFpuMxcsrOffset / 8]);
      if ((mxcsr & ~mxcsr_mask) != 0) return Error::kInvalidArgument;
      operation.fpu_area = area;
      return Error::kNone;
    }
    case Label::kTcbResume:
      if (tcb->vspace.empty() || tcb->cspace_root.empty()) return Error::kThreadState;
      return Error::kNone;
    case Label::kTcbSuspend: return Error::kNone;
    case Label::kTcbSetAbi:
      if (count < 1) return Error::kTruncatedMessage;
      if (words[m::kValue] > static_cast<uint64_t>(abi::ThreadAbi::kLinux)) {
        return Error::kInvalidArgument;
      }
      operation.value = words[m::kValue];
      return Error::kNone;
    case Label::kTcbSetAffinity:
      if (count < 1) return Error::kTruncatedMessage;
      if (words[m::kValue] >= cpu_count()) return Error::kRangeError;
      operation.value = words[m::kValue];
      return Error::kNone;
    case Label::kTcbSetTraceIdentity:
      if (count < m::kTraceLength) return Error::kTruncatedMessage;
      if ((words[m::kTraceFlags] & ~m::kTraceContinues) != 0) return Error::kInvalidArgument;
      operation.trace = abi::TraceIdentity{words[m::kTraceIds],
                                           {words[m::kTraceComm], words[m::kTraceComm + 1]},
                                           words[m::kTraceTask]};
      operation.value = words[m::kTraceFlags];
      return Error::kNone;
    case Label::kTcbSetTls:
      if (count < 1) return Error::kTruncatedMessage;
      if (words[m::kValue] >= page::kUserTop) return Error::kInvalidArgument;
      operation.value = words[m::kValue];
      return Error::kNone;
    default: return Error::kInvalidLabel;
  }
}

// Runs a decoded TCB invocation; cannot fail.
void invoke_tcb(const TcbOperation& operation) {
  Tcb* tcb = operation.tcb;
  switch (operation.label) {
    case Label::kTcbConfigure: invoke_configure(operation); return;
    case Label::kTcbSetPriority:
      thread_set_priority(tcb, static_cast<uint8_t>(operation.value));
      return;
    case Label::kTcbSetMaxPriority:
      tcb->max_priority = static_cast<uint8_t>(operation.value);
      return;
    case Label::kTcbReadRegisters: {
      abi::UserRegisters registers;
      registers_to_user(*tcb, registers);
      const auto* out = reinterpret_cast<const uint64_t*>(&registers);
      for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) operation.output[i] = out[i];
      *operation.output_count = abi::kUserRegisterWords;
      return;
    }
    case Label::kTcbWriteRegisters:
      write_user_registers(*tcb, operation.registers);
      if (operation.resume && tcb->state == ThreadState::kInactive) thread_make_runnable(tcb);
      return;
    case Label::kTcbReadCpuTime:
      operation.output[abi::tcb_message::kCpuTimeNs] = sched_trace_task_ns(tcb);
      operation.output[abi::tcb_message::kCpuTimeUserTicks] = tcb->user_ticks;
      operation.output[abi::tcb_message::kCpuTimeSystemTicks] = tcb->system_ticks;
      *operation.output_count = abi::tcb_message::kCpuTimeLength;
      return;
    case Label::kTcbReadFpu:
      operation.output[abi::tcb_message::kFpuFeatures] = kFpuFeatures;
      __builtin_memcpy(&operation.output[abi::tcb_message::kFpuArea], tcb->fpu, sizeof(tcb->fpu));
      *operation.output_count = abi::tcb_message::kFpuLength;
      return;
    case Label::kTcbWriteFpu:
      // Not any CPU's live state (decode checked): the thread's next switch loads it.
      __builtin_memcpy(tcb->fpu, operation.fpu_area, sizeof(tcb->fpu));
      return;
    case Label::kTcbResume:
      if (tcb->state == ThreadState::kInactive) thread_make_runnable(tcb);
      return;
    case Label::kTcbSuspend: suspend(tcb); return;
    case Label::kTcbSetAbi: tcb->abi = static_cast<uint8_t>(operation.value); return;
    case Label::kTcbSetAffinity: thread_set_cpu(tcb, static_cast<uint8_t>(operation.value)); return;
    case Label::kTcbSetTraceIdentity:
      sched_trace_set_identity(tcb, operation.trace,
                               (operation.value & abi::tcb_message::kTraceContinues) != 0);
      return;
    case Label::kTcbSetTls:
      tcb->fs_base = operation.value;
      if (operation.on_caller) arch::write_msr(arch::kMsrFsBase, tcb->fs_base);
      return;
    default: return;
  }
}

Error handle_tcb_invocation(const Capability& cspace_root, Slot* slot,
                            const Invocation& invocation) {
  TcbOperation operation;
  Error error = decode_tcb_invocation(cspace_root, slot, invocation, operation);
  if (error == Error::kNone) invoke_tcb(operation);
  return error;
}

}  // namespace

void thread_created(Tcb* tcb) {
  // fxsave layout: FCW at 0 (all x87 exceptions masked), MXCSR at 24 (all SSE ones masked).
  tcb->fpu[0] = 0x7f;
  tcb->fpu[1] = 0x03;
  tcb->fpu[24] = 0x80;
  tcb->fpu[25] = 0x1f;
  tcb->state = ThreadState::kInactive;
  tcb->ticks_left = kTimeSliceTicks;
  tcb->regs.cs = arch::kUserCode;
  tcb->regs.ss = arch::kUserData;
  tcb->regs.rflags = 0x202;
  thread_set_name(tcb, "thread");
}

void thread_destroyed(Tcb* tcb) { scheduler_remove(tcb); }

void address_space_destroyed(uintptr_t pml4_virtual) {
  uint64_t table = pml4_virtual - kDirectMapBase;
  PerCpu& cpu = this_cpu();
  if (table == cpu.loaded_page_table) {
    cpu.loaded_page_table = kernel_page_table_root();
    arch::write_cr3(cpu.loaded_page_table);
  }
  shootdown(table, true);
}

void thread_set_name(Tcb* tcb, const char* name) {
  size_t i = 0;
  for (; name[i] != '\0' && i + 1 < sizeof(tcb->name); ++i) tcb->name[i] = name[i];
  tcb->name[i] = '\0';
}

void registers_to_user(const Tcb& tcb, abi::UserRegisters& out) {
  const arch::TrapFrame& r = tcb.regs;
  out = abi::UserRegisters{r.rip, r.rsp, r.rflags, r.rax, r.rbx,      r.rcx, r.rdx,
                           r.rsi, r.rdi, r.rbp,    r.r8,  r.r9,       r.r10, r.r11,
                           r.r12, r.r13, r.r14,    r.r15, tcb.fs_base};
}

bool user_registers_valid(const abi::UserRegisters& in) {
  // A user rip or fs base in the kernel half, or a stack pointer the CPU cannot return to,
  // is refused here; a thread that makes its own rsp non-canonical is caught on the way out
  // (interrupt_dispatch).
  if (in.rip >= page::kUserTop || in.fs_base >= page::kUserTop || !page::is_canonical(in.rsp)) {
    return false;
  }
  return true;
}

void write_user_registers(Tcb& tcb, const abi::UserRegisters& in) {
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
  // Not a syscall's frame any more: the thread leaves by iretq, which restores rcx and r11
  // (sysretq would load them with rip and rflags).
  r.vector = 0;
  tcb.fs_base = in.fs_base;
}

bool registers_from_user(Tcb& tcb, const abi::UserRegisters& in) {
  if (!user_registers_valid(in)) return false;
  write_user_registers(tcb, in);
  return true;
}

uint64_t cpu_count() { return cpus_online(); }

void tcb_invocations_init() {
  read_mxcsr_mask();
  set_invocation_handler(ObjectType::kTcb, handle_tcb_invocation);
}

}  // namespace kernel
