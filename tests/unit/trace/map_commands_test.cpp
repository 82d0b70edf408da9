// SPDX-License-Identifier: MIT
// MAP_CREATE, the element commands, MAP_FREEZE, the batches and bpf_map_info, with Linux's errno.
#include <linux/bpf.h>

#include "trace_test_support.hpp"

namespace trace::testing {
namespace {

class MapCommands : public TraceCoreTest {
 protected:
  void SetUp() override {
    TraceCoreTest::SetUp();
    memory_.allow(&key_, sizeof(key_));
    memory_.allow(&value_, sizeof(value_));
    memory_.allow(keys_, sizeof(keys_));
    memory_.allow(values_, sizeof(values_));
    memory_.allow(&in_batch_, sizeof(in_batch_));
    memory_.allow(&out_batch_, sizeof(out_batch_));
  }
  int64_t hash() { return create_map(BPF_MAP_TYPE_HASH, 4, 8, 8, 0, "counts"); }
  int64_t batch(int command, int64_t map, uint32_t count, bool from_start = true,
                uint64_t elem_flags = 0) {
    BpfAttr attr = {};
    attr.batch.map_fd = static_cast<uint32_t>(map);
    attr.batch.in_batch = from_start ? 0 : address(&in_batch_);
    attr.batch.out_batch = address(&out_batch_);
    attr.batch.keys = address(keys_);
    attr.batch.values = address(values_);
    attr.batch.count = count;
    attr.batch.elem_flags = elem_flags;
    int64_t result = bpf(command, attr);
    batch_count_ = attr.batch.count;
    return result;
  }

