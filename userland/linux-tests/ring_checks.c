// SPDX-License-Identifier: MIT
// BPF ring buffers and perf rings read through mmap, as libbpf reads them: the consumer page
// read-write, the producer page and the data (mapped twice) read-only; a perf event's
// perf_event_mmap_page and data pages; poll() for readiness; a BPF_F_MMAPABLE array's values;
// Linux's mmap errors. Records come from raw tracepoint programs run by BPF_PROG_TEST_RUN (host
// and Sonde); `--attach` adds kprobe programs on do_unlinkat (Sonde only: nothing is attached to
// the host's kernel), including a poll, an epoll_wait and a poll of a perf ring that block until
// a child's unlink produces a record, a reader blocked in epoll_wait while another process makes
// system calls (on Sonde the ring is not polled for each: /proc/sonde/trace-wakeups), a perf ring
// per CPU filled from CPU 0 and CPU 1, and the bound on ring pages a process maps; `--restart`
// checks that a ring mapped across a trace-server restart faults in its process only, and that
// the restart wakes a reader blocked on a ring.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"

#define INSN(code, dst, src, off, imm) ((struct bpf_insn){(code), (dst), (src), (off), (imm)})
#define PAGE 4096
#define RING_BYTES (4 * PAGE)
#define MAGIC 0x52494e47u  // "GNIR"
#define ENOTSUPP_LINUX 524
#define MISSING "/tmp/ring_checks_missing"

// The tgid the records carry: the process that ran the program (a child reading the shared ring
// still expects its parent's).
static uint32_t writer;

static long sys_bpf(int cmd, union bpf_attr* attr) {
  return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int new_map(unsigned type, unsigned key, unsigned value, unsigned entries) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = type;
  attr.key_size = key;
  attr.value_size = value;
  attr.max_entries = entries;
  return (int)sys_bpf(BPF_MAP_CREATE, &attr);
}

// A program that writes a 16-byte record {MAGIC, tgid, 0} with bpf_ringbuf_output(map, data,
// 16, 0), or with bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, data, 16) when `perf`.
static int load_output(int map, unsigned type, int perf) {
  struct bpf_insn insns[32];
  int n = 0;
  insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
  insns[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_pid_tgid);
  insns[n++] = INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, 32);
  insns[n++] = INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_0, -12, 0);
  insns[n++] = INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -16, MAGIC);
  insns[n++] = INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, 0);
  if (perf) {
    insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0);
    insns[n++] = INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_2, BPF_PSEUDO_MAP_FD, 0, map);
    insns[n++] = INSN(0, 0, 0, 0, 0);
    insns[n++] = INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, -1);  // BPF_F_CURRENT_CPU
    insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_10, 0, 0);
    insns[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, -16);
    insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_5, 0, 0, 16);
    insns[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_perf_event_output);
  } else {
    insns[n++] = INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map);
    insns[n++] = INSN(0, 0, 0, 0, 0);
    insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
    insns[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -16);
    insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 16);
    insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, 0);
    insns[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_output);
  }
  insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
  insns[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  static char log[16384];
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = type;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)n;
  attr.license = (uint64_t)(uintptr_t) "GPL";
  attr.log_buf = (uint64_t)(uintptr_t)log;
  attr.log_size = sizeof log;
  attr.log_level = 1;
  int fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) printf("load: %s\n", log);
  return fd;
}

static int test_run(int program) {
  uint64_t args[1] = {0};
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = (uint32_t)program;
  attr.test.ctx_in = (uint64_t)(uintptr_t)args;
  attr.test.ctx_size_in = sizeof args;
  if (sys_bpf(BPF_PROG_TEST_RUN, &attr) != 0) return -errno;
  return (int)attr.test.retval;
}

static int ready(int fd, int timeout_ms) {
  struct pollfd entry = {fd, POLLIN, 0};
  int n = poll(&entry, 1, timeout_ms);
  return n == 1 && (entry.revents & POLLIN) ? 1 : n;
}

// A BPF ring buffer as libbpf maps it.
struct ring {
  volatile uint64_t* consumer;
  const volatile uint64_t* producer;
  const uint8_t* data;
};

