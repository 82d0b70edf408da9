// SPDX-License-Identifier: MIT
// BPF links: LINK_CREATE on perf events, RAW_TRACEPOINT_OPEN, LINK_UPDATE/DETACH, ids, link info.
#include "perf_test_support.hpp"

namespace trace::testing {
namespace {

constexpr uint32_t kProgKprobe = 2, kProgTracepoint = 5, kProgRawTp = 17;

class PerfLinkTest : public PerfEventTest {
 protected:
  LinkInfo info_of(int64_t link, int64_t* status_out = nullptr,
                   uint32_t length = sizeof(LinkInfo)) {
    LinkInfo info = info_in_;
    info_ = info;
    memory_.allow(&info_, sizeof(info_));
    BpfAttr attr = {};
    attr.info.bpf_fd = static_cast<uint32_t>(link);
    attr.info.info_len = length;
    attr.info.info = address(&info_);
    int64_t result = bpf(kObjGetInfoByFd, attr);
    if (status_out != nullptr) *status_out = result;
    info_len_ = attr.info.info_len;
    return info_;
  }
  uint32_t id_of(int64_t handle) {
    return session_.lookup(static_cast<int32_t>(handle))->object->id;
  }
  LinkInfo info_in_ = {};
  LinkInfo info_ = {};
  uint32_t info_len_ = 0;
};

TEST_F(PerfLinkTest, LibbpfsSequence) {
  // strace_kprobe: the probe with target_fd -1, then the real link, then IOC_ENABLE.
  int64_t map = counter_map();
  int64_t program = load_counter(map, kProgKprobe);
  int64_t probe_program = load(assemble("mov %r0, 0\nexit"), kProgTracepoint);
  int64_t event = open_kprobe("do_unlinkat");
  EXPECT_EQ(link_create(probe_program, -1), -rt::kEBADF);
  int64_t link = link_create(program, event);
  ASSERT_GT(link, 0);
  EXPECT_EQ(ioctl(event, kPerfEventIocEnable), 0);
  EXPECT_EQ(hit(probe_of(event)), 1u);
  EXPECT_EQ(counter(map), 1u);
  // The teardown order of the recording: disable, close the event, then the link.
  EXPECT_EQ(ioctl(event, kPerfEventIocDisable), 0);
  uint32_t probe = probe_of(event);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(event)).ok());
  EXPECT_EQ(hooks_.armed.size(), 1u) << "the link keeps the event and its probe";
  EXPECT_EQ(hit(probe), 1u);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(link)).ok());
  EXPECT_TRUE(hooks_.armed.empty());
  EXPECT_EQ(hit(probe), 0u);
}

TEST_F(PerfLinkTest, CreateErrors) {
  int64_t map = counter_map();
  int64_t kprobe_program = load_counter(map, kProgKprobe);
  int64_t tracepoint_program = load_counter(map, kProgTracepoint);
  int64_t raw_program = load_counter(map, kProgRawTp);
  int64_t event = open_kprobe("do_unlinkat");
  EXPECT_EQ(link_create(99, event), -rt::kEBADF) << "program not open";
  EXPECT_EQ(link_create(map, event), -rt::kEINVAL) << "not a program";
  EXPECT_EQ(link_create(raw_program, event), -rt::kEINVAL) << "raw tracepoints have no perf links";
  EXPECT_EQ(link_create(kprobe_program, event, 0, 2), -rt::kEINVAL) << "attach type";
  EXPECT_EQ(link_create(kprobe_program, map), -rt::kEBADF) << "target no perf event";
  EXPECT_EQ(link_create(kprobe_program, 99), -rt::kEBADF);
  BpfAttr attr = {};
  attr.link_create.prog_fd = static_cast<uint32_t>(kprobe_program);
  attr.link_create.target_fd = static_cast<uint32_t>(event);
  attr.link_create.attach_type = kAttachPerfEvent;
  attr.link_create.flags = 1;
  EXPECT_EQ(bpf(kLinkCreate, attr), -rt::kEINVAL) << "flags";
  attr.link_create.flags = 0;
  attr.bytes[kLinkCreateLastFieldEnd] = 1;
  EXPECT_EQ(bpf(kLinkCreate, attr), -rt::kEINVAL) << "CHECK_ATTR";
  // A tracepoint program on a kprobe event: the link's id is taken, then given back.
  EXPECT_EQ(link_create(tracepoint_program, event), -rt::kEINVAL);
  int64_t link = link_create(kprobe_program, event, 7);
  ASSERT_GT(link, 0);
  EXPECT_EQ(id_of(link), 2u) << "the failed link used id 1";
  EXPECT_EQ(event_of(event)->cookie, 7u);
  EXPECT_EQ(link_create(kprobe_program, event), -rt::kEEXIST) << "one program per event";
  EXPECT_EQ(ioctl(event, kPerfEventIocSetBpf, kprobe_program), -rt::kEEXIST);
  EXPECT_EQ(objects_.count(ObjectKind::kLink), 1u);
}

