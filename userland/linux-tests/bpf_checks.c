// SPDX-License-Identifier: MIT
// bpf(2) as Linux answers it, from a static musl program using the raw system call (no
// libbpf): maps, programs, test runs, ids, info, fds across fork, errors. It runs on the host's
// Linux first (where every check must pass), then on Sonde through the trace server.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"

static long sys_bpf(int cmd, union bpf_attr* attr, unsigned size) {
  return syscall(SYS_bpf, cmd, attr, size);
}

static int map_create(unsigned type, unsigned key, unsigned value, unsigned entries) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = type;
  attr.key_size = key;
  attr.value_size = value;
  attr.max_entries = entries;
  return (int)sys_bpf(BPF_MAP_CREATE, &attr, sizeof attr);
}

static long elem(int cmd, int fd, const void* key, void* value, uint64_t flags) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = (uint32_t)fd;
  attr.key = (uint64_t)(uintptr_t)key;
  attr.value = (uint64_t)(uintptr_t)value;
  attr.flags = flags;
  return sys_bpf(cmd, &attr, sizeof attr);
}

static char log_buffer[65536];

static int prog_load(unsigned type, const struct bpf_insn* insns, unsigned count, int log) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = type;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = count;
  attr.license = (uint64_t)(uintptr_t) "GPL";
  if (log) {
    log_buffer[0] = 0;
    attr.log_buf = (uint64_t)(uintptr_t)log_buffer;
    attr.log_size = sizeof log_buffer;
    attr.log_level = 1;
  }
  return (int)sys_bpf(BPF_PROG_LOAD, &attr, sizeof attr);
}

#define INSN(code, dst, src, off, imm) ((struct bpf_insn){(code), (dst), (src), (off), (imm)})