static int map_ring(int fd, struct ring* ring) {
  void* consumer = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  void* producer = mmap(NULL, PAGE + 2 * RING_BYTES, PROT_READ, MAP_SHARED, fd, PAGE);
  if (consumer == MAP_FAILED || producer == MAP_FAILED) return -1;
  ring->consumer = consumer;
  ring->producer = producer;
  ring->data = (const uint8_t*)producer + PAGE;
  return 0;
}

// ring_buffer__consume: every committed record from consumer_pos to producer_pos; each must be
// {MAGIC, our tgid}. Returns the count, or -1 for a bad record.
static int consume(struct ring* ring) {
  int count = 0;
  uint64_t consumer = *ring->consumer;
  uint64_t producer = __atomic_load_n(ring->producer, __ATOMIC_ACQUIRE);
  while (consumer < producer) {
    const uint8_t* header = ring->data + (consumer & (RING_BYTES - 1));
    uint32_t length = __atomic_load_n((const uint32_t*)header, __ATOMIC_ACQUIRE);
    if (length & BPF_RINGBUF_BUSY_BIT) break;
    if (!(length & BPF_RINGBUF_DISCARD_BIT)) {
      uint32_t record[4];
      memcpy(record, header + BPF_RINGBUF_HDR_SZ, sizeof record);  // may run into the 2nd copy
      if ((length & 0xffffff) != 16 || record[0] != MAGIC || record[1] != writer) {
        return -1;
      }
      ++count;
    }
    consumer += ((length & 0xffffff) + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
    __atomic_store_n(ring->consumer, consumer, __ATOMIC_RELEASE);
  }
  return count;
}

static void ringbuf_mmap_errors(int fd, int program) {
  CHECK_ERRNO("ringbuf: producer page writable: EPERM",
              mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE), EPERM);
  CHECK_ERRNO("ringbuf: two pages writable: EPERM",
              mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
  CHECK_ERRNO("ringbuf: private: EINVAL",
              mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), EINVAL);
  CHECK_ERRNO("ringbuf: past the data's second copy: EINVAL",
              mmap(NULL, PAGE + 2 * RING_BYTES + PAGE, PROT_READ, MAP_SHARED, fd, PAGE), EINVAL);
  CHECK_ERRNO("ringbuf: offset past the end: EINVAL",
              mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 2 * PAGE + 2 * RING_BYTES), EINVAL);
  int hash = new_map(BPF_MAP_TYPE_HASH, 4, 8, 4);
  CHECK_ERRNO("hash map: ENOTSUPP", mmap(NULL, PAGE, PROT_READ, MAP_SHARED, hash, 0),
              ENOTSUPP_LINUX);
  int array = new_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4);
  CHECK_ERRNO("array without BPF_F_MMAPABLE: EINVAL",
              mmap(NULL, PAGE, PROT_READ, MAP_SHARED, array, 0), EINVAL);
  CHECK_ERRNO("program fd: ENODEV", mmap(NULL, PAGE, PROT_READ, MAP_SHARED, program, 0), ENODEV);
  close(hash);
  close(array);
}

