// SPDX-License-Identifier: MIT
// Microkernel benchmarks, run as the root task of kernel-bench.iso by tools/bench: a bare
// entry and exit (an unknown call number), the null call, an IPC Call/ReplyRecv round trip between
// two address spaces, a ForeignSyscall round trip (a Linux-ABI thread's `syscall` to its handler
// and the SetResult reply), and a breakpoint round trip (hit, handler reply, resume). Prints `BENCH
// <name> <tsc ticks per operation>` lines and a calibration line (instructions per TSC tick,
// meaningful when QEMU runs with -icount).
#include <stddef.h>
#include <stdint.h>

#include "sys/ipc.hpp"
#include "sys/root_toolkit.hpp"
#include "sys/syscall.hpp"

namespace {

namespace abi = sonde::abi;
using abi::Error;
using abi::Label;
using abi::ObjectType;

constexpr uint64_t kRoot = abi::kSlotRootCNode;
constexpr uint64_t kSelf = abi::kSlotRootTcb;
constexpr uint64_t kVSpace = abi::kSlotRootVSpace;
constexpr uint64_t kRounds = 20000;

uint64_t next_slot;
uint64_t untyped;
bool failed = false;

uint64_t rdtsc() {
  uint32_t low, high;
  asm volatile("lfence; rdtsc" : "=a"(low), "=d"(high) : : "memory");
  return (uint64_t{high} << 32) | low;
}

void check(Error error, const char* what) {
  if (error != Error::kNone) {
    sys::print("kernel-bench: %s failed: %s\n", what, abi::error_name(error));
    failed = true;
  }
}

uint64_t make(ObjectType type, uint64_t size_bits = 0) {
  uint64_t slot = 0;
  check(sys::retype_next(untyped, kRoot, next_slot, type, size_bits, slot), "retype");
  return slot;
}

Error invoke(uint64_t cptr, Label label, const uint64_t* words, size_t count) {
  return sys::invoke(cptr, label, words, count);
}

// Instructions per TSC tick: a loop of exactly 2 * n instructions (dec, jnz).
void calibrate() {
  constexpr uint64_t n = 1000000;
  uint64_t start = rdtsc();
  asm volatile("mov %0, %%rcx\n1: dec %%rcx\n jnz 1b" : : "r"(n) : "rcx", "cc");
  uint64_t ticks = rdtsc() - start;
  // Fixed point with three decimals, so the harness can convert ticks to instructions.
  sys::print("BENCH calibration_instructions_per_tick_x1000 %lu\n", (2 * n * 1000) / ticks);
}

// The cost of entering and leaving the kernel: the cheapest call there is.
void null_syscall() {
  uint64_t start = rdtsc();
  for (uint64_t i = 0; i < kRounds; ++i) (void)sys::debug_ticks();
  sys::print("BENCH null_syscall %lu\n", (rdtsc() - start) / kRounds);
}

// The cheapest kernel entry and exit there is (seL4's seL4_BenchmarkNullSyscall, without a
// debug-only call): a number no native call has, which the kernel answers with UnknownSyscall.
void bare_syscall() {
  constexpr uint64_t kUnknown = 4096;
  uint64_t start = rdtsc();
  for (uint64_t i = 0; i < kRounds; ++i) {
    if (sys::raw_syscall(kUnknown) != abi::syscall_result(Error::kUnknownSyscall)) failed = true;
  }
  sys::print("BENCH bare_syscall %lu\n", (rdtsc() - start) / kRounds);
}

// The server: an endpoint loop in its own address space, written as machine code (the
// kernel-tests suite does the same): Recv once, then ReplyRecv forever.
void ipc_round_trip() {
  uint64_t endpoint = make(ObjectType::kEndpoint);
  uint64_t reply = make(ObjectType::kReply);
  uint64_t vspace = make(ObjectType::kVSpace);
  uint64_t code = make(ObjectType::kFrame, 12);
  for (int i = 0; i < 3; ++i) {
    uint64_t words[] = {vspace, 0x400000};
    check(invoke(make(ObjectType::kPageTable), Label::kPageTableMap, words, 2), "page table");
  }
  uint64_t map_code[] = {vspace, 0x400000, abi::kMapExecute};
  check(invoke(code, Label::kFrameMap, map_code, 3), "map code");
  uint64_t window_table = make(ObjectType::kPageTable);
  uint64_t window_words[] = {kVSpace, 0x20000000};
  check(invoke(window_table, Label::kPageTableMap, window_words, 2), "window table");
  uint64_t alias = next_slot++;
  check(sys::cnode_copy(kRoot, alias, code), "copy code frame");
  uint64_t map_alias[] = {kVSpace, 0x20000000, abi::kMapWrite};
  check(invoke(alias, Label::kFrameMap, map_alias, 3), "map alias");
  auto* bytes = reinterpret_cast<volatile uint8_t*>(0x20000000);
  auto imm32 = [](volatile uint8_t* at, uint64_t value) {
    for (int i = 0; i < 4; ++i) at[i] = static_cast<uint8_t>(value >> (8 * i));
  };
  // 0: mov $ep,%edi; mov $reply,%edx; xor %esi,%esi; mov $Recv,%eax; syscall
  // 19: the same with ReplyRecv; jmp 19
  size_t at = 0;
  for (int pass = 0; pass < 2; ++pass) {
    bytes[at] = 0xbf;
    imm32(bytes + at + 1, endpoint);
    bytes[at + 5] = 0xba;
    imm32(bytes + at + 6, reply);
    bytes[at + 10] = 0x31;
    bytes[at + 11] = 0xf6;
    bytes[at + 12] = 0xb8;
    imm32(bytes + at + 13,
          static_cast<uint64_t>(pass == 0 ? abi::Syscall::kRecv : abi::Syscall::kReplyRecv));
    bytes[at + 17] = 0x0f;
    bytes[at + 18] = 0x05;
    at += 19;
  }
  bytes[at] = 0xeb;
  bytes[at + 1] = static_cast<uint8_t>(-21);
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t configure[] = {kRoot, 0, vspace, 0, 0, 0};
  check(invoke(tcb, Label::kTcbConfigure, configure, 6), "configure server");
  uint64_t priority[] = {abi::kMaxPriority};
  check(invoke(tcb, Label::kTcbSetPriority, priority, 1), "server priority");
  uint64_t registers[1 + abi::kUserRegisterWords] = {abi::tcb_message::kWriteResume};
  registers[1] = 0x400000;  // rip
  registers[3] = 0x202;     // rflags
  check(invoke(tcb, Label::kTcbWriteRegisters, registers, 1 + abi::kUserRegisterWords),
        "start server");

  sys::MessageRegisters mr;
  for (int i = 0; i < 100; ++i) (void)sys::call(endpoint, 1, mr, 1);  // warm up
  uint64_t start = rdtsc();
  for (uint64_t i = 0; i < kRounds; ++i) {
    if (sys::call(endpoint, 1, mr, 1).error != Error::kNone) failed = true;
  }
  uint64_t ticks = rdtsc() - start;
  sys::print("BENCH ipc_call_replyrecv_round_trip %lu\n", ticks / kRounds);
}

}  // namespace