static void maps(void) {
  int fd = map_create(BPF_MAP_TYPE_HASH, 4, 8, 16);
  CHECK("MAP_CREATE hash", fd >= 3);
  CHECK("bpf fds are close-on-exec", fcntl(fd, F_GETFD) == FD_CLOEXEC);
  uint32_t key = 7;
  uint64_t value = 0x1122334455667788ull, out = 0;
  CHECK("UPDATE", elem(BPF_MAP_UPDATE_ELEM, fd, &key, &value, BPF_ANY) == 0);
  CHECK("LOOKUP", elem(BPF_MAP_LOOKUP_ELEM, fd, &key, &out, 0) == 0 && out == value);
  CHECK_ERRNO("UPDATE NOEXIST of a present key",
              elem(BPF_MAP_UPDATE_ELEM, fd, &key, &value, BPF_NOEXIST), EEXIST);
  uint32_t missing = 8, next = 0;
  CHECK_ERRNO("LOOKUP missing", elem(BPF_MAP_LOOKUP_ELEM, fd, &missing, &out, 0), ENOENT);
  CHECK("GET_NEXT_KEY from a missing key",
        elem(BPF_MAP_GET_NEXT_KEY, fd, &missing, &next, 0) == 0 && next == 7);
  CHECK_ERRNO("GET_NEXT_KEY after the last", elem(BPF_MAP_GET_NEXT_KEY, fd, &key, &next, 0),
              ENOENT);
  CHECK_ERRNO("LOOKUP into an unwritable value",
              elem(BPF_MAP_LOOKUP_ELEM, fd, &key, (void*)"rodata", 0), EFAULT);
  CHECK_ERRNO("LOOKUP with a bad key pointer", elem(BPF_MAP_LOOKUP_ELEM, fd, (void*)16, &out, 0),
              EFAULT);
  CHECK("DELETE", elem(BPF_MAP_DELETE_ELEM, fd, &key, NULL, 0) == 0);
  CHECK_ERRNO("DELETE again", elem(BPF_MAP_DELETE_ELEM, fd, &key, NULL, 0), ENOENT);
  char byte;
  CHECK_ERRNO("read() of a map fd", read(fd, &byte, 1), EINVAL);
  struct stat st;
  CHECK("fstat of a map fd: an anon inode",
        fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600 && (st.st_mode & S_IFMT) == 0);
  CHECK_ERRNO("LOOKUP through stdout", elem(BPF_MAP_LOOKUP_ELEM, 1, &key, &out, 0), EINVAL);
  CHECK_ERRNO("LOOKUP through a closed fd", elem(BPF_MAP_LOOKUP_ELEM, 99, &key, &out, 0), EBADF);

  struct bpf_map_info info;
  memset(&info, 0, sizeof info);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.info.bpf_fd = (uint32_t)fd;
  attr.info.info_len = sizeof info;
  attr.info.info = (uint64_t)(uintptr_t)&info;
  CHECK("OBJ_GET_INFO_BY_FD map", sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof attr) == 0 &&
                                      info.type == BPF_MAP_TYPE_HASH && info.key_size == 4 &&
                                      info.value_size == 8 && info.max_entries == 16 &&
                                      info.id > 0 && attr.info.info_len == sizeof info);
  attr.info.bpf_fd = 99;
  CHECK_ERRNO("OBJ_GET_INFO_BY_FD closed fd", sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof attr),
              EBADFD);
  memset(&attr, 0, sizeof attr);
  attr.map_id = info.id;
  int again = (int)sys_bpf(BPF_MAP_GET_FD_BY_ID, &attr, sizeof attr);
  CHECK("MAP_GET_FD_BY_ID", again > fd);
  CHECK("UPDATE through the second fd", elem(BPF_MAP_UPDATE_ELEM, again, &key, &value, 0) == 0);

  // A child shares the parent's map through the fds it inherits.
  pid_t child = fork();
  if (child == 0) {
    uint64_t seen = 0;
    _exit(elem(BPF_MAP_LOOKUP_ELEM, fd, &key, &seen, 0) == 0 && seen == value ? 0 : 1);
  }
  int status = -1;
  CHECK("fork: the child reads the map",
        waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(again);
  close(fd);
  CHECK_ERRNO("LOOKUP after close", elem(BPF_MAP_LOOKUP_ELEM, fd, &key, &out, 0), EBADF);

  CHECK_ERRNO("MAP_CREATE unknown type", map_create(1000, 4, 4, 1), EINVAL);
  CHECK_ERRNO("MAP_CREATE hash with key size 0", map_create(BPF_MAP_TYPE_HASH, 0, 4, 1), EINVAL);
  int array = map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 2);
  CHECK("MAP_CREATE array", array >= 0);
  uint32_t index = 2, small = 0;
  CHECK_ERRNO("array LOOKUP past the end", elem(BPF_MAP_LOOKUP_ELEM, array, &index, &small, 0),
              ENOENT);
  close(array);
}

