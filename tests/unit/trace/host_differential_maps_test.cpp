// SPDX-License-Identifier: MIT
// LPM tries and bloom filters against the host kernel's bpf(): creation, element commands,
// walks and random operations give the same errno and results on both sides.
#include <random>

#include "host_differential.hpp"

namespace trace::testing {
namespace {

TEST_F(HostDifferential, LpmTrieCreateAttributes) {
  struct Case {
    const char* what;
    uint32_t key_size, value_size, max_entries, flags;
  };
  constexpr uint32_t kLargestValue = (1u << 22) - 256 - 40;  // 6.1's LPM_VAL_SIZE_MAX
  const Case cases[] = {
      {"ipv4 trie", 8, 8, 16, BPF_F_NO_PREALLOC},
      {"one byte of data", 5, 1, 1, BPF_F_NO_PREALLOC},
      {"256 bytes of data", 4 + 256, 8, 16, BPF_F_NO_PREALLOC},
      {"257 bytes of data", 4 + 257, 8, 16, BPF_F_NO_PREALLOC},
      {"no data", 4, 8, 16, BPF_F_NO_PREALLOC},
      {"no value", 8, 0, 16, BPF_F_NO_PREALLOC},
      {"no entries", 8, 8, 0, BPF_F_NO_PREALLOC},
      {"preallocated", 8, 8, 16, 0},
      {"zero seed", 8, 8, 16, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED},
      {"mmapable", 8, 8, 16, BPF_F_NO_PREALLOC | BPF_F_MMAPABLE},
      {"numa node", 8, 8, 16, BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE},
      {"read-only", 8, 8, 16, BPF_F_NO_PREALLOC | BPF_F_RDONLY},
      {"program write-only", 8, 8, 16, BPF_F_NO_PREALLOC | BPF_F_WRONLY_PROG},
      {"program read-only and write-only", 8, 8, 16,
       BPF_F_NO_PREALLOC | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG},
      {"the largest value", 8, kLargestValue, 16, BPF_F_NO_PREALLOC},
      {"past any kernel's largest value", 8, kLargestValue + 17, 16, BPF_F_NO_PREALLOC},
  };
  for (const Case& c : cases) {
    BpfAttr attr = {};
    attr.map_create.map_type = BPF_MAP_TYPE_LPM_TRIE;
    attr.map_create.key_size = c.key_size;
    attr.map_create.value_size = c.value_size;
    attr.map_create.max_entries = c.max_entries;
    attr.map_create.map_flags = c.flags;
    EXPECT_SAME(both(kMapCreate, attr), c.what);
  }
  BpfAttr attr = {};
  attr.map_create.map_type = BPF_MAP_TYPE_LPM_TRIE;
  attr.map_create.key_size = 8;
  attr.map_create.value_size = kLargestValue + 1;
  attr.map_create.max_entries = 16;
  attr.map_create.map_flags = BPF_F_NO_PREALLOC;
  Answers answers = both(kMapCreate, attr);
  EXPECT_EQ(answers.core, -rt::kEINVAL) << "6.1's bound";
  if (host_version() < 613) {
    EXPECT_EQ(answers.host, -rt::kEINVAL);
  } else {
    EXPECT_GT(answers.host, 0) << "a smaller node since 6.13";
  }
}

TEST_F(HostDifferential, LpmTrieElementsAndWalk) {
  struct Key {
    uint32_t prefixlen;
    uint8_t data[4];
  };
  auto trie_on_both = [&](uint32_t max_entries) {
    BpfAttr attr = {};
    attr.map_create.map_type = BPF_MAP_TYPE_LPM_TRIE;
    attr.map_create.key_size = sizeof(Key);
    attr.map_create.value_size = 8;
    attr.map_create.max_entries = max_entries;
    attr.map_create.map_flags = BPF_F_NO_PREALLOC;
    Answers answers = both(kMapCreate, attr);
    EXPECT_GT(answers.core, 0);
    EXPECT_GT(answers.host, 0);
    return std::pair<int64_t, int64_t>{answers.core, answers.host};
  };
  auto name = [](const Key& k) {
    return std::to_string(k.data[0]) + "." + std::to_string(k.data[1]) + "." +
           std::to_string(k.data[2]) + "." + std::to_string(k.data[3]) + "/" +
           std::to_string(k.prefixlen);
  };
  auto map = trie_on_both(16);
  Key key = {}, next = {};
  uint64_t value = 0;
  memory_.allow(&key, sizeof(key));
  memory_.allow(&next, sizeof(next));
  memory_.allow(&value, sizeof(value));
  BpfAttr attr = {};
  attr.elem.key = address(&key);
  attr.elem.value = address(&value);
  auto fds = elem_fd(map);
  // One command on one side (for results both sides would write to the same buffers).
  auto one = [&](int command, const BpfAttr& a, bool host) {
    BpfAttr copy = a;
    copy.elem.map_fd = static_cast<uint32_t>(host ? map.second : map.first);
    return host ? host_bpf(command, copy) : bpf(command, copy, sizeof(copy));
  };
  auto update = [&](Key k, uint64_t v, uint64_t flags, const std::string& what) {
    key = k;
    value = v;
    attr.elem.flags = flags;
    EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), what + " " + name(k));
    attr.elem.flags = 0;
  };
  const Key prefixes[] = {{32, {192, 168, 1, 5}},   {16, {192, 168, 0, 0}}, {0, {0, 0, 0, 0}},
                          {24, {192, 168, 128, 0}}, {8, {10, 0, 0, 0}},     {24, {192, 168, 1, 0}},
                          {24, {192, 168, 0, 0}},   {12, {172, 20, 3, 4}}};
  for (const Key& k : prefixes) update(k, k.prefixlen + 1000, BPF_ANY, "add");
  // Update rules.
  update({16, {192, 168, 0, 0}}, 1, BPF_NOEXIST, "NOEXIST on an entry");
  update({16, {192, 168, 0, 0}}, 1016, BPF_EXIST, "EXIST on an entry");
  update({23, {192, 168, 0, 0}}, 1, BPF_EXIST, "EXIST on an intermediate node");
  update({20, {10, 0, 0, 0}}, 1, BPF_EXIST, "EXIST on a missing entry");
  update({16, {192, 168, 0, 0}}, 1, 3, "flags 3");
  update({16, {192, 168, 0, 0}}, 1, BPF_F_LOCK, "F_LOCK");
  update({33, {192, 168, 0, 0}}, 1, BPF_ANY, "prefix length 33");
  update({16, {192, 168, 77, 77}}, 1116, BPF_ANY, "the same prefix, other bits");
  // Lookups: the same errno and the same value.
  const Key probes[] = {{32, {192, 168, 1, 5}},   {32, {192, 168, 1, 6}}, {32, {192, 168, 2, 5}},
                        {32, {192, 168, 128, 9}}, {32, {10, 9, 9, 9}},    {32, {172, 31, 0, 1}},
                        {32, {172, 32, 0, 1}},    {32, {8, 8, 8, 8}},     {16, {192, 168, 1, 5}},
                        {23, {192, 168, 1, 5}},   {0, {192, 168, 1, 5}},  {33, {192, 168, 1, 5}}};
  auto compare_lookups = [&](const std::string& when) {
    for (const Key& k : probes) {
      key = k;
      value = 0;
      int64_t core = one(kMapLookupElem, attr, false);
      uint64_t core_value = value;
      value = 0;
      int64_t host = one(kMapLookupElem, attr, true);
      EXPECT_EQ(core, host) << when << ": lookup " << name(k);
      if (core == 0 && host == 0) EXPECT_EQ(core_value, value) << when << ": lookup " << name(k);
    }
  };
  compare_lookups("filled");
  // The whole walk, and walks from keys that are not entries.
  BpfAttr walk = attr;
  walk.elem.value = address(&next);
  auto walk_of = [&](bool host) {
    std::vector<std::string> keys;
    walk.elem.key = 0;
    while (one(kMapGetNextKey, walk, host) == 0 && keys.size() <= 32) {
      keys.push_back(name(next));
      key = next;
      walk.elem.key = address(&key);
    }
    return keys;
  };
  std::vector<std::string> host_walk = walk_of(true);
  EXPECT_EQ(walk_of(false), host_walk);
  EXPECT_EQ(host_walk.size(), sizeof(prefixes) / sizeof(prefixes[0]));
  const Key starts[] = {{12, {172, 16, 0, 0}},   {23, {192, 168, 0, 0}}, {33, {192, 168, 0, 0}},
                        {24, {192, 168, 1, 99}}, {0, {0, 0, 0, 0}},      {9, {10, 0, 0, 0}},
                        {24, {192, 168, 2, 0}},  {8, {11, 0, 0, 0}}};
  auto compare_next_keys = [&](const std::string& when) {
    walk.elem.key = address(&key);
    for (const Key& k : starts) {
      key = k;
      next = {};
      int64_t core = one(kMapGetNextKey, walk, false);
      std::string core_next = name(next);
      next = {};
      int64_t host = one(kMapGetNextKey, walk, true);
      EXPECT_EQ(core, host) << when << ": next after " << name(k);
      if (core == 0 && host == 0) EXPECT_EQ(core_next, name(next)) << when << ": after " << name(k);
    }
  };
  compare_next_keys("filled");
  // Deletes: exact prefixes only; an entry with two children becomes an intermediate node.
  BpfAttr remove = attr;
  remove.elem.value = 0;
  const Key deletions[] = {{24, {192, 168, 2, 0}},  {23, {192, 168, 0, 0}}, {33, {192, 168, 0, 0}},
                           {24, {192, 168, 1, 99}}, {24, {192, 168, 1, 0}}, {16, {192, 168, 0, 0}},
                           {24, {192, 168, 0, 0}},  {8, {10, 0, 0, 0}}};
  for (const Key& k : deletions) {
    key = k;
    EXPECT_SAME(both(kMapDeleteElem, remove, sizeof(remove), fds), "delete " + name(k));
  }
  compare_lookups("after deletes");
  EXPECT_EQ(walk_of(false), walk_of(true)) << "after deletes";
  compare_next_keys("after deletes");
  key = {32, {192, 168, 1, 5}};
  EXPECT_SAME(both(kMapLookupAndDeleteElem, attr, sizeof(attr), fds), "lookup and delete");

