// SPDX-License-Identifier: MIT
// Multiprocessing: per-CPU blocks, the big kernel lock, TLB shootdown, AP start-up.
#include "kernel/smp.hpp"

#include "arch/x86_64/apic.hpp"
#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/trap_frame.hpp"
#include "kernel/console.hpp"
#include "kernel/memory.hpp"
#include "kernel/multiboot2.hpp"
#include "kernel/page_table.hpp"
#include "kernel/panic.hpp"
#include "kernel/scheduler.hpp"
#include "sonde/abi/syscalls.hpp"

extern "C" char ap_trampoline_start[];
extern "C" char ap_trampoline_end[];
extern "C" const uint64_t ap_trampoline_offsets[11];
extern "C" [[noreturn]] void ap_main(uint64_t index, uint64_t stack_top);

namespace arch {
void gdt_init_cpu(unsigned cpu, uint64_t kernel_stack_top);
void idt_load();
}  // namespace arch

namespace kernel {
namespace {

PerCpu cpus[kMaxCpus];
volatile uint32_t online_count = 1;

constexpr uint64_t kApStackSize = 16 * 1024;
alignas(16) uint8_t ap_stacks[(kMaxCpus - 1) * kApStackSize];

// Roughly `microseconds` of waiting: port 0x80 reads take about a microsecond (an I/O delay
// the PC has always had), and TCG makes each an exit to the device model.
void delay(uint64_t microseconds) {
  for (uint64_t i = 0; i < microseconds; ++i) {
    arch::inb(0x80);
    asm volatile("pause");
  }
}

// QEMU's firmware configuration device knows the CPU count (key 5); 0 elsewhere.
unsigned firmware_cpu_count() {
  arch::outw(0x510, 0x0005);
  uint16_t count = arch::inb(0x511);
  count |= static_cast<uint16_t>(arch::inb(0x511)) << 8;
  return count <= kMaxCpus ? count : kMaxCpus;
}

uint64_t ap_page_table() {
  // The kernel's tables plus an identity map of the first 2 MiB, where the trampoline runs
  // until it jumps into the kernel.
  uint64_t root = create_address_space();
  uint64_t pdpt = frames().allocate();
  uint64_t pd = frames().allocate();
  if (root == 0 || pdpt == 0 || pd == 0 || root >= (1ull << 32)) return 0;
  auto* pml4_entries = static_cast<uint64_t*>(physical_to_virtual(root));
  auto* pdpt_entries = static_cast<uint64_t*>(physical_to_virtual(pdpt));
  auto* pd_entries = static_cast<uint64_t*>(physical_to_virtual(pd));
  for (int i = 0; i < 512; ++i) pdpt_entries[i] = pd_entries[i] = 0;
  pd_entries[0] = page::kPresent | page::kWritable | page::kLarge;
  pdpt_entries[0] = pd | page::kPresent | page::kWritable;
  pml4_entries[0] = pdpt | page::kPresent | page::kWritable;
  return root;
}

}  // namespace

PerCpu& cpu_at(unsigned index) { return cpus[index]; }
unsigned cpus_online() { return online_count; }

void percpu_init(unsigned index, uint64_t kernel_stack_top) {
  PerCpu& cpu = cpus[index];
  cpu.self = &cpu;
  cpu.kernel_stack_top = kernel_stack_top;
  cpu.index = index;
  cpu.entry_frame = &cpu.scratch_frame;
  cpu.interrupt_stack = arch::interrupt_stack_slot(index);
  cpu.apic_id = index == 0 ? 0 : arch::apic_id();
  arch::write_msr(arch::kMsrGsBase, reinterpret_cast<uint64_t>(&cpu));
  arch::write_msr(arch::kMsrKernelGsBase, 0);
}

void serve_tlb_request() {
  PerCpu& cpu = this_cpu();
  if (cpu.flush_pending == 0) return;
  if (cpu.flush_fpu) {
    // The kernel runs without FPU code: the registers are the owner's, whatever runs here.
    if (cpu.fpu_owner != nullptr) {
      asm volatile("fxsave64 (%0)" : : "r"(cpu.fpu_owner->fpu) : "memory");
      cpu.fpu_owner = nullptr;
    }
    cpu.flush_fpu = false;
  }
  if (cpu.flush_leave != 0 && cpu.loaded_page_table == cpu.flush_leave) {
    cpu.loaded_page_table = kernel_page_table_root();
  }
  arch::write_cr3(cpu.loaded_page_table != 0 ? cpu.loaded_page_table : arch::read_cr3());
  __atomic_store_n(&cpu.flush_pending, 0, __ATOMIC_RELEASE);
}

}  // namespace kernel

extern "C" {
kernel::TicketLock kernel_big_lock;
}

