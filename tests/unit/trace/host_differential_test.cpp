// SPDX-License-Identifier: MIT
// The same bpf_attr to the host kernel's bpf() and to the trace core: the same errno and results.
// Skipped where the host refuses bpf() (no privilege); nothing is ever attached on the host.
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <random>

#include "btf_test_support.hpp"
#include "trace_test_support.hpp"

namespace trace::testing {
namespace {

int64_t host_bpf(int command, BpfAttr& attr, uint32_t size = sizeof(BpfAttr)) {
  long result = syscall(SYS_bpf, command, attr.bytes, size);
  return result < 0 ? -static_cast<int64_t>(errno) : result;
}

// The host kernel's version as major * 100 + minor (6.1 -> 601).
int host_version() {
  struct utsname name;
  if (uname(&name) != 0) return 0;
  int major = 0, minor = 0;
  std::sscanf(name.release, "%d.%d", &major, &minor);
  return major * 100 + minor;
}

class HostDifferential : public TraceCoreTest {
 protected:
  void SetUp() override {
    TraceCoreTest::SetUp();
    BpfAttr attr = {};
    attr.map_create.map_type = BPF_MAP_TYPE_ARRAY;
    attr.map_create.key_size = 4;
    attr.map_create.value_size = 4;
    attr.map_create.max_entries = 1;
    int64_t fd = host_bpf(kMapCreate, attr);
    if (fd < 0) GTEST_SKIP() << "the host refuses bpf(): errno " << -fd;
    close(static_cast<int>(fd));
  }
  void TearDown() override {
    for (int fd : host_fds_) close(fd);
  }

  // Both sides' answers to one attr; `fds` puts each side's own fds into it.
  struct Answers {
    int64_t core;
    int64_t host;
  };
  Answers both(int command, BpfAttr attr, uint32_t size = sizeof(BpfAttr),
               const std::function<void(BpfAttr&, bool host)>& fds = nullptr) {
    BpfAttr core_attr = attr, host_attr = attr;
    if (fds) {
      fds(core_attr, false);
      fds(host_attr, true);
    }
    Answers answers{bpf(command, core_attr, size), host_bpf(command, host_attr, size)};
    if (answers.host > 0 && returns_fd(command))
      host_fds_.push_back(static_cast<int>(answers.host));
    core_out_ = core_attr;
    host_out_ = host_attr;
    return answers;
  }
  static bool returns_fd(int command) {
    return command == kMapCreate || command == kProgLoad || command == kMapGetFdById ||
           command == kProgGetFdById || command == kBtfLoad;
  }
  // A map on each side: the core's handle and the host's fd.
  std::pair<int64_t, int64_t> map_on_both(uint32_t type, uint32_t key_size, uint32_t value_size,
                                          uint32_t max_entries) {
    BpfAttr attr = {};
    attr.map_create.map_type = type;
    attr.map_create.key_size = key_size;
    attr.map_create.value_size = value_size;
    attr.map_create.max_entries = max_entries;
    Answers answers = both(kMapCreate, attr);
    EXPECT_GT(answers.core, 0);
    EXPECT_GT(answers.host, 0);
    return {answers.core, answers.host};
  }
  std::function<void(BpfAttr&, bool)> elem_fd(std::pair<int64_t, int64_t> map) {
    return [map](BpfAttr& attr, bool host) {
      attr.elem.map_fd = static_cast<uint32_t>(host ? map.second : map.first);
    };
  }

