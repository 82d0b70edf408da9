// SPDX-License-Identifier: MIT
// bpf(2) for Linux processes: the caller's fds and memory handed to trace_client, new handles
// wrapped in fds (anon inodes, close-on-exec, as Linux's bpf fds).
#include "tracing/trace_service.hpp"

#include <string.h>

#include "fs/bpffs.hpp"
#include "fs/tracefs.hpp"
#include "kernel/syscalls.hpp"
#include "kernel/task_struct.hpp"
#include "platform/kernel.hpp"
#include "rt/format.hpp"
#include "rt/new.hpp"
#include "sonde/capnp/kernel_transport.hpp"
#include "supervisor.capnp.hpp"
#include "tracing/trace_client.hpp"
#include "tracing/uprobes.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {

alignas(sonde::capnp::KernelTransport) uint8_t
    transport_storage[sizeof(sonde::capnp::KernelTransport)];
alignas(sonde::proto::TraceService::Client) uint8_t
    client_storage[sizeof(sonde::proto::TraceService::Client)];
sonde::proto::TraceService::Client* client = nullptr;
alignas(sonde::capnp::KernelTransport) uint8_t
    supervisor_transport_storage[sizeof(sonde::capnp::KernelTransport)];
alignas(sonde::proto::Supervisor::Client) uint8_t
    supervisor_storage[sizeof(sonde::proto::Supervisor::Client)];
sonde::proto::Supervisor::Client* supervisor = nullptr;
alignas(8) uint8_t supervisor_request[4096];

// The caller's memory through its address space (pages fault in as the CPU would).
class ProcessMemory final : public trace_client::CallerMemory {
 public:
  explicit ProcessMemory(mm::AddressSpace& memory) : memory_(memory) {}
  uint64_t read_prefix(uint64_t address, uint8_t* out, uint64_t length) override {
    uint64_t done = 0;
    while (done < length) {
      uint64_t at = address + done;
      if (at < address) break;  // wrapped
      uint64_t chunk = platform::kPage - (at & (platform::kPage - 1));
      if (chunk > length - done) chunk = length - done;
      if (!memory_.copy_in(out + done, at, chunk).ok()) break;
      done += chunk;
    }
    return done;
  }
  bool write(uint64_t address, const uint8_t* bytes, uint64_t length) override {
    return memory_.copy_out(address, bytes, length).ok();
  }

 private:
  mm::AddressSpace& memory_;
};

// The caller's fd table: trace handles of the current instance, other files, closed slots.
class Descriptors final : public trace_client::DescriptorSource {
 public:
  explicit Descriptors(const FdTable& table) : table_(table) {}
  uint32_t fill(int32_t* out, uint32_t capacity, uint64_t instance) override {
    uint32_t count = 0;
    for (int fd = 0; fd < table_.end && static_cast<uint32_t>(fd) < capacity; ++fd) {
      const File* file = table_.files[fd];
      if (file == nullptr) {
        out[fd] = -1;
        continue;
      }
      bool live = file->kind == FileKind::kTrace && file->trace_instance == instance;
      out[fd] = file->kind != FileKind::kTrace ? 0
                : live                         ? static_cast<int32_t>(file->trace_handle)
                                               : -1;
      count = static_cast<uint32_t>(fd) + 1;
    }
    return count;
  }

 private:
  const FdTable& table_;
};

// One trace file as fd 0: ioctl and read reach the object behind a File, whatever its fd.
class SingleFile final : public trace_client::DescriptorSource {
 public:
  explicit SingleFile(const File& file) : file_(file) {}
  uint32_t fill(int32_t* out, uint32_t capacity, uint64_t instance) override {
    if (capacity == 0) return 0;
    out[0] = file_.trace_instance == instance ? static_cast<int32_t>(file_.trace_handle) : -1;
    return 1;
  }

 private:
  const File& file_;
};

trace_client::CallerInfo caller_of(const Process& process) {
  // Root (effective uid 0) holds CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN; nobody else any
  // (task/credentials.hpp). The ids are the real ones, as bpf_get_current_uid_gid shows them.
  const Credentials& ids = process.credentials;
  return trace_client::CallerInfo{process.pid,  process.pid,      ids.uid,         ids.gid,
                                  process.comm, ids.privileged(), ids.privileged()};
}

