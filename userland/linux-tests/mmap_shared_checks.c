// SPDX-License-Identifier: MIT
// MAP_SHARED file mappings as a program sees them: the mapping is the file, so a store through
// it is what read(2) returns at once, write(2) shows through it, other mappings (another
// process's, a forked child's, an independent open's) see the same bytes, MAP_PRIVATE stays
// copy-on-write; MAP_SHARED|MAP_ANONYMOUS memory is shared with a forked child; msync's errors;
// SIGBUS past the end of the file, ftruncate; EACCES for a writable shared mapping of a
// read-only descriptor; mremap (shrink, grow in place, move, MREMAP_FIXED, its errors, a moved
// shared mapping still shared, old_size 0 duplicating a shared mapping, a private file mapping
// grown reading the file); MADV_DONTNEED on a private file mapping reads the file again; a
// private mapping shows the file's writes until a store copies the page, SIGBUS past the end. Built
// static against musl and glibc; on the host first, then on Sonde
// (tests/qemu/scripts/mmap_shared_checks.sh), where mapping its own executable moves the initramfs
// file into shared pages (the script then runs it again).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"

#define PAGE 4096
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static char file_path[64];

// A child's result: its exit status, or 128 + the signal that ended it.
static int wait_status_of(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A new file of `size` bytes of `fill` at file_path, open read-write.
static int make_file(size_t size, char fill) {
  (void)unlink(file_path);
  int fd = open(file_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  char buffer[PAGE];
  memset(buffer, fill, sizeof buffer);
  for (size_t done = 0; done < size;) {
    size_t n = size - done < sizeof buffer ? size - done : sizeof buffer;
    if (write(fd, buffer, n) != (ssize_t)n) {
      close(fd);
      return -1;
    }
    done += n;
  }
  return fd;
}

static char byte_at(int fd, off_t offset) {
  char byte = 0;
  if (pread(fd, &byte, 1, offset) != 1) return -1;
  return byte;
}

// --- stores and writes meet in one process ---

static void stores_and_writes(void) {
  int fd = make_file(2 * PAGE, 'a');
  CHECK("make the file", fd >= 0);
  if (fd < 0) return;
  char* p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK("mmap MAP_SHARED read-write", p != MAP_FAILED);
  if (p == MAP_FAILED) return;
  CHECK("the mapping shows the file", p[0] == 'a' && p[2 * PAGE - 1] == 'a');
  p[10] = 'Z';
  p[PAGE + 5] = 'Y';
  CHECK("a store is what pread returns", byte_at(fd, 10) == 'Z' && byte_at(fd, PAGE + 5) == 'Y');
  char buffer[16] = {0};
  CHECK("a store is what read returns",
        lseek(fd, 8, SEEK_SET) == 8 && read(fd, buffer, 4) == 4 && memcmp(buffer, "aaZa", 4) == 0);
  CHECK("pwrite", pwrite(fd, "Q", 1, PAGE + 1) == 1);
  CHECK("a pwrite shows through the mapping", p[PAGE + 1] == 'Q');
  CHECK("write", lseek(fd, 20, SEEK_SET) == 20 && write(fd, "WXYZ", 4) == 4);
  CHECK("a write shows through the mapping", memcmp(p + 20, "WXYZ", 4) == 0);

  // A second mapping of the same file (an independent open) is the same bytes.
  int fd2 = open(file_path, O_RDWR);
  char* q = fd2 >= 0 ? mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, PAGE) : MAP_FAILED;
  CHECK("a second mapping at an offset", q != MAP_FAILED);
  if (q != MAP_FAILED) {
    CHECK("it sees the first one's stores", q[5] == 'Y' && q[1] == 'Q');
    q[100] = 'q';
    CHECK("the first one sees its stores", p[PAGE + 100] == 'q');
    CHECK("msync MS_SYNC", msync(q, PAGE, MS_SYNC) == 0);
    CHECK("munmap the second mapping", munmap(q, PAGE) == 0);
  }
  if (fd2 >= 0) close(fd2);

  // A MAP_PRIVATE mapping of it sees the file but keeps its stores.
  char* r = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK("a private mapping", r != MAP_FAILED);
  if (r != MAP_FAILED) {
    CHECK("it shows the shared stores", r[10] == 'Z');
    r[11] = 'p';
    CHECK("its stores stay its own", p[11] == 'a' && byte_at(fd, 11) == 'a');
    munmap(r, PAGE);
  }

  // The stores stay in the file after the mapping and the descriptor go.
  p[30] = 'K';
  CHECK("msync MS_ASYNC", msync(p, 2 * PAGE, MS_ASYNC) == 0);
  CHECK("msync MS_INVALIDATE", msync(p, PAGE, MS_INVALIDATE) == 0);
  CHECK("munmap", munmap(p, 2 * PAGE) == 0);
  close(fd);
  fd = open(file_path, O_RDONLY);
  CHECK("stores outlive the mapping", fd >= 0 && byte_at(fd, 30) == 'K' && byte_at(fd, 10) == 'Z');
  if (fd >= 0) close(fd);

  // A mapping outlives its descriptor.
  fd = open(file_path, O_RDWR);
  p = fd >= 0 ? mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
  if (fd >= 0) close(fd);
  CHECK("mmap then close", p != MAP_FAILED);
  if (p == MAP_FAILED) return;
  p[40] = 'C';
  fd = open(file_path, O_RDONLY);
  CHECK("a store after close reaches the file", fd >= 0 && byte_at(fd, 40) == 'C');
  if (fd >= 0) close(fd);
  munmap(p, PAGE);
}

// --- msync's errors ---

static void msync_errors(void) {
  char* p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("an anonymous mapping", p != MAP_FAILED);
  if (p == MAP_FAILED) return;
  CHECK("msync of anonymous memory", msync(p, 2 * PAGE, MS_SYNC) == 0);
  CHECK("msync of a part of a page", msync(p, 1, MS_SYNC) == 0);
  CHECK_ERRNO("msync unaligned: EINVAL", msync(p + 1, PAGE, MS_SYNC), EINVAL);
  CHECK_ERRNO("msync MS_SYNC|MS_ASYNC: EINVAL", msync(p, PAGE, MS_SYNC | MS_ASYNC), EINVAL);
  CHECK_ERRNO("msync unknown flag: EINVAL", msync(p, PAGE, 0x10), EINVAL);
  munmap(p + PAGE, PAGE);
  CHECK_ERRNO("msync over a hole: ENOMEM", msync(p, 2 * PAGE, MS_SYNC), ENOMEM);
  munmap(p, PAGE);
}

// --- other processes ---

static void other_processes(void) {
  int fd = make_file(PAGE, 'f');
  CHECK("make the file", fd >= 0);
  if (fd < 0) return;
  char* shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  char* private = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK("shared and private mappings", shared != MAP_FAILED && private != MAP_FAILED);
  if (shared == MAP_FAILED || private == MAP_FAILED) return;
  shared[0] = 'P';   // touched before fork: the page is mapped in both
  private[0] = 'v';  // a private copy already (an untouched one would show the file's changes)

  int go[2], done[2];
  CHECK("pipes", pipe(go) == 0 && pipe(done) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    int bad = 0;
    if (shared[0] != 'P') bad |= 1;
    shared[1] = 'c';   // the parent must see it
    private[1] = 'x';  // the parent must not
    char token;
    (void)write(done[1], "1", 1);
    (void)read(go[0], &token, 1);
    if (shared[2] != 'p') bad |= 2;   // the parent's store after fork
    if (private[2] == 'y') bad |= 4;  // the parent's private store stays its own
    // An independent open and mapping in this process meets the parent's.
    int own = open(file_path, O_RDWR);
    char* again =
        own >= 0 ? mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, own, 0) : MAP_FAILED;
    if (again == MAP_FAILED || again[2] != 'p') bad |= 8;
    if (again != MAP_FAILED) again[3] = 'o';
    _exit(bad);
  }
  CHECK("fork", pid > 0);
  if (pid < 0) return;
  char token;
  CHECK("the child wrote", read(done[0], &token, 1) == 1);
  CHECK("after fork a shared mapping stays shared", shared[1] == 'c');
  CHECK("the child's store reached the file", byte_at(fd, 1) == 'c');
  CHECK("after fork a private mapping stays copy-on-write", private[1] == 'f');
  shared[2] = 'p';
  private[2] = 'y';
  (void)write(go[1], "1", 1);
  int status = wait_status_of(pid);
  CHECK("the child saw the parent's stores, its private one not", status == 0);
  if (status != 0) printf("  child status %d\n", status);
  CHECK("the child's independent mapping reached the parent's", shared[3] == 'o');
  CHECK("the private mapping kept its page", private[3] == 'f' && private[2] == 'y');
  munmap(shared, PAGE);
  munmap(private, PAGE);
  close(go[0]);
  close(go[1]);
  close(done[0]);
  close(done[1]);
  close(fd);
}