  std::vector<int> host_fds_;
  BpfAttr core_out_ = {}, host_out_ = {};
};

#define EXPECT_SAME(answers, what)                                 \
  do {                                                             \
    Answers a = (answers);                                         \
    if (a.host > 0) {                                              \
      EXPECT_GT(a.core, 0) << what << " (host: " << a.host << ")"; \
    } else {                                                       \
      EXPECT_EQ(a.core, a.host) << what;                           \
    }                                                              \
  } while (0)

TEST_F(HostDifferential, MapCreateAttributes) {
  struct Case {
    const char* what;
    uint32_t type, key_size, value_size, max_entries, flags;
    const char* name;
  };
  const Case cases[] = {
      {"hash", BPF_MAP_TYPE_HASH, 4, 8, 16, 0, "counts"},
      {"array", BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0, ""},
      {"percpu array", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, 0, ""},
      {"queue", BPF_MAP_TYPE_QUEUE, 0, 8, 16, 0, ""},
      {"ring buffer", BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, ""},
      {"ring buffer, not a power of two", BPF_MAP_TYPE_RINGBUF, 0, 0, 12288, 0, ""},
      {"hash without a key", BPF_MAP_TYPE_HASH, 0, 8, 16, 0, ""},
      {"hash without entries", BPF_MAP_TYPE_HASH, 4, 8, 0, 0, ""},
      {"array with an 8-byte key", BPF_MAP_TYPE_ARRAY, 8, 8, 16, 0, ""},
      {"queue with a key", BPF_MAP_TYPE_QUEUE, 4, 8, 16, 0, ""},
      {"lru without prealloc", BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NO_PREALLOC, ""},
      {"read-only and write-only", BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_RDONLY | BPF_F_WRONLY, ""},
      {"mmapable hash", BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_MMAPABLE, ""},
      {"bad name", BPF_MAP_TYPE_HASH, 4, 8, 16, 0, "a-b"},
  };
  for (const Case& c : cases) {
    BpfAttr attr = {};
    attr.map_create.map_type = c.type;
    attr.map_create.key_size = c.key_size;
    attr.map_create.value_size = c.value_size;
    attr.map_create.max_entries = c.max_entries;
    attr.map_create.map_flags = c.flags;
    std::strncpy(attr.map_create.map_name, c.name, kObjNameLen - 1);
    EXPECT_SAME(both(kMapCreate, attr), c.what);
  }
  BpfAttr attr = {};
  attr.map_create.map_type = BPF_MAP_TYPE_ARRAY;
  attr.map_create.key_size = 4;
  attr.map_create.value_size = 4;
  attr.map_create.max_entries = 1;
  attr.map_create.map_extra = 1;
  EXPECT_SAME(both(kMapCreate, attr), "map_extra");
  attr.map_create.map_extra = 0;
  std::memset(attr.map_create.map_name, 'a', kObjNameLen);
  EXPECT_SAME(both(kMapCreate, attr), "unterminated name");
  std::memset(attr.map_create.map_name, 0, kObjNameLen);
  attr.map_create.btf_key_type_id = 1;
  EXPECT_SAME(both(kMapCreate, attr), "a btf key type without a value type");
  attr.map_create.btf_key_type_id = 0;
  uint8_t big[256] = {};
  std::memcpy(big, attr.bytes, sizeof(attr));
  big[200] = 1;
  auto* big_attr = reinterpret_cast<BpfAttr*>(big);
  EXPECT_EQ(status(bpf_command(session_, kMapCreate, big, sizeof(big), memory_)),
            host_bpf(kMapCreate, *big_attr, sizeof(big)))
      << "a nonzero tail past the attr";
}

TEST_F(HostDifferential, ElementCommands) {
  auto map = map_on_both(BPF_MAP_TYPE_HASH, 4, 8, 4);
  uint32_t key = 1, next = 0;
  uint64_t value = 10;
  memory_.allow(&key, sizeof(key));
  memory_.allow(&next, sizeof(next));
  memory_.allow(&value, sizeof(value));
  BpfAttr attr = {};
  attr.elem.key = address(&key);
  attr.elem.value = address(&value);
  auto fds = elem_fd(map);
  attr.elem.flags = BPF_EXIST;
  EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), "EXIST on a missing key");
  attr.elem.flags = BPF_NOEXIST;
  EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), "NOEXIST on a missing key");
  EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), "NOEXIST on a present key");
  attr.elem.flags = 8;
  EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), "unknown update flag");
  attr.elem.flags = BPF_F_LOCK;
  EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), "F_LOCK without a spin lock");
  EXPECT_SAME(both(kMapLookupElem, attr, sizeof(attr), fds), "lookup with F_LOCK");
  attr.elem.flags = 2;
  EXPECT_SAME(both(kMapLookupElem, attr, sizeof(attr), fds), "lookup with an unknown flag");
  attr.elem.flags = 0;
  for (uint32_t k = 2; k <= 5; ++k) {
    key = k;
    EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), "fill, key " << k);
  }
  key = 9;
  EXPECT_SAME(both(kMapLookupElem, attr, sizeof(attr), fds), "lookup of a missing key");
  EXPECT_SAME(both(
                  kMapDeleteElem,
                  [&] {
                    BpfAttr d = attr;
                    d.elem.value = 0;
                    return d;
                  }(),
                  sizeof(attr), fds),
              "delete of a missing key");
  BpfAttr walk = attr;
  walk.elem.key = 0;
  walk.elem.value = address(&next);
  EXPECT_SAME(both(kMapGetNextKey, walk, sizeof(walk), fds), "first key");
  key = 1;
  EXPECT_SAME(both(kMapLookupAndDeleteElem, attr, sizeof(attr), fds), "lookup and delete");
  EXPECT_SAME(both(kMapLookupAndDeleteElem, attr, sizeof(attr), fds), "lookup and delete again");
  BpfAttr freeze = {};
  EXPECT_SAME(both(kMapFreeze, freeze, sizeof(freeze), fds), "freeze");
  // Linux 6.1 answers EBUSY for a second freeze; later kernels check write access first, which
  // a frozen map has lost, and answer EPERM. The core follows 6.1.
  Answers again = both(kMapFreeze, freeze, sizeof(freeze), fds);
  EXPECT_EQ(again.core, -rt::kEBUSY);
  EXPECT_TRUE(again.host == -rt::kEBUSY || again.host == -rt::kEPERM) << again.host;
  key = 2;
  EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), "update of a frozen map");
  BpfAttr bad_fd = attr;
  EXPECT_SAME(
      both(kMapLookupElem, bad_fd, sizeof(bad_fd), [](BpfAttr& a, bool) { a.elem.map_fd = 9999; }),
      "a closed fd");
}

