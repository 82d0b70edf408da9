// SPDX-License-Identifier: MIT
// fork's copy-on-write as a program sees it: after fork, writes by the parent or the child stay
// their own (stack, heap, data, bss, anonymous private mappings, a page made writable with
// mprotect), in either order; memory the kernel writes for one of them (read(2) into a buffer,
// a signal frame on an alternate stack) stays private too; fifty children sharing a parent's
// megabyte cost a few pages each, not a copy; fork then exec works. vfork and
// clone(CLONE_VM|CLONE_VFORK) are not copies: the child shares the parent's memory and the
// parent waits for its exec or exit (killable only), as posix_spawn relies on to report an exec
// failure. Built static against musl
// and against glibc; on the host first, then on Sonde (tests/qemu/scripts/cow_checks.sh).
// `cow_checks bench` times a fork+exit loop instead (and shows /proc/vmstat's cow_ lines).
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

#define PAGE 4096

static int data_word = 1234;       // .data
static char bss_buffer[3 * PAGE];  // .bss
static const char* self_path;

// A child's result: its exit status (0 when every one of its own checks held).
static int wait_status_of(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void write_byte(int fd) {
  char byte = 'x';
  (void)write(fd, &byte, 1);
}

static void read_byte(int fd) {
  char byte;
  (void)read(fd, &byte, 1);
}

// --- writes after fork are private both ways ---

static void private_writes(void) {
  volatile int stack_word = 77;
  int* heap = malloc(64 * sizeof(int));
  char* anon = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("malloc and mmap", heap != NULL && anon != MAP_FAILED);
  if (heap == NULL || anon == MAP_FAILED) return;
  for (int i = 0; i < 64; ++i) heap[i] = i;
  memset(anon, 'a', 2 * PAGE);
  memset(bss_buffer, 'b', sizeof bss_buffer);
  data_word = 1234;

  // The child writes everything; the parent still sees its own values.
  pid_t pid = fork();
  if (pid == 0) {
    int bad = stack_word != 77 || heap[5] != 5 || anon[100] != 'a' || bss_buffer[7] != 'b' ||
              data_word != 1234;
    stack_word = 88;
    heap[5] = 500;
    anon[100] = 'c';
    anon[PAGE + 1] = 'c';
    bss_buffer[7] = 'c';
    data_word = 4321;
    bad |= stack_word != 88 || heap[5] != 500 || anon[100] != 'c' || data_word != 4321;
    _exit(bad);
  }
  CHECK("child sees the parent's values and its writes", wait_status_of(pid) == 0);
  CHECK("child's stack write stays in the child", stack_word == 77);
  CHECK("child's heap write stays in the child", heap[5] == 5);
  CHECK("child's mmap write stays in the child", anon[100] == 'a' && anon[PAGE + 1] == 'a');
  CHECK("child's bss write stays in the child", bss_buffer[7] == 'b');
  CHECK("child's data write stays in the child", data_word == 1234);

  // The parent writes while the child waits; the child still sees the values of the fork.
  int go[2], done[2];
  CHECK("pipes", pipe(go) == 0 && pipe(done) == 0);
  pid = fork();
  if (pid == 0) {
    read_byte(go[0]);
    int bad = stack_word != 77 || heap[5] != 5 || anon[100] != 'a' || bss_buffer[7] != 'b' ||
              data_word != 1234;
    _exit(bad);
  }
  stack_word = 99;
  heap[5] = 555;
  anon[100] = 'p';
  bss_buffer[7] = 'p';
  data_word = 1;
  write_byte(go[1]);
  CHECK("parent's writes stay in the parent", wait_status_of(pid) == 0);
  CHECK("parent keeps its writes", stack_word == 99 && heap[5] == 555 && anon[100] == 'p' &&
                                       bss_buffer[7] == 'p' && data_word == 1);

  // The parent writes first (it gets its copy), then the child (the frame is its alone now),
  // then the parent again: each sees only its own writes.
  pid = fork();
  if (pid == 0) {
    read_byte(go[0]);
    int bad = anon[0] != 'a' || heap[1] != 1;
    anon[0] = 'C';
    heap[1] = -1;
    bad |= anon[0] != 'C' || heap[1] != -1;
    write_byte(done[1]);
    read_byte(go[0]);
    bad |= anon[0] != 'C' || heap[1] != -1;
    _exit(bad);
  }
  anon[0] = 'a';  // the value at fork already: a write all the same
  heap[1] = 1;
  anon[0] = 'P';
  heap[1] = 100;
  write_byte(go[1]);
  read_byte(done[0]);
  CHECK("parent wrote first: the child's write stays in the child",
        anon[0] == 'P' && heap[1] == 100);
  anon[0] = 'Q';
  write_byte(go[1]);
  CHECK("then the parent's second write stays in the parent", wait_status_of(pid) == 0);
  CHECK("parent's values", anon[0] == 'Q' && heap[1] == 100);

  // The child writes first, then the parent.
  pid = fork();
  if (pid == 0) {
    anon[0] = 'c';
    write_byte(done[1]);
    read_byte(go[0]);
    _exit(anon[0] != 'c');
  }
  read_byte(done[0]);
  CHECK("child wrote first: the parent still sees its value", anon[0] == 'Q');
  anon[0] = 'R';
  write_byte(go[1]);
  CHECK("and the parent's write stays in the parent", wait_status_of(pid) == 0 && anon[0] == 'R');

  // After the child has gone the parent writes its (no longer shared) pages.
  pid = fork();
  if (pid == 0) _exit(0);
  (void)wait_status_of(pid);
  anon[0] = 'S';
  heap[2] = 200;
  CHECK("writes after the child exited", anon[0] == 'S' && heap[2] == 200);

  // A read-only page shared by fork, made writable in the child: the parent keeps its bytes.
  char* frozen = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("mmap", frozen != MAP_FAILED);
  if (frozen != MAP_FAILED) {
    memset(frozen, 'f', PAGE);
    CHECK("mprotect read-only", mprotect(frozen, PAGE, PROT_READ) == 0);
    pid = fork();
    if (pid == 0) {
      if (mprotect(frozen, PAGE, PROT_READ | PROT_WRITE) != 0) _exit(2);
      frozen[10] = 'g';
      _exit(frozen[10] != 'g');
    }
    CHECK("child's mprotect and write", wait_status_of(pid) == 0);
    CHECK("parent's read-only page unchanged", frozen[10] == 'f');
    munmap(frozen, PAGE);
  }
  close(go[0]);
  close(go[1]);
  close(done[0]);
  close(done[1]);
  munmap(anon, 2 * PAGE);
  free(heap);
}

// --- what the kernel writes for one process stays its own ---

static char read_buffer[PAGE] __attribute__((aligned(PAGE)));
static volatile sig_atomic_t handled;
static char alt_stack[4 * 16384] __attribute__((aligned(PAGE)));

static void on_usr1(int signal) {
  (void)signal;
  handled = 1;
}

static void kernel_writes(void) {
  int data[2];
  CHECK("pipe", pipe(data) == 0);
  memset(read_buffer, 'r', sizeof read_buffer);
  // The child reads into a buffer it has not touched since fork.
  pid_t pid = fork();
  if (pid == 0) {
    ssize_t n = read(data[0], read_buffer, 5);
    _exit(n != 5 || memcmp(read_buffer, "hello", 5) != 0 || read_buffer[5] != 'r');
  }
  CHECK("write to the child", write(data[1], "hello", 5) == 5);
  CHECK("child's read(2) into its buffer", wait_status_of(pid) == 0);
  CHECK("read(2) in the child leaves the parent's buffer",
        read_buffer[0] == 'r' && read_buffer[4] == 'r');
  // The parent reads into the buffer while the child keeps its bytes.
  int go[2];
  CHECK("pipe", pipe(go) == 0);
  pid = fork();
  if (pid == 0) {
    read_byte(go[0]);
    _exit(read_buffer[0] != 'r' || read_buffer[4] != 'r');
  }
  CHECK("write", write(data[1], "world", 5) == 5);
  CHECK("parent's read(2)", read(data[0], read_buffer, 5) == 5);
  write_byte(go[1]);
  CHECK("read(2) in the parent leaves the child's buffer", wait_status_of(pid) == 0);
  CHECK("parent's buffer", memcmp(read_buffer, "world", 5) == 0);
  close(data[0]);
  close(data[1]);

  // A signal frame written on an alternate stack in the child stays out of the parent's.
  memset(alt_stack, 0x5a, sizeof alt_stack);
  stack_t stack = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0};
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_usr1;
  action.sa_flags = SA_ONSTACK;
  CHECK("sigaltstack and sigaction",
        sigaltstack(&stack, NULL) == 0 && sigaction(SIGUSR1, &action, NULL) == 0);
  pid = fork();
  if (pid == 0) {
    raise(SIGUSR1);
    int touched = 0;
    for (size_t i = 0; i < sizeof alt_stack; ++i) touched |= alt_stack[i] != 0x5a;
    _exit(handled != 1 || !touched);
  }
  CHECK("child's handler ran on the alternate stack", wait_status_of(pid) == 0);
  int clean = 1;
  for (size_t i = 0; i < sizeof alt_stack; ++i) clean &= alt_stack[i] == 0x5a;
  CHECK("child's signal frame stays out of the parent's alternate stack", clean);
  stack.ss_flags = SS_DISABLE;
  (void)sigaltstack(&stack, NULL);
  signal(SIGUSR1, SIG_DFL);

  // waitpid's status word and clock_gettime in the child, into the parent's variables.
  struct timespec now = {12345, 0};
  pid = fork();
  if (pid == 0) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    _exit(now.tv_sec == 12345 && now.tv_nsec == 0);
  }
  CHECK("clock_gettime in the child", wait_status_of(pid) == 0);
  CHECK("leaves the parent's timespec", now.tv_sec == 12345 && now.tv_nsec == 0);
  close(go[0]);
  close(go[1]);
}

