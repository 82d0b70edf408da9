// SPDX-License-Identifier: MIT
// What a SA_SIGINFO handler learns of who sent its signal, as Linux fills siginfo: kill
// (SI_USER, the sender's pid and uid), tgkill and raise (SI_TKILL), sigqueue (SI_QUEUE with its
// value), SIGPIPE (SI_USER from the writer itself), alarm's SIGALRM (SI_KERNEL), SIGCHLD for a
// child that stopped, continued, exited or was killed (CLD_* with its pid, uid and status);
// rt_sigqueueinfo refuses a kernel si_code to another process (EPERM). It runs on the host's
// Linux first, then on Sonde and on Linux 6.1 in QEMU (compared).
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"

// The last siginfo each signal's handler saw.
struct seen {
  int count, code, pid, status;
  unsigned uid;
  long value;
};
static volatile struct seen seen[65];
// SIGCHLD by si_code (CLD_EXITED 1 .. CLD_CONTINUED 6).
static volatile struct seen children[7];
// The values of SIGRTMIN + 2 as they came, as decimal digits.
static volatile long order_seen;

static void record(int signal, siginfo_t* info, void* context) {
  (void)context;
  volatile struct seen* s = &seen[signal];
  if (signal == SIGCHLD && info->si_code >= 1 && info->si_code <= 6) s = &children[info->si_code];
  s->count++;
  s->code = info->si_code;
  s->pid = info->si_pid;
  s->uid = info->si_uid;
  s->status = signal == SIGCHLD ? info->si_status : 0;
  s->value = signal == SIGCHLD ? 0 : (long)info->si_value.sival_ptr;
  if (signal == SIGRTMIN + 2) order_seen = order_seen * 10 + s->value;
}

static void handle(int signal, int flags) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = record;
  action.sa_flags = SA_SIGINFO | flags;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, NULL);
}

// waitpid, again after a SIGCHLD handler interrupted it.
static pid_t wait_for(pid_t pid, int* status, int flags) {
  pid_t got;
  do got = waitpid(pid, status, flags);
  while (got == -1 && errno == EINTR);
  return got;
}

