// SPDX-License-Identifier: MIT
// posix_checks' files, directories and descriptors: open, read, write, links, renames, pipes,
// /dev/null and /dev/zero, sendfile and statx.
#define _GNU_SOURCE  // pipe2, dup3 in glibc
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "posix_checks.h"

void files(void) {
  char path[128];
  snprintf(path, sizeof(path), "%s/file", dir);
  int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0640);
  CHECK("open O_CREAT|O_EXCL", fd >= 0);
  CHECK_ERRNO("open O_EXCL on an existing file", open(path, O_CREAT | O_EXCL | O_RDWR, 0640),
              EEXIST);
  CHECK("write", write(fd, "hello world", 11) == 11);
  CHECK("lseek SEEK_SET", lseek(fd, 6, SEEK_SET) == 6);
  char buffer[32] = {0};
  CHECK("read after lseek",
        read(fd, buffer, sizeof(buffer)) == 5 && memcmp(buffer, "world", 5) == 0);
  CHECK("read at end of file", read(fd, buffer, sizeof(buffer)) == 0);
  CHECK("pread", pread(fd, buffer, 5, 0) == 5 && memcmp(buffer, "hello", 5) == 0);
  struct stat st;
  CHECK("fstat", fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 11 &&
                     (st.st_mode & 0777) == 0640);
  CHECK("ftruncate", ftruncate(fd, 4) == 0 && fstat(fd, &st) == 0 && st.st_size == 4);
  CHECK_ERRNO("lseek on a negative offset", lseek(fd, -100, SEEK_SET), EINVAL);
  CHECK("close", close(fd) == 0);
  CHECK_ERRNO("close twice", close(fd), EBADF);
  CHECK_ERRNO("read on a bad fd", read(999, buffer, 1), EBADF);
  CHECK_ERRNO("open a missing file", open("/no/such/file", O_RDONLY), ENOENT);
  char below[160];
  snprintf(below, sizeof(below), "%s/x", path);
  CHECK_ERRNO("a file used as a directory", open(below, O_RDONLY), ENOTDIR);
  CHECK_ERRNO("O_DIRECTORY on a file", open(path, O_RDONLY | O_DIRECTORY), ENOTDIR);
  CHECK_ERRNO("write to a directory", open(dir, O_WRONLY), EISDIR);
  // The address comes through a volatile so the compiler cannot see it is bad (glibc's
  // fortified read would warn about an object of size 0).
  volatile uintptr_t bad_address = 8;
  CHECK_ERRNO("read from a bad pointer", read(open(path, O_RDONLY), (void*)bad_address, 4), EFAULT);
  char link_path[160];
  snprintf(link_path, sizeof(link_path), "%s/link", dir);
  CHECK("symlink", symlink("file", link_path) == 0);
  char target[32] = {0};
  CHECK("readlink",
        readlink(link_path, target, sizeof(target)) == 4 && memcmp(target, "file", 4) == 0);
  CHECK("stat follows", stat(link_path, &st) == 0 && S_ISREG(st.st_mode));
  CHECK("lstat does not", lstat(link_path, &st) == 0 && S_ISLNK(st.st_mode));
  CHECK_ERRNO("readlink on a file", readlink(path, target, sizeof(target)), EINVAL);
  char loop_path[160];
  snprintf(loop_path, sizeof(loop_path), "%s/loop", dir);
  CHECK("a symlink loop", symlink("loop", loop_path) == 0);
  CHECK_ERRNO("ELOOP", open(loop_path, O_RDONLY), ELOOP);
  CHECK_ERRNO("O_NOFOLLOW on a symlink", open(link_path, O_RDONLY | O_NOFOLLOW), ELOOP);
  char sub[160];
  snprintf(sub, sizeof(sub), "%s/sub", dir);
  CHECK("mkdir", mkdir(sub, 0755) == 0);
  CHECK_ERRNO("mkdir twice", mkdir(sub, 0755), EEXIST);
  CHECK_ERRNO("rmdir a non-empty directory", rmdir(dir), ENOTEMPTY);
  CHECK_ERRNO("unlink a directory", unlink(sub), EISDIR);
  char moved[160];
  snprintf(moved, sizeof(moved), "%s/moved", dir);
  CHECK("rename", rename(path, moved) == 0 && access(moved, F_OK) == 0);
  CHECK_ERRNO("the old name is gone", access(path, F_OK), ENOENT);
  CHECK("a renamed file keeps its one link", stat(moved, &st) == 0 && st.st_nlink == 1);
  int reopened = 0;
  for (int i = 0; i < 3; ++i) {  // each close of it must leave it there
    int again = open(moved, O_RDONLY);
    reopened += again >= 0 && read(again, buffer, 4) == 4;
    if (again >= 0) close(again);
  }
  CHECK("and opens and closes as before", reopened == 3);
  // Directory listing: ., .., and what was made.
  DIR* d = opendir(dir);
  int entries = 0, dots = 0;
  for (struct dirent* e; d != NULL && (e = readdir(d)) != NULL;) {
    ++entries;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) ++dots;
  }
  if (d != NULL) closedir(d);
  CHECK("readdir", entries == 6 && dots == 2);  // . .. moved link loop sub
  char cwd[128];
  CHECK("chdir and getcwd",
        chdir(sub) == 0 && getcwd(cwd, sizeof(cwd)) != NULL && strcmp(cwd, sub) == 0);
  CHECK("chdir ..", chdir("..") == 0 && getcwd(cwd, sizeof(cwd)) != NULL && strcmp(cwd, dir) == 0);
  errno = 0;
  CHECK("getcwd into too small a buffer", getcwd(cwd, 2) == NULL && errno == ERANGE);
  CHECK("unlink and rmdir",
        unlink(moved) == 0 && unlink(link_path) == 0 && unlink(loop_path) == 0 && rmdir(sub) == 0);
}

