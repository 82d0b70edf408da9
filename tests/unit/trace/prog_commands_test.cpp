// SPDX-License-Identifier: MIT
// PROG_LOAD (license, log rules, fd_array), bpf_prog_info (tag, xlated, map ids), PROG_TEST_RUN.
#include <linux/bpf.h>

#include "trace/sha1.hpp"
#include "trace_test_support.hpp"

namespace trace::testing {
namespace {

class ProgCommands : public TraceCoreTest {
 protected:
  BpfAttr load_attr(const std::vector<ebpf::Insn>& insns, uint32_t type = BPF_PROG_TYPE_KPROBE) {
    BpfAttr attr = {};
    attr.prog_load.prog_type = type;
    attr.prog_load.insns = address(insns.data());
    attr.prog_load.insn_cnt = static_cast<uint32_t>(insns.size());
    attr.prog_load.license = address(license_);
    memory_.allow(insns.data(), insns.size() * sizeof(ebpf::Insn), false);
    return attr;
  }
  ProgInfo info_of(int64_t program, uint32_t info_len = sizeof(ProgInfo)) {
    ProgInfo info = {};
    memory_.allow(&info, sizeof(info));
    info.xlated_prog_len = sizeof(xlated_);
    info.xlated_prog_insns = address(xlated_);
    info.nr_map_ids = 4;
    info.map_ids = address(map_ids_);
    info.nr_prog_tags = 1;
    info.prog_tags = address(prog_tag_);
    BpfAttr attr = {};
    attr.info.bpf_fd = static_cast<uint32_t>(program);
    attr.info.info = address(&info);
    attr.info.info_len = info_len;
    info_status_ = bpf(kObjGetInfoByFd, attr);
    info_len_ = attr.info.info_len;
    ProgInfo copy = info;
    return copy;
  }
  void SetUp() override {
    TraceCoreTest::SetUp();
    memory_.allow(xlated_, sizeof(xlated_));
    memory_.allow(map_ids_, sizeof(map_ids_));
    memory_.allow(prog_tag_, sizeof(prog_tag_));
  }

  ebpf::Insn xlated_[32] = {};
  uint32_t map_ids_[4] = {};
  uint8_t prog_tag_[8] = {};
  int64_t info_status_ = 0;
  uint32_t info_len_ = 0;
};

TEST_F(ProgCommands, LoadsAProgramAndReturnsAHandle) {
  std::vector<ebpf::Insn> insns = assemble("mov %r0, 0\nexit");
  EXPECT_GT(load(insns, BPF_PROG_TYPE_KPROBE, "probe"), 0);
  EXPECT_GT(load(insns, BPF_PROG_TYPE_TRACEPOINT), 0);
  EXPECT_GT(load(insns, BPF_PROG_TYPE_RAW_TRACEPOINT), 0);
  EXPECT_GT(load(insns, BPF_PROG_TYPE_PERF_EVENT), 0);
}

TEST_F(ProgCommands, LoadChecksFlagsLicenseCountTypeAndName) {
  std::vector<ebpf::Insn> insns = assemble("mov %r0, 0\nexit");
  BpfAttr attr = load_attr(insns);
  attr.prog_load.prog_flags = 1u << 10;
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEINVAL);
  attr = load_attr(insns);
  attr.prog_load.license = 0;
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEFAULT) << "a license must be readable";
  attr = load_attr(insns);
  attr.prog_load.insn_cnt = 0;
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kE2BIG);
  attr = load_attr(insns);
  attr.prog_load.insn_cnt = 1000001;
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kE2BIG);
  attr = load_attr(insns);
  attr.prog_load.insns = 16;
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEFAULT);
  attr = load_attr(insns, 9999);
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEINVAL);
  attr = load_attr(insns);
  std::memcpy(attr.prog_load.prog_name, "no spaces", 10);
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEINVAL);
  attr = load_attr(insns);
  std::memset(attr.prog_load.prog_name, 'a', kObjNameLen);
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEINVAL) << "the name must end within 16 bytes";
  attr = load_attr(insns);
  attr.prog_load.attach_btf_id = 5;
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEINVAL);
}

