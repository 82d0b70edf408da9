// SPDX-License-Identifier: MIT
// KernelTransport and serveKernelEndpoint over the native IPC calls.
#include "sonde/capnp/kernel_transport.hpp"

#include "sys/ipc.hpp"

namespace sonde::capnp {

namespace {

namespace abi = sonde::abi;

// The message words from word `kHeaderWords` on, made contiguous in this thread's IPC buffer:
// words 3..7 arrive in registers, so they are stored into the buffer's (otherwise unused)
// slots for them. Returns where the inline message starts.
const uint8_t* inlineMessage(const sys::MessageRegisters& mr) {
  abi::IpcBuffer* buffer = sys::ipc_buffer();
  for (uint64_t i = kHeaderWords; i < abi::kRegisterMessageWords; ++i)
    buffer->message[i] = mr.word[i];
  return reinterpret_cast<const uint8_t*>(&buffer->message[kHeaderWords]);
}

// Puts `bytes` (at most kInlineBytes) after the header, as message words.
uint64_t storeInline(sys::MessageRegisters& mr, Bytes bytes) {
  uint64_t words = (bytes.size + 7) / 8;
  abi::IpcBuffer* buffer = sys::ipc_buffer();
  auto* target = reinterpret_cast<uint8_t*>(&buffer->message[kHeaderWords]);
  for (size_t i = 0; i < bytes.size; ++i) target[i] = bytes.data[i];
  for (size_t i = bytes.size; i < words * 8; ++i) target[i] = 0;
  for (uint64_t i = kHeaderWords; i < abi::kRegisterMessageWords && i < kHeaderWords + words; ++i) {
    mr.word[i] = buffer->message[i];
  }
  return kHeaderWords + words;
}

bool inside(const uint8_t* begin, size_t size, const uint8_t* data, size_t length) {
  auto b = reinterpret_cast<uintptr_t>(begin);
  auto d = reinterpret_cast<uintptr_t>(data);
  return d >= b && d <= b + size && length <= b + size - d;
}

}  // namespace

rt::Result<Reply> KernelTransport::call(Label label, Bytes request) {
  sys::MessageRegisters mr;
  uint64_t length = kHeaderWords;
  uint64_t flags = 0;
  if (request.size <= kInlineBytes) {
    length = storeInline(mr, request);
  } else {
    if (!inside(shared_request_.data, shared_request_.size, request.data, request.size) ||
        request.data != shared_request_.data) {
      return rt::err(rt::kEFAULT, "large request not at the start of the shared buffer");
    }
    flags = kSharedFlag;
  }
  mr.word[0] = label.interface_id;
  mr.word[1] = label.method | (flags << 16);
  mr.word[2] = request.size;
  sys::IpcResult result = sys::call(endpoint_, kCallLabel, mr, length);
  if (result.error != abi::Error::kNone) return rt::err(rt::kEPIPE, "the server cannot be reached");
  if (result.info.label != kReplyLabel || result.info.length < kHeaderWords) {
    return rt::err(rt::kEBADMSG, "malformed reply");
  }
  auto status = static_cast<int32_t>(mr.word[0]);
  uint64_t size = mr.word[2];
  if ((mr.word[1] & kSharedFlag) != 0) {
    if (size > shared_reply_.size)
      return rt::err(rt::kEBADMSG, "reply larger than the shared buffer");
    return Reply{status, Bytes{shared_reply_.data, size}};
  }
  if (size > (result.info.length - kHeaderWords) * 8)
    return rt::err(rt::kEBADMSG, "truncated reply");
  return Reply{status, Bytes{inlineMessage(mr), size}};
}

uint64_t answerKernelCall(Dispatcher& server, const KernelServerConfig& config, uint64_t label,
                          uint64_t length, sys::MessageRegisters& mr) {
  alignas(8) static uint8_t error_buffer[64];
  alignas(8) uint8_t request_copy[kInlineBytes];
  Reply reply;
  uint64_t flags = mr.word[1] >> 16;
  uint64_t size = mr.word[2];
  bool malformed = label != kCallLabel || length < kHeaderWords;
  Bytes request;
  if (!malformed && (flags & kSharedFlag) != 0) {
    malformed = size > config.shared_request.size;
    request = Bytes{config.shared_request.data, size};
  } else if (!malformed) {
    malformed = size > (length - kHeaderWords) * 8;
    // Copied out of the IPC buffer: the server's own kernel calls while it serves the request
    // (any with more than the register words) overwrite the buffer.
    if (!malformed) {
      const uint8_t* inline_words = inlineMessage(mr);
      for (uint64_t i = 0; i < size; ++i) request_copy[i] = inline_words[i];
      request = Bytes{request_copy, size};
    }
  }
  if (malformed) {
    reply = errorReply(rt::err(rt::kEBADMSG, "malformed call envelope"),
                       MutableBytes{error_buffer, sizeof error_buffer});
  } else {
    reply = serveRequest(server, Label{mr.word[0], static_cast<uint16_t>(mr.word[1] & 0xffff)},
                         request, config.shared_reply, config.limits);
  }
  uint64_t words = kHeaderWords;
  uint64_t reply_flags = 0;
  if (reply.message.size <= kInlineBytes) {
    words = storeInline(mr, reply.message);
  } else {
    reply_flags = kSharedFlag;  // built at the start of the shared reply buffer
  }
  mr.word[0] = static_cast<uint64_t>(static_cast<uint32_t>(reply.status));
  mr.word[1] = reply_flags;
  mr.word[2] = reply.message.size;
  return words;
}

rt::Result<void> serveKernelEndpoint(Dispatcher& server, const KernelServerConfig& config) {
  sys::MessageRegisters mr;
  sys::IpcResult received = sys::recv(config.endpoint, config.reply, mr);
  uint64_t served = 0;
  for (;;) {
    if (received.error != abi::Error::kNone) return rt::err(rt::kEPIPE, "receive failed");
    uint64_t length =
        answerKernelCall(server, config, received.info.label, received.info.length, mr);
    ++served;
    if (config.max_calls != 0 && served == config.max_calls) {
      (void)sys::send(config.reply, kReplyLabel, mr, length);
      return rt::Result<void>();
    }
    received = sys::reply_recv(config.endpoint, config.reply, kReplyLabel, mr, length);
  }
}

}  // namespace sonde::capnp
