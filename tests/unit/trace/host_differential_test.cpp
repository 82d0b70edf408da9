// SPDX-License-Identifier: MIT
// The same bpf_attr to the host kernel's bpf() and to the trace core: the same errno and results
// (map, program, BTF and link commands; the newer map types are in host_differential_maps_test).
#include "host_differential.hpp"

namespace trace::testing {
namespace {

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

}  // namespace
}  // namespace trace::testing
