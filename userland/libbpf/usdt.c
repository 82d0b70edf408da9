// SPDX-License-Identifier: MIT
// The loader of usdt.bpf.c and the traced program at once: it has a USDT probe, sonde:tick,
// with three arguments and a semaphore (SystemTap's sys/sdt.h), attaches the program to it in
// its own binary (bpf_program__attach_usdt with its pid), fires it three times and detaches.
// The semaphore counts the attached uprobes (libbpf passes its offset, the kernel adds to it):
// 0 before, 1 while attached, 0 after.
#include <bpf/libbpf.h>
#include <stdio.h>
#include <unistd.h>

#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

volatile unsigned short sonde_tick_semaphore __attribute__((section(".probes")));

#include "loader.h"
#include "usdt.skel.h"

static __attribute__((noinline)) void tick(int i, const char* name) {
  long square = (long)i * i;
  DTRACE_PROBE3(sonde, tick, i, name, square);
}

int main(void) {
  libbpf_set_print(loader_print);
  char path[256];
  ssize_t length = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (length <= 0) {
    fprintf(stderr, "usdt: cannot read /proc/self/exe\n");
    return 1;
  }
  path[length] = 0;
  unsigned before = sonde_tick_semaphore;
  struct usdt_bpf* skeleton = usdt_bpf__open_and_load();
  if (skeleton == NULL) {
    fprintf(stderr, "usdt: cannot open and load the BPF object\n");
    return 1;
  }
  struct bpf_link* link =
      bpf_program__attach_usdt(skeleton->progs.tick, getpid(), path, "sonde", "tick", NULL);
  if (link == NULL) {
    fprintf(stderr, "usdt: cannot attach to sonde:tick\n");
    usdt_bpf__destroy(skeleton);
    return 1;
  }
  printf("attached to sonde:tick\n");
  const char* names[] = {"one", "two", "three"};
  for (int i = 0; i < 3; ++i) tick(i + 1, names[i]);
  unsigned attached = sonde_tick_semaphore;
  bpf_link__destroy(link);
  tick(9, "unseen");  // after the detach
  printf("semaphore before=%u attached=%u after=%u\n", before, attached, sonde_tick_semaphore);
  usdt_bpf__destroy(skeleton);
  return 0;
}
