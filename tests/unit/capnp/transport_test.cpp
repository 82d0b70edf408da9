// SPDX-License-Identifier: MIT
// The IPC binding over the in-process transport: client stub -> transport -> dispatcher ->
// implementation -> reply.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "test.capnp.h"
#include "test.capnp.hpp"
#include "trace.capnp.hpp"

namespace {

using sonde::capnp::Bytes;
using sonde::capnp::InProcessTransport;
using sonde::capnp::Label;
using sonde::capnp::MutableBytes;
namespace ours = sonde::proto;

class CalculatorImpl final : public ours::Calculator::Server {
 public:
  int calls = 0;
  rt::Result<void> add(ours::Calculator::AddParams::Reader params,
                       ours::Calculator::AddResults::Builder results) override {
    ++calls;
    results.setSum(params.getA() + params.getB());
    return {};
  }
  rt::Result<void> echo(ours::Calculator::EchoParams::Reader params,
                        ours::Calculator::EchoResults::Builder results) override {
    ++calls;
    auto payload = params.getPayload();
    if (!payload.ok()) return payload.error();
    results.setPayload(payload.value().bytes, payload.value().size);
    results.setLength(payload.value().size);
    return {};
  }
  rt::Result<void> fail(ours::Calculator::FailParams::Reader params,
                        ours::Calculator::FailResults::Builder) override {
    ++calls;
    return rt::err(params.getCode(), "failed on purpose");
  }
};

struct Fixture {
  CalculatorImpl server;
  std::vector<uint64_t> request_memory = std::vector<uint64_t>(64 * 1024);
  std::vector<uint64_t> reply_memory = std::vector<uint64_t>(64 * 1024);
  InProcessTransport transport{
      server,
      MutableBytes{reinterpret_cast<uint8_t*>(request_memory.data()), request_memory.size() * 8},
      MutableBytes{reinterpret_cast<uint8_t*>(reply_memory.data()), reply_memory.size() * 8}};
  ours::Calculator::Client client{transport};
};

TEST(CapnpTransport, SmallCallTravelsInTheIpcBuffer) {
  Fixture f;
  auto request = f.client.addRequest();
  request.params().setA(40);
  request.params().setB(2);
  auto reply = request.send();
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply.value().getSum(), 42);
  EXPECT_EQ(f.transport.copiedCalls(), 1u);
  EXPECT_EQ(f.transport.sharedCalls(), 0u);
  EXPECT_EQ(f.server.calls, 1);
}

TEST(CapnpTransport, LargeCallIsReadInPlaceFromTheSharedBuffer) {
  Fixture f;
  std::vector<uint8_t> payload(100000);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 31);
  auto request = f.client.echoRequest();
  request.params().setPayload(payload.data(), payload.size());
  auto reply = request.send();
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply.value().getLength(), payload.size());
  auto echoed = reply.value().getPayload().value();
  ASSERT_EQ(echoed.size, payload.size());
  EXPECT_EQ(0, std::memcmp(echoed.bytes, payload.data(), payload.size()));
  EXPECT_EQ(f.transport.sharedCalls(), 1u);
}

TEST(CapnpTransport, ServerErrorsReachTheClientWithErrnoAndMessage) {
  Fixture f;
  auto request = f.client.failRequest();
  request.params().setCode(rt::kEPERM);
  auto reply = request.send();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, rt::kEPERM);
  ASSERT_NE(reply.error().message, nullptr);
  EXPECT_EQ(std::string(reply.error().message), "failed on purpose");
}

TEST(CapnpTransport, UnknownMethodAndInterfaceAnswerEnosys) {
  Fixture f;
  uint64_t words[8] = {};
  sonde::capnp::MessageBuilder builder(words, sizeof words);
  builder.initRootStruct(0, 0);
  Bytes bytes = builder.finish().value();
  auto unknown_method = f.transport.call(Label{ours::Calculator::kInterfaceId, 7}, bytes);
  ASSERT_TRUE(unknown_method.ok());
  EXPECT_EQ(unknown_method.value().status, rt::kENOSYS);
  auto other_interface = f.transport.call(Label{ours::TraceService::kInterfaceId, 0}, bytes);
  EXPECT_EQ(other_interface.value().status, rt::kENOSYS);
  EXPECT_EQ(f.server.calls, 0);
}

TEST(CapnpTransport, HostileRequestsGetErrorRepliesAndNeverReachTheImplementation) {
  Fixture f;
  // A root struct pointer running off the end of the message.
  uint64_t hostile[2] = {0x0000000100000000ull, sonde::capnp::makeStructPointer(0, 100, 0)};
  auto reply = f.transport.call(Label{ours::Calculator::kInterfaceId, 0},
                                Bytes{reinterpret_cast<uint8_t*>(hostile), 16});
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.value().status, rt::kEBADMSG);
  // Garbage framing.
  uint8_t junk[24];
  std::memset(junk, 0xff, sizeof junk);
  reply = f.transport.call(Label{ours::Calculator::kInterfaceId, 0}, Bytes{junk, sizeof junk});
  EXPECT_EQ(reply.value().status, rt::kEBADMSG);
  EXPECT_EQ(f.server.calls, 0);
}

TEST(CapnpTransport, LargeRequestOutsideTheSharedBufferIsRefused) {
  Fixture f;
  std::vector<uint8_t> elsewhere(4096);
  auto reply = f.transport.call(Label{ours::Calculator::kInterfaceId, 1},
                                Bytes{elsewhere.data(), elsewhere.size()});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, rt::kEFAULT);
}

