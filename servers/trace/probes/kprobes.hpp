// SPDX-License-Identifier: MIT
// Kprobes on POSIX-server functions: one Breakpoint object per probed address (entry NOPs),
// several clients (tracefs events, BPF programs) per probe; hits arrive as breakpoint faults.
#pragma once

#include <stdint.h>

#include "rt/result.hpp"
#include "sonde/abi/ipc.hpp"
#include "trace/probe_record.hpp"
#include "traced_memory.hpp"

namespace trace {

// Told of every hit of a probe it is attached to, while the traced thread waits.
class KprobeClient {
 public:
  virtual void on_hit(const PtRegs& regs, uint64_t address, TracedMemory& memory) = 0;

 protected:
  ~KprobeClient() = default;
};

// Told around the clients of every hit (the helpers' environment follows the traced task).
class HitObserver {
 public:
  virtual void hit_begins(TracedMemory& memory) = 0;
  virtual void hit_ends() = 0;

 protected:
  ~HitObserver() = default;
};

class Kprobes {
 public:
  static constexpr uint64_t kFirstBadge = 0x1000;
  static constexpr uint32_t kMaxProbes = 256;
  static constexpr uint32_t kMaxClients = 8;

  // `traced_vspace`: the POSIX server's VSpace (Write: breakpoints, Read: borrows);
  // `endpoint`: where this server receives (hits come there badged per probe).
  Kprobes(uint64_t traced_vspace, uint64_t endpoint)
      : vspace_(traced_vspace), endpoint_(endpoint), memory_(traced_vspace) {}

  // Arms `address` (a function's entry NOP) for `client`; the breakpoint is made with the
  // first client. ENOSPC past kMaxProbes or kMaxClients, ENOMEM, EINVAL for an address the
  // kernel refuses (not executable code of the traced VSpace).
  [[nodiscard]] rt::Result<void> attach(uint64_t address, KprobeClient* client);
  // Removes the client; the last one takes the breakpoint away.
  void detach(uint64_t address, KprobeClient* client);

  bool handles(uint64_t badge) const {
    return badge >= kFirstBadge && badge < kFirstBadge + kMaxProbes;
  }
  // A breakpoint fault: runs every client of the probe (the reply, Resume, is the caller's).
  void hit(uint64_t badge, const sonde::abi::UserRegisters& registers, uint64_t address);
  uint64_t hits() const { return hits_; }
  void set_observer(HitObserver* observer) { observer_ = observer; }

 private:
  struct Probe {
    uint64_t address = 0;  // 0: free
    uint64_t breakpoint = 0;
    uint64_t badged_endpoint = 0;
    KprobeClient* clients[kMaxClients] = {};
    uint32_t client_count = 0;
  };
  Probe* find(uint64_t address);
  void disarm(Probe& probe);

  uint64_t vspace_;
  uint64_t endpoint_;
  BorrowedMemory memory_;
  Probe probes_[kMaxProbes];
  uint64_t hits_ = 0;
  HitObserver* observer_ = nullptr;
};

// Linux's pt_regs from a fault message's registers (ip = the probed address).
PtRegs pt_regs_from(const sonde::abi::UserRegisters& registers);

}  // namespace trace
