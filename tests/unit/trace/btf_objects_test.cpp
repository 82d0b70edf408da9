// SPDX-License-Identifier: MIT
// BTF objects: ids, BTF_GET_FD_BY_ID, bpf_btf_info; maps with BTF key and value types; programs
// with func_info and line_info (PROG_LOAD's checks and bpf_prog_info); the kernel's BTF as
// object 1 ("vmlinux", the POSIX server's vmlinux BTF as built).
#include <linux/bpf.h>

#include <cstring>
#include <new>

#include "btf_test_support.hpp"
#include "trace/kernel_types.hpp"

// The POSIX server's vmlinux BTF (servers/posix/meson.build), as the trace server embeds it.
extern "C" const unsigned char vmlinux_btf[];
extern "C" const unsigned long vmlinux_btf_size;

namespace trace::testing {
namespace {

class BtfObjects : public BtfTestBase {
 protected:
  BtfInfo info_of(int64_t btf, uint32_t info_len = sizeof(BtfInfo), uint8_t* data = nullptr,
                  uint32_t data_size = 0, char* name = nullptr, uint32_t name_len = 0) {
    BtfInfo info = {};
    info.btf = address(data);
    info.btf_size = data_size;
    info.name = address(name);
    info.name_len = name_len;
    memory_.allow(&info, sizeof(info));
    if (data != nullptr) memory_.allow(data, data_size);
    if (name != nullptr) memory_.allow(name, name_len);
    BpfAttr attr = {};
    attr.info.bpf_fd = static_cast<uint32_t>(btf);
    attr.info.info = address(&info);
    attr.info.info_len = info_len;
    info_status_ = bpf(kObjGetInfoByFd, attr);
    info_len_ = attr.info.info_len;
    return info;
  }
  int64_t map_with_btf(int64_t btf, uint32_t type, uint32_t key_size, uint32_t value_size,
                       uint32_t max_entries, uint32_t key_id, uint32_t value_id) {
    BpfAttr attr = {};
    attr.map_create.map_type = type;
    attr.map_create.key_size = key_size;
    attr.map_create.value_size = value_size;
    attr.map_create.max_entries = max_entries;
    attr.map_create.btf_fd = static_cast<uint32_t>(btf);
    attr.map_create.btf_key_type_id = key_id;
    attr.map_create.btf_value_type_id = value_id;
    return bpf(kMapCreate, attr);
  }

