// SPDX-License-Identifier: MIT
// The loader of uprobe_ring.bpf.c: a bpftool skeleton over Debian's libbpf, linked statically.
// For each program path it is given it attaches the uprobe and uretprobe on traced_add and the
// uprobe on traced_length by name (libbpf finds their file offsets in the ELF's symbols), runs
// `PATH call 5 -7` in a child, and prints the events the ring buffer brings, in order.
#include "uprobe_ring.h"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loader.h"
#include "uprobe_ring.skel.h"

static pid_t child;
static int events;

static int handle(void* context, void* data, size_t size) {
  (void)context;
  const struct uprobe_event* event = data;
  if (size < sizeof *event) return 0;
  ++events;
  const char* who = event->tgid == (__u32)child ? "child" : "another process";
  switch (event->kind) {
    case 0:
      printf("%s (%s): traced_add(%lld, %lld)\n", who, event->comm, event->a, event->b);
      break;
    case 1: printf("%s (%s): traced_add returned %lld\n", who, event->comm, event->value); break;
    default:
      printf("%s (%s): traced_length(\"%s\") (%lld bytes read)\n", who, event->comm, event->text,
             event->value);
  }
  return 0;
}

static struct bpf_link* attach(struct bpf_program* program, const char* path, const char* function,
                               int retprobe) {
  LIBBPF_OPTS(bpf_uprobe_opts, options, .func_name = function, .retprobe = retprobe);
  struct bpf_link* link = bpf_program__attach_uprobe_opts(program, -1, path, 0, &options);
  if (link == NULL) fprintf(stderr, "uprobe_ring: cannot attach to %s in %s\n", function, path);
  return link;
}

int main(int argc, char** argv) {
  libbpf_set_print(loader_print);
  struct uprobe_ring_bpf* skeleton = uprobe_ring_bpf__open_and_load();
  if (skeleton == NULL) {
    fprintf(stderr, "uprobe_ring: cannot open and load the BPF object\n");
    return 1;
  }
  struct ring_buffer* ring =
      ring_buffer__new(bpf_map__fd(skeleton->maps.events), handle, NULL, NULL);
  if (ring == NULL) {
    fprintf(stderr, "uprobe_ring: no ring buffer\n");
    return 1;
  }
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    const char* path = argv[i];
    struct bpf_link* links[3] = {
        attach(skeleton->progs.on_entry, path, "traced_add", 0),
        attach(skeleton->progs.on_return, path, "traced_add", 1),
        attach(skeleton->progs.on_length, path, "traced_length", 0),
    };
    if (links[0] == NULL || links[1] == NULL || links[2] == NULL) return 1;
    printf("%s: attached\n", path);
    fflush(stdout);
    child = fork();
    if (child == 0) {
      int null = open("/dev/null", 1);
      dup2(null, 1);
      execl(path, path, "call", "5", "-7", (char*)NULL);
      _exit(127);
    }
    int wait_status = 0;
    waitpid(child, &wait_status, 0);
    if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) status = 1;
    events = 0;
    for (int tries = 0; tries < 50 && events < 6; ++tries) ring_buffer__poll(ring, 100);
    for (int j = 0; j < 3; ++j) bpf_link__destroy(links[j]);
  }
  ring_buffer__free(ring);
  uprobe_ring_bpf__destroy(skeleton);
  return status;
}
