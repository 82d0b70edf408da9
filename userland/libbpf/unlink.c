// SPDX-License-Identifier: MIT
// The loader of unlink.bpf.c: a bpftool skeleton over Debian's libbpf, linked statically. It
// attaches, unlinks the paths it is given, and prints how many do_unlinkat calls the map
// counted; the program's lines go to trace_pipe. `--hold SECONDS` first keeps it attached that
// long after the unlinks (for tools that look at attached programs, as bpftool perf).
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "unlink.skel.h"

int main(int argc, char** argv) {
  libbpf_set_print(loader_print);
  struct unlink_bpf* skeleton = unlink_bpf__open_and_load();
  if (skeleton == NULL) {
    fprintf(stderr, "unlink: cannot open and load the BPF object\n");
    return 1;
  }
  if (unlink_bpf__attach(skeleton) != 0) {
    fprintf(stderr, "unlink: cannot attach\n");
    unlink_bpf__destroy(skeleton);
    return 1;
  }
  printf("attached\n");
  fflush(stdout);
  int first = 1;
  unsigned hold = 0;
  if (argc > 2 && strcmp(argv[1], "--hold") == 0) {
    hold = (unsigned)atoi(argv[2]);
    first = 3;
  }
  for (int i = first; i < argc; ++i) unlink(argv[i]);
  if (hold != 0) sleep(hold);
  __u32 key = 0;
  __u64 count = 0;
  if (bpf_map__lookup_elem(skeleton->maps.calls, &key, sizeof key, &count, sizeof count, 0) != 0) {
    fprintf(stderr, "unlink: cannot read the map\n");
  }
  printf("do_unlinkat calls: %llu\n", (unsigned long long)count);
  unlink_bpf__destroy(skeleton);
  return 0;
}
