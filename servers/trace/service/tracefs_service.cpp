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

rt::Result<void> Service::tracefsRead(
    sonde::proto::TraceService::TracefsReadParams::Reader params,
    sonde::proto::TraceService::TracefsReadResults::Builder results) {
  auto path = TRY(params.getPath());
  uint32_t max_bytes = params.getMaxBytes();
  if (max_bytes > kMaxTracefsRead) max_bytes = kMaxTracefsRead;
  TextBuffer out(session_->objects().allocator());
  tracefs_.set_time(environment_.boot_ns());
  TracefsRead read = TRY(tracefs_.read(path.chars, path.size, params.getOffset(), max_bytes,
                                       params.getBlocking(), out));
  results.setData(out.data(), out.size());
  results.setEndOfFile(read.end_of_file);
  results.setWouldBlock(read.would_block);
  return {};
}

rt::Result<void> Service::tracefsWrite(
    sonde::proto::TraceService::TracefsWriteParams::Reader params,
    sonde::proto::TraceService::TracefsWriteResults::Builder results) {
  auto path = TRY(params.getPath());
  auto data = TRY(params.getData());
  tracefs_.set_time(environment_.boot_ns());
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
