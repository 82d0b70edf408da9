// SPDX-License-Identifier: MIT
// StagedMemory: a request's Data fields as the caller's memory, the way the server binary uses it.
#include "trace/staged_memory.hpp"

#include <linux/bpf.h>

#include "trace_test_support.hpp"

namespace trace::testing {
namespace {

using StagedMemoryTest = TraceCoreTest;

TEST_F(StagedMemoryTest, ServesAMapUpdateAndLookupFromStagedBytes) {
  int64_t map = create_map(BPF_MAP_TYPE_HASH, 4, 8, 4);
  ASSERT_GT(map, 0);
  // mapUpdateElem(mapHandle, key :Data, value :Data, flags)
  uint8_t key[4] = {7, 0, 0, 0};
  uint8_t value[8] = {42, 0, 0, 0, 0, 0, 0, 0};
  BpfAttr attr = {};
  StagedMemory update(attr.bytes, sizeof(attr));
  attr.elem.map_fd = static_cast<uint32_t>(map);
  attr.elem.key = update.stage(key, sizeof(key), false);
  attr.elem.value = update.stage(value, sizeof(value), false);
  ASSERT_EQ(status(bpf_command(session_, kMapUpdateElem, attr.bytes, sizeof(attr), update)), 0);

  // mapLookupElem(mapHandle, key :Data, flags) -> (value :Data): the reply's buffer is staged
  // writable with the map's value size.
  uint8_t out[8] = {};
  BpfAttr lookup = {};
  StagedMemory memory(lookup.bytes, sizeof(lookup));
  lookup.elem.map_fd = static_cast<uint32_t>(map);
  lookup.elem.key = memory.stage(key, sizeof(key), false);
  lookup.elem.value = memory.stage(out, sizeof(out), true);
  ASSERT_EQ(status(bpf_command(session_, kMapLookupElem, lookup.bytes, sizeof(lookup), memory)), 0);
  EXPECT_EQ(out[0], 42);
}

TEST_F(StagedMemoryTest, AddressesOutsideTheStagedBytesAreEFAULT) {
  uint8_t bytes[8] = {};
  BpfAttr attr = {};
  StagedMemory memory(attr.bytes, 16);
  uint64_t address = memory.stage(bytes, sizeof(bytes), false);
  uint8_t copy[8];
  EXPECT_TRUE(memory.read(copy, address, 8).ok());
  EXPECT_TRUE(memory.read(copy, address + 4, 4).ok());
  EXPECT_EQ(memory.read(copy, address + 4, 8).error().code, rt::kEFAULT) << "past the end";
  EXPECT_EQ(memory.read(copy, 0, 1).error().code, rt::kEFAULT) << "NULL";
  EXPECT_EQ(memory.read(copy, address + (uint64_t{1} << 32), 1).error().code, rt::kEFAULT);
  EXPECT_EQ(memory.write(address, copy, 1).error().code, rt::kEFAULT) << "an input is read-only";
  uint32_t count = 3;
  EXPECT_TRUE(memory.write_attr(12, &count, 4).ok());
  EXPECT_EQ(memory.write_attr(14, &count, 4).error().code, rt::kEFAULT) << "past the attr's size";
  for (uint32_t i = 1; i < StagedMemory::kMaxRanges; ++i)
    EXPECT_NE(memory.stage(bytes, 1, true), 0u);
  EXPECT_EQ(memory.stage(bytes, 1, true), 0u) << "every range is taken";
}

TEST_F(StagedMemoryTest, ALicenseStagedWithoutItsNulStillLoads) {
  // A Text field arrives without a NUL; strncpy_from_user stops at the range's end with EFAULT,
  // so the server binary stages the text with its NUL (as capnp Text keeps one).
  std::vector<ebpf::Insn> insns = assemble("mov %r0, 0\nexit");
  char license[] = "GPL";
  BpfAttr attr = {};
  StagedMemory memory(attr.bytes, sizeof(attr));
  attr.prog_load.prog_type = BPF_PROG_TYPE_KPROBE;
  attr.prog_load.insn_cnt = 2;
  attr.prog_load.insns = memory.stage(reinterpret_cast<uint8_t*>(insns.data()), 16, false);
  attr.prog_load.license = memory.stage(reinterpret_cast<uint8_t*>(license), 3, false);
  EXPECT_EQ(status(bpf_command(session_, kProgLoad, attr.bytes, sizeof(attr), memory)),
            -rt::kEFAULT);
  attr.prog_load.license = memory.stage(reinterpret_cast<uint8_t*>(license), 4, false);
  EXPECT_GT(status(bpf_command(session_, kProgLoad, attr.bytes, sizeof(attr), memory)), 0);
}

}  // namespace
}  // namespace trace::testing
