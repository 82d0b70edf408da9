// SPDX-License-Identifier: MIT
// The loader of ksyscall.bpf.c: a bpftool skeleton over Debian's libbpf, linked statically. It
// attaches the programs, makes two unlinkat calls (a missing file: ENOENT; an empty directory
// with AT_REMOVEDIR: 0) and three getppid calls, and prints what the programs saw.
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ksyscall.skel.h"
#include "loader.h"

int main(void) {
  libbpf_set_print(loader_print);
  struct ksyscall_bpf* skeleton = ksyscall_bpf__open();
  if (skeleton == NULL) {
    fprintf(stderr, "ksyscall: cannot open the BPF object\n");
    return 1;
  }
  skeleton->rodata->target = getpid();
  if (ksyscall_bpf__load(skeleton) != 0 || ksyscall_bpf__attach(skeleton) != 0) {
    fprintf(stderr, "ksyscall: cannot load or attach the programs\n");
    return 1;
  }
  printf("attached\n");
  long missing = syscall(SYS_unlinkat, AT_FDCWD, "/tmp/ksyscall_missing", 0);
  mkdir("/tmp/ksyscall_dir", 0755);
  long removed = syscall(SYS_unlinkat, AT_FDCWD, "/tmp/ksyscall_dir", AT_REMOVEDIR);
  for (int i = 0; i < 3; ++i) (void)syscall(SYS_getppid);
  printf("unlinkat returned %ld and %ld\n", missing, removed);
  printf("ksyscall/unlinkat: %d calls, the last: dfd %d, path %s, flags 0x%x\n",
         skeleton->bss->entered, skeleton->bss->last_dfd, skeleton->bss->last_path,
         skeleton->bss->last_flags);
  printf("kretsyscall/unlinkat: %d returns, the last %ld\n", skeleton->bss->returned,
         skeleton->bss->last_result);
  printf("kprobe/__x64_sys_getppid: %d calls\n", skeleton->bss->getppid_calls);
  ksyscall_bpf__destroy(skeleton);
  return 0;
}