  int64_t info_status_ = 0;
  uint32_t info_len_ = 0;
};

TEST_F(BtfObjects, IdsFdsAndInfo) {
  std::vector<uint8_t> blob = every_kind().build();
  int64_t btf = load_ok(blob);
  BpfAttr attr = {};
  EXPECT_EQ(bpf(kBtfGetNextId, attr), 0);
  uint32_t id = attr.get_id.next_id;
  EXPECT_GT(id, 0u);
  attr.get_id.start_id = id;
  EXPECT_EQ(bpf(kBtfGetNextId, attr), -rt::kENOENT);
  attr = {};
  attr.get_id.start_id = id;
  int64_t second = bpf(kBtfGetFdById, attr);
  EXPECT_GT(second, 0);
  attr.get_id.next_id = 1;
  EXPECT_EQ(bpf(kBtfGetFdById, attr), -rt::kEINVAL) << "CHECK_ATTR: btf_id is the last field";
  attr = {};
  attr.get_id.start_id = id + 1;
  EXPECT_EQ(bpf(kBtfGetFdById, attr), -rt::kENOENT);

  std::vector<uint8_t> copy(blob.size() + 8, 0xee);
  char name[4] = {'x', 'x', 'x', 'x'};
  BtfInfo info = info_of(second, sizeof(BtfInfo), copy.data(), static_cast<uint32_t>(copy.size()),
                         name, sizeof(name));
  EXPECT_EQ(info_status_, 0);
  EXPECT_EQ(info_len_, sizeof(BtfInfo));
  EXPECT_EQ(info.id, id);
  EXPECT_EQ(info.btf_size, blob.size());
  EXPECT_EQ(std::vector<uint8_t>(copy.begin(), copy.begin() + blob.size()), blob);
  EXPECT_EQ(copy[blob.size()], 0xee);
  EXPECT_EQ(info.name_len, 0u);
  EXPECT_EQ(name[0], 0) << "user BTF has an empty name";
  EXPECT_EQ(info.kernel_btf, 0u);

  info = info_of(btf, sizeof(BtfInfo), copy.data(), 8);
  EXPECT_EQ(info_status_, 0) << "the blob cut to the caller's room";
  EXPECT_EQ(info.btf_size, blob.size());
  info_of(btf, sizeof(BtfInfo), nullptr, 0, nullptr, 4);
  EXPECT_EQ(info_status_, -rt::kEINVAL) << "name_len without a name";
  info = info_of(btf, 12);
  EXPECT_EQ(info_status_, 0);
  EXPECT_EQ(info_len_, 12u);
  EXPECT_EQ(info.id, 0u) << "only info_len bytes are written";
  struct {
    BtfInfo info;
    uint64_t more;
  } longer = {{}, 1};
  memory_.allow(&longer, sizeof(longer));
  attr = {};
  attr.info.bpf_fd = static_cast<uint32_t>(btf);
  attr.info.info = address(&longer);
  attr.info.info_len = sizeof(longer);
  EXPECT_EQ(bpf(kObjGetInfoByFd, attr), -rt::kE2BIG);
  longer.more = 0;
  EXPECT_EQ(bpf(kObjGetInfoByFd, attr), 0);
  EXPECT_EQ(attr.info.info_len, sizeof(BtfInfo));

  EXPECT_TRUE(session_.close(static_cast<int32_t>(btf)).ok());
  EXPECT_TRUE(session_.close(static_cast<int32_t>(second)).ok());
  EXPECT_EQ(objects_.count(ObjectKind::kBtf), 0u) << "the last handle frees the BTF";
}

TEST_F(BtfObjects, MapsCheckTheirKeyAndValueTypes) {
  BtfBuilder b;
  uint32_t u32 = b.add_int("unsigned int", 4, 32);                              // 1
  uint32_t u64 = b.add_int("u64", 8, 64);                                       // 2
  uint32_t value = b.add_struct("value", 16, {{"a", u64, 0}, {"b", u64, 64}});  // 3
  uint32_t key_t = b.add_typedef("key_t", u32);                                 // 4
  uint32_t small = b.add_struct("small", 4, {{"x", u32, 0}});                   // 5
  uint32_t var = b.add_var("g", value);                                         // 6
  uint32_t data = b.add_datasec(".data", 16, {{var, 0, 16}});                   // 7
  uint32_t fwd = b.add_fwd("opaque");                                           // 8
  int64_t btf = load_ok(b.build());

  int64_t hash = map_with_btf(btf, BPF_MAP_TYPE_HASH, 4, 16, 8, key_t, value);
  ASSERT_GT(hash, 0);
  MapInfo info = {};
  memory_.allow(&info, sizeof(info));
  BpfAttr attr = {};
  attr.info.bpf_fd = static_cast<uint32_t>(hash);
  attr.info.info = address(&info);
  attr.info.info_len = sizeof(info);
  ASSERT_EQ(bpf(kObjGetInfoByFd, attr), 0);
  EXPECT_EQ(info.btf_key_type_id, key_t);
  EXPECT_EQ(info.btf_value_type_id, value);
  EXPECT_NE(info.btf_id, 0u);
  // The map holds the BTF: its id lives on after the BTF handle closes.
  EXPECT_TRUE(session_.close(static_cast<int32_t>(btf)).ok());
  EXPECT_EQ(objects_.count(ObjectKind::kBtf), 1u);
  attr = {};
  attr.get_id.start_id = info.btf_id;
  btf = bpf(kBtfGetFdById, attr);
  ASSERT_GT(btf, 0);

  EXPECT_GT(map_with_btf(btf, BPF_MAP_TYPE_ARRAY, 4, 16, 4, u32, value), 0);
  EXPECT_GT(map_with_btf(btf, BPF_MAP_TYPE_ARRAY, 4, 16, 1, 0, data), 0) << "global data";
  struct Refused {
    const char* what;
    uint32_t type, key_size, value_size, max_entries, key_id, value_id;
    int error;
  };
  for (const Refused& r : {
           Refused{"key size", BPF_MAP_TYPE_HASH, 8, 16, 8, key_t, value, rt::kEINVAL},
           Refused{"value size", BPF_MAP_TYPE_HASH, 4, 8, 8, key_t, value, rt::kEINVAL},
           Refused{"missing type", BPF_MAP_TYPE_HASH, 4, 16, 8, key_t, 99, rt::kEINVAL},
           Refused{"type without size", BPF_MAP_TYPE_HASH, 4, 16, 8, fwd, value, rt::kEINVAL},
           Refused{"hash without a key type", BPF_MAP_TYPE_HASH, 4, 16, 8, 0, value, rt::kEINVAL},
           Refused{"array keyed by a struct", BPF_MAP_TYPE_ARRAY, 4, 16, 4, small, value,
                   rt::kEINVAL},
           Refused{"key-less array of 4", BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0, data, rt::kEINVAL},
           Refused{"key-less array not of a DATASEC", BPF_MAP_TYPE_ARRAY, 4, 16, 1, 0, value,
                   rt::kEINVAL},
           Refused{"program array", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, u32, u32, rt::kENOTSUPP},
       }) {
    EXPECT_EQ(
        map_with_btf(btf, r.type, r.key_size, r.value_size, r.max_entries, r.key_id, r.value_id),
        -r.error)
        << r.what;
  }
  EXPECT_EQ(map_with_btf(999, BPF_MAP_TYPE_HASH, 4, 16, 8, key_t, value), -rt::kEBADF);
  EXPECT_EQ(map_with_btf(hash, BPF_MAP_TYPE_HASH, 4, 16, 8, key_t, value), -rt::kEINVAL)
      << "btf_fd names a map";
}

// main calls sub: two subprograms, at 0 and 2.
std::vector<ebpf::Insn> two_functions() {
  return {
      {0x85, 0, 1, 0, 1},  // call sub (pc + 1 + 1)
      {0x95, 0, 0, 0, 0},  // exit
      {0xb7, 0, 0, 0, 0},  // sub: r0 = 0
      {0x95, 0, 0, 0, 0},  // exit
  };
}

class ProgramBtf : public BtfObjects {
 public:
  using TraceCoreTest::create_map;
  void SetUp() override {
    BtfObjects::SetUp();
    int_id_ = builder_.add_int("int", 4, 32, kBtfIntSigned);
    proto_ = builder_.add_func_proto(int_id_, {});
    main_ = builder_.add_func("main", proto_);
    sub_ = builder_.add_func("sub", proto_, 0);
    file_ = builder_.name("prog.c");
    line_ = builder_.name("return 0;");
    btf_ = load_ok(builder_.build());
    func_info_ = {{0, main_}, {2, sub_}};
    line_info_ = {{0, file_, line_, 5}, {1, file_, line_, 6}, {2, file_, line_, 7}};
  }
  BpfAttr program_attr() {
    BpfAttr attr = {};
    attr.prog_load.prog_type = BPF_PROG_TYPE_KPROBE;
    attr.prog_load.insns = address(insns_.data());
    attr.prog_load.insn_cnt = static_cast<uint32_t>(insns_.size());
    attr.prog_load.license = address(license_);
    attr.prog_load.prog_btf_fd = static_cast<uint32_t>(btf_);
    attr.prog_load.func_info = address(func_info_.data());
    attr.prog_load.func_info_cnt = static_cast<uint32_t>(func_info_.size());
    attr.prog_load.func_info_rec_size = sizeof(FuncInfo);
    attr.prog_load.line_info = address(line_info_.data());
    attr.prog_load.line_info_cnt = static_cast<uint32_t>(line_info_.size());
    attr.prog_load.line_info_rec_size = sizeof(LineInfo);
    attr.prog_load.log_buf = address(log_);
    attr.prog_load.log_size = sizeof(log_);
    attr.prog_load.log_level = 1;
    memory_.allow(insns_.data(), insns_.size() * sizeof(ebpf::Insn), false);
    memory_.allow(func_info_.data(), func_info_.size() * sizeof(FuncInfo), false);
    memory_.allow(line_info_.data(), line_info_.size() * sizeof(LineInfo), false);
    memory_.allow(log_, sizeof(log_));
    return attr;
  }
  int64_t load(BpfAttr& attr) {
    log_[0] = 0;
    return bpf(kProgLoad, attr);
  }

