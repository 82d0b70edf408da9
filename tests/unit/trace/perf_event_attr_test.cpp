// SPDX-License-Identifier: MIT
// parse_perf_event_attr: Linux 6.1's perf_copy_attr size rules and field checks.
#include "trace/perf_event_attr.hpp"

#include <gtest/gtest.h>
#include <linux/perf_event.h>

#include <cstring>
#include <vector>

#include "rt/errno.hpp"

namespace trace::testing {
namespace {

std::vector<uint8_t> attr_bytes(const PerfEventAttr& attr, uint32_t length = kPerfAttrSize) {
  std::vector<uint8_t> bytes(length > kPerfAttrSize ? length : kPerfAttrSize, 0);
  std::memcpy(bytes.data(), &attr, kPerfAttrSize);
  bytes.resize(length);
  return bytes;
}

PerfEventAttr software(uint64_t config) {
  PerfEventAttr attr = {};
  attr.type = kPerfTypeSoftware;
  attr.size = kPerfAttrSize;
  attr.config = config;
  return attr;
}

int parse_errno(const std::vector<uint8_t>& bytes) {
  auto parsed = parse_perf_event_attr(bytes.data(), static_cast<uint32_t>(bytes.size()));
  return parsed.ok() ? 0 : parsed.error().code;
}

// Each flag is the bit of Linux's perf_event_attr bit field of its name.
TEST(PerfEventAttr, FlagBitsAreLinuxs) {
  auto bit_of = [](void (*set)(perf_event_attr&)) {
    perf_event_attr attr = {};
    set(attr);
    uint64_t flags = 0;
    std::memcpy(&flags, reinterpret_cast<const uint8_t*>(&attr) + offsetof(PerfEventAttr, flags),
                8);
    return flags;
  };
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.disabled = 1; }), kPerfAttrDisabled);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.inherit = 1; }), kPerfAttrInherit);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.exclude_kernel = 1; }), kPerfAttrExcludeKernel);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.freq = 1; }), kPerfAttrFreq);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.inherit_stat = 1; }), kPerfAttrInheritStat);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.enable_on_exec = 1; }), kPerfAttrEnableOnExec);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.task = 1; }), kPerfAttrTask);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.watermark = 1; }), kPerfAttrWatermark);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.mmap_data = 1; }), kPerfAttrMmapData);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.sample_id_all = 1; }), kPerfAttrSampleIdAll);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.exclude_callchain_kernel = 1; }),
            kPerfAttrExcludeCallchainKernel);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.exclude_callchain_user = 1; }),
            kPerfAttrExcludeCallchainUser);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.mmap2 = 1; }), kPerfAttrMmap2);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.use_clockid = 1; }), kPerfAttrUseClockid);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.write_backward = 1; }), kPerfAttrWriteBackward);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.namespaces = 1; }), kPerfAttrNamespaces);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.aux_output = 1; }), kPerfAttrAuxOutput);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.inherit_thread = 1; }), kPerfAttrInheritThread);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.remove_on_exec = 1; }), kPerfAttrRemoveOnExec);
  EXPECT_EQ(bit_of([](perf_event_attr& a) { a.sigtrap = 1; }), kPerfAttrSigtrap);
}

TEST(PerfEventAttr, EveryVersionSizeIsAccepted) {
  for (uint32_t size :
       {kPerfAttrSizeVer0, kPerfAttrSizeVer1, kPerfAttrSizeVer2, kPerfAttrSizeVer3,
        kPerfAttrSizeVer4, kPerfAttrSizeVer5, kPerfAttrSizeVer6, kPerfAttrSizeVer7}) {
    PerfEventAttr attr = software(kPerfCountSwBpfOutput);
    attr.size = size;
    attr.sig_data = 0x1234;  // past VER6: must not be read from a shorter struct
    auto parsed = parse_perf_event_attr(attr_bytes(attr, size).data(), size);
    ASSERT_TRUE(parsed.ok()) << size;
    EXPECT_EQ(parsed->size, size);
    EXPECT_EQ(parsed->sig_data, size == kPerfAttrSizeVer7 ? 0x1234u : 0u);
  }
}

TEST(PerfEventAttr, SizeZeroIsVersionZero) {
  PerfEventAttr attr = software(0);
  attr.size = 0;
  attr.branch_sample_type = 5;  // past VER0: ignored
  auto parsed = parse_perf_event_attr(attr_bytes(attr).data(), kPerfAttrSize);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->size, kPerfAttrSizeVer0);
  EXPECT_EQ(parsed->branch_sample_type, 0u);
}

TEST(PerfEventAttr, SizesOutsideVersionZeroAndAPageAreE2big) {
  for (uint32_t size : {1u, 8u, 63u, 4097u, 0xffffffffu}) {
    PerfEventAttr attr = software(0);
    attr.size = size;
    EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kE2BIG) << size;
  }
}

