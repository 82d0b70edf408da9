// SPDX-License-Identifier: MIT
// The POSIX server's connection to the trace server, and the Linux calls forwarded on it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/result.hpp"
#include "sys/server_start.hpp"
#include "trace.capnp.hpp"

namespace posix {

// Connects to the trace service if the root task gave one (kStartFlagHasTrace).
void init_trace_service(const sys::ServerStartInfo& info);
bool trace_service_available();
// The connection, or nullptr without a trace server.
sonde::proto::TraceService::Client* trace_service_client();

struct Process;
struct File;
struct SyscallContext;
// ioctl and read on a trace-server fd (perf events; others answer as Linux's bpf fds).
int64_t trace_file_ioctl(SyscallContext& c, int fd, uint64_t request, uint64_t argument);
int64_t trace_file_read(SyscallContext& c, File& file, uint64_t buffer, uint64_t count);
// mmap of a trace-server fd at `address` (an area sys_mmap made): the object's pages mapped
// into the caller (0 or -errno). poll(): its event mask.
int64_t trace_file_mmap(SyscallContext& c, File& file, uint64_t address, uint64_t length,
                        uint32_t prot, bool shared, uint64_t offset);
int trace_file_poll(File& file);
// Writes the current-task record the trace server reads on a probe hit (nullptr: the server
// works for nobody, as Linux's idle task: pid 0, comm "swapper/0"). `tid` is the thread's id
// (0: the process's pid, its leader's).
void publish_current_task(Process* process, int tid = 0);
// The same when the record is someone else's: what the server does between two system calls of
// one process needs no rewrite (a process's own changes, exec's comm, publish themselves).
void use_current_task(Process* process, int tid = 0);
// Whose the record is now.
Process* published_current_task();
// Which of its threads (its tid; the pid for the leader, 0 for none).
int published_current_tid();
// The CPU the current task runs on (the fault message's of what the server serves), in the same
// record: probe hits in the server report it as theirs.
void use_current_cpu(uint32_t cpu);

// The root task's view of the trace server (proto/supervisor.capnp health).
struct TraceServerStatus {
  bool available = false;
  uint64_t instance = 0;
  uint32_t restarts = 0;
};
TraceServerStatus trace_server_status();
// Asks the root task for a fresh trace-server instance; fds of the old one become stale.
rt::Result<void> restart_trace_server();
// The crash drill: the trace server faults now (the call ends when the root task has restarted
// it) or in its next probe hit.
enum class CrashWhen { kNow, kNextHit, kNextReturn };
rt::Result<void> crash_trace_server(CrashWhen when);

// The lines of /proc/<pid>/fdinfo/<fd> particular to a BPF map or program fd of `owner`, as
// Linux 6.1's bpf_map_show_fdinfo and bpf_prog_show_fdinfo print them (from the trace
// server's BPF_OBJ_GET_INFO_BY_FD); their length (0 for other objects or on failure).
size_t trace_fdinfo(const Process& owner, const File& file, char* out, size_t capacity);

// The last close of a kTrace file.
void close_trace_handle(uint32_t handle, uint64_t instance);

// The trace wakeup (tracing/trace_wakeup.cpp): a thread waits on the notification the trace
// server signals (sys::kServerSlotTraceWakeupWait) and calls `endpoint` with `badge`; serve()
// then calls trace_wakeup, which counts it (trace_events()) before the blocked calls are
// retried. Without the trace service there is no thread.
void init_trace_wakeup(uint64_t endpoint, uint64_t badge);
void trace_wakeup();
// Counted for /proc/sonde/trace-wakeups: the wakeups served, and the polls of trace-server
// files asked of the trace server (what a call blocked on them costs each time it is retried).
struct TraceWakeupCounts {
  uint64_t wakeups = 0;
  uint64_t polls = 0;
};
TraceWakeupCounts trace_wakeup_counts();
void note_trace_poll();

}  // namespace posix
