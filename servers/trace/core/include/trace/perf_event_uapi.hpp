// SPDX-License-Identifier: MIT
// Linux 6.1's perf_event_open(2) ABI as the trace core reads it: perf_event_attr, ioctls, mmap
// page.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace trace {

// enum perf_type_id, and the dynamic PMU types Sonde gives the kprobe and uprobe PMUs (the
// numbers Linux 6.1 gave them in the recorded boot; the POSIX server publishes them in
// /sys/bus/event_source/devices/{kprobe,uprobe}/type).
inline constexpr uint32_t kPerfTypeHardware = 0;
inline constexpr uint32_t kPerfTypeSoftware = 1;
inline constexpr uint32_t kPerfTypeTracepoint = 2;
inline constexpr uint32_t kPerfTypeKprobe = 6;
inline constexpr uint32_t kPerfTypeUprobe = 7;
// format/retprobe of both PMUs ("config:0") and format/ref_ctr_offset of the uprobe PMU.
inline constexpr uint64_t kPerfProbeConfigIsRetprobe = 1;
inline constexpr uint32_t kPerfUprobeRefCtrOffsetShift = 32;
inline constexpr char kPerfProbeRetprobeFormat[] = "config:0\n";
inline constexpr char kPerfUprobeRefCtrOffsetFormat[] = "config:32-63\n";

// enum perf_sw_ids (Linux 6.1).
inline constexpr uint64_t kPerfCountSwCpuClock = 0;
inline constexpr uint64_t kPerfCountSwTaskClock = 1;
inline constexpr uint64_t kPerfCountSwPageFaults = 2;
inline constexpr uint64_t kPerfCountSwContextSwitches = 3;
inline constexpr uint64_t kPerfCountSwCpuMigrations = 4;
inline constexpr uint64_t kPerfCountSwPageFaultsMin = 5;
inline constexpr uint64_t kPerfCountSwPageFaultsMaj = 6;
inline constexpr uint64_t kPerfCountSwAlignmentFaults = 7;
inline constexpr uint64_t kPerfCountSwEmulationFaults = 8;
inline constexpr uint64_t kPerfCountSwDummy = 9;
inline constexpr uint64_t kPerfCountSwBpfOutput = 10;
inline constexpr uint64_t kPerfCountSwCgroupSwitches = 11;
inline constexpr uint64_t kPerfCountSwMax = 12;

// PERF_ATTR_SIZE_VER0..VER7; sizeof(struct perf_event_attr) in 6.1 is VER7.
inline constexpr uint32_t kPerfAttrSizeVer0 = 64;
inline constexpr uint32_t kPerfAttrSizeVer1 = 72;
inline constexpr uint32_t kPerfAttrSizeVer2 = 80;
inline constexpr uint32_t kPerfAttrSizeVer3 = 96;
inline constexpr uint32_t kPerfAttrSizeVer4 = 104;
inline constexpr uint32_t kPerfAttrSizeVer5 = 112;
inline constexpr uint32_t kPerfAttrSizeVer6 = 120;
inline constexpr uint32_t kPerfAttrSizeVer7 = 128;
inline constexpr uint32_t kPerfAttrSize = kPerfAttrSizeVer7;
inline constexpr uint32_t kPerfAttrMaxSize = 4096;  // PAGE_SIZE