static void programs(void) {
  int counter = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
  CHECK("MAP_CREATE counter", counter >= 0);
  // key = 0; value = lookup(counter, &key); if (value) *value += 1; return 42;
  struct bpf_insn insns[] = {
      INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0),
      INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, counter),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
      INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
      INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
      INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_0, BPF_REG_1, 0, BPF_ADD),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 42),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  int prog = prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, insns, sizeof insns / sizeof insns[0], 1);
  CHECK("PROG_LOAD raw tracepoint with a map", prog >= 0);
  CHECK("prog fds are close-on-exec", fcntl(prog, F_GETFD) == FD_CLOEXEC);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  uint64_t args[1] = {5};
  attr.test.prog_fd = (uint32_t)prog;
  attr.test.ctx_in = (uint64_t)(uintptr_t)args;
  attr.test.ctx_size_in = sizeof args;
  CHECK("PROG_TEST_RUN",
        sys_bpf(BPF_PROG_TEST_RUN, &attr, sizeof attr) == 0 && attr.test.retval == 42);
  uint32_t key = 0;
  uint64_t count = 0;
  CHECK("the run counted in the map",
        elem(BPF_MAP_LOOKUP_ELEM, counter, &key, &count, 0) == 0 && count == 1);

  struct bpf_prog_info info;
  memset(&info, 0, sizeof info);
  memset(&attr, 0, sizeof attr);
  uint32_t map_ids[4] = {0};
  info.nr_map_ids = 4;
  info.map_ids = (uint64_t)(uintptr_t)map_ids;
  attr.info.bpf_fd = (uint32_t)prog;
  attr.info.info_len = sizeof info;
  attr.info.info = (uint64_t)(uintptr_t)&info;
  CHECK("OBJ_GET_INFO_BY_FD prog", sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof attr) == 0 &&
                                       info.type == BPF_PROG_TYPE_RAW_TRACEPOINT &&
                                       info.nr_map_ids == 1 && map_ids[0] != 0 && info.id > 0);
  // JIT-compiled, as Linux with bpf_jit_enable=1: the image copies out (bpftool prog dump jited).
  static unsigned char image[4096];
  uint32_t jited = info.jited_prog_len;
  memset(&info, 0, sizeof info);
  info.jited_prog_len = sizeof image;
  info.jited_prog_insns = (uint64_t)(uintptr_t)image;
  attr.info.info_len = sizeof info;
  CHECK("the program is JIT-compiled",
        jited > 0 && sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof attr) == 0 &&
            info.jited_prog_len == jited && (image[0] != 0 || image[1] != 0));

  // No exit: the verifier refuses it with a log.
  struct bpf_insn bad[] = {INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0)};
  errno = 0;
  int refused = prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, bad, 1, 1);
  CHECK("PROG_LOAD without exit is EINVAL", refused == -1 && errno == EINVAL);
  CHECK("with a verifier log", strlen(log_buffer) > 0);
  CHECK_ERRNO("PROG_LOAD with a bad insns pointer",
              prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, (const struct bpf_insn*)16, 2, 0), EFAULT);
  close(prog);
  close(counter);
}

static long obj(int cmd, const char* path, int fd, unsigned flags) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.pathname = (uint64_t)(uintptr_t)path;
  attr.bpf_fd = (uint32_t)fd;
  attr.file_flags = flags;
  return sys_bpf(cmd, &attr, sizeof attr);
}

static uint32_t map_id(int fd) {
  struct bpf_map_info info;
  memset(&info, 0, sizeof info);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.info.bpf_fd = (uint32_t)fd;
  attr.info.info_len = sizeof info;
  attr.info.info = (uint64_t)(uintptr_t)&info;
  return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof attr) == 0 ? info.id : 0;
}

