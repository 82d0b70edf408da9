// SPDX-License-Identifier: MIT
// procfs: /proc rebuilt from the process table whenever a path under it is used.
#pragma once

#include "task/process.hpp"
#include "vfs/inode.hpp"

namespace posix {

// Brings /proc up to date: /proc/<pid>/{stat,status,cmdline,comm,environ,maps}, /proc/self for
// `viewer`, and the system files (meminfo, cpuinfo, uptime, version, loadavg, mounts,
// filesystems, sonde/enosys).
// With `path` (an absolute path under /proc), only what the path can reach: a path into one
// process's directory ("/proc/self/exe", which busybox reads at every start; "/proc/42/stat")
// brings up to date that process's directory alone (and /proc/self), anything else all of /proc.
void refresh_procfs(FileTree& tree, Process* viewer, const char* path = nullptr);

// Does `path` (from `cwd`) reach into /proc?
bool under_procfs(FileTree& tree, Inode* cwd, const char* path);

// /proc/sonde/trace-server: reading shows the trace server's instance and restarts; writing
// "restart" replaces it with a fresh instance, "crash" makes it fault (the root task restarts
// it), "crash-at-hit" makes it fault inside its next probe hit (crash isolation drills). Control
// files take writes here instead of storing them: the bytes written, or -errno.
bool is_procfs_control(const Inode* inode);
long procfs_control_write(Inode* inode, const char* data, size_t length);

}  // namespace posix
