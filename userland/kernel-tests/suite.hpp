// SPDX-License-Identifier: MIT
// The kernel-tests suite's shared support: DEFINE_TEST, the run order, checks, and helpers.
//
// The root task exercises capabilities, IPC, threads, scheduling, faults, address spaces,
// breakpoints, several CPUs and devices from user mode (in the spirit of sel4test), and prints
// one `TEST <name> PASS|FAIL <reason>` line per check for tests/qemu/run.py. Each area is one
// file; each test is one `DEFINE_TEST(name, "description") { ... }` and runs in the place its
// name holds in `test_order` below.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sys/ipc.hpp"
#include "sys/syscall.hpp"

namespace kernel_tests {

namespace abi = sonde::abi;
using abi::Error;
using abi::Label;
using abi::ObjectType;

// ---- registration ----

// The order the tests run in. It is the order they were written in, and it matters: the tests
// share the root's CSpace (slots are handed out in sequence and never reused) and some state
// (`fault_endpoint`, `probe_endpoint` and `xol_page` are set up by earlier tests and used by
// smp). A new test goes at the end unless it needs otherwise. The enumerators carry the
// tests' own names so that DEFINE_TEST can find its place from the name alone.
namespace test_order {
enum : int {
  boot_info,
  lookup_errors,
  retype_errors,
  rights_and_revoke,
  call_reply,
  notifications,
  cap_transfer,
  reply_errors,
  tcb_invocations,
  faults,
  dead_endpoint,
  scheduling,
  vspace,
  thread_in_another_vspace,
  breakpoints,
  breakpoint_in_another_vspace,
  smp,
  program_from_boot_module,
  kernel_text_probe,
  foreign_mappings,
  hostile_messages,
  unknown_syscall,
  devices,
  clock,
  receivers_gone,
  capnp_over_ipc,
  // The attack suite (attacks.cpp, docs/SECURITY.md).
  attack_untyped_granted_then_retyped_twice,
  attack_borrow_of_a_borrowed_page,
  attack_probe_into_data,
  attack_kernel_probe_without_authority,
  attack_kernel_probe_off_function_entry,
  attack_non_canonical_stack_pointer,
  // The IPC fast paths and their fallbacks (fastpath.cpp).
  fastpath_fallbacks,
  fastpath_fault_fallbacks,
  fastpath_fault_after_ipc_buffer_page_replaced,
  fastpath_destroy_on_another_cpu,
  // TCB ReadFpu and WriteFpu (fpu.cpp).
  fpu_state,
  // Time slices across calls to servers (tcb.cpp).
  answered_calls_keep_their_turn,
  cpu_time_of_linux_tasks,
  kCount,
};
}  // namespace test_order

struct TestCase {
  int order;
  const char* name;
  const char* description;
  void (*run)();
};

// Defines and registers a test: `DEFINE_TEST(name, "one-line description") { body }`. The
// record goes into the `kernel_tests` section (no constructors run in a native program), which
// main() reads between the linker's __start_ and __stop_ symbols; `name` must be listed in
// test_order.
#define DEFINE_TEST(name, description)                                                         \
  static void test_##name();                                                                   \
  [[gnu::used,                                                                                 \
    gnu::section("kernel_tests")]] static constexpr ::kernel_tests::TestCase test_case_##name{ \
      ::kernel_tests::test_order::name, #name, description, &test_##name};                     \
  static void test_##name()

// ---- checks and setup ----

constexpr uint64_t kRoot = abi::kSlotRootCNode;
constexpr uint64_t kSelf = abi::kSlotRootTcb;
constexpr uint64_t kVSpace = abi::kSlotRootVSpace;
// The root runs at 100 (main() sets it) and keeps its maximum controlled priority of 255.
constexpr uint64_t kRootPriority = 100;

extern const abi::BootInfo* boot;
extern uint64_t next_slot;
extern uint64_t untyped;  // the largest untyped cap
extern int failures;

void report(const char* name, bool ok, const char* reason);

// Checks one condition; the first failing check of a test decides its reason.
struct Check {
  const char* name;
  bool ok = true;
  const char* reason = "";
  explicit Check(const char* test) : name(test) {}
  void that(bool condition, const char* why) {
    if (ok && !condition) {
      ok = false;
      reason = why;
    }
  }
  void error(Error got, Error want, const char* why) {
    if (ok && got != want) {
      ok = false;
      reason = why;
      sys::print("  %s: got %s, want %s\n", name, abi::error_name(got), abi::error_name(want));
    }
  }
  ~Check() { report(name, ok, reason); }
};

uint64_t new_slot();
// A setup step that must work; a failure is printed (and fails the run at the end).
void must(Error error, const char* what);
// A new object of `type` from the largest untyped, in a new slot.
uint64_t make(ObjectType type, uint64_t size_bits = 0);
void must_mint(uint64_t root, uint64_t to, uint64_t from, uint64_t rights, uint64_t badge);
// Deletes a TCB cap (and with it the thread).
void kill(uint64_t tcb);

// ---- threads in the root task's address space ----

using ThreadFunction = void (*)(uint64_t);

struct ThreadOptions {
  uint64_t priority = 200;
  uint64_t fault_endpoint = 0;
  uint64_t supervisor = 0;
  bool linux_abi = false;
  bool start = true;
};

uint64_t write_registers(uint64_t tcb, const abi::UserRegisters& registers, bool resume);
// A new thread running function(argument); returns its TCB cap.
uint64_t spawn(ThreadFunction function, uint64_t argument, ThreadOptions options = {});

// A notification the current test's threads signal when they are done (each test that uses it
// makes a new one).
extern uint64_t done_notification;

// ---- memory ----

// A window in the root's address space where the PD is present and the PT not; each test maps
// at its own offset in it.
constexpr uint64_t kWindow = 0x20000000;

abi::Error map_frame(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights);
abi::Error map_table(uint64_t table, uint64_t vspace, uint64_t address);
// map_frame, making the missing page tables on the way.
abi::Error map_anywhere(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights);

// Thread functions that touch one word at `address`.
void write_word(uint64_t address);
void read_word(uint64_t address);

// ---- faults ----

// The endpoint faults_at's threads report to (set up by the faults and vspace tests).
extern uint64_t fault_endpoint;
// Set by thread functions after a fault, so the test sees where the thread went on.
extern volatile uint64_t after_fault;

// A thread function that stores to an unmapped address.
void touch_unmapped(uint64_t);
// Receives one fault on fault_endpoint with `reply` bound.
sys::IpcResult receive_fault(uint64_t reply, abi::UserRegisters& registers, uint64_t& address,
                             uint64_t& detail);
// Runs function(address) in a thread whose faults come to the root; true if it faulted at
// `address` with a page fault (the thread is then suspended and deleted).
bool faults_at(ThreadFunction function, uint64_t address);

// ---- breakpoints ----

constexpr uint64_t kCalls = 10000;   // calls a probe caller makes to probed_function
constexpr uint64_t kDoneLabel = 77;  // the label of a probe caller's "done" message
// The endpoint breakpoint hits and probe callers' "done" messages arrive on.
extern uint64_t probe_endpoint;
// An executable out-of-line page in the root's space (set up by the breakpoints test).
extern uint64_t xol_page;

// The sum probed_function's results make over `calls` calls.
uint64_t expected_sum(uint64_t calls);
abi::Error bind(uint64_t breakpoint, uint64_t vspace, uint64_t endpoint);
abi::Error insert(uint64_t breakpoint, uint64_t address, uint64_t length, uint64_t xol,
                  uint64_t fixup);
// A call probe (breakpoint_message::kCallTarget): `call target` over the entry NOP at `address`.
abi::Error insert_call(uint64_t breakpoint, uint64_t address, uint64_t target, uint64_t length = 5,
                       uint64_t xol = 0);

}  // namespace kernel_tests

// The probed function, in assembly so the tests know every instruction: an entry NOP (as
// -fpatchable-function-entry makes), an ordinary instruction, a rip-relative load.
//   probed_function(x) = x + 1 + probe_constant
extern "C" uint64_t probed_function(uint64_t);
extern "C" uint64_t probe_constant;
extern "C" char probe_ordinary[];
extern "C" char probe_riprel[];
// probe_window_entry sets rcx to 0x1234 and returns the word at kProbeWindowWord, which
// probe_window_load (a rip-relative mov, 7 bytes) reads.
extern "C" uint64_t probe_window_entry();
extern "C" char probe_window_load[];
constexpr uint64_t kProbeWindowWord = 0x200b0008;
// A call probe's target: counts its calls and returns (every register but flags kept).
extern "C" void call_probe_target();
extern "C" volatile uint64_t call_probe_calls;
