// SPDX-License-Identifier: MIT
// TraceService: bpf() tries over ForwardedMemory, close of handles.
#include "service.hpp"

#include "rt/errno.hpp"
#include "trace/bpf_command.hpp"
#include "trace/object_mmap.hpp"
#include "trace/perf_events.hpp"

namespace trace {

namespace {

// Commands whose value is a new handle (a try that missed memory must give it back).
bool returns_handle(int command) {
  switch (command) {
    case 0:   // BPF_MAP_CREATE
    case 5:   // BPF_PROG_LOAD
    case 7:   // BPF_OBJ_GET
    case 13:  // BPF_PROG_GET_FD_BY_ID
    case 14:  // BPF_MAP_GET_FD_BY_ID
    case 17:  // BPF_RAW_TRACEPOINT_OPEN
    case 18:  // BPF_BTF_LOAD
    case 19:  // BPF_BTF_GET_FD_BY_ID
    case 28:  // BPF_LINK_CREATE
    case 30:  // BPF_LINK_GET_FD_BY_ID
    case 32:  // BPF_ENABLE_STATS
    case 33:  // BPF_ITER_CREATE
      return true;
    default: return false;
  }
}

// Clears the per-call view of the session whichever way a try ends.
class CallerScope {
 public:
  CallerScope(Session& session, const BpfServiceCall& call) : session_(session) {
    session_.set_privileged(call.privileged);
    session_.set_descriptors(call.descriptors, call.descriptor_count);
  }
  ~CallerScope() {
    session_.set_descriptors(nullptr, 0);
    session_.set_privileged(false);
  }