// Mapping handles (mmap of trace-server objects) and how many address spaces share each: a
// forked child shares its parent's mappings; the handle closes when the last one lets go.
struct MappingUsers {
  uint32_t handle;
  uint64_t instance;
  uint32_t users;  // 0: a free entry
};
MappingUsers mapping_users[1024];

MappingUsers* find_mapping(uint32_t handle, uint64_t instance) {
  for (MappingUsers& m : mapping_users) {
    if (m.users != 0 && m.handle == handle && m.instance == instance) return &m;
  }
  return nullptr;
}

// A mapping's first user (mmap) or another one (fork: the entry exists already). False when
// the table is full, which only a new mapping can meet: its mmap is then ENOMEM.
bool add_mapping_user(uint32_t handle, uint64_t instance) {
  if (MappingUsers* m = find_mapping(handle, instance)) {
    ++m->users;
    return true;
  }
  for (MappingUsers& m : mapping_users) {
    if (m.users != 0) continue;
    m = MappingUsers{handle, instance, 1};
    return true;
  }
  return false;
}

void retain_mapping(uint32_t handle, uint64_t instance) {
  (void)add_mapping_user(handle, instance);
}

void release_mapping(uint32_t handle, uint64_t instance) {
  MappingUsers* m = find_mapping(handle, instance);
  if (m != nullptr && --m->users != 0) return;
  if (m != nullptr) *m = MappingUsers{};
  close_trace_handle(handle, instance);
}

// What the new handle of a bpf command is (the commands that make one, by number).
TraceObject object_made_by(int command) {
  switch (command) {
    case 5:   // PROG_LOAD
    case 13:  // PROG_GET_FD_BY_ID
      return TraceObject::kProgram;
    case 17:  // RAW_TRACEPOINT_OPEN
    case 28:  // LINK_CREATE
    case 30:  // LINK_GET_FD_BY_ID
      return TraceObject::kLink;
    case 18:  // BTF_LOAD
    case 19:  // BTF_GET_FD_BY_ID
      return TraceObject::kBtf;
    case 32:  // ENABLE_STATS
      return TraceObject::kStats;
    default:  // MAP_CREATE, MAP_GET_FD_BY_ID
      return TraceObject::kMap;
  }
}

// Wraps a new handle in an fd; the handle is given back when that fails.
int64_t install_trace_fd(Process& process, int64_t handle, TraceObject object, bool close_on_exec) {
  uint64_t instance = trace_client::current_instance();
  auto file = new_file(FileKind::kTrace, kO_RDWR, nullptr);
  if (!file.ok()) {
    close_trace_handle(static_cast<uint32_t>(handle), instance);
    return -rt::kENOMEM;
  }
  file.value()->trace_handle = static_cast<uint32_t>(handle);
  file.value()->trace_instance = instance;
  file.value()->trace_object = object;
  auto fd = install_fd(*process.files, file.value(), 0, close_on_exec);
  if (!fd.ok()) {
    put_file(file.value());  // closes the handle
    return -static_cast<int64_t>(fd.error().code);
  }
  return fd.value();
}

// A buffer of the POSIX server standing in for a caller's memory at kAddress: where the trace
// server writes a BPF object's fdinfo lines (one call per BPF fd each time procfs is
// refreshed).
class ScratchMemory final : public trace_client::CallerMemory {
 public:
  static constexpr uint64_t kAddress = 0x10000;
  static constexpr uint64_t kSize = 1024;
  uint8_t bytes[kSize] = {};
  uint64_t read_prefix(uint64_t address, uint8_t* out, uint64_t length) override {
    if (address < kAddress || address >= kAddress + kSize) return 0;
    uint64_t room = kAddress + kSize - address;
    uint64_t n = length < room ? length : room;
    memcpy(out, bytes + (address - kAddress), n);
    return n;
  }
  bool write(uint64_t address, const uint8_t* data, uint64_t length) override {
    if (address < kAddress || length > kSize || address - kAddress > kSize - length) return false;
    memcpy(bytes + (address - kAddress), data, length);
    return true;
  }
};

}  // namespace

