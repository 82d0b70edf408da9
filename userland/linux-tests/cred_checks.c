// SPDX-License-Identifier: MIT
// User and group ids and what they allow: setuid, setgid, setreuid, setregid, setresuid,
// setresgid, setfsuid, setfsgid, setgroups and getgroups with Linux's rules and errnos (run as
// root, each case in a child that changes its ids); then, as uid 1000, EACCES and EPERM from
// file permissions (open, access with the real ids, search, create, unlink in a sticky
// directory, chmod, chown, utimes, truncate, execve), kill, bpf and perf_event_open, set-user-ID
// execve (AT_SECURE), /proc/<pid>/status and the owners of /proc/<pid> (dumpable or not). It runs
// on the host's Linux first (as root), then on Sonde.
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"

#define USER 1000
#define OTHER 2000
#define GROUP 1000

static char base[64];  // a directory of the test's own, made by root

static const char* in_base(const char* name) {
  static char path[4][128];
  static int next;
  char* out = path[next++ % 4];
  snprintf(out, sizeof(path[0]), "%s/%s", base, name);
  return out;
}

// Runs `body` in a child and adds its counts to the parent's (a pipe carries them back).
static void in_child(void (*body)(void)) {
  int fds[2];
  if (pipe(fds) != 0) {
    CHECK("pipe", 0);
    return;
  }
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    passed = failed = 0;
    body();
    fflush(stdout);
    int counts[2] = {passed, failed};
    (void)!write(fds[1], counts, sizeof(counts));
    _exit(0);
  }
  close(fds[1]);
  int counts[2] = {0, 1};
  if (read(fds[0], counts, sizeof(counts)) != sizeof(counts))
    printf("FAIL child reported nothing\n");
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  passed += counts[0];
  failed += counts[1];
}

static int resuid_is(uid_t r, uid_t e, uid_t s) {
  uid_t a = 99, b = 99, c = 99;
  return getresuid(&a, &b, &c) == 0 && a == r && b == e && c == s;
}
static int resgid_is(gid_t r, gid_t e, gid_t s) {
  gid_t a = 99, b = 99, c = 99;
  return getresgid(&a, &b, &c) == 0 && a == r && b == e && c == s;
}

// The raw system calls: glibc and musl broadcast set*id to threads and some check arguments.
static long raw_setresuid(long r, long e, long s) { return syscall(SYS_setresuid, r, e, s); }
static long raw_setfsuid(long id) { return syscall(SYS_setfsuid, id); }
static long raw_setfsgid(long id) { return syscall(SYS_setfsgid, id); }

