// SPDX-License-Identifier: MIT
// parse_perf_event_attr: perf_copy_attr's size rules and field checks (Linux 6.1).
#include "trace/perf_event_attr.hpp"

#include "rt/errno.hpp"

namespace trace {
namespace {

// x86-64 perf_reg_validate: a nonempty mask without DS, ES, FS, GS or the reserved bits 24-31
// (the XMM registers, bits 32-63, pass here and are refused by PMUs without extended regs).
bool valid_register_mask(uint64_t mask) {
  constexpr uint64_t kUnsupported = (1ull << 12) | (1ull << 13) | (1ull << 14) | (1ull << 15);
  constexpr uint64_t kReserved = ((1ull << 32) - 1) & ~((1ull << 24) - 1);
  return mask != 0 && (mask & (kUnsupported | kReserved)) == 0;
}

}  // namespace

rt::Result<PerfEventAttr> parse_perf_event_attr(const uint8_t* bytes, uint32_t length) {
  PerfEventAttr attr = {};
  uint32_t size = 0;
  if (length < offsetof(PerfEventAttr, size) + sizeof(size)) return rt::err(rt::kEFAULT);
  __builtin_memcpy(&size, bytes + offsetof(PerfEventAttr, size), sizeof(size));
  if (size == 0) size = kPerfAttrSizeVer0;  // the ABI quirk of the first callers
  if (size < kPerfAttrSizeVer0 || size > kPerfAttrMaxSize)
    return rt::err(rt::kE2BIG, "perf_event_attr size out of range");
  // copy_struct_from_user: a longer struct's tail must be zero, then the known part is copied.
  for (uint32_t i = kPerfAttrSize; i < size; ++i) {
    if (i >= length) return rt::err(rt::kEFAULT);
    if (bytes[i] != 0) return rt::err(rt::kE2BIG, "nonzero perf_event_attr tail");
  }
  uint32_t known = size < kPerfAttrSize ? size : kPerfAttrSize;
  if (length < known) return rt::err(rt::kEFAULT);
  __builtin_memcpy(&attr, bytes, known);
  attr.size = size;

  if ((attr.flags & kPerfAttrReserved1) != 0 || attr.reserved_2 != 0 || attr.reserved_3 != 0)
    return rt::err(rt::kEINVAL);
  if ((attr.sample_type & ~(kPerfSampleMax - 1)) != 0) return rt::err(rt::kEINVAL);
  if ((attr.read_format & ~(kPerfFormatMax - 1)) != 0) return rt::err(rt::kEINVAL);
  if (attr.sample_type & kPerfSampleBranchStack) {
    uint64_t mask = attr.branch_sample_type;
    if ((mask & ~(kPerfSampleBranchMax - 1)) != 0) return rt::err(rt::kEINVAL);
    if ((mask & ~kPerfSampleBranchPlmAll) == 0) return rt::err(rt::kEINVAL);
    if ((mask & kPerfSampleBranchPlmAll) == 0) {
      // The privilege levels follow the exclude_* bits (user 1, kernel 2, hv 4).
      if (!attr.has(kPerfAttrExcludeKernel)) mask |= 2;
      if (!attr.has(kPerfAttrExcludeUser)) mask |= 1;
      if (!attr.has(kPerfAttrExcludeHv)) mask |= 4;
      attr.branch_sample_type = mask;
    }
  }
  if ((attr.sample_type & kPerfSampleRegsUser) && !valid_register_mask(attr.sample_regs_user))
    return rt::err(rt::kEINVAL);
  if (attr.sample_type & kPerfSampleStackUser) {
    // The size is a u32 but samples are limited to u16 sizes.
    if (attr.sample_stack_user >= 0xffff || (attr.sample_stack_user % 8) != 0)
      return rt::err(rt::kEINVAL);
  }
  if (attr.sample_max_stack == 0) attr.sample_max_stack = kPerfEventMaxStack;
  // Linux notes a bad interrupt register mask and fails only after the checks below.
  bool bad_intr_registers =
      (attr.sample_type & kPerfSampleRegsIntr) && !valid_register_mask(attr.sample_regs_intr);
  if ((attr.sample_type & kPerfSampleWeight) && (attr.sample_type & kPerfSampleWeightStruct))
    return rt::err(rt::kEINVAL);
  if (!attr.has(kPerfAttrInherit) && attr.has(kPerfAttrInheritThread)) return rt::err(rt::kEINVAL);
  if (attr.has(kPerfAttrRemoveOnExec) && attr.has(kPerfAttrEnableOnExec))
    return rt::err(rt::kEINVAL);
  if (attr.has(kPerfAttrSigtrap) && !attr.has(kPerfAttrRemoveOnExec)) return rt::err(rt::kEINVAL);
  if (bad_intr_registers) return rt::err(rt::kEINVAL);
  return attr;
}

}  // namespace trace
