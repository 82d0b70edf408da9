// SPDX-License-Identifier: MIT
// The loader of syscall_tools.bpf.c (a bpftool skeleton over Debian's libbpf, linked
// statically): it attaches the three programs, makes a few system calls of its own (two
// openat, one of a missing file, and 20 getppid), then reads the ring buffer (ring_buffer__poll)
// and the perf buffer (perf_buffer__poll) and looks its own count up in the hash map.
#include "syscall_tools.h"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "loader.h"
#include "syscall_tools.skel.h"

static int on_name(void* context, void* data, size_t size) {
  (void)context;
  const struct name_event* event = data;
  if (size < sizeof(*event)) return 0;
  printf("ring buffer: openat %s flags=0x%x\n", event->path, event->flags);
  return 0;
}

static void on_result(void* context, int cpu, void* data, __u32 size) {
  (void)context;
  (void)cpu;
  const struct result_event* event = data;
  if (size < sizeof(*event)) return;
  if (event->ret >= 0) {
    printf("perf buffer: openat returned an fd in %s\n", event->comm);
  } else {
    printf("perf buffer: openat returned %lld in %s\n", event->ret, event->comm);
  }
}

static void on_lost(void* context, int cpu, __u64 count) {
  (void)context;
  printf("perf buffer: %llu lost on CPU %d\n", (unsigned long long)count, cpu);
}

int main(void) {
  libbpf_set_print(loader_print);
  struct syscall_tools_bpf* skeleton = syscall_tools_bpf__open();
  if (skeleton == NULL) return 1;
  skeleton->bss->target_tgid = getpid();
  if (syscall_tools_bpf__load(skeleton) != 0 || syscall_tools_bpf__attach(skeleton) != 0) {
    fprintf(stderr, "syscall_tools: cannot load or attach\n");
    syscall_tools_bpf__destroy(skeleton);
    return 1;
  }
  struct ring_buffer* ring =
      ring_buffer__new(bpf_map__fd(skeleton->maps.names), on_name, NULL, NULL);
  struct perf_buffer* perf =
      perf_buffer__new(bpf_map__fd(skeleton->maps.results), 8, on_result, on_lost, NULL, NULL);
  if (ring == NULL || perf == NULL) {
    fprintf(stderr, "syscall_tools: no ring or perf buffer\n");
    return 1;
  }
  // The counted calls: 20 getppid between two reads of the counter (the lookups are bpf()
  // system calls too: each read counts one).
  int key = getpid();
  unsigned long long before = 0, after = 0;
  bpf_map__lookup_elem(skeleton->maps.counts, &key, sizeof(key), &before, sizeof(before), 0);
  for (int i = 0; i < 20; ++i) getppid();
  bpf_map__lookup_elem(skeleton->maps.counts, &key, sizeof(key), &after, sizeof(after), 0);
  printf("hash map: %llu system calls counted between the lookups\n", after - before);
  int fd = openat(AT_FDCWD, "/etc/passwd", O_RDONLY);
  int missing = openat(AT_FDCWD, "/no/such/file", O_RDONLY | O_CLOEXEC);
  printf("opened %s, missing %d\n", fd >= 0 ? "/etc/passwd" : "nothing", missing);
  if (fd >= 0) close(fd);
  int names = ring_buffer__poll(ring, 1000);
  int results = perf_buffer__poll(perf, 1000);
  printf("polled: ring %d, perf %s\n", names, results > 0 ? "ready" : "empty");
  ring_buffer__free(ring);
  perf_buffer__free(perf);
  syscall_tools_bpf__destroy(skeleton);
  return 0;
}
