// SPDX-License-Identifier: MIT
// LPM trie maps: creation checks, longest-prefix lookups, update and delete rules, Linux's
// get_next_key order, memory, and programs using a trie through the verifier and the engines.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/jit.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/program.hpp"
#include "rt/errno.hpp"
#include "support/ebpf_fixture.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

// struct bpf_lpm_trie_key for IPv4 addresses.
struct Ipv4Key {
  uint32_t prefixlen;
  uint8_t data[4];
};

Ipv4Key key(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint32_t prefixlen) {
  return Ipv4Key{prefixlen, {a, b, c, d}};
}

std::string text(const Ipv4Key& k) {
  return std::to_string(k.data[0]) + "." + std::to_string(k.data[1]) + "." +
         std::to_string(k.data[2]) + "." + std::to_string(k.data[3]) + "/" +
         std::to_string(k.prefixlen);
}

MapAttributes trie_attributes(uint32_t key_size = 8, uint32_t value_size = 8,
                              uint32_t max_entries = 16, uint32_t flags = kMapNoPrealloc) {
  MapAttributes a;
  a.type = MapType::kLpmTrie;
  a.key_size = key_size;
  a.value_size = value_size;
  a.max_entries = max_entries;
  a.map_flags = flags;
  return a;
}

int create_error(const MapAttributes& attributes) {
  test_support::MallocAllocator allocator;
  auto map = create_map(attributes, allocator, 1);
  if (!map.ok()) return map.error().code;
  destroy_map(map.value(), allocator);
  return 0;
}

// The value a program-side lookup finds, or -1 for none.
int64_t found(Map* map, const Ipv4Key& k) {
  void* value = map->lookup(&k);
  if (value == nullptr) return -1;
  uint64_t v;
  std::memcpy(&v, value, sizeof(v));
  return static_cast<int64_t>(v);
}

long put(Map* map, const Ipv4Key& k, uint64_t value, uint64_t flags = kUpdateAny) {
  return map->update(&k, &value, flags);
}

// Every key get_next_key gives, from the start until ENOENT.
std::vector<std::string> walk(Map* map) {
  std::vector<std::string> keys;
  Ipv4Key current{}, next{};
  const void* from = nullptr;
  while (map->get_next_key(from, &next).ok()) {
    keys.push_back(text(next));
    current = next;
    from = &current;
    if (keys.size() > 64) break;  // a cycle would be a bug; stop it
  }
  return keys;
}

TEST(LpmTrie, CreationChecksAreTrieAllocs) {
  EXPECT_EQ(create_error(trie_attributes()), 0);
  EXPECT_EQ(create_error(trie_attributes(5, 1, 1)), 0) << "one byte of data, one of value";
  EXPECT_EQ(create_error(trie_attributes(4 + 256, 8)), 0) << "the longest data";
  EXPECT_EQ(create_error(trie_attributes(8, 8, 0)), rt::kEINVAL) << "max_entries 0";
  EXPECT_EQ(create_error(trie_attributes(8, 8, 16, 0)), rt::kEINVAL) << "without NO_PREALLOC";
  EXPECT_EQ(create_error(trie_attributes(8, 8, 16, kMapNoPrealloc | kMapZeroSeed)), rt::kEINVAL);
  EXPECT_EQ(create_error(trie_attributes(8, 8, 16, kMapNoPrealloc | kMapMmapable)), rt::kEINVAL);
  EXPECT_EQ(create_error(trie_attributes(8, 8, 16, kMapNoPrealloc | kMapNoCommonLru)), rt::kEINVAL);
  for (uint32_t flag : {kMapNumaNode, kMapRdonly, kMapWronly, kMapRdonlyProg, kMapWronlyProg}) {
    EXPECT_EQ(create_error(trie_attributes(8, 8, 16, kMapNoPrealloc | flag)), 0) << flag;
  }
  EXPECT_EQ(
      create_error(trie_attributes(8, 8, 16, kMapNoPrealloc | kMapRdonlyProg | kMapWronlyProg)),
      rt::kEINVAL);
  EXPECT_EQ(create_error(trie_attributes(8, 8, 16, kMapNoPrealloc | kMapRdonly | kMapWronly)),
            rt::kEINVAL);
  EXPECT_EQ(create_error(trie_attributes(4, 8)), rt::kEINVAL) << "no data";
  EXPECT_EQ(create_error(trie_attributes(0, 8)), rt::kEINVAL);
  EXPECT_EQ(create_error(trie_attributes(4 + 257, 8)), rt::kEINVAL) << "data over 256 bytes";
  EXPECT_EQ(create_error(trie_attributes(8, 0)), rt::kEINVAL) << "no value";
  // KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - sizeof(struct lpm_trie_node).
  uint32_t largest = (1u << 22) - 256 - 40;
  EXPECT_EQ(create_error(trie_attributes(8, largest)), 0);
  EXPECT_EQ(create_error(trie_attributes(8, largest + 1)), rt::kEINVAL);
}