// Whether /proc/self/status has `line` (a whole line, with its newline).
static int status_has(const char* line) {
  char text[4096];
  int fd = open("/proc/self/status", O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  return strstr(text, line) != NULL;
}

// Becomes uid USER, gid GROUP, no supplementary groups (every id).
static int become_user(void) {
  return setgroups(0, NULL) == 0 && setresgid(GROUP, GROUP, GROUP) == 0 &&
         setresuid(USER, USER, USER) == 0;
}

// ---- the ids ----

static void setuid_as_root(void) {
  CHECK("setuid(1000) as root", setuid(USER) == 0);
  CHECK("setuid as root sets real, effective and saved", resuid_is(USER, USER, USER));
  CHECK("setuid as root sets the file system uid", raw_setfsuid(-1) == USER);
  CHECK_ERRNO("setuid(0) after dropping root", setuid(0), EPERM);
  CHECK_ERRNO("setresuid(-1, 0, -1) after dropping root", raw_setresuid(-1, 0, -1), EPERM);
  CHECK("status shows the four uids", status_has("Uid:\t1000\t1000\t1000\t1000\n"));
  CHECK_ERRNO("setuid(-1) is EINVAL", syscall(SYS_setuid, -1L), EINVAL);
}

static void setresuid_semantics(void) {
  CHECK("setresuid(1000, -1, 2000)", raw_setresuid(USER, -1, OTHER) == 0);
  CHECK("-1 keeps the effective uid", resuid_is(USER, 0, OTHER));
  CHECK("setresuid(-1, 2000, -1) drops the effective uid", raw_setresuid(-1, OTHER, -1) == 0);
  CHECK("the real and saved uids stay", resuid_is(USER, OTHER, OTHER));
  CHECK("setresuid(-1, 1000, -1) to the real uid", raw_setresuid(-1, USER, -1) == 0);
  CHECK("then 1000 2000 ... the saved uid stays", resuid_is(USER, USER, OTHER));
  CHECK_ERRNO("setresuid(3000, -1, -1) unprivileged", raw_setresuid(3000, -1, -1), EPERM);
  CHECK_ERRNO("setresuid(-1, 0, -1) unprivileged", raw_setresuid(-1, 0, -1), EPERM);
  CHECK("setresuid(-1, -1, -1) changes nothing", raw_setresuid(-1, -1, -1) == 0);
  CHECK("setresuid(2000, 2000, 1000) among its own", raw_setresuid(OTHER, OTHER, USER) == 0);
  CHECK("to 2000 2000 1000", resuid_is(OTHER, OTHER, USER));
  CHECK("status shows them", status_has("Uid:\t2000\t2000\t1000\t2000\n"));
}

static void seteuid_and_back(void) {
  CHECK("setresuid(-1, 1000, -1) as root", raw_setresuid(-1, USER, -1) == 0);
  CHECK("real and saved stay 0", resuid_is(0, USER, 0));
  CHECK_ERRNO("no root file for effective uid 1000", open(in_base("secret"), O_RDONLY), EACCES);
  uint32_t attr[16] = {2, 4, 8, 1};  // BPF_MAP_TYPE_ARRAY, key 4, value 8, one entry
  CHECK_ERRNO("bpf with effective uid 1000", syscall(SYS_bpf, 0, attr, sizeof(attr)), EPERM);
  CHECK("setresuid(-1, 0, -1) back to root", raw_setresuid(-1, 0, -1) == 0);
  int fd = open(in_base("secret"), O_RDONLY);
  CHECK("root opens its 0600 file again", fd >= 0);
  close(fd);
}

static void setreuid_semantics(void) {
  CHECK("setreuid(-1, 1000) as root", syscall(SYS_setreuid, -1L, (long)USER) == 0);
  CHECK("the saved uid follows a new effective uid", resuid_is(0, USER, USER));
  CHECK("setreuid(-1, 0) back to the real uid", syscall(SYS_setreuid, -1L, 0L) == 0);
  CHECK("the saved uid stays when the effective one is the real one", resuid_is(0, 0, USER));
  CHECK("setreuid(1000, -1) as root", syscall(SYS_setreuid, (long)USER, -1L) == 0);
  CHECK("setting the real uid saves the effective one", resuid_is(USER, 0, 0));
  CHECK("setreuid(1000, 1000)", syscall(SYS_setreuid, (long)USER, (long)USER) == 0);
  CHECK("to 1000 1000 1000", resuid_is(USER, USER, USER));
  CHECK_ERRNO("setreuid(0, -1) unprivileged", syscall(SYS_setreuid, 0L, -1L), EPERM);
  CHECK_ERRNO("setreuid(-1, 0) unprivileged", syscall(SYS_setreuid, -1L, 0L), EPERM);
}

static void gid_semantics(void) {
  CHECK("setresgid(1000, -1, 2000) as root",
        syscall(SYS_setresgid, (long)GROUP, -1L, (long)OTHER) == 0);
  CHECK("to 1000 0 2000", resgid_is(GROUP, 0, OTHER));
  CHECK("setregid(-1, 2000)", syscall(SYS_setregid, -1L, (long)OTHER) == 0);
  CHECK("to 1000 2000 2000", resgid_is(GROUP, OTHER, OTHER));
  CHECK("status shows the four gids", status_has("Gid:\t1000\t2000\t2000\t2000\n"));
  CHECK("setgid(1000) as root", setgid(GROUP) == 0);
  CHECK("setgid as root sets all three", resgid_is(GROUP, GROUP, GROUP));
  CHECK("setresuid(1000, 1000, 1000)", raw_setresuid(USER, USER, USER) == 0);
  CHECK_ERRNO("setgid(0) unprivileged", setgid(0), EPERM);
  CHECK_ERRNO("setregid(0, -1) unprivileged", syscall(SYS_setregid, 0L, -1L), EPERM);
  CHECK_ERRNO("setresgid(-1, 0, -1) unprivileged", syscall(SYS_setresgid, -1L, 0L, -1L), EPERM);
  CHECK("setgid(1000) unprivileged to its own", setgid(GROUP) == 0);
  CHECK("setfsgid(0) unprivileged answers the old one", raw_setfsgid(0) == GROUP);
  CHECK("and changes nothing", raw_setfsgid(-1) == GROUP);
}

static void fsuid_semantics(void) {
  CHECK("setfsuid(1000) answers the old fsuid", raw_setfsuid(USER) == 0);
  CHECK("setfsuid(-1) answers the new one", raw_setfsuid(-1) == USER);
  CHECK("status shows the file system uid", status_has("Uid:\t0\t0\t0\t1000\n"));
  CHECK_ERRNO("fsuid 1000 cannot open a 0600 root file", open(in_base("secret"), O_RDONLY), EACCES);
  CHECK("setfsuid(0) answers 1000", raw_setfsuid(0) == USER);
  int fd = open(in_base("secret"), O_RDONLY);
  CHECK("fsuid 0 opens it again", fd >= 0);
  close(fd);
  CHECK("setresuid(1000, 1000, 1000)", raw_setresuid(USER, USER, USER) == 0);
  CHECK("setfsuid(0) unprivileged answers 1000", raw_setfsuid(0) == USER);
  CHECK("and leaves it", raw_setfsuid(-1) == USER);
}

static void groups_semantics(void) {
  gid_t list[8] = {5, 3, 3, 1};
  CHECK("setgroups as root", setgroups(4, list) == 0);
  CHECK("getgroups(0, NULL) counts them", getgroups(0, NULL) == 4);
  gid_t got[8] = {0};
  CHECK("getgroups lists them", getgroups(8, got) == 4);
  CHECK("sorted, duplicates kept", got[0] == 1 && got[1] == 3 && got[2] == 3 && got[3] == 5);
  CHECK("status shows them", status_has("Groups:\t1 3 3 5 \n"));
  CHECK_ERRNO("getgroups with too small a list", getgroups(2, got), EINVAL);
  CHECK_ERRNO("getgroups(-1)", syscall(SYS_getgroups, -1L, got), EINVAL);
  CHECK_ERRNO("getgroups to a bad address", syscall(SYS_getgroups, 8L, (void*)8), EFAULT);
  CHECK_ERRNO("setgroups(-1)", syscall(SYS_setgroups, -1L, list), EINVAL);
  CHECK_ERRNO("setgroups(65537)", syscall(SYS_setgroups, 65537L, list), EINVAL);
  CHECK_ERRNO("setgroups from a bad address", syscall(SYS_setgroups, 2L, (void*)8), EFAULT);
  gid_t invalid[1] = {(gid_t)-1};
  CHECK_ERRNO("setgroups with gid -1", syscall(SYS_setgroups, 1L, invalid), EINVAL);
  CHECK("setgroups(0, NULL)", setgroups(0, NULL) == 0);
  CHECK("none left", getgroups(0, NULL) == 0);
  CHECK("status shows none", status_has("Groups:\t \n"));
  CHECK("become uid 1000", become_user());
  CHECK_ERRNO("setgroups unprivileged", setgroups(0, NULL), EPERM);
  CHECK_ERRNO("setgroups(-1) unprivileged is EPERM first", syscall(SYS_setgroups, -1L, list),
              EPERM);
}

// ---- what the ids allow ----

static int stat_owner(const char* path, uid_t* uid, gid_t* gid) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  *uid = st.st_uid;
  *gid = st.st_gid;
  return 1;
}