// BPF_OBJ_PIN and BPF_OBJ_GET in a bpf file system (/sys/fs/bpf when it is one, else one
// mounted for the test), and statfs's answers for it.
static void pins(void) {
  const unsigned kBpfFsMagic = 0xcafe4a11;
  struct statfs fs;
  char directory[64] = "/sys/fs/bpf", made[64] = "";
  if (statfs(directory, &fs) != 0 || (unsigned)fs.f_type != kBpfFsMagic) {
    strcpy(made, "/tmp/bpf_checks.XXXXXX");
    if (mkdtemp(made) == NULL || mount("bpf", made, "bpf", 0, NULL) != 0) {
      printf("pins: no bpf file system here (errno %d)\n", errno);
      return;
    }
    strcpy(directory, made);
  }
  CHECK("statfs of a bpf file system", statfs(directory, &fs) == 0 &&
                                           (unsigned)fs.f_type == kBpfFsMagic &&
                                           fs.f_namelen == 255 && fs.f_bsize == 4096);
  CHECK("statfs of /proc", statfs("/proc", &fs) == 0 && fs.f_type == 0x9fa0);
  CHECK_ERRNO("statfs of a missing path", statfs("/no/such/dir", &fs), ENOENT);
  char path[128], sub[128], prog_path[128];
  snprintf(path, sizeof path, "%s/counts", directory);
  snprintf(sub, sizeof sub, "%s/sub", directory);
  snprintf(prog_path, sizeof prog_path, "%s/sub/prog", directory);

  int fd = map_create(BPF_MAP_TYPE_HASH, 4, 8, 4);
  uint32_t key = 1, id = map_id(fd);
  uint64_t value = 42, out = 0;
  CHECK("a map to pin", fd >= 0 && id != 0 && elem(BPF_MAP_UPDATE_ELEM, fd, &key, &value, 0) == 0);
  CHECK("OBJ_PIN", obj(BPF_OBJ_PIN, path, fd, 0) == 0);
  struct stat st;
  CHECK("a pinned object is a regular file, mode 0600",
        stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600);
  CHECK_ERRNO("OBJ_PIN over an existing name", obj(BPF_OBJ_PIN, path, fd, 0), EEXIST);
  CHECK_ERRNO("OBJ_PIN outside a bpf file system", obj(BPF_OBJ_PIN, "/tmp/pinned", fd, 0), EPERM);
  CHECK_ERRNO("OBJ_PIN into a missing directory", obj(BPF_OBJ_PIN, "/sys/fs/bpf/no/x", fd, 0),
              ENOENT);
  CHECK_ERRNO("OBJ_PIN with file_flags", obj(BPF_OBJ_PIN, path, fd, BPF_F_RDONLY), EINVAL);
  CHECK_ERRNO("OBJ_PIN of a non-bpf fd", obj(BPF_OBJ_PIN, path, 1, 0), EINVAL);
  CHECK_ERRNO("OBJ_PIN of a closed fd", obj(BPF_OBJ_PIN, path, 99, 0), EINVAL);
  CHECK_ERRNO("OBJ_PIN with a bad path pointer", obj(BPF_OBJ_PIN, (const char*)16, fd, 0), EFAULT);
  close(fd);

  int again = (int)obj(BPF_OBJ_GET, path, 0, 0);
  CHECK("OBJ_GET after the last fd closed", again >= 0 && map_id(again) == id);
  CHECK("OBJ_GET's fd is close-on-exec", fcntl(again, F_GETFD) == FD_CLOEXEC);
  CHECK("the pinned map kept its contents",
        elem(BPF_MAP_LOOKUP_ELEM, again, &key, &out, 0) == 0 && out == 42);
  CHECK_ERRNO("OBJ_GET with bpf_fd set", obj(BPF_OBJ_GET, path, again, 0), EINVAL);
  CHECK_ERRNO("OBJ_GET read-only and write-only",
              obj(BPF_OBJ_GET, path, 0, BPF_F_RDONLY | BPF_F_WRONLY), EINVAL);
  CHECK_ERRNO("OBJ_GET of a missing name", obj(BPF_OBJ_GET, sub, 0, 0), ENOENT);
  CHECK_ERRNO("OBJ_GET of a directory", obj(BPF_OBJ_GET, directory, 0, 0), EACCES);

  struct bpf_insn ret0[] = {INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
                            INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
  int prog = prog_load(BPF_PROG_TYPE_SOCKET_FILTER, ret0, 2, 0);
  CHECK("mkdir in a bpf file system", mkdir(sub, 0700) == 0);
  CHECK("OBJ_PIN of a program in a subdirectory",
        prog >= 0 && obj(BPF_OBJ_PIN, prog_path, prog, 0) == 0);
  close(prog);
  int prog_again = (int)obj(BPF_OBJ_GET, prog_path, 0, 0);
  CHECK("OBJ_GET of the program", prog_again >= 0);
  close(prog_again);
  CHECK("unlink of the pinned program", unlink(prog_path) == 0);
  CHECK("rmdir", rmdir(sub) == 0);

  CHECK("unlink of the pinned map", unlink(path) == 0);
  CHECK_ERRNO("OBJ_GET after unlink", obj(BPF_OBJ_GET, path, 0, 0), ENOENT);
  close(again);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_id = id;
  CHECK_ERRNO("the map is gone with its last holder",
              sys_bpf(BPF_MAP_GET_FD_BY_ID, &attr, sizeof attr), ENOENT);
  if (made[0] != '\0') {
    umount(made);
    rmdir(made);
  }
}

// BPF_MAP_TYPE_CGROUP_ARRAY (libbpf-tools' --cgroup filters): an fd that is no cgroup is
// EBADF, lookups from bpf() ENOTSUPP, empty slots ENOENT.
static void cgroup_arrays(void) {
  int fd = map_create(BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 4);
  CHECK("MAP_CREATE cgroup array", fd >= 0);
  CHECK_ERRNO("a cgroup array of 8-byte values", map_create(BPF_MAP_TYPE_CGROUP_ARRAY, 4, 8, 4),
              EINVAL);
  uint32_t key = 0, value = 1, big = 9;
  CHECK_ERRNO("UPDATE with an fd that is no cgroup",
              elem(BPF_MAP_UPDATE_ELEM, fd, &key, &value, BPF_ANY), EBADF);
  CHECK_ERRNO("UPDATE past the end", elem(BPF_MAP_UPDATE_ELEM, fd, &big, &value, BPF_ANY), E2BIG);
  CHECK_ERRNO("UPDATE with NOEXIST", elem(BPF_MAP_UPDATE_ELEM, fd, &key, &value, BPF_NOEXIST),
              EINVAL);
  CHECK_ERRNO("LOOKUP of a cgroup array", elem(BPF_MAP_LOOKUP_ELEM, fd, &key, &value, 0), 524);
  CHECK_ERRNO("DELETE of an empty slot", elem(BPF_MAP_DELETE_ELEM, fd, &key, NULL, 0), ENOENT);
  CHECK_ERRNO("DELETE past the end", elem(BPF_MAP_DELETE_ELEM, fd, &big, NULL, 0), E2BIG);
  uint32_t next = 7;
  CHECK("GET_NEXT_KEY of a cgroup array",
        elem(BPF_MAP_GET_NEXT_KEY, fd, NULL, &next, 0) == 0 && next == 0);
  close(fd);
}

static uint64_t run_count(int prog) {
  struct bpf_prog_info info;
  union bpf_attr attr;
  memset(&info, 0, sizeof info);
  memset(&attr, 0, sizeof attr);
  attr.info.bpf_fd = (uint32_t)prog;
  attr.info.info_len = sizeof info;
  attr.info.info = (uint64_t)(uintptr_t)&info;
  if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof attr) != 0 || info.recursion_misses != 0)
    return ~0ull;
  return info.run_cnt;
}

