// SPDX-License-Identifier: MIT
// IPC binding: client sessions, error replies, request serving, and the in-process transport.
#include "sonde/capnp/transport.hpp"

namespace sonde::capnp {

Reply errorReply(rt::Error error, MutableBytes reply_buffer) {
  int code = error.code != 0 ? error.code : rt::kEIO;
  MessageBuilder builder(reply_buffer.data, reply_buffer.size);
  StructBuilder root = builder.initRootStruct(ErrorLayout::kDataWords, ErrorLayout::kPointerCount);
  root.setData<int32_t>(ErrorLayout::kErrnoOffset, code);
  if (error.message != nullptr) {
    root.setText(ErrorLayout::kMessagePointer, error.message, textLength(error.message));
  }
  auto bytes = builder.finish();
  if (!bytes.ok()) {
    // The message did not fit; the errno alone always does (64 bytes).
    builder.reset();
    builder.initRootStruct(ErrorLayout::kDataWords, ErrorLayout::kPointerCount)
        .setData<int32_t>(ErrorLayout::kErrnoOffset, code);
    bytes = builder.finish();
  }
  return Reply{code, bytes.ok() ? bytes.value() : Bytes()};
}

Reply serveRequest(Dispatcher& server, Label label, Bytes request, MutableBytes reply_buffer,
                   ReaderLimits limits) {
  if (label.interface_id != server.interfaceId()) {
    return errorReply(rt::err(rt::kENOSYS, "interface not served here"), reply_buffer);
  }
  MessageReader message;
  auto parsed = message.init(request.data, request.size, limits);
  if (!parsed.ok()) return errorReply(parsed.error(), reply_buffer);
  // Check the whole message first, so the implementation never meets a malformed pointer
  // halfway through its work; then reset the budget it spent.
  auto valid = message.validate();
  if (!valid.ok()) return errorReply(valid.error(), reply_buffer);
  MessageReader fresh;
  (void)fresh.init(request.data, request.size, limits);
  auto root = fresh.getRootStruct();
  if (!root.ok()) return errorReply(root.error(), reply_buffer);

  MessageBuilder reply(reply_buffer.data, reply_buffer.size);
  auto result = server.dispatch(label.method, root.value(), reply);
  if (!result.ok()) return errorReply(result.error(), reply_buffer);
  auto bytes = reply.finish();
  if (!bytes.ok())
    return errorReply(rt::err(rt::kENOSPC, "reply does not fit in the reply buffer"), reply_buffer);
  return Reply{0, bytes.value()};
}

rt::Result<StructReader> ClientSession::call(Label label, Bytes request) {
  auto reply = transport_.call(label, request);
  if (!reply.ok()) return reply.error();
  TRY(reply_.init(reply.value().message.data, reply.value().message.size, limits_));
  StructReader root = TRY(reply_.getRootStruct());
  if (reply.value().status == 0) return root;
  int32_t code = root.getData<int32_t>(ErrorLayout::kErrnoOffset);
  auto text = root.getText(ErrorLayout::kMessagePointer);
  const char* why = text.ok() && text.value().size > 0 ? text.value().chars : nullptr;
  // Trust the reply's status over its body if they disagree: the status is what the kernel
  // carried, the body only explains it.
  return rt::err(code > 0 ? code : reply.value().status, why);
}

rt::Result<Reply> InProcessTransport::call(Label label, Bytes request) {
  // Compare addresses as integers: the request may point anywhere.
  uintptr_t shared_begin = reinterpret_cast<uintptr_t>(shared_request_.data);
  uintptr_t shared_end = shared_begin + shared_request_.size;
  uintptr_t request_begin = reinterpret_cast<uintptr_t>(request.data);
  Bytes delivered;
  if (request.size <= kIpcBufferBytes) {
    __builtin_memcpy(ipc_buffer_, request.data, request.size);
    delivered = Bytes{ipc_buffer_, request.size};
    ++copied_calls_;
  } else {
    // Large messages travel by reference: they must lie inside the shared buffer.
    bool inside = request_begin >= shared_begin && request_begin <= shared_end &&
                  request.size <= shared_end - request_begin;
    if (!inside) return rt::err(rt::kEFAULT, "large request outside the shared buffer");
    delivered = request;
    ++shared_calls_;
  }
  Reply reply = serveRequest(server_, label, delivered, shared_reply_, limits_);
  if (reply.message.size <= kIpcBufferBytes && reply.message.data != nullptr) {
    __builtin_memcpy(ipc_buffer_, reply.message.data, reply.message.size);
    reply.message.data = ipc_buffer_;
  }
  return reply;
}

}  // namespace sonde::capnp