  BtfBuilder builder_;
  uint32_t int_id_ = 0, proto_ = 0, main_ = 0, sub_ = 0, file_ = 0, line_ = 0;
  int64_t btf_ = 0;
  std::vector<ebpf::Insn> insns_ = two_functions();
  std::vector<FuncInfo> func_info_;
  std::vector<LineInfo> line_info_;
  char log_[4096] = {};
};

TEST_F(ProgramBtf, LoadsAndReportsFuncAndLineInfo) {
  BpfAttr attr = program_attr();
  int64_t program = load(attr);
  ASSERT_GT(program, 0) << log_;
  ProgInfo info = {};
  FuncInfo funcs[4] = {};
  LineInfo lines[1] = {};
  memory_.allow(&info, sizeof(info));
  memory_.allow(funcs, sizeof(funcs));
  memory_.allow(lines, sizeof(lines));
  info.nr_func_info = 4;
  info.func_info_rec_size = sizeof(FuncInfo);
  info.func_info = address(funcs);
  info.nr_line_info = 1;
  info.line_info_rec_size = sizeof(LineInfo);
  info.line_info = address(lines);
  attr = {};
  attr.info.bpf_fd = static_cast<uint32_t>(program);
  attr.info.info = address(&info);
  attr.info.info_len = sizeof(info);
  ASSERT_EQ(bpf(kObjGetInfoByFd, attr), 0);
  EXPECT_NE(info.btf_id, 0u);
  EXPECT_EQ(info.nr_func_info, 2u);
  EXPECT_EQ(funcs[1].insn_off, 2u);
  EXPECT_EQ(funcs[1].type_id, sub_);
  EXPECT_EQ(funcs[2].type_id, 0u) << "only the program's records";
  EXPECT_EQ(info.nr_line_info, 3u);
  EXPECT_EQ(lines[0].line_col, 5u) << "cut to the caller's room";
  EXPECT_EQ(info.nr_jited_line_info, 0u);
  // The program holds its BTF.
  EXPECT_TRUE(session_.close(static_cast<int32_t>(btf_)).ok());
  EXPECT_EQ(objects_.count(ObjectKind::kBtf), 1u);
}

TEST_F(ProgramBtf, RefusesWhatCheckBtfFuncAndLineRefuse) {
  struct Case {
    const char* what;
    std::function<void(ProgramBtf&, BpfAttr&)> change;
    int error;
    const char* log;
  };
  const Case cases[] = {
      {"no BTF object", [](ProgramBtf&, BpfAttr& a) { a.prog_load.prog_btf_fd = 999; }, rt::kEBADF,
       ""},
      {"a BTF fd that is no BTF",
       [](ProgramBtf& t, BpfAttr& a) {
         a.prog_load.prog_btf_fd = static_cast<uint32_t>(t.create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1));
       },
       rt::kEINVAL, ""},
      {"one func for two subprograms",
       [](ProgramBtf&, BpfAttr& a) { a.prog_load.func_info_cnt = 1; }, rt::kEINVAL,
       "number of funcs in func_info doesn't match number of subprogs\n"},
      {"record size 4", [](ProgramBtf&, BpfAttr& a) { a.prog_load.func_info_rec_size = 4; },
       rt::kEINVAL, "invalid func info rec size 4\n"},
      {"first offset", [](ProgramBtf& t, BpfAttr&) { t.func_info_[0].insn_off = 1; }, rt::kEINVAL,
       "nonzero insn_off 1 for the first func info record"},
      {"offsets not increasing", [](ProgramBtf& t, BpfAttr&) { t.func_info_[1].insn_off = 0; },
       rt::kEINVAL, "same or smaller insn offset (0) than previous func info record (0)"},
      {"not a subprogram start", [](ProgramBtf& t, BpfAttr&) { t.func_info_[1].insn_off = 3; },
       rt::kEINVAL, "func_info BTF section doesn't match subprog layout in BPF program\n"},
      {"not a FUNC", [](ProgramBtf& t, BpfAttr&) { t.func_info_[1].type_id = t.proto_; },
       rt::kEINVAL, "invalid type id 2 in func info"},
      {"line offset past the program",
       [](ProgramBtf& t, BpfAttr&) { t.line_info_[2].insn_off = 4; }, rt::kEINVAL,
       "Invalid line_info[2].insn_off:4 (prev_offset:1 prog->len:4)\n"},
      {"line string offset", [](ProgramBtf& t, BpfAttr&) { t.line_info_[1].line_off = 9999; },
       rt::kEINVAL, "Invalid line_info[1].line_off or .file_name_off\n"},
      {"no line for sub", [](ProgramBtf&, BpfAttr& a) { a.prog_load.line_info_cnt = 2; },
       rt::kEINVAL, "missing bpf_line_info for 1 funcs starting from func#1\n"},
      {"line skipping sub", [](ProgramBtf& t, BpfAttr&) { t.line_info_[2].insn_off = 3; },
       rt::kEINVAL, "missing bpf_line_info for func#1\n"},
      {"line record size 12", [](ProgramBtf&, BpfAttr& a) { a.prog_load.line_info_rec_size = 12; },
       rt::kEINVAL, ""},
      {"2^28 lines", [](ProgramBtf&, BpfAttr& a) { a.prog_load.line_info_cnt = 1u << 28; },
       rt::kEINVAL, ""},
      {"lines past the caller's memory",
       [](ProgramBtf&, BpfAttr& a) { a.prog_load.line_info_cnt = 1000000; }, rt::kEFAULT, ""},
  };
  for (const Case& c : cases) {
    func_info_ = {{0, main_}, {2, sub_}};
    line_info_ = {{0, file_, line_, 5}, {1, file_, line_, 6}, {2, file_, line_, 7}};
    BpfAttr attr = program_attr();
    c.change(*this, attr);
    EXPECT_EQ(load(attr), -c.error) << c.what << ": " << log_;
    EXPECT_NE(std::string(log_).find(c.log), std::string::npos) << c.what << ": " << log_;
  }
  EXPECT_EQ(objects_.count(ObjectKind::kProgram), 0u);
}

TEST_F(ProgramBtf, ANonzeroRecordTailIsE2BIGWithTheKernelsSize) {
  struct Wide {
    FuncInfo record;
    uint32_t extra;
  };
  std::vector<Wide> wide = {{{0, main_}, 0}, {{2, sub_}, 7}};
  memory_.allow(wide.data(), wide.size() * sizeof(Wide), false);
  BpfAttr attr = program_attr();
  attr.prog_load.func_info = address(wide.data());
  attr.prog_load.func_info_rec_size = sizeof(Wide);
  EXPECT_EQ(load(attr), -rt::kE2BIG);
  EXPECT_EQ(attr.prog_load.func_info_rec_size, sizeof(FuncInfo));
  wide[1].extra = 0;
  attr.prog_load.func_info_rec_size = sizeof(Wide);
  EXPECT_GT(load(attr), 0) << log_;
}

// A table with the kernel's BTF, made first as the trace server makes it (servers/trace/main.cpp).
class KernelBtf : public BtfObjects {
 protected:
  void SetUp() override {
    BtfObjects::SetUp();
    rt::Result<void> added = objects_.add_kernel_btf(vmlinux_btf, vmlinux_btf_size);
    // On failure, BTF_LOAD of the same bytes shows why in Linux's words.
    ASSERT_TRUE(added.ok()) << "errno " << added.error().code << "; BTF_LOAD's log:\n"
                            << load_btf(vmlinux(), 1u << 24).log;
  }
  void TearDown() override {
    TraceCoreTest::TearDown();
    EXPECT_EQ(objects_.count(ObjectKind::kBtf), 1u) << "only the kernel's BTF is left";
    EXPECT_EQ(objects_.find(ObjectKind::kBtf, 1), objects_.kernel_btf());
  }
  static std::vector<uint8_t> vmlinux() {
    return std::vector<uint8_t>(vmlinux_btf, vmlinux_btf + vmlinux_btf_size);
  }
  int64_t fd_by_id(uint32_t id) {
    BpfAttr attr = {};
    attr.get_id.start_id = id;
    return bpf(kBtfGetFdById, attr);
  }
  // BTF_GET_NEXT_ID after `start`: the id, or -errno.
  int64_t next_id(uint32_t start) {
    BpfAttr attr = {};
    attr.get_id.start_id = start;
    int64_t status = bpf(kBtfGetNextId, attr);
    return status == 0 ? attr.get_id.next_id : status;
  }
};

TEST_F(KernelBtf, IsObjectOneFromTheStart) {
  EXPECT_EQ(next_id(0), 1);
  EXPECT_EQ(next_id(1), -rt::kENOENT);
  ASSERT_NE(objects_.kernel_btf(), nullptr);
  EXPECT_EQ(objects_.kernel_btf()->id, 1u);
  EXPECT_TRUE(objects_.kernel_btf()->kernel_btf);
  EXPECT_EQ(objects_.kernel_btf()->btf.size(), vmlinux_btf_size);
  EXPECT_GT(objects_.kernel_btf()->btf.type_count(), 100u) << "the POSIX server's types";
}

TEST_F(KernelBtf, GetFdByIdGivesItsInfo) {
  int64_t btf = fd_by_id(1);
  ASSERT_GT(btf, 0);
  std::vector<uint8_t> copy(vmlinux_btf_size + 8, 0xee);
  char name[64];
  std::memset(name, 'x', sizeof(name));
  BtfInfo info = info_of(btf, sizeof(BtfInfo), copy.data(), static_cast<uint32_t>(copy.size()),
                         name, sizeof(name));
  EXPECT_EQ(info_status_, 0);
  EXPECT_EQ(info.id, 1u);
  EXPECT_EQ(info.btf_size, vmlinux_btf_size);
  EXPECT_EQ(std::vector<uint8_t>(copy.begin(), copy.begin() + vmlinux_btf_size), vmlinux());
  EXPECT_EQ(copy[vmlinux_btf_size], 0xee) << "no byte past the blob";
  EXPECT_STREQ(name, "vmlinux");
  EXPECT_EQ(info.name_len, 7u);
  EXPECT_EQ(info.kernel_btf, 1u);

  // bpftool's first call: no buffers, only the sizes come back.
  info = info_of(btf);
  EXPECT_EQ(info_status_, 0);
  EXPECT_EQ(info.btf_size, vmlinux_btf_size);
  EXPECT_EQ(info.name_len, 7u) << "the name's length, for the caller to make room";
  EXPECT_EQ(info.kernel_btf, 1u);

  // A name buffer without room for the NUL: the name cut, ENOSPC, the info written all the same.
  std::memset(name, 'x', sizeof(name));
  info = info_of(btf, sizeof(BtfInfo), nullptr, 0, name, 7);
  EXPECT_EQ(info_status_, -rt::kENOSPC);
  EXPECT_STREQ(name, "vmlinu");
  EXPECT_EQ(name[7], 'x');
  EXPECT_EQ(info.id, 1u);
  EXPECT_EQ(info.name_len, 7u);
  EXPECT_EQ(info_len_, sizeof(BtfInfo));
  info = info_of(btf, sizeof(BtfInfo), nullptr, 0, name, 1);
  EXPECT_EQ(info_status_, -rt::kENOSPC);
  EXPECT_EQ(name[0], 0);
  info = info_of(btf, sizeof(BtfInfo), nullptr, 0, name, 8);
  EXPECT_EQ(info_status_, 0);
  EXPECT_STREQ(name, "vmlinux");
  info_of(btf, sizeof(BtfInfo), nullptr, 0, name, 0);
  EXPECT_EQ(info_status_, -rt::kEINVAL) << "a name without name_len";
  EXPECT_TRUE(session_.close(static_cast<int32_t>(btf)).ok());
}

TEST_F(KernelBtf, ClosingEveryFdFreesNothing) {
  int64_t first = fd_by_id(1);
  int64_t second = fd_by_id(1);
  ASSERT_GT(first, 0);
  ASSERT_GT(second, 0);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(first)).ok());
  EXPECT_TRUE(session_.close(static_cast<int32_t>(second)).ok());
  EXPECT_EQ(objects_.count(ObjectKind::kBtf), 1u);
  EXPECT_EQ(next_id(0), 1);
  int64_t again = fd_by_id(1);
  ASSERT_GT(again, 0);
  session_.close_all();
  EXPECT_GT(fd_by_id(1), 0) << "still there after every handle went";
}