TEST(CapnpTransport, ReplyLargerThanTheReplyBufferIsAnError) {
  CalculatorImpl server;
  std::vector<uint64_t> request_memory(64 * 1024), reply_memory(64);
  InProcessTransport transport(
      server,
      MutableBytes{reinterpret_cast<uint8_t*>(request_memory.data()), request_memory.size() * 8},
      MutableBytes{reinterpret_cast<uint8_t*>(reply_memory.data()), reply_memory.size() * 8});
  ours::Calculator::Client client(transport);
  std::vector<uint8_t> payload(4096, 1);
  auto request = client.echoRequest();
  request.params().setPayload(payload.data(), payload.size());
  auto reply = request.send();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, rt::kENOSPC);
}

TEST(CapnpTransport, RequestLargerThanItsBufferFailsBeforeSending) {
  CalculatorImpl server;
  std::vector<uint64_t> request_memory(8), reply_memory(64);
  InProcessTransport transport(
      server,
      MutableBytes{reinterpret_cast<uint8_t*>(request_memory.data()), request_memory.size() * 8},
      MutableBytes{reinterpret_cast<uint8_t*>(reply_memory.data()), reply_memory.size() * 8});
  ours::Calculator::Client client(transport);
  std::vector<uint8_t> payload(1000, 7);
  auto request = client.echoRequest();
  request.params().setPayload(payload.data(), payload.size());
  auto reply = request.send();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, rt::kENOSPC);
  EXPECT_EQ(server.calls, 0);
  EXPECT_EQ(transport.copiedCalls() + transport.sharedCalls(), 0u);
}

// A host tool using the official library talks to a Sonde dispatcher: same bytes, same labels.
TEST(CapnpTransport, OfficialClientTalksToGeneratedDispatcher) {
  CalculatorImpl server;
  capnp::MallocMessageBuilder official;
  auto params = official.initRoot<Calculator::AddParams>();
  params.setA(-7);
  params.setB(10);
  auto flat = capnp::messageToFlatArray(official);
  std::vector<uint64_t> reply_memory(128);
  auto reply = sonde::capnp::serveRequest(
      server, Label{Calculator::_capnpPrivate::typeId, 0},
      Bytes{flat.asBytes().begin(), flat.asBytes().size()},
      MutableBytes{reinterpret_cast<uint8_t*>(reply_memory.data()), reply_memory.size() * 8});
  ASSERT_EQ(reply.status, 0);
  capnp::FlatArrayMessageReader results(kj::arrayPtr(
      reinterpret_cast<const capnp::word*>(reply.message.data), reply.message.size / 8));
  EXPECT_EQ(results.getRoot<Calculator::AddResults>().getSum(), 3);
  EXPECT_EQ(ours::Calculator::kInterfaceId, Calculator::_capnpPrivate::typeId);
}

// The trace service end to end: a bpf() call carrying 4,096 instructions as a memory range,
// answered with a handle and a verifier log written back.
class TraceImpl final : public ours::TraceService::Server {
 public:
  rt::Result<void> bpf(ours::TraceService::BpfParams::Reader params,
                       ours::TraceService::BpfResults::Builder results) override {
    auto request = params.getRequest();
    if (!request.ok()) return request.error();
    auto memory = request.value().getMemory();
    if (!memory.ok()) return memory.error();
    if (memory.value().size() != 1) return rt::err(rt::kEINVAL, "one range expected");
    auto insns = memory.value()[0].getData();
    if (!insns.ok()) return insns.error();
    if (insns.value().size % 8 != 0) return rt::err(rt::kEINVAL, "insns not a multiple of 8 bytes");
    seen_insns = insns.value().size / 8;
    auto done = results.initOutcome().initDone();
    done.setResult(17);
    auto log = done.initWrites(1)[0];
    log.setAddress(0x5000);
    log.setData("processed 4096 insns", 21);
    return {};
  }
  uint32_t seen_insns = 0;
};

TEST(CapnpTransport, TraceServiceProgLoadRoundTrip) {
  TraceImpl server;
  std::vector<uint64_t> request_memory(16 * 1024), reply_memory(1024);
  InProcessTransport transport(
      server,
      MutableBytes{reinterpret_cast<uint8_t*>(request_memory.data()), request_memory.size() * 8},
      MutableBytes{reinterpret_cast<uint8_t*>(reply_memory.data()), reply_memory.size() * 8});
  ours::TraceService::Client client(transport);
  std::vector<uint64_t> insns(4096, 0x00000000000000b7ull);
  auto request = client.bpfRequest();
  auto bpf = request.params().initRequest();
  bpf.setCommand(5);
  auto range = bpf.initMemory(1)[0];
  range.setAddress(0x10000);
  range.setLength(insns.size() * 8);
  range.setData(insns.data(), insns.size() * 8);
  auto reply = request.send();
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(server.seen_insns, 4096u);
  auto outcome = reply.value().getOutcome().value();
  ASSERT_TRUE(outcome.isDone());
  EXPECT_EQ(outcome.getDone()->getResult(), 17);
  auto log = outcome.getDone()->getWrites().value()[0].getData().value();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(log.bytes), log.size),
            std::string("processed 4096 insns", 21));
  EXPECT_EQ(transport.sharedCalls(), 1u);
  // A method the server does not implement says so.
  auto freeze = client.tracefsReadRequest();
  freeze.params().setPath("trace_pipe");
  auto not_implemented = freeze.send();
  ASSERT_FALSE(not_implemented.ok());
  EXPECT_EQ(not_implemented.error().code, rt::kENOSYS);
  EXPECT_EQ(std::string(not_implemented.error().message),
            "TraceService.tracefsRead is not implemented");
}

}  // namespace
