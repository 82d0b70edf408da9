// SPDX-License-Identifier: MIT
// Object ids (Linux's idr), *_GET_NEXT_ID, *_GET_FD_BY_ID, handles and object lifetimes.
#include <linux/bpf.h>

#include "trace_test_support.hpp"

namespace trace::testing {
namespace {

class ObjectIds : public TraceCoreTest {
 protected:
  int64_t next_id(int command, uint32_t start, uint32_t* next) {
    BpfAttr attr = {};
    attr.get_id.start_id = start;
    int64_t result = bpf(command, attr);
    *next = attr.get_id.next_id;
    return result;
  }
  int64_t fd_by_id(int command, uint32_t id, uint32_t open_flags = 0) {
    BpfAttr attr = {};
    attr.get_id.start_id = id;
    attr.get_id.open_flags = open_flags;
    return bpf(command, attr);
  }
};

TEST_F(ObjectIds, IdsStartAtOneAndAreNotReusedWhileOrAfterAnObjectLives) {
  int64_t a = create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1);
  int64_t b = create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1);
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  EXPECT_EQ(objects_.find(ObjectKind::kMap, 1), session_.lookup(static_cast<int32_t>(a))->object);
  EXPECT_EQ(objects_.find(ObjectKind::kMap, 2), session_.lookup(static_cast<int32_t>(b))->object);
  ASSERT_TRUE(session_.close(static_cast<int32_t>(a)).ok());
  EXPECT_EQ(objects_.find(ObjectKind::kMap, 1), nullptr) << "the last handle took the map away";
  int64_t c = create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1);
  EXPECT_EQ(session_.lookup(static_cast<int32_t>(c))->object->id, 3u)
      << "ids are cyclic, as idr_alloc_cyclic";
  EXPECT_EQ(c, a) << "handles are reused lowest first, like fds";
  int64_t program = load(assemble("mov %r0, 0\nexit"));
  EXPECT_EQ(session_.lookup(static_cast<int32_t>(program))->object->id, 1u)
      << "each kind has its own ids";
}

TEST_F(ObjectIds, GetNextIdWalksLiveIdsThenENOENT) {
  create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1);
  int64_t second = create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1);
  create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1);
  ASSERT_TRUE(session_.close(static_cast<int32_t>(second)).ok());
  uint32_t next = 0;
  ASSERT_EQ(next_id(kMapGetNextId, 0, &next), 0);
  EXPECT_EQ(next, 1u);
  ASSERT_EQ(next_id(kMapGetNextId, 1, &next), 0);
  EXPECT_EQ(next, 3u);
  EXPECT_EQ(next_id(kMapGetNextId, 3, &next), -rt::kENOENT);
  EXPECT_EQ(next_id(kProgGetNextId, 0, &next), -rt::kENOENT) << "no programs";
  EXPECT_EQ(next_id(kMapGetNextId, 0x7fffffff, &next), -rt::kEINVAL);
  BpfAttr attr = {};
  attr.get_id.open_flags = 1;  // past next_id: an unused field
  EXPECT_EQ(bpf(kMapGetNextId, attr), -rt::kEINVAL);
}

TEST_F(ObjectIds, GetFdByIdOpensAnotherHandleWithItsOwnMode) {
  int64_t map = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
  int64_t reader = fd_by_id(kMapGetFdById, 1, BPF_F_RDONLY);
  ASSERT_GT(reader, 0);
  EXPECT_NE(reader, map);
  uint32_t key = 0;
  uint64_t value = 1;
  memory_.allow(&key, sizeof(key));
  memory_.allow(&value, sizeof(value));
  EXPECT_EQ(elem(kMapUpdateElem, reader, &key, &value), -rt::kEPERM);
  EXPECT_EQ(elem(kMapLookupElem, reader, &key, &value), 0);
  EXPECT_EQ(elem(kMapUpdateElem, map, &key, &value), 0);
  EXPECT_EQ(fd_by_id(kMapGetFdById, 1, BPF_F_RDONLY | BPF_F_WRONLY), -rt::kEINVAL);
  EXPECT_EQ(fd_by_id(kMapGetFdById, 1, 1u << 9), -rt::kEINVAL);
  EXPECT_EQ(fd_by_id(kMapGetFdById, 9), -rt::kENOENT);
  EXPECT_EQ(fd_by_id(kProgGetFdById, 1), -rt::kENOENT);
  int64_t program = load(assemble("mov %r0, 0\nexit"));
  ASSERT_GT(program, 0);
  EXPECT_GT(fd_by_id(kProgGetFdById, 1), 0);
  EXPECT_EQ(fd_by_id(kProgGetFdById, 1, BPF_F_RDONLY), -rt::kEINVAL)
      << "programs take no open_flags";
}

