// SPDX-License-Identifier: MIT
// BPF links (perf event and raw tracepoint) and the bpf_attr / bpf_link_info layouts they use.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "trace/objects.hpp"

namespace trace {

struct PerfEventObject;
struct Probe;

// enum bpf_link_type.
enum class LinkType : uint32_t {
  kUnspec = 0,
  kRawTracepoint = 1,
  kTracing = 2,  // fentry, fexit (a tp_btf program's link is a raw tracepoint's)
  kPerfEvent = 7,
  kKprobeMulti = 8
};

// A link holds its program (one reference) and what it attaches it to: a perf event (one
// reference; the event's program is this link's until the link goes) or a raw tracepoint.
struct LinkObject : Object {
  LinkType type = LinkType::kUnspec;
  ProgramObject* program = nullptr;
  PerfEventObject* event = nullptr;
  Probe* probe = nullptr;
  uint64_t cookie = 0;
  // A kprobe_multi link: one probe per function, the program on each with that function's
  // cookie.
  Probe** probes = nullptr;
  uint32_t probe_count = 0;
  uint32_t probe_capacity = 0;
};

// For ObjectTable: the last reference to a link went (bpf_link_free).
void destroy_link(ObjectTable& objects, LinkObject* link);

// bpf_attr.raw_tracepoint, link_update, link_detach (Linux 6.1).
struct RawTracepointOpenAttr {
  uint64_t name;
  uint32_t prog_fd;
};
struct LinkUpdateAttr {
  uint32_t link_fd;
  uint32_t new_prog_fd;
  uint32_t flags;
  uint32_t old_prog_fd;
};
inline constexpr uint32_t kRawTracepointOpenLastFieldEnd =
    offsetof(RawTracepointOpenAttr, prog_fd) + 4;
inline constexpr uint32_t kLinkUpdateLastFieldEnd = sizeof(LinkUpdateAttr);
inline constexpr uint32_t kLinkDetachLastFieldEnd = 4;
inline constexpr uint32_t kLinkGetFdByIdLastFieldEnd = 4;
inline constexpr uint32_t kFlagReplace = 1u << 2;  // BPF_F_REPLACE
inline constexpr uint32_t kRawTracepointNameMax = 128;

// link_create.kprobe_multi (at 16 in the attr) and its limits (Linux 6.1).
struct KprobeMultiAttr {
  uint32_t flags;
  uint32_t cnt;
  uint64_t syms;
  uint64_t addrs;
  uint64_t cookies;
};
inline constexpr uint32_t kAttachTraceKprobeMulti = 42;     // BPF_TRACE_KPROBE_MULTI
inline constexpr uint32_t kKprobeMultiReturn = 1;           // BPF_F_KPROBE_MULTI_RETURN
inline constexpr uint32_t kMaxKprobeMultiCount = 1u << 20;  // MAX_KPROBE_MULTI_CNT
inline constexpr uint32_t kKsymNameLen = 512;               // KSYM_NAME_LEN

// struct bpf_link_info (Linux 6.1: 48 bytes); raw_tracepoint's fields at 16.
struct LinkInfo {
  uint32_t type;
  uint32_t id;
  uint32_t prog_id;
  uint32_t padding;
  uint64_t tp_name;  // raw_tracepoint.tp_name
  uint32_t tp_name_len;
  uint8_t rest[20];
};
static_assert(sizeof(LinkInfo) == 48 && offsetof(LinkInfo, tp_name) == 16);

}  // namespace trace