  uint32_t key_ = 0;
  uint64_t value_ = 0;
  uint32_t keys_[16] = {};
  uint64_t values_[16] = {};
  uint32_t in_batch_ = 0, out_batch_ = 0, batch_count_ = 0;
};

TEST_F(MapCommands, CreateReturnsAHandleAndChecksAttributesAsLinux) {
  EXPECT_GT(hash(), 0);
  EXPECT_EQ(create_map(BPF_MAP_TYPE_HASH, 0, 8, 8), -rt::kEINVAL) << "zero key size";
  EXPECT_EQ(create_map(BPF_MAP_TYPE_ARRAY, 8, 8, 8), -rt::kEINVAL) << "array keys are u32";
  EXPECT_EQ(create_map(1000, 4, 8, 8), -rt::kEINVAL) << "unknown type";
  EXPECT_EQ(create_map(BPF_MAP_TYPE_HASH, 4, 8, 8, BPF_F_RDONLY | BPF_F_WRONLY), -rt::kEINVAL);
  EXPECT_EQ(create_map(BPF_MAP_TYPE_LRU_HASH, 4, 8, 8, BPF_F_NO_PREALLOC), -rt::kENOTSUPP);
  EXPECT_EQ(create_map(BPF_MAP_TYPE_HASH, 4, 8, 8, 0, "bad-name"), -rt::kEINVAL);
}

TEST_F(MapCommands, CreateRefusesBtfIdsWithoutABtfObjectAndNonzeroExtra) {
  BpfAttr attr = {};
  attr.map_create.map_type = BPF_MAP_TYPE_HASH;
  attr.map_create.key_size = 4;
  attr.map_create.value_size = 8;
  attr.map_create.max_entries = 8;
  attr.map_create.btf_key_type_id = 1;
  EXPECT_EQ(bpf(kMapCreate, attr), -rt::kEINVAL) << "a key type without a value type";
  attr.map_create.btf_value_type_id = 2;
  attr.map_create.btf_fd = 77;
  EXPECT_EQ(bpf(kMapCreate, attr), -rt::kEBADF);
  attr.map_create.btf_key_type_id = attr.map_create.btf_value_type_id = 0;
  attr.map_create.map_extra = 1;
  EXPECT_EQ(bpf(kMapCreate, attr), -rt::kEINVAL);
  attr.map_create.map_extra = 0;
  attr.map_create.map_flags = BPF_F_NUMA_NODE;
  attr.map_create.numa_node = 1;
  EXPECT_EQ(bpf(kMapCreate, attr), -rt::kEINVAL) << "only node 0 is online";
  attr.map_create.numa_node = 0;
  EXPECT_GT(bpf(kMapCreate, attr), 0);
}

TEST_F(MapCommands, UpdateLookupDeleteAndTheirErrors) {
  int64_t map = hash();
  key_ = 7;
  value_ = 700;
  EXPECT_EQ(elem(kMapUpdateElem, map, &key_, &value_, BPF_EXIST), -rt::kENOENT);
  EXPECT_EQ(elem(kMapUpdateElem, map, &key_, &value_, BPF_NOEXIST), 0);
  EXPECT_EQ(elem(kMapUpdateElem, map, &key_, &value_, BPF_NOEXIST), -rt::kEEXIST);
  EXPECT_EQ(elem(kMapUpdateElem, map, &key_, &value_, BPF_F_LOCK), -rt::kEINVAL) << "no spin lock";
  EXPECT_EQ(elem(kMapUpdateElem, map, &key_, &value_, 8), -rt::kEINVAL);
  value_ = 0;
  EXPECT_EQ(elem(kMapLookupElem, map, &key_, &value_), 0);
  EXPECT_EQ(value_, 700u);
  EXPECT_EQ(elem(kMapLookupElem, map, &key_, &value_, 2), -rt::kEINVAL)
      << "lookup flags: F_LOCK only";
  EXPECT_EQ(elem(kMapDeleteElem, map, &key_, nullptr), 0);
  EXPECT_EQ(elem(kMapDeleteElem, map, &key_, nullptr), -rt::kENOENT);
  EXPECT_EQ(elem(kMapLookupElem, map, &key_, &value_), -rt::kENOENT);
}

TEST_F(MapCommands, BadPointersAreEFAULT) {
  int64_t map = hash();
  uint32_t unregistered = 1;
  EXPECT_EQ(elem(kMapUpdateElem, map, &unregistered, &value_), -rt::kEFAULT);
  EXPECT_EQ(elem(kMapUpdateElem, map, &key_, nullptr), -rt::kEFAULT);
  ASSERT_EQ(elem(kMapUpdateElem, map, &key_, &value_), 0);
  uint64_t read_only = 0;
  memory_.allow(&read_only, sizeof(read_only), /*writable=*/false);
  EXPECT_EQ(elem(kMapLookupElem, map, &key_, &read_only), -rt::kEFAULT);
}

TEST_F(MapCommands, FdsThatAreNotMapsAreEBADFOrEINVAL) {
  EXPECT_EQ(elem(kMapLookupElem, 5, &key_, &value_), -rt::kEBADF);
  EXPECT_EQ(elem(kMapLookupElem, -1, &key_, &value_), -rt::kEBADF);
  std::vector<ebpf::Insn> insns = assemble("mov %r0, 0\nexit");
  int64_t program = load(insns);
  ASSERT_GT(program, 0);
  EXPECT_EQ(elem(kMapLookupElem, program, &key_, &value_), -rt::kEINVAL);
}

TEST_F(MapCommands, GetNextKeyWalksEveryKeyThenENOENT) {
  int64_t map = hash();
  for (uint32_t k = 1; k <= 3; ++k) {
    key_ = k;
    value_ = k;
    ASSERT_EQ(elem(kMapUpdateElem, map, &key_, &value_), 0);
  }
  uint32_t next = 0, seen = 0;
  memory_.allow(&next, sizeof(next));
  ASSERT_EQ(elem(kMapGetNextKey, map, nullptr, &next), 0) << "no key: the first one";
  seen |= 1u << next;
  key_ = next;
  while (elem(kMapGetNextKey, map, &key_, &next) == 0) {
    seen |= 1u << next;
    key_ = next;
  }
  EXPECT_EQ(seen, 0b1110u);
  EXPECT_EQ(elem(kMapGetNextKey, map, &key_, &next), -rt::kENOENT);
}

TEST_F(MapCommands, ReadOnlyAndWriteOnlyMapsRefuseTheOtherSide) {
  int64_t read_only = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 2, BPF_F_RDONLY);
  int64_t write_only = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 2, BPF_F_WRONLY);
  EXPECT_EQ(elem(kMapUpdateElem, read_only, &key_, &value_), -rt::kEPERM);
  EXPECT_EQ(elem(kMapLookupElem, read_only, &key_, &value_), 0);
  EXPECT_EQ(elem(kMapLookupElem, write_only, &key_, &value_), -rt::kEPERM);
  EXPECT_EQ(elem(kMapGetNextKey, write_only, &key_, &value_), -rt::kEPERM);
  EXPECT_EQ(elem(kMapUpdateElem, write_only, &key_, &value_), 0);
}

