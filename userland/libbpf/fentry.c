// SPDX-License-Identifier: MIT
// The loader of fentry.bpf.c (a bpftool skeleton over Debian's libbpf, linked statically): it
// loads and attaches the fentry, fexit and tp_btf programs, describes their links, unlinks the
// paths it is given and runs /bin/true (and /tmp/fentry_script if there is one), then checks that a
// tracing program aimed at a struct (not a function) is refused as Linux refuses it.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fentry.skel.h"
#include "loader.h"

static void describe(const char* what, struct bpf_link* link) {
  struct bpf_link_info info;
  __u32 length = sizeof(info);
  memset(&info, 0, sizeof(info));
  if (bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &length) != 0) {
    printf("%s: link info failed: %s\n", what, strerror(errno));
    return;
  }
  if (info.type == BPF_LINK_TYPE_TRACING) {
    printf("%s: tracing link attach_type=%u target_obj_id=%u target_btf_id_set=%d\n", what,
           info.tracing.attach_type, info.tracing.target_obj_id, info.tracing.target_btf_id != 0);
  } else {
    printf("%s: link type=%u\n", what, info.type);
  }
}

// A tracing program whose attach_btf_id names struct task_struct: EINVAL, with Linux's line
// in the log.
static void load_aimed_at_struct(void) {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  int task = vmlinux != NULL ? btf__find_by_name_kind(vmlinux, "task_struct", BTF_KIND_STRUCT) : -1;
  struct bpf_insn program[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT},
  };
  char log[4096] = "";
  LIBBPF_OPTS(bpf_prog_load_opts, options, .expected_attach_type = BPF_TRACE_FENTRY,
              .attach_btf_id = (__u32)task, .log_buf = log, .log_size = sizeof(log),
              .log_level = 1);
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "at_struct", "GPL", program, 2, &options);
  int error = errno;
  printf("fentry aimed at a struct: %s (%s)\n", fd < 0 ? strerror(error) : "loaded",
         strstr(log, "is not a function") != NULL ? "log says not a function" : log);
  btf__free(vmlinux);
}

int main(int argc, char** argv) {
  libbpf_set_print(loader_print);
  struct fentry_bpf* skeleton = fentry_bpf__open();
  if (skeleton == NULL) {
    fprintf(stderr, "fentry: cannot open the BPF object\n");
    return 1;
  }
  skeleton->bss->target_pid = getpid();
  if (fentry_bpf__load(skeleton) != 0 || fentry_bpf__attach(skeleton) != 0) {
    fprintf(stderr, "fentry: cannot load or attach\n");
    fentry_bpf__destroy(skeleton);
    return 1;
  }
  describe("fentry", skeleton->links.unlink_entry);
  describe("fexit", skeleton->links.unlink_exit);
  describe("tp_btf", skeleton->links.exec);
  for (int i = 1; i < argc; ++i) printf("unlink %s: %d\n", argv[i], unlink(argv[i]));
  pid_t child = fork();
  if (child == 0) {
    execl("/bin/true", "true", (char*)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  printf("true exited %d\n", WEXITSTATUS(status));
  // A script, if the test made one: bprm->interp is its interpreter.
  if (access("/tmp/fentry_script", X_OK) == 0) {
    child = fork();
    if (child == 0) {
      execl("/tmp/fentry_script", "fentry_script", "one", (char*)NULL);
      _exit(127);
    }
    waitpid(child, &status, 0);
    printf("script exited %d\n", WEXITSTATUS(status));
  }
  fentry_bpf__destroy(skeleton);
  load_aimed_at_struct();
  return 0;
}
