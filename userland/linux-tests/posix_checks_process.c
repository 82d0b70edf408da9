// SPDX-License-Identifier: MIT
// posix_checks' processes, memory and signals: fork and wait, kill, mmap and brk, handlers
// and masks, job control, alarm and clone3.
#define _GNU_SOURCE  // CLONE_* in glibc's sched.h
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "posix_checks.h"

static volatile sig_atomic_t caught;
static void on_signal(int signal) { caught = signal; }

void processes(void) {
  pid_t child = fork();
  if (child == 0) _exit(42);
  int status = 0;
  CHECK("fork and wait4", child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
                              WEXITSTATUS(status) == 42);
  CHECK_ERRNO("waitpid with no children", waitpid(-1, &status, 0), ECHILD);
  child = fork();
  if (child == 0) {
    raise(SIGTERM);
    _exit(0);
  }
  CHECK("a child killed by a signal",
        waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  child = fork();
  if (child == 0) {
    volatile int* nowhere = (volatile int*)(uintptr_t)(getpid() & 0);
    nowhere[4] = 1;  // SIGSEGV
    _exit(0);
  }
  CHECK("SIGSEGV reaches the parent",
        waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
  child = fork();
  if (child == 0) {
    execl("/no/such/program", "x", (char*)NULL);
    _exit(errno == ENOENT ? 7 : 8);
  }
  CHECK("execve of a missing file is ENOENT",
        waitpid(child, &status, 0) == child && WEXITSTATUS(status) == 7);
  CHECK("getppid of a child", getppid() > 0);
  child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  CHECK("kill", kill(child, SIGKILL) == 0 && waitpid(child, &status, 0) == child &&
                    WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  CHECK_ERRNO("kill of a missing process", kill(99999, 0), ESRCH);
  // An exited child is there until it is waited for: kill succeeds and changes nothing.
  child = fork();
  if (child == 0) _exit(5);
  siginfo_t exited;
  CHECK("waitid WNOWAIT sees the exit",
        waitid(P_PID, (id_t)child, &exited, WEXITED | WNOWAIT) == 0 && exited.si_status == 5);
  CHECK("kill 0 of a zombie", kill(child, 0) == 0);
  CHECK("SIGKILL to a zombie", kill(child, SIGKILL) == 0);
  CHECK("its status is the exit's",
        waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 5);
  CHECK_ERRNO("kill once reaped", kill(child, 0), ESRCH);
  CHECK("WNOHANG with a running child", (child = fork()) >= 0);
  if (child == 0) {
    struct timespec t = {0, 200000000};
    nanosleep(&t, NULL);
    _exit(3);
  }
  CHECK("WNOHANG returns 0", waitpid(child, &status, WNOHANG) == 0);
  CHECK("then the child ends", waitpid(child, &status, 0) == child && WEXITSTATUS(status) == 3);
}

// waitid: the siginfo of each kind of change, WNOHANG, WNOWAIT, P_PGID, its errors.
void waitid_checks(void) {
  siginfo_t info;
  CHECK_ERRNO("waitid without WEXITED/WSTOPPED/WCONTINUED", waitid(P_ALL, 0, &info, WNOHANG),
              EINVAL);
  CHECK_ERRNO("waitid with no children", waitid(P_ALL, 0, &info, WEXITED), ECHILD);
  CHECK_ERRNO("waitid of pid 0", waitid(P_PID, 0, &info, WEXITED), EINVAL);
  CHECK_ERRNO("waitid of a negative pidfd", waitid((idtype_t)3, (id_t)-1, &info, WEXITED), EINVAL);
  CHECK_ERRNO("waitid of a closed pidfd", waitid((idtype_t)3, 1000, &info, WEXITED), EBADF);
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  memset(&info, 0x5a, sizeof info);
  CHECK("WNOHANG with nothing changed is 0",
        waitid(P_PID, (id_t)child, &info, WEXITED | WNOHANG) == 0);
  CHECK("and a zero siginfo", info.si_pid == 0 && info.si_signo == 0 && info.si_code == 0);
  kill(child, SIGSTOP);
  CHECK("WSTOPPED: CLD_STOPPED", waitid(P_PID, (id_t)child, &info, WSTOPPED) == 0 &&
                                     info.si_signo == SIGCHLD && info.si_code == CLD_STOPPED &&
                                     info.si_status == SIGSTOP && info.si_pid == child);
  kill(child, SIGCONT);
  CHECK("WCONTINUED: CLD_CONTINUED", waitid(P_PID, (id_t)child, &info, WCONTINUED) == 0 &&
                                         info.si_code == CLD_CONTINUED &&
                                         info.si_status == SIGCONT);
  kill(child, SIGKILL);
  CHECK("WNOWAIT leaves the killed child",
        waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) == 0 && info.si_code == CLD_KILLED &&
            info.si_status == SIGKILL && info.si_pid == child && info.si_uid == getuid());
  CHECK("P_PGID 0 reaps it", waitid(P_PGID, 0, &info, WEXITED) == 0 && info.si_pid == child);
  CHECK_ERRNO("then nothing is left", waitid(P_ALL, 0, &info, WEXITED), ECHILD);
  child = fork();
  if (child == 0) _exit(9);
  CHECK("CLD_EXITED with the exit code", waitid(P_PID, (id_t)child, &info, WEXITED) == 0 &&
                                             info.si_code == CLD_EXITED && info.si_status == 9);
}

void memory_and_signals(void) {
  char* p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("anonymous mmap is zero", p != MAP_FAILED && p[0] == 0 && p[3 * 4096 - 1] == 0);
  p[5000] = 7;
  CHECK("munmap of the middle page", munmap(p + 4096, 4096) == 0);
  CHECK("mprotect read-only", mprotect(p, 4096, PROT_READ) == 0);
  pid_t child = fork();
  if (child == 0) {
    p[0] = 1;  // SIGSEGV: read-only now
    _exit(0);
  }
  int status = 0;
  CHECK("a write to a read-only page is SIGSEGV",
        waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
  child = fork();
  if (child == 0) {
    p[4096] = 1;  // SIGSEGV: unmapped
    _exit(0);
  }
  CHECK("an unmapped page is SIGSEGV",
        waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
  CHECK_ERRNO("mmap with a bad length",
              (long)mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
  // musl's sbrk only reads the break: the system call itself.
  char* start = (char*)syscall(SYS_brk, 0);
  CHECK("brk grows", (char*)syscall(SYS_brk, start + 8192) == start + 8192 && start[8191] == 0);
  CHECK("brk below its start is refused", (char*)syscall(SYS_brk, 4096) == start + 8192);
  struct sigaction action = {0};
  action.sa_handler = on_signal;
  CHECK("sigaction", sigaction(SIGUSR1, &action, NULL) == 0);
  caught = 0;
  CHECK("a handler runs", kill(getpid(), SIGUSR1) == 0 && caught == SIGUSR1);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  CHECK("sigprocmask", sigprocmask(SIG_BLOCK, &block, &old) == 0);
  caught = 0;
  kill(getpid(), SIGUSR1);
  CHECK("a blocked signal waits", caught == 0);
  sigprocmask(SIG_SETMASK, &old, NULL);
  CHECK("and runs when unblocked", caught == SIGUSR1);
  struct sigaction previous;
  CHECK("sigaction reads back",
        sigaction(SIGUSR1, NULL, &previous) == 0 && previous.sa_handler == on_signal);
  CHECK_ERRNO("SIGKILL cannot be caught", sigaction(SIGKILL, &action, NULL), EINVAL);
}

static volatile int children_changed;
static void on_child(int signal) {
  (void)signal;
  ++children_changed;
}

// Job control: SIGSTOP and SIGTSTP stop a child (waitpid WUNTRACED, SIGCHLD to the parent),
// SIGCONT resumes it (WCONTINUED); a SIGTERM sent while it is stopped acts at SIGCONT; a handled
// SIGTSTP runs its handler instead.
void job_control(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_child;
  action.sa_flags = SA_RESTART;
  sigaction(SIGCHLD, &action, NULL);
  int fds[2];
  CHECK("pipe for job control", pipe(fds) == 0);
  // The child gets its own process group, whose parent (this process) is outside it: not an
  // orphaned group, so SIGTSTP stops it (Linux discards it in an orphaned one).
  pid_t child = fork();
  if (child == 0) {
    setpgid(0, 0);
    close(fds[0]);
    for (;;) {
      if (write(fds[1], "x", 1) != 1) _exit(1);
      usleep(20000);
    }
  }
  setpgid(child, child);
  close(fds[1]);
  char byte;
  CHECK("the child runs", read(fds[0], &byte, 1) == 1);
  int status = 0;
  children_changed = 0;
  CHECK("SIGSTOP", kill(child, SIGSTOP) == 0);
  CHECK("waitpid WUNTRACED sees the stop", waitpid(child, &status, WUNTRACED) == child &&
                                               WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
  CHECK("a stop is reported once", waitpid(child, &status, WUNTRACED | WNOHANG) == 0);
  CHECK("SIGCHLD for the stop", children_changed >= 1);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  while (read(fds[0], &byte, 1) == 1) {
  }
  usleep(100000);
  errno = 0;
  CHECK("a stopped child does not run", read(fds[0], &byte, 1) == -1 && errno == EAGAIN);
  CHECK("SIGCONT", kill(child, SIGCONT) == 0);
  CHECK("waitpid WCONTINUED sees the continue",
        waitpid(child, &status, WCONTINUED) == child && WIFCONTINUED(status));
  fcntl(fds[0], F_SETFL, 0);
  CHECK("a continued child runs again", read(fds[0], &byte, 1) == 1);
  CHECK("SIGTSTP", kill(child, SIGTSTP) == 0);
  CHECK("SIGTSTP stops by default", waitpid(child, &status, WUNTRACED) == child &&
                                        WIFSTOPPED(status) && WSTOPSIG(status) == SIGTSTP);
  CHECK("SIGTERM waits while the child is stopped",
        kill(child, SIGTERM) == 0 && waitpid(child, &status, WNOHANG) == 0);
  CHECK("SIGCONT lets the held SIGTERM end it",
        kill(child, SIGCONT) == 0 && waitpid(child, &status, 0) == child && WIFSIGNALED(status) &&
            WTERMSIG(status) == SIGTERM);
  close(fds[0]);
  signal(SIGCHLD, SIG_DFL);
  struct sigaction tstp;
  memset(&tstp, 0, sizeof tstp);
  tstp.sa_handler = on_signal;
  sigaction(SIGTSTP, &tstp, NULL);
  caught = 0;
  CHECK("a handled SIGTSTP runs its handler", raise(SIGTSTP) == 0 && caught == SIGTSTP);
  signal(SIGTSTP, SIG_DFL);
}

// alarm(): SIGALRM after the seconds asked for; the seconds left of the previous one.
void alarms(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigaction(SIGALRM, &action, NULL);
  caught = 0;
  CHECK("alarm with none pending returns 0", alarm(5) == 0);
  unsigned left = alarm(1);
  CHECK("alarm returns the previous one's seconds left", left >= 4 && left <= 5);
  sigset_t none;
  sigemptyset(&none);
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (caught != SIGALRM) sigsuspend(&none);
  clock_gettime(CLOCK_MONOTONIC, &end);
  CHECK("SIGALRM arrives after about a second", end.tv_sec - start.tv_sec <= 3);
  CHECK("alarm(0) when none is pending", alarm(0) == 0);
  alarm(10);
  CHECK("alarm(0) cancels and returns the seconds left", alarm(0) >= 9);
  signal(SIGALRM, SIG_DFL);
}

// clone3: a fork-like child with exit_signal SIGCHLD, CLONE_PARENT_SETTID, the size checks.
struct clone_args_v2 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
      set_tid_size, cgroup;
};
static long clone3_call(void* args, size_t size) { return syscall(435, args, size); }
void clone3_checks(void) {
  struct clone_args_v2 args;
  memset(&args, 0, sizeof(args));
  args.exit_signal = SIGCHLD;
  long pid = clone3_call(&args, sizeof(args));
  if (pid == 0) _exit(7);
  CHECK("clone3: a fork-like child", pid > 0);
  int status = 0;
  CHECK("clone3: waitpid the child",
        waitpid((pid_t)pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7);
  int parent_tid = 0;
  memset(&args, 0, sizeof(args));
  args.flags = CLONE_PARENT_SETTID;
  args.parent_tid = (uintptr_t)&parent_tid;
  args.exit_signal = SIGCHLD;
  pid = clone3_call(&args, 64);  // CLONE_ARGS_SIZE_VER0
  if (pid == 0) _exit(0);
  CHECK("clone3: the first version's size, CLONE_PARENT_SETTID", pid > 0 && parent_tid == pid);
  CHECK("clone3: waitpid", waitpid((pid_t)pid, &status, 0) == pid && WIFEXITED(status));
  static uint64_t larger[16];
  memset(larger, 0, sizeof(larger));
  larger[4] = SIGCHLD;
  larger[12] = 1;
  CHECK_ERRNO("clone3: non-zero bytes past the known struct", clone3_call(larger, 104), E2BIG);
  CHECK_ERRNO("clone3: more than a page", clone3_call(&args, 4097), E2BIG);
  CHECK_ERRNO("clone3: smaller than the first version", clone3_call(&args, 63), EINVAL);
  CHECK_ERRNO("clone3: size 0", clone3_call(&args, 0), EINVAL);
  CHECK_ERRNO("clone3: a bad pointer", clone3_call((void*)8, sizeof(args)), EFAULT);
  memset(&args, 0, sizeof(args));
  args.flags = SIGCHLD;
  CHECK_ERRNO("clone3: the signal in the flags", clone3_call(&args, sizeof(args)), EINVAL);
  args.flags = 0;
  args.exit_signal = 0x100 | SIGCHLD;
  CHECK_ERRNO("clone3: exit_signal beyond CSIGNAL", clone3_call(&args, sizeof(args)), EINVAL);
  args.exit_signal = SIGCHLD;
  args.stack = (uintptr_t)larger;
  CHECK_ERRNO("clone3: a stack without a size", clone3_call(&args, sizeof(args)), EINVAL);
  args.stack = 0;
  args.stack_size = 4096;
  CHECK_ERRNO("clone3: a size without a stack", clone3_call(&args, sizeof(args)), EINVAL);
  args.stack_size = 0;
  args.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
  CHECK_ERRNO("clone3: CLONE_THREAD with an exit signal", clone3_call(&args, sizeof(args)), EINVAL);
  args.flags = 0;
  args.set_tid_size = 1;
  CHECK_ERRNO("clone3: set_tid_size without set_tid", clone3_call(&args, sizeof(args)), EINVAL);
  CHECK("clone3: no child left behind", waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD);
}

// Another process's /proc directory read straight by its path (no listing of /proc first): its
// comm as it changes, its exe, and no directory once it is reaped.
static int read_proc_file(pid_t pid, const char* name, char* out, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -errno;
  ssize_t n = read(fd, out, size - 1);
  close(fd);
  out[n > 0 ? n : 0] = 0;
  return n > 0 ? 0 : -EIO;
}

void proc_of_others(void) {
  int ready[2], go[2];
  if (pipe(ready) != 0 || pipe(go) != 0) return;
  pid_t child = fork();
  if (child == 0) {
    char byte = 0;
    prctl(PR_SET_NAME, "renamed-child");
    (void)write(ready[1], &byte, 1);
    (void)read(go[0], &byte, 1);
    _exit(0);
  }
  char byte = 0, text[64];
  (void)read(ready[0], &byte, 1);
  CHECK("another process's comm, read by its path",
        read_proc_file(child, "comm", text, sizeof text) == 0 &&
            strcmp(text, "renamed-child\n") == 0);
  char link[64], exe[256], own[256];
  snprintf(link, sizeof link, "/proc/%d/exe", (int)child);
  ssize_t length = readlink(link, exe, sizeof exe - 1);
  ssize_t own_length = readlink("/proc/self/exe", own, sizeof own - 1);
  CHECK("its exe is ours (a fork)",
        length > 0 && length == own_length && memcmp(exe, own, (size_t)length) == 0);
  (void)write(go[1], &byte, 1);
  int status = 0;
  waitpid(child, &status, 0);
  CHECK("a reaped process has no directory",
        read_proc_file(child, "stat", text, sizeof text) == -ENOENT);
  close(ready[0]);
  close(ready[1]);
  close(go[0]);
  close(go[1]);
}

void add_process_counts(int* passed_total, int* failed_total) {
  *passed_total += passed;
  *failed_total += failed;
}