static void files_as_user(void) {
  CHECK("become uid 1000", become_user());
  CHECK_ERRNO("open a 0600 root file", open(in_base("secret"), O_RDONLY), EACCES);
  CHECK_ERRNO("access(R_OK) of it", access(in_base("secret"), R_OK), EACCES);
  CHECK("access(F_OK) of it", access(in_base("secret"), F_OK) == 0);
  int fd = open(in_base("public"), O_RDONLY);
  CHECK("read a 0644 root file", fd >= 0);
  close(fd);
  CHECK_ERRNO("write it", open(in_base("public"), O_WRONLY), EACCES);
  CHECK_ERRNO("O_RDONLY|O_TRUNC needs write", open(in_base("public"), O_RDONLY | O_TRUNC), EACCES);
  CHECK_ERRNO("truncate it", truncate(in_base("public"), 0), EACCES);
  CHECK_ERRNO("access(W_OK) of it", access(in_base("public"), W_OK), EACCES);
  CHECK_ERRNO("search a 0700 root directory", open(in_base("private/file"), O_RDONLY), EACCES);
  CHECK_ERRNO("stat through it", access(in_base("private/file"), F_OK), EACCES);
  CHECK_ERRNO("chdir into it", chdir(in_base("private")), EACCES);
  CHECK_ERRNO("create in a 0755 root directory", open(in_base("new"), O_CREAT | O_WRONLY, 0644),
              EACCES);
  CHECK_ERRNO("mkdir in it", mkdir(in_base("newdir"), 0755), EACCES);
  CHECK_ERRNO("unlink in it", unlink(in_base("public")), EACCES);
  CHECK_ERRNO("rename in it", rename(in_base("public"), in_base("moved")), EACCES);
  CHECK_ERRNO("chmod a root file", chmod(in_base("public"), 0666), EPERM);
  CHECK_ERRNO("chown a root file", chown(in_base("public"), USER, GROUP), EPERM);
  CHECK_ERRNO("utimes(NULL) of a root file", utimes(in_base("public"), NULL), EACCES);
  struct timeval when[2] = {{1, 0}, {2, 0}};
  CHECK_ERRNO("utimes to a time", utimes(in_base("sticky/roots"), when), EPERM);
  CHECK("utimes(NULL) of a writable root file", utimes(in_base("sticky/roots"), NULL) == 0);
  CHECK_ERRNO("execute a 0644 file", execl(in_base("public"), "public", (char*)NULL), EACCES);
  CHECK_ERRNO("execute a 0700 root file", execl(in_base("root_only"), "x", (char*)NULL), EACCES);
  // The sticky directory (01777): files of one's own, not others'.
  fd = open(in_base("sticky/mine"), O_CREAT | O_WRONLY, 0644);
  CHECK("create in a 01777 directory", fd >= 0);
  close(fd);
  uid_t uid = 0;
  gid_t gid = 0;
  CHECK("a new file is the creator's",
        stat_owner(in_base("sticky/mine"), &uid, &gid) && uid == USER && gid == GROUP);
  CHECK_ERRNO("unlink root's file in a sticky directory", unlink(in_base("sticky/roots")), EPERM);
  CHECK_ERRNO("rename it away", rename(in_base("sticky/roots"), in_base("sticky/x")), EPERM);
  CHECK("chmod one's own file", chmod(in_base("sticky/mine"), 0600) == 0);
  CHECK_ERRNO("chown one's file to root", chown(in_base("sticky/mine"), 0, -1), EPERM);
  CHECK_ERRNO("chgrp to a group one is not in", chown(in_base("sticky/mine"), -1, 0), EPERM);
  CHECK("chgrp to one's own group", chown(in_base("sticky/mine"), -1, GROUP) == 0);
  CHECK("chown to oneself", chown(in_base("sticky/mine"), USER, -1) == 0);
  // A file of one's own in root's group: chmod g+s loses the bit.
  CHECK("chmod 02755 of one's file in another group", chmod(in_base("rootgroup"), 02755) == 0);
  struct stat st;
  CHECK("the set-group-ID bit is dropped",
        stat(in_base("rootgroup"), &st) == 0 && (st.st_mode & 07777) == 0755);
  CHECK("unlink one's own file there", unlink(in_base("sticky/mine")) == 0);
  CHECK_ERRNO("mknod a device", mknod(in_base("sticky/dev"), S_IFCHR | 0600, makedev(1, 3)), EPERM);
  char host[] = "x";
  CHECK_ERRNO("sethostname", sethostname(host, 1), EPERM);
}