TEST_F(HostDifferential, BatchLookupOfAWholeHash) {
  auto map = map_on_both(BPF_MAP_TYPE_HASH, 4, 8, 8);
  uint32_t keys[8] = {1, 2, 3};
  uint64_t values[8] = {10, 20, 30};
  uint32_t out_batch = 0;
  memory_.allow(keys, sizeof(keys));
  memory_.allow(values, sizeof(values));
  memory_.allow(&out_batch, sizeof(out_batch));
  BpfAttr attr = {};
  attr.batch.keys = address(keys);
  attr.batch.values = address(values);
  attr.batch.out_batch = address(&out_batch);
  attr.batch.count = 3;
  auto fds = [map](BpfAttr& a, bool host) {
    a.batch.map_fd = static_cast<uint32_t>(host ? map.second : map.first);
  };
  EXPECT_SAME(both(kMapUpdateBatch, attr, sizeof(attr), fds), "update batch");
  EXPECT_EQ(core_out_.batch.count, host_out_.batch.count);
  attr.batch.count = 8;
  EXPECT_SAME(both(kMapLookupBatch, attr, sizeof(attr), fds), "lookup batch to the end");
  EXPECT_EQ(core_out_.batch.count, host_out_.batch.count);
  attr.batch.elem_flags = BPF_F_LOCK;
  EXPECT_SAME(both(kMapLookupBatch, attr, sizeof(attr), fds), "lookup batch with F_LOCK");
}

// LPM tries. The rules compared are those Linux 6.1's stable releases (6.1.120 on) share with
// later kernels: update flags honoured, in-place updates of a full trie, get_next_key's exact
// match on the matched length. 6.13 dropped the RCU head from the trie node, so its largest
// value is 16 bytes larger than 6.1's.
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