TEST_F(KernelBtf, UserBtfComesAfterIt) {
  int64_t user = load_ok(every_kind().build());
  EXPECT_EQ(next_id(0), 1);
  EXPECT_EQ(next_id(1), 2);
  EXPECT_EQ(next_id(2), -rt::kENOENT);
  char name[16] = {'x'};
  BtfInfo info = info_of(user, sizeof(BtfInfo), nullptr, 0, name, sizeof(name));
  EXPECT_EQ(info_status_, 0);
  EXPECT_EQ(info.id, 2u);
  EXPECT_EQ(info.kernel_btf, 0u);
  EXPECT_EQ(info.name_len, 0u);
  EXPECT_EQ(name[0], 0);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(user)).ok());
  EXPECT_EQ(next_id(1), -rt::kENOENT) << "user BTF is freed with its last fd";
  user = load_ok(every_kind().build());
  EXPECT_EQ(info_of(user).id, 3u) << "ids go on cyclically";
}

TEST_F(KernelBtf, ByIdNeedsPrivilege) {
  session_.set_privileged(false);
  EXPECT_EQ(fd_by_id(1), -rt::kEPERM);
  EXPECT_EQ(next_id(0), -rt::kEPERM);
  session_.set_privileged(true);
}

// map_create and check_btf_info: EACCES for kernel BTF.
TEST_F(KernelBtf, MapsAndProgramsCannotUseIt) {
  int64_t btf = fd_by_id(1);
  ASSERT_GT(btf, 0);
  EXPECT_EQ(map_with_btf(btf, BPF_MAP_TYPE_HASH, 4, 4, 8, 1, 1), -rt::kEACCES);
  std::vector<ebpf::Insn> insns = {{0xb7, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}};  // r0 = 0; exit
  std::vector<FuncInfo> func_info = {{0, 1}};
  memory_.allow(insns.data(), insns.size() * sizeof(ebpf::Insn), false);
  memory_.allow(func_info.data(), func_info.size() * sizeof(FuncInfo), false);
  BpfAttr attr = {};
  attr.prog_load.prog_type = BPF_PROG_TYPE_KPROBE;
  attr.prog_load.insns = address(insns.data());
  attr.prog_load.insn_cnt = static_cast<uint32_t>(insns.size());
  attr.prog_load.license = address(license_);
  attr.prog_load.prog_btf_fd = static_cast<uint32_t>(btf);
  attr.prog_load.func_info = address(func_info.data());
  attr.prog_load.func_info_cnt = 1;
  attr.prog_load.func_info_rec_size = sizeof(FuncInfo);
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEACCES);
  EXPECT_EQ(objects_.count(ObjectKind::kMap), 0u);
  EXPECT_EQ(objects_.count(ObjectKind::kProgram), 0u);
}