TEST(LpmTrie, LongestPrefixMatchesIpv4) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(trie_attributes(), allocator, 1).value();
  EXPECT_EQ(found(map, key(192, 168, 1, 5, 32)), -1) << "empty";
  ASSERT_EQ(put(map, key(192, 168, 0, 0, 16), 16), 0);
  ASSERT_EQ(put(map, key(192, 168, 1, 0, 24), 24), 0);
  EXPECT_EQ(found(map, key(192, 168, 1, 5, 32)), 24);
  EXPECT_EQ(found(map, key(192, 168, 2, 5, 32)), 16);
  EXPECT_EQ(found(map, key(192, 169, 1, 5, 32)), -1);
  EXPECT_EQ(found(map, key(10, 0, 0, 1, 32)), -1);
  ASSERT_EQ(put(map, key(0, 0, 0, 0, 0), 1), 0) << "default route";
  EXPECT_EQ(found(map, key(10, 0, 0, 1, 32)), 1);
  EXPECT_EQ(found(map, key(192, 168, 1, 5, 32)), 24);
  ASSERT_EQ(put(map, key(192, 168, 1, 5, 32), 32), 0);
  EXPECT_EQ(found(map, key(192, 168, 1, 5, 32)), 32) << "a full-length match";
  EXPECT_EQ(found(map, key(192, 168, 1, 6, 32)), 24);
  // The key's own prefix length bounds the match: only its first bits count.
  EXPECT_EQ(found(map, key(192, 168, 1, 5, 16)), 16);
  EXPECT_EQ(found(map, key(192, 168, 1, 5, 23)), 16);
  EXPECT_EQ(found(map, key(192, 168, 1, 5, 8)), 1);
  EXPECT_EQ(found(map, key(192, 168, 1, 5, 33)), -1) << "prefix length above the maximum";
  // Bits past a stored prefix do not matter.
  ASSERT_EQ(put(map, key(172, 16, 99, 99, 12), 12), 0);
  EXPECT_EQ(found(map, key(172, 31, 0, 1, 32)), 12);
  EXPECT_EQ(found(map, key(172, 32, 0, 1, 32)), 1);
  // Syscall lookups copy the value; nothing matching is ENOENT.
  uint64_t value = 0;
  Ipv4Key k = key(192, 168, 7, 7, 32);
  ASSERT_EQ(rt::to_negated_errno(map->syscall_lookup(&k, &value, 0)), 0);
  EXPECT_EQ(value, 16u);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_lookup(&k, &value, 4)), -rt::kEINVAL);
  uint64_t zero = 0;
  Ipv4Key all = key(0, 0, 0, 0, 0);
  ASSERT_EQ(map->remove(&all), 0);
  k = key(10, 0, 0, 1, 32);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_lookup(&k, &zero, 0)), -rt::kENOENT);
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(LpmTrie, LongerKeysCompareBitByBit) {
  test_support::MallocAllocator allocator;
  // IPv6-sized data: prefixes that part deep in the key.
  Map* map = create_map(trie_attributes(4 + 16, 4), allocator, 1).value();
  struct Key {
    uint32_t prefixlen;
    uint8_t data[16];
  };
  Key a{64, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0}};
  Key b{127, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};
  uint32_t va = 1, vb = 2;
  ASSERT_EQ(map->update(&a, &va, kUpdateAny), 0);
  ASSERT_EQ(map->update(&b, &vb, kUpdateAny), 0);
  auto value_for = [map](const Key& k) -> int64_t {
    void* value = map->lookup(&k);
    return value == nullptr ? int64_t{-1} : int64_t{*static_cast<uint32_t*>(value)};
  };
  Key probe{128, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3}};
  EXPECT_EQ(value_for(probe), 2) << "only the last bit differs";
  probe.data[15] = 4;
  EXPECT_EQ(value_for(probe), 1);
  probe.data[8] = 1;
  EXPECT_EQ(value_for(probe), 1) << "past the /64";
  probe.data[7] = 1;
  EXPECT_EQ(value_for(probe), -1) << "inside the /64";
  probe.prefixlen = 129;
  EXPECT_EQ(map->update(&probe, &va, kUpdateAny), -rt::kEINVAL);
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

