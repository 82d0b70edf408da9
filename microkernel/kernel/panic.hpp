// Loud failure: register reports, one-line fatal errors, and ending the machine.
#pragma once

#include <stdint.h>

#include "arch/x86_64/trap_frame.hpp"

namespace elf {
class SymbolTable;
}

namespace kernel {

// Makes kernel symbols available to panic reports (nullptr: none).
void panic_set_symbols(const elf::SymbolTable* symbols);
// The kernel's own symbol table (from the "symbols" boot module), or nullptr without one.
const elf::SymbolTable* kernel_symbol_table();

// Prints the full report for an exception taken in the kernel and ends the machine.
[[noreturn]] void panic_exception(const arch::TrapFrame& frame);
// Prints "panic: <message>" and ends the machine with the panic code.
[[noreturn]] void panic(const char* format, ...) __attribute__((format(printf, 1, 2)));
// Prints a one-line error and ends the machine with the failure code (bad boot input).
[[noreturn]] void fatal(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Prints the registers of a frame, and the symbol nearest its rip when `kernel` is true.
void print_registers(const arch::TrapFrame& frame, bool kernel);
const char* exception_name(uint64_t vector);

// Writes `code` to QEMU's isa-debug-exit port; on hardware without it, halts forever.
[[noreturn]] void machine_exit(uint64_t code);

}  // namespace kernel
