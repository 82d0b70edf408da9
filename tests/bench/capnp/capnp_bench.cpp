// SPDX-License-Identifier: MIT
// Benchmark: encode and decode a BPF_PROG_LOAD request (4,096 instructions) with capnpc-sonde code
// vs the official library.
#include <benchmark/benchmark.h>
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "trace.capnp.h"
#include "trace.capnp.hpp"

namespace {

namespace ours = sonde::proto;
constexpr size_t kInsns = 4096;

const std::vector<uint64_t>& instructions() {
  static std::vector<uint64_t> insns = [] {
    std::vector<uint64_t> v(kInsns);
    for (size_t i = 0; i < kInsns; ++i) v[i] = 0x00000000000000b7ull | (i << 32);  // r0 = i
    v.back() = 0x95;                                                               // exit
    return v;
  }();
  return insns;
}

const uint32_t kFdArray[] = {3, 4, 5, 6};

// ---- encode ----

// A BPF_PROG_LOAD as the POSIX server forwards it: the attr, the caller, the instructions.
void buildOurs(sonde::capnp::MessageBuilder& builder) {
  auto request = builder.initRoot<ours::TraceService::BpfParams>().initRequest();
  uint8_t attr[144] = {2};
  request.setCommand(5);
  request.setAttr(attr, sizeof attr);
  request.setAttrSize(sizeof attr);
  auto caller = request.initCaller();
  caller.setComm("handle_exec");
  caller.setCapBpf(true);
  auto fds = caller.initDescriptors(4);
  for (uint32_t i = 0; i < 4; ++i) fds.set(i, static_cast<int32_t>(kFdArray[i]));
  auto range = request.initMemory(1)[0];
  range.setAddress(0x10000);
  range.setLength(kInsns * 8);
  range.setData(instructions().data(), kInsns * 8);
}

void buildOfficial(capnp::MessageBuilder& builder) {
  auto request = builder.initRoot<TraceService::BpfParams>().initRequest();
  uint8_t attr[144] = {2};
  request.setCommand(5);
  request.setAttr(kj::arrayPtr(attr, sizeof attr));
  request.setAttrSize(sizeof attr);
  auto caller = request.initCaller();
  caller.setComm("handle_exec");
  caller.setCapBpf(true);
  auto fds = caller.initDescriptors(4);
  for (uint32_t i = 0; i < 4; ++i) fds.set(i, static_cast<int32_t>(kFdArray[i]));
  auto range = request.initMemory(1)[0];
  range.setAddress(0x10000);
  range.setLength(kInsns * 8);
  range.setData(kj::arrayPtr(reinterpret_cast<const kj::byte*>(instructions().data()), kInsns * 8));
}

void EncodeOurs(benchmark::State& state) {
  std::vector<uint64_t> buffer(kInsns + 256);
  for (auto _ : state) {
    sonde::capnp::MessageBuilder builder(buffer.data(), buffer.size() * 8);
    buildOurs(builder);
    auto bytes = builder.finish();
    benchmark::DoNotOptimize(bytes.value().data);
  }
}

void EncodeOfficial(benchmark::State& state) {
  for (auto _ : state) {
    // One first segment large enough for the whole request, like ours (no far pointers).
    capnp::MallocMessageBuilder builder(kInsns + 256);
    buildOfficial(builder);
    auto segments = builder.getSegmentsForOutput();
    benchmark::DoNotOptimize(segments.begin());
  }
}

// ---- decode: parse, reach every field, read the first and last instruction ----

std::vector<uint64_t> encoded() {
  std::vector<uint64_t> buffer(kInsns + 256);
  sonde::capnp::MessageBuilder builder(buffer.data(), buffer.size() * 8);
  buildOurs(builder);
  buffer.resize(builder.finish().value().size / 8);
  return buffer;
}

template <bool kValidateFirst>
void DecodeOurs(benchmark::State& state) {
  auto message = encoded();
  for (auto _ : state) {
    sonde::capnp::MessageReader reader;
    if (!reader.init(message.data(), message.size() * 8).ok()) state.SkipWithError("init");
    if (kValidateFirst && !reader.validate().ok()) state.SkipWithError("validate");
    auto request = reader.getRoot<ours::TraceService::BpfParams>().value().getRequest().value();
    uint64_t sum = request.getCommand() + request.getAttrSize() + request.getAttr().value().size;
    auto caller = request.getCaller().value();
    auto insns = request.getMemory().value()[0].getData().value();
    uint64_t first, last;
    std::memcpy(&first, insns.bytes, 8);
    std::memcpy(&last, insns.bytes + insns.size - 8, 8);
    sum += first + last + caller.getComm().value().size;
    auto fds = caller.getDescriptors().value();
    for (uint32_t i = 0; i < fds.size(); ++i) sum += static_cast<uint32_t>(fds[i]);
    benchmark::DoNotOptimize(sum);
  }
}

void DecodeOfficial(benchmark::State& state) {
  auto message = encoded();
  for (auto _ : state) {
    capnp::FlatArrayMessageReader reader(
        kj::arrayPtr(reinterpret_cast<const capnp::word*>(message.data()), message.size()));
    auto request = reader.getRoot<TraceService::BpfParams>().getRequest();
    uint64_t sum = request.getCommand() + request.getAttrSize() + request.getAttr().size();
    auto caller = request.getCaller();
    auto insns = request.getMemory()[0].getData();
    uint64_t first, last;
    std::memcpy(&first, insns.begin(), 8);
    std::memcpy(&last, insns.end() - 8, 8);
    sum += first + last + caller.getComm().size();
    for (auto fd : caller.getDescriptors()) sum += static_cast<uint32_t>(fd);
    benchmark::DoNotOptimize(sum);
  }
}

BENCHMARK(EncodeOurs);
BENCHMARK(EncodeOfficial);
BENCHMARK(DecodeOurs<false>)->Name("DecodeOurs");
BENCHMARK(DecodeOurs<true>)->Name("DecodeOursValidated");
BENCHMARK(DecodeOfficial);

// Prints the ratios (ours / official) after the table, from the same run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.iterations > 0)
        nanoseconds_[run.benchmark_name()] =
            run.GetAdjustedCPUTime();  // CPU time: the machine is shared
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    auto ratio = [&](const char* label, const std::string& a, const std::string& b) {
      if (nanoseconds_.count(a) && nanoseconds_.count(b) && nanoseconds_[b] > 0) {
        std::printf("capnp %s: ours/official = %.2f (%.0f ns vs %.0f ns)\n", label,
                    nanoseconds_[a] / nanoseconds_[b], nanoseconds_[a], nanoseconds_[b]);
      }
    };
    ratio("encode BPF_PROG_LOAD 4096 insns", "EncodeOurs", "EncodeOfficial");
    ratio("decode BPF_PROG_LOAD 4096 insns", "DecodeOurs", "DecodeOfficial");
    ratio("decode+validate BPF_PROG_LOAD 4096 insns", "DecodeOursValidated", "DecodeOfficial");
  }

 private:
  std::map<std::string, double> nanoseconds_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
