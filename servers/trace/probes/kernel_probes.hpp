// SPDX-License-Identifier: MIT
// Kprobes on microkernel functions: one Breakpoint bound to the kernel (BindKernel) per probed
// function, each with its own SampleRing page; hits never stop the kernel, they are samples the
// server takes from the rings later and gives to the probe's clients (tracefs events, BPF
// programs) as if the kernel had stopped there.
#pragma once

#include <stdint.h>

#include "kprobes.hpp"
#include "rt/result.hpp"
#include "sonde/abi/ipc.hpp"
#include "trace/kernel_samples.hpp"
#include "traced_memory.hpp"

namespace trace {

namespace detail {
inline const sonde::abi::SampleRecord* sample_in_progress = nullptr;  // KernelProbes' drain sets it
}  // namespace detail
// The sample whose clients run now (nullptr outside a drain): its pid is 0, its comm
// kKernelSampleComm, its time the sample's. Inline: every probe hit asks.
inline const sonde::abi::SampleRecord* current_kernel_sample() {
  return detail::sample_in_progress;
}
// What the programs of that sample read (nullptr outside a drain).
SampleMemory* current_sample_memory();
// The clock's nanoseconds at a sample's TSC.
uint64_t sample_time_ns(const sonde::abi::SampleRecord& sample);

class KernelProbes {
 public:
  static constexpr uint32_t kMaxProbes = 32;
  static constexpr uint32_t kMaxClients = 8;
  // The drain thread's calls on the server's endpoint carry this badge.
  static constexpr uint64_t kDrainBadge = 0x2000;
  // How long the drain thread waits after a signal before it asks for a drain: it batches
  // samples and keeps the server's own system calls (which a probe on a system-call path
  // samples) from waking it in a tight loop.
  static constexpr uint64_t kDrainDelayNs = 2'000'000;
  // Above Linux processes (100), below the servers (200): a busy workload must not starve the
  // drain while the kernel's rings (31 samples each) fill.
  static constexpr uint64_t kDrainPriority = 150;

  // `authority`: the KernelProbes cap (0: none, every attach is EPERM); `endpoint`: where the
  // server receives (the drain thread calls it badged kDrainBadge).
  KernelProbes(uint64_t authority, uint64_t endpoint)
      : authority_(authority), endpoint_(endpoint) {}

  // Arms the kernel function at `address` for `client` (a BindKernel'd Breakpoint with a fresh
  // ring page for the first client). EPERM without the authority, EINVAL for an address the
  // kernel refuses (not a function's entry NOP), ENOSPC, ENOMEM.
  [[nodiscard]] rt::Result<void> attach(uint64_t address, KprobeClient* client);
  // Removes the client; the last one takes the probe away (the samples still in its ring are
  // given to the remaining clients first, none are left).
  void detach(uint64_t address, KprobeClient* client);

  bool handles(uint64_t badge) const { return badge == kDrainBadge; }
  // Runs the clients of each probe on every sample in its ring, oldest first.
  void drain();
  void set_observer(HitObserver* observer) { observer_ = observer; }
  // The POSIX server's memory, which programs on samples may read too (the task_structs the
  // scheduling tracepoints pass); its borrowed pages are given back after each sample.
  void set_server_memory(BorrowedMemory* memory) { server_memory_ = memory; }

  uint64_t samples() const { return samples_; }
  // Samples the kernel could not record (a full ring), over every probe there is or was.
  uint64_t dropped() const;
  // The drops of the probe at `address` (0 when there is none).
  uint64_t dropped_at(uint64_t address) const;

 private:
  struct Probe {
    uint64_t address = 0;  // 0: free
    uint64_t breakpoint = 0;
    volatile sonde::abi::SampleRing* ring = nullptr;  // its page in the heap
    KprobeClient* clients[kMaxClients] = {};
    uint32_t client_count = 0;
  };
  [[nodiscard]] rt::Result<void> start_drain_thread();
  Probe* find(uint64_t address);
  // Up to `limit` samples of the probe (0: all there are).
  void drain(Probe& probe, uint64_t limit);
  void disarm(Probe& probe);

  uint64_t authority_;
  uint64_t endpoint_;
  uint64_t notification_ = 0;  // signalled by the kernel after every sample (0: no thread yet)
  Probe probes_[kMaxProbes];
  uint32_t armed_ = 0;  // probes in use
  uint64_t samples_ = 0;
  uint64_t dropped_gone_ = 0;  // drops counted by probes since removed
  HitObserver* observer_ = nullptr;
  BorrowedMemory* server_memory_ = nullptr;
};

}  // namespace trace
