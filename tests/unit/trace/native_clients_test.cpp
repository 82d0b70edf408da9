// SPDX-License-Identifier: MIT
// The trace service's native clients (servers/trace/service/clients.hpp): each badge its own
// session, a fixed identity and privileges, inline-sized messages, the POSIX server's own
// methods refused; and the example client's calls (userland/native-trace/native_bpf.cpp).
#include <gtest/gtest.h>

#include <cstring>

#include "clients.hpp"
#include "native_bpf.hpp"
#include "probe_targets.hpp"
#include "service.hpp"
#include "sonde/capnp/kernel_transport.hpp"
#include "trace_test_support.hpp"

namespace trace::testing {
namespace {

constexpr uint64_t kPosix = 1;
constexpr uint64_t kFirstNative = 0x6e000000;

class TaskEnv final : public TaskEnvironment {
 public:
  uint32_t current_cpu() override { return 0; }
  uint32_t possible_cpus() override { return 1; }
  uint64_t monotonic_ns() override { return 1; }
  uint64_t boot_ns() override { return 1; }
  uint32_t random_u32() override { return 4; }
  long read_user(void*, uint64_t, uint32_t) override { return -rt::kEFAULT; }
  long read_kernel(void*, uint64_t, uint32_t) override { return -rt::kEFAULT; }
  uint64_t current_function_ip() override { return 0; }
  long capture_stack(bool, uint32_t, uint64_t*, uint32_t) override { return -rt::kEFAULT; }
  long trace_output(const char*, uint32_t) override { return 0; }
};

// What the trace server's answer_client_call does for one badge, in process: the client found
// by badge, messages no larger than the inline part of an IPC message both ways.
class BadgedTransport final : public sonde::capnp::Transport {
 public:
  BadgedTransport(Service& service, ClientSessions& clients, uint64_t badge)
      : service_(service), clients_(clients), badge_(badge) {}
  sonde::capnp::MutableBytes requestBuffer() override { return {request_, sizeof request_}; }
  rt::Result<sonde::capnp::Reply> call(sonde::capnp::Label label,
                                       sonde::capnp::Bytes request) override {
    auto client = clients_.find(badge_);
    if (!client.ok()) return sonde::capnp::errorReply(client.error(), {reply_, sizeof reply_});
    service_.set_client(client.value());
    return sonde::capnp::serveRequest(service_, label, request, {reply_, sizeof reply_},
                                      sonde::capnp::ReaderLimits());
  }

 private:
  Service& service_;
  ClientSessions& clients_;
  uint64_t badge_;
  alignas(8) uint8_t request_[sonde::capnp::kInlineBytes];
  alignas(8) uint8_t reply_[sonde::capnp::kInlineBytes];
};

class NativeClientsTest : public ::testing::Test {
 protected:
  NativeClientsTest()
      : objects_(allocator_, environment_),
        posix_session_(objects_, false),
        tracefs_(allocator_, targets_),
        write_log_(1 << 16),
        service_(posix_session_, environment_, tracefs_, write_log_.data(), write_log_.size()),
        clients_(objects_, allocator_, posix_session_, ClientBadges{kPosix, kFirstNative, 16}) {
    EXPECT_TRUE(tracefs_.init().ok());
  }

  // A client of the service through its badge, with the example's NativeBpf on top.
  struct Connection {
    Connection(NativeClientsTest& test, uint64_t badge)
        : transport(test.service_, test.clients_, badge), client(transport), bpf(client) {}
    BadgedTransport transport;
    sonde::proto::TraceService::Client client;
    native_trace::NativeBpf bpf;
  };

