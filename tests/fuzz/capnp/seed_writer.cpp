// SPDX-License-Identifier: MIT
// Writes valid capnp messages (built with the runtime) as seeds for the reader fuzz target.
#include <cstdio>
#include <vector>

#include "test.capnp.hpp"
#include "trace.capnp.hpp"

namespace ours = sonde::proto;

static bool save(const char* path, sonde::capnp::MessageBuilder& builder) {
  auto bytes = builder.finish();
  if (!bytes.ok()) return false;
  FILE* out = std::fopen(path, "wb");
  if (out == nullptr) return false;
  bool ok = std::fwrite(bytes.value().data, 1, bytes.value().size, out) == bytes.value().size;
  return std::fclose(out) == 0 && ok;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s ALLKINDS PROGLOAD ECHO\n", argv[0]);
    return 2;
  }
  std::vector<uint64_t> buffer(256);
  {
    sonde::capnp::MessageBuilder builder(buffer.data(), buffer.size() * 8);
    auto root = builder.initRoot<ours::AllKinds>();
    root.setTextField("seed");
    root.initStructField().initWeights(2).set(1, 2.0);
    root.initTextList(2).setText(1, "x");
    root.initStructList(2)[1].setLabel("y");
    root.initListList(1).init(0, 2).set(1, 5);
    root.initStructListList(1).init(0, 1)[0].setId(3);
    root.initBoolList(9).set(8, true);
    root.initPair().initRight().setId(1);
    root.getSettings().getMode().setCareful("z");
    if (!save(argv[1], builder)) return 1;
  }
  {
    sonde::capnp::MessageBuilder builder(buffer.data(), buffer.size() * 8);
    auto request = builder.initRoot<ours::TraceService::BpfParams>().initRequest();
    uint64_t insns[4] = {0xb7, 0x95, 0, 0};
    request.setCommand(5);
    request.setAttr(insns, sizeof insns);
    request.initCaller().initDescriptors(2).set(1, 9);
    auto range = request.initMemory(1)[0];
    range.setAddress(0x1000);
    range.setData(insns, sizeof insns);
    if (!save(argv[2], builder)) return 1;
  }
  {
    sonde::capnp::MessageBuilder builder(buffer.data(), buffer.size() * 8);
    uint8_t payload[16] = {1, 2, 3};
    builder.initRoot<ours::Calculator::EchoParams>().setPayload(payload, sizeof payload);
    if (!save(argv[3], builder)) return 1;
  }
  return 0;
}