TEST_F(MapCommands, FreezeTakesWritesAwayOnceThenEBUSY) {
  int64_t map = hash();
  ASSERT_EQ(elem(kMapUpdateElem, map, &key_, &value_), 0);
  BpfAttr attr = {};
  attr.elem.map_fd = static_cast<uint32_t>(map);
  EXPECT_EQ(bpf(kMapFreeze, attr), 0);
  EXPECT_EQ(bpf(kMapFreeze, attr), -rt::kEBUSY);
  EXPECT_EQ(elem(kMapUpdateElem, map, &key_, &value_), -rt::kEPERM);
  EXPECT_EQ(elem(kMapDeleteElem, map, &key_, nullptr), -rt::kEPERM);
  EXPECT_EQ(elem(kMapLookupElem, map, &key_, &value_), 0);
  attr.elem.map_fd = 99;
  EXPECT_EQ(bpf(kMapFreeze, attr), -rt::kEBADF);
}

TEST_F(MapCommands, LookupAndDeleteOnHashesQueuesAndArrays) {
  int64_t map = hash();
  key_ = 3;
  value_ = 33;
  ASSERT_EQ(elem(kMapUpdateElem, map, &key_, &value_), 0);
  value_ = 0;
  EXPECT_EQ(elem(kMapLookupAndDeleteElem, map, &key_, &value_), 0);
  EXPECT_EQ(value_, 33u);
  EXPECT_EQ(elem(kMapLookupAndDeleteElem, map, &key_, &value_), -rt::kENOENT);
  EXPECT_EQ(elem(kMapLookupAndDeleteElem, map, &key_, &value_, 1), -rt::kEINVAL);

  int64_t queue = create_map(BPF_MAP_TYPE_QUEUE, 0, 8, 4);
  ASSERT_GT(queue, 0);
  value_ = 5;
  EXPECT_EQ(elem(kMapUpdateElem, queue, &key_, &value_), -rt::kEINVAL) << "a queue takes no key";
  EXPECT_EQ(elem(kMapUpdateElem, queue, nullptr, &value_), 0);
  value_ = 0;
  EXPECT_EQ(elem(kMapLookupAndDeleteElem, queue, nullptr, &value_, BPF_F_LOCK), -rt::kEINVAL);
  EXPECT_EQ(elem(kMapLookupAndDeleteElem, queue, nullptr, &value_), 0);
  EXPECT_EQ(value_, 5u);
  EXPECT_EQ(elem(kMapLookupAndDeleteElem, queue, nullptr, &value_), -rt::kENOENT);

  int64_t array = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 2);
  key_ = 0;
  EXPECT_EQ(elem(kMapLookupAndDeleteElem, array, &key_, &value_), -rt::kENOTSUPP);
}

TEST_F(MapCommands, BatchesCountWhatTheyDidAndEndWithENOENT) {
  int64_t map = hash();
  for (uint32_t i = 0; i < 5; ++i) {
    keys_[i] = i + 1;
    values_[i] = 10 * (i + 1);
  }
  EXPECT_EQ(batch(kMapUpdateBatch, map, 5), 0);
  EXPECT_EQ(batch_count_, 5u);
  std::fill(std::begin(keys_), std::end(keys_), 0);
  EXPECT_EQ(batch(kMapLookupBatch, map, 16), -rt::kENOENT)
      << "the whole map fits: the end is reached";
  EXPECT_EQ(batch_count_, 5u);
  uint32_t sum = 0;
  for (uint32_t i = 0; i < 5; ++i) {
    sum += keys_[i];
    EXPECT_EQ(values_[i], 10u * keys_[i]);
  }
  EXPECT_EQ(sum, 15u);
  EXPECT_EQ(batch(kMapLookupBatch, map, 0), 0) << "a zero count does nothing";
  EXPECT_EQ(batch(kMapLookupBatch, map, 4, true, BPF_F_LOCK), -rt::kEINVAL);

  keys_[0] = 1;
  keys_[1] = 99;  // missing: deletion stops here
  keys_[2] = 2;
  EXPECT_EQ(batch(kMapDeleteBatch, map, 3), -rt::kENOENT);
  EXPECT_EQ(batch_count_, 1u);
  EXPECT_EQ(batch(kMapLookupAndDeleteBatch, map, 16), -rt::kENOENT);
  EXPECT_EQ(batch_count_, 4u);
  EXPECT_EQ(elem(kMapGetNextKey, map, nullptr, &key_), -rt::kENOENT) << "the map is empty";
}

