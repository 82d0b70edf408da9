// SPDX-License-Identifier: MIT
// The link commands of bpf(2): LINK_CREATE, RAW_TRACEPOINT_OPEN, LINK_UPDATE, LINK_DETACH, link
// info, and TASK_FD_QUERY (what a link or perf event fd of a task is attached to).
#include "commands.hpp"
#include "rt/new.hpp"
#include "trace/kernel_types.hpp"
#include "trace/links.hpp"
#include "trace/perf_events.hpp"

namespace trace {
namespace {

constexpr int kENOTSUPP = 524;  // the kernel-internal "not supported" bpf() lets out

template <typename T>
T attr_as(const BpfAttr& attr) {
  T value;
  __builtin_memcpy(&value, attr.bytes, sizeof(T));
  return value;
}

// bpf_link_init + bpf_link_prime: a link with an id, holding its program.
rt::Result<LinkObject*> new_link(ObjectTable& objects, LinkType type, ProgramObject* program) {
  void* place = objects.allocator().allocate(sizeof(LinkObject), alignof(LinkObject));
  if (place == nullptr) return rt::err(rt::kENOMEM);
  auto* link = new (place) LinkObject();
  link->kind = ObjectKind::kLink;
  link->type = type;
  if (auto added = objects.add(link); !added.ok()) {
    objects.allocator().deallocate(link, sizeof(LinkObject));
    return added.error();
  }
  objects.acquire(program);
  link->program = program;
  return link;
}

// bpf_perf_link_attach.
rt::Result<int64_t> perf_link_attach(BpfCall& call, ProgramObject* program) {
  const LinkCreateAttr& attr = call.attr.link_create;
  if (attr.flags != 0) return rt::err(rt::kEINVAL);
  // perf_event_get: EBADF for anything but a perf event.
  auto handle = call.session.lookup(static_cast<int32_t>(attr.target_fd));
  if (!handle.ok() || handle->object->kind != ObjectKind::kPerfEvent) return rt::err(rt::kEBADF);
  auto* event = static_cast<PerfEventObject*>(handle->object);
  ObjectTable& objects = call.session.objects();
  LinkObject* link = TRY(new_link(objects, LinkType::kPerfEvent, program));
  uint64_t cookie = attr.target[0];  // link_create.perf_event.bpf_cookie
  if (auto set = set_event_program(*event, program, cookie); !set.ok()) {
    objects.release(link);  // bpf_link_cleanup: the id was taken and is given back
    return set.error();
  }
  objects.acquire(event);
  link->event = event;
  link->cookie = cookie;
  return TRY(call.session.open(link, kCanRead | kCanWrite));
}

// bpf_kprobe_multi_link_attach: Linux's checks in its order, then one probe per function
// (fprobe's addresses; here each function's entry NOP through the same kprobes as single
// kprobes), the program on each with its cookie; any failure takes back what was armed.
rt::Result<int64_t> kprobe_multi_link_attach(BpfCall& call, ProgramObject* program) {
  KprobeMultiAttr attr;
  __builtin_memcpy(&attr, call.attr.bytes + 16, sizeof attr);
  if (program->expected_attach_type != kAttachTraceKprobeMulti) return rt::err(rt::kEINVAL);
  if ((attr.flags & ~kKprobeMultiReturn) != 0) return rt::err(rt::kEINVAL);
  if ((attr.addrs != 0) == (attr.syms != 0)) return rt::err(rt::kEINVAL);
  if (attr.cnt == 0) return rt::err(rt::kEINVAL);
  if (attr.cnt > kMaxKprobeMultiCount) return rt::err(rt::kE2BIG);
  ObjectTable& objects = call.session.objects();
  rt::Allocator& allocator = objects.allocator();
  uint64_t bytes = uint64_t{attr.cnt} * sizeof(uint64_t);
  ScratchBuffer cookies(allocator, attr.cookies != 0 ? bytes : 0);
  ScratchBuffer targets(allocator, bytes);  // addresses, or the symbols' user pointers
  if (!cookies.ok() || !targets.ok()) return rt::err(rt::kENOMEM);
  auto* cookie = reinterpret_cast<uint64_t*>(cookies.data());
  auto* target = reinterpret_cast<uint64_t*>(targets.data());
  if (attr.cookies != 0 && !call.memory.read(cookie, attr.cookies, bytes).ok())
    return rt::err(rt::kEFAULT);
  if (!call.memory.read(target, attr.addrs != 0 ? attr.addrs : attr.syms, bytes).ok())
    return rt::err(rt::kEFAULT);
  // copy_user_syms: every name is read first (EFAULT; E2BIG for one of KSYM_NAME_LEN bytes).
  ScratchBuffer names(allocator, attr.syms != 0 ? uint64_t{attr.cnt} * kKsymNameLen : 0);
  if (!names.ok()) return rt::err(rt::kENOMEM);
  auto name_of = [&](uint32_t i) {
    return reinterpret_cast<char*>(names.data()) + i * kKsymNameLen;
  };
  for (uint32_t i = 0; attr.syms != 0 && i < attr.cnt; ++i) {
    char* name = name_of(i);
    if (!call.memory.read_string(name, target[i], kKsymNameLen).ok()) return rt::err(rt::kEFAULT);
    uint32_t length = 0;
    while (length < kKsymNameLen && name[length] != 0) ++length;
    if (length == kKsymNameLen) return rt::err(rt::kE2BIG);
  }
  ProbeTable* probes = objects.probes();
  // ftrace_lookup_symbols: ESRCH when a name is no function; an address that is no function
  // entry (ftrace location) is EINVAL.
  if (probes == nullptr) return rt::err(attr.syms != 0 ? rt::kESRCH : rt::kEINVAL);
  auto** attached =
      static_cast<Probe**>(allocator.allocate(attr.cnt * sizeof(Probe*), alignof(Probe*)));
  if (attached == nullptr) return rt::err(rt::kENOMEM);
  LinkObject* link = nullptr;
  if (auto made = new_link(objects, LinkType::kKprobeMulti, program); made.ok()) {
    link = made.value();
  } else {
    allocator.deallocate(attached, attr.cnt * sizeof(Probe*));
    return made.error();
  }
  link->probes = attached;
  link->probe_capacity = attr.cnt;
  for (uint32_t i = 0; i < attr.cnt; ++i) {
    ProbeSpec spec;
    spec.kind = ProbeKind::kKprobe;
    spec.is_return = (attr.flags & kKprobeMultiReturn) != 0;
    spec.multi = true;
    if (attr.syms != 0) {
      spec.symbol = name_of(i);
    } else {
      spec.address = target[i];
    }
    auto probe = probes->open_probe(spec, kPtRegsSize);
    rt::Result<void> joined =
        probe.ok() ? probes->attach(*probe, program, cookie != nullptr ? cookie[i] : 0, 0xffffffffu)
                   : rt::Result<void>(probe.error());
    if (!joined.ok()) {
      if (probe.ok()) probes->close_probe(*probe);
      objects.release(link);  // bpf_link_cleanup: the probes armed so far go with it
      rt::Error error = joined.error();
      if (attr.syms != 0 && error.code == rt::kENOENT) error = rt::err(rt::kESRCH);
      return error;
    }
    link->probes[link->probe_count++] = *probe;
  }
  return TRY(call.session.open(link, kCanRead | kCanWrite));
}

rt::Result<LinkObject*> link_of(BpfCall& call, uint32_t fd) {
  Handle handle = TRY(call.session.lookup_kind(static_cast<int32_t>(fd), ObjectKind::kLink));
  return static_cast<LinkObject*>(handle.object);
}

}  // namespace

// link_create.
rt::Result<int64_t> link_create(BpfCall& call) {
  const LinkCreateAttr& attr = call.attr.link_create;
  if (!attr_tail_is_zero(call.attr, kLinkCreateLastFieldEnd)) return rt::err(rt::kEINVAL);
  Handle handle =
      TRY(call.session.lookup_kind(static_cast<int32_t>(attr.prog_fd), ObjectKind::kProgram));
  auto* program = static_cast<ProgramObject*>(handle.object);
  switch (program->type) {
    case ebpf::ProgramType::kPerfEvent:
    case ebpf::ProgramType::kTracepoint:
      if (attr.attach_type != kAttachPerfEvent) return rt::err(rt::kEINVAL);
      break;
    case ebpf::ProgramType::kKprobe:
      if (attr.attach_type == kAttachTraceKprobeMulti) {
        return kprobe_multi_link_attach(call, program);
      }
      if (attr.attach_type != kAttachPerfEvent) return rt::err(rt::kEINVAL);
      break;
    default: return rt::err(rt::kEINVAL);
  }
  return perf_link_attach(call, program);
}

// A link of `type` holding `program` on the probe `spec` opens (programs there read
// `context_size` bytes), as an fd of the caller; `busy` is the errno for the program being on
// the probe already. What was made is undone on any failure.
rt::Result<int64_t> probe_link(BpfCall& call, LinkType type, ProgramObject* program,
                               const ProbeSpec& spec, uint32_t context_size, int busy) {
  ObjectTable& objects = call.session.objects();
  ProbeTable* probes = objects.probes();
  LinkObject* link = TRY(new_link(objects, type, program));
  auto probe = probes->open_probe(spec, context_size);
  if (!probe.ok()) {
    objects.release(link);
    return probe.error();
  }
  if (auto attached = probes->attach(*probe, program, 0, 0xffffffffu); !attached.ok()) {
    probes->close_probe(*probe);
    objects.release(link);
    return attached.error().code == rt::kEEXIST ? rt::err(busy) : attached.error();
  }
  link->probe = *probe;
  return TRY(call.session.open(link, kCanRead | kCanWrite));
}

// bpf_tracing_prog_attach for a fentry or fexit program: a probe on the function's entry (fexit:
// its return), whose hits give the program the arguments (and the return value) as u64s.
rt::Result<int64_t> tracing_attach(BpfCall& call, ProgramObject* program) {
  ObjectTable& objects = call.session.objects();
  ProbeTable* probes = objects.probes();
  if (probes == nullptr) return rt::err(rt::kENOENT, "no functions to attach to");
  // arch_prepare_bpf_trampoline: x86-64 passes six arguments in registers.
  if (program->attach_args > kMaxTracingRegisterArgs) {
    return rt::err(kENOTSUPP, "a function with more than six arguments");
  }
  ProbeSpec spec;
  spec.kind = ProbeKind::kTracing;
  spec.symbol = program->attach_name;
  spec.is_return = program->expected_attach_type == kAttachTraceFexit;
  spec.arguments = program->attach_args;
  // bpf_trampoline_link_prog: a program is on its trampoline once (EBUSY).
  return probe_link(call, LinkType::kTracing, program, spec, (program->attach_args + 1) * 8,
                    rt::kEBUSY);
}

// bpf_raw_tracepoint_open and bpf_raw_tp_link_attach.
rt::Result<int64_t> raw_tracepoint_open(BpfCall& call) {
  if (!attr_tail_is_zero(call.attr, kRawTracepointOpenLastFieldEnd)) return rt::err(rt::kEINVAL);
  auto attr = attr_as<RawTracepointOpenAttr>(call.attr);
  Handle handle =
      TRY(call.session.lookup_kind(static_cast<int32_t>(attr.prog_fd), ObjectKind::kProgram));
  auto* program = static_cast<ProgramObject*>(handle.object);
  char name[kRawTracepointNameMax] = {};
  if (program->type == ebpf::ProgramType::kTracing) {
    // A tracing program attaches where it was loaded for; no name may come with it.
    if (attr.name != 0) return rt::err(rt::kEINVAL);
    if (program->expected_attach_type != kAttachTraceRawTp) return tracing_attach(call, program);
    for (uint32_t i = 0; i + 1 < kRawTracepointNameMax && program->attach_name[i] != 0; ++i)
      name[i] = program->attach_name[i];
  } else if (program->type != ebpf::ProgramType::kRawTracepoint) {
    return rt::err(rt::kEINVAL);
  } else if (!call.memory.read_string(name, attr.name, kRawTracepointNameMax - 1).ok()) {
    return rt::err(rt::kEFAULT);
  }
  name[kRawTracepointNameMax - 1] = 0;
  ObjectTable& objects = call.session.objects();
  ProbeTable* probes = objects.probes();
  if (probes == nullptr) return rt::err(rt::kENOENT);  // no raw tracepoint at all
  uint32_t arguments = TRY(probes->hooks().raw_tracepoint_arguments(name));
  // bpf_probe_register. GAP: Linux refuses (EINVAL) a program that reads past the
  // tracepoint's arguments (max_ctx_offset), which the engine does not record.
  ProbeSpec spec;
  spec.kind = ProbeKind::kRawTracepoint;
  spec.name = name;
  // tracepoint_probe_register_may_exist: the same program twice on one tracepoint is EEXIST.
  return probe_link(call, LinkType::kRawTracepoint, program, spec, arguments * 8, rt::kEEXIST);
}

// link_detach: neither perf event nor raw tracepoint links have a detach in 6.1.
rt::Result<int64_t> link_detach(BpfCall& call) {
  if (!attr_tail_is_zero(call.attr, kLinkDetachLastFieldEnd)) return rt::err(rt::kEINVAL);
  TRY(link_of(call, call.attr.get_id.start_id));  // link_detach.link_fd
  return rt::err(rt::kEOPNOTSUPP);
}

// link_update: neither link type has update_prog in 6.1, so a well-formed call is EINVAL.
rt::Result<int64_t> link_update(BpfCall& call) {
  if (!attr_tail_is_zero(call.attr, kLinkUpdateLastFieldEnd)) return rt::err(rt::kEINVAL);
  auto attr = attr_as<LinkUpdateAttr>(call.attr);
  if ((attr.flags & ~kFlagReplace) != 0) return rt::err(rt::kEINVAL);
  TRY(link_of(call, attr.link_fd));
  TRY(call.session.lookup_kind(static_cast<int32_t>(attr.new_prog_fd), ObjectKind::kProgram));
  if (attr.flags & kFlagReplace) {
    TRY(call.session.lookup_kind(static_cast<int32_t>(attr.old_prog_fd), ObjectKind::kProgram));
  } else if (attr.old_prog_fd != 0) {
    return rt::err(rt::kEINVAL);
  }
  return rt::err(rt::kEINVAL);
}

// bpf_link_get_info_by_fd.
rt::Result<int64_t> link_get_info(BpfCall& call, const LinkObject& link) {
  const InfoAttr& attr = call.attr.info;
  TRY(user_tail_is_zero(call.memory, attr.info, sizeof(LinkInfo), attr.info_len));
  uint32_t length = attr.info_len < sizeof(LinkInfo) ? attr.info_len : sizeof(LinkInfo);
  LinkInfo info = {};
  TRY(call.memory.read(&info, attr.info, length));
  info.type = static_cast<uint32_t>(link.type);
  info.id = link.id;
  info.prog_id = link.program->id;
  if (link.type == LinkType::kTracing) {
    // bpf_tracing_link_fill_link_info: attach_type, target_obj_id (the kernel's BTF), btf_id.
    uint32_t tracing[3] = {link.program->expected_attach_type, 1, link.program->attach_btf_id};
    __builtin_memcpy(reinterpret_cast<uint8_t*>(&info) + 16, tracing, sizeof tracing);
  }
  if (link.type == LinkType::kRawTracepoint) {
    // bpf_raw_tp_link_fill_link_info: the name cut to the caller's room, ENOSPC then.
    const char* name = link.probe->name;
    uint32_t name_length = 0;
    while (name[name_length] != 0) ++name_length;
    uint64_t buffer = info.tp_name;
    uint32_t room = info.tp_name_len;
    if ((room == 0) != (buffer == 0)) return rt::err(rt::kEINVAL);
    info.tp_name_len = name_length + 1;
    if (buffer != 0) {
      if (room >= name_length + 1) {
        TRY(call.memory.write(buffer, name, name_length + 1));
      } else {
        char zero = 0;
        TRY(call.memory.write(buffer, name, room - 1));
        TRY(call.memory.write(buffer + room - 1, &zero, 1));
        return rt::err(rt::kENOSPC);
      }
    }
  }
  TRY(call.memory.write(attr.info, &info, length));
  TRY(write_attr_field(call, &attr.info_len, length));
  return 0;
}

void destroy_link(ObjectTable& objects, LinkObject* link) {
  if (link->event != nullptr) {
    // bpf_perf_link_release: the event loses the program the link gave it.
    if (link->event->program == link->program) clear_event_program(*link->event);
    objects.release(link->event);
  }
  if (link->probe != nullptr) {
    objects.probes()->detach(link->probe, link->program);
    objects.probes()->close_probe(link->probe);
  }
  for (uint32_t i = 0; i < link->probe_count; ++i) {
    objects.probes()->detach(link->probes[i], link->program);
    objects.probes()->close_probe(link->probes[i]);
  }
  if (link->probes != nullptr) {
    objects.allocator().deallocate(link->probes, link->probe_capacity * sizeof(Probe*));
  }
  if (link->program != nullptr) objects.release(link->program);
  link->~LinkObject();
  objects.allocator().deallocate(link, sizeof(LinkObject));
}

// bpf_attr.task_fd_query (Linux 6.1).
struct TaskFdQueryAttr {
  uint32_t pid, fd, flags, buf_len;
  uint64_t buf;
  uint32_t prog_id, fd_type;
  uint64_t probe_offset, probe_addr;
};
static_assert(sizeof(TaskFdQueryAttr) == 48);

// enum bpf_task_fd_type.
enum : uint32_t {
  kFdTypeRawTracepoint = 0,
  kFdTypeTracepoint = 1,
  kFdTypeKprobe = 2,
  kFdTypeKretprobe = 3,
  kFdTypeUprobe = 4,
  kFdTypeUretprobe = 5,
};

namespace {

// bpf_task_fd_query_copy: buf_len gets the name's length; the name goes into buf when buf and
// buf_len are given, cut short (and ENOSPC after the other fields) when it does not fit.
rt::Result<int64_t> task_fd_query_copy(BpfCall& call, uint32_t prog_id, uint32_t fd_type,
                                       const char* name, uint64_t offset, uint64_t address) {
  auto attr = attr_as<TaskFdQueryAttr>(call.attr);
  uint32_t length = 0;
  while (name != nullptr && name[length] != 0) ++length;
  TRY(write_attr_field(call, &call.attr.bytes[offsetof(TaskFdQueryAttr, buf_len)], length));
  bool cut = false;
  if (attr.buf_len != 0 && attr.buf != 0) {
    const char zero = 0;
    if (length == 0) {
      TRY(call.memory.write(attr.buf, &zero, 1));
    } else if (attr.buf_len >= length + 1) {
      TRY(call.memory.write(attr.buf, name, length + 1));
    } else {
      cut = true;
      TRY(call.memory.write(attr.buf, name, attr.buf_len - 1));
      TRY(call.memory.write(attr.buf + attr.buf_len - 1, &zero, 1));
    }
  }
  TRY(write_attr_field(call, &call.attr.bytes[offsetof(TaskFdQueryAttr, prog_id)], prog_id));
  TRY(write_attr_field(call, &call.attr.bytes[offsetof(TaskFdQueryAttr, fd_type)], fd_type));
  TRY(write_attr_field(call, &call.attr.bytes[offsetof(TaskFdQueryAttr, probe_offset)], offset));
  TRY(write_attr_field(call, &call.attr.bytes[offsetof(TaskFdQueryAttr, probe_addr)], address));
  if (cut) return rt::err(rt::kENOSPC);
  return 0;
}

}  // namespace

// The fds are the task's: the POSIX server hands over that task's fd table (and answers ENOENT
// itself for a pid that names no task).
rt::Result<int64_t> task_fd_query(BpfCall& call) {
  if (!attr_tail_is_zero(call.attr, sizeof(TaskFdQueryAttr))) return rt::err(rt::kEINVAL);
  auto attr = attr_as<TaskFdQueryAttr>(call.attr);
  if (attr.flags != 0) return rt::err(rt::kEINVAL);
  auto handle = call.session.lookup(static_cast<int32_t>(attr.fd));
  if (!handle.ok()) {
    if (handle.error().code == rt::kEBADF) return handle.error();
    return rt::err(kENOTSUPP, "TASK_FD_QUERY of an fd that is no link or perf event");
  }
  Object* object = handle.value().object;
  if (object->kind == ObjectKind::kLink) {
    auto* link = static_cast<LinkObject*>(object);
    if (link->type != LinkType::kRawTracepoint || link->probe == nullptr) {
      return rt::err(kENOTSUPP, "TASK_FD_QUERY of a link that is no raw tracepoint");
    }
    return task_fd_query_copy(call, link->program->id, kFdTypeRawTracepoint, link->probe->name, 0,
                              0);
  }
  if (object->kind != ObjectKind::kPerfEvent) {
    return rt::err(kENOTSUPP, "TASK_FD_QUERY of an fd that is no link or perf event");
  }
  // bpf_get_perf_event_info.
  auto* event = static_cast<PerfEventObject*>(object);
  if (event->program == nullptr) return rt::err(rt::kENOENT, "no program on the perf event");
  if (event->program->type == ebpf::ProgramType::kPerfEvent || event->probe == nullptr) {
    return rt::err(rt::kEOPNOTSUPP);
  }
  const Probe& probe = *event->probe;
  uint32_t id = event->program->id;
  switch (probe.kind) {
    case ProbeKind::kKprobe: {
      uint32_t type = probe.is_return ? kFdTypeKretprobe : kFdTypeKprobe;
      if (probe.name[0] != 0)
        return task_fd_query_copy(call, id, type, probe.name, probe.offset, 0);
      return task_fd_query_copy(call, id, type, nullptr, 0, probe.address);
    }
    case ProbeKind::kUprobe:
      return task_fd_query_copy(call, id, probe.is_return ? kFdTypeUretprobe : kFdTypeUprobe,
                                probe.name, probe.offset, 0);
    default:
      // GAP: a kprobe event defined in kprobe_events and opened as a tracepoint reports its
      // event name, where Linux reports the probed symbol as a kprobe.
      return task_fd_query_copy(call, id, kFdTypeTracepoint, probe.name, 0, 0);
  }
}

}  // namespace trace