void init_trace_service(const sys::ServerStartInfo& info) {
  if ((info.flags & sys::kStartFlagHasTrace) == 0) return;
  mm::set_foreign_holder(retain_mapping, release_mapping);
  auto* transport = new (transport_storage) sonde::capnp::KernelTransport(
      sys::kServerSlotTraceService,
      sonde::capnp::MutableBytes{reinterpret_cast<uint8_t*>(sys::kTraceRequestBuffer),
                                 sys::kTraceBufferBytes},
      sonde::capnp::Bytes{reinterpret_cast<const uint8_t*>(sys::kTraceReplyBuffer),
                          sys::kTraceBufferBytes});
  client = new (client_storage) sonde::proto::TraceService::Client(*transport);
  auto* supervisor_transport = new (supervisor_transport_storage) sonde::capnp::KernelTransport(
      sys::kServerSlotSupervisor,
      sonde::capnp::MutableBytes{supervisor_request, sizeof supervisor_request},
      sonde::capnp::Bytes{});
  supervisor = new (supervisor_storage) sonde::proto::Supervisor::Client(*supervisor_transport);
}

TraceServerStatus trace_server_status() {
  TraceServerStatus status;
  if (supervisor == nullptr) return status;
  auto request = supervisor->healthRequest();
  request.params().setServer(sonde::proto::ServerKind::kTrace);
  auto reply = request.send();
  if (!reply.ok()) return status;
  auto servers = reply.value().getServers();
  if (!servers.ok()) return status;
  for (uint32_t i = 0; i < servers.value().size(); ++i) {
    auto server = servers.value()[i];
    if (server.getServer() != sonde::proto::ServerKind::kTrace) continue;
    status.available = true;
    status.instance = server.getInstance();
    status.restarts = server.getRestarts();
  }
  return status;
}

rt::Result<void> crash_trace_server(CrashWhen when) {
  if (client == nullptr) return rt::err(rt::kENODEV, "no trace server");
  auto request = client->crashRequest();
  request.params().setAtNextHit(when == CrashWhen::kNextHit);
  request.params().setAtNextReturn(when == CrashWhen::kNextReturn);
  auto reply = request.send();
  // Crashing now: the server dies with the call (its reply object goes), as intended.
  if (!reply.ok() && !(reply.error().code == rt::kEPIPE && when == CrashWhen::kNow)) {
    return reply.error();
  }
  return {};
}

rt::Result<void> restart_trace_server() {
  if (supervisor == nullptr) return rt::err(rt::kENODEV, "no trace server");
  auto request = supervisor->restartRequest();
  request.params().setServer(sonde::proto::ServerKind::kTrace);
  request.params().setReason("requested through /proc/sonde/trace-server");
  auto reply = request.send();
  if (!reply.ok()) return reply.error();
  return {};
}

bool trace_service_available() { return client != nullptr; }
sonde::proto::TraceService::Client* trace_service_client() { return client; }

namespace {
Process* published_task = nullptr;  // whose record the page holds now
int published_tid = 0;              // and which of its threads (0: the leader)
uint32_t published_cpu = 0;
}  // namespace

void use_current_cpu(uint32_t cpu) {
  if (cpu == published_cpu) return;
  published_cpu = cpu;
  if (client == nullptr) return;
  auto* task = reinterpret_cast<volatile sys::CurrentTask*>(sys::kCurrentTaskPage);
  task->sequence = task->sequence + 1;  // odd: being rewritten
  __atomic_thread_fence(__ATOMIC_RELEASE);
  task->cpu = cpu;
  __atomic_thread_fence(__ATOMIC_RELEASE);
  task->sequence = task->sequence + 1;
}

Process* published_current_task() { return published_task; }

int published_current_tid() {
  if (published_task == nullptr) return 0;
  return published_tid != 0 ? published_tid : published_task->pid;
}

void use_current_task(Process* process, int tid) {
  int thread = process != nullptr && tid != process->pid ? tid : 0;
  if (process != published_task || published_tid != thread) publish_current_task(process, tid);
}