void descriptors(void) {
  int fds[2];
  CHECK("pipe2", pipe2(fds, O_CLOEXEC) == 0);
  CHECK("pipe2 sets FD_CLOEXEC", fcntl(fds[0], F_GETFD) == FD_CLOEXEC);
  CHECK("write into a pipe", write(fds[1], "abc", 3) == 3);
  char buffer[8];
  CHECK("read from a pipe", read(fds[0], buffer, sizeof(buffer)) == 3);
  CHECK("F_SETFL O_NONBLOCK",
        fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0 && (fcntl(fds[0], F_GETFL) & O_NONBLOCK) != 0);
  CHECK_ERRNO("an empty non-blocking pipe", read(fds[0], buffer, 1), EAGAIN);
  int copy = dup(fds[1]);
  CHECK("dup gives the lowest free fd", copy > fds[1] || copy >= 0);
  CHECK("dup2", dup2(fds[1], 40) == 40 && fcntl(40, F_GETFD) == 0);
  CHECK_ERRNO("dup3 onto itself", dup3(40, 40, 0), EINVAL);
  close(fds[1]);
  close(copy);
  close(40);
  CHECK("end of file when no writer is left", read(fds[0], buffer, 1) == 0);
  close(fds[0]);
  CHECK("pipe", pipe(fds) == 0);
  signal(SIGPIPE, SIG_IGN);
  close(fds[0]);
  CHECK_ERRNO("write with no reader", write(fds[1], "x", 1), EPIPE);
  close(fds[1]);
  signal(SIGPIPE, SIG_DFL);
  int null = open("/dev/null", O_RDWR);
  CHECK("/dev/null", null >= 0 && write(null, "x", 1) == 1 && read(null, buffer, 1) == 0);
  close(null);
  int zero = open("/dev/zero", O_RDONLY);
  memset(buffer, 1, sizeof(buffer));
  CHECK("/dev/zero", zero >= 0 && read(zero, buffer, 4) == 4 && buffer[0] == 0 && buffer[3] == 0);
  close(zero);
}