static void access_uses_real_ids(void) {
  CHECK("setresuid(1000, 0, 0)", raw_setresuid(USER, 0, 0) == 0);
  int fd = open(in_base("secret"), O_RDONLY);
  CHECK("effective root opens the 0600 file", fd >= 0);
  close(fd);
  CHECK_ERRNO("access checks the real uid", access(in_base("secret"), R_OK), EACCES);
  CHECK("faccessat2(AT_EACCESS) checks the effective one",
        syscall(SYS_faccessat2, AT_FDCWD, in_base("secret"), R_OK, AT_EACCESS) == 0);
  CHECK_ERRNO("faccessat2 with an unknown flag",
              syscall(SYS_faccessat2, AT_FDCWD, in_base("secret"), R_OK, 0x4), EINVAL);
}

static void privileged_calls_as_user(void) {
  CHECK("become uid 1000", become_user());
  uint32_t attr[16] = {2, 4, 8, 1};  // BPF_MAP_TYPE_ARRAY, key 4, value 8, one entry
  CHECK_ERRNO("bpf(BPF_MAP_CREATE)", syscall(SYS_bpf, 0, attr, sizeof(attr)), EPERM);
  CHECK_ERRNO("bpf(BPF_PROG_LOAD)", syscall(SYS_bpf, 5, attr, sizeof(attr)), EPERM);
  // A software clock counting the kernel too: perf_event_paranoid 2 (or Debian's 3) refuses.
  uint32_t perf[32] = {1, 128, 0};  // PERF_TYPE_SOFTWARE, size 128, PERF_COUNT_SW_CPU_CLOCK
  CHECK_ERRNO("perf_event_open", syscall(SYS_perf_event_open, perf, 0, -1, -1, 0), EACCES);
  uid_t uid = 99;
  gid_t gid = 99;
  CHECK("/proc/<pid> belongs to the effective ids",
        stat_owner("/proc/self", &uid, &gid) && uid == USER && gid == GROUP);
  CHECK("its files are root's once the ids changed",
        stat_owner("/proc/self/status", &uid, &gid) && uid == 0 && gid == 0);
  CHECK("undumpable", prctl(PR_GET_DUMPABLE) == 0);
  CHECK("prctl(PR_SET_DUMPABLE, 1)", prctl(PR_SET_DUMPABLE, 1) == 0);
  CHECK("its files are then its own",
        stat_owner("/proc/self/status", &uid, &gid) && uid == USER && gid == GROUP);
  CHECK_ERRNO("prctl(PR_SET_DUMPABLE, 2)", prctl(PR_SET_DUMPABLE, 2), EINVAL);
}