TEST_F(ProgCommands, LogAttributesAreAllOrNothing) {
  std::vector<ebpf::Insn> insns = assemble("mov %r0, 0\nexit");
  std::vector<char> log(1024, 'x');
  memory_.allow(log.data(), log.size());
  BpfAttr attr = load_attr(insns);
  attr.prog_load.log_size = 1024;
  attr.prog_load.log_level = 1;
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEINVAL) << "log_size without log_buf";
  attr.prog_load.log_buf = address(log.data());
  attr.prog_load.log_size = 100;
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEINVAL) << "under 128 bytes";
  attr.prog_load.log_size = 1024;
  attr.prog_load.log_level = 0;
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEINVAL) << "a buffer without a level";
  attr.prog_load.log_level = 8;
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEINVAL) << "unknown level bits";
  attr.prog_load.log_level = 1;
  EXPECT_GT(bpf(kProgLoad, attr), 0);
  EXPECT_NE(std::string(log.data()).find("processed 2 insns"), std::string::npos) << log.data();
  EXPECT_EQ(attr.prog_load.log_true_size, std::strlen(log.data()) + 1);
}

TEST_F(ProgCommands, ARejectedProgramGetsItsErrnoAndTheVerifierLog) {
  std::vector<ebpf::Insn> insns = assemble("exit");
  std::vector<char> log(1024, 0);
  memory_.allow(log.data(), log.size());
  EXPECT_EQ(load(insns, BPF_PROG_TYPE_KPROBE, "", &log), -rt::kEACCES);
  EXPECT_NE(std::string(log.data()).find("R0 !read_ok"), std::string::npos) << log.data();
  EXPECT_EQ(objects_.count(ObjectKind::kProgram), 0u);
}

TEST_F(ProgCommands, ATooSmallLogIsENOSPCWithTheTruncatedLogAndItsTrueSize) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "mov %r0, " + std::to_string(i) + "\n";
  text += "exit";
  std::vector<ebpf::Insn> insns = assemble(text);
  std::vector<char> log(128, 'x');
  memory_.allow(log.data(), log.size());
  BpfAttr attr = load_attr(insns);
  attr.prog_load.log_buf = address(log.data());
  attr.prog_load.log_size = 128;
  attr.prog_load.log_level = 2;
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kENOSPC);
  EXPECT_EQ(std::strlen(log.data()), 127u) << "log_size - 1 bytes and a NUL";
  EXPECT_GT(attr.prog_load.log_true_size, 128u);
  // A caller whose attr ends before log_true_size does not get it written.
  BpfAttr short_attr = load_attr(insns);
  short_attr.prog_load.log_buf = address(log.data());
  short_attr.prog_load.log_size = 128;
  short_attr.prog_load.log_level = 2;
  EXPECT_EQ(bpf(kProgLoad, short_attr, offsetof(ProgLoadAttr, log_true_size)), -rt::kENOSPC);
  EXPECT_EQ(short_attr.prog_load.log_true_size, 0u);
}

// A log longer than the reply can carry (the POSIX server's forwarding) keeps its end, where
// the verifier says why; the load's errno is the verifier's.
TEST_F(ProgCommands, ALogPastTheReplysRoomKeepsItsEnd) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "mov %r1, " + std::to_string(i) + "\n";
  text += "mov %r0, %r9\nexit";
  std::vector<ebpf::Insn> insns = assemble(text);
  std::vector<char> log(1 << 16, 'x');
  memory_.allow(log.data(), log.size());
  memory_.room = 4096 + 2 * 1000;
  BpfAttr attr = load_attr(insns);
  attr.prog_load.log_buf = address(log.data());
  attr.prog_load.log_size = static_cast<uint32_t>(log.size());
  attr.prog_load.log_level = 2;
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEACCES);
  std::string kept(log.data());
  EXPECT_EQ(kept.size(), 999u);
  EXPECT_EQ(kept.rfind("(verifier log cut: its last bytes follow)\n", 0), 0u) << kept;
  EXPECT_NE(kept.find("R9 !read_ok"), std::string::npos) << kept;
  memory_.room = UINT64_MAX;
}

