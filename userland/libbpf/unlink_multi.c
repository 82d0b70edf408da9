// SPDX-License-Identifier: MIT
// The loader of unlink_multi.bpf.c (a bpftool skeleton over Debian's libbpf, linked
// statically): attaches the kprobe.multi program, unlinks the paths it is given, and prints the
// calls counted and whether bpf_get_func_ip gave do_unlinkat's address in /proc/kallsyms.
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "unlink_multi.skel.h"

static unsigned long long kallsyms_address(const char* name) {
  FILE* file = fopen("/proc/kallsyms", "r");
  if (file == NULL) return 0;
  char line[256], symbol[128], type;
  unsigned long long address = 0, found = 0;
  while (fgets(line, sizeof line, file) != NULL) {
    if (sscanf(line, "%llx %c %127s", &address, &type, symbol) == 3 && strcmp(symbol, name) == 0) {
      found = address;
      break;
    }
  }
  fclose(file);
  return found;
}

int main(int argc, char** argv) {
  libbpf_set_print(loader_print);
  struct unlink_multi_bpf* skeleton = unlink_multi_bpf__open_and_load();
  if (skeleton == NULL) {
    fprintf(stderr, "unlink_multi: cannot open and load the BPF object\n");
    return 1;
  }
  if (unlink_multi_bpf__attach(skeleton) != 0) {
    fprintf(stderr, "unlink_multi: cannot attach\n");
    unlink_multi_bpf__destroy(skeleton);
    return 1;
  }
  printf("attached\n");
  for (int i = 1; i < argc; ++i) unlink(argv[i]);
  printf("do_unlinkat calls: %llu\n", (unsigned long long)skeleton->bss->calls);
  unsigned long long expected = kallsyms_address("do_unlinkat");
  printf("bpf_get_func_ip is do_unlinkat: %s\n",
         expected != 0 && skeleton->bss->function == expected ? "yes" : "no");
  unlink_multi_bpf__destroy(skeleton);
  return 0;
}