static void ringbuf_checks(void) {
  int fd = new_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING_BYTES);
  CHECK("MAP_CREATE ringbuf", fd >= 0);
  int program = load_output(fd, BPF_PROG_TYPE_RAW_TRACEPOINT, 0);
  CHECK("PROG_LOAD raw_tracepoint with bpf_ringbuf_output", program >= 0);
  ringbuf_mmap_errors(fd, program);
  struct ring ring = {0};
  int mapped = map_ring(fd, &ring) == 0;
  CHECK("mmap consumer (rw) and producer + data twice (ro)", mapped);
  if (!mapped) return;
  CHECK_ERRNO("mprotect the producer page writable: EACCES",
              mprotect((void*)ring.producer, PAGE, PROT_READ | PROT_WRITE), EACCES);
  CHECK("an empty ring: poll says nothing", ready(fd, 0) == 0);
  CHECK("PROG_TEST_RUN writes a record", test_run(program) == 0);
  CHECK("producer_pos moved", *ring.producer == 24);
  CHECK("poll: POLLIN", ready(fd, 0) == 1);
  CHECK("the record through the mapping", consume(&ring) == 1);
  CHECK("consumed: poll says nothing", ready(fd, 0) == 0);
  // 24-byte records do not divide the ring: some wrap, read through the second copy.
  int good = 1;
  for (int i = 0; i < 1000 && good; ++i) {
    good = test_run(program) == 0 && consume(&ring) == 1;
  }
  CHECK("1000 records, wrapping around the ring", good);
  CHECK("the producer went round", *ring.producer == 24 * 1001 && *ring.consumer == 24 * 1001);
  // The mapping is shared with a child: it consumes, the parent sees consumer_pos move.
  CHECK("one more record", test_run(program) == 0);
  pid_t child = fork();
  if (child == 0) _exit(consume(&ring) == 1 ? 0 : 1);
  int status = -1;
  waitpid(child, &status, 0);
  CHECK("a forked child reads the shared ring and moves consumer_pos",
        WIFEXITED(status) && WEXITSTATUS(status) == 0 && *ring.consumer == 24 * 1002);
  munmap((void*)ring.consumer, PAGE);
  munmap((void*)ring.producer, PAGE + 2 * RING_BYTES);
  close(program);
  close(fd);
  // The mapping keeps the ring after its only fd is closed (as a vma keeps its file); in a
  // child, so a ring gone too early kills only the child.
  child = fork();
  if (child == 0) {
    int only = new_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING_BYTES);
    struct ring kept = {0};
    if (only < 0 || map_ring(only, &kept) != 0) _exit(2);
    close(only);
    _exit(*kept.producer == 0 && *kept.consumer == 0 ? 0 : 3);
  }
  status = -1;
  waitpid(child, &status, 0);
  CHECK("a mapped ring outlives its closed fd", WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// Rings of changing sizes made, written, mapped and dropped in turn: each new one reads as
// zeroes (the memory of the dropped ones is reused, never shown again).
static void ringbuf_churn(void) {
  int good = 1;
  for (int i = 0; i < 200 && good; ++i) {
    uint32_t bytes = PAGE << (i % 4);
    int fd = new_map(BPF_MAP_TYPE_RINGBUF, 0, 0, bytes);
    const volatile uint64_t* producer =
        mmap(NULL, PAGE + 2 * bytes, PROT_READ, MAP_SHARED, fd, PAGE);
    volatile uint64_t* consumer = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    good = fd >= 0 && producer != MAP_FAILED && consumer != MAP_FAILED && *producer == 0 &&
           *consumer == 0 && producer[PAGE / 8] == 0 && producer[(PAGE + 2 * bytes) / 8 - 1] == 0;
    if (producer != MAP_FAILED) munmap((void*)producer, PAGE + 2 * bytes);
    if (consumer != MAP_FAILED) {
      *consumer = 0x5a5a;  // a reader's write the next ring must not show
      munmap((void*)consumer, PAGE);
    }
    close(fd);
  }
  CHECK("200 rings of 4 sizes made, mapped and dropped: each new one zeroed", good);
}

// A perf ring as libbpf's perf_buffer maps it: 1 + 4 pages, read-write.
struct perf_ring {
  struct perf_event_mmap_page* header;
  const uint8_t* data;
};

// PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW: {header, u32 size, data}. The count read.
static int read_samples(struct perf_ring* ring) {
  int count = 0;
  uint64_t head = __atomic_load_n(&ring->header->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = ring->header->data_tail;
  uint64_t size = ring->header->data_size;
  while (tail < head) {
    uint8_t record[64];
    struct perf_event_header header;
    for (size_t i = 0; i < sizeof header; ++i) {
      ((uint8_t*)&header)[i] = ring->data[(tail + i) & (size - 1)];
    }
    if (header.size > sizeof record || header.size < sizeof header) return -1;
    for (size_t i = 0; i < header.size; ++i) record[i] = ring->data[(tail + i) & (size - 1)];
    if (header.type == PERF_RECORD_SAMPLE) {
      uint32_t raw_size, body[2];
      memcpy(&raw_size, record + 8, 4);
      memcpy(body, record + 12, 8);
      if (header.size != 32 || raw_size != 20 || body[0] != MAGIC || body[1] != writer) return -1;
      ++count;
    }
    tail += header.size;
  }
  __atomic_store_n(&ring->header->data_tail, tail, __ATOMIC_RELEASE);
  return count;
}

static int open_output_event_on(int cpu) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_BPF_OUTPUT;
  attr.sample_period = 1;
  attr.sample_type = PERF_SAMPLE_RAW;
  attr.wakeup_events = 1;
  return (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int open_output_event(void) { return open_output_event_on(0); }

static int perf_array_with(int event) {
  int array = new_map(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 1);
  uint32_t key = 0, value = (uint32_t)event;
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = (uint32_t)array;
  attr.key = (uint64_t)(uintptr_t)&key;
  attr.value = (uint64_t)(uintptr_t)&value;
  if (array < 0 || sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) != 0) return -1;
  return array;
}

static int map_perf_ring(int event, struct perf_ring* ring) {
  void* memory = mmap(NULL, PAGE + RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, event, 0);
  if (memory == MAP_FAILED) return -1;
  ring->header = memory;
  ring->data = (const uint8_t*)memory + PAGE;
  return 0;
}

static void perf_checks(void) {
  int event = open_output_event();
  CHECK("perf_event_open BPF_OUTPUT on CPU 0", event >= 0);
  int array = perf_array_with(event);
  CHECK("a perf event array holding it", array >= 0);
  CHECK_ERRNO("perf: 3 data pages: EINVAL",
              mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, event, 0), EINVAL);
  CHECK_ERRNO("perf: private: EINVAL",
              mmap(NULL, PAGE + RING_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE, event, 0), EINVAL);
  struct perf_ring ring = {0};
  int mapped = map_perf_ring(event, &ring) == 0;
  CHECK("mmap 1 + 4 pages", mapped);
  if (!mapped) return;
  CHECK("data_offset, data_size",
        ring.header->data_offset == PAGE && ring.header->data_size == RING_BYTES);
  CHECK_ERRNO("perf: a second mapping of another size: EINVAL",
              mmap(NULL, PAGE + 2 * RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, event, 0),
              EINVAL);
  CHECK("no sample yet: poll says nothing", ready(event, 0) == 0);
  int program = load_output(array, BPF_PROG_TYPE_RAW_TRACEPOINT, 1);
  CHECK("PROG_LOAD raw_tracepoint with bpf_perf_event_output", program >= 0);
  CHECK("PROG_TEST_RUN writes a sample", test_run(program) == 0);
  CHECK("poll: POLLIN", ready(event, 0) == 1);
  CHECK("data_head moved by one sample", ring.header->data_head == 32);
  CHECK("the sample through the mapping", read_samples(&ring) == 1);
  int good = 1;
  for (int i = 0; i < 1000 && good; ++i) good = test_run(program) == 0 && read_samples(&ring) == 1;
  CHECK("1000 samples, wrapping around the ring", good);
  munmap(ring.header, PAGE + RING_BYTES);
  close(program);
  close(array);
  close(event);
}

// A BPF_F_MMAPABLE array (libbpf's global data): its values, read-write, seen by bpf() too.
static void array_checks(void) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 8;
  attr.max_entries = 1024;  // two pages
  attr.map_flags = BPF_F_MMAPABLE;
  int fd = (int)sys_bpf(BPF_MAP_CREATE, &attr);
  uint64_t* values = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK("mmap a BPF_F_MMAPABLE array", fd >= 0 && values != MAP_FAILED);
  if (values == MAP_FAILED) return;
  values[600] = 0x1122334455667788ull;
  uint32_t key = 600;
  uint64_t value = 0;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = (uint32_t)fd;
  attr.key = (uint64_t)(uintptr_t)&key;
  attr.value = (uint64_t)(uintptr_t)&value;
  CHECK("a value written through the mapping, read by bpf()",
        sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) == 0 && value == 0x1122334455667788ull);
  key = 3;
  value = 42;
  CHECK("a value written by bpf(), read through the mapping",
        sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) == 0 && values[3] == 42);
  CHECK_ERRNO("array: past its values: EINVAL", mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, fd, 0),
              EINVAL);
  munmap(values, 2 * PAGE);
  close(fd);
}