TEST_F(ProgCommands, MapReferencesThroughFdsAndTheFdArray) {
  int64_t map = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
  ASSERT_GT(map, 0);
  std::string body = "\nmov %r2, %r10\nadd %r2, -4\nstw [%r10-4], 0\ncall 1\nmov %r0, 0\nexit";
  std::vector<ebpf::Insn> by_fd = assemble("lddw %r1, map:" + std::to_string(map) + body);
  EXPECT_GT(load(by_fd), 0);
  std::vector<ebpf::Insn> unknown = assemble("lddw %r1, map:55" + body);
  EXPECT_EQ(load(unknown), -rt::kEBADF);

  std::vector<ebpf::Insn> by_index = assemble("lddw %r1, map:0" + body);
  by_index[0].src = ebpf::kPseudoMapIdx;
  by_index[0].imm = 1;
  int32_t fd_array[2] = {0, static_cast<int32_t>(map)};
  BpfAttr attr = load_attr(by_index);
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEPROTO) << "an index without an fd_array";
  attr.prog_load.fd_array = address(fd_array);
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEFAULT) << "an fd_array the caller cannot read";
  memory_.allow(fd_array, sizeof(fd_array), false);
  int64_t program = bpf(kProgLoad, attr);
  ASSERT_GT(program, 0);
  ProgInfo info = info_of(program);
  ASSERT_EQ(info_status_, 0);
  EXPECT_EQ(info.nr_map_ids, 1u);
  EXPECT_EQ(map_ids_[0], 1u);
  EXPECT_EQ(xlated_[0].src, ebpf::kPseudoMapFd) << "the index became a map reference";
  EXPECT_EQ(xlated_[0].imm, 1) << "shown by map id";
}