TEST_F(MapCommands, BatchesOnArraysAndUnsupportedTypes) {
  int64_t array = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4);
  EXPECT_EQ(batch(kMapLookupBatch, array, 2), 0);
  EXPECT_EQ(batch_count_, 2u);
  EXPECT_EQ(out_batch_, 1u) << "the generic walk's token is the last key";
  in_batch_ = out_batch_;
  EXPECT_EQ(batch(kMapLookupBatch, array, 8, /*from_start=*/false), -rt::kENOENT);
  EXPECT_EQ(batch_count_, 2u);
  EXPECT_EQ(batch(kMapDeleteBatch, array, 1), -rt::kENOTSUPP);
  EXPECT_EQ(batch(kMapLookupAndDeleteBatch, array, 1), -rt::kENOTSUPP);
  int64_t queue = create_map(BPF_MAP_TYPE_QUEUE, 0, 8, 4);
  EXPECT_EQ(batch(kMapLookupBatch, queue, 1), -rt::kENOTSUPP);
  int64_t read_only = create_map(BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_RDONLY);
  EXPECT_EQ(batch(kMapUpdateBatch, read_only, 1), -rt::kEPERM);
}

TEST_F(MapCommands, AHugeBatchCountNeedsNoHugeBuffers) {
  int64_t array = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4);
  uint64_t before = allocator_.allocations();
  EXPECT_EQ(batch(kMapLookupBatch, array, 0xffffffffu), -rt::kENOENT)
      << "the whole array, then the end";
  EXPECT_EQ(batch_count_, 4u);
  EXPECT_LE(allocator_.allocations() - before, 2u);
  int64_t map = hash();
  EXPECT_EQ(batch(kMapLookupBatch, map, 0xffffffffu), -rt::kENOENT) << "an empty hash";
  EXPECT_EQ(batch_count_, 0u);
}

TEST_F(MapCommands, UpdateBatchStopsAtAnUnreadableKeyWithEFAULT) {
  int64_t map = hash();
  uint32_t two_keys[2] = {1, 2};  // a third key would be past the readable region
  memory_.allow(two_keys, sizeof(two_keys), false);
  BpfAttr attr = {};
  attr.batch.map_fd = static_cast<uint32_t>(map);
  attr.batch.keys = address(two_keys);
  attr.batch.values = address(values_);
  attr.batch.count = 3;
  EXPECT_EQ(bpf(kMapUpdateBatch, attr), -rt::kEFAULT);
  EXPECT_EQ(attr.batch.count, 2u);
}

TEST_F(MapCommands, ProgramArraysTakeProgramFdsAndHoldTheirPrograms) {
  int64_t array = create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2);
  ASSERT_GT(array, 0);
  // The target returns 42; the caller tail-calls slot 1 and returns 1 if that fails.
  int64_t target = load(assemble("mov %r0, 42\nexit"), BPF_PROG_TYPE_RAW_TRACEPOINT);
  int64_t caller = load(assemble("lddw %r2, map:" + std::to_string(array) +
                                 "\nmov %r3, 1\ncall 12\nmov %r0, 1\nexit"),
                        BPF_PROG_TYPE_RAW_TRACEPOINT);
  ASSERT_GT(target, 0);
  ASSERT_GT(caller, 0);
  BpfAttr run = {};
  run.test.prog_fd = static_cast<uint32_t>(caller);
  ASSERT_EQ(bpf(kProgTestRun, run), 0);
  EXPECT_EQ(run.test.retval, 1u) << "an empty slot: the tail call falls through";

  uint32_t fd = static_cast<uint32_t>(target);
  memory_.allow(&fd, sizeof(fd));
  key_ = 1;
  EXPECT_EQ(elem(kMapUpdateElem, array, &key_, &fd, BPF_NOEXIST), -rt::kEINVAL) << "BPF_ANY only";
  key_ = 2;
  EXPECT_EQ(elem(kMapUpdateElem, array, &key_, &fd), -rt::kE2BIG);
  key_ = 1;
  ASSERT_EQ(elem(kMapUpdateElem, array, &key_, &fd), 0);
  ASSERT_EQ(bpf(kProgTestRun, run), 0);
  EXPECT_EQ(run.test.retval, 42u);
  uint32_t id = 0;
  memory_.allow(&id, sizeof(id));
  EXPECT_EQ(elem(kMapLookupElem, array, &key_, &id), 0);
  EXPECT_EQ(id, 1u) << "a lookup gives the program's id";

  uint32_t not_a_program = static_cast<uint32_t>(array);
  memory_.allow(&not_a_program, sizeof(not_a_program));
  EXPECT_EQ(elem(kMapUpdateElem, array, &key_, &not_a_program), -rt::kEINVAL);
  uint32_t closed = 99;
  memory_.allow(&closed, sizeof(closed));
  EXPECT_EQ(elem(kMapUpdateElem, array, &key_, &closed), -rt::kEBADF);
  int64_t kprobe = load(assemble("mov %r0, 0\nexit"));
  uint32_t other_type = static_cast<uint32_t>(kprobe);
  memory_.allow(&other_type, sizeof(other_type));
  EXPECT_EQ(elem(kMapUpdateElem, array, &key_, &other_type), -rt::kEINVAL)
      << "the array's owner is raw_tp";

  // The slot keeps the target alive; deleting the element lets it go.
  ASSERT_TRUE(session_.close(static_cast<int32_t>(target)).ok());
  EXPECT_NE(objects_.find(ObjectKind::kProgram, 1), nullptr);
  EXPECT_EQ(elem(kMapDeleteElem, array, &key_, nullptr), 0);
  EXPECT_EQ(objects_.find(ObjectKind::kProgram, 1), nullptr);
  EXPECT_EQ(elem(kMapDeleteElem, array, &key_, nullptr), -rt::kENOENT);
}

