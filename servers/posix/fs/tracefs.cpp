// SPDX-License-Identifier: MIT
// tracefs: names, reads and writes forwarded to the trace server's TraceService by path.
#include "fs/tracefs.hpp"

#include <string.h>

#include "kernel/syscalls.hpp"
#include "platform/kernel.hpp"
#include "sys/clock.hpp"
#include "tracing/trace_service.hpp"
#include "tracing/uprobes.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {

constexpr uint32_t kDirectoryMode = kTypeDirectory | 0750;  // Linux 6.1's tracefs modes
constexpr uint32_t kFileMode = kTypeRegular | 0640;
constexpr uint32_t kMaxTransfer = 1u << 20;  // one call's bytes (the buffers hold 2 MiB)
// How often a blocked trace_pipe read asks again when nothing said data came.
constexpr uint64_t kPipePollNs = 100'000'000;

// The two tracefs mounts, then files the trace server also serves through the tracefs methods
// under an '@' path (servers/trace/service/service.hpp): debugfs's kprobes/ and the
// kernel.bpf_stats_enabled sysctl (a root that is itself the file).
struct Root {
  const char* mount_point;
  const char* prefix;  // what the trace server's paths below this root start with
  bool is_directory;
  uint32_t mode;
  Inode* inode;
};
Root roots[] = {
    {"/sys/kernel/tracing", "", true, kTypeDirectory | 0700, nullptr},
    {"/sys/kernel/debug/tracing", "", true, kTypeDirectory | 0700, nullptr},
    {"/sys/kernel/debug/kprobes", "@debugfs/kprobes", true, kTypeDirectory | 0755, nullptr},
    {"/proc/sys/kernel/bpf_stats_enabled", "@sysctl/kernel/bpf_stats_enabled", false,
     kTypeRegular | 0644, nullptr},
};
uint64_t trace_activity = 1;

const Root* root_of(const Inode* inode) {
  for (const Root& root : roots) {
    if (root.inode != nullptr && root.inode == inode) return &root;
  }
  return nullptr;
}
bool is_root(const Inode* inode) { return root_of(inode) != nullptr; }

// The path of a tracefs inode below its mount point ("events/kprobes/enable"), after its
// root's prefix; false when it is no longer in the tree (its name went).
bool path_of(const Inode* inode, char* out, size_t capacity, size_t& length) {
  size_t at = capacity;
  const Inode* d = inode;
  for (; !is_root(d); d = d->parent) {
    if (d->remote == nullptr || d->parent == nullptr) return false;
    const char* name = nullptr;
    for (DirectoryEntry* e = d->parent->entries; e != nullptr && name == nullptr; e = e->next) {
      if (e->inode == d) name = e->name;
    }
    if (name == nullptr) return false;
    size_t n = strlen(name);
    if (at < n + 1) return false;
    at -= n;
    memcpy(out + at, name, n);
    out[--at] = '/';
  }
  const char* prefix = root_of(d)->prefix;
  size_t prefix_length = strlen(prefix);
  if (at < prefix_length) return false;
  at -= prefix_length;
  memcpy(out + at, prefix, prefix_length);
  length = capacity - at;
  memmove(out, out + at, length);
  return true;
}

// Makes `name` in `directory` a file or directory of tracefs (replacing an entry of the
// other type).
rt::Result<Inode*> enter(FileTree& tree, Inode* directory, const char* name, size_t length,
                         bool is_directory, RemoteFileSystem* remote) {
  Inode* existing = tree.find(directory, name, length);
  if (existing != nullptr && existing->is_directory() == is_directory) return existing;
  if (existing != nullptr) TRY(tree.unlink(directory, name, length));
  Inode* inode = TRY(tree.make_inode(is_directory ? kDirectoryMode : kFileMode));
  inode->remote = remote;
  tree.set_parent(inode, directory);
  if (is_directory) inode->links = 2;
  TRY(tree.link(directory, name, length, inode));
  return inode;
}

class Tracefs final : public RemoteFileSystem {
 public:
  rt::Result<Inode*> lookup(FileTree& tree, Inode* directory, const char* name,
                            size_t length) override {
    sonde::proto::TraceService::Client* client = trace_service_client();
    char path[kPathMax];
    size_t used = 0;
    if (client == nullptr || !path_of(directory, path, sizeof path, used)) return nullptr;
    if (used + 1 + length > sizeof path) return rt::err(rt::kENAMETOOLONG);
    path[used++] = '/';
    memcpy(path + used, name, length);
    used += length;
    auto request = client->tracefsListRequest();
    request.params().setPath(path, used);
    auto reply = request.send();
    bool is_directory = reply.ok();
    if (!reply.ok() && reply.error().code != rt::kENOTDIR) {
      if (tree.find(directory, name, length) != nullptr) (void)tree.unlink(directory, name, length);
      return nullptr;
    }
    return enter(tree, directory, name, length, is_directory, this);
  }
};