void publish_current_task(Process* process, int tid) {
  published_task = process;
  published_tid = process != nullptr && tid != process->pid ? tid : 0;
  if (process != nullptr) update_task_struct(*process);
  if (client == nullptr) return;
  auto* task = reinterpret_cast<volatile sys::CurrentTask*>(sys::kCurrentTaskPage);
  task->sequence = task->sequence + 1;  // odd: being rewritten
  __atomic_thread_fence(__ATOMIC_RELEASE);
  const char* comm = process != nullptr ? process->comm : "swapper/0";
  task->pid = process == nullptr ? 0 : published_tid != 0 ? published_tid : process->pid;
  task->tgid = process != nullptr ? process->pid : 0;
  task->uid = process != nullptr ? process->credentials.uid : 0;
  task->gid = process != nullptr ? process->credentials.gid : 0;
  for (int i = 0; i < 16; ++i) task->comm[i] = 0;
  for (int i = 0; i < 15 && comm[i] != 0; ++i) task->comm[i] = comm[i];
  Thread* thread = published_tid != 0 ? find_thread(published_tid) : nullptr;
  task->task_struct = reinterpret_cast<uint64_t>(thread != nullptr && thread->process == process
                                                     ? task_struct_of(thread)
                                                     : task_struct_of(process));
  task->user_pages = process != nullptr && process->memory != nullptr
                         ? reinterpret_cast<uint64_t>(process->memory->page_map())
                         : 0;
  task->cpu = published_cpu;
  task->registers_offset = offsetof(SyscallContext, registers);
  task->serving_context = reinterpret_cast<uint64_t>(current_context_slot());
  __atomic_thread_fence(__ATOMIC_RELEASE);
  task->sequence = task->sequence + 1;
}

void close_trace_handle(uint32_t handle, uint64_t instance) {
  if (client == nullptr) return;
  (void)trace_client::close_handle(*client, handle, instance);
  uprobes_sync();  // a uprobe perf event's last close takes its probe away
}

size_t trace_fdinfo(const Process& owner, const File& file, char* out, size_t capacity) {
  if (client == nullptr) return 0;
  if (file.trace_object != TraceObject::kMap && file.trace_object != TraceObject::kProgram &&
      file.trace_object != TraceObject::kLink && file.trace_object != TraceObject::kBtf) {
    return 0;
  }
  // The trace server prints its object's lines (as fd 0) into the scratch buffer.
  ScratchMemory memory;
  SingleFile descriptors(file);
  uint64_t room = capacity < ScratchMemory::kSize ? capacity : ScratchMemory::kSize;
  int64_t length =
      trace_client::forward_object_fdinfo(*client, 0, ScratchMemory::kAddress, room,
                                          caller_of(owner), descriptors, memory, platform::heap());
  if (length <= 0) return 0;
  memcpy(out, memory.bytes, static_cast<size_t>(length));
  return static_cast<size_t>(length);
}

int64_t sys_bpf(SyscallContext& c) {
  if (client == nullptr) return -rt::kENOSYS;  // no trace server in this system
  Process* process = c.process;
  auto command = static_cast<int>(c.arg(0));
  bool new_handle = false;
  // Linux's __sys_bpf with unprivileged_bpf_disabled asks bpf_capable() first (CAP_BPF, else
  // CAP_SYS_ADMIN); the trace server answers EPERM without it. GAP: the commands' own checks
  // (the verifier's perfmon_capable, map types' bpf_capable) are not asked of cap_capable.
  trace_client::CallerInfo caller = caller_of(*process);
  caller.cap_bpf = capable(*process, kCapBpf) || capable(*process, kCapSysAdmin);
  ProcessMemory memory(user(c));
  // TASK_FD_QUERY names the fd of another task: the trace server sees that task's fd table.
  // A well-formed query for a pid that names no task is ENOENT here (get_pid_task).
  constexpr int kTaskFdQuery = 20;
  const FdTable* table = process->files;
  if (command == kTaskFdQuery) {
    struct {
      uint32_t pid, fd, flags;
    } query{};
    uint64_t size = c.arg(2) < sizeof(query) ? c.arg(2) : sizeof(query);
    if (user(c).copy_in(&query, c.arg(1), size).ok() && query.flags == 0) {
      Process* target = find_process(static_cast<int>(query.pid));
      if (target == nullptr || target->files == nullptr) return -rt::kENOENT;
      table = target->files;
    }
  }
  Descriptors descriptors(*table);
  int64_t result =
      trace_client::forward_bpf(*client, command, c.arg(1), static_cast<uint32_t>(c.arg(2)), caller,
                                descriptors, memory, platform::heap(), new_handle);
  note_trace_activity();  // a program may have written to trace_pipe
  constexpr int kObjPin = 6, kObjGet = 7;
  if ((command == kObjPin || command == kObjGet) && result == 0) {
    // The trace server checked the attr (and the object); the file is the bpf file system's.
    struct {
      uint64_t pathname;
      uint32_t bpf_fd, file_flags;
    } attr{};
    uint64_t size = c.arg(2) < sizeof(attr) ? c.arg(2) : sizeof(attr);
    if (!user(c).copy_in(&attr, c.arg(1), size).ok()) return -rt::kEFAULT;
    return command == kObjPin ? bpf_obj_pin(c, attr.pathname, static_cast<int>(attr.bpf_fd))
                              : bpf_obj_get(c, attr.pathname);
  }
  if (!new_handle) return result;
  // bpf fds are always close-on-exec (O_CLOEXEC in anon_inode_getfd).
  return install_trace_fd(*process, result, object_made_by(command), true);
}

