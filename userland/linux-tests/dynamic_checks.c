// SPDX-License-Identifier: MIT
// A dynamically linked program (PT_INTERP: glibc's or musl's loader): what the loader needs
// from the kernel (auxv, file-backed mmap, mprotect, TLS) and what a program then does with
// shared libraries (dlopen, dlsym, dl_iterate_phdr). Runs on the host, then on Sonde.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "checks.h"

static __thread int thread_local_value = 42;

struct objects {
  int count;
  int saw_libc;
  int saw_main;
};

static int count_object(struct dl_phdr_info* info, size_t size, void* data) {
  struct objects* seen = data;
  (void)size;
  ++seen->count;
  if (strstr(info->dlpi_name, "libc.so") != NULL || strstr(info->dlpi_name, "ld-musl") != NULL) {
    seen->saw_libc = 1;
  }
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC && info->dlpi_name[0] == '\0') seen->saw_main = 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  CHECK("argv reaches main", argc == 2 && strcmp(argv[1], "first") == 0);
  CHECK("environment reaches getenv", getenv("PATH") != NULL);

  // The kernel's auxv, as the loader passed it on.
  unsigned long base = getauxval(AT_BASE);
  CHECK("AT_BASE is the loader's address", base != 0 && base % 4096 == 0);
  CHECK("AT_ENTRY is the program's entry", getauxval(AT_ENTRY) != 0);
  CHECK("AT_PHDR is the program's headers", getauxval(AT_PHDR) != 0);
  CHECK("AT_PAGESZ", getauxval(AT_PAGESZ) == 4096);

  CHECK("thread-local storage of the main program", thread_local_value == 42);
  thread_local_value = 7;
  CHECK("thread-local storage is writable", thread_local_value == 7);

  struct objects seen = {0, 0, 0};
  dl_iterate_phdr(count_object, &seen);
  CHECK("dl_iterate_phdr sees the program and libc", seen.count >= 2 && seen.saw_libc);

  // A library loaded at run time: the loader opens it, maps it from the file, relocates it.
#ifdef __GLIBC__
  void* zlib = dlopen("libz.so.1", RTLD_NOW);
  CHECK("dlopen libz.so.1", zlib != NULL);
  if (zlib != NULL) {
    const char* (*version)(void) = (const char* (*)(void))dlsym(zlib, "zlibVersion");
    CHECK("dlsym zlibVersion", version != NULL);
    if (version != NULL) CHECK("zlibVersion() runs", version()[0] == '1');
    CHECK("dlclose", dlclose(zlib) == 0);
  }
#else
  // musl's libc is its loader: dlopen finds it already loaded.
  void* libc = dlopen("/lib/ld-musl-x86_64.so.1", RTLD_NOW);
  CHECK("dlopen musl's libc", libc != NULL);
  if (libc != NULL) {
    size_t (*length)(const char*) = (size_t(*)(const char*))dlsym(libc, "strlen");
    CHECK("dlsym strlen", length != NULL && length("four") == 4);
  }
#endif
  CHECK("dlopen of a missing library fails", dlopen("libnot-there.so.9", RTLD_NOW) == NULL);

  // A file mapped privately: its bytes, and writes that stay in the process.
  FILE* self = fopen(argv[0], "r");  // run by its full path
  CHECK("the program's own file opens", self != NULL);
  if (self != NULL) {
    unsigned char* map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fileno(self), 0);
    CHECK("mmap of the program's file", map != MAP_FAILED);
    if (map != MAP_FAILED) {
      CHECK("mapped bytes are the file's", memcmp(map, ELFMAG, SELFMAG) == 0);
      map[0] = 'X';
      CHECK("a private mapping is writable", map[0] == 'X');
      CHECK("mprotect to read-only", mprotect(map, 4096, PROT_READ) == 0);
      CHECK("munmap", munmap(map, 8192) == 0);
    }
    fclose(self);
  }

  printf("dynamic_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