Tracefs tracefs;

}  // namespace

void mount_tracefs(FileTree& tree) {
  if (!trace_service_available()) return;
  for (Root& root : roots) {
    auto found = lookup(tree, tree.root(), root.mount_point, kFollowLast);
    Inode* inode = found.ok() ? found.value().inode : nullptr;
    if (inode == nullptr) {
      auto made = tree.create(tree.root(), root.mount_point, root.mode);
      if (!made.ok()) continue;
      inode = made.value();
    }
    if (inode->is_directory() != root.is_directory) continue;
    root.inode = inode;
    root.inode->remote = &tracefs;
    root.inode->mode = root.mode;  // tracefs's root as Linux mounts it, debugfs's kprobes/
  }
}

bool is_tracefs(const Inode* inode) { return inode != nullptr && inode->remote == &tracefs; }

void note_trace_activity() { ++trace_activity; }

// Whether an open file holds trace_pipe (Linux's pipe_cpumask for the top instance, all CPUs).
static bool trace_pipe_taken = false;

long tracefs_open(File* file) {
  char path[kPathMax];
  size_t length = 0;
  if (!path_of(file->inode, path, sizeof path, length)) return -rt::kENOENT;
  constexpr char kTracePipe[] = "/trace_pipe";
  if (length == sizeof kTracePipe - 1 && memcmp(path, kTracePipe, length) == 0) {
    if (trace_pipe_taken) return -rt::kEBUSY;
    trace_pipe_taken = true;
    file->trace_pipe_reader = true;
    return 0;
  }
  if ((file->flags & kO_TRUNC) == 0 || (file->flags & kO_ACCMODE) == kO_RDONLY) return 0;
  const char* const emptied[] = {"/trace",         "/set_event",     "/set_event_pid", "/error_log",
                                 "/kprobe_events", "/uprobe_events", "/dynamic_events"};
  bool empties = false;
  for (const char* name : emptied) {
    empties = empties || (strlen(name) == length && memcmp(name, path, length) == 0);
  }
  if (!empties) return 0;
  sonde::proto::TraceService::Client* client = trace_service_client();
  if (client == nullptr) return -rt::kENODEV;
  auto request = client->tracefsWriteRequest();
  request.params().setPath(path, length);
  request.params().setOffset(0);
  request.params().setData("", 0);
  request.params().setAppend(false);
  auto reply = request.send();
  return reply.ok() ? 0 : -static_cast<long>(reply.error().code);
}

void tracefs_release(File* file) {
  if (file->trace_pipe_reader) trace_pipe_taken = false;
}

long tracefs_read(File* file, uint64_t address, size_t count, uint64_t* pos) {
  if (file->inode->is_directory()) return -rt::kEISDIR;
  sonde::proto::TraceService::Client* client = trace_service_client();
  char path[kPathMax];
  size_t length = 0;
  if (client == nullptr || !path_of(file->inode, path, sizeof path, length)) return -rt::kENODEV;
  if (count == 0) return 0;
  bool blocking = (file->flags & kO_NONBLOCK) == 0;
  SyscallContext& context = *current_context();
  Thread* process = context.thread;
  // A retried read asks the trace server again only when trace data may have come: a trace
  // wakeup says so (and retries it: WaitReason::kTrace), the poll interval is a fallback.
  if (blocking && process->blocked && file->tracefs_activity == trace_activity &&
      sys::clock_ns() < process->sleep_deadline) {
    context.wait = WaitReason::kTrace;
    return kDeferred;
  }
  auto request = client->tracefsReadRequest();
  request.params().setPath(path, length);
  request.params().setOffset(*pos);
  request.params().setMaxBytes(count < kMaxTransfer ? static_cast<uint32_t>(count) : kMaxTransfer);
  request.params().setBlocking(blocking);
  auto reply = request.send();
  if (reply.ok() && reply.value().getWouldBlock()) {
    file->tracefs_activity = trace_activity;
    process->sleep_deadline = sys::clock_ns() + kPipePollNs;
    context.wait = WaitReason::kTrace;
    return kDeferred;
  }
  if (process->blocked) process->sleep_deadline = 0;
  if (!reply.ok()) return -static_cast<long>(reply.error().code);
  auto data = reply.value().getData();
  if (!data.ok()) return -rt::kEIO;
  size_t n = data.value().size < count ? data.value().size : count;
  if (n > 0 && !user(*current_context()).copy_out(address, data.value().bytes, n).ok()) {
    return -rt::kEFAULT;
  }
  *pos += n;
  return static_cast<long>(n);
}