TEST(Sha1, KnownAnswers) {
  auto hex = [](const std::string& text) {
    Sha1 hash;
    hash.update(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    uint8_t digest[kSha1DigestSize];
    hash.finish(digest);
    std::string out;
    char byte[3];
    for (uint8_t b : digest) {
      std::snprintf(byte, sizeof(byte), "%02x", b);
      out += byte;
    }
    return out;
  };
  EXPECT_EQ(hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST_F(ProgCommands, ProgInfoGivesNameTagXlatedInsnsAndRecordSizes) {
  std::vector<ebpf::Insn> insns = assemble("mov %r0, 7\nexit");
  int64_t program = load(insns, BPF_PROG_TYPE_KPROBE, "seven");
  ASSERT_GT(program, 0);
  ProgInfo info = info_of(program);
  ASSERT_EQ(info_status_, 0);
  EXPECT_EQ(info_len_, sizeof(ProgInfo));
  EXPECT_EQ(info.type, uint32_t{BPF_PROG_TYPE_KPROBE});
  EXPECT_EQ(info.id, 1u);
  EXPECT_STREQ(info.name, "seven");
  EXPECT_EQ(info.flags & 1, 1u) << "GPL is gpl_compatible";
  EXPECT_EQ(info.xlated_prog_len, 16u);
  EXPECT_EQ(std::memcmp(xlated_, insns.data(), 16), 0);
  EXPECT_EQ(info.nr_map_ids, 0u);
  EXPECT_EQ(info.func_info_rec_size, kFuncInfoRecSize);
  EXPECT_EQ(info.line_info_rec_size, kLineInfoRecSize);
  EXPECT_EQ(info.nr_prog_tags, 1u);
  EXPECT_EQ(info.load_time, 123456789u);
  EXPECT_EQ(info.verified_insns, 2u);
  // The tag is the SHA-1 of the instructions, first 8 bytes.
  Sha1 hash;
  hash.update(reinterpret_cast<const uint8_t*>(insns.data()), 16);
  uint8_t digest[kSha1DigestSize];
  hash.finish(digest);
  EXPECT_EQ(std::memcmp(info.tag, digest, kTagSize), 0);
  EXPECT_EQ(std::memcmp(prog_tag_, digest, kTagSize), 0);

  ProgInfo truncated = info_of(program, 8);
  EXPECT_EQ(info_len_, 8u);
  EXPECT_EQ(truncated.type, uint32_t{BPF_PROG_TYPE_KPROBE});
}

TEST_F(ProgCommands, ProgInfoRefusesAForeignRecordSize) {
  std::vector<ebpf::Insn> insns = assemble("mov %r0, 7\nexit");
  int64_t program = load(insns);
  ProgInfo info = {};
  info.func_info_rec_size = 12;
  memory_.allow(&info, sizeof(info));
  BpfAttr attr = {};
  attr.info.bpf_fd = static_cast<uint32_t>(program);
  attr.info.info = address(&info);
  attr.info.info_len = sizeof(info);
  EXPECT_EQ(bpf(kObjGetInfoByFd, attr), -rt::kEINVAL);
}

TEST_F(ProgCommands, TheTagIgnoresWhichMapIsReferenced) {
  int64_t first = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
  int64_t second = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
  std::string body = "\nmov %r0, 0\nexit";
  int64_t a = load(assemble("lddw %r1, map:" + std::to_string(first) + body));
  int64_t b = load(assemble("lddw %r1, map:" + std::to_string(second) + body));
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  ProgInfo info_a = info_of(a);
  ProgInfo info_b = info_of(b);
  EXPECT_EQ(std::memcmp(info_a.tag, info_b.tag, kTagSize), 0);
}

TEST_F(ProgCommands, TestRunRunsARawTracepointProgramOnItsArguments) {
  std::vector<ebpf::Insn> insns = assemble("ldxdw %r0, [%r1+8]\nadd %r0, 1\nexit");
  int64_t program = load(insns, BPF_PROG_TYPE_RAW_TRACEPOINT);
  ASSERT_GT(program, 0);
  uint64_t arguments[2] = {5, 41};
  memory_.allow(arguments, sizeof(arguments), false);
  BpfAttr attr = {};
  attr.test.prog_fd = static_cast<uint32_t>(program);
  attr.test.ctx_in = address(arguments);
  attr.test.ctx_size_in = sizeof(arguments);
  ASSERT_EQ(bpf(kProgTestRun, attr), 0);
  EXPECT_EQ(attr.test.retval, 42u);

  BpfAttr bad = attr;
  bad.test.repeat = 2;
  EXPECT_EQ(bpf(kProgTestRun, bad), -rt::kEINVAL) << "raw tracepoints take no repeat";
  bad = attr;
  bad.test.ctx_size_in = 0;
  EXPECT_EQ(bpf(kProgTestRun, bad), -rt::kEINVAL) << "ctx_in without its size";
  bad = attr;
  bad.test.ctx_size_in = 13 * 8;
  EXPECT_EQ(bpf(kProgTestRun, bad), -rt::kEINVAL) << "more than 12 arguments";
  bad = attr;
  bad.test.cpu = 1;
  EXPECT_EQ(bpf(kProgTestRun, bad), -rt::kEINVAL) << "a cpu without BPF_F_TEST_RUN_ON_CPU";
  bad.test.flags = BPF_F_TEST_RUN_ON_CPU;
  bad.test.cpu = 9;
  EXPECT_EQ(bpf(kProgTestRun, bad), -rt::kENXIO);
  bad = attr;
  bad.test.ctx_in = 8;
  EXPECT_EQ(bpf(kProgTestRun, bad), -rt::kEFAULT);
}

// BPF_F_TEST_RUN_ON_CPU: the run is on the CPU named (the test environment's caller is on CPU 0
// of 2), so the program's per-CPU copy and bpf_get_smp_processor_id are CPU 1's.
TEST_F(ProgCommands, TestRunOnCpuOneUsesCpuOnesCopy) {
  int64_t map = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1);
  ASSERT_GT(map, 0);
  // r0 = lookup(map, &0); *r0 += 10; return bpf_get_smp_processor_id()
  int64_t program = load(assemble("stw [%r10-4], 0\nlddw %r1, map:" + std::to_string(map) +
                                  "\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +3\n"
                                  "ldxdw %r1, [%r0+0]\nadd %r1, 10\nstxdw [%r0+0], %r1\n"
                                  "call 8\nexit"),
                         BPF_PROG_TYPE_RAW_TRACEPOINT);
  ASSERT_GT(program, 0);
  uint64_t arguments[1] = {0};
  memory_.allow(arguments, sizeof(arguments), false);
  BpfAttr attr = {};
  attr.test.prog_fd = static_cast<uint32_t>(program);
  attr.test.ctx_in = address(arguments);
  attr.test.ctx_size_in = sizeof(arguments);
  attr.test.flags = BPF_F_TEST_RUN_ON_CPU;
  attr.test.cpu = 1;
  ASSERT_EQ(bpf(kProgTestRun, attr), 0);
  EXPECT_EQ(attr.test.retval, 1u) << "bpf_get_smp_processor_id";
  attr.test.cpu = 1;
  ASSERT_EQ(bpf(kProgTestRun, attr), 0);
  attr.test.flags = 0;
  attr.test.cpu = 0;
  ASSERT_EQ(bpf(kProgTestRun, attr), 0);
  EXPECT_EQ(attr.test.retval, 0u) << "without the flag: the caller's CPU";
  uint32_t key = 0;
  uint64_t values[2] = {};
  memory_.allow(&key, sizeof(key), false);
  memory_.allow(values, sizeof(values));
  ASSERT_EQ(elem(kMapLookupElem, map, &key, values), 0);
  EXPECT_EQ(values[0], 10u) << "CPU 0's copy: the run without the flag";
  EXPECT_EQ(values[1], 20u) << "CPU 1's copy: the two runs on CPU 1";
}

TEST_F(ProgCommands, TestRunIsENOTSUPPForKprobesAndChecksTheFd) {
  int64_t program = load(assemble("mov %r0, 0\nexit"));
  BpfAttr attr = {};
  attr.test.prog_fd = static_cast<uint32_t>(program);
  EXPECT_EQ(bpf(kProgTestRun, attr), -rt::kENOTSUPP);
  attr.test.prog_fd = 50;
  EXPECT_EQ(bpf(kProgTestRun, attr), -rt::kEBADF);
  int64_t map = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
  attr.test.prog_fd = static_cast<uint32_t>(map);
  EXPECT_EQ(bpf(kProgTestRun, attr), -rt::kEINVAL);
}

TEST_F(ProgCommands, SocketFiltersLoadForLoadersFeatureProbes) {
  // libbpf's probes: a trivial program, then one that stores to a global (a map value).
  int64_t trivial =
      load(assemble("mov %r0, 0\nexit"), BPF_PROG_TYPE_SOCKET_FILTER, "libbpf_nametest");
  ASSERT_GT(trivial, 0);
  EXPECT_EQ(info_of(trivial).type, uint32_t{BPF_PROG_TYPE_SOCKET_FILTER});
  int64_t global = create_map(BPF_MAP_TYPE_ARRAY, 4, 32, 1, 0, "libbpf_global");
  ASSERT_GT(global, 0);
  EXPECT_GT(load(assemble("lddw %r1, map_value:" + std::to_string(global) +
                          "+0\nmov %r2, 42\nstxdw [%r1+0], %r2\nmov %r0, 0\nexit"),
                 BPF_PROG_TYPE_SOCKET_FILTER),
            0);
}

TEST_F(ProgCommands, ProgBindMapAddsTheMapOnceAndKeepsItAlive) {
  int64_t program = load(assemble("mov %r0, 0\nexit"));
  int64_t map = create_map(BPF_MAP_TYPE_ARRAY, 4, 32, 1);
  BpfAttr attr = {};
  attr.prog_bind_map.prog_fd = static_cast<uint32_t>(program);
  attr.prog_bind_map.map_fd = static_cast<uint32_t>(map);
  EXPECT_EQ(bpf(kProgBindMap, attr), 0);
  EXPECT_EQ(bpf(kProgBindMap, attr), 0) << "binding twice is fine";
  EXPECT_EQ(info_of(program).nr_map_ids, 1u);
  ASSERT_TRUE(session_.close(static_cast<int32_t>(map)).ok());
  EXPECT_NE(objects_.find(ObjectKind::kMap, 1), nullptr) << "the program holds the map";
  attr.prog_bind_map.map_fd = 60;
  EXPECT_EQ(bpf(kProgBindMap, attr), -rt::kEBADF);
  attr.prog_bind_map.map_fd = static_cast<uint32_t>(program);
  EXPECT_EQ(bpf(kProgBindMap, attr), -rt::kEINVAL) << "a program is no map";
  attr.prog_bind_map.flags = 1;
  EXPECT_EQ(bpf(kProgBindMap, attr), -rt::kEINVAL);
}

TEST_F(ProgCommands, LinkCreateAnswersLibbpfsPerfLinkProbe) {
  int64_t program = load(assemble("mov %r0, 0\nexit"), BPF_PROG_TYPE_TRACEPOINT);
  BpfAttr attr = {};
  attr.link_create.prog_fd = static_cast<uint32_t>(program);
  attr.link_create.target_fd = static_cast<uint32_t>(-1);
  attr.link_create.attach_type = BPF_PERF_EVENT;
  EXPECT_EQ(bpf(kLinkCreate, attr), -rt::kEBADF);
  attr.link_create.attach_type = BPF_TRACE_FENTRY;
  EXPECT_EQ(bpf(kLinkCreate, attr), -rt::kEINVAL);
  attr.link_create.prog_fd = 77;
  EXPECT_EQ(bpf(kLinkCreate, attr), -rt::kEBADF);
  attr.link_create.prog_fd = static_cast<uint32_t>(program);
  attr.bytes[kLinkCreateLastFieldEnd] = 1;
  EXPECT_EQ(bpf(kLinkCreate, attr), -rt::kEINVAL);
}

}  // namespace
}  // namespace trace::testing
