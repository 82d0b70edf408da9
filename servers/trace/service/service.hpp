// SPDX-License-Identifier: MIT
// The trace server's TraceService (proto/trace.capnp) over the core: one client connection.
#pragma once

#include <stdint.h>

#include "clients.hpp"
#include "rt/allocator.hpp"
#include "task_environment.hpp"
#include "trace.capnp.hpp"
#include "trace/forwarded_memory.hpp"
#include "trace/session.hpp"
#include "trace/tracefs.hpp"

namespace trace {

// Limits of one bpf() call as the IPC carries it.
inline constexpr uint32_t kMaxForwardedRanges = 64;
inline constexpr uint32_t kMaxDescriptors = 4096;

// What serve_bpf needs from a BpfRequest, already checked.
struct BpfServiceCall {
  int command;
  const uint8_t* attr;  // min(attr_size, 4096) bytes
  uint32_t attr_size;
  uint64_t attr_address;
  bool privileged;
  const int32_t* descriptors;
  uint32_t descriptor_count;
  const ForwardedMemory::Range* ranges;
  uint32_t range_count;
  sonde::proto::LinuxCall operation = sonde::proto::LinuxCall::kBpf;
  uint64_t arguments[4] = {};  // perf_event_open, ioctl and read: the call's other arguments
};

struct BpfServiceOutcome {
  bool need_memory = false;
  ForwardedMemory::Miss miss = {};
  int64_t result = 0;       // bpf()'s value or -errno
  bool new_handle = false;  // result is a handle the call made
};

// Runs one try of a bpf() call: its writes land in `write_log` (see ForwardedMemory). A try
// that missed memory leaves nothing behind (a handle it made is closed again).
BpfServiceOutcome serve_bpf(Session& session, const BpfServiceCall& call, uint8_t* write_log,
                            uint64_t write_capacity, uint64_t& log_size);

// The most one tracefsRead answers (the reply buffer holds 2 MiB).
inline constexpr uint32_t kMaxTracefsRead = 1u << 20;

// The preemption and migrate-disable depths a program's trace line shows (trace_entry's
// preempt_count): bpf() runs a program (PROG_TEST_RUN) with preemption off, as Linux's
// bpf_prog_test_run_raw_tp (get_cpu), and bpf_trace_printk disables it once more for its
// per-CPU buffers (bpf_bprintf_prepare), so Linux 6.1's trace_pipe shows "...2."; a kprobe
// runs it at preempt depth 2 with migration disabled ("...21", as Linux's trace_pipe shows
// for kprobe programs).
inline constexpr uint8_t kTestRunPreemptCount = 0x02;
inline constexpr uint8_t kProbePreemptCount = 0x12;

// bpf_trace_printk's message into the trace buffer, for the current task (the environment's
// pid and comm) at the environment's clock.
long record_trace_printk(Tracefs& tracefs, TaskEnvironment& environment, const char* message,
                         uint32_t length, uint8_t preempt_count = kTestRunPreemptCount);

// Shares a page of the trace server with the POSIX server: a copy of the Frame cap behind
// `page` into slot `slot` of the exchange CNode, with Write only when `writable`.
// The exchange CNode's slots (one mmap shares at most this many pages).
inline constexpr uint64_t kMaxGrantedPages = 4096;

class PageGranter {
 public:
  virtual rt::Result<void> grant(const uint8_t* page, uint32_t slot, bool writable) = 0;
  // Takes back what grant put in `slot` (a failed mmap after some pages were granted).
  virtual void take_back(uint32_t slot) = 0;

 protected:
  ~PageGranter() = default;
};

// The server's uprobes (servers/trace/probes/uprobes.hpp and the x86 decoder): without one,
// uprobeSites answers an empty set and the other two ENOSYS.
class UprobeBackend {
 public:
  virtual void sites(uint64_t known,
                     sonde::proto::TraceService::UprobeSitesResults::Builder results) = 0;
  // 0 or -errno; fills `plan`.
  virtual int64_t prepare(const uint8_t* bytes, size_t size, uint64_t address,
                          sonde::proto::UprobePlan::Builder plan) = 0;
  // `registers`: the thread's UserRegisters (sonde/abi/ipc.hpp), kRegisterWords words.
  static constexpr uint32_t kRegisterWords = 19;
  virtual void hit(const uint32_t* probes, uint32_t count, const uint64_t* registers,
                   bool is_return, uint64_t function) = 0;

 protected:
  ~UprobeBackend() = default;
};

// Files outside tracefs the trace server answers for through the tracefs methods, named below
// kOtherFilesPrefix: "@debugfs/kprobes/list" and "@debugfs/kprobes/enabled" (debugfs's
// kprobes/ directory, which the POSIX server mounts at /sys/kernel/debug/kprobes) and
// "@sysctl/kernel/bpf_stats_enabled" (/proc/sys/kernel/bpf_stats_enabled).
inline constexpr char kOtherFilesPrefix = '@';

// The server binary's registered kprobes as Linux's kprobes/list shows them.
class KprobeListing {
 public:
  virtual void list_kprobes(TextBuffer& out) = 0;
  // kprobes/blacklist: "0xSTART-0xEND\tFUNCTION" a line, as Linux shows root.
  virtual void list_blacklist(TextBuffer& out) = 0;

 protected:
  ~KprobeListing() = default;
};

class Service final : public sonde::proto::TraceService::Server {
 public:
  // `write_log` holds the writes of one call; the reply carries them (so it needs about as
  // much room in the reply buffer).
  Service(Session& session, TaskEnvironment& environment, Tracefs& tracefs, uint8_t* write_log,
          uint64_t write_capacity, uint64_t instance = 1)
      : instance_(instance),
        session_(&session),
        environment_(environment),
        tracefs_(tracefs),
        write_log_(write_log),
        write_capacity_(write_capacity) {
    // Every trace line is one a blocked trace_pipe reader may be waiting for.
    tracefs.buffer().set_wakeup(&ReaderWakeups::wake, &session.objects().reader_wakeups());
  }