// Linux 6.1's stable releases (6.1.120 on, Debian's 6.1 included) honour BPF_NOEXIST and
// BPF_EXIST; 6.1.0 ignored them.
TEST(LpmTrie, UpdateFlags) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(trie_attributes(), allocator, 1).value();
  Ipv4Key net = key(192, 168, 0, 0, 16);
  EXPECT_EQ(put(map, net, 1, 3), -rt::kEINVAL) << "flags above BPF_EXIST";
  EXPECT_EQ(put(map, net, 1, kUpdateLock), -rt::kEINVAL);
  EXPECT_EQ(put(map, key(1, 2, 3, 4, 33), 1), -rt::kEINVAL) << "prefix length above 32";
  EXPECT_EQ(put(map, net, 1, kUpdateExist), -rt::kENOENT) << "EXIST on a missing entry";
  EXPECT_EQ(put(map, net, 1, kUpdateNoExist), 0);
  EXPECT_EQ(put(map, net, 2, kUpdateNoExist), -rt::kEEXIST);
  EXPECT_EQ(found(map, net), 1);
  EXPECT_EQ(put(map, net, 3, kUpdateExist), 0);
  EXPECT_EQ(found(map, net), 3);
  EXPECT_EQ(put(map, net, 4, kUpdateAny), 0);
  EXPECT_EQ(found(map, net), 4);
  // The same prefix with other bits past it is the same entry (and the key's bits are kept).
  EXPECT_EQ(put(map, key(192, 168, 9, 9, 16), 5, kUpdateNoExist), -rt::kEEXIST);
  EXPECT_EQ(put(map, key(192, 168, 9, 9, 16), 5, kUpdateExist), 0);
  Ipv4Key first{};
  ASSERT_TRUE(map->get_next_key(nullptr, &first).ok());
  EXPECT_EQ(text(first), "192.168.9.9/16");
  // An intermediate node is not an entry: EXIST refuses it, NOEXIST makes it one.
  ASSERT_EQ(put(map, key(10, 0, 0, 0, 24), 6), 0);
  ASSERT_EQ(put(map, key(10, 0, 1, 0, 24), 7), 0);  // parts from 10.0.0.0/24 at 10.0.0.0/23
  EXPECT_EQ(found(map, key(10, 0, 1, 1, 32)), 7);
  EXPECT_EQ(put(map, key(10, 0, 0, 0, 23), 8, kUpdateExist), -rt::kENOENT);
  EXPECT_EQ(found(map, key(10, 0, 0, 0, 23)), -1);
  EXPECT_EQ(put(map, key(10, 0, 0, 0, 23), 8, kUpdateNoExist), 0);
  EXPECT_EQ(found(map, key(10, 0, 0, 0, 23)), 8);
  EXPECT_EQ(found(map, key(10, 0, 1, 1, 32)), 7) << "the children stay";
  EXPECT_EQ(found(map, key(10, 0, 0, 1, 32)), 6);
  // Syscall updates follow the same rules, and need a writable map.
  uint64_t value = 9;
  Ipv4Key k = key(10, 0, 0, 0, 23);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_update(&k, &value, kUpdateNoExist)), -rt::kEEXIST);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_update(&k, &value, kUpdateExist)), 0);
  EXPECT_EQ(found(map, k), 9);
  map->freeze();
  EXPECT_EQ(rt::to_negated_errno(map->syscall_update(&k, &value, kUpdateAny)), -rt::kEPERM);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_delete(&k)), -rt::kEPERM);
  EXPECT_EQ(put(map, k, 10), 0) << "programs may still write a frozen map";
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

