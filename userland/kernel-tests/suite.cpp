// SPDX-License-Identifier: MIT
// The kernel-tests suite's shared state and helpers (declared in suite.hpp).
#include "suite.hpp"

#include "sys/root_toolkit.hpp"

namespace kernel_tests {

const abi::BootInfo* boot;
uint64_t next_slot;
uint64_t untyped;
int failures = 0;
uint64_t done_notification;

void report(const char* name, bool ok, const char* reason) {
  if (ok) {
    sys::print("TEST %s PASS\n", name);
  } else {
    sys::print("TEST %s FAIL %s\n", name, reason);
    ++failures;
  }
}

uint64_t new_slot() { return next_slot++; }

void must(Error error, const char* what) {
  if (error != Error::kNone) {
    sys::print("  setup failed: %s: %s\n", what, abi::error_name(error));
    ++failures;
  }
}

uint64_t make(ObjectType type, uint64_t size_bits) {
  uint64_t slot = 0;
  Error e = sys::retype_next(untyped, kRoot, next_slot, type, size_bits, slot);
  if (e != Error::kNone)
    sys::print("  retype of type %lu failed: %s\n", static_cast<uint64_t>(type),
               abi::error_name(e));
  return slot;
}

void must_mint(uint64_t root, uint64_t to, uint64_t from, uint64_t rights, uint64_t badge) {
  must(sys::cnode_mint(root, to, from, rights, badge), "mint");
}

void kill(uint64_t tcb) { must(sys::cnode_delete(kRoot, tcb), "delete TCB"); }

// ---- threads in the root task's address space ----

namespace {

struct alignas(abi::kIpcBufferAlign) ThreadMemory {
  abi::IpcBuffer buffer;
  alignas(16) uint8_t stack[16 * 1024];
};
ThreadMemory thread_memory[8];
unsigned next_memory = 0;

[[noreturn]] void thread_entry(ThreadFunction function, uint64_t argument) {
  function(argument);
  sys::thread_exit(0);
}

}  // namespace

uint64_t write_registers(uint64_t tcb, const abi::UserRegisters& registers, bool resume) {
  uint64_t words[1 + abi::kUserRegisterWords];
  words[0] = resume ? abi::tcb_message::kWriteResume : 0;
  const auto* in = reinterpret_cast<const uint64_t*>(&registers);
  for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[1 + i] = in[i];
  return static_cast<uint64_t>(sys::invoke(tcb, Label::kTcbWriteRegisters, words));
}

uint64_t spawn(ThreadFunction function, uint64_t argument, ThreadOptions options) {
  ThreadMemory& memory = thread_memory[next_memory++ % 8];
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t configure[] = {kRoot,
                          0,
                          kVSpace,
                          reinterpret_cast<uint64_t>(&memory.buffer),
                          options.fault_endpoint,
                          options.supervisor};
  Error e = sys::invoke(tcb, Label::kTcbConfigure, configure);
  if (e != Error::kNone) sys::print("  configure failed: %s\n", abi::error_name(e));
  must(sys::bind_ipc_buffer(tcb, &memory.buffer), "bind IPC buffer");
  uint64_t priority[] = {options.priority};
  must(sys::invoke(tcb, Label::kTcbSetPriority, priority), "set priority");
  if (options.linux_abi) {
    uint64_t value[] = {static_cast<uint64_t>(abi::ThreadAbi::kLinux)};
    must(sys::invoke(tcb, Label::kTcbSetAbi, value), "set ABI");
  }
  abi::UserRegisters registers{};
  registers.rip = reinterpret_cast<uint64_t>(&thread_entry);
  registers.rsp = reinterpret_cast<uint64_t>(memory.stack + sizeof(memory.stack)) - 8;
  registers.rflags = 0x202;
  registers.rdi = reinterpret_cast<uint64_t>(function);
  registers.rsi = argument;
  registers.fs_base = reinterpret_cast<uint64_t>(&memory.buffer);
  write_registers(tcb, registers, options.start);
  return tcb;
}

// ---- memory ----

abi::Error map_frame(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights) {
  uint64_t words[] = {vspace, address, rights};
  return sys::invoke(frame, Label::kFrameMap, words);
}
abi::Error map_table(uint64_t table, uint64_t vspace, uint64_t address) {
  uint64_t words[] = {vspace, address};
  return sys::invoke(table, Label::kPageTableMap, words);
}

void write_word(uint64_t address) { *reinterpret_cast<volatile uint64_t*>(address) = 1; }
void read_word(uint64_t address) { (void)*reinterpret_cast<volatile uint64_t*>(address); }

abi::Error map_anywhere(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights) {
  abi::Error e = map_frame(frame, vspace, address, rights);
  for (int level = 0; level < 3 && e == Error::kMissingPageTable; ++level) {
    must(map_table(make(ObjectType::kPageTable), vspace, address), "page table");
    e = map_frame(frame, vspace, address, rights);
  }
  return e;
}

// ---- faults ----

uint64_t fault_endpoint;
volatile uint64_t after_fault = 0;

[[gnu::noinline]] void touch_unmapped(uint64_t) {
  *reinterpret_cast<volatile uint64_t*>(0x100000000ull) = 1;
  after_fault = 1;  // reached only if the handler skips the store
}

sys::IpcResult receive_fault(uint64_t reply, abi::UserRegisters& registers, uint64_t& address,
                             uint64_t& detail) {
  sys::MessageRegisters mr;
  auto r = sys::recv(fault_endpoint, reply, mr);
  auto* words = reinterpret_cast<uint64_t*>(&registers);
  for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = sys::message_word(mr, i);
  address = sys::message_word(mr, abi::kFaultAddressWord);
  detail = sys::message_word(mr, abi::kFaultDetailWord);
  return r;
}

bool faults_at(ThreadFunction function, uint64_t address) {
  uint64_t reply = make(ObjectType::kReply);
  uint64_t thread =
      spawn(function, address,
            ThreadOptions{.priority = kRootPriority, .fault_endpoint = fault_endpoint});
  abi::UserRegisters registers;
  uint64_t fault_address = 0, detail = 0;
  auto r = receive_fault(reply, registers, fault_address, detail);
  sys::MessageRegisters mr;
  (void)sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), mr, 0);
  kill(thread);
  return r.error == Error::kNone && r.info.label == static_cast<uint64_t>(abi::FaultKind::kPage) &&
         fault_address == address;
}