TEST(PerfEventAttr, LongerStructNeedsAZeroTail) {
  PerfEventAttr attr = software(0);
  attr.size = 136;  // Aya's size (6.3's VER8)
  std::vector<uint8_t> bytes = attr_bytes(attr, 136);
  EXPECT_EQ(parse_errno(bytes), 0);
  bytes[135] = 1;
  EXPECT_EQ(parse_errno(bytes), rt::kE2BIG);
  attr.size = 4096;
  bytes = attr_bytes(attr, 4096);
  EXPECT_EQ(parse_errno(bytes), 0);
  bytes[4095] = 7;
  EXPECT_EQ(parse_errno(bytes), rt::kE2BIG);
}

TEST(PerfEventAttr, UnreadableBytesAreEfault) {
  PerfEventAttr attr = software(0);
  EXPECT_EQ(parse_errno(attr_bytes(attr, 4)), rt::kEFAULT);
  EXPECT_EQ(parse_errno(attr_bytes(attr, 100)), rt::kEFAULT);
  attr.size = 256;
  std::vector<uint8_t> bytes = attr_bytes(attr, 200);
  EXPECT_EQ(parse_errno(bytes), rt::kEFAULT);
  bytes[150] = 1;  // the tail check finds the nonzero byte before the fault
  EXPECT_EQ(parse_errno(bytes), rt::kE2BIG);
}

TEST(PerfEventAttr, ReservedFieldsAreEinval) {
  PerfEventAttr attr = software(0);
  attr.flags = 1ull << 38;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr = software(0);
  attr.reserved_2 = 1;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr = software(0);
  attr.reserved_3 = 1;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
}

TEST(PerfEventAttr, UnknownSampleAndReadFormatBitsAreEinval) {
  PerfEventAttr attr = software(0);
  attr.sample_type = kPerfSampleMax;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr.sample_type = kPerfSampleMax - 1 - kPerfSampleWeightStruct - kPerfSampleBranchStack -
                     kPerfSampleRegsUser - kPerfSampleStackUser - kPerfSampleRegsIntr;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), 0);
  attr = software(0);
  attr.read_format = kPerfFormatMax;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr.read_format = kPerfFormatMax - 1;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), 0);
}

TEST(PerfEventAttr, BranchStackNeedsAKnownBranchBit) {
  PerfEventAttr attr = software(0);
  attr.sample_type = kPerfSampleBranchStack;
  attr.branch_sample_type = kPerfSampleBranchPlmAll;  // privilege levels only
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr.branch_sample_type = kPerfSampleBranchMax;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr.branch_sample_type = 1u << 3;  // ANY
  attr.flags = kPerfAttrExcludeKernel;
  auto parsed = parse_perf_event_attr(attr_bytes(attr).data(), kPerfAttrSize);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->branch_sample_type, (1u << 3) | 1u | 4u);  // user and hv, not kernel
}

TEST(PerfEventAttr, RegisterMasksFollowX86) {
  PerfEventAttr attr = software(0);
  attr.sample_type = kPerfSampleRegsUser;
  attr.sample_regs_user = 0;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr.sample_regs_user = 1ull << 12;  // DS
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr.sample_regs_user = 1ull << 24;  // reserved
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr.sample_regs_user = 0xff00ff;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), 0);
  attr = software(0);
  attr.sample_type = kPerfSampleRegsIntr;
  attr.sample_regs_intr = 0;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
}

TEST(PerfEventAttr, UserStackSizeIsAlignedAndBelow64k) {
  PerfEventAttr attr = software(0);
  attr.sample_type = kPerfSampleStackUser;
  attr.sample_stack_user = 12;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr.sample_stack_user = 0x10000;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr.sample_stack_user = 0xfff8;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), 0);
}

TEST(PerfEventAttr, FlagCombinations) {
  PerfEventAttr attr = software(0);
  attr.sample_type = kPerfSampleWeight | kPerfSampleWeightStruct;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr = software(0);
  attr.flags = kPerfAttrInheritThread;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr.flags = kPerfAttrInheritThread | kPerfAttrInherit;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), 0);
  attr.flags = kPerfAttrRemoveOnExec | kPerfAttrEnableOnExec;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr.flags = kPerfAttrSigtrap;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), rt::kEINVAL);
  attr.flags = kPerfAttrSigtrap | kPerfAttrRemoveOnExec;
  EXPECT_EQ(parse_errno(attr_bytes(attr)), 0);
}

TEST(PerfEventAttr, MaxStackDefaultsToTheSysctl) {
  PerfEventAttr attr = software(0);
  auto parsed = parse_perf_event_attr(attr_bytes(attr).data(), kPerfAttrSize);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->sample_max_stack, kPerfEventMaxStack);
}

}  // namespace
}  // namespace trace::testing