// --- shared anonymous memory (Linux's shmem: an unnamed file) ---

static void anonymous_shared(void) {
  char* shared = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  char* private = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("MAP_SHARED and MAP_PRIVATE anonymous mappings",
        shared != MAP_FAILED && private != MAP_FAILED);
  if (shared == MAP_FAILED || private == MAP_FAILED) return;
  int zero = 1;
  for (int i = 0; i < 3 * PAGE; ++i) zero &= shared[i] == 0;
  CHECK("shared anonymous memory reads zero at first", zero);
  shared[0] = 'P';  // touched before fork; the other pages are not
  private[0] = 'v';

  int go[2], done[2];
  CHECK("pipes", pipe(go) == 0 && pipe(done) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    int bad = 0;
    if (shared[0] != 'P' || private[0] != 'v') bad |= 1;
    shared[1] = 'c';         // the parent must see it
    shared[2 * PAGE] = 'C';  // in a page neither touched before
    private[1] = 'x';        // the parent must not
    char token;
    (void)write(done[1], "1", 1);
    (void)read(go[0], &token, 1);
    if (shared[2] != 'p' || shared[PAGE + 2] != 'p') bad |= 2;  // the parent's stores after fork
    if (private[2] == 'y') bad |= 4;
    _exit(bad);
  }
  CHECK("fork", pid > 0);
  if (pid < 0) return;
  char token;
  CHECK("the child wrote", read(done[0], &token, 1) == 1);
  CHECK("the parent sees the child's stores in shared anonymous memory",
        shared[1] == 'c' && shared[2 * PAGE] == 'C');
  CHECK("private anonymous memory stays private after fork", private[1] == 0);
  shared[2] = 'p';
  shared[PAGE + 2] = 'p';
  private[2] = 'y';
  (void)write(go[1], "1", 1);
  int status = wait_status_of(pid);
  CHECK("the child saw the parent's shared stores, its private one not", status == 0);
  if (status != 0) printf("  child status %d\n", status);
  CHECK("the memory outlives the child", shared[1] == 'c' && shared[2 * PAGE] == 'C');
  CHECK("MADV_DONTNEED keeps shared anonymous memory",
        madvise(shared, PAGE, MADV_DONTNEED) == 0 && shared[0] == 'P' && shared[1] == 'c');
  CHECK("munmap", munmap(shared, 3 * PAGE) == 0 && munmap(private, PAGE) == 0);
  close(go[0]);
  close(go[1]);
  close(done[0]);
  close(done[1]);
}