  // A full trie: new entries ENOSPC (an intermediate node's prefix too), updates in place work.
  auto full = trie_on_both(2);
  auto full_fds = elem_fd(full);
  const std::pair<Key, uint64_t> full_cases[] = {
      {{24, {10, 0, 0, 0}}, BPF_ANY},     {{24, {10, 0, 1, 0}}, BPF_ANY},
      {{24, {10, 0, 2, 0}}, BPF_ANY},     {{23, {10, 0, 0, 0}}, BPF_NOEXIST},
      {{24, {10, 0, 0, 0}}, BPF_ANY},     {{24, {10, 0, 1, 0}}, BPF_EXIST},
      {{24, {10, 0, 1, 0}}, BPF_NOEXIST}, {{8, {10, 0, 0, 0}}, BPF_EXIST}};
  for (const auto& [k, flags] : full_cases) {
    key = k;
    value = 7;
    attr.elem.flags = flags;
    EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), full_fds),
                "full trie: " << name(k) << " flags " << flags);
  }
  attr.elem.flags = 0;

  // The generic batches: update, lookup (the token is a key), delete.
  auto batch_map = trie_on_both(8);
  auto batch_fds = [batch_map](BpfAttr& a, bool host) {
    a.batch.map_fd = static_cast<uint32_t>(host ? batch_map.second : batch_map.first);
  };
  Key keys[4] = {{8, {10, 0, 0, 0}}, {16, {10, 1, 0, 0}}, {0, {0, 0, 0, 0}}, {16, {10, 2, 0, 0}}};
  uint64_t values[4] = {8, 16, 1, 17};
  Key token = {};
  memory_.allow(keys, sizeof(keys));
  memory_.allow(values, sizeof(values));
  memory_.allow(&token, sizeof(token));
  BpfAttr batch = {};
  batch.batch.keys = address(keys);
  batch.batch.values = address(values);
  batch.batch.count = 4;
  EXPECT_SAME(both(kMapUpdateBatch, batch, sizeof(batch), batch_fds), "update batch");
  EXPECT_EQ(core_out_.batch.count, host_out_.batch.count);
  Key out_keys[2][8] = {}, tokens[2] = {};
  uint64_t out_values[2][8] = {};
  int64_t results[2];
  uint32_t counts[2];
  for (int side = 0; side < 2; ++side) {
    BpfAttr lookup = {};
    lookup.batch.keys = address(keys);
    lookup.batch.values = address(values);
    lookup.batch.out_batch = address(&token);
    lookup.batch.count = 3;
    batch_fds(lookup, side == 1);
    results[side] = side == 1 ? host_bpf(kMapLookupBatch, lookup) : bpf(kMapLookupBatch, lookup);
    counts[side] = lookup.batch.count;
    std::memcpy(out_keys[side], keys, sizeof(keys));
    std::memcpy(out_values[side], values, sizeof(values));
    tokens[side] = token;
  }
  EXPECT_EQ(results[0], results[1]) << "lookup batch";
  ASSERT_EQ(counts[0], counts[1]);
  for (uint32_t i = 0; i < counts[0]; ++i) {
    EXPECT_EQ(name(out_keys[0][i]), name(out_keys[1][i])) << i;
    EXPECT_EQ(out_values[0][i], out_values[1][i]) << i;
  }
  EXPECT_EQ(name(tokens[0]), name(tokens[1])) << "the token";
  batch.batch.count = 2;
  batch.batch.values = 0;
  keys[0] = {16, {10, 1, 0, 0}};
  keys[1] = {16, {10, 9, 0, 0}};
  EXPECT_SAME(both(kMapDeleteBatch, batch, sizeof(batch), batch_fds), "delete batch");
  EXPECT_EQ(core_out_.batch.count, host_out_.batch.count);
  EXPECT_SAME(both(kMapLookupAndDeleteBatch, batch, sizeof(batch), batch_fds),
              "lookup and delete batch");
}

