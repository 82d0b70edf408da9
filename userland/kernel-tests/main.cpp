// SPDX-License-Identifier: MIT
// The kernel-tests root task: sets itself up, then runs every DEFINE_TEST in test_order.
#include "suite.hpp"

// The linker's bounds of the section DEFINE_TEST puts its records in.
extern "C" const kernel_tests::TestCase __start_kernel_tests[];
extern "C" const kernel_tests::TestCase __stop_kernel_tests[];

namespace kernel_tests {
namespace {

// The registered tests by their place in test_order; a place without exactly one test fails
// the run (a name in test_order always has a DEFINE_TEST, or the build fails).
bool order_tests(const TestCase* (&ordered)[test_order::kCount]) {
  bool ok = true;
  for (const TestCase* test = __start_kernel_tests; test != __stop_kernel_tests; ++test) {
    if (ordered[test->order] != nullptr) {
      sys::print("kernel-tests: two tests in place %d: %s and %s\n", test->order,
                 ordered[test->order]->name, test->name);
      ok = false;
    }
    ordered[test->order] = test;
  }
  for (int i = 0; i < test_order::kCount; ++i) {
    if (ordered[i] == nullptr) {
      sys::print("kernel-tests: no test registered in place %d\n", i);
      ok = false;
    }
  }
  return ok;
}

}  // namespace
}  // namespace kernel_tests

extern "C" int main() {
  using namespace kernel_tests;
  const auto* info = reinterpret_cast<const abi::BootInfo*>(abi::kRootBootInfo);
  boot = info;
  sys::print("kernel-tests: root task started, %lu untyped caps\n", info->untyped_count);
  sys::print("kernel-tests: %lu CPU%s\n", info->cpu_count, info->cpu_count == 1 ? "" : "s");
  next_slot = info->first_free_slot;
  untyped = info->untyped_first;
  for (uint64_t i = 1; i < info->untyped_count; ++i) {
    if (info->untyped[i].size_bits > info->untyped[untyped - info->untyped_first].size_bits) {
      untyped = info->untyped_first + i;
    }
  }
  must(sys::bind_ipc_buffer(kSelf, reinterpret_cast<abi::IpcBuffer*>(info->ipc_buffer)),
       "bind the root's IPC buffer");
  // The root runs at 100 and keeps its maximum controlled priority of 255, so threads it makes
  // above 100 run as soon as they are resumed, and threads at 100 when it blocks or yields.
  uint64_t priority[] = {kRootPriority};
  must(sys::invoke(kSelf, Label::kTcbSetPriority, priority), "lower the root's priority");

  const TestCase* ordered[test_order::kCount] = {};
  if (!order_tests(ordered)) ++failures;
  for (int i = 0; i < test_order::kCount; ++i) {
    if (ordered[i] == nullptr) continue;
    sys::print("kernel-tests: [%d/%d] %s: %s\n", i + 1, test_order::kCount, ordered[i]->name,
               ordered[i]->description);
    ordered[i]->run();
  }

  sys::print("kernel-tests: %d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