static int test_run(int prog) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = (uint32_t)prog;
  return (int)sys_bpf(BPF_PROG_TEST_RUN, &attr, sizeof attr);
}

static int read_sysctl(void) {
  char text[8] = {0};
  int fd = open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY);
  if (fd < 0) return -1;
  long n = read(fd, text, sizeof text - 1);
  close(fd);
  return n == 2 && text[1] == '\n' ? text[0] - '0' : -1;
}

static int write_sysctl(const char* text) {
  int fd = open("/proc/sys/kernel/bpf_stats_enabled", O_WRONLY | O_TRUNC);
  if (fd < 0) return -1;
  long n = write(fd, text, strlen(text));
  close(fd);
  return n == (long)strlen(text) ? 0 : -1;
}

// BPF_ENABLE_STATS and kernel.bpf_stats_enabled: run_cnt counts only while stats are on.
static void stats(void) {
  struct bpf_insn insns[] = {
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  int prog = prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, insns, 2, 0);
  CHECK("PROG_LOAD for the stats", prog >= 0);
  int sysctl = read_sysctl();
  CHECK("/proc/sys/kernel/bpf_stats_enabled reads 0", sysctl == 0);
  if (sysctl != 0) return;  // someone else counts: the numbers below would not be ours
  CHECK("a run without stats is not counted", test_run(prog) == 0 && run_count(prog) == 0);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.enable_stats.type = BPF_STATS_RUN_TIME + 1;
  CHECK_ERRNO("ENABLE_STATS of an unknown type", sys_bpf(BPF_ENABLE_STATS, &attr, sizeof attr),
              EINVAL);
  attr.enable_stats.type = BPF_STATS_RUN_TIME;
  int fd = (int)sys_bpf(BPF_ENABLE_STATS, &attr, sizeof attr);
  CHECK("ENABLE_STATS", fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
  char link[64], target[64] = {0};
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  CHECK("an anon inode named bpf-stats", readlink(link, target, sizeof target - 1) > 0 &&
                                             strcmp(target, "anon_inode:bpf-stats") == 0);
  CHECK("the sysctl still reads 0 (its own value)", read_sysctl() == 0);
  CHECK("two runs counted", test_run(prog) == 0 && test_run(prog) == 0 && run_count(prog) == 2);
  close(fd);
  CHECK("not counted after the last close", test_run(prog) == 0 && run_count(prog) == 2);
  CHECK("writing 1 to the sysctl", write_sysctl("1\n") == 0 && read_sysctl() == 1);
  CHECK("counted through the sysctl", test_run(prog) == 0 && run_count(prog) == 3);
  CHECK_ERRNO("writing 2 to the sysctl", write_sysctl("2\n"), EINVAL);
  CHECK("writing 0 to the sysctl", write_sysctl("0\n") == 0 && read_sysctl() == 0);
  CHECK("not counted after 0", test_run(prog) == 0 && run_count(prog) == 3);
  close(prog);
}

static int kprobe_multi_link(int prog, const char** syms, const uint64_t* cookies, unsigned count,
                             unsigned flags) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.link_create.prog_fd = (uint32_t)prog;
  attr.link_create.attach_type = BPF_TRACE_KPROBE_MULTI;
  attr.link_create.kprobe_multi.flags = flags;
  attr.link_create.kprobe_multi.cnt = count;
  attr.link_create.kprobe_multi.syms = (uint64_t)(uintptr_t)syms;
  attr.link_create.kprobe_multi.cookies = (uint64_t)(uintptr_t)cookies;
  return (int)sys_bpf(BPF_LINK_CREATE, &attr, sizeof attr);
}

