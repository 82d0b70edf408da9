// SPDX-License-Identifier: MIT
// Orphaned process groups (POSIX job control): SIGTSTP, SIGTTIN and SIGTTOU with the default
// action are discarded in an orphaned group while SIGSTOP stops it, SIGTSTP stops a process of
// a group that is not orphaned, and a group an exit orphans gets SIGHUP then SIGCONT when it has
// a stopped member (through a child's group and through the exiting process's own), nothing
// when none is stopped, nor at a setsid that orphans a stopped group. The checks run in a
// session of their own (setsid), so whatever session and group the test is started in does not
// matter. It runs on the host's Linux first, then on Sonde, against musl and glibc. Every wait
// has a deadline: a signal that never arrives is a failed check, not a hang.
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

static void install(int signal, void (*handler)(int)) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  sigaction(signal, &action, NULL);
}

// waitpid with a deadline of `ms`; 0 when the child reported nothing by then.
static pid_t wait_within(pid_t child, int* status, int options, long ms) {
  for (long waited = 0;; waited += 10) {
    pid_t got = waitpid(child, status, options | WNOHANG);
    if (got != 0 || waited >= ms) return got;
    sleep_ms(10);
  }
}

// Up to `size` bytes from `fd` within `ms` (fewer at end of file or the deadline).
static size_t read_within(int fd, char* buffer, size_t size, long ms) {
  size_t got = 0;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (got < size) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long left = ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
    if (left <= 0) break;
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, (int)left) <= 0) continue;
    ssize_t n = read(fd, buffer + got, size - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  return got;
}