TEST_F(HostDifferential, ProgLoadChecksAndLogRules) {
  std::vector<ebpf::Insn> good = assemble("mov %r0, 7\nexit");
  std::vector<ebpf::Insn> bad = assemble("exit");
  std::vector<char> log(128, 0);
  memory_.allow(log.data(), log.size());
  auto attr_for = [&](const std::vector<ebpf::Insn>& insns) {
    BpfAttr attr = {};
    attr.prog_load.prog_type = BPF_PROG_TYPE_KPROBE;
    attr.prog_load.insns = address(insns.data());
    attr.prog_load.insn_cnt = static_cast<uint32_t>(insns.size());
    attr.prog_load.license = address(license_);
    memory_.allow(insns.data(), insns.size() * sizeof(ebpf::Insn), false);
    return attr;
  };
  EXPECT_SAME(both(kProgLoad, attr_for(good)), "a good program");
  EXPECT_SAME(both(kProgLoad, attr_for(bad)), "r0 never written");
  BpfAttr attr = attr_for(good);
  attr.prog_load.insn_cnt = 0;
  EXPECT_SAME(both(kProgLoad, attr), "no instructions");
  attr = attr_for(good);
  attr.prog_load.prog_flags = 1u << 12;
  EXPECT_SAME(both(kProgLoad, attr), "unknown prog_flags");
  attr = attr_for(good);
  attr.prog_load.log_size = 4096;
  attr.prog_load.log_level = 1;
  EXPECT_SAME(both(kProgLoad, attr), "log_size without log_buf");
  attr.prog_load.log_buf = address(log.data());
  attr.prog_load.log_size = 64;
  // Linux 6.1 refuses a log under 128 bytes (EINVAL); 6.4 dropped that minimum.
  if (host_version() < 604) EXPECT_SAME(both(kProgLoad, attr), "a log under 128 bytes");
  attr = attr_for(good);
  std::memcpy(attr.prog_load.prog_name, "x y", 4);
  EXPECT_SAME(both(kProgLoad, attr), "a bad name");

  std::string text;
  for (int i = 0; i < 60; ++i) text += "mov %r0, " + std::to_string(i) + "\n";
  std::vector<ebpf::Insn> long_program = assemble(text + "exit");
  attr = attr_for(long_program);
  attr.prog_load.log_buf = address(log.data());
  attr.prog_load.log_size = 128;
  attr.prog_load.log_level = 2;
  EXPECT_SAME(both(kProgLoad, attr), "a log too small for level 2");
  EXPECT_EQ(std::strlen(log.data()), 127u);
}

