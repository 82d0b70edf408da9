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

void buildOurs(sonde::capnp::MessageBuilder& builder) {
  auto attr = builder.initRoot<ours::TraceService::ProgLoadParams>().initAttr();
  attr.setProgType(2);
  attr.setInsns(instructions().data(), kInsns * 8);
  attr.setLicense("GPL");
  attr.setLogLevel(1);
  attr.setLogSize(65536);
  attr.setProgName("handle_exec");
  attr.setExpectedAttachType(0);
  auto fds = attr.initFdArray(4);
  for (uint32_t i = 0; i < 4; ++i) fds.set(i, kFdArray[i]);
}

void buildOfficial(capnp::MessageBuilder& builder) {
  auto attr = builder.initRoot<TraceService::ProgLoadParams>().initAttr();
  attr.setProgType(2);
  attr.setInsns(kj::arrayPtr(reinterpret_cast<const kj::byte*>(instructions().data()), kInsns * 8));
  attr.setLicense("GPL");
  attr.setLogLevel(1);
  attr.setLogSize(65536);
  attr.setProgName("handle_exec");
  attr.setExpectedAttachType(0);
  attr.setFdArray(kj::arrayPtr(kFdArray, 4));
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
    auto attr = reader.getRoot<ours::TraceService::ProgLoadParams>().value().getAttr().value();
    uint64_t sum =
        attr.getProgType() + attr.getLogLevel() + attr.getLogSize() + attr.getExpectedAttachType();
    auto insns = attr.getInsns().value();
    uint64_t first, last;
    std::memcpy(&first, insns.bytes, 8);
    std::memcpy(&last, insns.bytes + insns.size - 8, 8);
    sum += first + last + attr.getLicense().value().size + attr.getProgName().value().size;
    auto fds = attr.getFdArray().value();
    for (uint32_t i = 0; i < fds.size(); ++i) sum += fds[i];
    benchmark::DoNotOptimize(sum);
  }
}

void DecodeOfficial(benchmark::State& state) {
  auto message = encoded();
  for (auto _ : state) {
    capnp::FlatArrayMessageReader reader(
        kj::arrayPtr(reinterpret_cast<const capnp::word*>(message.data()), message.size()));
    auto attr = reader.getRoot<TraceService::ProgLoadParams>().getAttr();
    uint64_t sum =
        attr.getProgType() + attr.getLogLevel() + attr.getLogSize() + attr.getExpectedAttachType();
    auto insns = attr.getInsns();
    uint64_t first, last;
    std::memcpy(&first, insns.begin(), 8);
    std::memcpy(&last, insns.end() - 8, 8);
    sum += first + last + attr.getLicense().size() + attr.getProgName().size();
    for (auto fd : attr.getFdArray()) sum += fd;
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
