// SPDX-License-Identifier: MIT
// Linux behaviour the POSIX server must match, checked from a static musl program: return
// values and errno for files, directories, descriptors, pipes, processes, memory and signals.
// It runs on the host's Linux first (where every check must pass), then on Sonde.
#define _GNU_SOURCE  // pipe2, dup3 in glibc
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

static volatile sig_atomic_t caught;
static void on_signal(int signal) { caught = signal; }

static char dir[64];

static void files(void) {
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
  CHECK_ERRNO("read from a bad pointer", read(open(path, O_RDONLY), (void*)8, 4), EFAULT);
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

static void descriptors(void) {
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

static void processes(void) {
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
  CHECK("WNOHANG with a running child", (child = fork()) >= 0);
  if (child == 0) {
    struct timespec t = {0, 200000000};
    nanosleep(&t, NULL);
    _exit(3);
  }
  CHECK("WNOHANG returns 0", waitpid(child, &status, WNOHANG) == 0);
  CHECK("then the child ends", waitpid(child, &status, 0) == child && WEXITSTATUS(status) == 3);
}

static void memory_and_signals(void) {
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

static void system_calls(void) {
  struct utsname u;
  CHECK("uname",
        uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 && strcmp(u.machine, "x86_64") == 0);
  struct timespec a, b;
  CHECK("clock_gettime is monotonic",
        clock_gettime(CLOCK_MONOTONIC, &a) == 0 && clock_gettime(CLOCK_MONOTONIC, &b) == 0 &&
            (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec)));
  struct timespec sleep = {0, 50000000};
  CHECK("nanosleep sleeps",
        clock_gettime(CLOCK_MONOTONIC, &a) == 0 && nanosleep(&sleep, NULL) == 0 &&
            clock_gettime(CLOCK_MONOTONIC, &b) == 0 &&
            (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) >= 50000000L);
  CHECK("getuid is root", getuid() == 0 && geteuid() == 0);
  // capget as libcap uses it: an unknown version learns the kernel's (v3, 0x20080522).
  uint32_t header[2] = {0, 0}, data[6];
  CHECK("capget of an unknown version without data",
        syscall(SYS_capget, header, NULL) == 0 && header[0] == 0x20080522);
  header[0] = 0;
  CHECK_ERRNO("capget of an unknown version with data", syscall(SYS_capget, header, data), EINVAL);
  header[0] = 0x20080522;
  data[5] = 0x5a5a5a5a;
  CHECK("capget v3 of the caller", syscall(SYS_capget, header, data) == 0 && data[2] == 0);
  header[1] = 0x7ffffff0;
  CHECK_ERRNO("capget of a missing pid", syscall(SYS_capget, header, data), ESRCH);
  CHECK("PR_CAPBSET_READ of CAP_CHOWN", prctl(PR_CAPBSET_READ, 0, 0, 0, 0) == 1);
  CHECK_ERRNO("PR_CAPBSET_READ past the last capability", prctl(PR_CAPBSET_READ, 64, 0, 0, 0),
              EINVAL);
}

static volatile int children_changed;
static void on_child(int signal) {
  (void)signal;
  ++children_changed;
}

// Job control: SIGSTOP and SIGTSTP stop a child (waitpid WUNTRACED, SIGCHLD to the parent),
// SIGCONT resumes it (WCONTINUED); a SIGTERM sent while it is stopped acts at SIGCONT; a handled
// SIGTSTP runs its handler instead.
static void job_control(void) {
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
static void alarms(void) {
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

int main(void) {
  snprintf(dir, sizeof(dir), "/tmp/posix_checks.%d", (int)getpid());
  if (mkdir(dir, 0755) != 0) {
    perror("mkdir");
    return 2;
  }
  files();
  descriptors();
  processes();
  memory_and_signals();
  system_calls();
  job_control();
  alarms();
  rmdir(dir);
  printf("posix_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