TEST_F(HostDifferential, TagsAndInfoMatchTheHosts) {
  auto map = map_on_both(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
  std::vector<ebpf::Insn> core_insns =
      assemble("lddw %r1, map:" + std::to_string(map.first) + "\nmov %r0, 7\nexit");
  std::vector<ebpf::Insn> host_insns =
      assemble("lddw %r1, map:" + std::to_string(map.second) + "\nmov %r0, 7\nexit");
  memory_.allow(core_insns.data(), core_insns.size() * 8, false);
  BpfAttr attr = {};
  attr.prog_load.prog_type = BPF_PROG_TYPE_KPROBE;
  attr.prog_load.insn_cnt = static_cast<uint32_t>(core_insns.size());
  attr.prog_load.license = address(license_);
  std::memcpy(attr.prog_load.prog_name, "tagged", 7);
  auto insns = [&](BpfAttr& a, bool host) {
    a.prog_load.insns = address(host ? host_insns.data() : core_insns.data());
  };
  Answers loaded = both(kProgLoad, attr, sizeof(attr), insns);
  ASSERT_GT(loaded.core, 0);
  ASSERT_GT(loaded.host, 0);

  ProgInfo core_info = {}, host_info = {};
  memory_.allow(&core_info, sizeof(core_info));
  BpfAttr info = {};
  info.info.info_len = sizeof(ProgInfo);
  auto info_fd = [&](BpfAttr& a, bool host) {
    a.info.bpf_fd = static_cast<uint32_t>(host ? loaded.host : loaded.core);
    a.info.info = address(host ? &host_info : &core_info);
  };
  Answers answers = both(kObjGetInfoByFd, info, sizeof(info), info_fd);
  ASSERT_EQ(answers.core, 0);
  ASSERT_EQ(answers.host, 0);
  EXPECT_EQ(core_out_.info.info_len, host_out_.info.info_len);
  // Linux 6.18 made the tag a SHA-256 (Linux 6.1: SHA-1, what the core computes).
  if (host_version() < 618)
    EXPECT_EQ(std::memcmp(core_info.tag, host_info.tag, kTagSize), 0) << "Linux's tag";
  EXPECT_EQ(core_info.type, host_info.type);
  EXPECT_STREQ(core_info.name, host_info.name);
  EXPECT_EQ(core_info.nr_map_ids, host_info.nr_map_ids);
  EXPECT_EQ(core_info.xlated_prog_len, host_info.xlated_prog_len);
  EXPECT_EQ(core_info.flags & 1, host_info.flags & 1);

  MapInfo core_map = {}, host_map = {};
  memory_.allow(&core_map, sizeof(core_map));
  info.info.info_len = sizeof(MapInfo);
  auto map_fd = [&](BpfAttr& a, bool host) {
    a.info.bpf_fd = static_cast<uint32_t>(host ? map.second : map.first);
    a.info.info = address(host ? &host_map : &core_map);
  };
  answers = both(kObjGetInfoByFd, info, sizeof(info), map_fd);
  ASSERT_EQ(answers.core, 0);
  ASSERT_EQ(answers.host, 0);
  EXPECT_EQ(core_map.type, host_map.type);
  EXPECT_EQ(core_map.key_size, host_map.key_size);
  EXPECT_EQ(core_map.value_size, host_map.value_size);
  EXPECT_EQ(core_map.max_entries, host_map.max_entries);
  EXPECT_EQ(core_map.map_flags, host_map.map_flags);
  info.info.bpf_fd = 9999;
  EXPECT_SAME(
      both(kObjGetInfoByFd, info, sizeof(info), [](BpfAttr& a, bool) { a.info.bpf_fd = 9999; }),
      "a closed fd");
}

TEST_F(HostDifferential, RawTracepointTestRun) {
  std::vector<ebpf::Insn> program = assemble("ldxdw %r0, [%r1+8]\nadd %r0, 1\nexit");
  memory_.allow(program.data(), program.size() * 8, false);
  BpfAttr attr = {};
  attr.prog_load.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
  attr.prog_load.insns = address(program.data());
  attr.prog_load.insn_cnt = static_cast<uint32_t>(program.size());
  attr.prog_load.license = address(license_);
  Answers loaded = both(kProgLoad, attr);
  ASSERT_GT(loaded.core, 0);
  ASSERT_GT(loaded.host, 0);
  uint64_t arguments[2] = {5, 41};
  memory_.allow(arguments, sizeof(arguments), false);
  BpfAttr run = {};
  run.test.ctx_in = address(arguments);
  run.test.ctx_size_in = sizeof(arguments);
  auto fd = [&](BpfAttr& a, bool host) {
    a.test.prog_fd = static_cast<uint32_t>(host ? loaded.host : loaded.core);
  };
  EXPECT_SAME(both(kProgTestRun, run, sizeof(run), fd), "a run");
  EXPECT_EQ(core_out_.test.retval, host_out_.test.retval);
  run.test.repeat = 3;
  EXPECT_SAME(both(kProgTestRun, run, sizeof(run), fd), "repeat");
}

TEST_F(HostDifferential, ProgramArrayUpdates) {
  auto array = map_on_both(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2);
  std::vector<ebpf::Insn> target = assemble("mov %r0, 42\nexit");
  memory_.allow(target.data(), target.size() * 8, false);
  BpfAttr load = {};
  load.prog_load.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
  load.prog_load.insns = address(target.data());
  load.prog_load.insn_cnt = 2;
  load.prog_load.license = address(license_);
  Answers program = both(kProgLoad, load);
  ASSERT_GT(program.core, 0);
  ASSERT_GT(program.host, 0);
  uint32_t key = 1, core_fd = static_cast<uint32_t>(program.core),
           host_fd = static_cast<uint32_t>(program.host);
  memory_.allow(&key, sizeof(key));
  memory_.allow(&core_fd, sizeof(core_fd));
  BpfAttr attr = {};
  attr.elem.key = address(&key);
  auto fds = [&](BpfAttr& a, bool host) {
    a.elem.map_fd = static_cast<uint32_t>(host ? array.second : array.first);
    a.elem.value = address(host ? &host_fd : &core_fd);
  };
  attr.elem.flags = BPF_NOEXIST;
  EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), "NOEXIST");
  attr.elem.flags = 0;
  key = 2;
  EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), "an index past the end");
  key = 1;
  EXPECT_SAME(both(kMapUpdateElem, attr, sizeof(attr), fds), "a program");
  BpfAttr remove = {};
  remove.elem.key = address(&key);
  auto map_fd = [&](BpfAttr& a, bool host) {
    a.elem.map_fd = static_cast<uint32_t>(host ? array.second : array.first);
  };
  EXPECT_SAME(both(kMapDeleteElem, remove, sizeof(remove), map_fd), "delete");
  EXPECT_SAME(both(kMapDeleteElem, remove, sizeof(remove), map_fd), "delete again");
}

