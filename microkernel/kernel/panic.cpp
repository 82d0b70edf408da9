// SPDX-License-Identifier: MIT
// Panic reports: vector, error code, rip, cr2, every register and the nearest kernel symbol.
#include "kernel/panic.hpp"

#include <stdarg.h>

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/serial.hpp"
#include "elf/demangle.hpp"
#include "elf/elf64.hpp"
#include "kernel/console.hpp"
#include "kernel/memory.hpp"
#include "rt/format.hpp"
#include "sonde/abi/syscalls.hpp"

namespace kernel {
namespace {

const elf::SymbolTable* kernel_symbols = nullptr;
bool panicking = false;
void serial_sink(void*, char c) { arch::serial_put(c); }

// A fault while a report is being printed (a broken symbol table, a bad frame) must not
// recurse until the stack is gone: the second one gets a short line and ends the machine.
void enter_panic(const char* what, uint64_t rip) {
  if (panicking) {
    printk("\nKERNEL PANIC: nested %s at rip %016lx while reporting a panic\n", what, rip);
    printk("KERNEL PANIC END\n");
    machine_exit(sonde::abi::kShutdownPanic);
  }
  panicking = true;
}

}  // namespace

void panic_set_symbols(const elf::SymbolTable* symbols) { kernel_symbols = symbols; }
const elf::SymbolTable* kernel_symbol_table() { return kernel_symbols; }

const char* exception_name(uint64_t vector) {
  static const char* const names[32] = {"divide error",
                                        "debug",
                                        "non-maskable interrupt",
                                        "breakpoint",
                                        "overflow",
                                        "bound range exceeded",
                                        "invalid opcode",
                                        "device not available",
                                        "double fault",
                                        "coprocessor segment overrun",
                                        "invalid TSS",
                                        "segment not present",
                                        "stack-segment fault",
                                        "general protection fault",
                                        "page fault",
                                        "reserved",
                                        "x87 floating-point error",
                                        "alignment check",
                                        "machine check",
                                        "SIMD floating-point error",
                                        "virtualization exception",
                                        "control protection",
                                        "reserved",
                                        "reserved",
                                        "reserved",
                                        "reserved",
                                        "reserved",
                                        "reserved",
                                        "hypervisor injection",
                                        "VMM communication",
                                        "security exception",
                                        "reserved"};
  return vector < 32 ? names[vector] : "interrupt";
}

void print_registers(const arch::TrapFrame& f, bool kernel) {
  printk("  rip %016lx  cs %04lx  rflags %016lx\n", f.rip, f.cs, f.rflags);
  printk("  rsp %016lx  ss %04lx  cr2 %016lx  cr3 %016lx\n", f.rsp, f.ss, arch::read_cr2(),
         arch::read_cr3());
  printk("  rax %016lx  rbx %016lx  rcx %016lx\n", f.rax, f.rbx, f.rcx);
  printk("  rdx %016lx  rsi %016lx  rdi %016lx\n", f.rdx, f.rsi, f.rdi);
  printk("  rbp %016lx  r8  %016lx  r9  %016lx\n", f.rbp, f.r8, f.r9);
  printk("  r10 %016lx  r11 %016lx  r12 %016lx\n", f.r10, f.r11, f.r12);
  printk("  r13 %016lx  r14 %016lx  r15 %016lx\n", f.r13, f.r14, f.r15);
  if (!kernel) return;
  uint64_t offset = 0;
  const char* name = kernel_symbols ? kernel_symbols->nearest(f.rip, &offset) : nullptr;
  if (name != nullptr) {
    char readable[160];
    printk("  symbol: %s+0x%lx\n", elf::demangle(name, readable, sizeof(readable)), offset);
  } else {
    printk("  symbol: unknown (no kernel symbol table)\n");
  }
}

void machine_exit(uint64_t code) {
  arch::disable_interrupts();
  arch::outl(0xf4, static_cast<uint32_t>(code));
  arch::halt_forever();
}

void panic_exception(const arch::TrapFrame& f) {
  enter_panic(exception_name(f.vector), f.rip);
  printk("\nKERNEL PANIC: %s (vector %lu) error code 0x%lx\n", exception_name(f.vector), f.vector,
         f.error_code);
  if (f.vector == 14) {
    printk("  page fault at address 0x%lx (%s, %s, %s)\n", arch::read_cr2(),
           (f.error_code & 1) ? "protection violation" : "not present",
           (f.error_code & 2) ? "write" : "read",
           (f.error_code & 16) ? "instruction fetch" : "data");
  }
  if ((f.vector == 14 || f.vector == 8) && in_kernel_stack_guard(arch::read_cr2())) {
    printk("  kernel stack overflow: cr2 is in the guard page below the kernel stack\n");
  }
  print_registers(f, true);
  printk("KERNEL PANIC END\n");
  machine_exit(sonde::abi::kShutdownPanic);
}

void panic(const char* format, ...) {
  enter_panic("panic", reinterpret_cast<uint64_t>(__builtin_return_address(0)));
  printk("\nKERNEL PANIC: ");
  va_list arguments;
  va_start(arguments, format);
  rt::vformat(serial_sink, nullptr, format, arguments);
  va_end(arguments);
  printk("\nKERNEL PANIC END\n");
  machine_exit(sonde::abi::kShutdownPanic);
}

void fatal(const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  rt::vformat(serial_sink, nullptr, format, arguments);
  va_end(arguments);
  printk("\n");
  machine_exit(sonde::abi::kShutdownFailure);
}

}  // namespace kernel
