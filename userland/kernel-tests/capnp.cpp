// SPDX-License-Identifier: MIT
// Kernel tests of Cap'n Proto over the kernel's IPC (libs/capnp's kernel transport).
#include "sonde/capnp/kernel_transport.hpp"
#include "suite.hpp"
#include "supervisor.capnp.hpp"

namespace kernel_tests {

namespace proto = sonde::proto;

namespace {

class TestSupervisor final : public proto::Supervisor::Server {
 public:
  rt::Result<void> start(proto::Supervisor::StartParams::Reader params,
                         proto::Supervisor::StartResults::Builder results) override {
    // Serving may take kernel calls whose messages go through this thread's IPC buffer, where
    // an inline request arrived: it must have been copied out (the checks below read it after).
    abi::IpcBuffer* buffer = sys::ipc_buffer();
    for (uint64_t i = 0; i < abi::kMaxMessageWords; ++i) buffer->message[i] = ~0ull;
    if (params.getServer() == proto::ServerKind::kPosix)
      return rt::err(rt::kEEXIST, "posix already runs");
    auto arguments = params.getArguments();
    if (!arguments.ok()) return arguments.error();
    uint32_t bytes = 0;
    for (uint32_t i = 0; i < arguments.value().size(); ++i) {
      auto text = arguments.value()[i];
      if (!text.ok()) return text.error();
      bytes += text.value().size;
    }
    auto status = results.initStatus();
    status.setHealth(proto::Health::kRunning);
    status.setInstance(arguments.value().size());
    status.setRestarts(bytes);
    return rt::Result<void>();
  }
  rt::Result<void> health(proto::Supervisor::HealthParams::Reader params,
                          proto::Supervisor::HealthResults::Builder results) override {
    uint32_t count = params.getAll() ? 60 : 1;
    auto servers = results.initServers(count);
    for (uint32_t i = 0; i < count; ++i) {
      servers[i].setServer(params.getServer());
      servers[i].setInstance(i);
      servers[i].setHealth(proto::Health::kRunning);
    }
    return rt::Result<void>();
  }
};

constexpr uint64_t kSessionWindow = 0x50000000;
uint64_t capnp_endpoint;
uint64_t capnp_reply;

void capnp_server(uint64_t calls) {
  static TestSupervisor server;
  sonde::capnp::KernelServerConfig config{
      capnp_endpoint,
      capnp_reply,
      sonde::capnp::Bytes{reinterpret_cast<const uint8_t*>(kSessionWindow + 0x1000), 4096},
      sonde::capnp::MutableBytes{reinterpret_cast<uint8_t*>(kSessionWindow + 0x2000), 4096},
      sonde::capnp::ReaderLimits(),
      calls};
  (void)sonde::capnp::serveKernelEndpoint(server, config);
}

}  // namespace

DEFINE_TEST(capnp_over_ipc,
            "Cap'n Proto calls through kernel IPC with shared request and reply buffers") {
  capnp_endpoint = make(ObjectType::kEndpoint);
  capnp_reply = make(ObjectType::kReply);
  // The session's two shared buffers, each mapped twice (client and server views at
  // different addresses, as in two address spaces): request at +0 (client, writable) and
  // +0x1000 (server, read-only); reply at +0x2000 (server, writable) and +0x3000 (client).
  uint64_t request = make(ObjectType::kFrame, 12);
  uint64_t reply = make(ObjectType::kFrame, 12);
  uint64_t request_view = new_slot(), reply_view = new_slot();
  must(sys::cnode_copy(kRoot, request_view, request), "copy request frame");
  must(sys::cnode_copy(kRoot, reply_view, reply), "copy reply frame");
  must(map_anywhere(request, kVSpace, kSessionWindow, abi::kMapWrite), "client request view");
  must(map_anywhere(request_view, kVSpace, kSessionWindow + 0x1000, abi::kMapRead),
       "server request view");
  must(map_anywhere(reply, kVSpace, kSessionWindow + 0x2000, abi::kMapWrite), "server reply view");
  must(map_anywhere(reply_view, kVSpace, kSessionWindow + 0x3000, abi::kMapRead),
       "client reply view");
  uint64_t server = spawn(capnp_server, 4, ThreadOptions{.priority = 254});
  sonde::capnp::KernelTransport transport(
      capnp_endpoint, sonde::capnp::MutableBytes{reinterpret_cast<uint8_t*>(kSessionWindow), 4096},
      sonde::capnp::Bytes{reinterpret_cast<const uint8_t*>(kSessionWindow + 0x3000), 4096});
  proto::Supervisor::Client client(transport);
  {
    Check t("capnp_call_inline_through_kernel_ipc");
    auto request_message = client.startRequest();
    request_message.params().setServer(proto::ServerKind::kTrace);
    auto arguments = request_message.params().initArguments(2);
    arguments.setText(0, "a");
    arguments.setText(1, "bc");
    auto result = request_message.send();
    t.that(result.ok(), "call failed");
    if (result.ok()) {
      auto status = result.value().getStatus();
      t.that(status.ok() && status.value().getInstance() == 2 && status.value().getRestarts() == 3,
             "wrong results");
    }
  }
  {
    Check t("capnp_error_reply_carries_the_errno");
    auto request_message = client.startRequest();
    request_message.params().setServer(proto::ServerKind::kPosix);
    auto result = request_message.send();
    t.that(!result.ok() && result.error().code == rt::kEEXIST, "EEXIST not delivered");
  }
  {
    Check t("capnp_large_request_read_in_place_from_the_shared_buffer");
    auto request_message = client.startRequest();
    request_message.params().setServer(proto::ServerKind::kTrace);
    auto arguments = request_message.params().initArguments(100);
    for (uint32_t i = 0; i < 100; ++i) arguments.setText(i, "12345678");
    auto result = request_message.send();
    t.that(result.ok(), "large call failed");
    if (result.ok()) {
      auto status = result.value().getStatus();
      t.that(
          status.ok() && status.value().getInstance() == 100 && status.value().getRestarts() == 800,
          "wrong results for the large request");
    }
  }
  {
    Check t("capnp_large_reply_read_in_place_from_the_shared_buffer");
    auto request_message = client.healthRequest();
    request_message.params().setServer(proto::ServerKind::kPosix);
    request_message.params().setAll(true);
    auto result = request_message.send();
    t.that(result.ok(), "health call failed");
    if (result.ok()) {
      auto servers = result.value().getServers();
      bool ok = servers.ok() && servers.value().size() == 60;
      for (uint32_t i = 0; ok && i < 60; ++i) {
        ok = servers.value()[i].getInstance() == i &&
             servers.value()[i].getServer() == proto::ServerKind::kPosix;
      }
      t.that(ok, "wrong or truncated large reply");
    }
  }
  kill(server);
}

}  // namespace kernel_tests
