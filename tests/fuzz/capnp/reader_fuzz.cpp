// SPDX-License-Identifier: MIT
// libFuzzer target: arbitrary bytes through the capnp reader, the schema-less walk, the generated
// readers and request serving.
#include <stddef.h>
#include <stdint.h>

#include "test.capnp.hpp"
#include "trace.capnp.hpp"

namespace {

namespace ours = sonde::proto;
using sonde::capnp::MessageReader;
using sonde::capnp::ReaderLimits;

// Small limits keep each input cheap; the checks are the same at any limit.
constexpr ReaderLimits kLimits{1 << 16, 24};

volatile uint64_t sink;

// Folds any value into the sink by its bits (a float may hold anything, even NaN).
template <typename T>
uint64_t bits(T value) {
  uint64_t out = 0;
  __builtin_memcpy(&out, &value, sizeof(T) < 8 ? sizeof(T) : 8);
  return out;
}

template <typename T>
void consume(const rt::Result<T>& result) {
  sink = sink + (result.ok() ? 1 : static_cast<uint64_t>(result.error().code));
}

void touchText(const rt::Result<sonde::capnp::Text>& text) {
  if (!text.ok()) return;
  for (uint32_t i = 0; i < text.value().size; ++i)
    sink = sink + static_cast<uint8_t>(text.value().chars[i]);
  sink = sink + static_cast<uint8_t>(text.value().chars[text.value().size]);  // the NUL
}

void touchData(const rt::Result<sonde::capnp::Data>& data) {
  if (!data.ok()) return;
  for (uint32_t i = 0; i < data.value().size; ++i) sink = sink + data.value().bytes[i];
}

void touchInner(ours::Inner::Reader inner) {
  sink = sink + inner.getId();
  touchText(inner.getLabel());
  auto weights = inner.getWeights();
  if (weights.ok()) {
    for (uint32_t i = 0; i < weights.value().size(); ++i) sink = sink + bits(weights.value()[i]);
  }
}

template <typename List>
void touchPrimitives(const List& list) {
  if (!list.ok()) return;
  for (uint32_t i = 0; i < list.value().size(); ++i) sink = sink + bits(list.value()[i]);
}

void touchAllKinds(ours::AllKinds::Reader r) {
  sink = sink + r.getBoolField() + static_cast<uint64_t>(r.getInt64Field()) + r.getUint8Field() +
         bits(r.getFloat64Field()) + static_cast<uint64_t>(r.getEnumField());
  touchText(r.getTextField());
  touchData(r.getDataField());
  auto inner = r.getStructField();
  if (inner.ok()) touchInner(inner.value());
  touchPrimitives(r.getBoolList());
  touchPrimitives(r.getInt16List());
  touchPrimitives(r.getUint64List());
  touchPrimitives(r.getFloat32List());
  touchPrimitives(r.getEnumList());
  auto texts = r.getTextList();
  if (texts.ok())
    for (uint32_t i = 0; i < texts.value().size(); ++i) touchText(texts.value()[i]);
  auto datas = r.getDataList();
  if (datas.ok())
    for (uint32_t i = 0; i < datas.value().size(); ++i) touchData(datas.value()[i]);
  auto structs = r.getStructList();
  if (structs.ok())
    for (uint32_t i = 0; i < structs.value().size(); ++i) touchInner(structs.value()[i]);
  auto lists = r.getListList();
  if (lists.ok()) {
    for (uint32_t i = 0; i < lists.value().size(); ++i) touchPrimitives(lists.value()[i]);
  }
  auto struct_lists = r.getStructListList();
  if (struct_lists.ok()) {
    for (uint32_t i = 0; i < struct_lists.value().size(); ++i) {
      auto inner_list = struct_lists.value()[i];
      if (!inner_list.ok()) continue;
      for (uint32_t j = 0; j < inner_list.value().size(); ++j) touchInner(inner_list.value()[j]);
    }
  }
  sink = sink + static_cast<uint64_t>(r.which());
  consume(r.getNumber());
  touchText(r.getName());
  auto pair = r.getPair();
  if (pair.ok()) {
    auto right = pair.value().getRight();
    if (right.ok()) touchInner(right.value());
  }
  auto mode = r.getSettings().getMode();
  touchText(mode.getCareful());
  consume(mode.getFast());
}

void touchBpf(ours::TraceService::BpfParams::Reader params) {
  auto request = params.getRequest();
  if (!request.ok()) return;
  touchData(request.value().getAttr());
  auto caller = request.value().getCaller();
  if (caller.ok()) {
    touchText(caller.value().getComm());
    touchPrimitives(caller.value().getDescriptors());
  }
  auto memory = request.value().getMemory();
  if (!memory.ok()) return;
  for (uint32_t i = 0; i < memory.value().size(); ++i) {
    sink = sink + memory.value()[i].getAddress();
    touchData(memory.value()[i].getData());
  }
}

// A dispatcher that reads what it is given, so serveRequest's checks meet every input too.
class Echo final : public ours::Calculator::Server {
  rt::Result<void> echo(ours::Calculator::EchoParams::Reader params,
                        ours::Calculator::EchoResults::Builder results) override {
    auto payload = params.getPayload();
    if (!payload.ok()) return payload.error();
    results.setPayload(payload.value().bytes, payload.value().size);
    return {};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    MessageReader reader;
    if (!reader.init(data, size, kLimits).ok()) return 0;
    consume(reader.validate());
  }
  {
    MessageReader reader;
    (void)reader.init(data, size, kLimits);
    auto root = reader.getRoot<ours::AllKinds>();
    if (root.ok()) touchAllKinds(root.value());
  }
  {
    MessageReader reader;
    (void)reader.init(data, size, kLimits);
    auto root = reader.getRoot<ours::TraceService::BpfParams>();
    if (root.ok()) touchBpf(root.value());
  }
  {
    Echo server;
    alignas(8) static uint8_t reply[4096];
    auto result = sonde::capnp::serveRequest(
        server, sonde::capnp::Label{ours::Calculator::kInterfaceId, 1},
        sonde::capnp::Bytes{data, size}, sonde::capnp::MutableBytes{reply, sizeof reply}, kLimits);
    sink = sink + static_cast<uint64_t>(result.status);
  }
  return 0;
}
