// SPDX-License-Identifier: MIT
// epoll as Linux does it, checked from a static musl program: creation, epoll_ctl's errors,
// level and edge triggering, ONESHOT, waits with timeouts, signal masks and signals, fork,
// nesting and the registration's lifetime. It runs on the host's Linux first, then on Sonde.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif
#ifndef EPOLLEXCLUSIVE
#define EPOLLEXCLUSIVE (1u << 28)
#endif

// The system calls themselves (musl's epoll_create and epoll_wait use other numbers).
static long raw_create(int size) { return syscall(SYS_epoll_create, size); }
static long raw_wait(int epfd, struct epoll_event* events, int max, int timeout) {
  return syscall(SYS_epoll_wait, epfd, events, max, timeout);
}
static long raw_pwait(int epfd, struct epoll_event* events, int max, int timeout,
                      const sigset_t* mask, long size) {
  return syscall(SYS_epoll_pwait, epfd, events, max, timeout, mask, size);
}
static long raw_pwait2(int epfd, struct epoll_event* events, int max, const struct timespec* ts,
                       const sigset_t* mask, long size) {
  return syscall(SYS_epoll_pwait2, epfd, events, max, ts, mask, size);
}

static int add(int epfd, int fd, uint32_t events, uint64_t data) {
  struct epoll_event event = {.events = events, .data.u64 = data};
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}
static int modify(int epfd, int fd, uint32_t events, uint64_t data) {
  struct epoll_event event = {.events = events, .data.u64 = data};
  return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &event);
}
// epoll_wait with timeout 0.
static long ready(int epfd, struct epoll_event* events, int max) {
  return raw_wait(epfd, events, max, 0);
}
static long elapsed_ms(const struct timespec* from) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - from->tv_sec) * 1000 + (now.tv_nsec - from->tv_nsec) / 1000000;
}
static void drain(int fd) {
  char buffer[256];
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  while (read(fd, buffer, sizeof(buffer)) > 0) {
  }
  fcntl(fd, F_SETFL, flags);
}

static volatile sig_atomic_t caught;
static void on_signal(int signal) { caught = signal; }

static char dir[64];

static void creation(void) {
  CHECK_ERRNO("epoll_create(0)", raw_create(0), EINVAL);
  CHECK_ERRNO("epoll_create(-1)", raw_create(-1), EINVAL);
  long epfd = raw_create(1);
  CHECK("epoll_create(1)", epfd >= 0);
  CHECK("epoll_create's fd is not close-on-exec", fcntl((int)epfd, F_GETFD) == 0);
  close((int)epfd);
  int cloexec = epoll_create1(EPOLL_CLOEXEC);
  CHECK("epoll_create1(EPOLL_CLOEXEC)", cloexec >= 0 && fcntl(cloexec, F_GETFD) == FD_CLOEXEC);
  close(cloexec);
  CHECK_ERRNO("epoll_create1 with O_NONBLOCK", epoll_create1(O_NONBLOCK), EINVAL);
  CHECK_ERRNO("epoll_create1 with 1", epoll_create1(1), EINVAL);
  int epfd1 = epoll_create1(0);
  char byte;
  CHECK_ERRNO("read from an epoll fd", read(epfd1, &byte, 1), EINVAL);
  CHECK_ERRNO("write to an epoll fd", write(epfd1, "x", 1), EINVAL);
  close(epfd1);
}

