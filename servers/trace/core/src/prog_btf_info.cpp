// SPDX-License-Identifier: MIT
// PROG_LOAD's func_info and line_info: Linux 6.1's check_btf_info, check_btf_func, check_btf_line.
#include "btf_checker.hpp"
#include "commands.hpp"
#include "verifier_log.hpp"

namespace trace {
namespace {

constexpr uint32_t kMinFuncInfoSize = sizeof(FuncInfo);  // MIN_BPF_FUNCINFO_SIZE
constexpr uint32_t kMinLineInfoSize = sizeof(LineInfo);  // MIN_BPF_LINEINFO_SIZE
constexpr uint32_t kMaxInfoRecordSize = 252;             // MAX_FUNCINFO/LINEINFO_REC_SIZE
constexpr uint32_t kMaxSubprograms = 256;                // BPF_MAX_SUBPROGS
constexpr uint32_t kTailCallHelper = 12;                 // BPF_FUNC_tail_call

// The subprogram starts add_subprog_and_kfunc finds: 0 and every bpf-to-bpf call or function
// reference target. Targets outside the program are left to the verifier, which refuses them.
struct Subprograms {
  uint32_t starts[kMaxSubprograms + 1];
  uint32_t count = 0;
  bool too_many = false;
};

void add_start(Subprograms& subprograms, int64_t start, uint32_t count) {
  if (start < 0 || start >= count) return;
  for (uint32_t i = 0; i < subprograms.count; ++i) {
    if (subprograms.starts[i] == start) return;
  }
  if (subprograms.count == kMaxSubprograms) {
    subprograms.too_many = true;
    return;
  }
  uint32_t at = subprograms.count++;
  while (at > 0 && subprograms.starts[at - 1] > start) {
    subprograms.starts[at] = subprograms.starts[at - 1];
    --at;
  }
  subprograms.starts[at] = static_cast<uint32_t>(start);
}

void find_subprograms(const ebpf::Insn* insns, uint32_t count, Subprograms& subprograms) {
  add_start(subprograms, 0, count);
  for (uint32_t pc = 0; pc < count; ++pc) {
    const ebpf::Insn& insn = insns[pc];
    if (insn.opcode == ebpf::kOpLdImm64) {
      if (insn.src == ebpf::kPseudoFunc) add_start(subprograms, int64_t{pc} + insn.imm + 1, count);
      ++pc;
    } else if (insn.opcode == (ebpf::kClassJmp | ebpf::kJmpCall) && insn.src == ebpf::kPseudoCall) {
      add_start(subprograms, int64_t{pc} + insn.imm + 1, count);
    }
  }
  subprograms.starts[subprograms.count] = count;
}

// What check_btf_func asks of a subprogram other than the main one: LD_ABS, LD_IND or a tail
// call only where the function returns a scalar.
struct SubprogramUses {
  bool ld_abs = false;
  bool tail_call = false;
};

SubprogramUses uses_of(const ebpf::Insn* insns, uint32_t start, uint32_t end) {
  SubprogramUses uses;
  for (uint32_t pc = start; pc < end; ++pc) {
    uint8_t opcode = insns[pc].opcode;
    if ((opcode & 0x07) == 0x00 && ((opcode & 0xe0) == 0x20 || (opcode & 0xe0) == 0x40))
      uses.ld_abs = true;
    if (opcode == (ebpf::kClassJmp | ebpf::kJmpCall) && insns[pc].src == 0 &&
        insns[pc].imm == static_cast<int32_t>(kTailCallHelper)) {
      uses.tail_call = true;
    }
  }
  return uses;
}

// btf_type_is_small_int or any enum, after modifiers: what a global function may return.
bool returns_scalar(const Btf& btf, const BtfType* proto) {
  const BtfType* t = btf.type_by_id(proto->size_or_type);
  for (uint32_t depth = 0; t != nullptr && btf_is_modifier(t) && depth < 64; ++depth)
    t = btf.type_by_id(t->size_or_type);
  if (t == nullptr || Btf::is_void(t)) return false;
  uint32_t kind = btf_kind(t);
  return (kind == kBtfKindInt && t->size_or_type <= 8) || kind == kBtfKindEnum ||
         kind == kBtfKindEnum64;
}

rt::Result<void> refuse(VerifierLog& log, const char* message) {
  log.print("%s", message);
  return rt::err(rt::kEINVAL, "func or line info refused");
}

// The records a check reads one by one, asked for in one piece first: memory forwarded by the
// POSIX server (ForwardedMemory) would otherwise come a record per round trip, and a program
// with hundreds of line_info records would run out of them (E2BIG). Reads still fail where
// Linux's would; a claim past 1 MiB is left to those reads.
rt::Result<void> prefetch_records(BpfCall& call, uint64_t address, uint32_t count,
                                  uint32_t record_size) {
  uint64_t bytes = uint64_t{count} * record_size;
  if (bytes == 0 || bytes > (1u << 20)) return {};
  return call.memory.prefetch(address, bytes);
}

// check_btf_func.
rt::Result<void> check_func_info(BpfCall& call, ProgramObject& program,
                                 const Subprograms& subprograms, VerifierLog& log) {
  const ProgLoadAttr& attr = call.attr.prog_load;
  const Btf& btf = program.btf->btf;
  uint32_t count = attr.func_info_cnt;
  if (count == 0) return {};
  if (count != subprograms.count) {
    return refuse(log, "number of funcs in func_info doesn't match number of subprogs\n");
  }
  uint32_t record_size = attr.func_info_rec_size;
  if (record_size < kMinFuncInfoSize || record_size > kMaxInfoRecordSize || record_size % 4) {
    log.print("invalid func info rec size %u\n", record_size);
    return rt::err(rt::kEINVAL);
  }
  rt::Allocator& allocator = call.session.objects().allocator();
  program.func_info =
      static_cast<FuncInfo*>(allocator.allocate(count * sizeof(FuncInfo), alignof(FuncInfo)));
  if (program.func_info == nullptr) return rt::err(rt::kENOMEM);
  program.func_info_count = count;
  TRY(prefetch_records(call, attr.func_info, count, record_size));
  uint32_t previous = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t address = attr.func_info + uint64_t{i} * record_size;
    if (auto tail = user_tail_is_zero(call.memory, address, kMinFuncInfoSize, record_size);
        !tail.ok()) {
      if (tail.error().code == rt::kE2BIG) {
        log.print("nonzero tailing record in func info");
        // The size the kernel expects, so that the loader can zero the rest of each record.
        TRY(write_attr_field(call, &attr.func_info_rec_size, kMinFuncInfoSize));
      }
      return tail.error();
    }
    FuncInfo& record = program.func_info[i];
    TRY(call.memory.read(&record, address, sizeof(FuncInfo)));
    if (i == 0 && record.insn_off != 0) {
      log.print("nonzero insn_off %u for the first func info record", record.insn_off);
      return rt::err(rt::kEINVAL);
    }
    if (i != 0 && record.insn_off <= previous) {
      log.print("same or smaller insn offset (%u) than previous func info record (%u)",
                record.insn_off, previous);
      return rt::err(rt::kEINVAL);
    }
    if (subprograms.starts[i] != record.insn_off) {
      return refuse(log, "func_info BTF section doesn't match subprog layout in BPF program\n");
    }
    const BtfType* type = btf.type_by_id(record.type_id);
    if (type == nullptr || Btf::is_void(type) || btf_kind(type) != kBtfKindFunc) {
      log.print("invalid type id %d in func info", static_cast<int32_t>(record.type_id));
      return rt::err(rt::kEINVAL);
    }
    // BTF_LOAD made sure a FUNC names a FUNC_PROTO.
    const BtfType* proto = btf.type_by_id(type->size_or_type);
    if (i != 0 && !returns_scalar(btf, proto)) {
      SubprogramUses uses =
          uses_of(program.insns, subprograms.starts[i], subprograms.starts[i + 1]);
      if (uses.ld_abs)
        return refuse(log, "LD_ABS is only allowed in functions that return 'int'.\n");
      if (uses.tail_call)
        return refuse(log, "tail_call is only allowed in functions that return 'int'.\n");
    }
    previous = record.insn_off;
  }
  return {};
}

// check_btf_line. Offsets strictly increase below the program's length, so at most insn_cnt
// records can pass: only that many are kept, however many the caller claims.
rt::Result<void> check_line_info(BpfCall& call, ProgramObject& program,
                                 const Subprograms& subprograms, VerifierLog& log) {
  const ProgLoadAttr& attr = call.attr.prog_load;
  const Btf& btf = program.btf->btf;
  uint32_t count = attr.line_info_cnt;
  if (count == 0) return {};
  if (count > 0x7fffffffu / sizeof(LineInfo)) return rt::err(rt::kEINVAL);
  uint32_t record_size = attr.line_info_rec_size;
  if (record_size < kMinLineInfoSize || record_size > kMaxInfoRecordSize || (record_size & 3))
    return rt::err(rt::kEINVAL);
  uint32_t kept = count < program.insn_count ? count : program.insn_count;
  rt::Allocator& allocator = call.session.objects().allocator();
  program.line_info =
      static_cast<LineInfo*>(allocator.allocate(kept * sizeof(LineInfo), alignof(LineInfo)));
  if (program.line_info == nullptr) return rt::err(rt::kENOMEM);
  program.line_info_count = kept;
  // At most insn_cnt records pass and one more fails: no more are read.
  TRY(prefetch_records(call, attr.line_info, count < kept + 1 ? count : kept + 1, record_size));
  uint32_t previous = 0, subprogram = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t address = attr.line_info + uint64_t{i} * record_size;
    if (auto tail = user_tail_is_zero(call.memory, address, kMinLineInfoSize, record_size);
        !tail.ok()) {
      if (tail.error().code == rt::kE2BIG) {
        log.print("nonzero tailing record in line_info");
        TRY(write_attr_field(call, &attr.line_info_rec_size, kMinLineInfoSize));
      }
      return tail.error();
    }
    LineInfo record;
    TRY(call.memory.read(&record, address, sizeof(LineInfo)));
    if ((i != 0 && record.insn_off <= previous) || record.insn_off >= program.insn_count) {
      log.print("Invalid line_info[%u].insn_off:%u (prev_offset:%u prog->len:%u)\n", i,
                record.insn_off, previous, program.insn_count);
      return rt::err(rt::kEINVAL);
    }
    if (program.insns[record.insn_off].opcode == 0) {
      log.print("Invalid insn code at line_info[%u].insn_off\n", i);
      return rt::err(rt::kEINVAL);
    }
    if (btf.name_by_offset(record.line_off) == nullptr ||
        btf.name_by_offset(record.file_name_off) == nullptr) {
      log.print("Invalid line_info[%u].line_off or .file_name_off\n", i);
      return rt::err(rt::kEINVAL);
    }
    if (subprogram != subprograms.count) {
      if (record.insn_off == subprograms.starts[subprogram]) {
        ++subprogram;
      } else if (subprograms.starts[subprogram] < record.insn_off) {
        log.print("missing bpf_line_info for func#%u\n", subprogram);
        return rt::err(rt::kEINVAL);
      }
    }
    program.line_info[i] = record;  // i < insn_count: the offsets checked above say so
    previous = record.insn_off;
  }
  if (subprogram != subprograms.count) {
    log.print("missing bpf_line_info for %u funcs starting from func#%u\n",
              subprograms.count - subprogram, subprogram);
    return rt::err(rt::kEINVAL);
  }
  return {};
}

}  // namespace

// check_btf_info: the program's BTF (prog_btf_fd) and the records that point into it.
rt::Result<void> check_program_btf(BpfCall& call, ProgramObject& program, VerifierLog& log) {
  const ProgLoadAttr& attr = call.attr.prog_load;
  if (attr.func_info_cnt == 0 && attr.line_info_cnt == 0) return {};
  Handle handle =
      TRY(call.session.lookup_kind(static_cast<int32_t>(attr.prog_btf_fd), ObjectKind::kBtf));
  auto* btf = static_cast<BtfObject*>(handle.object);
  if (btf->kernel_btf) return rt::err(rt::kEACCES, "a program's BTF cannot be the kernel's");
  program.btf = btf;
  call.session.objects().acquire(program.btf);
  Subprograms subprograms;
  find_subprograms(program.insns, program.insn_count, subprograms);
  // GAP: more than 256 subprograms are left to the verifier (E2BIG there), unchecked here.
  if (subprograms.too_many) return {};
  TRY(check_func_info(call, program, subprograms, log));
  return check_line_info(call, program, subprograms, log);
}

}  // namespace trace
