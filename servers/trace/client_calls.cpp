// SPDX-License-Identifier: MIT
// answer_client_call: the per-client session and transport configuration of one call.
#include "client_calls.hpp"

#include "trace.capnp.hpp"

namespace trace {

namespace {

// Answers every call with one error (a badge no client holds, no memory for its session).
class Refusal final : public sonde::capnp::Dispatcher {
 public:
  explicit Refusal(rt::Error error) : error_(error) {}
  uint64_t interfaceId() const override { return sonde::proto::TraceService::kInterfaceId; }
  rt::Result<void> dispatch(uint16_t, sonde::capnp::StructReader,
                            sonde::capnp::MessageBuilder&) override {
    return error_;
  }

 private:
  rt::Error error_;
};

// Native clients' replies are built here: no more than fits in the message words.
alignas(8) uint8_t native_reply[sonde::capnp::kInlineBytes];

}  // namespace

uint64_t answer_client_call(Service& service, ClientSessions& clients,
                            const sonde::capnp::KernelServerConfig& posix, uint64_t badge,
                            uint64_t label, uint64_t length, sys::MessageRegisters& mr) {
  sonde::capnp::KernelServerConfig config = posix;
  rt::Result<Client> client = clients.find(badge);
  if (!client.ok() || client.value().kind == ClientKind::kNative) {
    // No shared buffers: a request flagged as shared is malformed (EBADMSG), a reply larger
    // than kInlineBytes an ENOSPC error.
    config.shared_request = sonde::capnp::Bytes{};
    config.shared_reply = sonde::capnp::MutableBytes{native_reply, sizeof native_reply};
  }
  if (!client.ok()) {
    Refusal refusal(client.error());
    return sonde::capnp::answerKernelCall(refusal, config, label, length, mr);
  }
  service.set_client(client.value());  // every call names its client anew
  return sonde::capnp::answerKernelCall(service, config, label, length, mr);
}

}  // namespace trace