// --- many children share the parent's memory ---

// Kilobytes in use by the system: MemTotal - MemFree.
static long used_kb(void) {
  FILE* file = fopen("/proc/meminfo", "r");
  if (file == NULL) return -1;
  long total = -1, free_kb = -1;
  char line[128];
  while (fgets(line, sizeof line, file) != NULL) {
    sscanf(line, "MemTotal: %ld kB", &total);
    sscanf(line, "MemFree: %ld kB", &free_kb);
  }
  fclose(file);
  return total < 0 || free_kb < 0 ? -1 : total - free_kb;
}

#define CHILDREN 50
#define SHARED_PAGES 256  // a megabyte every child shares

// Fifty children, alive together, each writing one page of a megabyte the parent filled: the
// memory in use grows by a few pages a child, where copying would cost a megabyte each. The
// smallest of three rounds counts (the host's other programs allocate meanwhile).
static long many_children_round(char* shared, int* all_right) {
  int release[2], ready[2];
  if (pipe(release) != 0 || pipe(ready) != 0) return -1;
  long before = used_kb();
  pid_t pids[CHILDREN];
  int started = 0;
  for (int i = 0; i < CHILDREN; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      char* page = shared + (size_t)(i % SHARED_PAGES) * PAGE;
      int bad = page[0] != (char)(i % SHARED_PAGES) || page[PAGE - 1] != (char)(i % SHARED_PAGES);
      page[1] = 'w';
      bad |= page[1] != 'w';
      write_byte(ready[1]);
      read_byte(release[0]);
      // The other children's writes are not here.
      for (int p = 0; p < SHARED_PAGES; ++p) {
        if (p != i % SHARED_PAGES) bad |= shared[(size_t)p * PAGE + 1] != (char)p;
      }
      bad |= page[1] != 'w';
      _exit(bad);
    }
    if (pid < 0) break;
    pids[started++] = pid;
  }
  for (int i = 0; i < started; ++i) read_byte(ready[0]);
  long after = used_kb();
  for (int i = 0; i < started; ++i) write_byte(release[1]);
  for (int i = 0; i < started; ++i) {
    if (wait_status_of(pids[i]) != 0) *all_right = 0;
  }
  if (started != CHILDREN) *all_right = 0;
  close(release[0]);
  close(release[1]);
  close(ready[0]);
  close(ready[1]);
  return before < 0 || after < 0 ? -1 : after - before;
}