// sendfile: file to file with and without an offset pointer, to a pipe, and its errors.
void sendfile_checks(void) {
  char source[128], target[128];
  snprintf(source, sizeof(source), "%s/source", dir);
  snprintf(target, sizeof(target), "%s/target", dir);
  static char bytes[10000], back[10000];
  for (size_t i = 0; i < sizeof(bytes); ++i) bytes[i] = (char)('a' + i % 26);
  int in = open(source, O_CREAT | O_RDWR | O_TRUNC, 0600);
  CHECK("sendfile: write the source", write(in, bytes, sizeof(bytes)) == sizeof(bytes));
  lseek(in, 0, SEEK_SET);
  int out = open(target, O_CREAT | O_RDWR | O_TRUNC, 0600);
  CHECK("sendfile: a whole file", sendfile(out, in, NULL, sizeof(bytes)) == sizeof(bytes));
  CHECK("sendfile: the input's position moves", lseek(in, 0, SEEK_CUR) == sizeof(bytes));
  CHECK("sendfile: the output's position moves", lseek(out, 0, SEEK_CUR) == sizeof(bytes));
  CHECK("sendfile: the copy", pread(out, back, sizeof(back), 0) == sizeof(back) &&
                                  memcmp(bytes, back, sizeof(bytes)) == 0);
  CHECK("sendfile: at the end of the input", sendfile(out, in, NULL, 10) == 0);
  off_t offset = 5;
  lseek(in, 3, SEEK_SET);
  CHECK("sendfile: from an offset", sendfile(out, in, &offset, 10) == 10 && offset == 15);
  CHECK("sendfile: the offset leaves the position alone", lseek(in, 0, SEEK_CUR) == 3);
  CHECK("sendfile: the bytes from the offset",
        pread(out, back, 10, sizeof(bytes)) == 10 && memcmp(back, bytes + 5, 10) == 0);
  offset = sizeof(bytes) - 4;
  CHECK("sendfile: short at the end",
        sendfile(out, in, &offset, 100) == 4 && offset == sizeof(bytes));
  offset = 0;
  CHECK("sendfile: count 0", sendfile(out, in, &offset, 0) == 0 && offset == 0);
  int pipe_fds[2];
  CHECK("sendfile: pipe", pipe(pipe_fds) == 0);
  offset = 26;
  CHECK("sendfile: into a pipe", sendfile(pipe_fds[1], in, &offset, 100) == 100 && offset == 126);
  CHECK("sendfile: the pipe's bytes",
        read(pipe_fds[0], back, sizeof(back)) == 100 && memcmp(back, bytes + 26, 100) == 0);
  int null = open("/dev/null", O_WRONLY);
  offset = 0;
  CHECK("sendfile: into /dev/null", sendfile(null, in, &offset, 50) == 50 && offset == 50);
  CHECK_ERRNO("sendfile: a bad input fd", sendfile(out, 999, NULL, 1), EBADF);
  CHECK_ERRNO("sendfile: a bad output fd", sendfile(999, in, NULL, 1), EBADF);
  int read_only = open(source, O_RDONLY), write_only = open(target, O_WRONLY);
  CHECK_ERRNO("sendfile: output not open for writing", sendfile(read_only, in, NULL, 1), EBADF);
  CHECK_ERRNO("sendfile: input not open for reading", sendfile(out, write_only, NULL, 1), EBADF);
  offset = -1;
  CHECK_ERRNO("sendfile: a negative offset", sendfile(out, in, &offset, 1), EINVAL);
  CHECK_ERRNO("sendfile: a bad offset pointer", sendfile(out, in, (off_t*)8, 1), EFAULT);
  offset = 0;
  CHECK_ERRNO("sendfile: an offset on a pipe", sendfile(out, pipe_fds[0], &offset, 1), ESPIPE);
  CHECK_ERRNO("sendfile: from a pipe", sendfile(out, pipe_fds[0], NULL, 1), EINVAL);
  int directory = open(dir, O_RDONLY | O_DIRECTORY);
  CHECK_ERRNO("sendfile: from a directory", sendfile(out, directory, NULL, 1), EINVAL);
  int appending = open(target, O_WRONLY | O_APPEND);
  offset = 0;
  CHECK_ERRNO("sendfile: to an O_APPEND file", sendfile(appending, in, &offset, 1), EINVAL);
  CHECK_ERRNO("sendfile: a negative count", sendfile(out, in, NULL, (size_t)-1), EINVAL);
  close(pipe_fds[0]);
  signal(SIGPIPE, SIG_IGN);
  offset = 0;
  CHECK_ERRNO("sendfile: into a pipe without readers", sendfile(pipe_fds[1], in, &offset, 1),
              EPIPE);
  signal(SIGPIPE, SIG_DFL);
  // /dev/zero as the input: Linux 6.1's zero_fops has no splice_read, so sendfile (through
  // splice) refuses it with EINVAL; Linux 6.7 gave /dev/zero a splice_read.
  int zero = open("/dev/zero", O_RDONLY);
  struct utsname kernel;
  int major = 0, minor = 0;
  uname(&kernel);
  sscanf(kernel.release, "%d.%d", &major, &minor);
  int zero_splices = major > 6 || (major == 6 && minor >= 7);
  int nonblocking[2];
  CHECK("sendfile: pipe2 O_NONBLOCK", pipe2(nonblocking, O_NONBLOCK) == 0);
  long sent = sendfile(nonblocking[1], zero, NULL, 10);
  CHECK("sendfile: /dev/zero is an input only from Linux 6.7 on (EINVAL before)",
        zero_splices ? sent == 10 : sent == -1 && errno == EINVAL);
  long total = sent > 0 ? sent : 0, n;
  // A regular file (the input, from offset 0 each time) fills the pipe, then EAGAIN.
  do {
    offset = 0;
    n = sendfile(nonblocking[1], in, &offset, 4096);
    if (n > 0) total += n;
  } while (n > 0);
  CHECK("sendfile: a file fills a non-blocking pipe, then EAGAIN",
        n == -1 && errno == EAGAIN && total > 0);
  // The write end blocking again: sendfile waits until a reader makes room.
  fcntl(nonblocking[1], F_SETFL, 0);
  pid_t reader = fork();
  if (reader == 0) {
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    long drained = 0;
    while (drained < total + 100) {
      ssize_t got = read(nonblocking[0], back, sizeof(back));
      if (got > 0) drained += got;
      if (got < 0 && errno != EAGAIN) _exit(1);
      if (got < 0) nanosleep(&pause, NULL);
    }
    _exit(0);
  }
  offset = 0;
  CHECK("sendfile: into a full pipe waits for the reader",
        sendfile(nonblocking[1], in, &offset, 100) == 100 && offset == 100);
  int reader_status = 0;
  CHECK("sendfile: the reader got every byte", waitpid(reader, &reader_status, 0) == reader &&
                                                   WIFEXITED(reader_status) &&
                                                   WEXITSTATUS(reader_status) == 0);
  int fds[] = {in,        out,         null,           read_only,      write_only, directory,
               appending, pipe_fds[1], nonblocking[0], nonblocking[1], zero};
  for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); ++i) close(fds[i]);
  unlink(source);
  unlink(target);
}