  HostAllocator allocator_;
  TaskEnv environment_;
  ObjectTable objects_;
  Session posix_session_;
  UnknownProbeTargets targets_;
  Tracefs tracefs_;
  std::vector<uint8_t> write_log_;
  Service service_;
  ClientSessions clients_;
};

// An array map of one u64 through `bpf`: its handle or -errno.
int64_t create_counter_map(native_trace::NativeBpf& bpf, BpfAttr& attr, uint32_t value_size = 8) {
  std::memset(&attr, 0, sizeof attr);
  attr.map_create.map_type = native_trace::kBpfMapTypeArray;
  attr.map_create.key_size = 4;
  attr.map_create.value_size = value_size;
  attr.map_create.max_entries = 1;
  EXPECT_TRUE(bpf.expose(&attr, sizeof attr, true));
  return bpf.bpf(native_trace::kBpfMapCreate, &attr, 72);
}

TEST_F(NativeClientsTest, BadgesNameTheirClients) {
  auto posix = clients_.find(kPosix);
  ASSERT_TRUE(posix.ok());
  EXPECT_EQ(posix.value().kind, ClientKind::kPosix);
  EXPECT_EQ(posix.value().session, &posix_session_);
  EXPECT_EQ(clients_.native_clients(), 0u);

  auto first = clients_.find(kFirstNative);
  auto again = clients_.find(kFirstNative);
  auto second = clients_.find(kFirstNative + 3);
  ASSERT_TRUE(first.ok() && again.ok() && second.ok());
  EXPECT_EQ(first.value().kind, ClientKind::kNative);
  EXPECT_EQ(first.value().session, again.value().session);  // made once, at the first call
  EXPECT_NE(first.value().session, second.value().session);
  EXPECT_NE(first.value().session, &posix_session_);
  EXPECT_EQ(clients_.native_clients(), 2u);
  EXPECT_EQ(clients_.native_session(3), second.value().session);

  for (uint64_t badge :
       {uint64_t{0}, uint64_t{2}, uint64_t{0x1000}, kFirstNative - 1, kFirstNative + 16}) {
    auto none = clients_.find(badge);
    ASSERT_FALSE(none.ok()) << badge;
    EXPECT_EQ(none.error().code, rt::kEPERM);
  }
}

TEST_F(NativeClientsTest, EachNativeClientHasItsOwnHandles) {
  Connection a(*this, kFirstNative), b(*this, kFirstNative + 1);
  ASSERT_EQ(a.bpf.connect(), 0);
  ASSERT_EQ(b.bpf.connect(), 0);
  EXPECT_EQ(a.bpf.instance(), 1u);
  BpfAttr attr_a, attr_b;
  EXPECT_EQ(create_counter_map(a.bpf, attr_a, 8), 1);
  EXPECT_EQ(create_counter_map(b.bpf, attr_b, 16), 1);  // handle 1 again: another namespace
  EXPECT_EQ(posix_session_.open_count(), 0u);

  // Each handle 1 is that client's own map: the value sizes tell them apart.
  uint32_t key = 0;
  uint8_t value[16] = {};
  for (auto* connection : {&a, &b}) {
    ASSERT_TRUE(connection->bpf.expose(&key, sizeof key, false));
    ASSERT_TRUE(connection->bpf.expose(value, sizeof value, true));
  }
  BpfAttr lookup = {};
  lookup.elem.map_fd = 1;
  lookup.elem.key = address(&key);
  lookup.elem.value = address(value);
  ASSERT_TRUE(a.bpf.expose(&lookup, sizeof lookup, true));
  ASSERT_TRUE(b.bpf.expose(&lookup, sizeof lookup, true));
  EXPECT_EQ(a.bpf.bpf(native_trace::kBpfMapLookupElem, &lookup, 32), 0);
  EXPECT_EQ(b.bpf.bpf(native_trace::kBpfMapLookupElem, &lookup, 32), 0);

  // A handle closed in one session stays open in the other.
  EXPECT_EQ(a.bpf.close(1), 0);
  EXPECT_EQ(a.bpf.close(1), -rt::kEBADF);
  EXPECT_EQ(b.bpf.bpf(native_trace::kBpfMapLookupElem, &lookup, 32), 0);
  EXPECT_EQ(b.bpf.close(1), 0);
  EXPECT_EQ(clients_.native_session(0)->open_count(), 0u);
  EXPECT_EQ(clients_.native_session(1)->open_count(), 0u);
}

// The caller struct of a native client is not read: it is "native", pid 0, with CAP_BPF, and
// its fds are its handles (no descriptor table applies).
TEST_F(NativeClientsTest, NativeIdentityAndPrivilegesAreFixed) {
  Connection native(*this, kFirstNative);
  ASSERT_EQ(native.bpf.connect(), 0);
  BpfAttr attr = {};
  attr.map_create.map_type = native_trace::kBpfMapTypeArray;
  attr.map_create.key_size = 4;
  attr.map_create.value_size = 8;
  attr.map_create.max_entries = 1;
  auto request = native.client.bpfRequest();
  auto call = request.params().initRequest();
  call.setCommand(native_trace::kBpfMapCreate);
  call.setAttr(reinterpret_cast<const uint8_t*>(&attr), 72);
  call.setAttrSize(72);
  call.setAttrAddress(address(&attr));
  call.setInstance(1);
  auto caller = call.initCaller();
  caller.setPid(77);
  caller.setTgid(77);
  caller.setUid(1000);
  caller.setComm("pretender");
  caller.setCapBpf(false);  // an unprivileged Linux caller would get EPERM
  auto fds = caller.initDescriptors(3);
  for (uint32_t i = 0; i < 3; ++i) fds.set(i, -1);  // and every fd closed
  auto reply = request.send();
  ASSERT_TRUE(reply.ok());
  auto done = reply.value().getOutcome().value().getDone().value();
  EXPECT_EQ(done.getResult(), 1);
  EXPECT_TRUE(done.getNewHandle());
  EXPECT_EQ(environment_.pid(), kNativePid);
  EXPECT_STREQ(environment_.comm(), "native");
  EXPECT_EQ(environment_.current_uid_gid(), 0u);

  // Handle 1 is usable as fd 1 (the descriptors sent said it was closed).
  uint32_t key = 0;
  uint64_t value = 0;
  BpfAttr lookup = {};
  lookup.elem.map_fd = 1;
  lookup.elem.key = address(&key);
  lookup.elem.value = address(&value);
  ASSERT_TRUE(native.bpf.expose(&lookup, sizeof lookup, true));
  ASSERT_TRUE(native.bpf.expose(&key, sizeof key, false));
  ASSERT_TRUE(native.bpf.expose(&value, sizeof value, true));
  EXPECT_EQ(native.bpf.bpf(native_trace::kBpfMapLookupElem, &lookup, 32), 0);
  EXPECT_EQ(native.bpf.close(1), 0);
}

TEST_F(NativeClientsTest, ThePosixServersOwnMethodsAreRefused) {
  Connection native(*this, kFirstNative), posix(*this, kPosix);
  {
    auto request = native.client.crashRequest();
    auto reply = request.send();
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().code, rt::kEPERM);
  }
  for (auto* connection : {&native, &posix}) {
    auto request = connection->client.mmapGrantRequest();
    request.params().setHandle(1);
    request.params().setLength(4096);
    request.params().setInstance(1);
    auto reply = request.send();
    if (connection == &native) {
      ASSERT_FALSE(reply.ok());
      EXPECT_EQ(reply.error().code, rt::kEPERM);
    } else {
      ASSERT_TRUE(reply.ok());  // no granter here: the POSIX server gets mmap's ENODEV
      EXPECT_EQ(reply.value().getResult(), -rt::kENODEV);
    }
  }
  {
    auto request = native.client.uprobeSitesRequest();
    auto reply = request.send();
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().code, rt::kEPERM);
  }
  // An unknown badge gets nothing at all.
  Connection stranger(*this, 5);
  EXPECT_EQ(stranger.bpf.connect(), -rt::kEPERM);
}