static void control_errors(void) {
  int epfd = epoll_create1(0);
  int p[2];
  CHECK("pipe", pipe(p) == 0);
  struct epoll_event event = {.events = EPOLLIN};
  CHECK_ERRNO("ADD a bad fd", epoll_ctl(epfd, EPOLL_CTL_ADD, 999, &event), EBADF);
  CHECK_ERRNO("ADD to a bad epfd", epoll_ctl(999, EPOLL_CTL_ADD, p[0], &event), EBADF);
  CHECK_ERRNO("ADD the epfd to itself", epoll_ctl(epfd, EPOLL_CTL_ADD, epfd, &event), EINVAL);
  CHECK_ERRNO("a pipe as the epfd", epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &event), EINVAL);
  char path[128];
  snprintf(path, sizeof(path), "%s/file", dir);
  int file = open(path, O_CREAT | O_RDWR, 0600);
  CHECK_ERRNO("ADD a regular file", epoll_ctl(epfd, EPOLL_CTL_ADD, file, &event), EPERM);
  int directory = open(dir, O_RDONLY | O_DIRECTORY);
  CHECK_ERRNO("ADD a directory", epoll_ctl(epfd, EPOLL_CTL_ADD, directory, &event), EPERM);
  close(file);
  close(directory);
  unlink(path);
  const char* refused[] = {"/dev/null", "/dev/zero", "/dev/urandom", "/proc/self/status"};
  for (int i = 0; i < 4; ++i) {
    int fd = open(refused[i], O_RDONLY);
    CHECK_ERRNO(refused[i], epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event), EPERM);
    close(fd);
  }
  int random = open("/dev/random", O_RDONLY);
  CHECK("/dev/random can be polled", epoll_ctl(epfd, EPOLL_CTL_ADD, random, &event) == 0);
  close(random);
  CHECK_ERRNO("MOD an fd not added", epoll_ctl(epfd, EPOLL_CTL_MOD, p[0], &event), ENOENT);
  CHECK_ERRNO("DEL an fd not added", epoll_ctl(epfd, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
  CHECK("ADD", epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &event) == 0);
  CHECK_ERRNO("ADD twice", epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &event), EEXIST);
  CHECK_ERRNO("an unknown op", epoll_ctl(epfd, 42, p[0], &event), EINVAL);
  CHECK_ERRNO("ADD with a bad event pointer", epoll_ctl(epfd, EPOLL_CTL_ADD, p[1], (void*)8),
              EFAULT);
  CHECK("DEL needs no event", epoll_ctl(epfd, EPOLL_CTL_DEL, p[0], (void*)8) == 0);
  event.events = EPOLLIN | EPOLLEXCLUSIVE;
  CHECK("ADD with EPOLLEXCLUSIVE", epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &event) == 0);
  CHECK_ERRNO("MOD of an EPOLLEXCLUSIVE item", epoll_ctl(epfd, EPOLL_CTL_MOD, p[0], &event),
              EINVAL);
  event.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
  CHECK_ERRNO("EPOLLEXCLUSIVE with EPOLLONESHOT", epoll_ctl(epfd, EPOLL_CTL_ADD, p[1], &event),
              EINVAL);
  // A loop of epoll instances.
  int outer = epoll_create1(0);
  event.events = EPOLLIN;
  CHECK("an epoll fd inside another", epoll_ctl(outer, EPOLL_CTL_ADD, epfd, &event) == 0);
  CHECK_ERRNO("and back: a loop", epoll_ctl(epfd, EPOLL_CTL_ADD, outer, &event), ELOOP);
  close(outer);
  // Chains: five instances (four links) at most, built bottom-up or top-down.
  int chain[6];
  for (int i = 0; i < 6; ++i) chain[i] = epoll_create1(0);
  int made = 0;
  for (int i = 1; i < 5; ++i) made += epoll_ctl(chain[i], EPOLL_CTL_ADD, chain[i - 1], &event) == 0;
  CHECK("a chain of four links", made == 4);
  CHECK_ERRNO("a fifth link below", epoll_ctl(chain[5], EPOLL_CTL_ADD, chain[4], &event), ELOOP);
  for (int i = 0; i < 6; ++i) close(chain[i]);
  for (int i = 0; i < 6; ++i) chain[i] = epoll_create1(0);
  made = 0;
  for (int i = 5; i > 1; --i) made += epoll_ctl(chain[i], EPOLL_CTL_ADD, chain[i - 1], &event) == 0;
  CHECK("a chain of four links built from the top", made == 4);
  CHECK_ERRNO("a fifth link above", epoll_ctl(chain[1], EPOLL_CTL_ADD, chain[0], &event), ELOOP);
  for (int i = 0; i < 6; ++i) close(chain[i]);
  close(epfd);
  close(p[0]);
  close(p[1]);
}

