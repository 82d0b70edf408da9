// SPDX-License-Identifier: MIT
// The program commands of bpf(2): PROG_LOAD (license, verifier log, fd_array) and PROG_TEST_RUN.
#include "commands.hpp"
#include "ebpf/verifier.hpp"
#include "prog_info.hpp"
#include "rt/new.hpp"
#include "trace/kernel_types.hpp"
#include "verifier_log.hpp"

namespace trace {
namespace {

constexpr uint32_t kPerfMaxTraceSize = 2048;  // PERF_MAX_TRACE_SIZE: a tracepoint ctx's bound
constexpr uint32_t kMaxLogSize = 0xffffffffu >> 2;
constexpr uint32_t kLogLevelMask = 1 | 2 | 4;  // BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2 | BPF_LOG_STATS

bool same_string(const char* a, const char* b) {
  while (*a != 0 && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

// license_is_gpl_compatible.
bool license_is_gpl_compatible(const char* license) {
  const char* const compatible[] = {"GPL",          "GPL v2",       "GPL and additional rights",
                                    "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"};
  for (const char* name : compatible) {
    if (same_string(license, name)) return true;
  }
  return false;
}

constexpr uint32_t kSocketFilter = 1;  // BPF_PROG_TYPE_SOCKET_FILTER

// Program types whose verifier context Sonde knows, and socket filters, which loaders load to
// probe for features (libbpf: names, global data, PROG_BIND_MAP). GAP: XDP and cgroup programs
// are EINVAL, as a kernel built without them answers.
bool supported_type(uint32_t type) {
  if (type == kSocketFilter) return true;
  switch (static_cast<ebpf::ProgramType>(type)) {
    case ebpf::ProgramType::kKprobe:
    case ebpf::ProgramType::kTracepoint:
    case ebpf::ProgramType::kPerfEvent:
    case ebpf::ProgramType::kRawTracepoint:
    case ebpf::ProgramType::kTracing: return true;
    default: return false;
  }
}

bool is_map_reference(const ebpf::Insn& insn) {
  return insn.opcode == ebpf::kOpLdImm64 &&
         (insn.src == ebpf::kPseudoMapFd || insn.src == ebpf::kPseudoMapValue);
}

struct LoadState {
  Session* session;
};

const ebpf::Map* verifier_map(void* state, int32_t fd) {
  auto handle = static_cast<LoadState*>(state)->session->lookup_kind(fd, ObjectKind::kMap);
  return handle.ok() ? static_cast<MapObject*>(handle->object)->map : nullptr;
}

ebpf::Map* engine_map(void* state, int32_t fd) {
  auto handle = static_cast<LoadState*>(state)->session->lookup_kind(fd, ObjectKind::kMap);
  return handle.ok() ? static_cast<MapObject*>(handle->object)->map : nullptr;
}

// fd_array: as many slots as the highest BPF_PSEUDO_MAP_IDX index needs, read from the caller.
rt::Result<void> resolve_fd_array(BpfCall& call, ebpf::Insn* insns, uint32_t count) {
  const ProgLoadAttr& attr = call.attr.prog_load;
  uint32_t slots = 0;
  for (uint32_t pc = 0; pc + 1 < count; ++pc) {
    if (insns[pc].opcode != ebpf::kOpLdImm64) continue;
    if (insns[pc].src == ebpf::kPseudoMapIdx || insns[pc].src == ebpf::kPseudoMapIdxValue) {
      uint32_t index = static_cast<uint32_t>(insns[pc].imm);
      if (index >= 0x10000000u) return rt::err(rt::kEFAULT);  // no caller array is that long
      if (index + 1 > slots) slots = index + 1;
    }
    ++pc;
  }
  if (slots == 0) return {};
  if (attr.fd_array == 0) return ebpf::resolve_fd_array(insns, count, nullptr, 0);
  ScratchBuffer fds(call.session.objects().allocator(), uint64_t{slots} * sizeof(int32_t));
  if (!fds.ok()) return rt::err(rt::kENOMEM);
  TRY(call.memory.read(fds.data(), attr.fd_array, uint64_t{slots} * sizeof(int32_t)));
  return ebpf::resolve_fd_array(insns, count, reinterpret_cast<const int32_t*>(fds.data()), slots);
}

// The maps a verified program references, each once, in order of first use, each holding a
// reference for the program's lifetime; the xlated copy names each by its id, as Linux's
// bpf_insn_prepare_dump does.
rt::Result<void> collect_used_maps(Session& session, ProgramObject& program) {
  rt::Allocator& allocator = session.objects().allocator();
  uint32_t references = 0;
  for (uint32_t pc = 0; pc + 1 < program.insn_count; ++pc) {
    if (is_map_reference(program.xlated[pc])) ++references, ++pc;
  }
  if (references == 0) return {};
  auto* maps = static_cast<MapObject**>(
      allocator.allocate(references * sizeof(MapObject*), alignof(MapObject*)));
  if (maps == nullptr) return rt::err(rt::kENOMEM);
  uint32_t used = 0;
  for (uint32_t pc = 0; pc + 1 < program.insn_count; ++pc) {
    if (!is_map_reference(program.xlated[pc])) continue;
    Handle handle = TRY(session.lookup_kind(program.xlated[pc].imm, ObjectKind::kMap));
    auto* map = static_cast<MapObject*>(handle.object);
    bool seen = false;
    for (uint32_t i = 0; i < used && !seen; ++i) seen = maps[i] == map;
    if (!seen) {
      session.objects().acquire(map);
      maps[used++] = map;
    }
    program.xlated[pc].imm = static_cast<int32_t>(map->id);
    ++pc;
  }
  // Give back the slots duplicates did not need, so the array's size is its count.
  auto* exact =
      static_cast<MapObject**>(allocator.allocate(used * sizeof(MapObject*), alignof(MapObject*)));
  if (exact == nullptr) {
    for (uint32_t i = 0; i < used; ++i) session.objects().release(maps[i]);
    allocator.deallocate(maps, references * sizeof(MapObject*));
    return rt::err(rt::kENOMEM);
  }
  for (uint32_t i = 0; i < used; ++i) exact[i] = maps[i];
  allocator.deallocate(maps, references * sizeof(MapObject*));
  program.used_maps = exact;
  program.used_map_count = used;
  return {};
}

// A log longer than the reply can carry back (ForwardedMemory's write room, kept for two writes
// of it and the attr fields) keeps its end, where the verifier says why it stopped, after a
// line saying so. GAP: Linux writes the whole log (up to log_size) into the caller's buffer.
void cut_log_to_room(char* log, uint32_t& length, uint64_t room) {
  constexpr uint64_t kReserve = 4096;
  static constexpr char kNote[] = "(verifier log cut: its last bytes follow)\n";
  constexpr uint32_t kNoteLength = sizeof(kNote) - 1;
  uint64_t limit = room > kReserve ? (room - kReserve) / 2 : 0;
  if (uint64_t{length} + 1 <= limit) return;
  if (limit <= kNoteLength + 1) {
    length = 0;
    log[0] = 0;
    return;
  }
  auto keep = static_cast<uint32_t>(limit - kNoteLength - 1);
  __builtin_memmove(log + kNoteLength, log + length - keep, keep);
  __builtin_memcpy(log, kNote, kNoteLength);
  length = kNoteLength + keep;
  log[length] = 0;
}

// Ends the verifier log (`length` bytes kept of `size`) with why the JIT left the program to
// the interpreter, as much of the line as fits (the load still succeeds: the log is not
// "full" for it). Returns the line's whole length, for log_true_size.
uint32_t append_jit_fallback(char* log, uint32_t size, uint32_t& length, const char* reason) {
  const char* const parts[] = {"JIT: not compiled (", reason != nullptr ? reason : "unknown",
                               "); the program runs in the interpreter\n"};
  uint32_t line = 0;
  for (const char* part : parts) {
    for (; *part != 0; ++part, ++line) {
      if (length + 1 < size) log[length++] = *part;
    }
  }
  log[length] = 0;
  return line;
}

}  // namespace

// bpf_prog_load.
rt::Result<int64_t> prog_load(BpfCall& call) {
  const ProgLoadAttr& attr = call.attr.prog_load;
  // CHECK_ATTR: log_true_size is the last field, so every byte of the attr may be used.
  if (attr.prog_flags & ~kProgLoadFlags) return rt::err(rt::kEINVAL);
  char license[kMaxLicenseLen] = {};
  if (!call.memory.read_string(license, attr.license, kMaxLicenseLen - 1).ok())
    return rt::err(rt::kEFAULT);
  license[kMaxLicenseLen - 1] = 0;
  if (attr.insn_cnt == 0 || attr.insn_cnt > ebpf::kMaxProgramInsns) return rt::err(rt::kE2BIG);
  // bpf_prog_load_check_attach: a BTF attach target is for tracing programs, in the kernel's
  // BTF. attach_prog_fd (attach_btf_obj_fd, the same field) names a program to attach to, or
  // when it is none a BTF object: the kernel's is the one attach_btf_id is read in anyway
  // (bpftrace passes it), another BTF is ENOTSUPP as on Linux, any other fd EINVAL. GAP:
  // programs as targets (freplace, fentry on BPF programs) are EINVAL.
  if (attr.attach_prog_fd != 0) {
    auto target = call.session.lookup(static_cast<int32_t>(attr.attach_prog_fd));
    if (!target.ok() || target.value().object->kind != ObjectKind::kBtf) {
      return rt::err(rt::kEINVAL);
    }
    if (target.value().object != call.session.objects().kernel_btf()) {
      return rt::err(rt::kENOTSUPP);
    }
  }
  if (attr.attach_btf_id > kBtfMaxType) return rt::err(rt::kEINVAL);
  if (attr.attach_btf_id != 0 &&
      (attr.prog_type != static_cast<uint32_t>(ebpf::ProgramType::kTracing) ||
       call.session.objects().kernel_btf() == nullptr)) {
    return rt::err(rt::kEINVAL);
  }

  ObjectTable& objects = call.session.objects();
  rt::Allocator& allocator = objects.allocator();
  void* memory = allocator.allocate(sizeof(ProgramObject), alignof(ProgramObject));
  if (memory == nullptr) return rt::err(rt::kENOMEM);
  auto* program = new (memory) ProgramObject();
  program->kind = ObjectKind::kProgram;
  program->insn_count = attr.insn_cnt;
  auto fail = [&](rt::Error error) -> rt::Result<int64_t> {
    destroy_program(objects, program);
    return error;
  };
  uint64_t insn_bytes = uint64_t{attr.insn_cnt} * sizeof(ebpf::Insn);
  program->insns = static_cast<ebpf::Insn*>(allocator.allocate(insn_bytes, alignof(ebpf::Insn)));
  program->xlated = static_cast<ebpf::Insn*>(allocator.allocate(insn_bytes, alignof(ebpf::Insn)));
  if (program->insns == nullptr || program->xlated == nullptr) return fail(rt::err(rt::kENOMEM));
  if (!call.memory.read(program->insns, attr.insns, insn_bytes).ok())
    return fail(rt::err(rt::kEFAULT));
  if (!supported_type(attr.prog_type))
    return fail(rt::err(rt::kEINVAL, "program type not supported"));
  program->type = static_cast<ebpf::ProgramType>(attr.prog_type);
  program->expected_attach_type = attr.expected_attach_type;
  program->gpl_compatible = license_is_gpl_compatible(license);
  program->load_time = objects.environment().boot_ns();
  if (auto named = copy_object_name(program->name, attr.prog_name); !named.ok())
    return fail(named.error());

  // bpf_check: the log attributes are all or nothing.
  bool logging = attr.log_level != 0 || attr.log_buf != 0 || attr.log_size != 0;
  if (logging &&
      (attr.log_size < ebpf::kMinLogSize || attr.log_size > kMaxLogSize || attr.log_level == 0 ||
       attr.log_buf == 0 || (attr.log_level & ~kLogLevelMask) != 0)) {
    return fail(rt::err(rt::kEINVAL));
  }
  ScratchBuffer log(allocator, logging ? attr.log_size : 0);
  if (!log.ok()) return fail(rt::err(rt::kENOMEM));
  // check_btf_info, before the verifier: its messages start the log.
  VerifierLog btf_log(reinterpret_cast<char*>(log.data()), logging ? attr.log_size : 0,
                      attr.log_level);
  if (auto checked = check_program_btf(call, *program, btf_log); !checked.ok()) {
    if (logging && !call.memory.write(attr.log_buf, log.data(), btf_log.used() + 1).ok())
      return fail(rt::err(rt::kEFAULT));
    if (call.size >= offsetof(ProgLoadAttr, log_true_size) + sizeof(uint32_t) &&
        !write_attr_field(call, &attr.log_true_size, btf_log.true_size()).ok()) {
      return fail(rt::err(rt::kEFAULT));
    }
    return fail(checked.error());
  }
  // check_attach_btf_id: a tracing program names its target, whose arguments are its context.
  BtfObject* kernel_btf = objects.kernel_btf();
  alignas(BtfKernelTypes) uint8_t types_place[sizeof(BtfKernelTypes)];
  BtfKernelTypes* types =
      kernel_btf != nullptr ? new (types_place) BtfKernelTypes(kernel_btf->btf) : nullptr;
  TracingTarget target;
  if (program->type == ebpf::ProgramType::kTracing) {
    auto resolved =
        types != nullptr
            ? types->resolve_target(attr.attach_btf_id, attr.expected_attach_type, btf_log)
            : rt::Result<TracingTarget>(rt::err(rt::kEINVAL, "no kernel BTF"));
    if (!resolved.ok()) {
      if (logging && !call.memory.write(attr.log_buf, log.data(), btf_log.used() + 1).ok())
        return fail(rt::err(rt::kEFAULT));
      return fail(resolved.error());
    }
    target = resolved.value();
    program->attach_btf_id = attr.attach_btf_id;
    program->attach_name = target.name;
    program->attach_args = target.function_args;
  }
  compute_tag(program->insns, program->insn_count, program->tag);
  if (auto resolved = resolve_fd_array(call, program->insns, program->insn_count); !resolved.ok()) {
    return fail(resolved.error());
  }

  // The map each helper call's map argument held (the verifier fills it): the JIT inlines array
  // lookups and calls other maps' lookups directly from it. Needed only while compiling.
  uint64_t call_map_bytes = objects.executable_memory() != nullptr
                                ? uint64_t{program->insn_count} * sizeof(ebpf::CallSiteMap)
                                : 0;
  ScratchBuffer call_maps(allocator, call_map_bytes);
  if (!call_maps.ok()) return fail(rt::err(rt::kENOMEM));
  // Which loads go through BTF-typed pointers (run as BPF_PROBE_MEM).
  ScratchBuffer facts(allocator, program->insn_count);
  if (!facts.ok()) return fail(rt::err(rt::kENOMEM));
  LoadState state{&call.session};
  ebpf::VerifierOptions options;
  // GAP: no __sk_buff context yet: a socket filter verifies with a context it cannot read
  // (what feature probes need) and the tracing types' helpers.
  options.type = attr.prog_type == kSocketFilter ? ebpf::ProgramType::kUnspec : program->type;
  options.tracepoint_record_size = kPerfMaxTraceSize;
  options.resolve_map = verifier_map;
  options.resolve_state = &state;
  options.log = reinterpret_cast<char*>(log.data());
  options.log_size = logging ? attr.log_size : 0;
  options.log_level = attr.log_level;
  options.allocator = &allocator;
  options.call_maps = reinterpret_cast<ebpf::CallSiteMap*>(call_maps.data());
  options.insn_facts = facts.data();
  options.kernel_types = types;
  if (program->type == ebpf::ProgramType::kTracing) {
    options.attach_name = target.name;
    options.context_args = target.context_args;
    options.trampoline = attr.expected_attach_type != kAttachTraceRawTp;
    for (uint32_t i = 0; i < target.context_args; ++i)
      options.context_arg_types[i] = target.arg_types[i];
  }
  ebpf::VerifierResult verdict = ebpf::verify(program->insns, program->insn_count, options);
  uint32_t log_length = 0;  // bytes of the log kept, without its NUL
  if (logging) {
    while (log_length + 1 < attr.log_size && log.data()[log_length] != 0) ++log_length;
    cut_log_to_room(reinterpret_cast<char*>(log.data()), log_length, call.memory.write_room());
    if (!call.memory.write(attr.log_buf, log.data(), log_length + 1).ok())
      return fail(rt::err(rt::kEFAULT));
  }
  // Linux 6.4's log_true_size, for callers whose attr reaches it.
  bool reports_true_size = call.size >= offsetof(ProgLoadAttr, log_true_size) + sizeof(uint32_t);
  if (reports_true_size) {
    uint32_t true_size = logging ? verdict.log_true_size : 0;
    if (!write_attr_field(call, &attr.log_true_size, true_size).ok())
      return fail(rt::err(rt::kEFAULT));
  }
  if (verdict.error != 0) return fail(rt::err(-verdict.error, "the verifier refused the program"));
  program->verified_insns = verdict.instructions_processed;

  // The xlated copy shows plain loads (as Linux's bpf_insn_prepare_dump); the engines get
  // BPF_PROBE_MEM where the verifier found a BTF-typed pointer.
  for (uint32_t i = 0; i < program->insn_count; ++i) {
    program->xlated[i] = program->insns[i];
    if ((facts.data()[i] & ebpf::kFactProbeLoad) != 0) {
      uint8_t opcode = program->insns[i].opcode;
      program->insns[i].opcode = static_cast<uint8_t>(ebpf::insn_class(opcode) |
                                                      ebpf::op_size(opcode) | ebpf::kModeProbeMem);
    }
  }
  if (auto used = collect_used_maps(call.session, *program); !used.ok()) return fail(used.error());
  ebpf::LoadResolver resolver;
  resolver.map_by_fd = engine_map;
  resolver.state = &state;
  if (auto prepared = ebpf::prepare_for_execution(program->insns, program->insn_count, resolver);
      !prepared.ok()) {
    return fail(prepared.error());
  }
  program->program.insns = program->insns;
  program->program.insn_count = program->insn_count;
  program->program.type =
      attr.prog_type == kSocketFilter ? ebpf::ProgramType::kUnspec : program->type;
  program->program.helpers = objects.helpers();
  program->program.helper_count = ebpf::kMaxHelperId;
  program->program.verified = true;
  program->program.max_stack_depth = verdict.max_stack_depth;
  // The JIT by default where the server has executable memory; the interpreter otherwise,
  // and for a program the JIT refuses: the reason is kept and ends the caller's log.
  if (ebpf::ExecutableMemory* executable = objects.executable_memory(); executable != nullptr) {
    program->program.call_maps = reinterpret_cast<const ebpf::CallSiteMap*>(call_maps.data());
    auto compiled = ebpf::jit_compile(program->program, *executable, objects.allocator());
    program->program.call_maps = nullptr;  // freed with `call_maps`; the code has what it needs
    if (compiled.ok()) {
      program->jit = static_cast<ebpf::JitProgram&&>(compiled.value());
      program->jit.install(program->program);
    } else {
      program->jit_failure = compiled.error().message;
      if (logging) {
        uint32_t line = append_jit_fallback(reinterpret_cast<char*>(log.data()), attr.log_size,
                                            log_length, program->jit_failure);
        if (!call.memory.write(attr.log_buf, log.data(), log_length + 1).ok())
          return fail(rt::err(rt::kEFAULT));
        if (reports_true_size &&
            !write_attr_field(call, &attr.log_true_size, verdict.log_true_size + line).ok()) {
          return fail(rt::err(rt::kEFAULT));
        }
      }
    }
  }
  // bpf_check_tail_call, after the JIT as in bpf_prog_select_runtime: every program array the
  // program uses must take its type (the first fixes it, and whether it was compiled).
  for (uint32_t i = 0; i < program->used_map_count; ++i) {
    MapObject* map = program->used_maps[i];
    if (map->map->type() != ebpf::MapType::kProgArray) continue;
    if (auto claimed = claim_program_array(*map, *program); !claimed.ok())
      return fail(claimed.error());
  }
  if (auto added = objects.add(program); !added.ok()) return fail(added.error());
  return TRY(call.session.open(program, kCanRead | kCanWrite));
}

// bpf_prog_bind_map: the map joins the program's used maps (once), held while the program lives.
rt::Result<int64_t> prog_bind_map(BpfCall& call) {
  const ProgBindMapAttr& attr = call.attr.prog_bind_map;
  if (!attr_tail_is_zero(call.attr, kProgBindMapLastFieldEnd)) return rt::err(rt::kEINVAL);
  if (attr.flags != 0) return rt::err(rt::kEINVAL);
  Handle program_handle =
      TRY(call.session.lookup_kind(static_cast<int32_t>(attr.prog_fd), ObjectKind::kProgram));
  Handle map_handle =
      TRY(call.session.lookup_kind(static_cast<int32_t>(attr.map_fd), ObjectKind::kMap));
  auto* program = static_cast<ProgramObject*>(program_handle.object);
  auto* map = static_cast<MapObject*>(map_handle.object);
  for (uint32_t i = 0; i < program->used_map_count; ++i) {
    if (program->used_maps[i] == map) return 0;
  }
  rt::Allocator& allocator = call.session.objects().allocator();
  uint32_t count = program->used_map_count;
  auto* grown = static_cast<MapObject**>(
      allocator.allocate((count + 1) * sizeof(MapObject*), alignof(MapObject*)));
  if (grown == nullptr) return rt::err(rt::kENOMEM);
  for (uint32_t i = 0; i < count; ++i) grown[i] = program->used_maps[i];
  grown[count] = map;
  call.session.objects().acquire(map);
  if (program->used_maps != nullptr)
    allocator.deallocate(program->used_maps, count * sizeof(MapObject*));
  program->used_maps = grown;
  program->used_map_count = count + 1;
  return 0;
}

// bpf_prog_test_run: raw tracepoint programs run on the caller's arguments (Linux's
// bpf_prog_test_run_raw_tp); the other supported types have no test_run in Linux 6.1.
rt::Result<int64_t> prog_test_run(BpfCall& call) {
  const TestRunAttr& attr = call.attr.test;
  if (!attr_tail_is_zero(call.attr, kTestRunLastFieldEnd)) return rt::err(rt::kEINVAL);
  if ((attr.ctx_size_in != 0) != (attr.ctx_in != 0)) return rt::err(rt::kEINVAL);
  if ((attr.ctx_size_out != 0) != (attr.ctx_out != 0)) return rt::err(rt::kEINVAL);
  Handle handle =
      TRY(call.session.lookup_kind(static_cast<int32_t>(attr.prog_fd), ObjectKind::kProgram));
  auto* program = static_cast<ProgramObject*>(handle.object);
  if (program->type != ebpf::ProgramType::kRawTracepoint) return rt::err(rt::kENOTSUPP);
  if (attr.data_in != 0 || attr.data_out != 0 || attr.ctx_out != 0 || attr.duration != 0 ||
      attr.repeat != 0 || attr.batch_size != 0) {
    return rt::err(rt::kEINVAL);
  }
  // GAP: Linux also refuses a ctx_size_in below the largest context offset the program reads.
  uint64_t arguments[ebpf::kRawTracepointArgs] = {};
  if (attr.ctx_size_in > sizeof(arguments)) return rt::err(rt::kEINVAL);
  if ((attr.flags & kTestRunOnCpu) == 0 && attr.cpu != 0) return rt::err(rt::kEINVAL);
  if (attr.ctx_size_in != 0) TRY(call.memory.read(arguments, attr.ctx_in, attr.ctx_size_in));
  ebpf::Environment& environment = call.session.objects().environment();
  if ((attr.flags & kTestRunOnCpu) != 0 && attr.cpu != environment.current_cpu() &&
      attr.cpu >= environment.possible_cpus()) {
    return rt::err(rt::kENXIO);
  }
  // Linux's bpf_prog_test_run_raw_tp sends a run on another CPU there (an IPI).
  // GAP: the run keeps the caller's task; Linux's sees whatever task that CPU was running.
  ObjectTable& objects = call.session.objects();
  uint32_t retval = static_cast<uint32_t>((attr.flags & kTestRunOnCpu) != 0
                                              ? objects.run_on_cpu(*program, arguments, attr.cpu)
                                              : objects.run(*program, arguments, RunContext{}));
  TRY(write_attr_field(call, &attr.retval, retval));
  return 0;
}

}  // namespace trace