// --- the end of the file ---

// Reads the byte at `address` in a child: its exit status (0) or 128 + the signal it got.
static int touch_in_child(const volatile char* address) {
  pid_t pid = fork();
  if (pid == 0) {
    char byte = *address;
    _exit(byte == 0 ? 0 : 1);
  }
  return pid > 0 ? wait_status_of(pid) : -1;
}

static void end_of_file(void) {
  int fd = make_file(100, 'e');
  CHECK("make a 100-byte file", fd >= 0);
  if (fd < 0) return;
  char* p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK("map 3 pages of it", p != MAP_FAILED);
  if (p == MAP_FAILED) return;
  CHECK("the page holding the end reads", p[99] == 'e' && p[100] == 0 && p[PAGE - 1] == 0);
  CHECK("a read past the last page is SIGBUS", touch_in_child(p + PAGE) == 128 + SIGBUS);
  CHECK("and two pages past it", touch_in_child(p + 2 * PAGE + 7) == 128 + SIGBUS);
  char buffer[8];
  CHECK_ERRNO("write(2) from past the end: EFAULT", write(STDOUT_FILENO, p + PAGE, 1), EFAULT);
  (void)buffer;

  // Growing the file makes the page valid: ftruncate and write(2).
  CHECK("ftruncate up to 2 pages", ftruncate(fd, 2 * PAGE) == 0);
  CHECK("the new page reads zero", touch_in_child(p + PAGE + 9) == 0 && p[PAGE + 9] == 0);
  p[PAGE + 9] = 'g';
  CHECK("a store in it reaches the file", byte_at(fd, PAGE + 9) == 'g');
  CHECK("pwrite past the end", pwrite(fd, "W", 1, 2 * PAGE + 3) == 1);
  CHECK("the mapping shows it", p[2 * PAGE + 3] == 'W');

  // Shrinking it: the rest of the page holding the end reads zero, the pages after are gone.
  CHECK("ftruncate down to 10 bytes", ftruncate(fd, 10) == 0);
  CHECK("past the end in its page reads zero", p[9] == 'e' && p[10] == 0 && p[99] == 0);
  CHECK("a page mapped before is SIGBUS now", touch_in_child(p + PAGE + 9) == 128 + SIGBUS);
  struct stat st;
  CHECK("the size is 10", fstat(fd, &st) == 0 && st.st_size == 10);
  p[50] = 's';  // past the end: not in the file
  CHECK("a store past the end is not in the file", fstat(fd, &st) == 0 && st.st_size == 10);
  munmap(p, 3 * PAGE);
  close(fd);
}

