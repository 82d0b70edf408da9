// SPDX-License-Identifier: MIT
// The microkernel binding of the IPC transport: requests and replies up to kInlineBytes travel
// as message words (registers and IPC buffer); larger ones are built in a per-session shared
// buffer (a Frame both sides map) and read there in place. Native programs only (libs/sys).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sonde/capnp/transport.hpp"
#include "sys/ipc.hpp"

namespace sonde::capnp {

// The IPC message (MessageInfo label and words) carrying one call:
//   request: label kCallLabel; word 0 the interface id, word 1 the method ordinal plus
//            kSharedFlag << 16 when the message is in the shared request buffer, word 2 its size
//            in bytes, words 3.. the message itself when inline.
//   reply:   label kReplyLabel; word 0 the status (0 or an errno), word 1 kSharedFlag when the
//            reply is in the shared reply buffer, word 2 its size, words 3.. inline.
inline constexpr uint64_t kCallLabel = 0xca11;
inline constexpr uint64_t kReplyLabel = 0xca12;
inline constexpr uint64_t kSharedFlag = 1;
inline constexpr uint64_t kHeaderWords = 3;
inline constexpr size_t kInlineBytes = (120 - kHeaderWords) * 8;  // 936

// A client's end of a session: the endpoint cap (Write) and its mappings of the two shared
// buffers (request: read-write; reply: read-only is enough).
class KernelTransport final : public Transport {
 public:
  KernelTransport(uint64_t endpoint, MutableBytes shared_request, Bytes shared_reply)
      : endpoint_(endpoint), shared_request_(shared_request), shared_reply_(shared_reply) {}

  MutableBytes requestBuffer() override { return shared_request_; }
  rt::Result<Reply> call(Label label, Bytes request) override;

 private:
  uint64_t endpoint_;
  MutableBytes shared_request_;
  Bytes shared_reply_;
};

struct KernelServerConfig {
  uint64_t endpoint;          // Endpoint cap (Read)
  uint64_t reply;             // a Reply cap for the calls
  Bytes shared_request;       // this side's mapping of the session's request buffer
  MutableBytes shared_reply;  // and of its reply buffer (replies are built here)
  ReaderLimits limits;
  uint64_t max_calls;  // stop after this many calls (0: never)
};

// Answers one call that arrived with `label` and `length` words in `mr` (for a server whose
// endpoint also receives other messages): builds the reply into `mr` and returns its length
// in words, to send with label kReplyLabel. Malformed calls get an EBADMSG reply.
uint64_t answerKernelCall(Dispatcher& server, const KernelServerConfig& config, uint64_t label,
                          uint64_t length, sys::MessageRegisters& mr);

// Serves calls on the endpoint until max_calls were answered or receiving fails. Malformed
// calls (wrong label, sizes beyond what arrived or beyond the shared buffer) get an EBADMSG
// reply; everything else goes through serveRequest (validation, dispatch, error replies).
rt::Result<void> serveKernelEndpoint(Dispatcher& server, const KernelServerConfig& config);

}  // namespace sonde::capnp
