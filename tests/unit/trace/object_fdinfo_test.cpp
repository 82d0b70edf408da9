// SPDX-License-Identifier: MIT
// object_fdinfo: the lines /proc/PID/fdinfo/FD shows for maps, programs, links and BTF, as
// Linux 6.1's show_fdinfo of those files prints them.
#include "btf_builder.hpp"
#include "perf_test_support.hpp"
#include "trace/bpf_command.hpp"

namespace trace::testing {
namespace {

constexpr uint32_t kProgKprobe = 2, kProgRawTp = 17;

class ObjectFdinfo : public PerfEventTest {
 protected:
  // The object's lines, or "errno N".
  std::string fdinfo(int64_t fd, uint64_t capacity = sizeof(text_)) {
    std::memset(text_, 0, sizeof(text_));
    memory_.allow(text_, sizeof(text_));
    int64_t length = status(
        object_fdinfo(session_, memory_, static_cast<int32_t>(fd), address(text_), capacity));
    if (length < 0) return "errno " + std::to_string(-length);
    return std::string(text_, static_cast<size_t>(length));
  }
  std::string tag_of(int64_t program) {
    auto* object =
        static_cast<const ProgramObject*>(session_.lookup(static_cast<int32_t>(program))->object);
    char text[17] = {};
    for (uint32_t i = 0; i < kTagSize; ++i) std::snprintf(text + 2 * i, 3, "%02x", object->tag[i]);
    return text;
  }
  uint32_t id_of(int64_t handle) {
    return session_.lookup(static_cast<int32_t>(handle))->object->id;
  }
  char text_[1024];
};

TEST_F(ObjectFdinfo, MapsShowTheirAttributesMemlockAndFrozen) {
  int64_t map = create_map(1 /* HASH */, 4, 12, 100, 1 /* BPF_F_NO_PREALLOC */, "counts");
  ASSERT_GT(map, 0);
  std::string id = std::to_string(id_of(map));
  // memlock: 100 * round_up(4 + 12, 8) = 1600 bytes, one page.
  EXPECT_EQ(fdinfo(map),
            "map_type:\t1\nkey_size:\t4\nvalue_size:\t12\nmax_entries:\t100\n"
            "map_flags:\t0x1\nmap_extra:\t0\nmemlock:\t4096\nmap_id:\t" +
                id + "\nfrozen:\t0\n");
  BpfAttr attr = {};
  attr.elem.map_fd = static_cast<uint32_t>(map);
  ASSERT_EQ(bpf(kMapFreeze, attr), 0);
  EXPECT_NE(fdinfo(map).find("\nfrozen:\t1\n"), std::string::npos);
  // map_flags 0 prints bare, as %#x; per-CPU values count once per possible CPU.
  int64_t per_cpu = create_map(6 /* PERCPU_ARRAY */, 4, 4, 1000);
  ASSERT_GT(per_cpu, 0);
  uint64_t cpus = environment_.possible_cpus();
  uint64_t element = (4 + 8 * cpus + 7) / 8 * 8;  // key and the values, 8-byte rounded
  uint64_t memlock = (1000 * element + 4095) / 4096 * 4096;
  EXPECT_NE(fdinfo(per_cpu).find("map_flags:\t0\n"), std::string::npos);
  EXPECT_NE(fdinfo(per_cpu).find("memlock:\t" + std::to_string(memlock) + "\n"), std::string::npos)
      << fdinfo(per_cpu);
}

TEST_F(ObjectFdinfo, ProgramArraysShowTheirOwnerOnceOneIsStored) {
  int64_t array = create_map(3 /* PROG_ARRAY */, 4, 4, 2);
  ASSERT_GT(array, 0);
  EXPECT_EQ(fdinfo(array).find("owner_prog_type"), std::string::npos) << "no owner yet";
  int64_t program = load(assemble("mov %r0, 0\nexit"), kProgKprobe);
  ASSERT_GT(program, 0);
  uint32_t key = 0, value = static_cast<uint32_t>(program);
  ASSERT_EQ(elem(kMapUpdateElem, array, &key, &value), 0);
  std::string text = fdinfo(array);
  // The table here has no executable memory: the program is interpreted, not jited.
  EXPECT_NE(text.find("\nfrozen:\t0\nowner_prog_type:\t2\nowner_jited:\t0\n"), std::string::npos)
      << text;
}

TEST_F(ObjectFdinfo, ProgramsShowTypeTagMemlockAndStatistics) {
  int64_t program = load(assemble("mov %r0, 0\nexit"), kProgKprobe, "tiny");
  ASSERT_GT(program, 0);
  // memlock: round_up(72 + 2 * 8, 4096).
  EXPECT_EQ(fdinfo(program), "prog_type:\t2\nprog_jited:\t0\nprog_tag:\t" + tag_of(program) +
                                 "\nmemlock:\t4096\nprog_id:\t" + std::to_string(id_of(program)) +
                                 "\nrun_time_ns:\t0\nrun_cnt:\t0\nrecursion_misses:\t0\n"
                                 "verified_insns:\t2\n");
}

TEST_F(ObjectFdinfo, LinksShowTheirTypeProgramAndTarget) {
  int64_t map = counter_map();
  int64_t program = load_counter(map, kProgKprobe);
  int64_t link = link_create(program, open_kprobe("do_unlinkat"));
  ASSERT_GT(link, 0);
  // A perf event link prints nothing after its program in 6.1.
  EXPECT_EQ(fdinfo(link), "link_type:\tperf\nlink_id:\t" + std::to_string(id_of(link)) +
                              "\nprog_tag:\t" + tag_of(program) + "\nprog_id:\t" +
                              std::to_string(id_of(program)) + "\n");
  int64_t raw_program = load_counter(map, kProgRawTp);
  int64_t raw = raw_tracepoint_open(raw_program, user_string("sys_enter"));
  ASSERT_GT(raw, 0);
  std::string text = fdinfo(raw);
  EXPECT_EQ(text.rfind("link_type:\traw_tracepoint\n", 0), 0u) << text;
  EXPECT_NE(text.find("\ntp_name:\tsys_enter\n"), std::string::npos) << text;
}

TEST_F(ObjectFdinfo, BtfShowsItsIdAndOtherFdsNothingOrEbadf) {
  BtfBuilder builder;
  builder.add_int("int", 4, 32, 1);
  std::vector<uint8_t> blob = builder.build();
  memory_.allow(blob.data(), blob.size(), false);
  BpfAttr attr = {};
  attr.btf_load.btf = address(blob.data());
  attr.btf_load.btf_size = static_cast<uint32_t>(blob.size());
  int64_t btf = bpf(kBtfLoad, attr);
  ASSERT_GT(btf, 0);
  EXPECT_EQ(fdinfo(btf), "btf_id:\t" + std::to_string(id_of(btf)) + "\n");
  int64_t event = open(bpf_output_attr());
  ASSERT_GT(event, 0);
  EXPECT_EQ(fdinfo(event), "") << "a perf event has no lines of its own";
  EXPECT_EQ(fdinfo(99), "errno " + std::to_string(rt::kEBADF));
  // Cut to the room given, as the POSIX server's buffer would cut it.
  EXPECT_EQ(fdinfo(btf, 4), "btf_");
  EXPECT_TRUE(session_.close(static_cast<int32_t>(btf)).ok());
}

}  // namespace
}  // namespace trace::testing
