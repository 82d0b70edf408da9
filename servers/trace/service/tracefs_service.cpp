// SPDX-License-Identifier: MIT
// TraceService's tracefs methods over the core's Tracefs, and bpf_trace_printk into it.
#include "ebpf/helper_ids.hpp"
#include "ebpf/isa.hpp"
#include "rt/errno.hpp"
#include "service.hpp"
#include "trace/objects.hpp"

namespace trace {

namespace {

bool calls_trace_printk(const ProgramObject& program) {
  const ebpf::Insn* insns = program.xlated != nullptr ? program.xlated : program.insns;
  for (uint32_t i = 0; i < program.insn_count; ++i) {
    const ebpf::Insn& insn = insns[i];
    if (insn.opcode != (ebpf::kClassJmp | ebpf::kJmpCall) || insn.src != ebpf::kCallHelper)
      continue;
    if (insn.imm == ebpf::kHelperTracePrintk || insn.imm == ebpf::kHelperTraceVprintk) return true;
  }
  return false;
}

}  // namespace

long record_trace_printk(Tracefs& tracefs, TaskEnvironment& environment, const char* message,
                         uint32_t length, uint8_t preempt_count) {
  TraceContext context;
  context.timestamp_ns = environment.boot_ns();
  context.cpu = environment.current_cpu();
  context.pid = environment.pid();
  const char* comm = environment.comm();
  for (size_t i = 0; i + 1 < kTaskCommLen && comm[i] != 0; ++i) context.comm[i] = comm[i];
  context.preempt_count = preempt_count;
  uint32_t n = 0;
  while (n < length && message[n] != 0) ++n;  // the helper's text ends at its NUL
  (void)tracefs.record_printk(context, message, n);
  return 0;
}

void Service::note_program_loaded(int32_t handle) {
  auto found = session_->lookup_handle(handle);
  if (!found.ok() || found.value().object->kind != ObjectKind::kProgram) return;
  if (calls_trace_printk(*static_cast<const ProgramObject*>(found.value().object))) {
    tracefs_.enable_printk_event();
  }
}

namespace {

bool is_path(const char* path, size_t length, const char* name) {
  size_t i = 0;
  while (i < length && name[i] != 0 && path[i] == name[i]) ++i;
  return i == length && name[i] == 0;
}

constexpr char kKprobesDirectory[] = "@debugfs/kprobes";
constexpr char kKprobesList[] = "@debugfs/kprobes/list";
constexpr char kKprobesEnabled[] = "@debugfs/kprobes/enabled";
constexpr char kKprobesBlacklist[] = "@debugfs/kprobes/blacklist";
constexpr char kStatsSysctl[] = "@sysctl/kernel/bpf_stats_enabled";

}  // namespace

rt::Result<void> Service::render_other(const char* path, size_t length, TextBuffer& out) {
  if (is_path(path, length, kKprobesList)) {
    if (kprobe_listing_ != nullptr) kprobe_listing_->list_kprobes(out);
  } else if (is_path(path, length, kKprobesBlacklist)) {
    if (kprobe_listing_ != nullptr) kprobe_listing_->list_blacklist(out);
  } else if (is_path(path, length, kKprobesEnabled)) {
    out.append("1\n");  // kprobes_all_disarmed is never set: GAP, writes are refused
  } else if (is_path(path, length, kStatsSysctl)) {
    out.append_unsigned(static_cast<uint64_t>(session_->objects().stats_sysctl()), 10);
    out.append_char('\n');
  } else if (is_path(path, length, kKprobesDirectory)) {
    return rt::err(rt::kEISDIR);
  } else {
    return rt::err(rt::kENOENT);
  }
  if (!out.ok()) return rt::err(rt::kENOMEM);
  return {};
}

// bpf_stats_handler over proc_dointvec_minmax: an integer, 0 or 1 (EINVAL otherwise); a write
// past the start changes nothing (sysctl_writes_strict). kprobes/enabled takes a boolean as
// kstrtobool; "1" changes nothing (every kprobe is armed) and "0" is refused (GAP: no global
// disarm). kprobes/list has no write (EINVAL).
rt::Result<uint32_t> Service::write_other(const char* path, size_t length, uint64_t offset,
                                          const char* data, size_t size) {
  if (is_path(path, length, kKprobesDirectory)) return rt::err(rt::kEISDIR);
  if (is_path(path, length, kKprobesEnabled)) {
    char first = size > 0 ? data[0] : 0;
    if (first == '1' || first == 'y' || first == 'Y') return static_cast<uint32_t>(size);
    return rt::err(rt::kEINVAL, "kprobes cannot be disarmed all at once here");
  }
  if (!is_path(path, length, kStatsSysctl)) {
    return rt::err(is_path(path, length, kKprobesList) || is_path(path, length, kKprobesBlacklist)
                       ? rt::kEINVAL
                       : rt::kENOENT);
  }
  if (offset != 0) return static_cast<uint32_t>(size);
  size_t at = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n'; };
  while (at < size && space(data[at])) ++at;
  bool negative = at < size && data[at] == '-';
  if (negative) ++at;
  int64_t value = 0;
  size_t digits = 0;
  for (; at < size && data[at] >= '0' && data[at] <= '9' && digits < 12; ++at, ++digits)
    value = value * 10 + (data[at] - '0');
  while (at < size && space(data[at])) ++at;
  if (digits == 0 || at != size) return rt::err(rt::kEINVAL);
  TRY(session_->objects().set_stats_sysctl(negative ? -value : value));
  return static_cast<uint32_t>(size);
}

rt::Result<bool> Service::list_other(const char* path, size_t length, TextBuffer& names) {
  if (is_path(path, length, kKprobesDirectory)) {
    names.append("blacklist\nenabled\nlist\n");
    return true;
  }
  if (is_path(path, length, kKprobesList) || is_path(path, length, kKprobesEnabled) ||
      is_path(path, length, kKprobesBlacklist) || is_path(path, length, kStatsSysctl)) {
    return false;
  }
  return rt::err(rt::kENOENT);
}

rt::Result<void> Service::tracefsRead(
    sonde::proto::TraceService::TracefsReadParams::Reader params,
    sonde::proto::TraceService::TracefsReadResults::Builder results) {
  auto path = TRY(params.getPath());
  uint32_t max_bytes = params.getMaxBytes();
  if (max_bytes > kMaxTracefsRead) max_bytes = kMaxTracefsRead;
  TextBuffer out(session_->objects().allocator());
  if (path.size > 0 && path.chars[0] == kOtherFilesPrefix) {
    // Rendered whole, then the part from the offset (a sysctl reads as empty past its start).
    TextBuffer whole(session_->objects().allocator());
    TRY(render_other(path.chars, path.size, whole));
    uint64_t offset = params.getOffset();
    bool sysctl = is_path(path.chars, path.size, kStatsSysctl);
    if (offset < whole.size() && !(sysctl && offset != 0)) {
      uint64_t n = whole.size() - offset < max_bytes ? whole.size() - offset : max_bytes;
      out.append(whole.data() + offset, n);
    }
    if (!out.ok()) return rt::err(rt::kENOMEM);
    results.setData(out.data(), out.size());
    results.setEndOfFile(out.size() == 0);
    results.setWouldBlock(false);
    return {};
  }
  tracefs_.set_time(environment_.boot_ns());
  TracefsRead read = TRY(tracefs_.read(path.chars, path.size, params.getOffset(), max_bytes,
                                       params.getBlocking(), out));
  results.setData(out.data(), out.size());
  results.setEndOfFile(read.end_of_file);
  results.setWouldBlock(read.would_block);
  if (read.would_block) session_->objects().reader_wakeups().reader_waits();
  return {};
}

rt::Result<void> Service::tracefsWrite(
    sonde::proto::TraceService::TracefsWriteParams::Reader params,
    sonde::proto::TraceService::TracefsWriteResults::Builder results) {
  auto path = TRY(params.getPath());
  auto data = TRY(params.getData());
  if (path.size > 0 && path.chars[0] == kOtherFilesPrefix) {
    results.setWritten(TRY(write_other(path.chars, path.size, params.getOffset(),
                                       reinterpret_cast<const char*>(data.bytes), data.size)));
    return {};
  }
  tracefs_.set_time(environment_.boot_ns());
  TraceContext writer;  // trace_marker's line
  writer.timestamp_ns = environment_.boot_ns();
  environment_.serving_task(writer.pid, writer.comm, writer.cpu);
  tracefs_.set_writer(writer);
  uint32_t written =
      TRY(tracefs_.write(path.chars, path.size, params.getOffset(),
                         reinterpret_cast<const char*>(data.bytes), data.size, params.getAppend()));
  results.setWritten(written);
  return {};
}

rt::Result<void> Service::tracefsList(
    sonde::proto::TraceService::TracefsListParams::Reader params,
    sonde::proto::TraceService::TracefsListResults::Builder results) {
  auto path = TRY(params.getPath());
  rt::Allocator& allocator = session_->objects().allocator();
  TextBuffer names(allocator);
  if (path.size > 0 && path.chars[0] == kOtherFilesPrefix) {
    if (!TRY(list_other(path.chars, path.size, names))) return rt::err(rt::kENOTDIR);
    if (!names.ok()) return rt::err(rt::kENOMEM);
    results.setNames(names.data(), names.size());  // every name there is a file
    return {};
  }
  TRY(tracefs_.list(path.chars, path.size, names));
  // Each name, with '/' after a directory's: "PATH/NAME" asked of the facade.
  TextBuffer listing(allocator);
  TextBuffer child(allocator);
  const char* text = names.data();
  for (size_t at = 0; at < names.size();) {
    size_t end = at;
    while (end < names.size() && text[end] != '\n') ++end;
    if (end > at) {
      child.clear();
      child.append(path.chars, path.size);
      child.append_char('/');
      child.append(text + at, end - at);
      if (!child.ok()) return rt::err(rt::kENOMEM);
      auto directory = tracefs_.is_directory(child.data(), child.size());
      listing.append(text + at, end - at);
      if (directory.ok() && directory.value()) listing.append_char('/');
      listing.append_char('\n');
    }
    at = end + 1;
  }
  if (!listing.ok()) return rt::err(rt::kENOMEM);
  results.setNames(listing.data(), listing.size());
  return {};
}

}  // namespace trace