// kill: a target whose real or saved uid is the sender's real or effective uid; SIGCONT within
// the session.
static void kill_as_user(void) {
  int hold[2], ready[2];
  if (pipe(hold) != 0 || pipe(ready) != 0) return;
  pid_t others[2];
  const uid_t saved[2] = {USER, OTHER};
  for (int i = 0; i < 2; ++i) {
    others[i] = fork();
    if (others[i] == 0) {
      close(hold[1]);
      char c = setresuid(OTHER, OTHER, saved[i]) == 0 ? 'y' : 'n';
      (void)!write(ready[1], &c, 1);
      (void)!read(hold[0], &c, 1);  // until the test closes the pipe
      _exit(0);
    }
  }
  close(hold[0]);
  char answers[2] = {0, 0};
  CHECK("the other two changed their ids", read(ready[0], &answers[0], 1) == 1 &&
                                               read(ready[0], &answers[1], 1) == 1 &&
                                               answers[0] == 'y' && answers[1] == 'y');
  CHECK("become uid 1000", become_user());
  CHECK("kill a process whose saved uid is ours", kill(others[0], 0) == 0);
  CHECK_ERRNO("kill another user's process", kill(others[1], 0), EPERM);
  CHECK_ERRNO("SIGTERM to it", kill(others[1], SIGTERM), EPERM);
  CHECK_ERRNO("tgkill to it", syscall(SYS_tgkill, others[1], others[1], SIGTERM), EPERM);
  CHECK("SIGCONT within the session", kill(others[1], SIGCONT) == 0);
  CHECK_ERRNO("kill root's process", kill(getppid(), SIGUSR1), EPERM);
  close(hold[1]);  // they end
  while (waitpid(-1, NULL, 0) > 0) {
  }
}

// ---- execve ----

// A copy of this program, to run set-user-ID.
static int copy_self(const char* to, mode_t mode) {
  int in = open("/proc/self/exe", O_RDONLY);
  int out = open(to, O_CREAT | O_WRONLY | O_TRUNC, 0700);
  if (in < 0 || out < 0) return 0;
  char buffer[65536];
  ssize_t n;
  while ((n = read(in, buffer, sizeof(buffer))) > 0) {
    if (write(out, buffer, n) != n) return 0;
  }
  close(in);
  close(out);
  return chmod(to, mode) == 0;
}

