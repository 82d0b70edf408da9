// SPDX-License-Identifier: MIT
// The local APIC: identification, inter-processor interrupts, end of interrupt, timer.
#pragma once

#include <stdint.h>

namespace arch {

inline constexpr uint8_t kApicTimerVector = 0xef;
inline constexpr uint8_t kRescheduleVector = 0xf0;
inline constexpr uint8_t kTlbVector = 0xf1;
inline constexpr uint8_t kSpuriousVector = 0xff;

// Maps the local APIC's registers into the kernel half (before any address space copies it)
// and enables this CPU's APIC. The boot CPU keeps the legacy PIC on LINT0.
void apic_init_boot_cpu();
void apic_init_application_cpu();
uint32_t apic_id();
void apic_end_of_interrupt();
void apic_send_ipi(uint32_t apic_id, uint8_t vector);
void apic_send_init_sipi(uint8_t start_page);
void apic_send_init_broadcast();
// Periodic timer on kApicTimerVector, about `hz` times a second.
void apic_timer_start(uint32_t hz);

}  // namespace arch