// BPF_TRACE_KPROBE_MULTI on do_unlinkat (a function on Linux and in the POSIX server): the
// program counts its runs and keeps bpf_get_attach_cookie and bpf_get_func_ip.
static void kprobe_multi(void) {
  int results = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 3);
  CHECK("MAP_CREATE for kprobe_multi", results >= 0);
  struct bpf_insn insns[] = {
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_attach_cookie),
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7, BPF_REG_0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_func_ip),
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_8, BPF_REG_0, 0, 0),
#define LOOKUP(slot)                                                                       \
  INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, (slot)),                               \
      INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, results),           \
      INSN(0, 0, 0, 0, 0), INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0), \
      INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),                              \
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem)
      LOOKUP(0),
      INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
      INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_0, BPF_REG_1, 0, BPF_ADD),
      LOOKUP(1),
      INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 1, 0),
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_7, 0, 0),
      LOOKUP(2),
      INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 1, 0),
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_8, 0, 0),
#undef LOOKUP
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_KPROBE;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = sizeof insns / sizeof insns[0];
  attr.license = (uint64_t)(uintptr_t) "GPL";
  attr.expected_attach_type = BPF_TRACE_KPROBE_MULTI;
  int prog = (int)sys_bpf(BPF_PROG_LOAD, &attr, sizeof attr);
  CHECK("PROG_LOAD kprobe with expected_attach_type BPF_TRACE_KPROBE_MULTI", prog >= 0);
  int plain = prog_load(BPF_PROG_TYPE_KPROBE, insns + sizeof insns / sizeof insns[0] - 2, 2,
                        0);  // mov r0, 0; exit
  const char* syms[] = {"do_unlinkat", "sonde_no_such_function"};
  uint64_t cookies[] = {0x5eed, 2};
  errno = 0;
  if (kprobe_multi_link(prog, syms, NULL, 1, 2) < 0 && errno == EOPNOTSUPP) {
    // A kernel without CONFIG_FPROBE answers every kprobe_multi link so.
    printf("bpf_checks: no kprobe_multi in this kernel (EOPNOTSUPP): those checks skipped\n");
    close(plain);
    close(prog);
    close(results);
    return;
  }
  CHECK_ERRNO("kprobe_multi of a program without the expected attach type",
              kprobe_multi_link(plain, syms, NULL, 1, 0), EINVAL);
  CHECK_ERRNO("kprobe_multi flags", kprobe_multi_link(prog, syms, NULL, 1, 2), EINVAL);
  CHECK_ERRNO("kprobe_multi cnt 0", kprobe_multi_link(prog, syms, NULL, 0, 0), EINVAL);
  CHECK_ERRNO("kprobe_multi without syms or addrs", kprobe_multi_link(prog, NULL, NULL, 1, 0),
              EINVAL);
  CHECK_ERRNO("kprobe_multi of an unknown function", kprobe_multi_link(prog, syms, cookies, 2, 0),
              ESRCH);
  int link = kprobe_multi_link(prog, syms, cookies, 1, 0);
  CHECK("LINK_CREATE kprobe_multi on do_unlinkat", link >= 0);
  struct bpf_link_info info;
  memset(&info, 0, sizeof info);
  memset(&attr, 0, sizeof attr);
  attr.info.bpf_fd = (uint32_t)link;
  attr.info.info_len = sizeof info;
  attr.info.info = (uint64_t)(uintptr_t)&info;
  CHECK("the link's info", sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof attr) == 0 &&
                               info.type == BPF_LINK_TYPE_KPROBE_MULTI && info.prog_id != 0);
  char path[] = "/tmp/bpf_checks_multi";
  close(open(path, O_CREAT | O_WRONLY, 0600));
  CHECK("unlink under kprobe_multi", unlink(path) == 0);
  uint32_t key = 0;
  uint64_t runs = 0, cookie = 0, ip = 0;
  elem(BPF_MAP_LOOKUP_ELEM, results, &key, &runs, 0);
  key = 1;
  elem(BPF_MAP_LOOKUP_ELEM, results, &key, &cookie, 0);
  key = 2;
  elem(BPF_MAP_LOOKUP_ELEM, results, &key, &ip, 0);
  CHECK("the program ran on do_unlinkat", runs >= 1);
  CHECK("bpf_get_attach_cookie gives the function's cookie", cookie == 0x5eed);
  CHECK("bpf_get_func_ip gives an address", ip != 0);
  close(link);
  close(plain);
  close(prog);
  close(results);
}