// Random updates (all flags), deletes and lookups on a small 16-bit trie, the same on both
// sides: the same answers, the same values, and the same walk at checkpoints.
TEST_F(HostDifferential, LpmTrieRandomOperations) {
  struct Key {
    uint32_t prefixlen;
    uint8_t data[2];
  };
  BpfAttr create = {};
  create.map_create.map_type = BPF_MAP_TYPE_LPM_TRIE;
  create.map_create.key_size = sizeof(Key);
  create.map_create.value_size = 8;
  create.map_create.max_entries = 24;
  create.map_create.map_flags = BPF_F_NO_PREALLOC;
  Answers created = both(kMapCreate, create);
  ASSERT_GT(created.core, 0);
  ASSERT_GT(created.host, 0);
  Key key = {}, next = {};
  uint64_t value = 0;
  memory_.allow(&key, sizeof(key));
  memory_.allow(&next, sizeof(next));
  memory_.allow(&value, sizeof(value));
  auto one = [&](int command, BpfAttr a, bool host) {
    a.elem.map_fd = static_cast<uint32_t>(host ? created.host : created.core);
    return host ? host_bpf(command, a) : bpf(command, a, sizeof(a));
  };
  auto walk_of = [&](bool host) {
    std::vector<std::pair<uint32_t, uint32_t>> keys;
    BpfAttr walk = {};
    walk.elem.value = address(&next);
    while (one(kMapGetNextKey, walk, host) == 0 && keys.size() <= 32) {
      keys.push_back({next.prefixlen, uint32_t{next.data[0]} << 8 | next.data[1]});
      key = next;
      walk.elem.key = address(&key);
    }
    return keys;
  };
  std::mt19937 random(7);
  for (int step = 0; step < 4000; ++step) {
    Key k{static_cast<uint32_t>(random() % 18),
          {static_cast<uint8_t>(random() % 4 * 0x40 + random() % 3),
           static_cast<uint8_t>(random() % 2 * 0x80 + random() % 2)}};
    uint64_t written = random();
    BpfAttr attr = {};
    attr.elem.key = address(&key);
    attr.elem.value = address(&value);
    uint32_t operation = random() % 5;
    if (operation <= 1) attr.elem.flags = random() % 4;
    int command = operation <= 1   ? kMapUpdateElem
                  : operation == 2 ? kMapDeleteElem
                                   : kMapLookupElem;
    key = k;
    value = written;
    int64_t core = one(command, attr, false);
    uint64_t core_value = value;
    key = k;
    value = written;
    int64_t host = one(command, attr, true);
    ASSERT_EQ(core, host) << "step " << step << " command " << command << " prefix length "
                          << k.prefixlen << " flags " << attr.elem.flags;
    if (command == kMapLookupElem && core == 0) ASSERT_EQ(core_value, value) << "step " << step;
    if (step % 500 == 499) ASSERT_EQ(walk_of(false), walk_of(true)) << "step " << step;
  }
}