// Intermediate nodes do not count toward max_entries; updates in place work on a full trie.
TEST(LpmTrie, FullTrieIsEnospcForNewEntriesOnly) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(trie_attributes(8, 8, 2), allocator, 1).value();
  ASSERT_EQ(put(map, key(10, 0, 0, 0, 24), 1), 0);
  ASSERT_EQ(put(map, key(10, 0, 1, 0, 24), 2), 0);  // an intermediate 10.0.0.0/23 too
  EXPECT_EQ(put(map, key(10, 0, 2, 0, 24), 3), -rt::kENOSPC);
  EXPECT_EQ(put(map, key(10, 0, 0, 0, 23), 3), -rt::kENOSPC) << "the intermediate node";
  EXPECT_EQ(put(map, key(10, 0, 0, 0, 8), 3, kUpdateExist), -rt::kENOENT) << "EXIST first";
  EXPECT_EQ(put(map, key(10, 0, 0, 0, 24), 4, kUpdateAny), 0);
  EXPECT_EQ(put(map, key(10, 0, 1, 0, 24), 5, kUpdateExist), 0);
  EXPECT_EQ(put(map, key(10, 0, 1, 0, 24), 5, kUpdateNoExist), -rt::kEEXIST);
  EXPECT_EQ(found(map, key(10, 0, 0, 9, 32)), 4);
  EXPECT_EQ(found(map, key(10, 0, 1, 9, 32)), 5);
  Ipv4Key gone = key(10, 0, 0, 0, 24);
  ASSERT_EQ(map->remove(&gone), 0);
  EXPECT_EQ(put(map, key(10, 0, 2, 0, 24), 3), 0) << "room again";
  EXPECT_EQ(put(map, key(10, 0, 3, 0, 24), 3), -rt::kENOSPC);
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(LpmTrie, DeleteNeedsTheExactPrefix) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(trie_attributes(), allocator, 1).value();
  size_t empty = allocator.in_use();
  Ipv4Key net16 = key(192, 168, 0, 0, 16), net24 = key(192, 168, 1, 0, 24);
  Ipv4Key missing = key(192, 168, 2, 0, 24), too_long = key(192, 168, 0, 0, 33);
  EXPECT_EQ(map->remove(&net16), -rt::kENOENT) << "empty";
  ASSERT_EQ(put(map, net16, 16), 0);
  ASSERT_EQ(put(map, net24, 24), 0);
  EXPECT_EQ(map->remove(&missing), -rt::kENOENT);
  EXPECT_EQ(map->remove(&too_long), -rt::kEINVAL);
  Ipv4Key shorter = key(192, 168, 0, 0, 15);
  EXPECT_EQ(map->remove(&shorter), -rt::kENOENT) << "a covering prefix is not the entry";
  // Only the prefix's bits count: 192.168.1.77/24 is 192.168.1.0/24.
  Ipv4Key same = key(192, 168, 1, 77, 24);
  EXPECT_EQ(map->remove(&same), 0);
  EXPECT_EQ(map->remove(&net24), -rt::kENOENT);
  EXPECT_EQ(found(map, key(192, 168, 1, 5, 32)), 16);
  // An entry with two children becomes an intermediate node: no longer found, not deletable.
  ASSERT_EQ(put(map, key(192, 168, 0, 0, 24), 1), 0);
  ASSERT_EQ(put(map, key(192, 168, 128, 0, 24), 2), 0);
  ASSERT_EQ(map->remove(&net16), 0);
  EXPECT_EQ(found(map, key(192, 168, 7, 7, 32)), -1);
  EXPECT_EQ(found(map, key(192, 168, 0, 7, 32)), 1);
  EXPECT_EQ(map->remove(&net16), -rt::kENOENT);
  // A leaf under an intermediate node takes it along.
  Ipv4Key left = key(192, 168, 0, 0, 24), right = key(192, 168, 128, 0, 24);
  ASSERT_EQ(map->remove(&left), 0);
  EXPECT_EQ(found(map, key(192, 168, 128, 7, 32)), 2);
  ASSERT_EQ(map->remove(&right), 0);
  EXPECT_EQ(walk(map), std::vector<std::string>{});
  EXPECT_EQ(allocator.in_use(), empty) << "every node given back";
  // Deletion through the syscall side.
  ASSERT_EQ(put(map, net16, 16), 0);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_delete(&net16)), 0);
  EXPECT_EQ(rt::to_negated_errno(map->syscall_delete(&net16)), -rt::kENOENT);
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