static void wait_errors(void) {
  int epfd = epoll_create1(0);
  int p[2];
  pipe(p);
  struct epoll_event events[4];
  CHECK_ERRNO("maxevents 0", raw_wait(epfd, events, 0, 0), EINVAL);
  CHECK_ERRNO("maxevents -1", raw_wait(epfd, events, -1, 0), EINVAL);
  CHECK_ERRNO("events at a kernel address", raw_wait(epfd, (void*)0xffff800000000000ull, 1, 0),
              EFAULT);
  CHECK_ERRNO("a bad epfd", raw_wait(999, events, 4, 0), EBADF);
  CHECK_ERRNO("a pipe as the epfd", raw_wait(p[0], events, 4, 0), EINVAL);
  add(epfd, p[1], EPOLLOUT, 1);
  CHECK_ERRNO("events at an unmapped address with one ready", raw_wait(epfd, (void*)8, 4, 0),
              EFAULT);
  CHECK("the item stays ready after the fault", ready(epfd, events, 4) == 1);
  sigset_t mask;
  sigemptyset(&mask);
  CHECK_ERRNO("epoll_pwait with a sigset size of 4", raw_pwait(epfd, events, 4, 0, &mask, 4),
              EINVAL);
  CHECK_ERRNO("epoll_pwait with a bad mask pointer", raw_pwait(epfd, events, 4, 0, (void*)8, 8),
              EFAULT);
  struct timespec bad = {0, 1000000000};
  CHECK_ERRNO("epoll_pwait2 with tv_nsec 1e9", raw_pwait2(epfd, events, 4, &bad, NULL, 8), EINVAL);
  bad.tv_sec = -1;
  bad.tv_nsec = 0;
  CHECK_ERRNO("epoll_pwait2 with tv_sec -1", raw_pwait2(epfd, events, 4, &bad, NULL, 8), EINVAL);
  CHECK_ERRNO("epoll_pwait2 with a bad timespec", raw_pwait2(epfd, events, 4, (void*)8, NULL, 8),
              EFAULT);
  CHECK_ERRNO("epoll_pwait2 maxevents 0", raw_pwait2(epfd, events, 0, NULL, NULL, 8), EINVAL);
  close(epfd);
  close(p[0]);
  close(p[1]);
}

static void pipes(void) {
  int epfd = epoll_create1(0);
  int p[2];
  pipe(p);
  struct epoll_event events[4];
  memset(events, 0, sizeof(events));
  CHECK("ADD the read end", add(epfd, p[0], EPOLLIN, 0x1122334455667788ull) == 0);
  CHECK("an empty pipe is not readable", ready(epfd, events, 4) == 0);
  write(p[1], "abc", 3);
  CHECK("readable after a write", ready(epfd, events, 4) == 1 && events[0].events == EPOLLIN &&
                                      events[0].data.u64 == 0x1122334455667788ull);
  CHECK("level-triggered: still readable", ready(epfd, events, 4) == 1);
  CHECK("ADD the write end", add(epfd, p[1], EPOLLOUT, 7) == 0);
  CHECK("both ready", ready(epfd, events, 4) == 2);
  CHECK("MOD to EPOLLIN on the write end", modify(epfd, p[1], EPOLLIN, 7) == 0);
  CHECK("a write end is never readable",
        ready(epfd, events, 4) == 1 && events[0].data.u64 == 0x1122334455667788ull);
  CHECK("DEL", epoll_ctl(epfd, EPOLL_CTL_DEL, p[0], NULL) == 0);
  CHECK("nothing after DEL", ready(epfd, events, 4) == 0);
  CHECK("ADD again after DEL", add(epfd, p[0], EPOLLIN | EPOLLRDNORM, 3) == 0);
  CHECK("EPOLLRDNORM when asked", ready(epfd, events, 4) == 1 &&
                                      events[0].events == (EPOLLIN | EPOLLRDNORM) &&
                                      events[0].data.u64 == 3);
  close(p[1]);
  CHECK("EPOLLHUP without asking once the writer is gone",
        ready(epfd, events, 4) == 1 && events[0].events == (EPOLLIN | EPOLLRDNORM | EPOLLHUP));
  drain(p[0]);
  CHECK("EPOLLHUP alone when empty", ready(epfd, events, 4) == 1 && events[0].events == EPOLLHUP);
  close(p[0]);
  pipe(p);
  CHECK("ADD for EPOLLPRI|EPOLLRDHUP only", add(epfd, p[0], EPOLLPRI | EPOLLRDHUP, 10) == 0);
  write(p[1], "x", 1);
  CHECK("a pipe has neither", ready(epfd, events, 4) == 0);
  close(p[1]);
  CHECK("but EPOLLHUP comes anyway", ready(epfd, events, 4) == 1 && events[0].events == EPOLLHUP);
  close(p[0]);
  pipe(p);
  CHECK("ADD a write end", add(epfd, p[1], EPOLLOUT, 9) == 0);
  close(p[0]);
  CHECK("EPOLLERR once the reader is gone",
        ready(epfd, events, 4) == 1 && events[0].events == (EPOLLOUT | EPOLLERR));
  close(p[1]);
  close(epfd);
}