// The table's own checks, on tables made for each test.
struct KernelBtfTable : ::testing::Test {
  HostAllocator allocator;
  TestEnvironment environment;
};

TEST_F(KernelBtfTable, ComesBeforeAnyOtherBtf) {
  ObjectTable objects(allocator, environment);
  auto* user = new (allocator.allocate(sizeof(BtfObject), alignof(BtfObject))) BtfObject();
  user->kind = ObjectKind::kBtf;
  ASSERT_TRUE(objects.add(user).ok());
  objects.release(user);  // freed, but id 1 is taken: the next BTF would get 2
  rt::Result<void> added = objects.add_kernel_btf(vmlinux_btf, vmlinux_btf_size);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code, rt::kEBUSY);
  EXPECT_EQ(objects.kernel_btf(), nullptr);
}

TEST_F(KernelBtfTable, IsMadeOnce) {
  ObjectTable objects(allocator, environment);
  ASSERT_TRUE(objects.add_kernel_btf(vmlinux_btf, vmlinux_btf_size).ok());
  rt::Result<void> again = objects.add_kernel_btf(vmlinux_btf, vmlinux_btf_size);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, rt::kEBUSY);
  EXPECT_EQ(objects.count(ObjectKind::kBtf), 1u);
}

TEST_F(KernelBtfTable, ARefusedBlobLeavesTheTableWithout) {
  std::vector<uint8_t> bad(vmlinux_btf, vmlinux_btf + vmlinux_btf_size);
  bad[0] ^= 0xff;  // the magic
  {
    ObjectTable objects(allocator, environment);
    size_t before = allocator.in_use();
    rt::Result<void> added = objects.add_kernel_btf(bad.data(), static_cast<uint32_t>(bad.size()));
    ASSERT_FALSE(added.ok());
    EXPECT_EQ(added.error().code, rt::kEINVAL);
    EXPECT_EQ(objects.kernel_btf(), nullptr);
    EXPECT_EQ(objects.count(ObjectKind::kBtf), 0u);
    EXPECT_EQ(allocator.in_use(), before) << "nothing kept of the refused blob";
    EXPECT_FALSE(objects.add_kernel_btf(nullptr, 0).ok()) << "an empty blob";
  }
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST_F(KernelBtfTable, GoesWithTheTable) {
  {
    ObjectTable objects(allocator, environment);
    ASSERT_TRUE(objects.add_kernel_btf(vmlinux_btf, vmlinux_btf_size).ok());
    EXPECT_GE(allocator.in_use(), vmlinux_btf_size) << "a copy of the blob";
  }
  EXPECT_EQ(allocator.in_use(), 0u);
}

// Tracing programs (fentry, fexit, tp_btf) name their target in the kernel's BTF.
class TracingPrograms : public KernelBtf {
 protected:
  // The id of the type named `name` of `kind` in the kernel's BTF, or 0.
  uint32_t kernel_type(const char* name, uint32_t kind) {
    const Btf& btf = objects_.kernel_btf()->btf;
    for (uint32_t id = 1; id < btf.type_count(); ++id) {
      const BtfType* t = btf.type_by_id(id);
      const char* type_name = btf.name_by_offset(t->name_off);
      if (btf_kind(t) == kind && type_name != nullptr && std::strcmp(type_name, name) == 0)
        return id;
    }
    return 0;
  }
  int64_t load_tracing(const std::vector<ebpf::Insn>& insns, uint32_t attach_type, uint32_t btf_id,
                       uint32_t type = BPF_PROG_TYPE_TRACING, uint32_t btf_obj_fd = 0) {
    log_.assign(4096, 0);
    BpfAttr attr = {};
    attr.prog_load.prog_type = type;
    attr.prog_load.insns = address(insns.data());
    attr.prog_load.insn_cnt = static_cast<uint32_t>(insns.size());
    attr.prog_load.license = address(license_);
    attr.prog_load.expected_attach_type = attach_type;
    attr.prog_load.attach_btf_id = btf_id;
    attr.prog_load.attach_prog_fd = btf_obj_fd;  // attach_btf_obj_fd
    attr.prog_load.log_buf = address(log_.data());
    attr.prog_load.log_size = static_cast<uint32_t>(log_.size());
    attr.prog_load.log_level = 1;
    memory_.allow(insns.data(), insns.size() * sizeof(ebpf::Insn), false);
    memory_.allow(log_.data(), log_.size(), true);
    return bpf(kProgLoad, attr);
  }
  std::string log() const { return std::string(log_.data()); }
  std::vector<char> log_;
  // r0 = 0; exit
  const std::vector<ebpf::Insn> trivial_ = {{0xb7, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}};
};

TEST_F(TracingPrograms, FentryReadsItsTypedArguments) {
  uint32_t unlink = kernel_type("do_unlinkat", kBtfKindFunc);
  ASSERT_NE(unlink, 0u) << "the kernel BTF has do_unlinkat's FUNC record";
  // r2 = ctx[1] (struct filename *); r0 = name->name (a probing load); exit
  std::vector<ebpf::Insn> insns = {
      {0x79, 2, 1, 8, 0}, {0x79, 0, 2, 0, 0}, {0xb7, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}};
  int64_t fd = load_tracing(insns, kAttachTraceFentry, unlink);
  ASSERT_GT(fd, 0) << log();
  Handle handle = session_.lookup_kind(static_cast<int32_t>(fd), ObjectKind::kProgram).value();
  auto* program = static_cast<ProgramObject*>(handle.object);
  EXPECT_EQ(program->attach_btf_id, unlink);
  EXPECT_STREQ(program->attach_name, "do_unlinkat");
  EXPECT_EQ(program->attach_args, 2u);
  EXPECT_EQ(program->insns[1].opcode, ebpf::kClassLdx | ebpf::kSizeDw | ebpf::kModeProbeMem)
      << "the engine reads it as BPF_PROBE_MEM";
  EXPECT_EQ(program->xlated[1].opcode, 0x79) << "xlated shows a plain load, as Linux's dump";
  EXPECT_EQ(program->insns[0].opcode, 0x79) << "the context is no kernel memory";
  // A fentry program has only the arguments; a fexit one the return value after them.
  insns = {{0x79, 0, 1, 16, 0}, {0x95, 0, 0, 0, 0}};
  EXPECT_EQ(load_tracing(insns, kAttachTraceFentry, unlink), -rt::kEACCES);
  EXPECT_NE(log().find("func 'do_unlinkat' doesn't have 3-th argument"), std::string::npos)
      << log();
  EXPECT_GT(load_tracing(insns, kAttachTraceFexit, unlink), 0) << log();
  insns = {{0x79, 0, 1, 24, 0}, {0x95, 0, 0, 0, 0}};
  EXPECT_EQ(load_tracing(insns, kAttachTraceFexit, unlink), -rt::kEACCES);
}

TEST_F(TracingPrograms, TheTargetMustBeAFunctionOrATracepointTypedef) {
  uint32_t task = kernel_type("task_struct", kBtfKindStruct);
  uint32_t unlink = kernel_type("do_unlinkat", kBtfKindFunc);
  uint32_t switch_tp = kernel_type("btf_trace_sched_switch", kBtfKindTypedef);
  ASSERT_NE(task, 0u);
  ASSERT_NE(switch_tp, 0u);
  EXPECT_EQ(load_tracing(trivial_, kAttachTraceFentry, task), -rt::kEINVAL);
  EXPECT_NE(log().find("is not a function"), std::string::npos) << log();
  EXPECT_EQ(load_tracing(trivial_, kAttachTraceFentry, 0), -rt::kEINVAL);
  EXPECT_NE(log().find("Tracing programs must provide btf_id"), std::string::npos) << log();
  EXPECT_EQ(load_tracing(trivial_, kAttachTraceFentry, 0x7ffff), -rt::kEINVAL);
  EXPECT_NE(log().find("attach_btf_id 524287 is invalid"), std::string::npos) << log();
  EXPECT_EQ(load_tracing(trivial_, kAttachTraceFentry, 0x100000), -rt::kEINVAL);
  EXPECT_EQ(load_tracing(trivial_, kAttachTraceRawTp, unlink), -rt::kEINVAL);
  EXPECT_NE(log().find("is not a typedef"), std::string::npos) << log();
  EXPECT_GT(load_tracing(trivial_, kAttachTraceRawTp, switch_tp), 0) << log();
  // An attach target is for tracing programs only.
  EXPECT_EQ(load_tracing(trivial_, 0, unlink, BPF_PROG_TYPE_KPROBE), -rt::kEINVAL);
  EXPECT_EQ(objects_.count(ObjectKind::kProgram), 1u);
}

// attach_btf_obj_fd: the kernel's BTF (as bpftrace passes it) names where attach_btf_id is;
// another BTF is ENOTSUPP, another kind of fd or a closed one EINVAL, as Linux's
// bpf_prog_load.
TEST_F(TracingPrograms, TheAttachBtfObjectIsTheKernels) {
  uint32_t unlink = kernel_type("do_unlinkat", kBtfKindFunc);
  int64_t kernel = fd_by_id(1);
  ASSERT_GT(kernel, 0);
  EXPECT_GT(load_tracing(trivial_, kAttachTraceFentry, unlink, BPF_PROG_TYPE_TRACING,
                         static_cast<uint32_t>(kernel)),
            0)
      << log();
  int64_t user = load_ok(every_kind().build());
  EXPECT_EQ(load_tracing(trivial_, kAttachTraceFentry, unlink, BPF_PROG_TYPE_TRACING,
                         static_cast<uint32_t>(user)),
            -rt::kENOTSUPP);
  int64_t program = load_tracing(trivial_, kAttachTraceFentry, unlink);
  ASSERT_GT(program, 0);
  EXPECT_EQ(load_tracing(trivial_, kAttachTraceFentry, unlink, BPF_PROG_TYPE_TRACING,
                         static_cast<uint32_t>(program)),
            -rt::kEINVAL)
      << "a program as the target: GAP";
  EXPECT_EQ(load_tracing(trivial_, kAttachTraceFentry, unlink, BPF_PROG_TYPE_TRACING, 900),
            -rt::kEINVAL);
}

TEST_F(TracingPrograms, TpBtfArgumentsSkipTheProbesDataPointer) {
  uint32_t switch_tp = kernel_type("btf_trace_sched_switch", kBtfKindTypedef);
  // sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next, ...):
  // prev->pid through ctx[1].
  uint32_t pid_offset = 0;
  {
    const Btf& btf = objects_.kernel_btf()->btf;
    const BtfType* t = btf.type_by_id(kernel_type("task_struct", kBtfKindStruct));
    const auto* members = reinterpret_cast<const BtfMember*>(t + 1);
    for (uint32_t i = 0; i < btf_vlen(t); ++i) {
      if (std::strcmp(btf.name_by_offset(members[i].name_off), "pid") == 0)
        pid_offset = members[i].offset / 8;
    }
  }
  std::vector<ebpf::Insn> insns = {
      {0x79, 2, 1, 8, 0}, {0x61, 0, 2, static_cast<int16_t>(pid_offset), 0}, {0x95, 0, 0, 0, 0}};
  EXPECT_GT(load_tracing(insns, kAttachTraceRawTp, switch_tp), 0) << log();
  // Four arguments: ctx[4] is past them.
  insns = {{0x79, 0, 1, 32, 0}, {0x95, 0, 0, 0, 0}};
  EXPECT_EQ(load_tracing(insns, kAttachTraceRawTp, switch_tp), -rt::kEACCES);
  EXPECT_NE(log().find("func 'sched_switch' doesn't have 5-th argument"), std::string::npos)
      << log();
}

TEST_F(TracingPrograms, AttachIsRawTracepointOpenWithoutAName) {
  uint32_t unlink = kernel_type("do_unlinkat", kBtfKindFunc);
  int64_t fd = load_tracing(trivial_, kAttachTraceFentry, unlink);
  ASSERT_GT(fd, 0) << log();
  // Linux 6.1's LINK_CREATE has no tracing attach (libbpf then uses RAW_TRACEPOINT_OPEN).
  BpfAttr attr = {};
  attr.link_create.prog_fd = static_cast<uint32_t>(fd);
  attr.link_create.attach_type = kAttachTraceFentry;
  EXPECT_EQ(bpf(kLinkCreate, attr), -rt::kEINVAL);
  // A name with a tracing program is EINVAL; without one, this table has no functions.
  static const char kName[] = "do_unlinkat";
  memory_.allow(kName, sizeof kName, false);
  attr = {};
  uint64_t name = address(kName);
  std::memcpy(attr.bytes, &name, sizeof name);
  uint32_t prog_fd = static_cast<uint32_t>(fd);
  std::memcpy(attr.bytes + 8, &prog_fd, sizeof prog_fd);
  EXPECT_EQ(bpf(kRawTracepointOpen, attr), -rt::kEINVAL);
  std::memset(attr.bytes, 0, 8);
  EXPECT_EQ(bpf(kRawTracepointOpen, attr), -rt::kENOENT);
}

}  // namespace
}  // namespace trace::testing