// enum perf_event_sample_format: PERF_SAMPLE_MAX is 1 << 25 in 6.1.
inline constexpr uint64_t kPerfSampleIp = 1u << 0;
inline constexpr uint64_t kPerfSampleTid = 1u << 1;
inline constexpr uint64_t kPerfSampleTime = 1u << 2;
inline constexpr uint64_t kPerfSampleAddr = 1u << 3;
inline constexpr uint64_t kPerfSampleCallchain = 1u << 5;
inline constexpr uint64_t kPerfSampleId = 1u << 6;
inline constexpr uint64_t kPerfSampleCpu = 1u << 7;
inline constexpr uint64_t kPerfSamplePeriod = 1u << 8;
inline constexpr uint64_t kPerfSampleStreamId = 1u << 9;
inline constexpr uint64_t kPerfSampleRaw = 1u << 10;
inline constexpr uint64_t kPerfSampleBranchStack = 1u << 11;
inline constexpr uint64_t kPerfSampleRegsUser = 1u << 12;
inline constexpr uint64_t kPerfSampleStackUser = 1u << 13;
inline constexpr uint64_t kPerfSampleWeight = 1u << 14;
inline constexpr uint64_t kPerfSampleDataSrc = 1u << 15;
inline constexpr uint64_t kPerfSampleIdentifier = 1u << 16;
inline constexpr uint64_t kPerfSampleRegsIntr = 1u << 18;
inline constexpr uint64_t kPerfSamplePhysAddr = 1u << 19;
inline constexpr uint64_t kPerfSampleWeightStruct = 1u << 24;
inline constexpr uint64_t kPerfSampleMax = 1u << 25;
// PERF_MEM_NA: op, level, snoop, lock and TLB all "not available" (perf_sample_data_init).
inline constexpr uint64_t kPerfMemNa = 0x01 | 0x01 << 5 | 0x01 << 19 | 0x01 << 24 | 0x01 << 26;
// enum perf_branch_sample_type: PERF_SAMPLE_BRANCH_MAX is 1 << 19; PLM_ALL the low 3 bits.
inline constexpr uint64_t kPerfSampleBranchMax = 1u << 19;
inline constexpr uint64_t kPerfSampleBranchPlmAll = 7;
// enum perf_event_read_format: PERF_FORMAT_MAX is 1 << 5 (LOST came in 6.0).
inline constexpr uint64_t kPerfFormatTotalTimeEnabled = 1u << 0;
inline constexpr uint64_t kPerfFormatTotalTimeRunning = 1u << 1;
inline constexpr uint64_t kPerfFormatId = 1u << 2;
inline constexpr uint64_t kPerfFormatGroup = 1u << 3;
inline constexpr uint64_t kPerfFormatLost = 1u << 4;
inline constexpr uint64_t kPerfFormatMax = 1u << 5;

// The bit fields of perf_event_attr's flags word.
enum PerfAttrFlag : uint64_t {
  kPerfAttrDisabled = 1ull << 0,
  kPerfAttrInherit = 1ull << 1,
  kPerfAttrPinned = 1ull << 2,
  kPerfAttrExclusive = 1ull << 3,
  kPerfAttrExcludeUser = 1ull << 4,
  kPerfAttrExcludeKernel = 1ull << 5,
  kPerfAttrExcludeHv = 1ull << 6,
  kPerfAttrMmap = 1ull << 8,
  kPerfAttrComm = 1ull << 9,
  kPerfAttrFreq = 1ull << 10,
  kPerfAttrInheritStat = 1ull << 11,
  kPerfAttrEnableOnExec = 1ull << 12,
  kPerfAttrTask = 1ull << 13,
  kPerfAttrWatermark = 1ull << 14,
  kPerfAttrMmapData = 1ull << 17,
  kPerfAttrSampleIdAll = 1ull << 18,
  kPerfAttrExcludeCallchainKernel = 1ull << 21,
  kPerfAttrExcludeCallchainUser = 1ull << 22,
  kPerfAttrMmap2 = 1ull << 23,
  kPerfAttrUseClockid = 1ull << 25,
  kPerfAttrWriteBackward = 1ull << 27,
  kPerfAttrNamespaces = 1ull << 28,
  kPerfAttrAuxOutput = 1ull << 31,
  kPerfAttrInheritThread = 1ull << 35,
  kPerfAttrRemoveOnExec = 1ull << 36,
  kPerfAttrSigtrap = 1ull << 37,
};
// PERF_CONTEXT_*: the markers between a callchain's parts (every value from kPerfContextMax
// up is one).
inline constexpr uint64_t kPerfContextKernel = static_cast<uint64_t>(-128);
inline constexpr uint64_t kPerfContextUser = static_cast<uint64_t>(-512);
inline constexpr uint64_t kPerfContextMax = static_cast<uint64_t>(-4095);
inline constexpr uint64_t kPerfAttrReserved1 = ~((1ull << 38) - 1);  // __reserved_1:26

// struct perf_event_attr (Linux 6.1), unions named by their first member and config1/config2.
struct PerfEventAttr {
  uint32_t type;
  uint32_t size;
  uint64_t config;
  uint64_t sample_period;  // or sample_freq
  uint64_t sample_type;
  uint64_t read_format;
  uint64_t flags;          // the bit fields (PerfAttrFlag)
  uint32_t wakeup_events;  // or wakeup_watermark
  uint32_t bp_type;
  uint64_t config1;  // bp_addr, kprobe_func, uprobe_path
  uint64_t config2;  // bp_len, kprobe_addr, probe_offset
  uint64_t branch_sample_type;
  uint64_t sample_regs_user;
  uint32_t sample_stack_user;
  int32_t clockid;
  uint64_t sample_regs_intr;
  uint32_t aux_watermark;
  uint16_t sample_max_stack;
  uint16_t reserved_2;
  uint32_t aux_sample_size;
  uint32_t reserved_3;
  uint64_t sig_data;

