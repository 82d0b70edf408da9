// SPDX-License-Identifier: MIT
// Build check: the generated headers and the runtime compile freestanding (no exceptions, RTTI or
// hosted library).
#include "common.capnp.hpp"
#include "supervisor.capnp.hpp"
#include "test.capnp.hpp"
#include "trace.capnp.hpp"

namespace {

// A server and a client of each interface, so every generated template is instantiated.
class Trace final : public sonde::proto::TraceService::Server {
  rt::Result<void> close(sonde::proto::TraceService::CloseParams::Reader params,
                         sonde::proto::TraceService::CloseResults::Builder) override {
    return params.getHandle() == 0 ? rt::Result<void>(rt::err(rt::kEBADF)) : rt::Result<void>();
  }
};
class Supervisor final : public sonde::proto::Supervisor::Server {};

}  // namespace

extern "C" int sonde_capnp_freestanding_check(void* buffer, unsigned long size) {
  Trace trace;
  Supervisor supervisor;
  alignas(8) static uint8_t shared[4096];
  sonde::capnp::InProcessTransport transport(
      trace, sonde::capnp::MutableBytes{static_cast<uint8_t*>(buffer), size},
      sonde::capnp::MutableBytes{shared, sizeof shared});
  sonde::proto::TraceService::Client client(transport);
  auto request = client.bpfRequest();
  auto bpf = request.params().initRequest();
  bpf.setCommand(5);
  bpf.initCaller().initDescriptors(1).set(0, 3);
  bpf.initMemory(1)[0].setData("GPL", 4);
  auto reply = request.send();
  sonde::capnp::MessageBuilder builder(shared, sizeof shared);
  auto all = builder.initRoot<sonde::proto::AllKinds>();
  all.initStructListList(1).init(0, 1)[0].setId(1);
  all.initTextList(1).setText(0, "x");
  return reply.ok() ? 0 : reply.error().code + static_cast<int>(supervisor.interfaceId() & 1);
}
