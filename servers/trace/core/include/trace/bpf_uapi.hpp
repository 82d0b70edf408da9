// SPDX-License-Identifier: MIT
// Linux 6.1's bpf(2) ABI as the trace core reads it: command numbers, bpf_attr, bpf_*_info.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace trace {

// enum bpf_cmd (Linux uapi numbering).
enum BpfCommand : int {
  kMapCreate = 0,
  kMapLookupElem = 1,
  kMapUpdateElem = 2,
  kMapDeleteElem = 3,
  kMapGetNextKey = 4,
  kProgLoad = 5,
  kObjPin = 6,
  kObjGet = 7,
  kProgAttach = 8,
  kProgDetach = 9,
  kProgTestRun = 10,
  kProgGetNextId = 11,
  kMapGetNextId = 12,
  kProgGetFdById = 13,
  kMapGetFdById = 14,
  kObjGetInfoByFd = 15,
  kProgQuery = 16,
  kRawTracepointOpen = 17,
  kBtfLoad = 18,
  kBtfGetFdById = 19,
  kTaskFdQuery = 20,
  kMapLookupAndDeleteElem = 21,
  kMapFreeze = 22,
  kBtfGetNextId = 23,
  kMapLookupBatch = 24,
  kMapLookupAndDeleteBatch = 25,
  kMapUpdateBatch = 26,
  kMapDeleteBatch = 27,
  kLinkCreate = 28,
  kLinkUpdate = 29,
  kLinkGetFdById = 30,
  kLinkGetNextId = 31,
  kEnableStats = 32,
  kIterCreate = 33,
  kLinkDetach = 34,
  kProgBindMap = 35,
};

inline constexpr uint32_t kObjNameLen = 16;      // BPF_OBJ_NAME_LEN
inline constexpr uint32_t kTagSize = 8;          // BPF_TAG_SIZE
inline constexpr uint32_t kAttrPageSize = 4096;  // an attr larger than a page is E2BIG at once
inline constexpr uint32_t kMaxLicenseLen = 128;

// BPF_F_RDONLY / BPF_F_WRONLY as open_flags and map_flags.
inline constexpr uint32_t kFlagRdonly = 1u << 3;
inline constexpr uint32_t kFlagWronly = 1u << 4;
inline constexpr uint64_t kFlagLock = 4;  // BPF_F_LOCK

// prog_flags Linux 6.1 accepts at load.
inline constexpr uint32_t kProgLoadFlags =
    (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5);
inline constexpr uint32_t kTestRunOnCpu = 1u << 0;  // BPF_F_TEST_RUN_ON_CPU

// union bpf_attr, one struct per command family, each laid out as Linux lays out its member.
struct MapCreateAttr {
  uint32_t map_type;
  uint32_t key_size;
  uint32_t value_size;
  uint32_t max_entries;
  uint32_t map_flags;
  uint32_t inner_map_fd;
  uint32_t numa_node;
  char map_name[kObjNameLen];
  uint32_t map_ifindex;
  uint32_t btf_fd;
  uint32_t btf_key_type_id;
  uint32_t btf_value_type_id;
  uint32_t btf_vmlinux_value_type_id;
  uint64_t map_extra;
};

struct MapElemAttr {
  uint32_t map_fd;
  uint32_t padding;
  uint64_t key;
  uint64_t value;  // or next_key
  uint64_t flags;
};

struct MapBatchAttr {
  uint64_t in_batch;
  uint64_t out_batch;
  uint64_t keys;
  uint64_t values;
  uint32_t count;
  uint32_t map_fd;
  uint64_t elem_flags;
  uint64_t flags;
};

struct ProgLoadAttr {
  uint32_t prog_type;
  uint32_t insn_cnt;
  uint64_t insns;
  uint64_t license;
  uint32_t log_level;
  uint32_t log_size;
  uint64_t log_buf;
  uint32_t kern_version;
  uint32_t prog_flags;
  char prog_name[kObjNameLen];
  uint32_t prog_ifindex;
  uint32_t expected_attach_type;
  uint32_t prog_btf_fd;
  uint32_t func_info_rec_size;
  uint64_t func_info;
  uint32_t func_info_cnt;
  uint32_t line_info_rec_size;
  uint64_t line_info;
  uint32_t line_info_cnt;
  uint32_t attach_btf_id;
  uint32_t attach_prog_fd;  // or attach_btf_obj_fd
  uint32_t core_relo_cnt;
  uint64_t fd_array;
  uint64_t core_relos;
  uint32_t core_relo_rec_size;
  uint32_t log_true_size;  // Linux 6.4 (padding in 6.1): written back by PROG_LOAD
};

