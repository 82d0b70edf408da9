// SPDX-License-Identifier: MIT
// mmap() and poll() of trace-server objects (object_mmap.hpp): the pages a Linux process may
// map, Linux's errors, and mapping handles that keep the object alive.
#include "trace/object_mmap.hpp"

#include "perf_test_support.hpp"

namespace trace::testing {
namespace {

constexpr uint32_t kArray = 2, kHash = 1, kRingbuf = 27;
constexpr uint32_t kMmapable = 1u << 10, kRdonlyProg = 1u << 7;
constexpr int64_t kENOTSUPP = 524;

class ObjectMmapTest : public PerfEventTest {
 protected:
  int64_t status(int64_t fd, uint64_t offset, uint64_t length, bool writable, bool shared = true) {
    auto mapping =
        mmap_object(session_, static_cast<int32_t>(fd), offset, length, writable, shared);
    if (!mapping.ok()) return -static_cast<int64_t>(mapping.error().code);
    last_ = mapping.value();
    return 0;
  }
  ObjectMapping last_;
};

TEST_F(ObjectMmapTest, MmapableArraysShowTheirValues) {
  int64_t map = create_map(kArray, 4, 8, 1024, kMmapable);  // 8 KiB: two pages
  ASSERT_GT(map, 0);
  uint32_t key = 3;
  uint64_t value = 0x1234;
  ASSERT_EQ(elem(kMapUpdateElem, map, &key, &value), 0);
  ASSERT_EQ(status(map, 0, 8192, true), 0);
  EXPECT_EQ(last_.pages, 2u);
  EXPECT_TRUE(last_.writable);
  uint64_t seen;
  std::memcpy(&seen, last_.first_page + 3 * 8, 8);
  EXPECT_EQ(seen, 0x1234u) << "the mapping is the map's own memory";
  int32_t mapping = last_.handle;
  EXPECT_EQ(status(map, 4096, 4096, false), 0);
  EXPECT_EQ(last_.pages, 1u);
  EXPECT_TRUE(session_.close(last_.handle).ok());
  // The mapping keeps the map after its fd goes.
  EXPECT_TRUE(session_.close(static_cast<int32_t>(map)).ok());
  EXPECT_EQ(objects_.count(ObjectKind::kMap), 1u);
  EXPECT_TRUE(session_.close(mapping).ok());
  EXPECT_EQ(objects_.count(ObjectKind::kMap), 0u);
}

TEST_F(ObjectMmapTest, LinuxsErrors) {
  int64_t plain = create_map(kArray, 4, 8, 4);
  int64_t hash = create_map(kHash, 4, 8, 4);
  int64_t rodata = create_map(kArray, 4, 8, 4, kMmapable | kRdonlyProg);
  int64_t program = load(assemble("mov %r0, 0\nexit"));
  EXPECT_EQ(status(plain, 0, 4096, false), -rt::kEINVAL) << "no BPF_F_MMAPABLE";
  EXPECT_EQ(status(hash, 0, 4096, false), -kENOTSUPP);
  EXPECT_EQ(status(program, 0, 4096, false), -rt::kENODEV);
  EXPECT_EQ(status(rodata, 0, 4096, true), -rt::kEACCES);
  EXPECT_EQ(status(rodata, 0, 4096, false), 0);
  EXPECT_TRUE(session_.close(last_.handle).ok());
  EXPECT_EQ(status(rodata, 0, 4096, false, false), -rt::kEINVAL) << "MAP_PRIVATE";
  EXPECT_EQ(status(rodata, 4096, 4096, false), -rt::kEINVAL) << "past the values";
  EXPECT_EQ(status(rodata, 100, 4096, false), -rt::kEINVAL) << "unaligned offset";
  EXPECT_EQ(status(99, 0, 4096, false), -rt::kEBADF);
  BpfAttr attr = {};
  attr.map_create.map_type = static_cast<uint32_t>(rodata);  // map_fd sits at the same offset
  std::memcpy(attr.bytes, &rodata, 4);
  ASSERT_EQ(bpf(kMapFreeze, attr), 0);
  int64_t writable = create_map(kArray, 4, 8, 4, kMmapable);
  std::memcpy(attr.bytes, &writable, 4);
  ASSERT_EQ(bpf(kMapFreeze, attr), 0);
  EXPECT_EQ(status(writable, 0, 4096, true), -rt::kEPERM) << "a frozen map";
}

TEST_F(ObjectMmapTest, RingBuffersAsLibbpfMapsThem) {
  int64_t ring = create_map(kRingbuf, 0, 0, 4096 * 4);  // 16 KiB of data
  ASSERT_GT(ring, 0);
  EXPECT_EQ(status(ring, 0, 4096, true), 0) << "the consumer page alone, writable";
  EXPECT_EQ(last_.pages, 1u);
  int32_t consumer = last_.handle;
  EXPECT_EQ(status(ring, 4096, 4096 + 2 * 16384, true), -rt::kEPERM);
  EXPECT_EQ(status(ring, 0, 8192, true), -rt::kEPERM);
  ASSERT_EQ(status(ring, 4096, 4096 + 2 * 16384, false), 0) << "producer and data twice";
  EXPECT_EQ(last_.pages, 9u);
  EXPECT_EQ(status(ring, 4096, 4096 * 11, false), -rt::kEINVAL) << "past the data";
  EXPECT_EQ(poll_object(session_, static_cast<int32_t>(ring)).value(), 0u) << "empty";
  EXPECT_TRUE(session_.close(last_.handle).ok());
  EXPECT_TRUE(session_.close(consumer).ok());
  int64_t hash = create_map(kHash, 4, 8, 4);
  EXPECT_EQ(poll_object(session_, static_cast<int32_t>(hash)).value(), 0x8u) << "EPOLLERR";
}

TEST_F(ObjectMmapTest, PerfRingsAndTheirMappingHandles) {
  int64_t event = open(bpf_output_attr());
  ASSERT_GT(event, 0);
  EXPECT_EQ(status(event, 0, 4096 * 4, true), -rt::kEINVAL) << "three data pages: no power of 2";
  ASSERT_EQ(status(event, 0, 4096 * 5, true), 0);
  EXPECT_EQ(last_.pages, 5u);
  EXPECT_NE(event_of(event)->ring, nullptr);
  int32_t mapping = last_.handle;
  EXPECT_EQ(status(event, 0, 4096 * 5, false), 0) << "a second mapping of the same ring";
  int32_t second = last_.handle;
  EXPECT_TRUE(session_.close(static_cast<int32_t>(event)).ok());
  auto held = session_.lookup_handle(mapping);
  ASSERT_TRUE(held.ok()) << "the mapping holds the event";
  auto* kept = static_cast<PerfEventObject*>(held.value().object);
  EXPECT_NE(kept->ring, nullptr);
  EXPECT_TRUE(session_.close(mapping).ok());
  EXPECT_NE(kept->ring, nullptr) << "the second mapping keeps the ring";
  EXPECT_EQ(kept->mappings, 1u);
  EXPECT_TRUE(session_.close(second).ok());
}

}  // namespace
}  // namespace trace::testing