// trie_get_next_key: postorder, the left (0) side first, so more specific prefixes come before
// the ones covering them.
TEST(LpmTrie, GetNextKeyFollowsLinuxsPostorder) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(trie_attributes(), allocator, 1).value();
  Ipv4Key next{};
  EXPECT_EQ(rt::to_negated_errno(map->get_next_key(nullptr, &next)), -rt::kENOENT) << "empty";
  // Inserted out of order: the walk depends on the trie, not on insertion order.
  for (const Ipv4Key& k : {key(192, 168, 1, 5, 32), key(192, 168, 0, 0, 16), key(0, 0, 0, 0, 0),
                           key(192, 168, 128, 0, 24), key(10, 0, 0, 0, 8), key(192, 168, 1, 0, 24),
                           key(192, 168, 0, 0, 24)}) {
    ASSERT_EQ(put(map, k, k.prefixlen), 0) << text(k);
  }
  const std::vector<std::string> order = {"10.0.0.0/8",     "192.168.0.0/24",   "192.168.1.5/32",
                                          "192.168.1.0/24", "192.168.128.0/24", "192.168.0.0/16",
                                          "0.0.0.0/0"};
  EXPECT_EQ(walk(map), order);
  // From a key that is not an entry, a prefix length over 32, or an intermediate node's prefix:
  // the first key again.
  for (const Ipv4Key& from : {key(172, 16, 0, 0, 12), key(192, 168, 1, 5, 33),
                              key(192, 168, 0, 0, 23), key(10, 0, 0, 0, 9)}) {
    ASSERT_TRUE(map->get_next_key(&from, &next).ok()) << text(from);
    EXPECT_EQ(text(next), order[0]) << text(from);
  }
  // The entry's prefix is what matches, not the bits past it.
  Ipv4Key alias = key(192, 168, 1, 99, 24);
  ASSERT_TRUE(map->get_next_key(&alias, &next).ok());
  EXPECT_EQ(text(next), "192.168.128.0/24");
  Ipv4Key last = key(0, 0, 0, 0, 0);
  EXPECT_EQ(rt::to_negated_errno(map->get_next_key(&last, &next)), -rt::kENOENT);
  // A key holds the data it was stored with, bits past its prefix included.
  ASSERT_EQ(put(map, key(10, 1, 2, 3, 8), 8), 0);
  ASSERT_TRUE(map->get_next_key(nullptr, &next).ok());
  EXPECT_EQ(text(next), "10.1.2.3/8");
  // Deleting keeps the order of what is left.
  Ipv4Key gone = key(192, 168, 1, 0, 24);
  ASSERT_EQ(map->remove(&gone), 0);
  EXPECT_EQ(walk(map),
            (std::vector<std::string>{"10.1.2.3/8", "192.168.0.0/24", "192.168.1.5/32",
                                      "192.168.128.0/24", "192.168.0.0/16", "0.0.0.0/0"}));
  destroy_map(map, allocator);
}

