// SPDX-License-Identifier: MIT
// Uprobes in Linux processes. The trace server owns the sites (a file and an offset); the POSIX
// server, pager of every process, arms them: in each process that maps the file executable it
// puts a breakpoint (a Breakpoint object bound to the process's VSpace, each hit to the hitting
// thread's fault endpoint), an out-of-line copy of the probed instruction in the process's uprobe
// page (the trace server decodes it: TraceService.uprobePrepare), and for return probes a
// trampoline and the pending returns there, keyed by the stack address of each return address,
// so every thread finds its own. Hits come here as breakpoint faults and go on to the trace
// server (uprobeHit); a dead trace server only means the programs do not run: the instruction
// still runs out of line and pending returns still reach their callers (the trampoline finds
// and frees its entry itself).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/result.hpp"
#include "sonde/abi/ipc.hpp"

namespace posix {

struct Process;

// Asks the trace server for its sites if they may have changed (after perf_event_open, its
// ioctls, closes, tracefs writes) and arms or disarms them in every process.
void uprobes_sync();
// The process's areas changed (exec loaded an image, mmap or mprotect made file pages
// executable): arms the sites that apply, forgets probes whose pages went.
void uprobes_mapped(Process* process);
// exec: the old address space (and every breakpoint in it) is gone; the new one gets the sites.
void uprobes_exec(Process* process);
// fork: the child shares the parent's frames, int3s included; the pages with one become the
// child's own copies with the original bytes back, and the child gets its own breakpoints
// before its thread runs (else it would take the int3s as SIGTRAP). An error (no memory for a
// copy) fails the fork: the child must not run into the parent's int3s.
rt::Result<void> uprobes_fork(Process* parent, Process* child);
// What Linux's uprobe creation finds at `path` (`length` bytes): 0 for a regular file, ENOENT,
// or EINVAL for anything else (kern_path, d_is_reg).
int uprobe_path_status(Process* process, const char* path, size_t length);
// A write to uprobe_events: the errno of the first definition whose file is not a regular
// file (the trace server cannot see files), else 0.
int uprobe_events_status(Process* process, const uint8_t* text, size_t length);

// exit: the breakpoints go.
void uprobes_exit(Process* process);

// What Linux would show as the instruction pointer of a thread of `process` stopped at `rip`
// (in a signal's context): a uprobe's out-of-line slot stands for the probed instruction (at
// the copy) or the one after it (at the jump back), as Linux reports a fault or signal taken
// while it runs a uprobe's instruction out of line; any other address is itself.
uint64_t uprobes_user_address(const Process* process, uint64_t rip);

// A breakpoint fault of thread `tid` of `process` at `address`. True when the thread goes on
// with `registers` (SetRegisters: an emulated branch or call); false for Resume (the kernel
// runs the copy out of line, or the trampoline's NOP).
bool uprobes_hit(Process* process, int tid, sonde::abi::UserRegisters& registers, uint64_t address);

}  // namespace posix