// statx(2) against stat(2): the same file, told in struct statx (declared here: musl's headers
// have no statx).
struct statx_time {
  int64_t tv_sec;
  uint32_t tv_nsec;
  int32_t reserved;
};
struct statx_buffer {
  uint32_t mask, blksize;
  uint64_t attributes;
  uint32_t nlink, uid, gid;
  uint16_t mode, spare0;
  uint64_t ino, size, blocks, attributes_mask;
  struct statx_time atime, btime, ctime, mtime;
  uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
  uint64_t spare[14];
};

static long raw_statx(int dfd, const char* path, int flags, unsigned mask,
                      struct statx_buffer* out) {
  return syscall(332, dfd, path, flags, mask, out);
}

void statx_checks(void) {
  const unsigned kBasic = 0x7ff;
  struct statx_buffer x;
  struct stat st;
  memset(&x, 0xff, sizeof x);
  CHECK("statx /", raw_statx(AT_FDCWD, "/", 0, kBasic, &x) == 0 && stat("/", &st) == 0);
  CHECK("statx basic stats", (x.mask & kBasic) == kBasic);
  CHECK("statx agrees with stat", x.ino == st.st_ino && x.mode == (st.st_mode & 0xffff) &&
                                      x.nlink == st.st_nlink && x.size == (uint64_t)st.st_size &&
                                      x.uid == st.st_uid && x.mtime.tv_sec == st.st_mtime);
  CHECK("statx device numbers", x.dev_major == major(st.st_dev) && x.dev_minor == minor(st.st_dev));
  int fd = open("/", O_RDONLY | O_DIRECTORY);
  memset(&x, 0, sizeof x);
  CHECK("statx AT_EMPTY_PATH",
        raw_statx(fd, "", AT_EMPTY_PATH, kBasic, &x) == 0 && x.ino == st.st_ino);
  close(fd);
  CHECK_ERRNO("statx missing file", raw_statx(AT_FDCWD, "/no/such/file", 0, kBasic, &x), ENOENT);
  CHECK_ERRNO("statx both sync types", raw_statx(AT_FDCWD, "/", 0x6000, kBasic, &x), EINVAL);
  CHECK_ERRNO("statx reserved mask bit", raw_statx(AT_FDCWD, "/", 0, 0x80000000u, &x), EINVAL);
  CHECK_ERRNO("statx unknown flag", raw_statx(AT_FDCWD, "/", 0x10000, kBasic, &x), EINVAL);
  CHECK_ERRNO("statx bad buffer", raw_statx(AT_FDCWD, "/", 0, kBasic, (void*)8), EFAULT);
}