TEST(LpmTrie, BatchesAreLinuxsGenericOnes) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(trie_attributes(), allocator, 1).value();
  Ipv4Key keys[3] = {key(10, 0, 0, 0, 8), key(10, 1, 0, 0, 16), key(0, 0, 0, 0, 0)};
  uint64_t values[3] = {8, 16, 1};
  uint32_t count = 3;
  ASSERT_EQ(rt::to_negated_errno(map->update_batch(keys, values, &count, 0)), 0);
  EXPECT_EQ(count, 3u);
  Ipv4Key out_keys[4] = {};
  uint64_t out_values[4] = {};
  Ipv4Key token{};
  count = 2;
  ASSERT_EQ(rt::to_negated_errno(map->lookup_batch(nullptr, &token, out_keys, out_values, &count)),
            0);
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(text(out_keys[0]), "10.1.0.0/16");
  EXPECT_EQ(out_values[0], 16u);
  EXPECT_EQ(text(out_keys[1]), "10.0.0.0/8");
  EXPECT_EQ(out_values[1], 8u);
  EXPECT_EQ(text(token), "10.0.0.0/8") << "the token is the last key copied";
  count = 4;
  EXPECT_EQ(rt::to_negated_errno(map->lookup_batch(&token, &token, out_keys, out_values, &count)),
            -rt::kENOENT);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(text(out_keys[0]), "0.0.0.0/0");
  count = 2;
  ASSERT_EQ(rt::to_negated_errno(map->delete_batch(keys, &count, 0)), 0);
  count = 1;
  EXPECT_EQ(rt::to_negated_errno(map->delete_batch(keys, &count, 0)), -rt::kENOENT);
  EXPECT_EQ(count, 0u);
  // Linux has no lookup_and_delete for tries, single or batched.
  uint64_t value;
  EXPECT_EQ(rt::to_negated_errno(map->lookup_and_delete(&keys[2], &value, 0)), -rt::kENOTSUPP);
  count = 1;
  EXPECT_EQ(rt::to_negated_errno(
                map->lookup_and_delete_batch(nullptr, &token, out_keys, out_values, &count)),
            -rt::kENOTSUPP);
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(LpmTrie, MemoryComesAndGoesWithEntries) {
  test_support::MallocAllocator allocator;
  Map* map = create_map(trie_attributes(), allocator, 1).value();
  size_t empty = allocator.in_use();
  EXPECT_EQ(map->memory_usage(), empty) << "nothing preallocated";
  for (uint32_t i = 0; i < 12; ++i) {
    ASSERT_EQ(put(map, key(10, static_cast<uint8_t>(i * 16), 0, 0, 12 + i % 9), i), 0);
  }
  EXPECT_GT(allocator.in_use(), empty);
  EXPECT_EQ(map->memory_usage(), allocator.in_use());
  // No memory for a node: ENOMEM, and nothing changes. The second case has room for the new
  // node but not for the intermediate node it needs.
  allocator.set_budget(allocator.in_use());
  EXPECT_EQ(put(map, key(172, 16, 0, 0, 12), 1), -rt::kENOMEM);
  Ipv4Key k = key(10, 0, 0, 0, 12);
  uint64_t v = 99;
  EXPECT_EQ(map->update(&k, &v, kUpdateNoExist), -rt::kENOMEM) << "allocation comes first";
  allocator.set_budget(allocator.in_use() + 40);  // a node with a value, not one more
  EXPECT_EQ(put(map, key(172, 16, 0, 0, 12), 1), -rt::kENOMEM);
  EXPECT_EQ(found(map, key(172, 16, 0, 1, 32)), -1);
  EXPECT_EQ(map->memory_usage(), allocator.in_use());
  allocator.set_budget(SIZE_MAX);
  ASSERT_EQ(put(map, key(172, 16, 0, 0, 12), 1), 0);
  // Destroying a trie full of entries (and intermediate nodes) gives every byte back.
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(LpmTrie, DeepTriesAreDestroyedWithoutRecursion) {
  test_support::MallocAllocator allocator;
  // 256 bytes of data: a chain of 2,049 nested prefixes, /0 to /2048.
  Map* map = create_map(trie_attributes(4 + 256, 8, 4096), allocator, 1).value();
  struct Key {
    uint32_t prefixlen;
    uint8_t data[256];
  } k{};
  std::memset(k.data, 0xa5, sizeof(k.data));
  uint64_t v = 0;
  for (uint32_t len = 0; len <= 2048; ++len) {
    k.prefixlen = len;
    v = len;
    ASSERT_EQ(map->update(&k, &v, kUpdateAny), 0) << len;
  }
  k.prefixlen = 2048;
  ASSERT_NE(map->lookup(&k), nullptr);
  EXPECT_EQ(*static_cast<uint64_t*>(map->lookup(&k)), 2048u);
  k.data[255] ^= 1;
  EXPECT_EQ(*static_cast<uint64_t*>(map->lookup(&k)), 2047u);
  Key next{};
  ASSERT_TRUE(map->get_next_key(nullptr, &next).ok());
  EXPECT_EQ(next.prefixlen, 2048u) << "the deepest first";
  k.prefixlen = 1;
  k.data[255] ^= 1;
  ASSERT_TRUE(map->get_next_key(&k, &next).ok());
  EXPECT_EQ(next.prefixlen, 0u);
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use(), 0u);
}