// Sonde only: the same programs as kprobes on do_unlinkat.
static int open_kprobe(const char* function) {
  char text[16] = {0};
  int fd = open("/sys/bus/event_source/devices/kprobe/type", O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = n > 0 ? (uint32_t)atoi(text) : 0;
  attr.config1 = (uint64_t)(uintptr_t)function;
  return (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
}

static int attach(int map, int perf) {
  int program = load_output(map, BPF_PROG_TYPE_KPROBE, perf);
  int kprobe = open_kprobe("do_unlinkat");
  if (program < 0 || kprobe < 0 || ioctl(kprobe, PERF_EVENT_IOC_SET_BPF, program) != 0 ||
      ioctl(kprobe, PERF_EVENT_IOC_ENABLE, 0) != 0) {
    return -1;
  }
  close(program);
  return kprobe;
}

// Waits with no timeout for `fd` to be readable, by epoll_wait or poll: the number of fds ready,
// or -1 when 20 s passed first (SIGALRM, whose handler on_alarm is), so a wakeup that never comes
// fails its check instead of hanging the test (a wait the signal ends may still find the fd
// ready: it counts as failed all the same).
static volatile sig_atomic_t alarmed;
static void on_alarm(int signal) {
  (void)signal;
  alarmed = 1;
}
static int wait_readable(int fd, int use_epoll) {
  alarmed = 0;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_alarm;  // no SA_RESTART: the wait ends
  sigaction(SIGALRM, &action, NULL);
  int n = -1;
  alarm(20);
  if (use_epoll) {
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = EPOLLIN;
    if (epoll >= 0 && epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0) {
      n = epoll_wait(epoll, &event, 1, -1);
    }
    if (epoll >= 0) close(epoll);
  } else {
    n = ready(fd, -1);
  }
  alarm(0);
  return alarmed ? -1 : n;
}

// The polls of trace-server files the POSIX server has asked of the trace server
// (/proc/sonde/trace-wakeups), or -1 where there is no such count (Linux).
static long trace_polls(void) {
  char text[128] = {0};
  int fd = open("/proc/sonde/trace-wakeups", O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  const char* polls = n > 0 ? strstr(text, "polls ") : NULL;
  return polls != NULL ? atol(polls + 6) : -1;
}

// A reader blocked in epoll_wait with no timeout (opensnoop's way) while this process makes 200
// system calls: it wakes for the record the probe writes when this process unlinks. On Sonde
// the calls in between cost it nothing: the POSIX server asks the trace server about the ring
// after the trace server's wakeup, not after each of them. Returns the child's wait status.
static int epoll_reader_wakes(int fd, long* polls_meanwhile) {
  pid_t child = fork();
  if (child == 0) _exit(wait_readable(fd, 1) == 1 ? 0 : 1);
  usleep(200000);  // it blocks
  long before = trace_polls();
  for (int i = 0; i < 100; ++i) close(open("/dev/null", O_RDONLY));
  *polls_meanwhile = before < 0 ? 0 : trace_polls() - before;
  unlink(MISSING);
  int status = -1;
  waitpid(child, &status, 0);
  return status;
}

// A child unlinks after a while; the parent's wait (epoll_wait or poll, with no timeout) must
// wake for the record its probe writes.
static int wakes_for_a_child(int fd, int use_epoll) {
  pid_t child = fork();
  if (child == 0) {
    usleep(200000);
    unlink(MISSING);
    _exit(0);
  }
  int woke = wait_readable(fd, use_epoll);
  int status = 0;
  waitpid(child, &status, 0);
  return woke == 1;
}

// A child unlinks after a while; the parent's poll must wake for the record its probe writes.
static int poll_wakes_for_a_child(int fd) {
  pid_t child = fork();
  if (child == 0) {
    usleep(200000);
    unlink(MISSING);
    _exit(0);
  }
  int woke = ready(fd, 10000);
  int status = 0;
  waitpid(child, &status, 0);
  return woke == 1;
}

static void kprobe_checks(void) {
  int fd = new_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING_BYTES);
  struct ring ring = {0};
  int mapped = fd >= 0 && map_ring(fd, &ring) == 0;
  CHECK("ringbuf mapped for the kprobe", mapped);
  if (!mapped) return;
  int kprobe = attach(fd, 0);
  CHECK("kprobe on do_unlinkat with bpf_ringbuf_output", kprobe >= 0);
  for (int i = 0; i < 3; ++i) unlink(MISSING);
  CHECK("kprobe: poll", ready(fd, -1) == 1);
  CHECK("kprobe: three records", consume(&ring) == 3);
  // The child's records carry its tgid: skip them by moving consumer_pos to producer_pos.
  CHECK("a blocking poll wakes for a child's unlink", poll_wakes_for_a_child(fd));
  *ring.consumer = *ring.producer;
  CHECK("epoll_wait with no timeout wakes for a child's unlink", wakes_for_a_child(fd, 1));
  *ring.consumer = *ring.producer;
  long polls = 0;
  int status = epoll_reader_wakes(fd, &polls);
  CHECK("a child blocked in epoll_wait with no timeout wakes for the probe's record",
        WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (polls >= 20) printf("%ld polls of the ring while its reader waited\n", polls);
  CHECK("200 calls while it waits: the ring is not polled for each (nothing to count on Linux)",
        polls < 20);
  CHECK("the record there", consume(&ring) == 1);
  close(kprobe);

  int event = open_output_event();
  int array = perf_array_with(event);
  struct perf_ring perf = {0};
  mapped = array >= 0 && map_perf_ring(event, &perf) == 0;
  CHECK("perf ring mapped for the kprobe", mapped);
  if (!mapped) return;
  kprobe = attach(array, 1);
  CHECK("kprobe on do_unlinkat with bpf_perf_event_output", kprobe >= 0);
  for (int i = 0; i < 3; ++i) unlink(MISSING);
  CHECK("kprobe: perf poll", ready(event, -1) == 1);
  CHECK("kprobe: three samples", read_samples(&perf) == 3);
  CHECK("poll of a perf ring with no timeout wakes for a child's unlink",
        wakes_for_a_child(event, 0));
  perf.header->data_tail = perf.header->data_head;  // the child's sample: its tgid, skipped
  close(kprobe);
  close(array);
  close(event);
  close(fd);
}

static void run_on(int cpu) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(cpu, &cpus);
  (void)sched_setaffinity(0, sizeof cpus, &cpus);
}

// libbpf's perf_buffer: a BPF_OUTPUT event per possible CPU (pid -1), each in the array's slot of
// its CPU; BPF_F_CURRENT_CPU writes to the ring of the CPU the probed task runs on.
static void perf_per_cpu_checks(void) {
  CHECK_ERRNO("perf_event_open on CPU 2 of 2: EINVAL", open_output_event_on(2), EINVAL);
  CHECK_ERRNO("perf_event_open on no CPU and no task: EINVAL", open_output_event_on(-1), EINVAL);
  int events[2] = {open_output_event_on(0), open_output_event_on(1)};
  CHECK("perf_event_open BPF_OUTPUT on CPU 0 and CPU 1", events[0] >= 0 && events[1] >= 0);
  int array = new_map(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2);
  struct perf_ring rings[2] = {{0}, {0}};
  int ready_rings = array >= 0;
  for (uint32_t cpu = 0; cpu < 2; ++cpu) {
    uint32_t value = (uint32_t)events[cpu];
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_fd = (uint32_t)array;
    attr.key = (uint64_t)(uintptr_t)&cpu;
    attr.value = (uint64_t)(uintptr_t)&value;
    ready_rings = ready_rings && sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) == 0 &&
                  map_perf_ring(events[cpu], &rings[cpu]) == 0;
  }
  CHECK("each event in its CPU's slot, each ring mapped", ready_rings);
  if (!ready_rings) return;
  int kprobe = attach(array, 1);
  CHECK("kprobe on do_unlinkat with BPF_F_CURRENT_CPU", kprobe >= 0);
  run_on(1);
  for (int i = 0; i < 2; ++i) unlink(MISSING);
  run_on(0);
  unlink(MISSING);
  close(kprobe);
  CHECK("two samples in CPU 1's ring", read_samples(&rings[1]) == 2);
  CHECK("one sample in CPU 0's ring", read_samples(&rings[0]) == 1);
  for (int cpu = 0; cpu < 2; ++cpu) {
    munmap(rings[cpu].header, PAGE + RING_BYTES);
    close(events[cpu]);
  }
  close(array);
}

// Sonde: a process holds at most 32 mappings of trace-server objects (ENOMEM past them);
// Linux's bound is vm.max_map_count, so there all 33 are made.
static void limit_checks(void) {
  int sonde = access("/proc/sonde", F_OK) == 0;
  const uint32_t bytes = 4 * PAGE;
  int fd = new_map(BPF_MAP_TYPE_RINGBUF, 0, 0, bytes);
  void* mappings[33];
  int mapped = 0;
  for (; mapped < 33; ++mapped) {
    mappings[mapped] = mmap(NULL, PAGE + 2 * bytes, PROT_READ, MAP_SHARED, fd, PAGE);
    if (mappings[mapped] == MAP_FAILED) break;
  }
  CHECK("at most 32 mappings (with those still held), then ENOMEM (on Linux all 33)",
        sonde ? mapped >= 16 && mapped <= 32 && errno == ENOMEM : mapped == 33);
  for (int i = 0; i < mapped; ++i) munmap(mappings[i], PAGE + 2 * bytes);
  void* again = mmap(NULL, PAGE + 2 * bytes, PROT_READ, MAP_SHARED, fd, PAGE);
  CHECK("after munmap the pages count no more", again != MAP_FAILED);
  if (again != MAP_FAILED) munmap(again, PAGE + 2 * bytes);
  close(fd);
}

// A ring mapped when the trace server restarts: its frames go with the instance; a child that
// touches the mapping dies of SIGSEGV or SIGBUS, the parent (and the POSIX server) go on.
// Linux has no trace server to restart (no /proc/sonde): there the ring stays, the child
// reads it, and the same checks hold.
static int restart_checks(void) {
  int sonde = access("/proc/sonde", F_OK) == 0;
  int fd = new_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING_BYTES);
  struct ring ring = {0};
  int mapped = fd >= 0 && map_ring(fd, &ring) == 0;
  CHECK("ringbuf mapped", mapped);
  if (!mapped) return 1;
  CHECK("readable before", *ring.producer == 0);
  // A reader blocked in epoll_wait on another ring: the restart wakes it (its ring is gone:
  // EPOLLERR); on Linux, with no restart, the record a program writes there does.
  int waited = new_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING_BYTES);
  int program = load_output(waited, BPF_PROG_TYPE_RAW_TRACEPOINT, 0);
  pid_t reader = fork();
  if (reader == 0) _exit(wait_readable(waited, 1) == 1 ? 0 : 1);
  usleep(200000);  // it blocks
  if (sonde) {
    int control = open("/proc/sonde/trace-server", O_WRONLY);
    CHECK("restart the trace server", control >= 0 && write(control, "restart\n", 8) == 8);
    close(control);
  } else {
    CHECK("no trace server to restart on Linux", test_run(program) == 0);
  }
  int woken = -1;
  waitpid(reader, &woken, 0);
  CHECK("a reader blocked in epoll_wait on a ring wakes (the restart, or the record on Linux)",
        WIFEXITED(woken) && WEXITSTATUS(woken) == 0);
  close(program);
  close(waited);
  pid_t child = fork();
  if (child == 0) {
    uint64_t value = *ring.producer;
    if (sonde) printf("the mapping is still readable: %llu\n", (unsigned long long)value);
    _exit(value == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  CHECK("the child touching the dead ring is killed (on Linux it reads the live one)",
        sonde ? WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS)
              : WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK("munmap of the dead ring", munmap((void*)ring.producer, PAGE + 2 * RING_BYTES) == 0);
  close(fd);
  int again = new_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING_BYTES);
  struct ring fresh = {0};
  mapped = again >= 0 && map_ring(again, &fresh) == 0;
  CHECK("a new ring on the new instance", mapped);
  CHECK("readable", mapped && *fresh.producer == 0);
  printf("ring_checks --restart: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  writer = (uint32_t)getpid();
  if (argc > 1 && strcmp(argv[1], "--restart") == 0) return restart_checks();
  // BPF_F_CURRENT_CPU picks slot 0 of the one-slot perf event arrays: stay on CPU 0.
  run_on(0);
  errno = 0;
  int map = new_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING_BYTES);
  if (map < 0 && (errno == EPERM || errno == ENOSYS)) {
    printf("ring_checks: bpf() not permitted here (errno %d): skipped\n", errno);
    return 77;
  }
  close(map);
  ringbuf_checks();
  ringbuf_churn();
  perf_checks();
  array_checks();
  if (argc > 1 && strcmp(argv[1], "--attach") == 0) {
    kprobe_checks();
    perf_per_cpu_checks();
    limit_checks();
  }
  printf("ring_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