TEST_F(ObjectIds, AProgramKeepsItsMapsAlive) {
  int64_t map = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
  int64_t program = load(assemble("lddw %r1, map:" + std::to_string(map) + "\nmov %r0, 0\nexit"));
  ASSERT_GT(program, 0);
  ASSERT_TRUE(session_.close(static_cast<int32_t>(map)).ok());
  EXPECT_NE(objects_.find(ObjectKind::kMap, 1), nullptr);
  ASSERT_TRUE(session_.close(static_cast<int32_t>(program)).ok());
  EXPECT_EQ(objects_.find(ObjectKind::kMap, 1), nullptr);
  EXPECT_EQ(objects_.find(ObjectKind::kProgram, 1), nullptr);
  EXPECT_EQ(session_.close(static_cast<int32_t>(program)).error().code, rt::kEBADF);
}

TEST_F(ObjectIds, ClosingTheSessionFreesEverything) {
  {
    Session other(objects_);
    CallerMemory memory;
    BpfAttr attr = {};
    attr.map_create.map_type = BPF_MAP_TYPE_HASH;
    attr.map_create.key_size = 4;
    attr.map_create.value_size = 4;
    attr.map_create.max_entries = 4;
    EXPECT_EQ(status(bpf_command(other, kMapCreate, attr.bytes, sizeof(attr), memory)), 1);
    EXPECT_EQ(objects_.count(ObjectKind::kMap), 1u);
  }
  EXPECT_EQ(objects_.count(ObjectKind::kMap), 0u);
}

TEST(ObjectLifetimes, EveryByteComesBackWhenTheSessionAndTableGo) {
  HostAllocator allocator;
  {
    TestEnvironment environment;
    ObjectTable objects(allocator, environment);
    Session session(objects);
    CallerMemory memory;
    auto call = [&](int command, BpfAttr& attr) {
      memory.attr = attr.bytes;
      memory.attr_size = sizeof(attr);
      return status(bpf_command(session, command, attr.bytes, sizeof(attr), memory));
    };
    BpfAttr create = {};
    create.map_create.map_type = BPF_MAP_TYPE_PROG_ARRAY;
    create.map_create.key_size = 4;
    create.map_create.value_size = 4;
    create.map_create.max_entries = 2;
    int64_t array = call(kMapCreate, create);
    create.map_create.map_type = BPF_MAP_TYPE_HASH;
    create.map_create.value_size = 8;
    int64_t hash = call(kMapCreate, create);
    ASSERT_GT(array, 0);
    ASSERT_GT(hash, 0);
    ebpf::AssemblyResult assembled = ebpf::assemble("lddw %r2, map:" + std::to_string(array) +
                                                    "\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit");
    ASSERT_TRUE(assembled.ok());
    const char license[] = "GPL";
    memory.allow(license, sizeof(license), false);
    memory.allow(assembled.insns.data(), assembled.insns.size() * 8, false);
    BpfAttr load = {};
    load.prog_load.prog_type = BPF_PROG_TYPE_KPROBE;
    load.prog_load.insns = address(assembled.insns.data());
    load.prog_load.insn_cnt = static_cast<uint32_t>(assembled.insns.size());
    load.prog_load.license = address(license);
    int64_t program = call(kProgLoad, load);
    ASSERT_GT(program, 0);
    uint32_t key = 0, fd = static_cast<uint32_t>(program);
    memory.allow(&key, sizeof(key));
    memory.allow(&fd, sizeof(fd));
    BpfAttr update = {};
    update.elem.map_fd = static_cast<uint32_t>(array);
    update.elem.key = address(&key);
    update.elem.value = address(&fd);
    EXPECT_EQ(call(kMapUpdateElem, update), 0);
    BpfAttr bind = {};
    bind.prog_bind_map.prog_fd = static_cast<uint32_t>(program);
    bind.prog_bind_map.map_fd = static_cast<uint32_t>(hash);
    EXPECT_EQ(call(kProgBindMap, bind), 0);
    EXPECT_GT(allocator.in_use(), 0u);
  }
  EXPECT_EQ(allocator.in_use(), 0u);
}

}  // namespace
}  // namespace trace::testing