long tracefs_write(File* file, uint64_t address, size_t count, uint64_t* pos) {
  if (file->inode->is_directory()) return -rt::kEISDIR;
  sonde::proto::TraceService::Client* client = trace_service_client();
  char path[kPathMax];
  size_t length = 0;
  if (client == nullptr || !path_of(file->inode, path, sizeof path, length)) return -rt::kENODEV;
  if (count == 0) return 0;
  // GAP: a write above kMaxTransfer is short (Linux takes probe definitions of any length).
  size_t n = count < kMaxTransfer ? count : kMaxTransfer;
  auto* bytes = static_cast<uint8_t*>(platform::heap().allocate(n, 8));
  if (bytes == nullptr) return -rt::kENOMEM;
  long result;
  constexpr char kUprobeEvents[] = "/uprobe_events";  // below the tracing root
  bool uprobe_events =
      length == sizeof kUprobeEvents - 1 && memcmp(path, kUprobeEvents, length) == 0;
  int status = 0;
  if (!user(*current_context()).copy_in(bytes, address, n).ok()) {
    result = -rt::kEFAULT;
  } else if (uprobe_events &&
             (status = uprobe_events_status(current_context()->process, bytes, n)) != 0) {
    result = -status;  // the file of a uprobe (the trace server cannot see files)
  } else {
    auto request = client->tracefsWriteRequest();
    request.params().setPath(path, length);
    request.params().setOffset(*pos);
    request.params().setData(bytes, n);
    request.params().setAppend((file->flags & kO_APPEND) != 0);
    auto reply = request.send();
    if (reply.ok()) {
      result = reply.value().getWritten();
      *pos += static_cast<uint64_t>(result);
      uprobes_sync();  // an enabled (or disabled) uprobe event
    } else {
      result = -static_cast<long>(reply.error().code);
    }
  }
  platform::heap().deallocate(bytes, n);
  return result;
}

void tracefs_refresh(FileTree& tree, Inode* directory) {
  sonde::proto::TraceService::Client* client = trace_service_client();
  char path[kPathMax];
  size_t length = 0;
  if (client == nullptr || !path_of(directory, path, sizeof path, length)) return;
  auto request = client->tracefsListRequest();
  request.params().setPath(path, length);
  auto reply = request.send();
  if (!reply.ok()) return;
  auto names = reply.value().getNames();
  if (!names.ok()) return;
  const char* text = reinterpret_cast<const char*>(names.value().bytes);
  size_t size = names.value().size;
  auto listed = [&](const char* name, size_t name_length) {
    for (size_t at = 0; at < size;) {
      size_t end = at;
      while (end < size && text[end] != '\n') ++end;
      size_t n = end - at;
      if (n > 0 && text[end - 1] == '/') --n;
      if (n == name_length && memcmp(text + at, name, n) == 0) return true;
      at = end + 1;
    }
    return false;
  };
  // Names that went first, then every listed name (a directory's ends in '/').
  for (DirectoryEntry* e = directory->entries; e != nullptr;) {
    DirectoryEntry* next = e->next;
    if (!listed(e->name, strlen(e->name))) (void)tree.unlink(directory, e->name, strlen(e->name));
    e = next;
  }
  for (size_t at = 0; at < size;) {
    size_t end = at;
    while (end < size && text[end] != '\n') ++end;
    size_t n = end - at;
    bool is_directory = n > 0 && text[end - 1] == '/';
    if (is_directory) --n;
    bool dots = (n == 1 && text[at] == '.') || (n == 2 && text[at] == '.' && text[at + 1] == '.');
    bool slash = false;
    for (size_t i = at; i < at + n; ++i) slash = slash || text[i] == '/';
    if (n > 0 && n <= kNameMax && !dots && !slash) {
      (void)enter(tree, directory, text + at, n, is_directory, directory->remote);
    }
    at = end + 1;
  }
}

}  // namespace posix