TEST_F(HostDifferential, BloomFilters) {
  struct Case {
    const char* what;
    uint32_t key_size, value_size, max_entries, flags;
    uint64_t extra;
  };
  const Case cases[] = {
      {"default hashes", 0, 4, 100, 0, 0},
      {"three hashes, odd value size", 0, 7, 100, 0, 3},
      {"fifteen hashes, zero seed", 0, 8, 1000, BPF_F_ZERO_SEED, 15},
      {"a key", 4, 4, 100, 0, 0},
      {"no value", 0, 0, 100, 0, 0},
      {"no entries", 0, 4, 0, 0, 0},
      {"map_extra past four bits", 0, 4, 100, 0, 16},
      {"no prealloc", 0, 4, 100, BPF_F_NO_PREALLOC, 0},
  };
  for (const Case& c : cases) {
    BpfAttr attr = {};
    attr.map_create.map_type = BPF_MAP_TYPE_BLOOM_FILTER;
    attr.map_create.key_size = c.key_size;
    attr.map_create.value_size = c.value_size;
    attr.map_create.max_entries = c.max_entries;
    attr.map_create.map_flags = c.flags;
    attr.map_create.map_extra = c.extra;
    EXPECT_SAME(both(kMapCreate, attr), c.what);
  }
  BpfAttr create = {};
  create.map_create.map_type = BPF_MAP_TYPE_BLOOM_FILTER;
  create.map_create.value_size = 4;
  create.map_create.max_entries = 100;
  create.map_create.map_extra = 3;
  Answers made = both(kMapCreate, create);
  ASSERT_GT(made.core, 0);
  ASSERT_GT(made.host, 0);
  auto fds = elem_fd({made.core, made.host});
  uint32_t value = 7, key = 0;
  memory_.allow(&value, sizeof(value));
  memory_.allow(&key, sizeof(key));
  BpfAttr attr = {};
  attr.elem.value = address(&value);
  EXPECT_SAME(both(kMapLookupElem, attr, sizeof(attr), fds), "lookup before any push");
  attr.elem.flags = BPF_EXIST;
  EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), "push with BPF_EXIST");
  attr.elem.flags = BPF_ANY;
  EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), "push");
  EXPECT_SAME(both(kMapLookupElem, attr, sizeof(attr), fds), "lookup of the pushed value");
  EXPECT_EQ(value, 7u) << "the value is not written back";
  value = 8;
  EXPECT_SAME(both(kMapLookupElem, attr, sizeof(attr), fds), "lookup of another value");
  BpfAttr keyed = attr;
  keyed.elem.key = address(&key);
  EXPECT_SAME(both(kMapLookupElem, keyed, sizeof(keyed), fds), "lookup with a key");
  EXPECT_SAME(both(kMapUpdateElem, keyed, sizeof(keyed), fds), "push with a key");
  BpfAttr bad = attr;
  bad.elem.value = 8;
  EXPECT_SAME(both(kMapLookupElem, bad, sizeof(bad), fds), "lookup of an unreadable value");
  BpfAttr remove = {};
  EXPECT_SAME(both(kMapDeleteElem, remove, sizeof(remove), fds), "delete");
  BpfAttr walk = {};
  walk.elem.value = address(&key);
  EXPECT_SAME(both(kMapGetNextKey, walk, sizeof(walk), fds), "get_next_key");
  EXPECT_SAME(both(kMapLookupAndDeleteElem, attr, sizeof(attr), fds), "lookup and delete");
  // bpf_map_info reports map_extra.
  for (bool host : {false, true}) {
    uint8_t info[88] = {};
    memory_.allow(info, sizeof(info));
    BpfAttr get = {};
    get.info.bpf_fd = static_cast<uint32_t>(host ? made.host : made.core);
    get.info.info_len = sizeof(info);
    get.info.info = address(info);
    ASSERT_EQ(host ? host_bpf(kObjGetInfoByFd, get) : bpf(kObjGetInfoByFd, get), 0);
    uint64_t extra;
    std::memcpy(&extra, info + 80, sizeof(extra));
    EXPECT_EQ(extra, 3u) << (host ? "host" : "core");
  }
}

}  // namespace
}  // namespace trace::testing