// A native call's output must fit an inline reply: a lookup of a 600-byte value is E2BIG, and
// the map it read is still there.
TEST_F(NativeClientsTest, NativeRepliesStayInline) {
  Connection native(*this, kFirstNative);
  ASSERT_EQ(native.bpf.connect(), 0);
  BpfAttr attr;
  ASSERT_EQ(create_counter_map(native.bpf, attr, 600), 1);
  uint32_t key = 0;
  static uint8_t value[600];
  BpfAttr lookup = {};
  lookup.elem.map_fd = 1;
  lookup.elem.key = address(&key);
  lookup.elem.value = address(value);
  ASSERT_TRUE(native.bpf.expose(&lookup, sizeof lookup, true));
  ASSERT_TRUE(native.bpf.expose(&key, sizeof key, false));
  ASSERT_TRUE(native.bpf.expose(value, sizeof value, true));
  EXPECT_EQ(native.bpf.bpf(native_trace::kBpfMapLookupElem, &lookup, 32), -rt::kE2BIG);
  // docs/NATIVE.md's limit: 84 instructions still fit beside a 72-byte attr and the license.
  static uint64_t fits[84];
  for (uint64_t& instruction : fits) instruction = 0xb7;  // r0 = 0
  fits[83] = 0x95;                                        // exit
  static const char gpl[] = "GPL";
  BpfAttr small = {};
  small.prog_load.prog_type = native_trace::kBpfProgTypeKprobe;
  small.prog_load.insn_cnt = 84;
  small.prog_load.insns = address(fits);
  small.prog_load.license = address(gpl);
  ASSERT_TRUE(native.bpf.expose(&small, sizeof small, true));
  ASSERT_TRUE(native.bpf.expose(fits, sizeof fits, false));
  ASSERT_TRUE(native.bpf.expose(gpl, sizeof gpl, false));
  int64_t small_program = native.bpf.bpf(native_trace::kBpfProgLoad, &small, 72);
  EXPECT_EQ(small_program, 2);
  EXPECT_EQ(native.bpf.close(2), 0);
  // A request larger than an inline message cannot even be built.
  static uint64_t program[200] = {};
  BpfAttr load = {};
  load.prog_load.prog_type = native_trace::kBpfProgTypeKprobe;
  load.prog_load.insn_cnt = 200;
  load.prog_load.insns = address(program);
  static const char license[] = "GPL";
  load.prog_load.license = address(license);
  ASSERT_TRUE(native.bpf.expose(&load, sizeof load, true));
  ASSERT_TRUE(native.bpf.expose(program, sizeof program, false));
  ASSERT_TRUE(native.bpf.expose(license, sizeof license, false));
  int64_t loaded = native.bpf.bpf(native_trace::kBpfProgLoad, &load, 72);
  EXPECT_EQ(loaded, -rt::kENOSPC) << "the 1600 bytes of instructions do not fit";
  EXPECT_EQ(native.bpf.close(1), 0);
}