namespace kernel {

void kernel_lock_wait(uint32_t ticket) {
  uint64_t spins = 0;
  while (__atomic_load_n(&kernel_big_lock.serving, __ATOMIC_ACQUIRE) != ticket) {
    serve_tlb_request();
    asm volatile("pause");
    // A lock held this long (seconds, even under emulation) is a kernel bug: say so loudly
    // instead of hanging.
    if (++spins == (uint64_t{1} << 31)) {
      panic("kernel lock: CPU %lu waited for ticket %u; serving %u, next %u, owner CPU %d",
            this_cpu().index, ticket, kernel_big_lock.serving, kernel_big_lock.next,
            kernel_big_lock.owner);
    }
  }
}

void shootdown(uint64_t page_table, bool leave) {
  unsigned self = static_cast<unsigned>(this_cpu().index);
  for (unsigned i = 0; i < online_count; ++i) {
    PerCpu& cpu = cpus[i];
    if (i == self || cpu.loaded_page_table != page_table) continue;
    cpu.flush_leave = leave ? page_table : 0;
    __atomic_store_n(&cpu.flush_pending, 1, __ATOMIC_RELEASE);
    arch::apic_send_ipi(cpu.apic_id, arch::kTlbVector);
  }
  for (unsigned i = 0; i < online_count; ++i) {
    while (__atomic_load_n(&cpus[i].flush_pending, __ATOMIC_ACQUIRE) != 0) asm volatile("pause");
  }
}

namespace {

// A request CPU `index` serves at its next entry (serve_tlb_request), waited for.
void request_entry(unsigned index, bool save_fpu) {
  PerCpu& cpu = cpus[index];
  cpu.flush_leave = 0;
  cpu.flush_fpu = save_fpu;
  __atomic_store_n(&cpu.flush_pending, 1, __ATOMIC_RELEASE);
  arch::apic_send_ipi(cpu.apic_id, arch::kTlbVector);
  while (__atomic_load_n(&cpu.flush_pending, __ATOMIC_ACQUIRE) != 0) asm volatile("pause");
}

}  // namespace

void wait_for_entry(unsigned index) { request_entry(index, false); }

void save_fpu_on(unsigned index) { request_entry(index, true); }

void reschedule_cpu(unsigned index) {
  if (index == this_cpu().index || index >= online_count) return;
  arch::apic_send_ipi(cpus[index].apic_id, arch::kRescheduleVector);
}

unsigned start_application_processors(const BootInfo& boot) {
  unsigned expected = firmware_cpu_count();
  if (expected <= 1) return 1;
  // A page of RAM below 1 MiB for the trampoline (the SIPI vector is its page number). The
  // frame allocator never hands out low memory, so any page the memory map calls usable will
  // do; 0x8000 by custom.
  uint64_t page = 0;
  const uint64_t candidates[] = {0x8000, 0x1000};
  for (uint64_t candidate : candidates) {
    for (size_t i = 0; i < boot.region_count && page == 0; ++i) {
      const MemoryRegion& region = boot.regions[i];
      if (region.usable && region.start <= candidate &&
          candidate + page::kSize <= region.start + region.length) {
        page = candidate;
      }
    }
    if (page != 0) break;
  }
  uint64_t table = ap_page_table();
  if (page == 0 || table == 0) {
    printk("kernel: warning: no memory to start the other CPUs; running on one\n");
    return 1;
  }
  auto* code = static_cast<uint8_t*>(physical_to_virtual(page));
  size_t size = static_cast<size_t>(ap_trampoline_end - ap_trampoline_start);
  for (size_t i = 0; i < size; ++i) code[i] = static_cast<uint8_t>(ap_trampoline_start[i]);
  auto patch32 = [&](uint64_t offset, uint64_t value) {
    *reinterpret_cast<uint32_t*>(code + offset) = static_cast<uint32_t>(value);
  };
  auto patch64 = [&](uint64_t offset, uint64_t value) {
    *reinterpret_cast<uint64_t*>(code + offset) = value;
  };
  const uint64_t* o = ap_trampoline_offsets;
  patch32(o[0], page + o[1]);  // GDT pointer base
  patch32(o[2], page + o[3]);  // far pointer to 32-bit code
  patch32(o[4], page + o[5]);  // far pointer to 64-bit code
  patch64(o[6], table);
  patch64(o[7], reinterpret_cast<uint64_t>(ap_stacks));
  patch64(o[8], kApStackSize);
  patch64(o[9], reinterpret_cast<uint64_t>(&ap_main));
  patch32(o[10], 0);

  arch::apic_send_init_broadcast();
  delay(10000);
  arch::apic_send_init_sipi(static_cast<uint8_t>(page >> 12));
  delay(200);
  arch::apic_send_init_sipi(static_cast<uint8_t>(page >> 12));
  // `pause` lets an emulator that runs all CPUs in one thread switch to the starting ones.
  for (int i = 0; i < 20000 && online_count < expected; ++i) {
    delay(100);
    asm volatile("pause");
  }
  if (online_count < expected) {
    printk("kernel: warning: %u of %u CPUs started\n", online_count, expected);
  }
  return online_count;
}

}  // namespace kernel

// First C++ code of an application processor: its own GDT, TSS and GS block, the shared IDT,
// then the scheduler (it waits for the big kernel lock, which the boot CPU holds until the
// root task starts).
extern "C" [[noreturn]] void ap_main(uint64_t index, uint64_t stack_top) {
  using namespace kernel;
  arch::write_cr3(kernel_page_table_root());
  arch::gdt_init_cpu(static_cast<unsigned>(index), stack_top);
  arch::idt_load();
  arch::syscall_init();
  arch::apic_init_application_cpu();
  percpu_init(static_cast<unsigned>(index), stack_top);
  PerCpu& cpu = this_cpu();
  cpu.loaded_page_table = kernel_page_table_root();
  arch::apic_timer_start(sonde::abi::kTimerHz);
  cpu.online = 1;
  __atomic_fetch_add(&online_count, 1, __ATOMIC_RELEASE);
  kernel_lock();
  kernel_exit();
}