TEST_F(HostDifferential, LibbpfFeatureProbes) {
  std::vector<ebpf::Insn> trivial = assemble("mov %r0, 0\nexit");
  memory_.allow(trivial.data(), trivial.size() * 8, false);
  BpfAttr attr = {};
  attr.prog_load.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.prog_load.insns = address(trivial.data());
  attr.prog_load.insn_cnt = 2;
  attr.prog_load.license = address(license_);
  std::memcpy(attr.prog_load.prog_name, "libbpf_nametest", 16);
  Answers filter = both(kProgLoad, attr);
  EXPECT_SAME(filter, "a named socket filter");
  auto map = map_on_both(BPF_MAP_TYPE_ARRAY, 4, 32, 1);
  BpfAttr bind = {};
  auto bind_fds = [&](BpfAttr& a, bool host) {
    a.prog_bind_map.prog_fd = static_cast<uint32_t>(host ? filter.host : filter.core);
    a.prog_bind_map.map_fd = static_cast<uint32_t>(host ? map.second : map.first);
  };
  EXPECT_SAME(both(kProgBindMap, bind, sizeof(bind), bind_fds), "PROG_BIND_MAP");

  attr.prog_load.prog_type = BPF_PROG_TYPE_TRACEPOINT;
  std::memset(attr.prog_load.prog_name, 0, 16);
  Answers tracepoint = both(kProgLoad, attr);
  ASSERT_GT(tracepoint.core, 0);
  ASSERT_GT(tracepoint.host, 0);
  BpfAttr link = {};
  link.link_create.target_fd = static_cast<uint32_t>(-1);
  link.link_create.attach_type = BPF_PERF_EVENT;
  auto link_fds = [&](BpfAttr& a, bool host) {
    a.link_create.prog_fd = static_cast<uint32_t>(host ? tracepoint.host : tracepoint.core);
  };
  EXPECT_SAME(both(kLinkCreate, link, sizeof(link), link_fds), "a perf link without a perf event");
}