// A deleted file's bytes go back once its last name and its last open file are gone (Linux frees
// the inode and its pages at the last iput): writing and deleting more than the machine's memory,
// 8 MiB at a time, goes on working. Every other file is removed while still open, and read back
// through its descriptor first.
void deleted_files(void) {
  enum { kChunk = 1 << 20, kChunks = 8, kRounds = 72 };  // 576 MiB in all
  static char chunk[kChunk];
  memset(chunk, 'x', sizeof chunk);
  char path[128];
  snprintf(path, sizeof(path), "%s/big", dir);
  int rounds = 0, kept_open = 0;
  for (int round = 0; round < kRounds; ++round) {
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    if (fd < 0) break;
    int written = 0;
    for (int i = 0; i < kChunks; ++i) written += write(fd, chunk, kChunk) == kChunk;
    if (round % 2 == 1) {
      struct stat st;
      char last = 0;
      if (unlink(path) == 0 && fstat(fd, &st) == 0 && st.st_nlink == 0 &&
          st.st_size == (off_t)kChunk * kChunks && pread(fd, &last, 1, st.st_size - 1) == 1 &&
          last == 'x') {
        ++kept_open;
      }
      close(fd);
    } else {
      close(fd);
      unlink(path);
    }
    if (written != kChunks) break;
    ++rounds;
  }
  CHECK("576 MiB of files written and deleted, 8 MiB at a time", rounds == kRounds);
  CHECK("an unlinked open file keeps its bytes until closed", kept_open == kRounds / 2);
  CHECK_ERRNO("the last of them is gone", access(path, F_OK), ENOENT);
}