TEST_F(MapCommands, ClosingAProgramArraysLastHandleBreaksTailCallCycles) {
  int64_t array = create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1);
  // A program that tail-calls through the array it sits in: each holds the other.
  int64_t program = load(assemble("lddw %r2, map:" + std::to_string(array) +
                                  "\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit"));
  ASSERT_GT(program, 0);
  uint32_t fd = static_cast<uint32_t>(program);
  memory_.allow(&fd, sizeof(fd));
  key_ = 0;
  ASSERT_EQ(elem(kMapUpdateElem, array, &key_, &fd), 0);
  ASSERT_TRUE(session_.close(static_cast<int32_t>(program)).ok());
  ASSERT_TRUE(session_.close(static_cast<int32_t>(array)).ok());
  EXPECT_EQ(objects_.count(ObjectKind::kProgram), 0u);
  EXPECT_EQ(objects_.count(ObjectKind::kMap), 0u);
}

TEST_F(MapCommands, MapInfoReportsTheMapAndRespectsInfoLen) {
  int64_t map = create_map(BPF_MAP_TYPE_HASH, 4, 8, 8, BPF_F_NO_PREALLOC, "counts");
  MapInfo info = {};
  memory_.allow(&info, sizeof(info));
  BpfAttr attr = {};
  attr.info.bpf_fd = static_cast<uint32_t>(map);
  attr.info.info = address(&info);
  attr.info.info_len = sizeof(info);
  ASSERT_EQ(bpf(kObjGetInfoByFd, attr), 0);
  EXPECT_EQ(attr.info.info_len, sizeof(MapInfo));
  EXPECT_EQ(info.type, uint32_t{BPF_MAP_TYPE_HASH});
  EXPECT_EQ(info.id, 1u);
  EXPECT_EQ(info.key_size, 4u);
  EXPECT_EQ(info.value_size, 8u);
  EXPECT_EQ(info.max_entries, 8u);
  EXPECT_EQ(info.map_flags, uint32_t{BPF_F_NO_PREALLOC});
  EXPECT_STREQ(info.name, "counts");

  MapInfo short_info = {};
  memory_.allow(&short_info, sizeof(short_info));
  attr.info.info = address(&short_info);
  attr.info.info_len = 8;
  ASSERT_EQ(bpf(kObjGetInfoByFd, attr), 0);
  EXPECT_EQ(attr.info.info_len, 8u);
  EXPECT_EQ(short_info.type, uint32_t{BPF_MAP_TYPE_HASH});
  EXPECT_EQ(short_info.key_size, 0u) << "only info_len bytes are written";

  uint8_t longer[sizeof(MapInfo) + 8] = {};
  memory_.allow(longer, sizeof(longer));
  attr.info.info = address(longer);
  attr.info.info_len = sizeof(longer);
  ASSERT_EQ(bpf(kObjGetInfoByFd, attr), 0) << "a zero tail is fine";
  EXPECT_EQ(attr.info.info_len, sizeof(MapInfo));
  longer[sizeof(MapInfo) + 3] = 1;
  attr.info.info_len = sizeof(longer);
  EXPECT_EQ(bpf(kObjGetInfoByFd, attr), -rt::kE2BIG);
  attr.info.bpf_fd = 77;
  EXPECT_EQ(bpf(kObjGetInfoByFd, attr), -rt::kEBADFD);
}

}  // namespace
}  // namespace trace::testing
