// SPDX-License-Identifier: MIT
// What the probe test programs share for raw bpf(2) and perf_event_open(2) (no libbpf): the
// instruction macro, the PMU types from sysfs, a one-element array map read as u64 words, a
// program load that prints the verifier's log when it fails.
#ifndef SONDE_LINUX_TESTS_BPF_RAW_H
#define SONDE_LINUX_TESTS_BPF_RAW_H

#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define INSN(code, dst, src, off, imm) ((struct bpf_insn){(code), (dst), (src), (off), (imm)})

static long sys_bpf(int cmd, union bpf_attr* attr) {
  return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

// /sys/bus/event_source/devices/PMU/type ("kprobe", "uprobe"), or -1.
static int pmu_type(const char* pmu) {
  char path[128], text[16] = {0};
  snprintf(path, sizeof path, "/sys/bus/event_source/devices/%s/type", pmu);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  return n > 0 ? atoi(text) : -1;
}

// An array map of one element of `words` u64 (at most 64), or -1.
static int new_word_map(unsigned words) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 8 * words;
  attr.max_entries = 1;
  return (int)sys_bpf(BPF_MAP_CREATE, &attr);
}

// Word `index` of such a map's element, or ~0 when it cannot be read.
static uint64_t map_word(int map, unsigned index) {
  uint64_t value[64] = {0};
  uint32_t key = 0;
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = (uint32_t)map;
  attr.key = (uint64_t)(uintptr_t)&key;
  attr.value = (uint64_t)(uintptr_t)value;
  if (index >= 64 || sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) != 0) return ~0ull;
  return value[index];
}

// PROG_LOAD of `count` instructions (GPL); on failure the verifier's log is printed.
static int load_insns(unsigned type, const struct bpf_insn* insns, unsigned count) {
  static char log[16384];
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = type;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = count;
  attr.license = (uint64_t)(uintptr_t) "GPL";
  attr.log_buf = (uint64_t)(uintptr_t)log;
  attr.log_size = sizeof log;
  attr.log_level = 1;
  int fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) printf("load: %s\n", log);
  return fd;
}

#endif
