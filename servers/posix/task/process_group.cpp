// SPDX-License-Identifier: MIT
// Process groups for job control: which are orphaned, and the SIGHUP and SIGCONT a stopped
// group gets when an exit orphans it (POSIX; Linux's will_become_orphaned_pgrp and
// kill_orphaned_pgrp).
#include "kernel/sched_tracepoints.hpp"
#include "task/process.hpp"

namespace posix {

namespace {

constexpr int kSigHup = 1, kSigCont = 18;

bool has_stopped_member(int pgid) {
  for (Process* p = first_process(); p != nullptr; p = p->next) {
    if (p->pgid == pgid && p->state == ProcessState::kRunning && p->stopped) return true;
  }
  return false;
}

void add_group(OrphanCandidates& candidates, int pgid) {
  for (int i = 0; i < candidates.count; ++i) {
    if (candidates.groups[i] == pgid) return;
  }
  // GAP: beyond kMax groups, the others are not checked.
  if (candidates.count < OrphanCandidates::kMax) candidates.groups[candidates.count++] = pgid;
}

}  // namespace

// Linux does not count a parent that is init (its children's groups are orphaned however init
// is placed); Sonde does, when init is in the same session: the busybox shell that is pid 1 on
// the console keeps its jobs' groups not orphaned, so ^Z stops them.
bool process_group_orphaned(int pgid) {
  for (Process* p = first_process(); p != nullptr; p = p->next) {
    if (p->pgid != pgid || p->state != ProcessState::kRunning) continue;
    const Process* parent = find_process(p->ppid);
    if (parent != nullptr && parent->pgid != pgid && parent->sid == p->sid) return false;
  }
  return true;
}

OrphanCandidates groups_linked_through(const Process* process) {
  OrphanCandidates candidates;
  const Process* parent = find_process(process->ppid);
  if (parent != nullptr && parent->pgid != process->pgid && parent->sid == process->sid) {
    add_group(candidates, process->pgid);
  }
  for (Process* p = first_process(); p != nullptr; p = p->next) {
    if (p->ppid == process->pid && p->state == ProcessState::kRunning && p->pgid != process->pgid &&
        p->sid == process->sid) {
      add_group(candidates, p->pgid);
    }
  }
  return candidates;
}

void hang_up_orphaned_groups(const OrphanCandidates& candidates) {
  for (int i = 0; i < candidates.count; ++i) {
    int pgid = candidates.groups[i];
    if (!process_group_orphaned(pgid) || !has_stopped_member(pgid)) continue;
    (void)send_signal(nullptr, -pgid, kSigHup, kSiKernel);
    (void)send_signal(nullptr, -pgid, kSigCont, kSiKernel);
  }
}

}  // namespace posix
