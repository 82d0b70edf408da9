// SPDX-License-Identifier: MIT
// What kprobe_checks.c (kprobes and kretprobes) and kprobe_tracepoints.c (tracepoints, raw
// tracepoints, user memory read by programs) share: one program, one count of checks.
#ifndef SONDE_LINUX_TESTS_KPROBE_CHECKS_H
#define SONDE_LINUX_TESTS_KPROBE_CHECKS_H

#include <stdint.h>

#define CHECKS_SHARED 1  // passed and failed are kprobe_checks.c's, for both files
#include "bpf_raw.h"
#include "checks.h"

// kprobe_checks.c: a map of three words, its word `index`, and a program of `type` that adds
// one to word 0 and puts the u64 at `offset` of its context in word 1.
int new_counter(void);
uint64_t slot(int map, uint32_t index);
int load_context_counter(int map, unsigned type, short offset);

// kprobe_tracepoints.c: the checks of tracepoints and of user memory read by programs.
void pages_read_again(void);
void tracepoints(void);
void sched_tracepoints(void);
void user_memory(void);

#endif
