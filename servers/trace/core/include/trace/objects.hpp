// SPDX-License-Identifier: MIT
// The BPF objects the trace server owns (maps, programs, BTF) and the table that names them by id.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ebpf/environment.hpp"
#include "ebpf/isa.hpp"
#include "ebpf/jit.hpp"
#include "ebpf/map.hpp"
#include "ebpf/program.hpp"
#include "ebpf/runtime.hpp"
#include "rt/allocator.hpp"
#include "rt/result.hpp"
#include "trace/bpf_uapi.hpp"
#include "trace/btf.hpp"
#include "trace/forwarding_environment.hpp"
#include "trace/reader_wakeups.hpp"

namespace trace {

// Numbered as proto/common.capnp's ObjectKind.
enum class ObjectKind : uint8_t {
  kNone = 0,
  kProgram = 1,
  kMap = 2,
  kBtf = 3,
  kLink = 4,
  kPerfEvent = 5,
  kStats = 7,  // BPF_ENABLE_STATS's fd ("bpf-stats"): run-time statistics while it is open
};
inline constexpr uint32_t kObjectKinds = 8;

class ProbeTable;  // perf_events.hpp

// What every object has: its kind, its id (Linux's idr id) and how many holders keep it alive
// (handles of any session, programs that use a map).
struct Object {
  ObjectKind kind = ObjectKind::kNone;
  uint32_t id = 0;
  uint32_t references = 0;
};

// A BTF blob: one BTF_LOAD loaded, or the kernel's own (ObjectTable::add_kernel_btf). Maps
// and programs that use it hold a reference.
struct BtfObject : Object {
  Btf btf;
  // Linux's btf->kernel_btf and btf->name, as bpf_btf_info reports them: the kernel's BTF is
  // "vmlinux"; BTF_LOAD's has no name.
  bool kernel_btf = false;
  const char* name = "";
};

struct MapObject : Object {
  ebpf::Map* map = nullptr;
  BtfObject* btf = nullptr;  // with the key and value types MAP_CREATE named in it
  uint32_t btf_key_type_id = 0;
  uint32_t btf_value_type_id = 0;
  // Handles on the map (Linux's usercnt): when the last one goes, a program array drops its
  // programs, which breaks the cycles of programs that tail-call through their own array.
  uint32_t user_references = 0;
  // A program array's owner type: the first program stored or loaded with it fixes it, and
  // whether that program was compiled (fdinfo's owner_jited).
  uint32_t owner_type = 0;
  bool owner_jited = false;
};

// struct bpf_func_info and struct bpf_line_info.
struct FuncInfo {
  uint32_t insn_off;
  uint32_t type_id;
};
struct LineInfo {
  uint32_t insn_off;
  uint32_t file_name_off;
  uint32_t line_off;
  uint32_t line_col;
};

struct ProgramObject : Object {
  ebpf::ProgramType type = ebpf::ProgramType::kUnspec;
  uint32_t expected_attach_type = 0;
  // A tracing program's target in the kernel's BTF (fentry, fexit: a function; tp_btf: a
  // raw tracepoint), its name (the BTF's string) and the function's own arguments.
  uint32_t attach_btf_id = 0;
  const char* attach_name = nullptr;
  uint32_t attach_args = 0;
  char name[kObjNameLen] = {};
  uint8_t tag[kTagSize] = {};
  bool gpl_compatible = false;
  uint64_t load_time = 0;  // boot-time ns, as Linux's ktime_get_boottime_ns
  uint32_t verified_insns = 0;
  uint32_t insn_count = 0;
  ebpf::Insn* insns = nullptr;      // what the engines execute (prepare_for_execution)
  ebpf::Insn* xlated = nullptr;     // what bpf_prog_info shows: map references as map ids
  MapObject** used_maps = nullptr;  // each held by one reference, in order of first use
  uint32_t used_map_count = 0;
  BtfObject* btf = nullptr;  // prog_btf_fd's, when func or line info came with the program
  FuncInfo* func_info = nullptr;
  uint32_t func_info_count = 0;
  LineInfo* line_info = nullptr;
  uint32_t line_info_count = 0;
  ebpf::Program program;
  ebpf::JitProgram jit;  // compiled code when the table has executable memory (else empty)
  // Why the JIT left the program to the interpreter (nullptr: compiled, or no JIT here).
  const char* jit_failure = nullptr;
  // Linux's bpf_prog_stats: runs and their time while statistics are on (BPF_ENABLE_STATS,
  // kernel.bpf_stats_enabled), reported in bpf_prog_info.
  uint64_t run_time_ns = 0;
  uint64_t run_cnt = 0;
};

// What a run tells the helpers besides the context: bpf_get_attach_cookie's cookie and
// bpf_get_func_ip's address (0: the environment's own answer). Two words: every probe hit
// copies it three times.
struct RunContext {
  uint64_t cookie = 0;
  uint64_t function_ip = 0;
};

// Where a CPU-clock sample's tick found the CPU, for the stacks of the perf_event programs run
// on it (ObjectTable::run_on_sample).
struct SampledRegisters {
  uint64_t ip = 0;
  bool in_kernel = false;
};

// The environment the table's objects see (maps ask it for the current CPU, runs read helpers
// through it): the host's, except while a PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU runs on the
// CPU it names, as Linux runs it there, and with the running program's RunContext on top.
class TableEnvironment final : public ForwardingEnvironment {
 public:
  static constexpr uint32_t kNoCpu = ~0u;
  explicit TableEnvironment(ebpf::Environment& host) : ForwardingEnvironment(host) {}
  uint32_t current_cpu() override {
    return run_cpu != kNoCpu ? run_cpu : ForwardingEnvironment::current_cpu();
  }
  uint64_t current_function_ip() override {
    return run.function_ip != 0 ? run.function_ip : ForwardingEnvironment::current_function_ip();
  }
  uint64_t attach_cookie() override { return run.cookie; }
  // bpf_get_stack and bpf_get_stackid at a CPU-clock sample (profile probes' kstack and
  // ustack): the stack of the mode it interrupted starts at its ip. GAP: the tick records no
  // frame pointer, so that ip is all of it; the other mode's stack is none (a user-mode
  // sample's kernel stack, as Linux's), except a kernel-mode sample's user stack: the served
  // task's, from the registers of its call (the host environment's).
  long capture_stack(bool user, uint32_t skip, uint64_t* ips, uint32_t max) override {
    if (sample == nullptr || (user && sample->in_kernel))
      return ForwardingEnvironment::capture_stack(user, skip, ips, max);
    if (user == sample->in_kernel || skip > 0) return -14;  // EFAULT: no frame
    if (max == 0) return 0;
    ips[0] = sample->ip;
    return 1;
  }
  uint32_t run_cpu = kNoCpu;
  const SampledRegisters* sample = nullptr;  // while a run on a sample goes on
  RunContext run;                            // ObjectTable::run's, for the run's length
};

// Linux's idr per kind: ids start at 1, are handed out cyclically up to INT_MAX and are never
// reused while their object lives. Objects die when their last reference goes.
class ObjectTable {
 public:
  ObjectTable(rt::Allocator& allocator, ebpf::Environment& environment);
  // Executable memory for the JIT: programs loaded from then on are compiled (each falls back
  // to the interpreter when compiling fails). Without it every program is interpreted.
  void set_executable_memory(ebpf::ExecutableMemory* memory) { executable_ = memory; }
  ebpf::ExecutableMemory* executable_memory() const { return executable_; }
  // Every session must be closed first: objects still referenced are not freed here.
  ~ObjectTable();
  ObjectTable(const ObjectTable&) = delete;
  ObjectTable& operator=(const ObjectTable&) = delete;