// In the copy: its ids and AT_SECURE as the exit status's bits.
static int report(void) {
  int bits = 0;
  if (getuid() == USER) bits |= 1;
  if (geteuid() == 0) bits |= 2;
  if (resuid_is(USER, 0, 0)) bits |= 4;
  if (getauxval(AT_SECURE) == 1) bits |= 8;
  if (getauxval(AT_UID) == USER && getauxval(AT_EUID) == 0) bits |= 16;
  if (getauxval(AT_GID) == GROUP && getauxval(AT_EGID) == GROUP) bits |= 32;
  return bits;
}

static int run_copy(const char* path) {
  pid_t child = fork();
  if (child == 0) {
    execl(path, "cred_checks", "report", (char*)NULL);
    _exit(100 + errno);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void setuid_exec(void) {
  CHECK("become uid 1000", become_user());
  CHECK("a set-user-ID root program runs as root", run_copy(in_base("suid")) == 63);
  int plain = run_copy(in_base("plain"));
  CHECK("a plain one keeps the ids and AT_SECURE 0", plain == (1 | 32));
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "report") == 0) return report();
  setvbuf(stdout, NULL, _IOLBF, 0);
  snprintf(base, sizeof(base), "/tmp/cred_checks.%d", (int)getpid());
  umask(022);
  // Root's files: a 0600 secret, a 0644 public file, a 0700 directory, a 0700 program, a
  // sticky directory with a file of root's, a file of the user's in root's group.
  CHECK("running as root", getuid() == 0 && geteuid() == 0);
  CHECK("mkdir the base", mkdir(base, 0755) == 0);
  close(open(in_base("secret"), O_CREAT | O_WRONLY, 0600));
  close(open(in_base("public"), O_CREAT | O_WRONLY, 0644));
  CHECK("mkdir private", mkdir(in_base("private"), 0700) == 0);
  close(open(in_base("private/file"), O_CREAT | O_WRONLY, 0644));
  close(open(in_base("root_only"), O_CREAT | O_WRONLY, 0700));
  CHECK("mkdir sticky",
        mkdir(in_base("sticky"), 0777) == 0 && chmod(in_base("sticky"), 01777) == 0);
  close(open(in_base("sticky/roots"), O_CREAT | O_WRONLY, 0666));
  CHECK("chmod 0666 (past the umask)", chmod(in_base("sticky/roots"), 0666) == 0);
  close(open(in_base("rootgroup"), O_CREAT | O_WRONLY, 0644));
  CHECK("chown to the user, root's group", chown(in_base("rootgroup"), USER, 0) == 0);
  CHECK("copy of this program, set-user-ID root", copy_self(in_base("suid"), 04755));
  CHECK("copy of this program, plain", copy_self(in_base("plain"), 0755));
  struct stat st;
  CHECK("the set-user-ID bit is there",
        stat(in_base("suid"), &st) == 0 && (st.st_mode & 07777) == 04755);
  CHECK("root execs a file with no execute bit: EACCES",
        access(in_base("public"), X_OK) == -1 && errno == EACCES);
  CHECK("root searches any directory", access(in_base("private/file"), R_OK) == 0);
  CHECK("AT_SECURE 0 for root", getauxval(AT_SECURE) == 0);
  CHECK("AT_UID 0 for root", getauxval(AT_UID) == 0 && getauxval(AT_EUID) == 0);

  in_child(setuid_as_root);
  in_child(setresuid_semantics);
  in_child(seteuid_and_back);
  in_child(setreuid_semantics);
  in_child(gid_semantics);
  in_child(fsuid_semantics);
  in_child(groups_semantics);
  in_child(files_as_user);
  in_child(access_uses_real_ids);
  in_child(privileged_calls_as_user);
  in_child(kill_as_user);
  in_child(setuid_exec);

  // chown clears the set-user-ID bit, root's chown too.
  CHECK("chown of the set-user-ID copy", chown(in_base("suid"), 0, 0) == 0);
  CHECK("loses the bit", stat(in_base("suid"), &st) == 0 && (st.st_mode & 07777) == 0755);
  const char* files[] = {"secret",       "public",    "private/file", "root_only",
                         "sticky/roots", "rootgroup", "suid",         "plain"};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); ++i) unlink(in_base(files[i]));
  rmdir(in_base("private"));
  rmdir(in_base("sticky"));
  CHECK("the base goes", rmdir(base) == 0);
  printf("cred_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
