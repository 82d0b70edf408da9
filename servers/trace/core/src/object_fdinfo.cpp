// SPDX-License-Identifier: MIT
// object_fdinfo: the lines /proc/PID/fdinfo/FD shows for a BPF object, as Linux 6.1's
// show_fdinfo of map, program, link and BTF files prints them.
#include "ebpf/map.hpp"
#include "rt/errno.hpp"
#include "trace/bpf_command.hpp"
#include "trace/links.hpp"
#include "trace/objects.hpp"
#include "trace/perf_events.hpp"
#include "trace/text_buffer.hpp"

namespace trace {
namespace {

constexpr uint64_t kPageSize = 4096;

uint64_t round_up(uint64_t value, uint64_t to) { return (value + to - 1) / to * to; }

// "name:\tvalue\n".
void line(TextBuffer& out, const char* name, uint64_t value) {
  out.append(name);
  out.append(":\t");
  out.append_unsigned(value);
  out.append_char('\n');
}

// printf's %#x / %#llx: 0 bare, anything else 0x-prefixed.
void hex_line(TextBuffer& out, const char* name, uint64_t value) {
  out.append(name);
  out.append(":\t");
  if (value != 0) out.append("0x");
  out.append_unsigned(value, 16);
  out.append_char('\n');
}

void tag_line(TextBuffer& out, const ProgramObject& program) {
  out.append("prog_tag:\t");
  for (uint32_t i = 0; i < kTagSize; ++i) out.append_unsigned(program.tag[i], 16, 2, '0');
  out.append_char('\n');
}

// bpf_map_memory_footprint: max_entries times key and value (each element 8-byte rounded) in
// whole pages; a per-CPU map's value once per possible CPU, an fd map's a u32.
uint64_t map_memlock(const ebpf::Map& map, uint32_t possible_cpus) {
  const ebpf::MapAttributes& a = map.attributes();
  uint64_t value = a.value_size;
  switch (a.type) {
    case ebpf::MapType::kPercpuHash:
    case ebpf::MapType::kPercpuArray:
    case ebpf::MapType::kLruPercpuHash: value = round_up(a.value_size, 8) * possible_cpus; break;
    case ebpf::MapType::kProgArray:
    case ebpf::MapType::kPerfEventArray:
    case ebpf::MapType::kCgroupArray:
    case ebpf::MapType::kArrayOfMaps:
    case ebpf::MapType::kHashOfMaps: value = sizeof(uint32_t); break;
    default: break;
  }
  return round_up(uint64_t{a.max_entries} * round_up(a.key_size + value, 8), kPageSize);
}

// bpf_map_show_fdinfo.
void map_fdinfo(TextBuffer& out, const MapObject& object, uint32_t possible_cpus) {
  const ebpf::MapAttributes& a = object.map->attributes();
  line(out, "map_type", static_cast<uint32_t>(a.type));
  line(out, "key_size", a.key_size);
  line(out, "value_size", a.value_size);
  line(out, "max_entries", a.max_entries);
  hex_line(out, "map_flags", a.map_flags);
  hex_line(out, "map_extra", a.map_extra);
  line(out, "memlock", map_memlock(*object.map, possible_cpus));
  line(out, "map_id", object.id);
  line(out, "frozen", object.map->frozen() ? 1 : 0);
  if (a.type == ebpf::MapType::kProgArray && object.owner_type != 0) {
    line(out, "owner_prog_type", object.owner_type);
    line(out, "owner_jited", object.owner_jited ? 1 : 0);
  }
}

// bpf_prog_show_fdinfo. memlock is prog->pages in bytes: struct bpf_prog's head (72 bytes
// before its instructions) and the instructions, in whole pages.
void prog_fdinfo(TextBuffer& out, const ProgramObject& program) {
  constexpr uint64_t kProgHead = 72;  // offsetof(struct bpf_prog, insns)
  line(out, "prog_type", static_cast<uint32_t>(program.type));
  line(out, "prog_jited", program.jit.compiled() ? 1 : 0);
  tag_line(out, program);
  line(out, "memlock", round_up(kProgHead + uint64_t{program.insn_count} * 8, kPageSize));
  line(out, "prog_id", program.id);
  line(out, "run_time_ns", program.run_time_ns);
  line(out, "run_cnt", program.run_cnt);
  line(out, "recursion_misses", 0);  // no run is ever skipped for recursion here
  line(out, "verified_insns", program.verified_insns);
}

// bpf_link_type_strs: the names BPF_LINK_TYPE gives in include/linux/bpf_types.h.
const char* link_type_name(LinkType type) {
  switch (type) {
    case LinkType::kRawTracepoint: return "raw_tracepoint";
    case LinkType::kTracing: return "tracing";
    case LinkType::kPerfEvent: return "perf";
    case LinkType::kKprobeMulti: return "kprobe_multi";
    default: return "<invalid>";
  }
}

// bpf_link_show_fdinfo, then the link type's show_fdinfo: a raw tracepoint link's tp_name and
// a tracing link's attach_type (6.1's perf event and kprobe_multi links print nothing more).
void link_fdinfo(TextBuffer& out, const LinkObject& link) {
  out.append("link_type:\t");
  out.append(link_type_name(link.type));
  out.append_char('\n');
  line(out, "link_id", link.id);
  tag_line(out, *link.program);
  line(out, "prog_id", link.program->id);
  if (link.type == LinkType::kRawTracepoint && link.probe != nullptr) {
    out.append("tp_name:\t");
    out.append(link.probe->name);
    out.append_char('\n');
  } else if (link.type == LinkType::kTracing) {
    line(out, "attach_type", link.program->expected_attach_type);
  }
}

}  // namespace

rt::Result<int64_t> object_fdinfo(Session& session, UserMemory& memory, int32_t fd,
                                  uint64_t address, uint64_t capacity) {
  Handle handle = TRY(session.lookup(fd));
  TextBuffer out(session.objects().allocator());
  switch (handle.object->kind) {
    case ObjectKind::kMap:
      map_fdinfo(out, *static_cast<const MapObject*>(handle.object),
                 session.objects().environment().possible_cpus());
      break;
    case ObjectKind::kProgram:
      prog_fdinfo(out, *static_cast<const ProgramObject*>(handle.object));
      break;
    case ObjectKind::kLink: link_fdinfo(out, *static_cast<const LinkObject*>(handle.object)); break;
    case ObjectKind::kBtf: line(out, "btf_id", handle.object->id); break;
    default: return 0;  // perf events: anon inodes without lines of their own
  }
  if (!out.ok()) return rt::err(rt::kENOMEM);
  uint64_t length = out.size() < capacity ? out.size() : capacity;
  if (length != 0) TRY(memory.write(address, out.data(), length));
  return static_cast<int64_t>(length);
}

}  // namespace trace
