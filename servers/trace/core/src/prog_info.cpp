// SPDX-License-Identifier: MIT
// bpf_prog_info (OBJ_GET_INFO_BY_FD on a program) and the program tag.
#include "prog_info.hpp"

#include "commands.hpp"
#include "trace/sha1.hpp"

namespace trace {

void compute_tag(const ebpf::Insn* insns, uint32_t count, uint8_t tag[kTagSize]) {
  Sha1 hash;
  bool in_map_load = false;  // the previous instruction was the first half of a map load
  for (uint32_t i = 0; i < count; ++i) {
    ebpf::Insn insn = insns[i];
    if (!in_map_load && insn.opcode == ebpf::kOpLdImm64 &&
        (insn.src == ebpf::kPseudoMapFd || insn.src == ebpf::kPseudoMapValue)) {
      in_map_load = true;
      insn.imm = 0;
    } else if (in_map_load && insn.opcode == 0 && insn.dst == 0 && insn.src == 0 &&
               insn.offset == 0) {
      in_map_load = false;
      insn.imm = 0;
    } else {
      in_map_load = false;
    }
    uint8_t bytes[sizeof(ebpf::Insn)];
    __builtin_memcpy(bytes, &insn, sizeof(insn));
    hash.update(bytes, sizeof(bytes));
  }
  uint8_t digest[kSha1DigestSize];
  hash.finish(digest);
  for (uint32_t i = 0; i < kTagSize; ++i) tag[i] = digest[i];
}

namespace {

// set_info_rec_size: a record size the caller names must be the kernel's.
rt::Result<void> check_record_sizes(ProgInfo& info) {
  if ((info.nr_func_info != 0 || info.func_info_rec_size != 0) &&
      info.func_info_rec_size != kFuncInfoRecSize) {
    return rt::err(rt::kEINVAL);
  }
  if ((info.nr_line_info != 0 || info.line_info_rec_size != 0) &&
      info.line_info_rec_size != kLineInfoRecSize) {
    return rt::err(rt::kEINVAL);
  }
  if ((info.nr_jited_line_info != 0 || info.jited_line_info_rec_size != 0) &&
      info.jited_line_info_rec_size != kJitedLineInfoRecSize) {
    return rt::err(rt::kEINVAL);
  }
  info.func_info_rec_size = kFuncInfoRecSize;
  info.line_info_rec_size = kLineInfoRecSize;
  info.jited_line_info_rec_size = kJitedLineInfoRecSize;
  return {};
}

}  // namespace

// bpf_prog_get_info_by_fd: the caller's struct comes in (array pointers and their lengths),
// Linux's answers go out, each array cut to the room the caller gave.
rt::Result<int64_t> prog_get_info(BpfCall& call, const ProgramObject& program) {
  const InfoAttr& attr = call.attr.info;
  UserMemory& memory = call.memory;
  TRY(user_tail_is_zero(memory, attr.info, sizeof(ProgInfo), attr.info_len));
  uint32_t info_len = attr.info_len < sizeof(ProgInfo) ? attr.info_len : sizeof(ProgInfo);
  ProgInfo info = {};
  TRY(memory.read(&info, attr.info, info_len));

  info.type = static_cast<uint32_t>(program.type);
  info.id = program.id;
  info.load_time = program.load_time;
  info.created_by_uid = 0;  // GAP: the loading task's uid is not passed to the core yet
  info.flags = program.gpl_compatible ? 1 : 0;
  for (uint32_t i = 0; i < kTagSize; ++i) info.tag[i] = program.tag[i];
  for (uint32_t i = 0; i < kObjNameLen; ++i) info.name[i] = program.name[i];

  uint32_t room = info.nr_map_ids;
  info.nr_map_ids = program.used_map_count;
  if (room > program.used_map_count) room = program.used_map_count;
  for (uint32_t i = 0; i < room; ++i) {
    uint32_t id = program.used_maps[i]->id;
    TRY(memory.write(info.map_ids + uint64_t{i} * sizeof(uint32_t), &id, sizeof(id)));
  }
  TRY(check_record_sizes(info));
  info.verified_insns = program.verified_insns;
  // bpf_prog_get_stats: what was counted while statistics were on (recursion_misses: no run
  // is ever skipped for recursion here).
  info.run_time_ns = program.run_time_ns;
  info.run_cnt = program.run_cnt;
  info.recursion_misses = 0;

  uint32_t xlated_room = info.xlated_prog_len;
  info.xlated_prog_len = program.insn_count * static_cast<uint32_t>(sizeof(ebpf::Insn));
  if (xlated_room != 0) {
    uint32_t length = xlated_room < info.xlated_prog_len ? xlated_room : info.xlated_prog_len;
    TRY(memory.write(info.xlated_prog_insns, program.xlated, length));
  }
  // The JIT image as one function (bpftool prog dump jited); an interpreted program has none:
  // one function of length 0 at no address.
  bool jited = program.jit.compiled();
  uint32_t jited_room = info.jited_prog_len;
  info.jited_prog_len = jited ? static_cast<uint32_t>(program.jit.code_size()) : 0;
  if (jited && jited_room != 0) {
    uint32_t length = jited_room < info.jited_prog_len ? jited_room : info.jited_prog_len;
    TRY(memory.write(info.jited_prog_insns, program.jit.code(), length));
  }
  uint32_t ksym_room = info.nr_jited_ksyms;
  info.nr_jited_ksyms = 1;
  if (ksym_room != 0) {
    uint64_t address = jited ? reinterpret_cast<uint64_t>(program.jit.code()) : 0;
    TRY(memory.write(info.jited_ksyms, &address, sizeof(address)));
  }
  uint32_t length_room = info.nr_jited_func_lens;
  info.nr_jited_func_lens = 1;
  if (length_room != 0) {
    uint32_t length = info.jited_prog_len;
    TRY(memory.write(info.jited_func_lens, &length, sizeof(length)));
  }
  info.btf_id = program.btf != nullptr ? program.btf->id : 0;
  if (program.attach_btf_id != 0) {
    info.attach_btf_obj_id = 1;  // the kernel's BTF (ObjectTable::add_kernel_btf)
    info.attach_btf_id = program.attach_btf_id;
  }
  uint32_t func_room = info.nr_func_info;
  info.nr_func_info = program.func_info_count;
  if (func_room != 0 && program.func_info_count != 0) {
    uint32_t count = func_room < program.func_info_count ? func_room : program.func_info_count;
    TRY(memory.write(info.func_info, program.func_info, uint64_t{count} * sizeof(FuncInfo)));
  }
  uint32_t line_room = info.nr_line_info;
  info.nr_line_info = program.line_info_count;
  if (line_room != 0 && program.line_info_count != 0) {
    uint32_t count = line_room < program.line_info_count ? line_room : program.line_info_count;
    TRY(memory.write(info.line_info, program.line_info, uint64_t{count} * sizeof(LineInfo)));
  }
  info.nr_jited_line_info = 0;  // no JIT image, so no jited line info (prog->aux->jited_linfo)
  uint32_t tag_room = info.nr_prog_tags;
  info.nr_prog_tags = 1;
  if (tag_room != 0) TRY(memory.write(info.prog_tags, program.tag, kTagSize));

  TRY(memory.write(attr.info, &info, info_len));
  TRY(write_attr_field(call, &attr.info_len, info_len));
  return 0;
}

}  // namespace trace
