// SPDX-License-Identifier: MIT
// kernel_main: bring up the CPU, memory and timer, then start the root task in ring 3.
#include "arch/x86_64/apic.hpp"
#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/serial.hpp"
#include "arch/x86_64/trap_frame.hpp"
#include "elf/elf64.hpp"
#include "kernel/clock.hpp"
#include "kernel/config.hpp"
#include "kernel/console.hpp"
#include "kernel/memory.hpp"
#include "kernel/multiboot2.hpp"
#include "kernel/objects.hpp"
#include "kernel/panic.hpp"
#include "kernel/scheduler.hpp"
#include "kernel/smp.hpp"
#include "kernel/syscall.hpp"
#include "kernel/task.hpp"
#include "sonde/abi/syscalls.hpp"

extern "C" char boot_stack_top[];

namespace kernel {
namespace {

BootInfo boot_info;
elf::SymbolTable kernel_symbols;

// Test kernels can be told to misbehave on purpose, to prove failures are reported. Each
// misdeed is its own function, so the panic report can be checked to name it.
[[gnu::noinline]] void trigger_kernel_page_fault() {
  printk("kernel: test: touching an unmapped address on purpose\n");
  volatile uint64_t* nowhere = reinterpret_cast<volatile uint64_t*>(0xffffc00000000000ull);
  *nowhere = 1;
}

[[gnu::noinline]] uint64_t overflow_kernel_stack(uint64_t depth) {
  volatile uint8_t frame[512];
  frame[0] = static_cast<uint8_t>(depth);
  if (depth > (uint64_t{1} << 40)) return frame[0];    // never: the 32 KiB stack ends long before
  return overflow_kernel_stack(depth + 1) + frame[0];  // not a tail call: the frame stays
}

// The kernel's own page tables keep text read-only and data no-execute (memory.cpp).
[[gnu::noinline]] void write_kernel_text() {
  printk("kernel: test: writing to kernel text on purpose\n");
  auto* text = reinterpret_cast<volatile uint8_t*>(&trigger_kernel_page_fault);
  *text = 0xcc;
}

alignas(16) uint8_t data_not_code[16] = {0xc3};  // `ret`, but in a no-execute page

[[gnu::noinline]] void execute_kernel_data() {
  printk("kernel: test: calling into kernel data on purpose\n");
  auto* function = reinterpret_cast<void (*)()>(reinterpret_cast<uintptr_t>(data_not_code));
  function();
}

void run_boot_self_tests(const char* command_line) {
  if (!test_kernel()) return;
  if (command_line_has(command_line, "sonde.test=kernel_page_fault")) trigger_kernel_page_fault();
  if (command_line_has(command_line, "sonde.test=kernel_write_text")) write_kernel_text();
  if (command_line_has(command_line, "sonde.test=kernel_execute_data")) execute_kernel_data();
  if (command_line_has(command_line, "sonde.test=kernel_stack_overflow")) {
    printk("kernel: test: recursing until the kernel stack overflows\n");
    overflow_kernel_stack(0);
  }
}

}  // namespace
}  // namespace kernel

extern "C" [[noreturn]] void kernel_main(uint32_t magic, uint32_t boot_info_physical) {
  using namespace kernel;
  arch::serial_init();
  printk("\nSonde microkernel\n");
  if (magic != kMultiboot2Magic) {
    fatal("boot: not started by a multiboot2 loader (magic 0x%x)", magic);
  }
  arch::gdt_init(reinterpret_cast<uint64_t>(boot_stack_top));
  arch::idt_init();
  percpu_init(0, reinterpret_cast<uint64_t>(boot_stack_top));
  kernel_lock();  // held by the boot CPU until the root task runs

  const auto* raw = static_cast<const uint8_t*>(early_physical_to_virtual(boot_info_physical));
  uint32_t boot_info_size = *reinterpret_cast<const uint32_t*>(raw);
  if (BootInfoError e = parse_boot_info(raw, boot_info_size, boot_info);
      e != BootInfoError::kNone) {
    fatal("boot: bad multiboot2 information: %s", boot_info_error_message(e));
  }
  if (!memory_init(boot_info, boot_info_physical, boot_info_size)) {
    fatal("boot: memory setup failed");
  }
  // The strings in boot_info pointed through the boot mapping, which is gone: read the
  // information again through the direct map (it was valid the first time, and is unchanged).
  if (BootInfoError e =
          parse_boot_info(static_cast<const uint8_t*>(physical_to_virtual(boot_info_physical)),
                          boot_info_size, boot_info);
      e != BootInfoError::kNone) {
    fatal("boot: bad multiboot2 information: %s", boot_info_error_message(e));
  }
  printk("kernel: %lu MiB free, %lu boot module(s), command line '%s'\n",
         frames().free_frames() * 4096 / (1024 * 1024), boot_info.module_count,
         boot_info.command_line);

  if (const BootModule* symbols = boot_info.find_module("symbols")) {
    const auto* image = static_cast<const uint8_t*>(physical_to_virtual(symbols->start));
    if (kernel_symbols.open(image, symbols->end - symbols->start) == elf::ElfError::kNone) {
      panic_set_symbols(&kernel_symbols);
    } else {
      printk("kernel: warning: module 'symbols' has no usable symbol table\n");
    }
  }

  this_cpu().loaded_page_table = kernel_page_table_root();
  arch::apic_init_boot_cpu();
  clock_init();
  arch::timer_init(sonde::abi::kTimerHz);
  arch::syscall_init();
  run_boot_self_tests(boot_info.command_line);

  const BootModule* root = boot_info.find_module("root");
  if (root == nullptr) fatal("boot: missing boot module 'root' (the root task)");
  objects_init();
  unsigned cpus = start_application_processors(boot_info);
  if (cpus > 1) printk("kernel: %u CPUs online\n", cpus);
  start_root_task(*root, "root", boot_info);
  printk("kernel: starting root task\n");
  kernel_exit();
}