extern "C" uint64_t bench_probed(uint64_t);
asm(R"(
    .text
    .globl bench_probed
    .balign 16
bench_probed:
    .byte 0x0f, 0x1f, 0x44, 0x00, 0x00
    lea 1(%rdi), %rax
    ret
)");

namespace {

uint64_t probe_endpoint;
uint64_t probe_reply;

void handler(uint64_t) {
  sys::MessageRegisters mr;
  auto r = sys::recv(probe_endpoint, probe_reply, mr);
  while (r.error == Error::kNone) {
    r = sys::reply_recv(probe_endpoint, probe_reply,
                        static_cast<uint64_t>(abi::FaultReply::kResume), mr, 0);
  }
}

struct alignas(abi::kIpcBufferAlign) HandlerMemory {
  abi::IpcBuffer buffer;
  alignas(16) uint8_t stack[16 * 1024];
};
HandlerMemory handler_memory;

[[noreturn]] void thread_entry(void (*function)(uint64_t), uint64_t argument) {
  function(argument);
  sys::thread_exit(0);
}

// Time per call of a function with a breakpoint on its entry NOP, minus the call without.
void breakpoint_round_trip() {
  probe_endpoint = make(ObjectType::kEndpoint);
  probe_reply = make(ObjectType::kReply);
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t configure[] = {kRoot, 0, kVSpace, reinterpret_cast<uint64_t>(&handler_memory.buffer),
                          0,     0};
  check(invoke(tcb, Label::kTcbConfigure, configure, 6), "configure handler");
  check(sys::bind_ipc_buffer(tcb, &handler_memory.buffer), "handler buffer");
  uint64_t priority[] = {abi::kMaxPriority};
  check(invoke(tcb, Label::kTcbSetPriority, priority, 1), "handler priority");
  uint64_t registers[1 + abi::kUserRegisterWords] = {abi::tcb_message::kWriteResume};
  registers[1] = reinterpret_cast<uint64_t>(&thread_entry);
  registers[2] =
      reinterpret_cast<uint64_t>(handler_memory.stack + sizeof(handler_memory.stack)) - 8;
  registers[3] = 0x202;
  registers[9] = reinterpret_cast<uint64_t>(&handler);                 // rdi
  registers[19] = reinterpret_cast<uint64_t>(&handler_memory.buffer);  // fs base
  check(invoke(tcb, Label::kTcbWriteRegisters, registers, 1 + abi::kUserRegisterWords),
        "start handler");

  uint64_t sum = 0;
  uint64_t start = rdtsc();
  for (uint64_t i = 0; i < kRounds; ++i) sum += bench_probed(i);
  uint64_t plain = rdtsc() - start;

  uint64_t breakpoint = make(ObjectType::kBreakpoint);
  uint64_t bind[] = {kVSpace, probe_endpoint};
  check(invoke(breakpoint, Label::kBreakpointBind, bind, 2), "bind");
  uint64_t insert[] = {reinterpret_cast<uint64_t>(&bench_probed), 5, 0, 0};
  check(invoke(breakpoint, Label::kBreakpointInsert, insert, 4), "insert");
  for (int i = 0; i < 100; ++i) sum += bench_probed(i);  // warm up
  start = rdtsc();
  for (uint64_t i = 0; i < kRounds; ++i) sum += bench_probed(i);
  uint64_t probed = rdtsc() - start;
  sys::print("BENCH breakpoint_hit_reply_resume_round_trip %lu\n", (probed - plain) / kRounds);
  if (sum == 0) failed = true;
}

}  // namespace

