// SPDX-License-Identifier: MIT
// The loader of kernel_kprobe.bpf.c: attaches its kprobe to the microkernel's
// fast_foreign_syscall (every Linux system call enters it) by its name in /proc/kallsyms'
// [microkernel] module, makes 10 system calls and reads the count from the program's .bss once
// the trace server has drained the kernel's samples.
#include <bpf/libbpf.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "kernel_kprobe.skel.h"
#include "loader.h"

int main(void) {
  libbpf_set_print(loader_print);
  struct kernel_kprobe_bpf* skeleton = kernel_kprobe_bpf__open_and_load();
  if (skeleton == NULL) return 1;
  struct bpf_link* link =
      bpf_program__attach_kprobe(skeleton->progs.foreign_syscall, false,
                                 "microkernel:_ZN6kernel20fast_foreign_syscallEPNS_3TcbE");
  if (link == NULL) {
    printf("attach: refused\n");
    kernel_kprobe_bpf__destroy(skeleton);
    return 1;
  }
  unsigned long long before = skeleton->bss->samples;
  for (int i = 0; i < 10; ++i) getppid();
  struct timespec pause = {0, 100000000};  // the drain thread runs every 2 ms
  nanosleep(&pause, NULL);
  unsigned long long after = skeleton->bss->samples;
  printf("attached to the microkernel's fast_foreign_syscall\n");
  printf("samples for 10 system calls: %s\n", after - before >= 10 ? "at least 10" : "too few");
  printf("first argument: %s\n",
         skeleton->bss->last_tcb >= 0xffff800000000000ull ? "a kernel address" : "not a TCB");
  bpf_link__destroy(link);
  kernel_kprobe_bpf__destroy(skeleton);
  return 0;
}