TEST_F(PerfLinkTest, IdsInfoAndFdById) {
  int64_t map = counter_map();
  int64_t program = load_counter(map, kProgKprobe);
  int64_t link = link_create(program, open_kprobe("do_unlinkat"));
  ASSERT_GT(link, 0);
  BpfAttr attr = {};
  attr.get_id.start_id = 0;
  EXPECT_EQ(bpf(kLinkGetNextId, attr), 0);
  EXPECT_EQ(attr.get_id.next_id, id_of(link));
  attr.get_id.start_id = id_of(link);
  EXPECT_EQ(bpf(kLinkGetNextId, attr), -rt::kENOENT);
  attr = {};
  attr.get_id.start_id = id_of(link);
  int64_t again = bpf(kLinkGetFdById, attr);
  ASSERT_GT(again, 0);
  EXPECT_EQ(id_of(again), id_of(link));
  attr.get_id.start_id = 999;
  EXPECT_EQ(bpf(kLinkGetFdById, attr), -rt::kENOENT);
  attr.get_id.start_id = id_of(link);
  attr.get_id.open_flags = 1;
  EXPECT_EQ(bpf(kLinkGetFdById, attr), -rt::kEINVAL) << "CHECK_ATTR ends at link_id";
  int64_t result = 0;
  LinkInfo info = info_of(link, &result);
  EXPECT_EQ(result, 0);
  EXPECT_EQ(info.type, static_cast<uint32_t>(LinkType::kPerfEvent));
  EXPECT_EQ(info.id, id_of(link));
  EXPECT_EQ(info.prog_id, id_of(program));
  EXPECT_EQ(info_len_, sizeof(LinkInfo));
  info = info_of(link, &result, 8);
  EXPECT_EQ(result, 0);
  EXPECT_EQ(info_len_, 8u);
  EXPECT_EQ(info.prog_id, 0u) << "only info_len bytes are written";
  std::vector<uint8_t> longer(64, 0);
  memory_.allow(longer.data(), longer.size());
  BpfAttr get = {};
  get.info.bpf_fd = static_cast<uint32_t>(link);
  get.info.info_len = 64;
  get.info.info = address(longer.data());
  EXPECT_EQ(bpf(kObjGetInfoByFd, get), 0);
  EXPECT_EQ(get.info.info_len, sizeof(LinkInfo));
  longer[60] = 1;
  get.info.info_len = 64;
  EXPECT_EQ(bpf(kObjGetInfoByFd, get), -rt::kE2BIG);
  // A perf event has no bpf info.
  int64_t event = open(bpf_output_attr());
  get.info.bpf_fd = static_cast<uint32_t>(event);
  EXPECT_EQ(bpf(kObjGetInfoByFd, get), -rt::kEINVAL);
}

TEST_F(PerfLinkTest, DetachAndUpdateAreNotThereForTheseLinks) {
  int64_t map = counter_map();
  int64_t program = load_counter(map, kProgKprobe);
  int64_t other = load_counter(map, kProgKprobe, 1);
  int64_t link = link_create(program, open_kprobe("do_unlinkat"));
  BpfAttr attr = {};
  attr.get_id.start_id = static_cast<uint32_t>(link);  // link_detach.link_fd
  EXPECT_EQ(bpf(kLinkDetach, attr), -rt::kEOPNOTSUPP);
  attr.get_id.start_id = static_cast<uint32_t>(map);
  EXPECT_EQ(bpf(kLinkDetach, attr), -rt::kEINVAL);
  attr.get_id.start_id = 99;
  EXPECT_EQ(bpf(kLinkDetach, attr), -rt::kEBADF);
  attr.get_id.start_id = static_cast<uint32_t>(link);
  attr.bytes[4] = 1;
  EXPECT_EQ(bpf(kLinkDetach, attr), -rt::kEINVAL);

  auto update = [&](LinkUpdateAttr fields) {
    BpfAttr update_attr = {};
    std::memcpy(update_attr.bytes, &fields, sizeof(fields));
    return bpf(kLinkUpdate, update_attr);
  };
  uint32_t l = static_cast<uint32_t>(link), p = static_cast<uint32_t>(other);
  EXPECT_EQ(update({l, p, 0, 0}), -rt::kEINVAL) << "no update_prog";
  EXPECT_EQ(update({l, p, 1, 0}), -rt::kEINVAL) << "flags";
  EXPECT_EQ(update({99, p, 0, 0}), -rt::kEBADF);
  EXPECT_EQ(update({l, 99, 0, 0}), -rt::kEBADF);
  EXPECT_EQ(update({l, p, kFlagReplace, 99}), -rt::kEBADF);
  EXPECT_EQ(update({l, p, 0, p}), -rt::kEINVAL) << "old_prog_fd without BPF_F_REPLACE";
}