// --- permissions ---

static void permissions(void) {
  int fd = make_file(PAGE, 'r');
  if (fd >= 0) close(fd);
  fd = open(file_path, O_RDONLY);
  CHECK("open read-only", fd >= 0);
  if (fd < 0) return;
  CHECK_ERRNO("MAP_SHARED PROT_WRITE of a read-only fd: EACCES",
              mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
  char* p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
  CHECK("MAP_SHARED PROT_READ of it", p != MAP_FAILED);
  if (p != MAP_FAILED) {
    CHECK_ERRNO("mprotect PROT_WRITE on it: EACCES", mprotect(p, PAGE, PROT_READ | PROT_WRITE),
                EACCES);
    CHECK("it reads the file", p[0] == 'r');
    munmap(p, PAGE);
  }
  p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK("MAP_PRIVATE PROT_WRITE of it", p != MAP_FAILED);
  if (p != MAP_FAILED) {
    p[0] = 'w';
    CHECK("its store stays its own", byte_at(fd, 0) == 'r');
    munmap(p, PAGE);
  }
  close(fd);
}

// --- mremap ---

// Whether [p, p + length) is unmapped: a MAP_FIXED_NOREPLACE mapping there succeeds (and goes).
static int unmapped(char* p, size_t length) {
  void* q = mmap(p, length, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (q == MAP_FAILED) return 0;
  munmap(q, length);
  return q == p;
}

// An anonymous read-write mapping of `pages` pages, the first `used` of them kept and filled
// with `fill`, the rest unmapped (free after it, for growing in place).
static char* anonymous_pages(int pages, int used, char fill) {
  char* p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  if (used < pages) munmap(p + used * PAGE, (pages - used) * PAGE);
  memset(p, fill, used * PAGE);
  return p;
}

static void remap(void) {
  // Growing in place keeps the contents; the new pages are zero.
  char* p = anonymous_pages(3, 1, 'g');
  CHECK("an anonymous page with two free after it", p != NULL);
  if (p == NULL) return;
  char* q = mremap(p, PAGE, 3 * PAGE, 0);
  CHECK("mremap grows in place", q == p);
  if (q != p) return;
  CHECK("growing keeps the contents", p[0] == 'g' && p[PAGE - 1] == 'g');
  CHECK("the new pages are zero", p[PAGE] == 0 && p[3 * PAGE - 1] == 0);
  p[2 * PAGE] = 'n';
  // Shrinking unmaps the tail.
  CHECK("mremap shrinks", mremap(p, 3 * PAGE, PAGE, 0) == p);
  CHECK("shrinking unmaps the tail", unmapped(p + PAGE, 2 * PAGE));
  CHECK("shrinking keeps the head", p[0] == 'g');

  // The page after it taken: ENOMEM without MREMAP_MAYMOVE, a move with it.
  char* taken =
      mmap(p + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  CHECK("the next page taken", taken == p + PAGE);
  CHECK_ERRNO("growing into it without MREMAP_MAYMOVE: ENOMEM", mremap(p, PAGE, 2 * PAGE, 0),
              ENOMEM);
  q = mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
  CHECK("mremap MREMAP_MAYMOVE moves", q != MAP_FAILED && q != p);
  if (q != MAP_FAILED && q != p) {
    CHECK("the moved mapping keeps the contents", q[0] == 'g' && q[PAGE - 1] == 'g');
    CHECK("its new page is zero", q[PAGE] == 0 && q[2 * PAGE - 1] == 0);
    CHECK("the old range is unmapped", unmapped(p, PAGE));
    q[PAGE] = 'w';
    CHECK("the moved mapping is writable", q[PAGE] == 'w');
    munmap(q, 2 * PAGE);
  }
  munmap(taken, PAGE);

  // MREMAP_FIXED: to new_address, what was there unmapped.
  char* from = anonymous_pages(2, 2, 'f');
  char* to = anonymous_pages(3, 3, 'x');
  CHECK("two anonymous mappings", from != NULL && to != NULL);
  if (from != NULL && to != NULL) {
    CHECK_ERRNO("MREMAP_FIXED without MREMAP_MAYMOVE: EINVAL",
                mremap(from, 2 * PAGE, 2 * PAGE, MREMAP_FIXED, to), EINVAL);
    CHECK_ERRNO("MREMAP_FIXED onto itself: EINVAL",
                mremap(from, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, from + PAGE),
                EINVAL);
    q = mremap(from, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    CHECK("mremap MREMAP_FIXED", q == to);
    CHECK("the contents are at new_address", to[0] == 'f' && to[2 * PAGE - 1] == 'f');
    CHECK("past new_size what was there stays", to[2 * PAGE] == 'x');
    CHECK("the old range is unmapped after MREMAP_FIXED", unmapped(from, 2 * PAGE));
    munmap(to, 3 * PAGE);
  }

  // The errors.
  p = anonymous_pages(2, 1, 'e');
  CHECK("a page to get errors from", p != NULL);
  if (p != NULL) {
    CHECK_ERRNO("mremap unaligned: EINVAL", mremap(p + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE), EINVAL);
    CHECK_ERRNO("mremap unknown flag: EINVAL", mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE | 8),
                EINVAL);
    CHECK_ERRNO("mremap new_size 0: EINVAL", mremap(p, PAGE, 0, MREMAP_MAYMOVE), EINVAL);
    CHECK_ERRNO("MREMAP_DONTUNMAP with another size: EINVAL",
                mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP), EINVAL);
    CHECK_ERRNO("mremap beyond the mapping: EFAULT", mremap(p, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE),
                EFAULT);
    CHECK_ERRNO("mremap of nothing: EFAULT", mremap(p + PAGE, PAGE, 2 * PAGE, MREMAP_MAYMOVE),
                EFAULT);
    munmap(p, PAGE);
  }

  // A moved MAP_SHARED|MAP_ANONYMOUS mapping stays shared with a forked child.
  char* shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  to = anonymous_pages(1, 1, 0);
  CHECK("a shared anonymous page", shared != MAP_FAILED && to != NULL);
  if (shared != MAP_FAILED && to != NULL) {
    shared[0] = 's';
    q = mremap(shared, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    CHECK("mremap moves it", q == to);
    CHECK("it keeps its contents", q == to && to[0] == 's');
    pid_t pid = fork();
    if (pid == 0) {
      to[1] = 'c';
      _exit(to[0] == 's' ? 0 : 1);
    }
    CHECK("the child sees it", pid > 0 && wait_status_of(pid) == 0);
    CHECK("the child's store shows in the parent", to[1] == 'c');
    munmap(to, PAGE);
  }

  // A shared file mapping moved (at an offset) and grown in place is still the file.
  int fd = make_file(3 * PAGE, 'm');
  CHECK("make the file", fd >= 0);
  if (fd < 0) return;
  char* file = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
  to = anonymous_pages(3, 1, 0);
  CHECK("map its second page MAP_SHARED", file != MAP_FAILED && to != NULL);
  if (file != MAP_FAILED && to != NULL) {
    file[0] = '1';
    q = mremap(file, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    CHECK("move the file mapping", q == to);
    to[1] = '2';
    CHECK("a store through the moved mapping reaches the file",
          byte_at(fd, PAGE) == '1' && byte_at(fd, PAGE + 1) == '2');
    CHECK("grow the file mapping in place", mremap(to, PAGE, 2 * PAGE, 0) == to);
    CHECK("the grown page is the file's next", to[PAGE] == 'm');
    to[PAGE] = '3';
    CHECK("a store there reaches the file", byte_at(fd, 2 * PAGE) == '3');
    munmap(to, 2 * PAGE);
  }
  close(fd);
}

// A file of `size` bytes whose byte at n is 'a' + n / PAGE (a letter a page), open read-write.
static int make_lettered_file(size_t size) {
  int fd = make_file(size, 0);
  if (fd < 0) return -1;
  for (size_t page = 0; page * PAGE < size; ++page) {
    char buffer[PAGE];
    size_t n = size - page * PAGE < PAGE ? size - page * PAGE : PAGE;
    memset(buffer, 'a' + (int)page, n);
    if (pwrite(fd, buffer, n, (off_t)(page * PAGE)) != (ssize_t)n) {
      close(fd);
      return -1;
    }
  }
  return fd;
}

static void remap_duplicates_and_private_files(void) {
  // old_size 0: a second mapping of a shared mapping's pages.
  char* shared = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK("two shared anonymous pages", shared != MAP_FAILED);
  if (shared != MAP_FAILED) {
    shared[5] = 'a';
    char* twin = mremap(shared, 0, 2 * PAGE, MREMAP_MAYMOVE);
    CHECK("mremap old_size 0 duplicates a shared mapping", twin != MAP_FAILED && twin != shared);
    if (twin != MAP_FAILED && twin != shared) {
      CHECK("the duplicate has the pages' contents", twin[5] == 'a');
      twin[PAGE + 1] = 'b';
      shared[6] = 'c';
      CHECK("a store through either shows in the other", shared[PAGE + 1] == 'b' && twin[6] == 'c');
      munmap(twin, 2 * PAGE);
      CHECK("the original outlives the duplicate", shared[PAGE + 1] == 'b');
    }
    char* half = mremap(shared + PAGE, 0, PAGE, MREMAP_MAYMOVE);
    CHECK("a duplicate from the second page", half != MAP_FAILED && half[1] == 'b');
    if (half != MAP_FAILED) munmap(half, PAGE);
    munmap(shared, 2 * PAGE);
  }
  char* private_page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("a private anonymous page", private_page != MAP_FAILED);
  if (private_page != MAP_FAILED) {
    CHECK_ERRNO("mremap old_size 0 of a private mapping: EINVAL",
                mremap(private_page, 0, PAGE, MREMAP_MAYMOVE), EINVAL);
    munmap(private_page, PAGE);
  }

  // A private file mapping grown reads the file past its old end, moved or in place; the page
  // holding the end of the file is zero past it.
  int fd = make_lettered_file(2 * PAGE + 100);
  CHECK("make a lettered file", fd >= 0);
  if (fd < 0) return;
  // Two pages mapped, the second replaced by an anonymous one: the first cannot grow in place.
  char* file = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  char* taken = file == MAP_FAILED ? MAP_FAILED
                                   : mmap(file + PAGE, PAGE, PROT_READ,
                                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  CHECK("map its first page MAP_PRIVATE, the next page taken",
        file != MAP_FAILED && taken == file + PAGE);
  if (file != MAP_FAILED && taken == file + PAGE) {
    file[0] = 'P';  // a private store, kept by the move
    char* grown = mremap(file, PAGE, 3 * PAGE, MREMAP_MAYMOVE);
    CHECK("grow it with MREMAP_MAYMOVE", grown != MAP_FAILED && grown != file);
    if (grown != MAP_FAILED) {
      CHECK("the moved page keeps the private store", grown[0] == 'P' && grown[1] == 'a');
      CHECK("the pages it grew by are the file's",
            grown[PAGE] == 'b' && grown[2 * PAGE - 1] == 'b' && grown[2 * PAGE + 99] == 'c');
      CHECK("zero past the end of the file", grown[2 * PAGE + 100] == 0);
      CHECK("the file is unchanged", byte_at(fd, 0) == 'a');
      // MADV_DONTNEED: the private store goes, the file's bytes come back.
      grown[PAGE] = 'Q';
      CHECK("madvise(MADV_DONTNEED)", madvise(grown, 2 * PAGE, MADV_DONTNEED) == 0);
      CHECK("a private file mapping reads the file again after MADV_DONTNEED",
            grown[0] == 'a' && grown[PAGE] == 'b');
      munmap(grown, 3 * PAGE);
    }
    munmap(taken, PAGE);
  }
  char* in_place = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
  CHECK("map the file MAP_PRIVATE again", in_place != MAP_FAILED);
  if (in_place != MAP_FAILED) {
    munmap(in_place + PAGE, 2 * PAGE);
    CHECK("grow it in place", mremap(in_place, PAGE, 3 * PAGE, 0) == in_place);
    CHECK("the pages it grew by in place are the file's",
          in_place[PAGE] == 'b' && in_place[2 * PAGE] == 'c' && in_place[2 * PAGE + 100] == 0);
    munmap(in_place, 3 * PAGE);
  }
  close(fd);
}

// --- MAP_PRIVATE of a file: the file's pages until the process stores into them ---

static void private_files(void) {
  int fd = make_file(2 * PAGE + 100, 'p');
  CHECK("make a file of 2 pages and 100 bytes", fd >= 0);
  if (fd < 0) return;
  char* p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK("map 4 pages of it privately", p != MAP_FAILED);
  if (p == MAP_FAILED) {
    close(fd);
    return;
  }
  // Linux's private mapping shows the page cache until a store copies the page.
  CHECK("pwrite into an untouched page", pwrite(fd, "N", 1, PAGE + 5) == 1);
  CHECK("the private mapping shows it", p[PAGE + 5] == 'N');
  CHECK("pwrite into a page read already", pwrite(fd, "R", 1, PAGE + 6) == 1);
  CHECK("the mapping shows that too", p[PAGE + 6] == 'R');
  p[PAGE + 7] = 'w';
  CHECK("a store stays out of the file", byte_at(fd, PAGE + 7) == 'p');
  CHECK("pwrite into the stored page", pwrite(fd, "X", 1, PAGE + 8) == 1);
  CHECK("the copy does not see it", p[PAGE + 8] == 'p' && p[PAGE + 7] == 'w' && p[PAGE + 5] == 'N');
  CHECK("the page holding the end is zero after it",
        p[2 * PAGE + 99] == 'p' && p[2 * PAGE + 100] == 0);
  CHECK("a page past the end is SIGBUS", touch_in_child(p + 3 * PAGE) == 128 + SIGBUS);
  pid_t pid = fork();
  if (pid == 0) {
    p[5] = 'c';
    _exit(p[5] == 'c' ? 0 : 1);
  }
  CHECK("a forked child stores into its copy", pid > 0 && wait_status_of(pid) == 0);
  CHECK("the parent's page and the file are unchanged", p[5] == 'p' && byte_at(fd, 5) == 'p');
  CHECK("mprotect PROT_READ", mprotect(p, PAGE, PROT_READ) == 0);
  CHECK("mprotect back to PROT_WRITE", mprotect(p, PAGE, PROT_READ | PROT_WRITE) == 0);
  p[6] = 'm';
  CHECK("a store after mprotect stays private", p[6] == 'm' && byte_at(fd, 6) == 'p');
  munmap(p, 4 * PAGE);
  // A private mapping of a read-only descriptor may become writable: its stores are its own.
  int ro = open(file_path, O_RDONLY);
  char* q = ro >= 0 ? mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, ro, 0) : MAP_FAILED;
  CHECK("map a read-only descriptor privately", q != MAP_FAILED);
  if (q != MAP_FAILED) {
    CHECK("mprotect it writable", mprotect(q, PAGE, PROT_READ | PROT_WRITE) == 0);
    q[1] = 'q';
    CHECK("the store is private", q[1] == 'q' && byte_at(fd, 1) == 'p');
    munmap(q, PAGE);
  }
  if (ro >= 0) close(ro);
  close(fd);
}

// --- a file of the initramfs (on Sonde): the program's own executable ---

static void own_executable(const char* path) {
  int fd = open(path, O_RDONLY);
  CHECK("open the executable", fd >= 0);
  if (fd < 0) return;
  char* p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
  CHECK("map it MAP_SHARED", p != MAP_FAILED);
  if (p != MAP_FAILED) {
    char buffer[2 * PAGE];
    CHECK("it is what read returns",
          pread(fd, buffer, sizeof buffer, 0) == (ssize_t)sizeof buffer &&
              memcmp(buffer, p, sizeof buffer) == 0);
    CHECK("an ELF file", memcmp(p, "\177ELF", 4) == 0);
    munmap(p, 2 * PAGE);
  }
  close(fd);
}

int main(int argc, char** argv) {
  (void)argc;
  setvbuf(stdout, NULL, _IONBF, 0);
  const char* directory = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
  snprintf(file_path, sizeof file_path, "%.40s/mmap_shared.%d", directory, (int)getpid());
  stores_and_writes();
  msync_errors();
  other_processes();
  anonymous_shared();
  end_of_file();
  permissions();
  remap();
  remap_duplicates_and_private_files();
  private_files();
  own_executable(argv[0]);
  (void)unlink(file_path);
  printf("mmap_shared_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