 private:
  Session& session_;
};

}  // namespace

BpfServiceOutcome serve_bpf(Session& session, const BpfServiceCall& call, uint8_t* write_log,
                            uint64_t write_capacity, uint64_t& log_size) {
  CallerScope scope(session, call);
  ForwardedMemory memory(call.ranges, call.range_count, call.attr_address, write_log,
                         write_capacity);
  rt::Result<int64_t> result = rt::err(rt::kEINVAL);
  bool makes_handle = returns_handle(call.command);
  switch (call.operation) {
    case sonde::proto::LinuxCall::kBpf:
      result = bpf_command(session, call.command, call.attr, call.attr_size, memory);
      break;
    case sonde::proto::LinuxCall::kPerfEventOpen: {
      makes_handle = true;
      auto opened = perf_event_open(session, memory, call.attr_address,
                                    static_cast<int32_t>(call.arguments[0]),
                                    static_cast<int32_t>(call.arguments[1]),
                                    static_cast<int32_t>(call.arguments[2]), call.arguments[3]);
      result = opened.ok() ? rt::Result<int64_t>(opened.value()) : opened.error();
      break;
    }
    case sonde::proto::LinuxCall::kPerfEventIoctl:
      makes_handle = false;
      result = perf_event_ioctl(session, memory, static_cast<int32_t>(call.arguments[0]),
                                static_cast<uint32_t>(call.arguments[1]), call.arguments[2]);
      break;
    case sonde::proto::LinuxCall::kPerfEventRead:
      makes_handle = false;
      result = perf_event_read(session, memory, static_cast<int32_t>(call.arguments[0]),
                               call.arguments[1], call.arguments[2]);
      break;
    case sonde::proto::LinuxCall::kObjectFdinfo:
      makes_handle = false;
      result = object_fdinfo(session, memory, static_cast<int32_t>(call.arguments[0]),
                             call.arguments[1], call.arguments[2]);
      break;
  }
  BpfServiceOutcome outcome;
  if (memory.missed()) {
    if (result.ok() && makes_handle) {
      (void)session.close(static_cast<int32_t>(result.value()));
    }
    log_size = 0;
    outcome.need_memory = true;
    outcome.miss = memory.miss();
    return outcome;
  }
  log_size = memory.log_size();
  if (memory.overflowed()) {
    // GAP: outputs larger than the reply buffer (huge batches, logs) are refused, not split.
    if (result.ok() && makes_handle) (void)session.close(static_cast<int32_t>(result.value()));
    outcome.result = -static_cast<int64_t>(rt::kE2BIG);
    return outcome;
  }
  outcome.result = result.ok() ? result.value() : -static_cast<int64_t>(result.error().code);
  outcome.new_handle = result.ok() && makes_handle;
  return outcome;
}

rt::Result<void> Service::bpf(sonde::proto::TraceService::BpfParams::Reader params,
                              sonde::proto::TraceService::BpfResults::Builder results) {
  auto request = TRY(params.getRequest());
  if (request.getInstance() != instance_) return rt::err(rt::kESTALE, "another instance");
  auto attr = TRY(request.getAttr());
  auto caller = TRY(request.getCaller());
  auto descriptors = TRY(caller.getDescriptors());
  auto memory = TRY(request.getMemory());
  uint32_t expected_attr = request.getAttrSize() < 4096 ? request.getAttrSize() : 4096;
  if (attr.size != expected_attr) return rt::err(rt::kEINVAL, "attr bytes and size disagree");
  if (descriptors.size() > kMaxDescriptors) return rt::err(rt::kEINVAL, "descriptor table");
  if (memory.size() > kMaxForwardedRanges) return rt::err(rt::kE2BIG, "too many memory ranges");

  ForwardedMemory::Range ranges[kMaxForwardedRanges];
  for (uint32_t i = 0; i < memory.size(); ++i) {
    auto range = memory[i];
    auto data = TRY(range.getData());
    if (data.size > range.getLength()) return rt::err(rt::kEINVAL, "range data past its length");
    ranges[i] =
        ForwardedMemory::Range{range.getAddress(), range.getLength(), data.bytes, data.size};
  }
  // The list is read in place (little-endian Int32 elements), one entry per descriptor.
  int32_t table[kMaxDescriptors];
  for (uint32_t i = 0; i < descriptors.size(); ++i) table[i] = descriptors[i];

  bool native = client_ == ClientKind::kNative;
  BpfServiceCall call{static_cast<int>(request.getCommand()),
                      attr.bytes,
                      request.getAttrSize(),
                      request.getAttrAddress(),
                      native || caller.getCapBpf(),
                      native ? nullptr : table,  // a native client's fds are its handles
                      native ? 0 : descriptors.size(),
                      ranges,
                      memory.size()};
  auto arguments = TRY(request.getArguments());
  if (arguments.size() > 4) return rt::err(rt::kEINVAL, "too many arguments");
  auto comm = TRY(caller.getComm());
  if (native) {
    // The fixed identity of a native client (clients.hpp), whatever its caller struct says.
    environment_.set_current(kNativePid, kNativePid, kNativeUid, kNativeUid, kNativeComm,
                             sizeof kNativeComm - 1);
  } else {
    environment_.set_current(caller.getPid(), caller.getTgid(), caller.getUid(), caller.getGid(),
                             comm.chars, comm.size);
  }
  call.operation = request.getOperation();
  for (uint32_t i = 0; i < arguments.size(); ++i) call.arguments[i] = arguments[i];
  uint64_t log_size = 0;
  uint64_t capacity =
      native && write_capacity_ > kNativeWriteCapacity ? kNativeWriteCapacity : write_capacity_;
  BpfServiceOutcome outcome = serve_bpf(*session_, call, write_log_, capacity, log_size);
  auto out = results.initOutcome();
  if (outcome.need_memory) {
    auto need = out.initNeedMemory();
    need.setAddress(outcome.miss.address);
    need.setLength(outcome.miss.length);
    return {};
  }
  if (call.command == 5 && outcome.result > 0) {  // BPF_PROG_LOAD
    note_program_loaded(static_cast<int32_t>(outcome.result));
  }
  auto done = out.initDone();
  done.setResult(outcome.result);
  done.setNewHandle(outcome.new_handle);
  uint32_t count = 0;
  for (uint64_t at = 0; at < log_size; ++count) {
    ForwardedMemory::WriteHeader header;
    __builtin_memcpy(&header, write_log_ + at, sizeof header);
    at += sizeof header + ((header.length + 7) & ~uint64_t{7});
  }
  auto writes = done.initWrites(count);
  uint64_t at = 0;
  for (uint32_t i = 0; i < count; ++i) {
    ForwardedMemory::WriteHeader header;
    __builtin_memcpy(&header, write_log_ + at, sizeof header);
    auto write = writes[i];
    write.setAddress(header.address);
    write.setLength(header.length);
    write.setData(write_log_ + at + sizeof header, header.length);
    at += sizeof header + ((header.length + 7) & ~uint64_t{7});
  }
  return {};
}

rt::Result<void> Service::close(sonde::proto::TraceService::CloseParams::Reader params,
                                sonde::proto::TraceService::CloseResults::Builder) {
  if (params.getInstance() != instance_) return rt::err(rt::kESTALE, "another instance");
  return session_->close(static_cast<int32_t>(params.getHandle()));
}

rt::Result<void> Service::mmapGrant(sonde::proto::TraceService::MmapGrantParams::Reader params,
                                    sonde::proto::TraceService::MmapGrantResults::Builder results) {
  if (params.getInstance() != instance_) return rt::err(rt::kESTALE, "another instance");
  TRY(posix_only());  // the exchange CNode is the POSIX server's
  auto fail = [&](const rt::Error& error) {
    results.setResult(-static_cast<int64_t>(error.code));
    return rt::Result<void>{};
  };
  if (granter_ == nullptr) return fail(rt::Error{rt::kENODEV, "no pages can be shared here"});
  auto mapping =
      mmap_object(*session_, static_cast<int32_t>(params.getHandle()), params.getOffset(),
                  params.getLength(), params.getWritable(), params.getShared());
  if (!mapping.ok()) return fail(mapping.error());
  const ObjectMapping& granted = mapping.value();
  uint64_t first_slot = params.getFirstSlot();
  if (granted.pages > kMaxGrantedPages || first_slot + granted.pages > kMaxGrantedPages) {
    (void)session_->close(granted.handle);
    return fail(rt::Error{rt::kENOMEM, "more pages than one mmap may share"});
  }
  for (uint64_t i = 0; i < granted.pages; ++i) {
    auto slot = static_cast<uint32_t>(first_slot + i);
    if (auto shared = granter_->grant(granted.first_page + i * 4096, slot, granted.writable);
        !shared.ok()) {
      for (uint64_t j = 0; j < i; ++j) granter_->take_back(static_cast<uint32_t>(first_slot + j));
      (void)session_->close(granted.handle);
      return fail(shared.error());
    }
  }
  results.setResult(0);
  results.setMapping(static_cast<uint32_t>(granted.handle));
  results.setPages(static_cast<uint32_t>(granted.pages));
  return {};
}

rt::Result<void> Service::poll(sonde::proto::TraceService::PollParams::Reader params,
                               sonde::proto::TraceService::PollResults::Builder results) {
  int64_t events = poll_handle(params.getHandle(), params.getInstance());
  if (events < 0) return rt::err(static_cast<int>(-events));
  results.setEvents(static_cast<uint32_t>(events));
  return {};
}

int64_t Service::poll_handle(uint32_t handle, uint64_t instance) {
  if (instance != instance_) return -rt::kESTALE;
  auto events = poll_object(*session_, static_cast<int32_t>(handle));
  if (!events.ok()) return -static_cast<int64_t>(events.error().code);
  // Nothing to report: the reader may block now, and the next wakeup is passed on.
  if (events.value() == 0) session_->objects().reader_wakeups().reader_waits();
  return events.value();
}

rt::Result<void> Service::uprobeSites(
    sonde::proto::TraceService::UprobeSitesParams::Reader params,
    sonde::proto::TraceService::UprobeSitesResults::Builder results) {
  TRY(posix_only());
  results.setInstance(instance_);
  if (uprobes_ == nullptr) {
    results.setGeneration(0);
    results.setUnchanged(params.getGeneration() == 0);
    return {};
  }
  uprobes_->sites(params.getGeneration(), results);
  return {};
}

rt::Result<void> Service::uprobePrepare(
    sonde::proto::TraceService::UprobePrepareParams::Reader params,
    sonde::proto::TraceService::UprobePrepareResults::Builder results) {
  TRY(posix_only());
  if (uprobes_ == nullptr) return rt::err(rt::kENOSYS, "no uprobes here");
  auto bytes = TRY(params.getBytes());
  if (bytes.size == 0 || bytes.size > 16) return rt::err(rt::kEINVAL, "1 to 16 bytes");
  results.setResult(
      uprobes_->prepare(bytes.bytes, bytes.size, params.getAddress(), results.initPlan()));
  return {};
}

rt::Result<void> Service::uprobeHit(sonde::proto::TraceService::UprobeHitParams::Reader params,
                                    sonde::proto::TraceService::UprobeHitResults::Builder) {
  if (params.getInstance() != instance_) return rt::err(rt::kESTALE, "another instance");
  TRY(posix_only());
  if (uprobes_ == nullptr) return rt::err(rt::kENOSYS, "no uprobes here");
  auto words = TRY(params.getRegisters());
  auto probes = TRY(params.getProbes());
  constexpr uint32_t kMaxProbes = 16;
  if (words.size() != UprobeBackend::kRegisterWords || probes.size() > kMaxProbes) {
    return rt::err(rt::kEINVAL, "19 register words and at most 16 probes");
  }
  uint64_t registers[UprobeBackend::kRegisterWords];
  for (uint32_t i = 0; i < UprobeBackend::kRegisterWords; ++i) registers[i] = words[i];
  uint32_t ids[kMaxProbes];
  for (uint32_t i = 0; i < probes.size(); ++i) ids[i] = probes[i];
  uprobes_->hit(ids, probes.size(), registers, params.getIsReturn(), params.getFunction());
  return {};
}

void Service::uprobe_hit(uint64_t instance, const uint32_t* probes, uint32_t count,
                         const uint64_t* registers, bool is_return, uint64_t function) {
  if (instance != instance_ || uprobes_ == nullptr) return;
  uprobes_->hit(probes, count, registers, is_return, function);
}

rt::Result<void> Service::crash(sonde::proto::TraceService::CrashParams::Reader params,
                                sonde::proto::TraceService::CrashResults::Builder) {
  TRY(posix_only());  // root of the Linux side only (/proc/sonde/trace-server)
  if (crash_hook_ == nullptr) return rt::err(rt::kENOSYS, "no crash drill here");
  crash_hook_(params.getAtNextHit(), params.getAtNextReturn());
  return {};
}

rt::Result<void> Service::posix_only() const {
  if (client_ == ClientKind::kNative) return rt::err(rt::kEPERM, "the POSIX server's method");
  return {};
}

rt::Result<void> Service::instance(sonde::proto::TraceService::InstanceParams::Reader,
                                   sonde::proto::TraceService::InstanceResults::Builder results) {
  results.setInstance(instance_);
  return {};
}

}  // namespace trace
