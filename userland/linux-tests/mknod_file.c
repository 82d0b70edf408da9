// SPDX-License-Identifier: MIT
// mknod_file PATH...: makes each PATH a regular file with mknod(2) (S_IFREG), the way to
// reach Linux's vfs_create from user space (open(O_CREAT) does not call it; busybox's mknod
// makes only devices and FIFOs). Exit status 1 if one fails, with the error on stderr.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int main(int argc, char** argv) {
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    if (mknod(argv[i], S_IFREG | 0644, 0) != 0) {
      fprintf(stderr, "mknod_file: %s: %s\n", argv[i], strerror(errno));
      status = 1;
    }
  }
  return status;
}