TEST_F(PerfLinkTest, RawTracepoints) {
  int64_t map = counter_map();
  int64_t program = load_counter(map, kProgRawTp);
  int64_t second_program = load_counter(map, kProgRawTp, 1);
  int64_t kprobe_program = load_counter(map, kProgKprobe);
  uint64_t name = user_string("sys_enter");
  EXPECT_EQ(raw_tracepoint_open(kprobe_program, name), -rt::kEINVAL);
  EXPECT_EQ(raw_tracepoint_open(99, name), -rt::kEBADF);
  EXPECT_EQ(raw_tracepoint_open(program, 8), -rt::kEFAULT);
  EXPECT_EQ(raw_tracepoint_open(program, user_string("no_such", 1)), -rt::kENOENT);
  int64_t link = raw_tracepoint_open(program, name);
  ASSERT_GT(link, 0);
  int64_t second = raw_tracepoint_open(second_program, name);
  ASSERT_GT(second, 0);
  EXPECT_EQ(hooks_.armed.size(), 1u) << "one tracepoint, two links";
  EXPECT_EQ(raw_tracepoint_open(program, name), -rt::kEEXIST) << "a program once per tracepoint";
  uint32_t probe = hooks_.armed.begin()->first;
  EXPECT_EQ(hooks_.armed[probe].text, "sys_enter");
  uint64_t arguments[2] = {1, 2};
  EXPECT_EQ(hit(probe, arguments, sizeof(arguments)), 2u);
  EXPECT_EQ(counter(map, 0), 1u);
  EXPECT_EQ(counter(map, 1), 1u);
  BpfAttr attr = {};
  RawTracepointOpenAttr raw{name, static_cast<uint32_t>(program)};
  std::memcpy(attr.bytes, &raw, sizeof(raw));
  attr.bytes[kRawTracepointOpenLastFieldEnd] = 1;
  EXPECT_EQ(bpf(kRawTracepointOpen, attr), -rt::kEINVAL) << "CHECK_ATTR";
  // bpf_link_info: the tracepoint's name.
  char buffer[16] = {};
  memory_.allow(buffer, sizeof(buffer));
  info_in_.tp_name = address(buffer);
  info_in_.tp_name_len = sizeof(buffer);
  int64_t result = 0;
  LinkInfo info = info_of(link, &result);
  EXPECT_EQ(result, 0);
  EXPECT_EQ(info.type, static_cast<uint32_t>(LinkType::kRawTracepoint));
  EXPECT_EQ(info.tp_name_len, 10u);
  EXPECT_STREQ(buffer, "sys_enter");
  info_in_.tp_name_len = 4;
  info_of(link, &result);
  EXPECT_EQ(result, -rt::kENOSPC);
  EXPECT_STREQ(buffer, "sys");
  info_in_.tp_name = 0;
  info_of(link, &result);
  EXPECT_EQ(result, -rt::kEINVAL) << "a length without a buffer";
  info_in_.tp_name_len = 0;
  info = info_of(link, &result);
  EXPECT_EQ(result, 0);
  EXPECT_EQ(info.tp_name_len, 10u) << "the length alone";
  EXPECT_TRUE(session_.close(static_cast<int32_t>(link)).ok());
  EXPECT_EQ(hit(probe, arguments, sizeof(arguments)), 1u);
  EXPECT_TRUE(session_.close(static_cast<int32_t>(second)).ok());
  EXPECT_TRUE(hooks_.armed.empty());
}

TEST_F(PerfLinkTest, LongRawTracepointNamesAreCut) {
  int64_t map = counter_map();
  int64_t program = load_counter(map, kProgRawTp);
  // 127 bytes are read: a longer name is looked up cut (and is then unknown).
  EXPECT_EQ(raw_tracepoint_open(program, user_string("sys_enter" + std::string(200, 'x'))),
            -rt::kENOENT);
}

}  // namespace
}  // namespace trace::testing

namespace trace::testing {
namespace {

// An object table without a ProbeTable (a server that serves no probes): nothing opens, and
// libbpf's probe still gets Linux's answer.
TEST_F(TraceCoreTest, WithoutProbesNothingAttaches) {
  int64_t program = load(assemble("mov %r0, 0\nexit"), 5);
  ASSERT_GT(program, 0);
  BpfAttr attr = {};
  attr.link_create.prog_fd = static_cast<uint32_t>(program);
  attr.link_create.target_fd = static_cast<uint32_t>(-1);
  attr.link_create.attach_type = kAttachPerfEvent;
  EXPECT_EQ(bpf(kLinkCreate, attr), -rt::kEBADF);
  int64_t raw = load(assemble("mov %r0, 0\nexit"), 17);
  char name[] = "sys_enter";
  memory_.allow(name, sizeof(name));
  BpfAttr open_attr = {};
  RawTracepointOpenAttr fields{address(name), static_cast<uint32_t>(raw)};
  std::memcpy(open_attr.bytes, &fields, sizeof(fields));
  EXPECT_EQ(bpf(kRawTracepointOpen, open_attr), -rt::kENOENT);
  PerfEventAttr perf = {};
  perf.type = kPerfTypeSoftware;
  perf.size = kPerfAttrSize;
  perf.config = kPerfCountSwBpfOutput;
  memory_.allow(&perf, sizeof(perf));
  auto opened = perf_event_open(session_, memory_, address(&perf), -1, 0, -1, 0);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, rt::kENODEV);
}

}  // namespace
}  // namespace trace::testing