struct TestRunAttr {
  uint32_t prog_fd;
  uint32_t retval;
  uint32_t data_size_in;
  uint32_t data_size_out;
  uint64_t data_in;
  uint64_t data_out;
  uint32_t repeat;
  uint32_t duration;
  uint32_t ctx_size_in;
  uint32_t ctx_size_out;
  uint64_t ctx_in;
  uint64_t ctx_out;
  uint32_t flags;
  uint32_t cpu;
  uint32_t batch_size;
};

struct GetIdAttr {
  uint32_t start_id;  // or prog_id, map_id, btf_id, link_id
  uint32_t next_id;
  uint32_t open_flags;
};

struct InfoAttr {
  uint32_t bpf_fd;
  uint32_t info_len;
  uint64_t info;
};

struct ProgBindMapAttr {
  uint32_t prog_fd;
  uint32_t map_fd;
  uint32_t flags;
};

// BTF_LOAD (btf_log_true_size is Linux 6.4's, in 6.1's padding: written back like PROG_LOAD's).
struct BtfLoadAttr {
  uint64_t btf;
  uint64_t btf_log_buf;
  uint32_t btf_size;
  uint32_t btf_log_size;
  uint32_t btf_log_level;
  uint32_t btf_log_true_size;
};

// LINK_CREATE's common head; the target-specific union starts at 16 (perf_event.bpf_cookie,
// kprobe_multi.{flags, cnt, syms, addrs, cookies}, ...).
struct LinkCreateAttr {
  uint32_t prog_fd;
  uint32_t target_fd;  // or target_ifindex
  uint32_t attach_type;
  uint32_t flags;
  uint64_t target[4];
};
inline constexpr uint32_t kAttachPerfEvent = 41;  // BPF_PERF_EVENT

inline constexpr uint32_t kAttrSize = 144;  // sizeof(union bpf_attr) in Linux 6.1

// BPF_OBJ_PIN and BPF_OBJ_GET.
struct ObjAttr {
  uint64_t pathname;
  uint32_t bpf_fd;
  uint32_t file_flags;
};
inline constexpr uint32_t kObjFlagRdonly = 1u << 3;  // BPF_F_RDONLY
inline constexpr uint32_t kObjFlagWronly = 1u << 4;  // BPF_F_WRONLY

union BpfAttr {
  MapCreateAttr map_create;
  ObjAttr obj;
  MapElemAttr elem;
  MapBatchAttr batch;
  ProgLoadAttr prog_load;
  TestRunAttr test;
  GetIdAttr get_id;
  InfoAttr info;
  ProgBindMapAttr prog_bind_map;
  LinkCreateAttr link_create;
  BtfLoadAttr btf_load;
  uint8_t bytes[kAttrSize];
};

static_assert(sizeof(BpfAttr) == kAttrSize);
static_assert(offsetof(MapCreateAttr, map_name) == 28 && offsetof(MapCreateAttr, map_extra) == 64);
static_assert(offsetof(MapBatchAttr, map_fd) == 36 && sizeof(MapBatchAttr) == 56);
static_assert(offsetof(ProgLoadAttr, prog_name) == 48 && offsetof(ProgLoadAttr, fd_array) == 120);
static_assert(offsetof(ProgLoadAttr, log_true_size) == 140);
static_assert(offsetof(TestRunAttr, batch_size) == 72);
static_assert(offsetof(BtfLoadAttr, btf_log_true_size) == 28);