  // The kernel's BTF (Linux's btf_vmlinux): `size` bytes at `data`, copied and checked by the
  // parser BTF_LOAD uses, become the BTF object "vmlinux", which the table holds until it is
  // destroyed (closing every fd of it frees nothing). Called before any BTF is loaded, so its id
  // is 1 as on Linux: EBUSY after that. When the parser refuses the blob, its errno (BTF_LOAD
  // of the same bytes shows Linux's log), and the table goes on without kernel BTF; ENOMEM.
  [[nodiscard]] rt::Result<void> add_kernel_btf(const uint8_t* data, uint32_t size);
  BtfObject* kernel_btf() const { return kernel_btf_; }

  rt::Allocator& allocator() { return allocator_; }
  ebpf::Environment& environment() { return environment_; }
  const ebpf::HelperFunction* helpers() const { return helpers_; }
  // The probes perf events and links arm (perf_events.hpp); nullptr: none can be opened.
  ProbeTable* probes() const { return probes_; }
  void set_probes(ProbeTable* probes) { probes_ = probes; }
  // The wakeups of blocked readers of the table's rings (reader_wakeups.hpp).
  ReaderWakeups& reader_wakeups() { return reader_wakeups_; }

  // Gives `object` an id and one reference (its creator's handle). ENOSPC when the kind's ids
  // or the table's memory run out.
  [[nodiscard]] rt::Result<void> add(Object* object);
  Object* find(ObjectKind kind, uint32_t id) const;
  // The smallest id above `start` of a live object of `kind`; ENOENT when there is none.
  [[nodiscard]] rt::Result<uint32_t> next_id(ObjectKind kind, uint32_t start) const;
  uint32_t count(ObjectKind kind) const { return lists_[static_cast<uint32_t>(kind)].count; }

