// SPDX-License-Identifier: MIT
// Kprobes on microkernel functions: the kernel records a SampleRecord per hit into a ring
// (sonde/abi/ipc.hpp) and never waits; the trace server reads the ring and runs the probe's
// programs and events on each sample as if the probe had stopped the kernel there. This is the
// part of it that needs no kernel: the pt_regs a sample stands for, the memory it shows (its
// stack words), reading a ring, and how kernel functions are named.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sonde/abi/ipc.hpp"
#include "trace/probe_record.hpp"

namespace trace {

// Kernel text and data live in the upper half; user code (the POSIX server) below it.
inline constexpr uint64_t kKernelHalfStart = 0xffff800000000000ull;
inline bool is_kernel_address(uint64_t address) { return address >= kKernelHalfStart; }

// The "module" kernel functions belong to, as /proc/kallsyms shows them (`\t[microkernel]`);
// `microkernel:NAME` names one explicitly, as Linux's `MOD:SYM` in kprobe_events and in a
// kprobe PMU's kprobe_func.
inline constexpr char kKernelModule[] = "microkernel";
// The task a kernel sample reports: pid 0 and this comm (the TCB is no Linux task).
inline constexpr char kKernelSampleComm[] = "microkernel";

// A probe target's name split into its module and symbol.
struct SymbolName {
  const char* module = nullptr;  // nullptr: no `MOD:` prefix
  size_t module_length = 0;
  const char* symbol = nullptr;
  size_t symbol_length = 0;
  bool is_kernel_module() const;  // the prefix is kKernelModule
};
SymbolName split_symbol_name(const char* name, size_t length);

// Linux's pt_regs for a kernel sample: the six argument registers, ip = the probed function,
// sp = the kernel stack at the probe; the rest is 0 (the kernel does not record them), the
// segments those of the kernel's code and stack.
PtRegs pt_regs_from_sample(const sonde::abi::SampleRecord& sample);

// What a program may read at a sample: of the kernel, the five stack words it recorded, at
// [rsp, rsp + 40); of the POSIX server (lower-half addresses: the task_structs the scheduling
// tracepoints pass; its image also at its kernel alias), its memory through `server` when there
// is one, read when the sample is
// drained rather than when it was taken. Everything else fails as an unreadable address does.
class SampleMemory final : public TracedMemory {
 public:
  explicit SampleMemory(const sonde::abi::SampleRecord& sample, TracedMemory* server = nullptr)
      : sample_(sample), server_(server) {}
  bool read(void* destination, uint64_t address, size_t size) override;
  // Shows `size` (at most 8) bytes of the server's memory at `address` as they were when the
  // sample was taken, whatever the server holds now: what the sample itself says of them
  // (sched_switch's prev_state is prev->__state at the switch).
  void show_as_sampled(uint64_t address, const void* bytes, size_t size);

 private:
  const sonde::abi::SampleRecord& sample_;
  TracedMemory* server_;
  uint64_t overlay_address_ = 0;
  size_t overlay_size_ = 0;
  uint8_t overlay_[8] = {};
};

// Takes every record between the ring's tail and head (copied out first, so the kernel may
// reuse the slot as soon as tail moves), in order, and gives each to `consume`; returns how many.
// A `limit` other than 0 takes at most that many.
// A ring whose indices make no sense (head behind tail, more than capacity pending, a
// capacity beyond the frame) is reset to empty, losing nothing the kernel could still write.
template <typename Consume>
uint64_t drain_samples(volatile sonde::abi::SampleRing& ring, Consume&& consume,
                       uint64_t limit = 0) {
  constexpr uint64_t kMaxCapacity = sizeof(ring.records) / sizeof(ring.records[0]);
  uint64_t capacity = ring.capacity;
  uint64_t head = ring.head;
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  uint64_t tail = ring.tail;
  if (capacity == 0 || capacity > kMaxCapacity || head < tail || head - tail > capacity) {
    ring.tail = head;
    return 0;
  }
  uint64_t taken = 0;
  for (; tail != head && (limit == 0 || taken < limit); ++tail, ++taken) {
    sonde::abi::SampleRecord record;
    const volatile auto& slot = ring.records[tail % capacity];
    auto* out = reinterpret_cast<uint64_t*>(&record);
    const volatile auto* in = reinterpret_cast<const volatile uint64_t*>(&slot);
    for (size_t i = 0; i < sizeof record / 8; ++i) out[i] = in[i];
    __atomic_thread_fence(__ATOMIC_RELEASE);
    ring.tail = tail + 1;
    consume(static_cast<const sonde::abi::SampleRecord&>(record));
  }
  return taken;
}

}  // namespace trace