// True when the last `signal` came from this process with si_code `code`.
static int from_me(int signal, int code) {
  return seen[signal].code == code && seen[signal].pid == getpid() &&
         seen[signal].uid == (unsigned)getuid();
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  handle(SIGUSR1, 0);
  handle(SIGUSR2, 0);
  handle(SIGPIPE, 0);
  handle(SIGALRM, 0);
  handle(SIGRTMIN + 1, 0);
  handle(SIGCHLD, 0);

  CHECK("kill", kill(getpid(), SIGUSR1) == 0 && seen[SIGUSR1].count == 1);
  CHECK("kill: SI_USER, my pid and uid", from_me(SIGUSR1, SI_USER));
  CHECK("tgkill", syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2) == 0 && seen[SIGUSR2].count);
  CHECK("tgkill: SI_TKILL, my pid and uid", from_me(SIGUSR2, SI_TKILL));
  CHECK("raise", raise(SIGUSR1) == 0 && seen[SIGUSR1].count == 2 && from_me(SIGUSR1, SI_TKILL));

  union sigval value = {.sival_ptr = (void*)0x1234567890abull};
  CHECK("sigqueue", sigqueue(getpid(), SIGRTMIN + 1, value) == 0 && seen[SIGRTMIN + 1].count);
  CHECK("sigqueue: SI_QUEUE, my pid, its value",
        from_me(SIGRTMIN + 1, SI_QUEUE) && seen[SIGRTMIN + 1].value == 0x1234567890abl);

  // Real-time signals queue, each with its value, taken in the order sent; a standard signal
  // sent three times while blocked runs its handler once.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGRTMIN + 2);
  sigaddset(&block, SIGUSR1);
  handle(SIGRTMIN + 2, 0);
  sigprocmask(SIG_BLOCK, &block, &old);
  for (long i = 1; i <= 3; ++i) {
    union sigval v = {.sival_ptr = (void*)i};
    sigqueue(getpid(), SIGRTMIN + 2, v);
    kill(getpid(), SIGUSR1);
  }
  int before = seen[SIGUSR1].count;
  order_seen = 0;
  sigprocmask(SIG_SETMASK, &old, NULL);
  CHECK("three queued real-time signals, three handlers", seen[SIGRTMIN + 2].count == 3);
  CHECK("taken in the order sent", order_seen == 123);
  CHECK("a standard signal sent three times, one handler", seen[SIGUSR1].count == before + 1);

  // rt_sigqueueinfo with the caller's own siginfo: any negative si_code, to anyone; a kernel
  // si_code (0 and up, or SI_TKILL) only to the caller itself.
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_signo = SIGUSR2;
  info.si_code = -42;
  info.si_pid = 4242;
  info.si_uid = 77;
  CHECK("rt_sigqueueinfo with si_code -42",
        syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR2, &info) == 0 && seen[SIGUSR2].code == -42 &&
            seen[SIGUSR2].pid == 4242 && seen[SIGUSR2].uid == 77);
  info.si_code = SI_USER;
  CHECK("rt_sigqueueinfo SI_USER to myself",
        syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR2, &info) == 0 &&
            seen[SIGUSR2].code == SI_USER && seen[SIGUSR2].pid == 4242);
  pid_t waiting = fork();
  if (waiting == 0) {
    pause();
    _exit(0);
  }
  CHECK_ERRNO("rt_sigqueueinfo SI_USER to another process",
              syscall(SYS_rt_sigqueueinfo, waiting, SIGUSR2, &info), EPERM);
  info.si_code = SI_TKILL;
  CHECK_ERRNO("rt_sigqueueinfo SI_TKILL to another process",
              syscall(SYS_rt_sigqueueinfo, waiting, SIGUSR2, &info), EPERM);
  info.si_code = SI_QUEUE;
  CHECK_ERRNO("rt_sigqueueinfo of a bad signal", syscall(SYS_rt_sigqueueinfo, waiting, 65, &info),
              EINVAL);
  CHECK_ERRNO("rt_sigqueueinfo from bad memory",
              syscall(SYS_rt_sigqueueinfo, waiting, SIGUSR2, (void*)16), EFAULT);
  CHECK_ERRNO("rt_tgsigqueueinfo to tid 0",
              syscall(SYS_rt_tgsigqueueinfo, getpid(), 0, SIGUSR2, &info), EINVAL);
  info.si_code = -7;
  CHECK("rt_tgsigqueueinfo to my thread",
        syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGUSR2, &info) == 0 &&
            seen[SIGUSR2].code == -7);

  // SIGCHLD: a child killed by a signal (CLD_KILLED, its number), then one that stops itself
  // (CLD_STOPPED, SIGSTOP), is continued (CLD_CONTINUED, SIGCONT) and exits with 7.
  int status = 0;
  kill(waiting, SIGKILL);
  CHECK("killed child waited", wait_for(waiting, &status, 0) == waiting && WIFSIGNALED(status));
  CHECK("SIGCHLD CLD_KILLED", children[CLD_KILLED].count == 1 &&
                                  children[CLD_KILLED].pid == waiting &&
                                  children[CLD_KILLED].status == SIGKILL &&
                                  children[CLD_KILLED].uid == (unsigned)getuid());
  // The child exits only once the parent took CLD_CONTINUED: SIGCHLD is a standard signal, so
  // a second one while the first is pending would be merged into it.
  int go[2];
  CHECK("a pipe to the child", pipe(go) == 0);
  pid_t child = fork();
  if (child == 0) {
    char byte;
    raise(SIGSTOP);
    _exit(read(go[0], &byte, 1) == 1 ? 7 : 1);
  }
  CHECK("stopped child waited", wait_for(child, &status, WUNTRACED) == child && WIFSTOPPED(status));
  CHECK("SIGCHLD CLD_STOPPED", children[CLD_STOPPED].count == 1 &&
                                   children[CLD_STOPPED].pid == child &&
                                   children[CLD_STOPPED].status == SIGSTOP);
  kill(child, SIGCONT);
  CHECK("continued child waited",
        wait_for(child, &status, WCONTINUED) == child && WIFCONTINUED(status));
  // Linux sends CLD_CONTINUED when the child runs again, which may be after wait4 saw it.
  for (int i = 0; i < 2000 && children[CLD_CONTINUED].count == 0; ++i) usleep(1000);
  CHECK("the child told to exit", write(go[1], "x", 1) == 1);
  close(go[0]);
  close(go[1]);
  CHECK("exited child waited",
        wait_for(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 7);
  CHECK("SIGCHLD CLD_CONTINUED", children[CLD_CONTINUED].count == 1 &&
                                     children[CLD_CONTINUED].pid == child &&
                                     children[CLD_CONTINUED].status == SIGCONT);
  CHECK("SIGCHLD CLD_EXITED", children[CLD_EXITED].count == 1 &&
                                  children[CLD_EXITED].pid == child &&
                                  children[CLD_EXITED].status == 7);

  // SIGPIPE comes from the writer itself (SI_USER); alarm's SIGALRM from the kernel.
  int ends[2];
  CHECK("pipe", pipe(ends) == 0);
  close(ends[0]);
  CHECK("write to a pipe with no reader", write(ends[1], "x", 1) == -1 && seen[SIGPIPE].count);
  CHECK("SIGPIPE: SI_USER from me", from_me(SIGPIPE, SI_USER));
  close(ends[1]);
  alarm(1);
  while (seen[SIGALRM].count == 0) pause();
  CHECK("SIGALRM: SI_KERNEL, no sender", seen[SIGALRM].code == SI_KERNEL && seen[SIGALRM].pid == 0);

  printf("signal_info_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