// The end of the last field each command reads (Linux's CHECK_ATTR: bytes after it must be 0).
inline constexpr uint32_t kMapCreateLastFieldEnd = offsetof(MapCreateAttr, map_extra) + 8;
inline constexpr uint32_t kMapElemFlagsEnd = offsetof(MapElemAttr, flags) + 8;
inline constexpr uint32_t kMapDeleteLastFieldEnd = offsetof(MapElemAttr, key) + 8;
inline constexpr uint32_t kMapNextKeyLastFieldEnd = offsetof(MapElemAttr, value) + 8;
inline constexpr uint32_t kMapFreezeLastFieldEnd = 4;
inline constexpr uint32_t kObjLastFieldEnd = sizeof(ObjAttr);
inline constexpr uint32_t kBatchLastFieldEnd = sizeof(MapBatchAttr);
inline constexpr uint32_t kProgLoadLastFieldEnd = sizeof(ProgLoadAttr);
inline constexpr uint32_t kTestRunLastFieldEnd = offsetof(TestRunAttr, batch_size) + 4;
inline constexpr uint32_t kGetNextIdLastFieldEnd = 8;
inline constexpr uint32_t kProgGetFdByIdLastFieldEnd = 4;
inline constexpr uint32_t kMapGetFdByIdLastFieldEnd = 12;
inline constexpr uint32_t kInfoLastFieldEnd = sizeof(InfoAttr);
inline constexpr uint32_t kProgBindMapLastFieldEnd = sizeof(ProgBindMapAttr);
inline constexpr uint32_t kBtfLoadLastFieldEnd = sizeof(BtfLoadAttr);
inline constexpr uint32_t kBtfGetFdByIdLastFieldEnd = 4;
inline constexpr uint32_t kEnableStatsLastFieldEnd = 4;                      // enable_stats.type
inline constexpr uint32_t kStatsRunTime = 0;                                 // BPF_STATS_RUN_TIME
inline constexpr uint32_t kLinkCreateLastFieldEnd = sizeof(LinkCreateAttr);  // kprobe_multi.cookies

// struct bpf_map_info (Linux 6.1).
struct MapInfo {
  uint32_t type;
  uint32_t id;
  uint32_t key_size;
  uint32_t value_size;
  uint32_t max_entries;
  uint32_t map_flags;
  char name[kObjNameLen];
  uint32_t ifindex;
  uint32_t btf_vmlinux_value_type_id;
  uint64_t netns_dev;
  uint64_t netns_ino;
  uint32_t btf_id;
  uint32_t btf_key_type_id;
  uint32_t btf_value_type_id;
  uint32_t padding;
  uint64_t map_extra;
};
static_assert(sizeof(MapInfo) == 88 && offsetof(MapInfo, map_extra) == 80);

// struct bpf_prog_info (Linux 6.1); `flags` holds the gpl_compatible bit field (bit 0).
struct ProgInfo {
  uint32_t type;
  uint32_t id;
  uint8_t tag[kTagSize];
  uint32_t jited_prog_len;
  uint32_t xlated_prog_len;
  uint64_t jited_prog_insns;
  uint64_t xlated_prog_insns;
  uint64_t load_time;
  uint32_t created_by_uid;
  uint32_t nr_map_ids;
  uint64_t map_ids;
  char name[kObjNameLen];
  uint32_t ifindex;
  uint32_t flags;
  uint64_t netns_dev;
  uint64_t netns_ino;
  uint32_t nr_jited_ksyms;
  uint32_t nr_jited_func_lens;
  uint64_t jited_ksyms;
  uint64_t jited_func_lens;
  uint32_t btf_id;
  uint32_t func_info_rec_size;
  uint64_t func_info;
  uint32_t nr_func_info;
  uint32_t nr_line_info;
  uint64_t line_info;
  uint64_t jited_line_info;
  uint32_t nr_jited_line_info;
  uint32_t line_info_rec_size;
  uint32_t jited_line_info_rec_size;
  uint32_t nr_prog_tags;
  uint64_t prog_tags;
  uint64_t run_time_ns;
  uint64_t run_cnt;
  uint64_t recursion_misses;
  uint32_t verified_insns;
  uint32_t attach_btf_obj_id;
  uint32_t attach_btf_id;
  uint32_t padding;
};
static_assert(sizeof(ProgInfo) == 232 && offsetof(ProgInfo, verified_insns) == 216);
static_assert(offsetof(ProgInfo, name) == 64 && offsetof(ProgInfo, prog_tags) == 184);

// struct bpf_btf_info (Linux 6.1).
struct BtfInfo {
  uint64_t btf;
  uint32_t btf_size;
  uint32_t id;
  uint64_t name;
  uint32_t name_len;
  uint32_t kernel_btf;
};
static_assert(sizeof(BtfInfo) == 32);

// Record sizes bpf_prog_info reports (struct bpf_func_info, bpf_line_info, a jited line).
inline constexpr uint32_t kFuncInfoRecSize = 8;
inline constexpr uint32_t kLineInfoRecSize = 16;
inline constexpr uint32_t kJitedLineInfoRecSize = 8;

}  // namespace trace
