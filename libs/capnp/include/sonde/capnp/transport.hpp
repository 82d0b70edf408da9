// SPDX-License-Identifier: MIT
// IPC binding for generated stubs: labels, the Transport interface, client sessions, server
// dispatch, and an in-process transport.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/result.hpp"
#include "sonde/capnp/builder.hpp"
#include "sonde/capnp/list.hpp"
#include "sonde/capnp/reader.hpp"

namespace sonde::capnp {

// What an IPC message is about: the interface's 64-bit schema id and the method's ordinal.
struct Label {
  uint64_t interface_id = 0;
  uint16_t method = 0;
};

// A reply: status 0 carries the method's results; any other status is a Linux errno and the
// message is a common.capnp Error struct (errno, message).
struct Reply {
  int32_t status = 0;
  Bytes message;
};

// How a client reaches a server. The microkernel binding sends small messages in the IPC
// buffer and large ones in a per-session shared buffer the server reads in place; the
// in-process transport below models both on the host.
class Transport {
 public:
  // Memory where the client builds its next request (valid until the next call).
  virtual MutableBytes requestBuffer() = 0;
  // Delivers a request (built in requestBuffer()) and waits for the reply; the reply's bytes
  // stay valid until the next call.
  virtual rt::Result<Reply> call(Label label, Bytes request) = 0;

 protected:
  ~Transport() = default;
};

// The client end of one connection: sends requests and keeps the latest reply readable.
class ClientSession {
 public:
  explicit ClientSession(Transport& transport, ReaderLimits limits = ReaderLimits())
      : transport_(transport), limits_(limits) {}
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  Transport& transport() { return transport_; }
  // Sends and parses the reply. An error reply becomes its errno; its message text points into
  // the reply bytes, so it is valid until the next call.
  rt::Result<StructReader> call(Label label, Bytes request);

 private:
  Transport& transport_;
  ReaderLimits limits_;
  MessageReader reply_;
};

// One outgoing call: build params() in the transport's buffer, then send(). The results
// reader is valid until the session's next call.
template <typename Params, typename Results>
class Request {
 public:
  Request(ClientSession& session, Label label)
      : session_(session),
        label_(label),
        buffer_(session.transport().requestBuffer()),
        builder_(buffer_.data, buffer_.size),
        params_(builder_.initRoot<Params>()) {}
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  typename Params::Builder& params() { return params_; }
  MessageBuilder& message() { return builder_; }

  rt::Result<typename Results::Reader> send() {
    auto bytes = builder_.finish();
    if (!bytes.ok()) return bytes.error();
    auto root = session_.call(label_, bytes.value());
    if (!root.ok()) return root.error();
    return typename Results::Reader(root.value());
  }

 private:
  ClientSession& session_;
  Label label_;
  MutableBytes buffer_;
  MessageBuilder builder_;
  typename Params::Builder params_;
};

// The server end: generated Server classes implement dispatch() by method ordinal.
class Dispatcher {
 public:
  virtual uint64_t interfaceId() const = 0;
  virtual rt::Result<void> dispatch(uint16_t method, StructReader params,
                                    MessageBuilder& reply) = 0;

 protected:
  ~Dispatcher() = default;
};

// Serves one request: checks the label, parses and validates the message (every pointer, under
// `limits`), dispatches, and turns any failure into an Error reply. Never fails itself: the
// reply is built in `reply_buffer` (which must hold at least 64 bytes).
Reply serveRequest(Dispatcher& server, Label label, Bytes request, MutableBytes reply_buffer,
                   ReaderLimits limits = ReaderLimits());

// An Error reply (common.capnp's Error: errno and message) built in `reply_buffer` (at least
// 64 bytes; the message is dropped if it does not fit).
Reply errorReply(rt::Error error, MutableBytes reply_buffer);

// Layout of common.capnp's Error struct, written by serveRequest and read by ClientSession
// (a unit test checks it against the generated code).
struct ErrorLayout {
  static constexpr uint16_t kDataWords = 1;
  static constexpr uint16_t kPointerCount = 1;
  static constexpr uint32_t kErrnoOffset = 0;     // Int32 at byte 0
  static constexpr uint16_t kMessagePointer = 0;  // Text
};

// A transport inside one process, for host tests: the "IPC buffer" holds small messages (copied,
// as the kernel copies message registers); larger ones must be built in the shared request
// buffer and are read there in place, as a server reads a session's shared buffer.
class InProcessTransport final : public Transport {
 public:
  static constexpr size_t kIpcBufferBytes = 960;  // 120 message registers

  InProcessTransport(Dispatcher& server, MutableBytes shared_request, MutableBytes shared_reply,
                     ReaderLimits server_limits = ReaderLimits())
      : server_(server),
        shared_request_(shared_request),
        shared_reply_(shared_reply),
        limits_(server_limits) {}

  MutableBytes requestBuffer() override { return shared_request_; }
  rt::Result<Reply> call(Label label, Bytes request) override;

  uint64_t copiedCalls() const { return copied_calls_; }
  uint64_t sharedCalls() const { return shared_calls_; }

 private:
  Dispatcher& server_;
  MutableBytes shared_request_;
  MutableBytes shared_reply_;
  ReaderLimits limits_;
  alignas(8) uint8_t ipc_buffer_[kIpcBufferBytes];
  uint64_t copied_calls_ = 0;
  uint64_t shared_calls_ = 0;
};

}  // namespace sonde::capnp