int64_t sys_perf_event_open(SyscallContext& c) {
  if (client == nullptr) return -rt::kENOENT;  // no PMU at all
  constexpr uint64_t kFdCloexec = 8;           // PERF_FLAG_FD_CLOEXEC
  Process* process = c.process;
  bool new_handle = false;
  // Debian's perf_event_paranoid 3 asks CAP_SYS_ADMIN before anything (EACCES without it; the
  // trace server's answer). GAP: the checks after it (perfmon_capable for kernel events and
  // probes) are not asked of cap_capable.
  trace_client::CallerInfo caller = caller_of(*process);
  caller.cap_perfmon = capable(*process, kCapSysAdmin);
  // The trace server cannot see processes: a pid that names none is ESRCH here.
  auto pid = static_cast<int32_t>(c.arg(1));
  if (pid > 0 && find_process(pid) == nullptr) return -rt::kESRCH;
  // A uprobe's file is looked up here (the trace server cannot see files): perf_uprobe_init's
  // kern_path and d_is_reg, after the attr's own checks (the trace server's) pass.
  constexpr uint32_t kUprobePmu = 7;  // /sys/bus/event_source/devices/uprobe/type
  struct {
    uint32_t type, size;
    uint64_t config, sample_period, sample_type, read_format, flags;
    uint32_t wakeup, bp_type;
    uint64_t config1, config2;
  } head{};
  char path[kPathMax];
  int path_status = 0;
  if (user(c).copy_in(&head, c.arg(0), sizeof head).ok() && head.type == kUprobePmu &&
      head.config1 != 0) {
    auto length = user(c).copy_string(path, head.config1, sizeof path);
    if (length.ok()) path_status = uprobe_path_status(process, path, length.value());
  }
  ProcessMemory memory(user(c));
  Descriptors descriptors(*process->files);
  int64_t result = trace_client::forward_perf_event_open(
      *client, c.arg(0), static_cast<int32_t>(c.arg(1)), static_cast<int32_t>(c.arg(2)),
      static_cast<int32_t>(c.arg(3)), c.arg(4), caller, descriptors, memory, platform::heap(),
      new_handle);
  if (new_handle && path_status != 0) {
    close_trace_handle(static_cast<uint32_t>(result), trace_client::current_instance());
    return -path_status;
  }
  uprobes_sync();  // a uprobe PMU event registers its probe at open, as Linux
  if (!new_handle) return result;
  return install_trace_fd(*process, result, TraceObject::kPerfEvent, (c.arg(4) & kFdCloexec) != 0);
}

