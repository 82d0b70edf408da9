// SPDX-License-Identifier: MIT
// Uprobes: the trace server owns the sites (a file and an offset, from the uprobe PMU or an
// enabled uprobe_events event); the POSIX server arms them in every process that maps the file
// (breakpoints on its own fault endpoint), asks here how to run each probed instruction out of
// line, and forwards the hits (TraceService.uprobeSites/uprobePrepare/uprobeHit).
#pragma once

#include <stdint.h>

#include "rt/result.hpp"
#include "service.hpp"
#include "sonde/abi/ipc.hpp"
#include "trace.capnp.hpp"
#include "trace/perf_events.hpp"
#include "trace/probe_events.hpp"
#include "trace/tracefs.hpp"
#include "traced_memory.hpp"

namespace trace {

class HitObserver;
class TaskEnvironment;

class Uprobes final : public UprobeBackend {
 public:
  static constexpr uint32_t kMaxSites = 64;
  static constexpr uint32_t kPathMax = 256;

  // `posix_vspace`: the POSIX server's VSpace (Read), whose memory holds the page maps the
  // helpers walk during a hit.
  Uprobes(uint64_t posix_vspace, Tracefs& tracefs, TaskEnvironment& environment)
      : memory_(posix_vspace, /*instance=*/1), tracefs_(tracefs), environment_(environment) {}
  void set_table(ProbeTable* table) { table_ = table; }
  void set_observer(HitObserver* observer) { observer_ = observer; }

  // A uprobe PMU perf event (ProbeHooks::arm): its hits go to the ProbeTable under `probe`.
  rt::Result<void> arm_perf(uint32_t probe, const ProbeSpec& spec);
  // An enabled uprobe_events event: its hits are recorded in the trace buffer.
  rt::Result<void> arm_event(Event& event);
  // A uprobe_events event opened as a perf tracepoint (perf probe -x, then perf record -e
  // probe_FILE:NAME): a site of its own whose records go to the ProbeTable under `probe` (its
  // programs and perf events), not to the trace buffer; the event is busy (users) until
  // disarm_perf, as a kprobe event.
  rt::Result<void> arm_tracepoint(uint32_t probe, Event& event);
  void disarm_perf(uint32_t probe);
  void disarm_event(Event& event);

  // TraceService.uprobeSites: the sites now, unless `known` is the current generation.
  void sites(uint64_t known,
             sonde::proto::TraceService::UprobeSitesResults::Builder results) override;
  // TraceService.uprobePrepare: the instruction decoded (trace/xol.hpp).
  int64_t prepare(const uint8_t* bytes, size_t size, uint64_t address,
                  sonde::proto::UprobePlan::Builder plan) override;
  // TraceService.uprobeHit: runs the sites' programs or records their events.
  void hit(const uint32_t* probes, uint32_t count, const uint64_t* registers, bool is_return,
           uint64_t function) override;
  uint64_t generation() const { return generation_; }

 private:
  struct Site {
    uint32_t id = 0;         // 0: free; what the POSIX server names the site by
    uint32_t probe = 0;      // the ProbeTable probe the hits go to (0: the trace buffer)
    Event* event = nullptr;  // a uprobe_events event, else a uprobe PMU event's probe
    char path[kPathMax] = {};
    uint64_t offset = 0;
    bool is_return = false;
    int32_t pid = -1;
    uint64_t ref_ctr_offset = 0;  // the USDT semaphore the POSIX server counts while armed
  };
  rt::Result<Site*> add(const char* path, size_t length, uint64_t offset, bool is_return,
                        int32_t pid, uint64_t ref_ctr_offset);
  void record(Site& site, const PtRegs& regs, uint64_t function, uint64_t return_address);

  BorrowedMemory memory_;
  Tracefs& tracefs_;
  TaskEnvironment& environment_;
  ProbeTable* table_ = nullptr;
  HitObserver* observer_ = nullptr;
  Site sites_[kMaxSites];
  uint32_t next_id_ = 1;
  uint64_t generation_ = 1;
};

}  // namespace trace