static void triggering(void) {
  int epfd = epoll_create1(0);
  int p[2];
  pipe(p);
  struct epoll_event events[4];
  CHECK("ADD edge-triggered", add(epfd, p[0], EPOLLIN | EPOLLET, 1) == 0);
  CHECK("edge-triggered: nothing yet", ready(epfd, events, 4) == 0);
  write(p[1], "a", 1);
  CHECK("edge-triggered: the write", ready(epfd, events, 4) == 1 && events[0].events == EPOLLIN);
  CHECK("edge-triggered: once", ready(epfd, events, 4) == 0);
  write(p[1], "b", 1);
  CHECK("edge-triggered: another write is another edge", ready(epfd, events, 4) == 1);
  CHECK("edge-triggered: once again", ready(epfd, events, 4) == 0);
  drain(p[0]);
  CHECK("edge-triggered: drained", ready(epfd, events, 4) == 0);
  write(p[1], "c", 1);
  CHECK("edge-triggered: readable again", ready(epfd, events, 4) == 1);
  CHECK("MOD re-arms an edge-triggered item", modify(epfd, p[0], EPOLLIN | EPOLLET, 2) == 0 &&
                                                  ready(epfd, events, 4) == 1 &&
                                                  events[0].data.u64 == 2);
  epoll_ctl(epfd, EPOLL_CTL_DEL, p[0], NULL);
  CHECK("ADD ONESHOT", add(epfd, p[0], EPOLLIN | EPOLLONESHOT, 3) == 0);
  CHECK("ONESHOT: reported", ready(epfd, events, 4) == 1 && events[0].data.u64 == 3);
  CHECK("ONESHOT: then disabled", ready(epfd, events, 4) == 0);
  write(p[1], "d", 1);
  CHECK("ONESHOT: disabled even after a write", ready(epfd, events, 4) == 0);
  CHECK_ERRNO("ONESHOT: still registered", add(epfd, p[0], EPOLLIN, 0), EEXIST);
  CHECK("ONESHOT: MOD re-arms", modify(epfd, p[0], EPOLLIN | EPOLLONESHOT, 4) == 0 &&
                                    ready(epfd, events, 4) == 1 && events[0].data.u64 == 4);
  CHECK("ONESHOT: and disables again", ready(epfd, events, 4) == 0);
  close(epfd);
  close(p[0]);
  close(p[1]);
}

