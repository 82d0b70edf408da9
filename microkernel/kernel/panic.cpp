// Panic reports: vector, error code, rip, cr2, every register and the nearest kernel symbol.
#include "kernel/panic.hpp"

#include <stdarg.h>

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/serial.hpp"
#include "elf/elf64.hpp"
#include "kernel/console.hpp"
#include "rt/format.hpp"
#include "sonde/abi/syscalls.hpp"

namespace kernel {
namespace {

const elf::SymbolTable* kernel_symbols = nullptr;
void serial_sink(void*, char c) { arch::serial_put(c); }

}  // namespace

void panic_set_symbols(const elf::SymbolTable* symbols) { kernel_symbols = symbols; }

const char* exception_name(uint64_t vector) {
  static const char* const names[32] = {
      "divide error", "debug", "non-maskable interrupt", "breakpoint", "overflow",
      "bound range exceeded", "invalid opcode", "device not available", "double fault",
      "coprocessor segment overrun", "invalid TSS", "segment not present",
      "stack-segment fault", "general protection fault", "page fault", "reserved",
      "x87 floating-point error", "alignment check", "machine check",
      "SIMD floating-point error", "virtualization exception", "control protection",
      "reserved", "reserved", "reserved", "reserved", "reserved", "reserved",
      "hypervisor injection", "VMM communication", "security exception", "reserved"};
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
    printk("  symbol: %s+0x%lx\n", name, offset);
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
  printk("\nKERNEL PANIC: %s (vector %lu) error code 0x%lx\n", exception_name(f.vector), f.vector,
         f.error_code);
  if (f.vector == 14) {
    printk("  page fault at address 0x%lx (%s, %s, %s)\n", arch::read_cr2(),
           (f.error_code & 1) ? "protection violation" : "not present",
           (f.error_code & 2) ? "write" : "read", (f.error_code & 16) ? "instruction fetch" : "data");
  }
  print_registers(f, true);
  printk("KERNEL PANIC END\n");
  machine_exit(sonde::abi::kShutdownPanic);
}

void panic(const char* format, ...) {
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