// The state letter of /proc/<pid>/stat (R, S, T, Z...), or '?'.
static char state_of(pid_t pid) {
  char path[64], line[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return '?';
  ssize_t n = read(fd, line, sizeof line - 1);
  close(fd);
  if (n <= 0) return '?';
  line[n] = '\0';
  char* end = strrchr(line, ')');
  return end != NULL && end[1] == ' ' ? end[2] : '?';
}

static void spin_forever(void) {
  for (;;) __asm__ volatile("");
}

// A child in the caller's group (this session's leader's: no member has a parent in another
// group of the session, so the group is orphaned) that spins in user mode.
static void orphaned_group_stops(void) {
  pid_t child = fork();
  if (child == 0) spin_forever();
  sleep_ms(100);
  const int signals[] = {SIGTSTP, SIGTTIN, SIGTTOU};
  const char* names[] = {"SIGTSTP is discarded in an orphaned group",
                         "SIGTTIN is discarded in an orphaned group",
                         "SIGTTOU is discarded in an orphaned group"};
  int status = 0;
  for (int i = 0; i < 3; ++i) {
    kill(child, signals[i]);
    CHECK(names[i], wait_within(child, &status, WUNTRACED, 300) == 0);
  }
  CHECK("a process of an orphaned group keeps running after SIGTSTP", state_of(child) == 'R');
  kill(child, SIGSTOP);
  pid_t got = wait_within(child, &status, WUNTRACED, 5000);
  CHECK("SIGSTOP stops a process of an orphaned group",
        got == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
  CHECK("/proc shows it stopped", state_of(child) == 'T');
  kill(child, SIGKILL);
  got = wait_within(child, &status, 0, 5000);
  CHECK("SIGKILL ends it", got == child && WIFSIGNALED(status));
  if (got != child) waitpid(child, &status, 0);
}

// A child with a group of its own, whose parent (this process) is in another group of the same
// session: not orphaned.
static void linked_group_stops(void) {
  pid_t child = fork();
  if (child == 0) {
    setpgid(0, 0);
    spin_forever();
  }
  setpgid(child, child);
  sleep_ms(100);
  kill(child, SIGTSTP);
  int status = 0;
  pid_t got = wait_within(child, &status, WUNTRACED, 5000);
  CHECK("SIGTSTP stops a process of a group that is not orphaned",
        got == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTSTP);
  CHECK("/proc shows it stopped after SIGTSTP", state_of(child) == 'T');
  kill(child, SIGKILL);
  got = wait_within(child, &status, 0, 5000);
  if (got != child) waitpid(child, &status, 0);
}

static int report_fd = -1;
static volatile sig_atomic_t hangups, continues;
static void on_hangup(int signal) {
  (void)signal;
  ++hangups;
  (void)!write(report_fd, "H", 1);
}
static void on_continue(int signal) {
  (void)signal;
  ++continues;
  (void)!write(report_fd, "C", 1);
}

// A middle process M (its own group when `own_group`, else this one's) makes a grandchild G
// that records SIGHUP and SIGCONT on a pipe; G has a group of its own (M's parent is in another
// group of the session, so M's end orphans G's group) or shares M's new group (M's own group
// then loses its link to the session). G stops itself when `stop`, and M exits once it has seen
// that. Returns what G recorded within `ms` and G's pid in `grandchild`.
static size_t orphan_by_exit(int own_group, int stop, char* record, size_t size, long ms,
                             pid_t* grandchild) {
  int reports[2], ids[2];
  if (pipe(reports) != 0 || pipe(ids) != 0) return 0;
  pid_t middle = fork();
  if (middle == 0) {
    if (own_group) setpgid(0, 0);
    close(reports[0]);
    close(ids[0]);
    pid_t g = fork();
    if (g == 0) {
      if (!own_group) setpgid(0, 0);
      report_fd = reports[1];
      install(SIGHUP, on_hangup);
      install(SIGCONT, on_continue);
      pid_t self = getpid();
      (void)!write(ids[1], &self, sizeof self);
      close(ids[1]);
      if (stop) raise(SIGSTOP);
      // Ends once it saw both signals (or after 5 s): nobody waits for it but init.
      for (int i = 0; i < 500 && !(hangups && continues); ++i) sleep_ms(10);
      _exit(0);
    }
    if (!own_group) setpgid(g, g);
    int status;
    if (stop) {
      _exit(wait_within(g, &status, WUNTRACED, 5000) == g && WIFSTOPPED(status) ? 0 : 1);
    }
    sleep_ms(100);  // G has its handlers in place
    _exit(0);
  }
  if (own_group) setpgid(middle, middle);
  close(reports[1]);
  close(ids[1]);
  *grandchild = 0;
  read_within(ids[0], (char*)grandchild, sizeof *grandchild, 5000);
  close(ids[0]);
  int status = 0;
  pid_t got = wait_within(middle, &status, 0, 5000);
  CHECK("the middle process saw the grandchild stop or start and ended",
        got == middle && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (got != middle) {
    kill(middle, SIGKILL);
    waitpid(middle, &status, 0);
  }
  size_t n = read_within(reports[0], record, size, ms);
  close(reports[0]);
  return n;
}

// Both signals recorded, in either order: Linux runs every pending handler before the return to
// user mode (SIGCONT's frame on SIGHUP's, so SIGCONT's runs first), Sonde one at each return.
static int hangup_and_continue(const char* record, size_t n) {
  return n == 2 && (memcmp(record, "HC", 2) == 0 || memcmp(record, "CH", 2) == 0);
}

static void hangup_at_orphaning(void) {
  char record[4] = {0};
  pid_t grandchild = 0;
  size_t n = orphan_by_exit(0, 1, record, 2, 5000, &grandchild);
  CHECK("a stopped process whose group its parent's exit orphans gets SIGHUP and SIGCONT",
        hangup_and_continue(record, n));
  if (grandchild > 0) kill(grandchild, SIGKILL);

  memset(record, 0, sizeof record);
  n = orphan_by_exit(1, 1, record, 2, 5000, &grandchild);
  CHECK("a stopped process whose own group the exit of its leader orphans gets SIGHUP, SIGCONT",
        hangup_and_continue(record, n));
  if (grandchild > 0) kill(grandchild, SIGKILL);

  memset(record, 0, sizeof record);
  n = orphan_by_exit(0, 0, record, 2, 300, &grandchild);
  CHECK("a group without a stopped member gets nothing when it is orphaned", n == 0);
  CHECK("the grandchild's pid came", grandchild > 0);
  if (grandchild > 0) kill(grandchild, SIGKILL);
}

// Linux checks for orphaned groups at exit only: a setsid that takes a group's only link out of
// the session leaves the group's stopped member stopped, with no SIGHUP.
static void no_hangup_at_setsid(void) {
  int reports[2];
  if (pipe(reports) != 0) return;
  pid_t middle = fork();
  if (middle == 0) {
    close(reports[0]);
    pid_t g = fork();
    if (g == 0) {
      setpgid(0, 0);
      report_fd = reports[1];
      install(SIGHUP, on_hangup);
      install(SIGCONT, on_continue);
      raise(SIGSTOP);
      _exit(0);
    }
    close(reports[1]);
    setpgid(g, g);
    int status;
    int stopped = wait_within(g, &status, WUNTRACED, 5000) == g && WIFSTOPPED(status);
    int moved = setsid() == getpid();
    sleep_ms(300);
    int still = state_of(g) == 'T';
    kill(g, SIGKILL);
    waitpid(g, &status, 0);
    _exit(stopped && moved && still ? 0 : 1);
  }
  close(reports[1]);
  char record[4];
  size_t n = read_within(reports[0], record, 2, 5000);
  close(reports[0]);
  CHECK("a setsid that orphans a stopped group sends it nothing", n == 0);
  int status = 0;
  pid_t got = wait_within(middle, &status, 0, 5000);
  CHECK("the stopped member stays stopped after the setsid",
        got == middle && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (got != middle) {
    kill(middle, SIGKILL);
    waitpid(middle, &status, 0);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  // Whatever the caller ignored or handled, the checks are of the default actions.
  const int defaults[] = {SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP, SIGCONT};
  for (unsigned i = 0; i < sizeof(defaults) / sizeof(defaults[0]); ++i)
    install(defaults[i], SIG_DFL);
  // The checks run in a session of their own: its leader's group is orphaned (its parent is in
  // another session) and the groups it makes are not.
  pid_t leader = fork();
  if (leader == 0) {
    if (setsid() < 0) {
      printf("FAIL setsid (errno %d)\n", errno);
      _exit(1);
    }
    orphaned_group_stops();
    linked_group_stops();
    hangup_at_orphaning();
    no_hangup_at_setsid();
    printf("orphan_checks: %d passed, %d failed\n", passed, failed);
    _exit(failed == 0 ? 0 : 1);
  }
  int status = 0;
  pid_t got = wait_within(leader, &status, 0, 60000);
  if (got != leader) {
    printf("FAIL the checks did not end within 60 s\n");
    kill(leader, SIGKILL);
    waitpid(leader, &status, 0);
    return 1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
