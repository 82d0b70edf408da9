// SPDX-License-Identifier: MIT
// tracefs: /sys/kernel/tracing and /sys/kernel/debug/tracing, files the trace server holds.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vfs/file.hpp"
#include "vfs/inode.hpp"

namespace posix {

// Mounts tracefs on both directories when the trace service is there (else they stay empty).
void mount_tracefs(FileTree& tree);
bool is_tracefs(const Inode* inode);

// open(2) of a tracefs file: O_TRUNC on a writable open of trace, set_event, error_log,
// kprobe_events or uprobe_events is a write at offset 0 (it empties them, as Linux's open).
// trace_pipe has one reader at a time: another open is EBUSY until that one's last close
// (Linux's pipe_cpumask in tracing_open_pipe, 6.5 and Debian's 6.1).
long tracefs_open(File* file);
// The last close of a tracefs file.
void tracefs_release(File* file);
// read(2) and write(2): one tracefsRead or tracefsWrite each. A blocking read of an empty
// trace_pipe returns kDeferred and is asked again when trace data may have come (see
// note_trace_activity) or after a poll interval.
long tracefs_read(File* file, uint64_t address, size_t count, uint64_t* pos);
long tracefs_write(File* file, uint64_t address, size_t count, uint64_t* pos);
// Brings a tracefs directory's entries up to date (getdents from its start).
void tracefs_refresh(FileTree& tree, Inode* directory);
// Trace data may have been written (a bpf() call ran a program).
void note_trace_activity();

}  // namespace posix