// A mapped file that is deleted goes with its last mapping (its pages and, on Sonde, its window
// of the server's address space: 4096 of them): more distinct files than that, each written,
// mapped, touched, unmapped and removed, go on working.
void mapped_deleted_files(void) {
  enum { kFiles = 4200, kBytes = 16384 };
  static char bytes[kBytes];
  memset(bytes, 'm', sizeof bytes);
  char path[128];
  int done = 0;
  for (int i = 0; i < kFiles; ++i) {
    snprintf(path, sizeof(path), "%s/mapped%d", dir, i);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (fd < 0 || write(fd, bytes, kBytes) != kBytes) break;
    char* map = mmap(NULL, kBytes, PROT_READ, i % 2 == 0 ? MAP_SHARED : MAP_PRIVATE, fd, 0);
    close(fd);
    if (unlink(path) != 0 || map == MAP_FAILED) break;  // unlinked while still mapped
    int same = map[0] == 'm' && map[kBytes - 1] == 'm';
    munmap(map, kBytes);
    if (!same) break;
    ++done;
  }
  CHECK("4200 files mapped and deleted", done == kFiles);
}

// Removing a directory's entries while reading it, as `rm -r` does: each getdents64 call goes on
// after the last entry it gave, however many of those were removed meanwhile.
void remove_while_reading(void) {
  enum { kFiles = 300 };
  char sub[128], path[192];
  snprintf(sub, sizeof(sub), "%s/many", dir);
  CHECK("mkdir for many files", mkdir(sub, 0755) == 0);
  int made = 0;
  for (int i = 0; i < kFiles; ++i) {
    snprintf(path, sizeof(path), "%s/file%03d", sub, i);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    made += fd >= 0;
    if (fd >= 0) close(fd);
  }
  int fd = open(sub, O_RDONLY | O_DIRECTORY);
  int removed = 0, calls = 0;
  char buffer[256];  // a few entries per call
  for (long n; fd >= 0 && (n = syscall(SYS_getdents64, fd, buffer, sizeof buffer)) > 0;) {
    ++calls;
    for (long at = 0; at < n;) {
      unsigned short reclen;
      memcpy(&reclen, buffer + at + 16, sizeof reclen);
      const char* name = buffer + at + 19;
      if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
        snprintf(path, sizeof(path), "%s/%s", sub, name);
        removed += unlink(path) == 0;
      }
      at += reclen;
    }
  }
  if (fd >= 0) close(fd);
  CHECK("unlinking each entry as it is read removes all of them",
        made == kFiles && removed == kFiles && calls > 10);
  CHECK("and the directory can go", rmdir(sub) == 0);
}