int64_t trace_file_ioctl(SyscallContext& c, int fd, uint64_t request, uint64_t argument) {
  if (client == nullptr) return -rt::kENOTTY;
  ProcessMemory memory(user(c));
  // The whole table: PERF_EVENT_IOC_SET_BPF's argument is another fd (the program).
  Descriptors descriptors(*c.process->files);
  int64_t result = trace_client::forward_perf_event_call(*client, true, fd, request, argument,
                                                         caller_of(*c.process), descriptors, memory,
                                                         platform::heap());
  note_trace_activity();
  uprobes_sync();
  return result;
}

int64_t trace_file_read(SyscallContext& c, File& file, uint64_t buffer, uint64_t count) {
  if (client == nullptr) return -rt::kEINVAL;
  ProcessMemory memory(user(c));
  SingleFile only(file);
  return trace_client::forward_perf_event_call(
      *client, false, 0, buffer, count, caller_of(*c.process), only, memory, platform::heap());
}

int64_t trace_file_mmap(SyscallContext& c, File& file, uint64_t address, uint64_t length,
                        uint32_t prot, bool shared, uint64_t offset) {
  if (client == nullptr) return -rt::kENODEV;
  bool writable = (prot & mm::kProtWrite) != 0;
  trace_client::MmapGrant grant = trace_client::mmap_grant(
      *client, file.trace_handle, file.trace_instance, offset, length, writable, shared);
  if (grant.result < 0) return grant.result;
  mm::AddressSpace& memory = user(c);
  // The pages wait in the exchange CNode's slots 0..pages-1: each moves into a slot of this
  // server and is mapped in the process; whatever is left there is deleted.
  uint64_t moved = 0;
  int64_t result = 0;
  auto mapping = memory.add_foreign_mapping(grant.mapping, file.trace_instance);
  if (!mapping.ok() || !add_mapping_user(grant.mapping, file.trace_instance)) {
    result = -rt::kENOMEM;
    if (mapping.ok()) (void)memory.drop_empty_foreign_mapping(mapping.value());
    mapping = rt::err(rt::kENOMEM);
  }
  for (; result == 0 && moved < grant.pages; ++moved) {
    auto slot = platform::allocate_slot();
    if (!slot.ok()) {
      result = -rt::kENOMEM;
      break;
    }
    uint64_t words[] = {slot.value(), 64, sys::kServerSlotExchange, moved, sys::kExchangeRadix};
    if (sys::invoke(sys::kServerSlotCNode, abi::Label::kCNodeMove, words) != abi::Error::kNone) {
      platform::free_slot(slot.value());
      result = -rt::kENOMEM;
      break;
    }
    if (!memory
             .map_foreign(address + moved * platform::kPage, slot.value(), prot, writable,
                          mapping.value())
             .ok()) {
      (void)sys::cnode_delete(sys::kServerSlotCNode, slot.value());
      platform::free_slot(slot.value());
      result = -rt::kENOMEM;
      break;
    }
  }
  for (uint64_t left = moved; left < grant.pages; ++left) {
    uint64_t words[] = {left, sys::kExchangeRadix};
    (void)sys::invoke(sys::kServerSlotExchange, abi::Label::kCNodeDelete, words);
  }
  // No page mapped: the mapping handle goes now (else with its last page, at munmap).
  if (!mapping.ok()) {
    close_trace_handle(grant.mapping, file.trace_instance);
  } else if (memory.drop_empty_foreign_mapping(mapping.value())) {
    release_mapping(grant.mapping, file.trace_instance);
  }
  return result;
}

int trace_file_poll(File& file) {
  if (client == nullptr) return 0x8;  // EPOLLERR
  note_trace_poll();
  // Asked at every wakeup of an epoll loop on a ring or perf buffer: not trace_client's
  // Cap'n Proto `poll`, whose encoding costs more than the rest, but sys::kTracePollLabel.
  if (file.trace_instance != trace_client::current_instance()) return 0x8;  // a stale fd: EBADF
  sys::MessageRegisters mr;
  mr.word[0] = file.trace_handle;
  mr.word[1] = file.trace_instance;
  sys::IpcResult result = sys::call(sys::kServerSlotTraceService, sys::kTracePollLabel, mr, 2);
  if (result.error != abi::Error::kNone || result.info.length < 1) return 0x8;
  auto events = static_cast<int64_t>(mr.word[0]);
  return events < 0 ? 0x8 : static_cast<int>(events);
}

}  // namespace posix