static void timeouts(void) {
  int epfd = epoll_create1(0);
  int p[2];
  pipe(p);
  add(epfd, p[0], EPOLLIN, 1);
  struct epoll_event events[4];
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  CHECK("timeout 0 returns at once", raw_wait(epfd, events, 4, 0) == 0 && elapsed_ms(&start) < 20);
  clock_gettime(CLOCK_MONOTONIC, &start);
  CHECK("a 50 ms timeout", raw_wait(epfd, events, 4, 50) == 0 && elapsed_ms(&start) >= 45);
  clock_gettime(CLOCK_MONOTONIC, &start);
  sigset_t mask;
  sigemptyset(&mask);
  CHECK("epoll_pwait with a 30 ms timeout",
        raw_pwait(epfd, events, 4, 30, &mask, 8) == 0 && elapsed_ms(&start) >= 25);
  struct timespec ts = {0, 30000000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  CHECK("epoll_pwait2 with a 30 ms timespec",
        raw_pwait2(epfd, events, 4, &ts, NULL, 8) == 0 && elapsed_ms(&start) >= 25);
  write(p[1], "x", 1);
  CHECK("epoll_pwait2 without a timeout and one ready",
        raw_pwait2(epfd, events, 4, NULL, NULL, 8) == 1 && events[0].data.u64 == 1);
  close(epfd);
  close(p[0]);
  close(p[1]);
}

static void with_fork(void) {
  int epfd = epoll_create1(0);
  int p[2];
  pipe(p);
  add(epfd, p[0], EPOLLIN, 42);
  pid_t child = fork();
  if (child == 0) {
    struct timespec pause = {0, 50000000};
    nanosleep(&pause, NULL);
    write(p[1], "x", 1);
    _exit(0);
  }
  struct epoll_event events[4];
  CHECK("a child's write ends the parent's wait",
        raw_wait(epfd, events, 4, 5000) == 1 && events[0].data.u64 == 42);
  int status = 0;
  waitpid(child, &status, 0);
  CHECK("the writer exited", WIFEXITED(status) && WEXITSTATUS(status) == 0);
  drain(p[0]);
  // The instance is shared: what a child adds, the parent sees.
  int q[2];
  pipe(q);
  child = fork();
  if (child == 0) _exit(add(epfd, q[1], EPOLLOUT, 77) == 0 ? 0 : 1);
  waitpid(child, &status, 0);
  CHECK("a child adds to the shared instance", WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK("and the parent sees it", ready(epfd, events, 4) == 1 && events[0].data.u64 == 77);
  close(q[0]);
  close(q[1]);
  close(epfd);
  close(p[0]);
  close(p[1]);
}

static void signals(void) {
  struct sigaction action = {0};
  action.sa_handler = on_signal;
  sigaction(SIGUSR1, &action, NULL);
  int epfd = epoll_create1(0);
  int p[2];
  pipe(p);
  add(epfd, p[0], EPOLLIN, 1);
  struct epoll_event events[4];
  caught = 0;
  pid_t child = fork();
  if (child == 0) {
    struct timespec pause = {0, 50000000};
    nanosleep(&pause, NULL);
    kill(getppid(), SIGUSR1);
    _exit(0);
  }
  CHECK_ERRNO("a handler ends epoll_wait with EINTR", raw_wait(epfd, events, 4, 5000), EINTR);
  CHECK("and ran", caught == SIGUSR1);
  waitpid(child, NULL, 0);
  // SA_RESTART does not restart epoll_wait.
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, NULL);
  caught = 0;
  child = fork();
  if (child == 0) {
    struct timespec pause = {0, 50000000};
    nanosleep(&pause, NULL);
    kill(getppid(), SIGUSR1);
    _exit(0);
  }
  CHECK_ERRNO("EINTR even with SA_RESTART", raw_wait(epfd, events, 4, 5000), EINTR);
  waitpid(child, NULL, 0);
  // epoll_pwait's mask: a pending blocked signal it unblocks interrupts it at once, and the
  // old mask is back afterwards.
  sigset_t block, empty, now;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigemptyset(&empty);
  sigprocmask(SIG_BLOCK, &block, NULL);
  caught = 0;
  raise(SIGUSR1);
  CHECK("blocked and pending", caught == 0);
  CHECK_ERRNO("epoll_pwait unblocking a pending signal", raw_pwait(epfd, events, 4, -1, &empty, 8),
              EINTR);
  CHECK("its handler ran", caught == SIGUSR1);
  sigprocmask(SIG_BLOCK, NULL, &now);
  CHECK("the old mask is back", sigismember(&now, SIGUSR1));
  caught = 0;
  raise(SIGUSR1);
  struct timespec ts = {0, 0};
  CHECK_ERRNO("epoll_pwait2 likewise", raw_pwait2(epfd, events, 4, NULL, &empty, 8), EINTR);
  CHECK("its handler ran too", caught == SIGUSR1);
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  // A mask blocking the signal during the wait: the wait times out, the handler runs after.
  caught = 0;
  child = fork();
  if (child == 0) {
    struct timespec pause = {0, 20000000};
    nanosleep(&pause, NULL);
    kill(getppid(), SIGUSR1);
    _exit(0);
  }
  CHECK("a signal blocked by epoll_pwait's mask waits",
        raw_pwait(epfd, events, 4, 150, &block, 8) == 0);
  waitpid(child, NULL, 0);
  CHECK("and is delivered after", caught == SIGUSR1);
  CHECK("ready events win over a timeout",
        write(p[1], "x", 1) == 1 && raw_pwait2(epfd, events, 4, &ts, &empty, 8) == 1);
  signal(SIGUSR1, SIG_DFL);
  close(epfd);
  close(p[0]);
  close(p[1]);
}

static void nesting_and_fairness(void) {
  int epfd = epoll_create1(0);
  int p[2], q[2];
  pipe(p);
  pipe(q);
  add(epfd, p[0], EPOLLIN, 1);
  add(epfd, q[0], EPOLLIN, 2);
  struct pollfd pfd = {.fd = epfd, .events = POLLIN};
  CHECK("poll on an idle epoll fd", poll(&pfd, 1, 0) == 0);
  int outer = epoll_create1(0);
  add(outer, epfd, EPOLLIN, 100);
  struct epoll_event events[4];
  CHECK("an idle inner epoll fd", ready(outer, events, 4) == 0);
  write(p[1], "x", 1);
  CHECK("poll on an epoll fd with a ready member", poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN);
  CHECK("a nested epoll fd is readable",
        ready(outer, events, 4) == 1 && events[0].events == EPOLLIN && events[0].data.u64 == 100);
  write(q[1], "x", 1);
  CHECK("maxevents 1 truncates", ready(epfd, events, 1) == 1 && events[0].data.u64 == 1);
  CHECK("and the next wait gets the other", ready(epfd, events, 1) == 1 && events[0].data.u64 == 2);
  CHECK("then the first again", ready(epfd, events, 1) == 1 && events[0].data.u64 == 1);
  CHECK("both with room for more", ready(epfd, events, 4) == 2);
  close(outer);
  close(epfd);
  close(p[0]);
  close(p[1]);
  close(q[0]);
  close(q[1]);
}

static void lifetime(void) {
  int epfd = epoll_create1(0);
  int p[2];
  pipe(p);
  struct epoll_event events[4];
  add(epfd, p[0], EPOLLIN, 5);
  write(p[1], "x", 1);
  CHECK("registered and ready", ready(epfd, events, 4) == 1);
  int read_end = p[0];
  close(p[0]);
  CHECK("closing the last fd removes it", ready(epfd, events, 4) == 0);
  int again[2];
  pipe(again);  // the same fd numbers, other files
  CHECK("the number is free to ADD again",
        again[0] == read_end && add(epfd, again[0], EPOLLIN, 6) == 0);
  int copy = dup(again[0]);
  close(again[0]);
  write(again[1], "y", 1);
  CHECK("a dup keeps the registration", ready(epfd, events, 4) == 1 && events[0].data.u64 == 6);
  CHECK_ERRNO("DEL by the closed fd", epoll_ctl(epfd, EPOLL_CTL_DEL, again[0], NULL), EBADF);
  CHECK_ERRNO("DEL by the dup: another key", epoll_ctl(epfd, EPOLL_CTL_DEL, copy, NULL), ENOENT);
  CHECK("the same file under another fd is another item",
        add(epfd, copy, EPOLLIN, 8) == 0 && ready(epfd, events, 4) == 2);
  close(copy);
  CHECK("closing the dup removes both", ready(epfd, events, 4) == 0);
  // An epoll fd closed while inside another leaves it too.
  int inner = epoll_create1(0);
  add(epfd, inner, EPOLLIN, 9);
  close(inner);
  CHECK("a closed inner epoll fd left",
        epoll_create1(0) == inner && add(epfd, inner, EPOLLIN, 1) == 0);
  close(inner);
  close(again[1]);
  close(epfd);
  // Instances and items are freed: many come and go.
  int made = 0;
  for (int i = 0; i < 2000; ++i) {
    int e = epoll_create1(0), q[2];
    if (e < 0 || pipe(q) != 0) break;
    made += add(e, q[0], EPOLLIN, i) == 0 && add(e, q[1], EPOLLOUT, i) == 0;
    close(i % 2 == 0 ? e : q[0]);  // the instance first, or a member first
    close(i % 2 == 0 ? q[0] : e);
    close(q[1]);
  }
  CHECK("2000 instances with items come and go", made == 2000);
}

int main(void) {
  snprintf(dir, sizeof(dir), "/tmp/epoll_checks.%d", (int)getpid());
  if (mkdir(dir, 0755) != 0) {
    perror("mkdir");
    return 2;
  }
  creation();
  control_errors();
  wait_errors();
  pipes();
  triggering();
  timeouts();
  with_fork();
  signals();
  nesting_and_fairness();
  lifetime();
  rmdir(dir);
  printf("epoll_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
