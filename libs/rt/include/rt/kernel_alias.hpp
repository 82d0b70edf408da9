// SPDX-License-Identifier: MIT
// Where Linux programs see the POSIX server's code and data. The POSIX server plays Linux's
// kernel (kprobes, kallsyms, kernel stacks), but it is a user-mode program linked at 0x400000,
// and Linux tools take such addresses for user ones: bcc's symbol cache (bpftrace's ksym,
// kstack and func) drops every kallsyms line below 0x00ffffffffffffff. So wherever Linux shows
// a kernel address, Sonde shows the POSIX server's image at an alias where Linux's kernel text
// starts (0x400000 is 0xffffffff81000000), and where a program hands one in, Sonde takes it
// back: kallsyms, a kprobe's pt_regs ip, bpf_get_func_ip, kernel stacks, perf samples,
// kprobes/list, and kprobe addresses, kernel reads (bpf_probe_read_kernel). The microkernel
// keeps its own addresses, below the alias (its linker script checks it ends there).
#pragma once

#include <stdint.h>

namespace sonde::abi {

inline constexpr uint64_t kServerImageStart = 0x0000000000400000ull;
inline constexpr uint64_t kServerImageWindow = 256ull << 20;  // the POSIX server's image fits
inline constexpr uint64_t kServerAliasStart = 0xffffffff81000000ull;
inline constexpr uint64_t kServerAliasDelta = kServerAliasStart - kServerImageStart;

// The address Linux programs see for POSIX-server address `address`; others stay as they are.
constexpr uint64_t kernel_alias(uint64_t address) {
  return address - kServerImageStart < kServerImageWindow ? address + kServerAliasDelta : address;
}

// The POSIX-server address behind an alias; others stay as they are.
constexpr uint64_t server_address(uint64_t address) {
  return address - kServerAliasStart < kServerImageWindow ? address - kServerAliasDelta : address;
}

constexpr bool is_kernel_alias(uint64_t address) {
  return address - kServerAliasStart < kServerImageWindow;
}

static_assert(kernel_alias(0x401000) == 0xffffffff81001000ull);
static_assert(server_address(kernel_alias(0x4abcde)) == 0x4abcde);
static_assert(kernel_alias(0xffffffff80001000ull) == 0xffffffff80001000ull);
static_assert(server_address(0x401000) == 0x401000);

}  // namespace sonde::abi