// The example's program (userland/native-trace/main.cpp) loads through needMemory tries: the
// instructions and license are read from the client's buffers, the map handle in the
// instruction is its own; a buffer it did not expose is EFAULT.
TEST_F(NativeClientsTest, ExampleProgramLoads) {
  Connection native(*this, kFirstNative);
  ASSERT_EQ(native.bpf.connect(), 0);
  BpfAttr attr;
  int64_t map = create_counter_map(native.bpf, attr);
  ASSERT_EQ(map, 1);
  struct Insn {
    uint8_t code, registers;
    int16_t offset;
    int32_t imm;
  };
  static Insn program[] = {
      {0x62, 10, -4, 0},        {0xbf, 2 | 10 << 4, 0, 0},
      {0x07, 2, 0, -4},         {0x18, 1 | 1 << 4, 0, static_cast<int32_t>(map)},
      {0x00, 0, 0, 0},          {0x85, 0, 0, 1},
      {0x15, 0, 2, 0},          {0xb7, 1, 0, 1},
      {0xdb, 0 | 1 << 4, 0, 0}, {0xb7, 0, 0, 0},
      {0x95, 0, 0, 0}};
  static const char license[] = "GPL";
  BpfAttr load = {};
  load.prog_load.prog_type = native_trace::kBpfProgTypeKprobe;
  load.prog_load.insn_cnt = sizeof program / sizeof program[0];
  load.prog_load.insns = address(program);
  load.prog_load.license = address(license);
  ASSERT_TRUE(native.bpf.expose(&load, sizeof load, true));
  EXPECT_EQ(native.bpf.bpf(native_trace::kBpfProgLoad, &load, 72), -rt::kEFAULT);
  ASSERT_TRUE(native.bpf.expose(program, sizeof program, false));
  ASSERT_TRUE(native.bpf.expose(license, sizeof license, false));
  uint32_t calls = native.bpf.calls();
  EXPECT_EQ(native.bpf.bpf(native_trace::kBpfProgLoad, &load, 72), 2);
  EXPECT_GE(native.bpf.calls() - calls, 3u);  // the instructions, the license, then the load
  EXPECT_EQ(native.bpf.close(2), 0);
  EXPECT_EQ(native.bpf.close(1), 0);
  EXPECT_EQ(clients_.native_session(0)->open_count(), 0u);
}

}  // namespace
}  // namespace trace::testing