static void attrs(void) {
  static unsigned char big[8192];
  big[200] = 1;
  CHECK_ERRNO("an attr above a page", sys_bpf(BPF_MAP_CREATE, (union bpf_attr*)big, 4097), E2BIG);
  CHECK_ERRNO("a nonzero byte past the attr", sys_bpf(BPF_MAP_CREATE, (union bpf_attr*)big, 300),
              E2BIG);
  CHECK_ERRNO("an unreadable attr", sys_bpf(BPF_MAP_CREATE, (union bpf_attr*)16, 72), EFAULT);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  CHECK_ERRNO("an unknown command", sys_bpf(1000, &attr, sizeof attr), EINVAL);
}

// Sonde only: a trace-server restart (/proc/sonde/trace-server) in the middle. The old fds
// name nothing any more (EBADF) but close fine; new objects work.
static int restart_checks(void) {
  int fd = map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 1);
  CHECK("MAP_CREATE before the restart", fd >= 0);
  int control = open("/proc/sonde/trace-server", O_WRONLY | O_TRUNC);
  CHECK("open /proc/sonde/trace-server", control >= 0);
  CHECK("restart", write(control, "restart\n", 8) == 8);
  close(control);
  uint32_t key = 0, value = 0;
  CHECK_ERRNO("a map fd of the dead instance", elem(BPF_MAP_LOOKUP_ELEM, fd, &key, &value, 0),
              EBADF);
  CHECK("close of a stale fd", close(fd) == 0);
  int fresh = map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 1);
  CHECK("MAP_CREATE after the restart", fresh >= 0);
  CHECK("LOOKUP after the restart", elem(BPF_MAP_LOOKUP_ELEM, fresh, &key, &value, 0) == 0);
  close(fresh);
  printf("bpf_checks --restart: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 1 && strcmp(argv[1], "--restart") == 0) return restart_checks();
  union bpf_attr probe;
  memset(&probe, 0, sizeof probe);
  errno = 0;
  if (sys_bpf(BPF_PROG_GET_NEXT_ID, &probe, sizeof probe) < 0 &&
      (errno == EPERM || errno == ENOSYS)) {
    printf("bpf_checks: bpf() not permitted here (errno %d): skipped\n", errno);
    return 77;
  }
  maps();
  programs();
  attrs();
  pins();
  cgroup_arrays();
  stats();
  kprobe_multi();
  printf("bpf_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