// ---- breakpoints ----

uint64_t probe_endpoint;
uint64_t xol_page = 0;

uint64_t expected_sum(uint64_t calls) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < calls; ++i) sum += i + 1 + 1000;
  return sum;
}

abi::Error bind(uint64_t breakpoint, uint64_t vspace, uint64_t endpoint) {
  uint64_t words[] = {vspace, endpoint};
  return sys::invoke(breakpoint, Label::kBreakpointBind, words);
}
abi::Error insert(uint64_t breakpoint, uint64_t address, uint64_t length, uint64_t xol,
                  uint64_t fixup) {
  uint64_t words[] = {address, length, xol, fixup};
  return sys::invoke(breakpoint, Label::kBreakpointInsert, words);
}
abi::Error insert_call(uint64_t breakpoint, uint64_t address, uint64_t target, uint64_t length,
                       uint64_t xol) {
  uint64_t words[] = {address, length, xol, 0, target};
  return sys::invoke(breakpoint, Label::kBreakpointInsert, words);
}

}  // namespace kernel_tests

// probed_function (see suite.hpp).
asm(R"(
    .section .data
    .balign 8
    .globl probe_constant
probe_constant:
    .quad 1000
    .text
    .globl probed_function
    .globl probe_ordinary
    .globl probe_riprel
    .balign 16
probed_function:
    .byte 0x0f, 0x1f, 0x44, 0x00, 0x00
probe_ordinary:
    lea 1(%rdi), %rax
probe_riprel:
    add probe_constant(%rip), %rax
    ret

    // A rip-relative load from a word in the window (breakpoints.cpp takes its page away at
    // each hit), with rcx set to a known value before it. probe_window_word is the linker's
    // (--defsym in meson.build): an address the assembler knew would be taken as displacement.
    .globl probe_window_entry
    .globl probe_window_load
probe_window_entry:
    mov $0x1234, %ecx
probe_window_load:
    mov probe_window_word(%rip), %rax
    ret

    .section .data
    .balign 8
    .globl call_probe_calls
call_probe_calls:
    .quad 0
    .text
    .globl call_probe_target
call_probe_target:
    lock incq call_probe_calls(%rip)
    ret
)");