// Random operations on a 16-bit trie against a brute-force model: lookups find the longest
// matching prefix, the update and delete rules hold, the walk gives every entry once and each
// after the entries it covers, and emptying the trie gives all its nodes back.
TEST(LpmTrie, RandomOperationsAgreeWithABruteForceModel) {
  struct Key {
    uint32_t prefixlen;
    uint8_t data[2];
  };
  auto bits = [](const Key& k) { return uint32_t{k.data[0]} << 8 | k.data[1]; };
  auto prefix = [&](const Key& k) {
    uint32_t mask = k.prefixlen == 0 ? 0 : 0xffffu << (16 - k.prefixlen) & 0xffffu;
    return std::make_pair(k.prefixlen, bits(k) & mask);
  };
  auto covers = [&](const Key& outer, const Key& inner) {
    return outer.prefixlen <= inner.prefixlen &&
           prefix(outer) == prefix(Key{outer.prefixlen, {inner.data[0], inner.data[1]}});
  };
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    test_support::MallocAllocator allocator;
    constexpr uint32_t kMaxEntries = 24;
    Map* map = create_map(trie_attributes(4 + 2, 8, kMaxEntries), allocator, 1).value();
    size_t empty = allocator.in_use();
    std::map<std::pair<uint32_t, uint32_t>, std::pair<Key, uint64_t>> model;
    std::mt19937 random(seed);
    for (int step = 0; step < 3000; ++step) {
      // A few high bits and prefix lengths, so that prefixes nest and collide often.
      Key k{static_cast<uint32_t>(random() % 18),
            {static_cast<uint8_t>(random() % 4 * 0x40 + random() % 3),
             static_cast<uint8_t>(random() % 2 * 0x80 + random() % 2)}};
      uint64_t value = random();
      bool present = k.prefixlen <= 16 && model.count(prefix(k)) != 0;
      switch (random() % 5) {
        case 0:
        case 1: {
          uint64_t flags = random() % 4;
          long expect = flags > kUpdateExist || k.prefixlen > 16  ? -rt::kEINVAL
                        : present && flags == kUpdateNoExist      ? -rt::kEEXIST
                        : !present && flags == kUpdateExist       ? -rt::kENOENT
                        : !present && model.size() == kMaxEntries ? -rt::kENOSPC
                                                                  : 0;
          ASSERT_EQ(map->update(&k, &value, flags), expect) << step;
          if (expect == 0) model[prefix(k)] = {k, value};
          break;
        }
        case 2: {
          long expect = k.prefixlen > 16 ? -rt::kEINVAL : present ? 0 : -rt::kENOENT;
          ASSERT_EQ(map->remove(&k), expect) << step;
          if (expect == 0) model.erase(prefix(k));
          break;
        }
        default: {
          Key probe{static_cast<uint32_t>(random() % 18), {k.data[0], k.data[1]}};
          const uint64_t* best = nullptr;
          uint32_t best_length = 0;
          for (const auto& [key_prefix, entry] : model) {
            if (probe.prefixlen <= 16 && covers(entry.first, probe) &&
                (best == nullptr || entry.first.prefixlen > best_length)) {
              best = &entry.second;
              best_length = entry.first.prefixlen;
            }
          }
          void* got = map->lookup(&probe);
          ASSERT_EQ(got != nullptr, best != nullptr) << step;
          if (best != nullptr) {
            uint64_t stored;
            std::memcpy(&stored, got, sizeof(stored));
            ASSERT_EQ(stored, *best) << step;
          }
        }
      }
    }
    // The walk: every entry once, with the data it was last written with, after all it covers.
    std::vector<Key> walked;
    Key current{}, next{};
    const void* from = nullptr;
    while (map->get_next_key(from, &next).ok() && walked.size() <= kMaxEntries) {
      walked.push_back(next);
      current = next;
      from = &current;
    }
    ASSERT_EQ(walked.size(), model.size());
    for (size_t i = 0; i < walked.size(); ++i) {
      auto entry = model.find(prefix(walked[i]));
      ASSERT_NE(entry, model.end());
      EXPECT_EQ(bits(walked[i]), bits(entry->second.first));
      for (size_t j = i + 1; j < walked.size(); ++j) {
        EXPECT_FALSE(covers(walked[i], walked[j]))
            << "a covering prefix came first: " << i << ", " << j;
      }
    }
    EXPECT_EQ(map->memory_usage(), allocator.in_use());
    for (const auto& [key_prefix, entry] : model) ASSERT_EQ(map->remove(&entry.first), 0);
    EXPECT_EQ(allocator.in_use(), empty) << "no node left behind";
    destroy_map(map, allocator);
    EXPECT_EQ(allocator.in_use(), 0u);
  }
}

// Programs see the trie through the verifier (lookup, update and delete accepted) and the
// engines; parameter: false runs the interpreter, true the JIT.
class LpmTrieProgram : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { trie_ = create_map(trie_attributes(8, 8, 16), allocator_, 1).value(); }
  void TearDown() override {
    destroy_map(trie_, allocator_);
    EXPECT_EQ(allocator_.in_use(), 0u);
  }
  static const Map* verifier_map(void* state, int32_t fd) { return by_fd(state, fd); }
  static Map* by_fd(void* state, int32_t fd) {
    return fd == 0 ? static_cast<LpmTrieProgram*>(state)->trie_ : nullptr;
  }

  test_support::LoadedProgram load(const std::string& source) {
    AssemblyResult assembled = assemble(source);
    EXPECT_TRUE(assembled.ok()) << assembled.error;
    test_support::LoadOptions options;
    options.verifier.type = ProgramType::kKprobe;
    options.verifier.allocator = &allocator_;
    options.verifier.resolve_map = verifier_map;
    options.verifier.resolve_state = this;
    options.verifier.log_level = 1;
    options.log_size = 4096;
    options.resolver = LoadResolver{by_fd, nullptr, this};
    options.helpers = test_support::real_helpers();
    return test_support::load_program(assembled.insns, options);
  }

  uint64_t run(const std::string& source) {
    test_support::LoadedProgram loaded = load(source);
    EXPECT_TRUE(loaded.ok()) << loaded.verdict.log;
    if (!loaded.ok()) return ~0ull;
    JitProgram code;
    if (GetParam()) {
      auto compiled = jit_compile(loaded.program, host_executable_memory(), allocator_);
      EXPECT_TRUE(compiled.ok());
      if (!compiled.ok()) return ~0ull;
      code = static_cast<JitProgram&&>(compiled.value());
      code.install(loaded.program);
    }
    uint8_t pt_regs[168] = {};
    return execute(loaded.program, pt_regs, nullptr);
  }

  test_support::MallocAllocator allocator_;
  Map* trie_ = nullptr;
};