// BTF blobs, valid and not, to both sides (no log: Linux 6.4 changed the log's rules).
TEST_F(HostDifferential, BtfLoad) {
  auto with_int = [](const std::function<void(BtfBuilder&)>& more) {
    BtfBuilder b;
    b.add_int("int", 4, 32, kBtfIntSigned);
    more(b);
    return b.build();
  };
  BtfBuilder every = every_kind();
  BtfHeader bad_magic = every.header();
  bad_magic.magic = 0x9feb;
  struct Case {
    const char* what;
    std::vector<uint8_t> blob;
  };
  const Case cases[] = {
      {"every kind", every.build()},
      {"bad magic", every.build(&bad_magic)},
      {"modifier loop", with_int([](BtfBuilder& b) {
         b.add_const(3);
         b.add_volatile(2);
       })},
      {"struct loop", with_int([](BtfBuilder& b) {
         b.add_struct("a", 4, {{"b", 3, 0}});
         b.add_struct("b", 4, {{"a", 2, 0}});
       })},
      {"33 typedefs deep", with_int([](BtfBuilder& b) {
         for (uint32_t i = 0; i < 33; ++i) b.add_typedef("t" + std::to_string(i), i + 3);
         b.add_const(1);
       })},
      {"member past the struct", with_int([](BtfBuilder& b) {
         b.add_struct("s", 2, {{"x", 1, 0}});
       })},
      {"enum of 3 bytes", with_int([](BtfBuilder& b) {
         b.add_enum("e", 3, {{"A", 1}});
       })},
      {"int encoding", with_int([](BtfBuilder& b) { b.add_int("odd", 4, 32, 3); })},
      {"typedef without a name", with_int([](BtfBuilder& b) { b.add_typedef("", 1); })},
      {"pointer to a missing type", with_int([](BtfBuilder& b) { b.add_ptr(7); })},
      {"array of 4 GiB", with_int([](BtfBuilder& b) { b.add_array(1, 1, 0x40000000); })},
      {"datasec entry not a var", with_int([](BtfBuilder& b) {
         b.add_datasec(".data", 4, {{1, 0, 4}});
       })},
  };
  for (const Case& c : cases) {
    memory_.allow(c.blob.data(), c.blob.size(), false);
    BpfAttr attr = {};
    attr.btf_load.btf = address(c.blob.data());
    attr.btf_load.btf_size = static_cast<uint32_t>(c.blob.size());
    EXPECT_SAME(both(kBtfLoad, attr), c.what);
  }
}

// A map whose BTF key and value types have the map's sizes, and ones that do not.
TEST_F(HostDifferential, MapCreateWithBtf) {
  BtfBuilder b;
  b.add_int("unsigned int", 4, 32);
  b.add_int("long long unsigned int", 8, 64);
  std::vector<uint8_t> blob = b.build();
  memory_.allow(blob.data(), blob.size(), false);
  BpfAttr load = {};
  load.btf_load.btf = address(blob.data());
  load.btf_load.btf_size = static_cast<uint32_t>(blob.size());
  Answers btf = both(kBtfLoad, load);
  ASSERT_GT(btf.core, 0);
  ASSERT_GT(btf.host, 0);
  auto btf_fd = [btf](BpfAttr& attr, bool host) {
    attr.map_create.btf_fd = static_cast<uint32_t>(host ? btf.host : btf.core);
  };
  struct Case {
    const char* what;
    uint32_t type, key_size, value_size, key_id, value_id;
  };
  const Case cases[] = {
      {"hash u32 -> u64", BPF_MAP_TYPE_HASH, 4, 8, 1, 2},
      {"array u32 -> u64", BPF_MAP_TYPE_ARRAY, 4, 8, 1, 2},
      {"key size differs", BPF_MAP_TYPE_HASH, 8, 8, 1, 2},
      {"value size differs", BPF_MAP_TYPE_HASH, 4, 4, 1, 2},
      {"missing type", BPF_MAP_TYPE_HASH, 4, 8, 1, 9},
      {"hash without key type", BPF_MAP_TYPE_HASH, 4, 8, 0, 2},
      {"array keyed by u64", BPF_MAP_TYPE_ARRAY, 8, 8, 2, 2},
  };
  for (const Case& c : cases) {
    BpfAttr attr = {};
    attr.map_create.map_type = c.type;
    attr.map_create.key_size = c.key_size;
    attr.map_create.value_size = c.value_size;
    attr.map_create.max_entries = 4;
    attr.map_create.btf_key_type_id = c.key_id;
    attr.map_create.btf_value_type_id = c.value_id;
    EXPECT_SAME(both(kMapCreate, attr, sizeof(BpfAttr), btf_fd), c.what);
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