  void acquire(Object* object) { ++object->references; }
  // Drops a reference; the last one removes the id and destroys the object.
  void release(Object* object);
  // Empties a program array or a perf event array, dropping the reference each slot holds.
  void clear_program_array(MapObject* map);

  // Runs `program` on `context` (bpf_prog_run): its run time and count are added to the
  // program's statistics while they are on. Every run of a program goes through here.
  // The run's cookie and function address are the environment's for its length (a run inside
  // another's helper, such as a perf_event program's, gives the outer one its own back).
  uint64_t run(ProgramObject& program, void* context, const RunContext& run = {}) {
    if (stats_users_ != 0) return run_with_stats(program, context, run);
    RunContext outer = environment_.run;
    environment_.run = run;
    uint64_t result = ebpf::execute(program.program, context, &environment_);
    environment_.run = outer;
    return result;
  }
  // A perf_event program's run on a sample taken at `sample` (its stacks start there).
  uint64_t run_on_sample(ProgramObject& program, void* context, const RunContext& run,
                         const SampledRegisters& sample) {
    const SampledRegisters* outer = environment_.sample;
    environment_.sample = &sample;
    uint64_t result = this->run(program, context, run);
    environment_.sample = outer;
    return result;
  }
  // The same run as if on `cpu` (below possible_cpus()): its per-CPU map copies, perf event
  // array slot and bpf_get_smp_processor_id are that CPU's (PROG_TEST_RUN's
  // BPF_F_TEST_RUN_ON_CPU; Linux sends the run to that CPU).
  uint64_t run_on_cpu(ProgramObject& program, void* context, uint32_t cpu);
  // Run-time statistics (Linux's bpf_stats_enabled_key): on while any BPF_ENABLE_STATS fd is
  // open or the sysctl is 1. `stats_users` counts both.
  bool stats_enabled() const { return stats_users_ != 0; }
  uint32_t stats_users() const { return stats_users_; }
  // BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): an object whose last reference turns its count
  // back; EBUSY at INT_MAX users, ENOMEM.
  [[nodiscard]] rt::Result<Object*> enable_stats();
  // kernel.bpf_stats_enabled (bpf_stats_handler): reading shows what was last written (0 or
  // 1), writing a change counts one user more or less. EINVAL outside 0..1.
  int stats_sysctl() const { return stats_sysctl_; }
  [[nodiscard]] rt::Result<void> set_stats_sysctl(int64_t value);

 private:
  struct IdList {
    Object** objects = nullptr;  // sorted by id
    uint32_t count = 0;
    uint32_t capacity = 0;
    uint32_t next = 1;  // where the cyclic search for a free id starts
  };
  uint32_t position(const IdList& list, uint32_t id) const;  // first index with id >= `id`
  void destroy(Object* object);

  ebpf::ExecutableMemory* executable_ = nullptr;
  rt::Allocator& allocator_;
  TableEnvironment environment_;
  IdList lists_[kObjectKinds];
  ebpf::HelperFunction helpers_[ebpf::kMaxHelperId] = {};
  ProbeTable* probes_ = nullptr;
  BtfObject* kernel_btf_ = nullptr;  // held by one reference of the table's own
  ReaderWakeups reader_wakeups_;
  uint64_t run_with_stats(ProgramObject& program, void* context, const RunContext& run);
  uint32_t stats_users_ = 0;
  int stats_sysctl_ = 0;
};

// Frees a program's memory and drops its map references (for ObjectTable and failed loads).
void destroy_program(ObjectTable& table, ProgramObject* program);

}  // namespace trace
