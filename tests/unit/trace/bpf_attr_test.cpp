// SPDX-License-Identifier: MIT
// bpf_attr and bpf_*_info layouts against Linux's uapi header; the attr size and CHECK_ATTR rules.
#include <linux/bpf.h>

#include <cstddef>

#include "trace_test_support.hpp"

namespace trace::testing {
namespace {

#define SAME_OFFSET(ours, our_field, linux_type, linux_field) \
  static_assert(offsetof(ours, our_field) == offsetof(linux_type, linux_field), #linux_field)

SAME_OFFSET(MapCreateAttr, map_name, union bpf_attr, map_name);
SAME_OFFSET(MapCreateAttr, btf_vmlinux_value_type_id, union bpf_attr, btf_vmlinux_value_type_id);
SAME_OFFSET(MapCreateAttr, map_extra, union bpf_attr, map_extra);
SAME_OFFSET(MapElemAttr, key, union bpf_attr, key);
SAME_OFFSET(MapElemAttr, value, union bpf_attr, value);
SAME_OFFSET(MapElemAttr, flags, union bpf_attr, flags);
SAME_OFFSET(MapBatchAttr, count, union bpf_attr, batch.count);
SAME_OFFSET(MapBatchAttr, map_fd, union bpf_attr, batch.map_fd);
SAME_OFFSET(MapBatchAttr, flags, union bpf_attr, batch.flags);
SAME_OFFSET(ProgLoadAttr, license, union bpf_attr, license);
SAME_OFFSET(ProgLoadAttr, log_buf, union bpf_attr, log_buf);
SAME_OFFSET(ProgLoadAttr, prog_name, union bpf_attr, prog_name);
SAME_OFFSET(ProgLoadAttr, expected_attach_type, union bpf_attr, expected_attach_type);
SAME_OFFSET(ProgLoadAttr, func_info, union bpf_attr, func_info);
SAME_OFFSET(ProgLoadAttr, line_info_cnt, union bpf_attr, line_info_cnt);
SAME_OFFSET(ProgLoadAttr, attach_prog_fd, union bpf_attr, attach_prog_fd);
SAME_OFFSET(ProgLoadAttr, fd_array, union bpf_attr, fd_array);
SAME_OFFSET(ProgLoadAttr, core_relo_rec_size, union bpf_attr, core_relo_rec_size);
SAME_OFFSET(TestRunAttr, retval, union bpf_attr, test.retval);
SAME_OFFSET(TestRunAttr, ctx_in, union bpf_attr, test.ctx_in);
SAME_OFFSET(TestRunAttr, batch_size, union bpf_attr, test.batch_size);
SAME_OFFSET(GetIdAttr, next_id, union bpf_attr, next_id);
SAME_OFFSET(GetIdAttr, open_flags, union bpf_attr, open_flags);
SAME_OFFSET(InfoAttr, info_len, union bpf_attr, info.info_len);
SAME_OFFSET(InfoAttr, info, union bpf_attr, info.info);
SAME_OFFSET(MapInfo, name, struct bpf_map_info, name);
SAME_OFFSET(MapInfo, netns_dev, struct bpf_map_info, netns_dev);
SAME_OFFSET(MapInfo, btf_value_type_id, struct bpf_map_info, btf_value_type_id);
SAME_OFFSET(MapInfo, map_extra, struct bpf_map_info, map_extra);
SAME_OFFSET(ProgInfo, tag, struct bpf_prog_info, tag);
SAME_OFFSET(ProgInfo, xlated_prog_insns, struct bpf_prog_info, xlated_prog_insns);
SAME_OFFSET(ProgInfo, map_ids, struct bpf_prog_info, map_ids);
SAME_OFFSET(ProgInfo, name, struct bpf_prog_info, name);
SAME_OFFSET(ProgInfo, netns_dev, struct bpf_prog_info, netns_dev);
SAME_OFFSET(ProgInfo, jited_ksyms, struct bpf_prog_info, jited_ksyms);
SAME_OFFSET(ProgInfo, func_info_rec_size, struct bpf_prog_info, func_info_rec_size);
SAME_OFFSET(ProgInfo, jited_line_info_rec_size, struct bpf_prog_info, jited_line_info_rec_size);
SAME_OFFSET(ProgInfo, prog_tags, struct bpf_prog_info, prog_tags);
SAME_OFFSET(ProgInfo, verified_insns, struct bpf_prog_info, verified_insns);
SAME_OFFSET(ProgInfo, attach_btf_id, struct bpf_prog_info, attach_btf_id);
static_assert(sizeof(BpfAttr) == sizeof(union bpf_attr));
static_assert(sizeof(MapInfo) == sizeof(struct bpf_map_info));
static_assert(sizeof(ProgInfo) == sizeof(struct bpf_prog_info));
static_assert(int{kProgLoad} == int{BPF_PROG_LOAD} &&
              int{kMapLookupBatch} == int{BPF_MAP_LOOKUP_BATCH} &&
              int{kProgBindMap} == int{BPF_PROG_BIND_MAP} &&
              int{kObjGetInfoByFd} == int{BPF_OBJ_GET_INFO_BY_FD});

using AttrRules = TraceCoreTest;

TEST_F(AttrRules, ALargerAttrWithAZeroTailIsAccepted) {
  uint8_t big[200] = {};
  auto* attr = reinterpret_cast<BpfAttr*>(big);
  attr->map_create.map_type = BPF_MAP_TYPE_ARRAY;
  attr->map_create.key_size = 4;
  attr->map_create.value_size = 8;
  attr->map_create.max_entries = 1;
  memory_.attr = big;
  memory_.attr_size = sizeof(big);
  EXPECT_GT(status(bpf_command(session_, kMapCreate, big, sizeof(big), memory_)), 0);
}

TEST_F(AttrRules, ANonzeroByteBeyondTheKernelsAttrIsE2BIG) {
  uint8_t big[200] = {};
  big[150] = 1;
  EXPECT_EQ(status(bpf_command(session_, kMapCreate, big, sizeof(big), memory_)), -rt::kE2BIG);
}

TEST_F(AttrRules, AnAttrOverAPageIsE2BIG) {
  std::vector<uint8_t> huge(4097, 0);
  EXPECT_EQ(status(bpf_command(session_, kMapCreate, huge.data(), 4097, memory_)), -rt::kE2BIG);
}

TEST_F(AttrRules, AShortAttrReadsAsZeroes) {
  BpfAttr attr = {};
  attr.map_create.map_type = BPF_MAP_TYPE_ARRAY;
  attr.map_create.key_size = 4;
  attr.map_create.value_size = 8;
  attr.map_create.max_entries = 1;
  EXPECT_GT(bpf(kMapCreate, attr, offsetof(MapCreateAttr, map_flags)), 0);
  // Cut before max_entries: max_entries reads as 0, which an array refuses.
  EXPECT_EQ(bpf(kMapCreate, attr, offsetof(MapCreateAttr, max_entries)), -rt::kEINVAL);
}

TEST_F(AttrRules, UnusedFieldsOfACommandMustBeZero) {
  int64_t map = create_map(BPF_MAP_TYPE_HASH, 4, 4, 4);
  ASSERT_GT(map, 0);
  uint32_t key = 1, value = 2;
  BpfAttr attr = {};
  attr.elem.map_fd = static_cast<uint32_t>(map);
  attr.elem.key = address(&key);
  attr.elem.value = address(&value);
  memory_.allow(&key, 4);
  memory_.allow(&value, 4);
  attr.bytes[kMapElemFlagsEnd] = 1;
  EXPECT_EQ(bpf(kMapUpdateElem, attr), -rt::kEINVAL);
  EXPECT_EQ(bpf(kMapLookupElem, attr), -rt::kEINVAL);
  attr.bytes[kMapElemFlagsEnd] = 0;
  attr.elem.flags = 0;
  attr.elem.value = 1;  // DELETE reads no value field: a nonzero one is an unused field set
  EXPECT_EQ(bpf(kMapDeleteElem, attr), -rt::kEINVAL);
  BpfAttr freeze = {};
  freeze.elem.map_fd = static_cast<uint32_t>(map);
  freeze.elem.key = 8;
  EXPECT_EQ(bpf(kMapFreeze, freeze), -rt::kEINVAL);
  BpfAttr create = {};
  create.map_create.map_type = BPF_MAP_TYPE_ARRAY;
  create.map_create.key_size = 4;
  create.map_create.value_size = 4;
  create.map_create.max_entries = 1;
  create.bytes[kMapCreateLastFieldEnd] = 1;
  EXPECT_EQ(bpf(kMapCreate, create), -rt::kEINVAL);
  BpfAttr info = {};
  info.info.bpf_fd = static_cast<uint32_t>(map);
  info.bytes[kInfoLastFieldEnd] = 1;
  EXPECT_EQ(bpf(kObjGetInfoByFd, info), -rt::kEINVAL);
}

TEST_F(AttrRules, UnknownAndUnimplementedCommandsAreEINVAL) {
  BpfAttr attr = {};
  EXPECT_EQ(bpf(999, attr), -rt::kEINVAL);
  EXPECT_EQ(bpf(-1, attr), -rt::kEINVAL);
}

TEST(AttrRulesUnprivileged, EveryCommandIsEPERMWithoutTheCapability) {
  test_support::MallocAllocator allocator;
  TestEnvironment environment;
  ObjectTable objects(allocator, environment);
  Session session(objects, /*privileged=*/false);
  CallerMemory memory;
  BpfAttr attr = {};
  attr.map_create.map_type = BPF_MAP_TYPE_ARRAY;
  attr.map_create.key_size = 4;
  attr.map_create.value_size = 4;
  attr.map_create.max_entries = 1;
  EXPECT_EQ(status(bpf_command(session, kMapCreate, attr.bytes, sizeof(attr), memory)),
            -rt::kEPERM);
  EXPECT_EQ(status(bpf_command(session, kProgLoad, attr.bytes, sizeof(attr), memory)), -rt::kEPERM);
}

}  // namespace
}  // namespace trace::testing
