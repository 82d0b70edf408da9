// SPDX-License-Identifier: MIT
// Guest tests of the foundation, run as the root task of the test image: each prints a
// `TEST <name> PASS|FAIL <reason>` line for the harness, then the machine shuts down.
#include <stdint.h>

#include "sys/syscall.hpp"

void run_ebpf_tests();

namespace {
namespace abi = sonde::abi;
int failures = 0;
}  // namespace

void report(const char* name, bool ok, const char* reason) {
  if (ok) {
    sys::print("TEST %s PASS\n", name);
  } else {
    sys::print("TEST %s FAIL %s\n", name, reason);
    ++failures;
  }
}

namespace {

uint64_t initialised_data = 0x5eed;
uint64_t zeroed_bss[64];

void test_debug_write() {
  const char text[] = "boot-tests: debug_write works\n";
  int64_t n = sys::debug_write(text, sizeof(text) - 1);
  report("debug_write_returns_length", n == static_cast<int64_t>(sizeof(text) - 1),
         "wrong length returned");
}

void test_debug_write_rejects_kernel_pointer() {
  int64_t n = sys::debug_write(reinterpret_cast<const char*>(0xffffffff80100000ull), 16);
  report("debug_write_rejects_kernel_pointer", n == abi::syscall_result(abi::Error::kBadAddress),
         "kernel address accepted");
}

void test_debug_write_rejects_unmapped() {
  int64_t n = sys::debug_write(reinterpret_cast<const char*>(0x1000), 8);
  report("debug_write_rejects_unmapped_pointer", n == abi::syscall_result(abi::Error::kBadAddress),
         "unmapped address accepted");
}

void test_debug_write_rejects_wrapping_range() {
  int64_t n = sys::debug_write(reinterpret_cast<const char*>(0x00007ffffffff000ull), ~0ull >> 1);
  report("debug_write_rejects_huge_length", n == abi::syscall_result(abi::Error::kInvalidArgument),
         "huge length accepted");
}

// The debug calls need the DebugConsole cap: presenting no cap, or a cap of another type, is
// refused, so a program the root task did not trust with the console cannot write to it.
void test_debug_calls_need_the_console_cap() {
  const char text[] = "boot-tests: this line must not appear\n";
  sys::debug_console = abi::kSlotNull;
  int64_t empty = sys::debug_write(text, sizeof(text) - 1);
  int64_t ticks = static_cast<int64_t>(sys::debug_ticks());
  sys::debug_console = abi::kSlotIoPorts;
  int64_t wrong_type = sys::debug_write(text, sizeof(text) - 1);
  sys::debug_console = abi::kSlotDebugConsole;
  int64_t refused = abi::syscall_result(abi::Error::kNotPermitted);
  report("debug_calls_need_the_debug_console_cap",
         empty == refused && ticks == refused && wrong_type == refused,
         "a debug call went through without the DebugConsole cap");
}

void test_unknown_syscall() {
  int64_t n = sys::raw_syscall(999, 0, 0);
  report("unknown_syscall_is_an_error", n == abi::syscall_result(abi::Error::kUnknownSyscall),
         "unknown call accepted");
}

void test_timer_advances() {
  uint64_t start = sys::debug_ticks();
  uint64_t now = start;
  // Spin with interrupts enabled in ring 3 until two ticks pass (bounded).
  for (uint64_t spins = 0; spins < 2000000000ull && now < start + 2; ++spins)
    now = sys::debug_ticks();
  report("timer_interrupts_advance_ticks", now >= start + 2, "ticks did not advance");
}

void test_loader_sections() {
  bool zero = true;
  for (uint64_t word : zeroed_bss) zero = zero && word == 0;
  report("loader_zeroes_bss", zero, "bss not zeroed");
  report("loader_copies_data", initialised_data == 0x5eed, "data not copied");
}

void test_stack_is_writable() {
  volatile uint8_t big[16 * 1024];
  for (unsigned i = 0; i < sizeof(big); i += 512) big[i] = static_cast<uint8_t>(i);
  bool ok = true;
  for (unsigned i = 0; i < sizeof(big); i += 512) ok = ok && big[i] == static_cast<uint8_t>(i);
  report("user_stack_is_writable", ok, "stack contents lost");
}

}  // namespace

extern "C" int main() {
  sys::print("boot-tests: root task running\n");
  test_debug_write();
  test_debug_write_rejects_kernel_pointer();
  test_debug_write_rejects_unmapped();
  test_debug_write_rejects_wrapping_range();
  test_unknown_syscall();
  test_debug_calls_need_the_console_cap();
  test_timer_advances();
  test_loader_sections();
  test_stack_is_writable();
  run_ebpf_tests();
  sys::print("TESTS DONE %d failed\n", failures);
  sys::test_shutdown(failures == 0 ? abi::kShutdownSuccess : abi::kShutdownFailure);
  return 1;  // only reached if the kernel refused the shutdown
}
