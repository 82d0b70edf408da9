// SPDX-License-Identifier: MIT
// The loader of stackid.bpf.c: unlinks a missing file three times, then prints the stack the
// program stored (function names from /proc/kallsyms), the count under its id, and where the
// user stack starts.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "stackid.skel.h"

#define MAX_DEPTH 16

// The text symbol of /proc/kallsyms that holds `ip` (the nearest one at or below it).
static int resolve(uint64_t ip, char* name, size_t size) {
  FILE* kallsyms = fopen("/proc/kallsyms", "r");
  if (kallsyms == NULL) return -1;
  uint64_t best = 0;
  char line[512], symbol[256];
  name[0] = 0;
  while (fgets(line, sizeof line, kallsyms) != NULL) {
    unsigned long long address;
    char type;
    if (sscanf(line, "%llx %c %255s", &address, &type, symbol) != 3) continue;
    if ((type != 't' && type != 'T') || address > ip || address < best) continue;
    best = address;
    snprintf(name, size, "%s", symbol);
  }
  fclose(kallsyms);
  return name[0] != 0 ? 0 : -1;
}

int main(void) {
  libbpf_set_print(loader_print);
  struct stackid_bpf* skeleton = stackid_bpf__open();
  if (skeleton == NULL) {
    fprintf(stderr, "stackid: cannot open the BPF object\n");
    return 1;
  }
  skeleton->rodata->target = getpid();
  if (stackid_bpf__load(skeleton) != 0 || stackid_bpf__attach(skeleton) != 0) {
    fprintf(stderr, "stackid: cannot load or attach the program\n");
    return 1;
  }
  printf("attached\n");
  for (int i = 0; i < 3; ++i) unlink("/tmp/stackid_missing");
  int stacks = bpf_map__fd(skeleton->maps.stacks);
  int counts = bpf_map__fd(skeleton->maps.counts);
  if (skeleton->bss->kernel_error != 0)
    printf("bpf_get_stackid: %ld\n", skeleton->bss->kernel_error);
  // Every call had the same stack: one id counted three times.
  __u32 id = 0, next = 0, ids = 0;
  __u64 count = 0;
  void* key = NULL;
  while (bpf_map_get_next_key(counts, key, &next) == 0) {
    id = next;
    key = &id;
    ++ids;
  }
  if (ids != 1 || bpf_map_lookup_elem(counts, &id, &count) != 0) {
    printf("stack ids counted: %u\n", ids);
    return 1;
  }
  printf("stack ids counted: 1, calls under it: %llu\n", (unsigned long long)count);
  __u64 ips[MAX_DEPTH] = {0};
  if (bpf_map_lookup_elem(stacks, &id, ips) != 0) {
    printf("stack lookup failed\n");
    return 1;
  }
  int depth = 0;
  while (depth < MAX_DEPTH && ips[depth] != 0) ++depth;
  for (int i = 0; i < 3 && i < depth; ++i) {
    char name[256];
    if (resolve(ips[i], name, sizeof name) != 0) snprintf(name, sizeof name, "?");
    printf("frame %d: %s\n", i, name);
  }
  printf("deeper frames: %s\n", depth > 3 ? "yes" : "no");
  // The user stack starts in the libc function that made the system call.
  long user_id = skeleton->data->user_id;
  __u64 user_ips[MAX_DEPTH] = {0};
  if (user_id < 0 || bpf_map_lookup_elem(stacks, &(__u32){(__u32)user_id}, user_ips) != 0) {
    printf("user stack: %ld\n", user_id);
  } else {
    uint64_t start = (uint64_t)(uintptr_t)&unlink;
    printf("user stack starts in unlink: %s\n",
           user_ips[0] >= start && user_ips[0] < start + 256 ? "yes" : "no");
  }
  // From user space: update is EINVAL, a deleted stack is gone.
  __u64 zeros[MAX_DEPTH] = {0};
  int updated = bpf_map_update_elem(stacks, &id, zeros, BPF_ANY);
  printf("update from user space: %s\n", updated != 0 ? strerror(-updated) : "0");
  int deleted = bpf_map_delete_elem(stacks, &id);
  int again = bpf_map_lookup_elem(stacks, &id, ips);
  printf("delete: %d, lookup after: %s\n", deleted, again != 0 ? strerror(-again) : "0");
  stackid_bpf__destroy(skeleton);
  return 0;
}
