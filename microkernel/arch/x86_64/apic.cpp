// SPDX-License-Identifier: MIT
// Local APIC through its memory-mapped registers (xAPIC mode).
#include "arch/x86_64/apic.hpp"

#include "arch/x86_64/cpu.hpp"
#include "kernel/memory.hpp"
#include "kernel/panic.hpp"

namespace arch {
namespace {

constexpr uint32_t kApicBaseMsr = 0x1b;
constexpr uint32_t kRegisterId = 0x20;
constexpr uint32_t kRegisterEoi = 0xb0;
constexpr uint32_t kRegisterSpurious = 0xf0;
constexpr uint32_t kRegisterIcrLow = 0x300;
constexpr uint32_t kRegisterIcrHigh = 0x310;
constexpr uint32_t kRegisterLvtTimer = 0x320;
constexpr uint32_t kRegisterLvtLint0 = 0x350;
constexpr uint32_t kRegisterLvtLint1 = 0x360;
constexpr uint32_t kRegisterTimerInitial = 0x380;
constexpr uint32_t kRegisterTimerDivide = 0x3e0;
constexpr uint32_t kDeliveryPending = 1u << 12;
// QEMU's APIC timer counts at 1 GHz divided by the divide setting (16 here).
constexpr uint64_t kTimerCountsPerSecond = 1000000000ull / 16;

volatile uint32_t* registers = nullptr;

uint32_t read(uint32_t offset) { return registers[offset / 4]; }
void write(uint32_t offset, uint32_t value) { registers[offset / 4] = value; }

void wait_for_delivery() {
  for (int i = 0; i < 1000000 && (read(kRegisterIcrLow) & kDeliveryPending) != 0; ++i) {
    asm volatile("pause");
  }
}

void enable() {
  write(kRegisterSpurious, 0x100 | kSpuriousVector);  // software enable
}

}  // namespace

void apic_init_boot_cpu() {
  uint64_t base = read_msr(kApicBaseMsr) & 0xfffff000;
  registers = static_cast<volatile uint32_t*>(kernel::map_device_page(base));
  if (registers == nullptr) kernel::fatal("boot: cannot map the local APIC");
  enable();
  write(kRegisterLvtLint0, 0x700);  // ExtINT: the legacy PIC (timer, devices) still arrives
  write(kRegisterLvtLint1, 0x400);  // NMI
}

void apic_init_application_cpu() {
  enable();
  write(kRegisterLvtLint0, 1u << 16);  // masked: the PIC talks to the boot CPU only
  write(kRegisterLvtLint1, 0x400);
}

uint32_t apic_id() { return read(kRegisterId) >> 24; }

void apic_end_of_interrupt() { write(kRegisterEoi, 0); }

void apic_send_ipi(uint32_t id, uint8_t vector) {
  wait_for_delivery();
  write(kRegisterIcrHigh, id << 24);
  write(kRegisterIcrLow, vector);  // fixed delivery, physical destination
  wait_for_delivery();
}

void apic_send_init_broadcast() {
  wait_for_delivery();
  write(kRegisterIcrHigh, 0);
  write(kRegisterIcrLow, 0x000c4500);  // INIT, level assert, all excluding self
  wait_for_delivery();
}

void apic_send_init_sipi(uint8_t start_page) {
  wait_for_delivery();
  write(kRegisterIcrHigh, 0);
  write(kRegisterIcrLow, 0x000c4600 | start_page);  // start-up, all excluding self
  wait_for_delivery();
}

void apic_timer_start(uint32_t hz) {
  write(kRegisterTimerDivide, 0x3);                         // divide by 16
  write(kRegisterLvtTimer, (1u << 17) | kApicTimerVector);  // periodic
  write(kRegisterTimerInitial, static_cast<uint32_t>(kTimerCountsPerSecond / hz));
}

}  // namespace arch