// A Linux-ABI thread's loop: every `syscall` is a ForeignSyscall fault to its handler.
extern "C" void bench_linux_loop();
asm(R"(
    .text
    .globl bench_linux_loop
    .balign 16
bench_linux_loop:
    mov $39, %eax
    syscall
    jmp bench_linux_loop
)");

namespace {

struct alignas(16) LinuxStack {
  uint8_t bytes[4096];
};
LinuxStack linux_stack;

// The root task is the fault handler of a Linux-ABI thread at its own priority: each round
// is the handler's ReplyRecv (SetResult) and the thread's next `syscall` coming back as a
// ForeignSyscall fault (21 words: 8 in registers, 13 in the handler's IPC buffer).
void foreign_syscall_round_trip() {
  uint64_t endpoint = make(ObjectType::kEndpoint);
  uint64_t reply = make(ObjectType::kReply);
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t configure[] = {kRoot, 0, kVSpace, 0, endpoint, 0};
  check(invoke(tcb, Label::kTcbConfigure, configure, 6), "configure linux thread");
  uint64_t priority[] = {100};
  check(invoke(tcb, Label::kTcbSetPriority, priority, 1), "linux thread priority");
  uint64_t linux_abi[] = {static_cast<uint64_t>(abi::ThreadAbi::kLinux)};
  check(invoke(tcb, Label::kTcbSetAbi, linux_abi, 1), "linux abi");
  uint64_t registers[1 + abi::kUserRegisterWords] = {abi::tcb_message::kWriteResume};
  registers[1] = reinterpret_cast<uint64_t>(&bench_linux_loop);
  registers[2] = reinterpret_cast<uint64_t>(linux_stack.bytes + sizeof(linux_stack.bytes));
  registers[3] = 0x202;
  check(invoke(tcb, Label::kTcbWriteRegisters, registers, 1 + abi::kUserRegisterWords),
        "start linux thread");

  constexpr uint64_t kSetResult = static_cast<uint64_t>(abi::FaultReply::kSetResult);
  sys::MessageRegisters mr;
  auto r = sys::recv(endpoint, reply, mr);
  for (int i = 0; i < 100 && r.error == Error::kNone; ++i) {  // warm up
    mr.word[0] = 0;
    r = sys::reply_recv(endpoint, reply, kSetResult, mr, 1);
  }
  uint64_t start = rdtsc();
  for (uint64_t i = 0; i < kRounds && r.error == Error::kNone; ++i) {
    mr.word[0] = i;
    r = sys::reply_recv(endpoint, reply, kSetResult, mr, 1);
  }
  uint64_t ticks = rdtsc() - start;
  if (r.error != Error::kNone ||
      r.info.label != static_cast<uint64_t>(abi::FaultKind::kForeignSyscall) ||
      r.info.length != abi::kFaultMessageWords) {
    sys::print("kernel-bench: foreign syscall round trip failed\n");
    failed = true;
  }
  check(invoke(tcb, Label::kTcbSuspend, nullptr, 0), "suspend linux thread");
  sys::print("BENCH foreign_syscall_round_trip %lu\n", ticks / kRounds);
}

}  // namespace

extern "C" int main() {
  const auto* info = reinterpret_cast<const abi::BootInfo*>(abi::kRootBootInfo);
  next_slot = info->first_free_slot;
  untyped = sys::largest_untyped(*info);
  check(sys::bind_ipc_buffer(kSelf, reinterpret_cast<abi::IpcBuffer*>(info->ipc_buffer)),
        "root buffer");
  uint64_t priority[] = {100};
  check(invoke(kSelf, Label::kTcbSetPriority, priority, 1), "root priority");
  calibrate();
  bare_syscall();
  null_syscall();
  ipc_round_trip();
  foreign_syscall_round_trip();
  breakpoint_round_trip();
  sys::print("kernel-bench: %s\n", failed ? "FAILED" : "done");
  return failed ? 1 : 0;
}
