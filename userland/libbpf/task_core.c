// SPDX-License-Identifier: MIT
// The loader of task_core.bpf.c: a bpftool skeleton over Debian's libbpf, linked statically.
// Loading relocates the programs' CO-RE field accesses against /sys/kernel/btf/vmlinux; it then
// attaches, unlinks the paths it is given, and prints its own ids for the script to compare
// with the programs' lines in the trace buffer.
#include <bpf/libbpf.h>
#include <stdio.h>
#include <unistd.h>

#include "loader.h"
#include "task_core.skel.h"

int main(int argc, char** argv) {
  libbpf_set_print(loader_print);
  struct task_core_bpf* skeleton = task_core_bpf__open_and_load();
  if (skeleton == NULL) {
    fprintf(stderr, "task_core: cannot open and load the BPF object\n");
    return 1;
  }
  if (task_core_bpf__attach(skeleton) != 0) {
    fprintf(stderr, "task_core: cannot attach\n");
    task_core_bpf__destroy(skeleton);
    return 1;
  }
  printf("attached pid=%d ppid=%d\n", (int)getpid(), (int)getppid());
  for (int i = 1; i < argc; ++i) unlink(argv[i]);
  task_core_bpf__destroy(skeleton);
  return 0;
}