  // The client of the calls from here on (ClientSessions::find by the call's badge): its session
  // holds the handles; a native client gets a fixed identity and privileges in bpf, its writes
  // must fit an inline reply (kNativeWriteCapacity), and the POSIX server's own methods (mmap
  // grants through the exchange CNode, uprobes, the crash drill) are refused to it.
  void set_client(const Client& client) {
    session_ = client.session;
    client_ = client.kind;
  }
  // A native call's writes (map values, attr output fields): with their framing they fit in
  // the 936 bytes of an inline reply; more is E2BIG, as a reply the POSIX server cannot carry.
  static constexpr uint64_t kNativeWriteCapacity = 512;

  rt::Result<void> bpf(sonde::proto::TraceService::BpfParams::Reader params,
                       sonde::proto::TraceService::BpfResults::Builder results) override;
  rt::Result<void> close(sonde::proto::TraceService::CloseParams::Reader params,
                         sonde::proto::TraceService::CloseResults::Builder results) override;
  rt::Result<void> instance(sonde::proto::TraceService::InstanceParams::Reader params,
                            sonde::proto::TraceService::InstanceResults::Builder results) override;
  rt::Result<void> crash(sonde::proto::TraceService::CrashParams::Reader params,
                         sonde::proto::TraceService::CrashResults::Builder results) override;
  // The crash drill: `at_next_hit` false faults at once. Without a hook, crash is ENOSYS.
  void set_crash_hook(void (*hook)(bool at_next_hit, bool at_next_return)) { crash_hook_ = hook; }

  // mmap and poll of trace-server fds (object_mmap.hpp); without a granter, mmap is ENODEV.
  rt::Result<void> mmapGrant(
      sonde::proto::TraceService::MmapGrantParams::Reader params,
      sonde::proto::TraceService::MmapGrantResults::Builder results) override;
  rt::Result<void> poll(sonde::proto::TraceService::PollParams::Reader params,
                        sonde::proto::TraceService::PollResults::Builder results) override;
  void set_page_granter(PageGranter* granter) { granter_ = granter; }

  // Uprobes (UprobeBackend): the POSIX server arms them, hits come back here.
  rt::Result<void> uprobeSites(
      sonde::proto::TraceService::UprobeSitesParams::Reader params,
      sonde::proto::TraceService::UprobeSitesResults::Builder results) override;
  rt::Result<void> uprobePrepare(
      sonde::proto::TraceService::UprobePrepareParams::Reader params,
      sonde::proto::TraceService::UprobePrepareResults::Builder results) override;
  rt::Result<void> uprobeHit(
      sonde::proto::TraceService::UprobeHitParams::Reader params,
      sonde::proto::TraceService::UprobeHitResults::Builder results) override;
  void set_uprobes(UprobeBackend* uprobes) { uprobes_ = uprobes; }
  // The POSIX server's raw uprobe hit (sys::kUprobeHitLabel, sys::UprobeHitMessage, copied out
  // of the shared request buffer and its count checked by the caller): as uprobeHit, without
  // Cap'n Proto. A stale instance or no uprobes here: nothing runs.
  void uprobe_hit(uint64_t instance, const uint32_t* probes, uint32_t count,
                  const uint64_t* registers, bool is_return, uint64_t function);
  // The POSIX server's raw poll (sys::kTracePollLabel), for the client set last: as `poll`,
  // the event mask or -errno (ESTALE for another instance).
  int64_t poll_handle(uint32_t handle, uint64_t instance);
  void set_kprobe_listing(KprobeListing* listing) { kprobe_listing_ = listing; }

  // tracefs (tracefs_service.cpp): the files below /sys/kernel/tracing, by path.
  rt::Result<void> tracefsRead(
      sonde::proto::TraceService::TracefsReadParams::Reader params,
      sonde::proto::TraceService::TracefsReadResults::Builder results) override;
  rt::Result<void> tracefsWrite(
      sonde::proto::TraceService::TracefsWriteParams::Reader params,
      sonde::proto::TraceService::TracefsWriteResults::Builder results) override;
  rt::Result<void> tracefsList(
      sonde::proto::TraceService::TracefsListParams::Reader params,
      sonde::proto::TraceService::TracefsListResults::Builder results) override;

 private:
  // A program that calls bpf_trace_printk switches its event on when it loads, as Linux.
  void note_program_loaded(int32_t handle);

  uint64_t instance_;
  // EPERM for a native client: what only the POSIX server may call.
  rt::Result<void> posix_only() const;

  void (*crash_hook_)(bool, bool) = nullptr;
  PageGranter* granter_ = nullptr;
  UprobeBackend* uprobes_ = nullptr;
  KprobeListing* kprobe_listing_ = nullptr;
  // The "@" files (tracefs_service.cpp): their whole text, a write, a directory's names.
  [[nodiscard]] rt::Result<void> render_other(const char* path, size_t length, TextBuffer& out);
  [[nodiscard]] rt::Result<uint32_t> write_other(const char* path, size_t length, uint64_t offset,
                                                 const char* data, size_t size);
  [[nodiscard]] rt::Result<bool> list_other(const char* path, size_t length, TextBuffer& names);
  Session* session_;
  ClientKind client_ = ClientKind::kPosix;
  TaskEnvironment& environment_;
  Tracefs& tracefs_;
  uint8_t* write_log_;
  uint64_t write_capacity_;
};

}  // namespace trace