// Named pipes: mkfifo, opens that wait for the other end or do not (O_NONBLOCK, O_RDWR), data
// through them, EOF once the writers are gone.
void fifos(void) {
  char path[128];
  snprintf(path, sizeof(path), "%s/fifo", dir);
  CHECK("mkfifo", mkfifo(path, 0600) == 0);
  struct stat st;
  CHECK("a FIFO is S_IFIFO", stat(path, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_size == 0);
  CHECK_ERRNO("a writer without a reader, O_NONBLOCK", open(path, O_WRONLY | O_NONBLOCK), ENXIO);
  int reader = open(path, O_RDONLY | O_NONBLOCK);
  CHECK("a reader with O_NONBLOCK opens at once", reader >= 0);
  int writer = open(path, O_WRONLY | O_NONBLOCK);
  CHECK("then a writer with O_NONBLOCK", writer >= 0);
  char buffer[16] = {0};
  CHECK("bytes through the FIFO", write(writer, "abc", 3) == 3 &&
                                      read(reader, buffer, sizeof buffer) == 3 &&
                                      memcmp(buffer, "abc", 3) == 0);
  CHECK("fstat of an end", fstat(reader, &st) == 0 && S_ISFIFO(st.st_mode));
  close(writer);
  CHECK("EOF once the writer closed", read(reader, buffer, sizeof buffer) == 0);
  close(reader);
  // A blocking writer waits for the reader, which opens later.
  pid_t child = fork();
  if (child == 0) {
    int fd = open(path, O_WRONLY);
    _exit(fd >= 0 && write(fd, "hello", 5) == 5 ? 0 : 1);
  }
  struct timespec pause = {0, 50 * 1000 * 1000};
  nanosleep(&pause, NULL);
  reader = open(path, O_RDONLY);
  memset(buffer, 0, sizeof buffer);
  ssize_t got = reader >= 0 ? read(reader, buffer, sizeof buffer) : -1;
  int status = -1;
  CHECK("a blocking writer met a later reader", got == 5 && memcmp(buffer, "hello", 5) == 0 &&
                                                    waitpid(child, &status, 0) == child &&
                                                    WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (reader >= 0) close(reader);
  // A blocking reader waits for the writer.
  child = fork();
  if (child == 0) {
    nanosleep(&pause, NULL);
    int fd = open(path, O_WRONLY);
    _exit(fd >= 0 && write(fd, "later", 5) == 5 ? 0 : 1);
  }
  reader = open(path, O_RDONLY);
  memset(buffer, 0, sizeof buffer);
  got = reader >= 0 ? read(reader, buffer, 5) : -1;
  CHECK("a blocking reader met a later writer", got == 5 && memcmp(buffer, "later", 5) == 0 &&
                                                    waitpid(child, &status, 0) == child &&
                                                    WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (reader >= 0) close(reader);
  int both = open(path, O_RDWR);
  memset(buffer, 0, sizeof buffer);
  CHECK("O_RDWR opens without waiting, and writes and reads",
        both >= 0 && write(both, "xy", 2) == 2 && read(both, buffer, sizeof buffer) == 2 &&
            memcmp(buffer, "xy", 2) == 0);
  if (both >= 0) close(both);
  CHECK("unlink a FIFO", unlink(path) == 0);
}

// Extended attributes of a file that has none (GNU ls -l asks for ACLs and SELinux labels):
// ENODATA, an empty list, Linux's errors for bad names, paths and descriptors. user.* differs
// by file system (ext4 ENODATA, tmpfs EOPNOTSUPP) and is left out.
void xattrs(void) {
  char path[128];
  snprintf(path, sizeof(path), "%s/attributes", dir);
  int fd = open(path, O_CREAT | O_RDWR, 0600);
  char value[64];
  CHECK_ERRNO("getxattr of a missing ACL", getxattr(path, "system.posix_acl_access", value, 64),
              ENODATA);
  CHECK_ERRNO("lgetxattr of a missing label", lgetxattr(path, "security.selinux", value, 64),
              ENODATA);
  CHECK_ERRNO("fgetxattr, size 0", fgetxattr(fd, "security.selinux", NULL, 0), ENODATA);
  CHECK("listxattr of none", listxattr(path, value, sizeof value) == 0);
  CHECK("flistxattr, size 0", flistxattr(fd, NULL, 0) == 0);
  CHECK_ERRNO("getxattr of a missing file", getxattr("/no/such", "security.x", value, 64), ENOENT);
  CHECK_ERRNO("an empty name", getxattr(path, "", value, 64), ERANGE);
  char long_name[300];
  memset(long_name, 'a', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = 0;
  memcpy(long_name, "security.", 9);
  CHECK_ERRNO("a name past 255", getxattr(path, long_name, value, 64), ERANGE);
  CHECK_ERRNO("fgetxattr on a bad descriptor", fgetxattr(999, "security.x", value, 64), EBADF);
  CHECK_ERRNO("proc has no attributes", getxattr("/proc/self/status", "security.x", value, 64),
              EOPNOTSUPP);
  CHECK_ERRNO("setxattr with unknown flags", setxattr(path, "security.x", "v", 1, 4), EINVAL);
  CHECK_ERRNO("removexattr of a missing one", removexattr(path, "trusted.x"), ENODATA);
  CHECK_ERRNO("llistxattr of a missing file", llistxattr("/no/such", value, 64), ENOENT);
  if (fd >= 0) close(fd);
  unlink(path);
}

void add_files_counts(int* passed_total, int* failed_total) {
  *passed_total += passed;
  *failed_total += failed;
}