static void many_children(void) {
  char* shared = mmap(NULL, (size_t)SHARED_PAGES * PAGE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("mmap a megabyte", shared != MAP_FAILED);
  if (shared == MAP_FAILED) return;
  for (int p = 0; p < SHARED_PAGES; ++p) memset(shared + (size_t)p * PAGE, p, PAGE);
  int all_right = 1;
  long best = -1;
  for (int round = 0; round < 3; ++round) {
    long grew = many_children_round(shared, &all_right);
    if (grew >= 0 && (best < 0 || grew < best)) best = grew;
  }
  CHECK("fifty children at once, each writing its own page privately", all_right);
  for (int p = 0; p < SHARED_PAGES; ++p) all_right &= shared[(size_t)p * PAGE + 1] == (char)p;
  CHECK("the children's writes stay out of the parent", all_right);
  // Copying would cost CHILDREN * SHARED_PAGES * 4 kB (50 MB); sharing a few pages a child.
  long copying_kb = (long)CHILDREN * SHARED_PAGES * 4;
  CHECK("fifty children cost far less than copies of the megabyte",
        best >= 0 && best < copying_kb / 4);
  if (best < 0 || best >= copying_kb / 4) printf("  memory grew by %ld kB\n", best);
  munmap(shared, (size_t)SHARED_PAGES * PAGE);
}

static uint64_t monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

// --- vfork and clone(CLONE_VM) share the memory; the vfork parent waits ---

static volatile int vfork_word;
static volatile int vfork_flag;
static volatile sig_atomic_t usr1_seen;
static char clone_stack[16 * PAGE] __attribute__((aligned(16)));

static void sleep_ms(long ms) {
  struct timespec delay = {0, ms * 1000000L};
  nanosleep(&delay, NULL);
}

static void on_usr1_count(int signal) {
  (void)signal;
  ++usr1_seen;
}

static int clone_child(void* argument) {
  vfork_word = (int)(intptr_t)argument;
  return 0;
}

// A process that vforks a child which sends it `sent`, waits 50 ms and writes the flag:
// the vfork returns only after the child's exit (0 from this process when so), whatever the
// signal did meanwhile.
static int vfork_signalled(int sent) {
  signal(SIGUSR1, on_usr1_count);
  vfork_flag = 0;
  usr1_seen = 0;
  pid_t parent = getpid();
  pid_t pid = vfork();
  if (pid == 0) {
    kill(parent, sent);
    sleep_ms(50);
    vfork_flag = 1;
    _exit(0);
  }
  int right = pid > 0 && vfork_flag == 1 && wait_status_of(pid) == 0;
  return right && usr1_seen == 1 ? 0 : 1;
}

static void vfork_shares(void) {
  vfork_word = 1;
  pid_t pid = vfork();
  if (pid == 0) {
    vfork_word = 2;
    _exit(0);
  }
  CHECK("vfork child's write is the parent's", pid > 0 && vfork_word == 2);
  CHECK("vfork child's exit status", wait_status_of(pid) == 0);

  // The parent is not resumed before the child's exit.
  vfork_flag = 0;
  uint64_t start = monotonic_ns();
  pid = vfork();
  if (pid == 0) {
    sleep_ms(100);
    vfork_flag = 1;
    _exit(0);
  }
  uint64_t waited = monotonic_ns() - start;
  CHECK("vfork parent waits for the child's exit", vfork_flag == 1 && waited >= 90000000ull);
  CHECK("and then collects it", wait_status_of(pid) == 0);

  // Nor before the child's exec; what it wrote before the exec stays the parent's.
  vfork_word = 3;
  pid = vfork();
  if (pid == 0) {
    vfork_word = 4;
    char* const argv[] = {(char*)self_path, "exec-child", NULL};
    execv(self_path, argv);
    _exit(127);
  }
  CHECK("vfork then exec", pid > 0 && vfork_word == 4 && wait_status_of(pid) == 42);

  // clone(CLONE_VM|CLONE_VFORK) on a stack of its own (posix_spawn's), and CLONE_VM alone: the
  // same memory, the parent going on at once.
  char* top = clone_stack + sizeof clone_stack;
  pid = clone(clone_child, top, CLONE_VM | CLONE_VFORK | SIGCHLD, (void*)(intptr_t)5);
  CHECK("clone(CLONE_VM|CLONE_VFORK) child's write", pid > 0 && vfork_word == 5);
  CHECK("clone(CLONE_VM|CLONE_VFORK) child's status", wait_status_of(pid) == 0);
  pid = clone(clone_child, top, CLONE_VM | SIGCHLD, (void*)(intptr_t)6);
  CHECK("clone(CLONE_VM) child's write after its end", wait_status_of(pid) == 0 && vfork_word == 6);

  // posix_spawn reports the exec's failure (glibc through the memory the child shares, musl
  // through a pipe) and runs a program.
  char* const missing_argv[] = {"/nonexistent/program", NULL};
  pid_t spawned = 0;
  int status = posix_spawn(&spawned, missing_argv[0], NULL, NULL, missing_argv, NULL);
  CHECK("posix_spawn of a missing program is ENOENT", status == ENOENT);
  if (status == 0) (void)wait_status_of(spawned);
  char* const self_argv[] = {(char*)self_path, "exec-child", NULL};
  status = posix_spawn(&spawned, self_path, NULL, NULL, self_argv, NULL);
  CHECK("posix_spawn runs a program", status == 0 && wait_status_of(spawned) == 42);

  // A handler's signal does not end the wait (it is handled after the vfork returns); SIGKILL
  // does (the child lives on).
  pid = fork();
  if (pid == 0) _exit(vfork_signalled(SIGUSR1));
  CHECK("a signal waits for the vfork's end", wait_status_of(pid) == 0);
  pid = fork();
  if (pid == 0) _exit(vfork_signalled(SIGKILL));
  int killed = 0;
  CHECK("SIGKILL ends the vfork's wait",
        waitpid(pid, &killed, 0) == pid && WIFSIGNALED(killed) && WTERMSIG(killed) == SIGKILL);
}

// --- fork then exec ---

static void fork_and_exec(void) {
  data_word = 5;
  pid_t pid = fork();
  if (pid == 0) {
    data_word = 6;  // a copy-on-write copy just before the address space goes
    char* const argv[] = {(char*)self_path, "exec-child", NULL};
    execv(self_path, argv);
    _exit(127);
  }
  CHECK("fork then exec", wait_status_of(pid) == 42);
  CHECK("the parent's data after the child's exec", data_word == 5);
  // Forked children exec'ing in a row.
  int right = 0;
  for (int i = 0; i < 10; ++i) {
    pid = fork();
    if (pid == 0) {
      char* const argv[] = {(char*)self_path, "exec-child", NULL};
      execv(self_path, argv);
      _exit(127);
    }
    right += wait_status_of(pid) == 42;
  }
  CHECK("ten fork and exec", right == 10);
}

static void show_vmstat(void) {
  FILE* file = fopen("/proc/vmstat", "r");
  if (file == NULL) return;
  char line[128];
  while (fgets(line, sizeof line, file) != NULL) {
    if (strncmp(line, "cow_", 4) == 0 || strncmp(line, "nr_used_pages", 13) == 0) {
      printf("  %s", line);
    }
  }
  fclose(file);
}

// fork+exit (the child writes one page) with a megabyte mapped and touched.
static int bench(void) {
  size_t size = (size_t)SHARED_PAGES * PAGE;
  char* memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return 1;
  memset(memory, 1, size);
  show_vmstat();
  const int rounds = 200;
  uint64_t start = monotonic_ns();
  for (int i = 0; i < rounds; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      memory[0] = 2;
      _exit(0);
    }
    (void)wait_status_of(pid);
    memory[PAGE] = (char)i;  // the parent writes one page after each fork
  }
  uint64_t elapsed = monotonic_ns() - start;
  printf("fork+exit with %d pages touched: %lu us per round (%d rounds)\n", SHARED_PAGES,
         (unsigned long)(elapsed / 1000 / rounds), rounds);
  show_vmstat();
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "exec-child") == 0) return 42;
  if (argc > 1 && strcmp(argv[1], "bench") == 0) return bench();
  self_path = argv[0];
  setvbuf(stdout, NULL, _IONBF, 0);
  private_writes();
  kernel_writes();
  many_children();
  fork_and_exec();
  vfork_shares();
  printf("cow_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