  bool has(uint64_t flag) const { return (flags & flag) != 0; }
};
static_assert(sizeof(PerfEventAttr) == kPerfAttrSize);
static_assert(offsetof(PerfEventAttr, config1) == 56 && offsetof(PerfEventAttr, config2) == 64);
static_assert(offsetof(PerfEventAttr, clockid) == 92 && offsetof(PerfEventAttr, sig_data) == 120);

// perf_event_open's flags (PERF_FLAG_*).
inline constexpr uint64_t kPerfFlagFdNoGroup = 1;
inline constexpr uint64_t kPerfFlagFdOutput = 2;
inline constexpr uint64_t kPerfFlagPidCgroup = 4;
inline constexpr uint64_t kPerfFlagFdCloexec = 8;
inline constexpr uint64_t kPerfFlagAll =
    kPerfFlagFdNoGroup | kPerfFlagFdOutput | kPerfFlagPidCgroup | kPerfFlagFdCloexec;

// The ioctls of a perf event fd ('$' numbers, with _IOW/_IOR/_IOWR sizes as on x86-64).
inline constexpr uint32_t kPerfEventIocEnable = 0x2400;
inline constexpr uint32_t kPerfEventIocDisable = 0x2401;
inline constexpr uint32_t kPerfEventIocRefresh = 0x2402;
inline constexpr uint32_t kPerfEventIocReset = 0x2403;
inline constexpr uint32_t kPerfEventIocPeriod = 0x40082404;
inline constexpr uint32_t kPerfEventIocSetOutput = 0x2405;
inline constexpr uint32_t kPerfEventIocSetFilter = 0x40082406;
inline constexpr uint32_t kPerfEventIocId = 0x80082407;
inline constexpr uint32_t kPerfEventIocSetBpf = 0x40042408;
inline constexpr uint32_t kPerfEventIocPauseOutput = 0x40042409;
inline constexpr uint32_t kPerfEventIocQueryBpf = 0xc008240a;
inline constexpr uint32_t kPerfEventIocModifyAttributes = 0x4008240b;
inline constexpr uint32_t kPerfIocFlagGroup = 1;

// struct perf_event_query_bpf's head; `ids` follow. BPF_TRACE_MAX_PROGS programs per event.
struct PerfEventQueryBpf {
  uint32_t ids_len;
  uint32_t prog_cnt;
};
inline constexpr uint32_t kBpfTraceMaxPrograms = 64;

// struct perf_event_mmap_page: the fields the core fills; data_* sit at 1024.
inline constexpr uint32_t kPerfMmapPageVersion = 0;
inline constexpr uint32_t kPerfMmapPageCapabilities = 40;
inline constexpr uint32_t kPerfMmapPageSize = 72;  // `size`: offsetof(__reserved) = 96
inline constexpr uint32_t kPerfMmapPageSizeValue = 96;
inline constexpr uint64_t kPerfCapBit0IsDeprecated = 1u << 1;

// struct perf_event_header and the record types the rings carry.
struct PerfEventHeader {
  uint32_t type;
  uint16_t misc;
  uint16_t size;
};
inline constexpr uint32_t kPerfRecordLost = 2;
inline constexpr uint32_t kPerfRecordMmap = 1;
inline constexpr uint32_t kPerfRecordComm = 3;
inline constexpr uint32_t kPerfRecordExit = 4;
inline constexpr uint32_t kPerfRecordFork = 7;
inline constexpr uint32_t kPerfRecordMmap2 = 10;
inline constexpr uint16_t kPerfRecordMiscCommExec = 1 << 13;
inline constexpr uint16_t kPerfRecordMiscKernel = 1;  // PERF_RECORD_MISC_KERNEL
inline constexpr uint16_t kPerfRecordMiscUser = 2;    // PERF_RECORD_MISC_USER
inline constexpr uint32_t kPerfRecordSample = 9;

}  // namespace trace