// A key at fp-8: prefix length 32, then the address in network order.
std::string stack_key(uint32_t prefixlen, uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  uint32_t address = a | b << 8 | c << 16 | static_cast<uint32_t>(d) << 24;
  return "stw [%r10-8], " + std::to_string(prefixlen) + "\nstw [%r10-4], " +
         std::to_string(static_cast<int32_t>(address)) + "\n";
}

// r0 = the value found for the key at fp-8, or 0.
const char kLookup[] =
    "lddw %r1, map:0\nmov %r2, %r10\nadd %r2, -8\ncall 1\n"
    "jeq %r0, 0, +1\nldxdw %r0, [%r0+0]\nexit\n";

TEST_P(LpmTrieProgram, LookupFindsTheLongestPrefix) {
  ASSERT_EQ(put(trie_, key(192, 168, 0, 0, 16), 16), 0);
  ASSERT_EQ(put(trie_, key(192, 168, 1, 0, 24), 24), 0);
  EXPECT_EQ(run(stack_key(32, 192, 168, 1, 5) + kLookup), 24u);
  EXPECT_EQ(run(stack_key(32, 192, 168, 2, 5) + kLookup), 16u);
  EXPECT_EQ(run(stack_key(32, 10, 0, 0, 1) + kLookup), 0u);
  ASSERT_EQ(put(trie_, key(0, 0, 0, 0, 0), 1), 0);
  EXPECT_EQ(run(stack_key(32, 10, 0, 0, 1) + kLookup), 1u);
}

TEST_P(LpmTrieProgram, UpdateAndDeleteFromAProgram) {
  // bpf_map_update_elem(trie, 10.0.0.0/8, 77, BPF_NOEXIST) twice, then delete it: r0 =
  // first result + 100 * (second == -EEXIST) + 1000 * (delete == 0).
  std::string source = stack_key(8, 10, 0, 0, 0) +
                       "stdw [%r10-16], 77\n"
                       "lddw %r1, map:0\nmov %r2, %r10\nadd %r2, -8\nmov %r3, %r10\nadd %r3, -16\n"
                       "mov %r4, 1\ncall 2\nmov %r6, %r0\n"
                       "lddw %r1, map:0\nmov %r2, %r10\nadd %r2, -8\nmov %r3, %r10\nadd %r3, -16\n"
                       "mov %r4, 1\ncall 2\njne %r0, -17, +1\nadd %r6, 100\n"
                       "lddw %r1, map:0\nmov %r2, %r10\nadd %r2, -8\ncall 3\n"
                       "jne %r0, 0, +1\nadd %r6, 1000\nmov %r0, %r6\nexit\n";
  EXPECT_EQ(run(source), 1100u);
  EXPECT_EQ(found(trie_, key(10, 1, 1, 1, 32)), -1);
}

TEST_P(LpmTrieProgram, VerifierRefusesForEachAndQueueHelpers) {
  test_support::LoadedProgram for_each = load(
      "lddw %r1, map:0\nlddw %r2, func:cb\nmov %r3, 0\nmov %r4, 0\ncall 164\nexit\n"
      "cb:\nmov %r0, 0\nexit");
  EXPECT_EQ(for_each.verdict.error, -rt::kENOTSUPP);
  EXPECT_NE(for_each.verdict.log.find("callback function not allowed for map"), std::string::npos)
      << for_each.verdict.log;
  test_support::LoadedProgram push = load(
      "stdw [%r10-8], 0\nlddw %r1, map:0\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 0\ncall 87\nexit");
  EXPECT_FALSE(push.verified());
  EXPECT_NE(push.verdict.log.find("cannot pass map_type 11 into func"), std::string::npos)
      << push.verdict.log;
}

INSTANTIATE_TEST_SUITE_P(Engines, LpmTrieProgram, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Jit" : "Interpreter";
                         });

}  // namespace
