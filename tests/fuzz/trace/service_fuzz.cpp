// SPDX-License-Identifier: MIT
// Hostile proto/trace.capnp requests to the trace server's Service: the first byte picks the
// method, the rest is the message. Every answer must be a reply (an errno for garbage), never a
// crash, a sanitizer finding or memory kept after the session closes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "probe_targets.hpp"
#include "service.hpp"
#include "support/malloc_allocator.hpp"
#include "trace/tracefs.hpp"
#include "trace/xol.hpp"

namespace {

class Environment final : public trace::TaskEnvironment {
 public:
  uint32_t current_cpu() override { return 0; }
  uint32_t possible_cpus() override { return 1; }
  uint64_t monotonic_ns() override { return 1; }
  uint64_t boot_ns() override { return 1; }
  uint32_t random_u32() override { return 4; }
  long read_user(void*, uint64_t, uint32_t) override { return -14; }
  long read_kernel(void*, uint64_t, uint32_t) override { return -14; }
  uint64_t current_function_ip() override { return 0; }
  long capture_stack(bool, uint32_t, uint64_t*, uint32_t) override { return -14; }
  long trace_output(const char*, uint32_t) override { return 0; }
};

// The uprobe methods over the real decoder (uprobePrepare's bytes are hostile too); sites and
// hits have nothing behind them but the Service's own checks.
class Uprobes final : public trace::UprobeBackend {
 public:
  void sites(uint64_t known,
             sonde::proto::TraceService::UprobeSitesResults::Builder results) override {
    results.setGeneration(2);
    results.setUnchanged(known == 2);
  }
  int64_t prepare(const uint8_t* bytes, size_t size, uint64_t address,
                  sonde::proto::UprobePlan::Builder plan) override {
    auto planned = trace::plan_out_of_line(bytes, size, address);
    if (!planned.ok()) return -static_cast<int64_t>(planned.error().code);
    plan.setLength(planned.value().length);
    plan.setSlot(planned.value().slot, planned.value().slot_length);
    return 0;
  }
  void hit(const uint32_t* probes, uint32_t count, const uint64_t* registers, bool,
           uint64_t) override {
    for (uint32_t i = 0; i < count; ++i) sum_ += probes[i];
    for (uint32_t i = 0; i < kRegisterWords; ++i) sum_ += registers[i];
  }

 private:
  uint64_t sum_ = 0;
};

// The methods a client can call (ordinals of TraceService).
constexpr uint16_t kMethods[] = {0, 1, 2,  3,  4,  5,  6, 7,
                                 8, 9, 10, 12, 13, 14, 15};  // not 11: crash

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static test_support::MallocAllocator allocator;
  static Environment environment;
  static trace::UnknownProbeTargets targets;
  static trace::Tracefs* tracefs = [] {
    auto* t = new trace::Tracefs(allocator, targets);
    (void)t->init();
    return t;
  }();
  static std::vector<uint8_t> write_log(1 << 20);
  trace::ObjectTable objects(allocator, environment);
  trace::Session session(objects, false);
  trace::Service service(session, environment, *tracefs, write_log.data(), write_log.size(), 1);
  static Uprobes uprobes;
  service.set_uprobes(&uprobes);
  // The message must be word-aligned, as the transport hands it over.
  std::vector<uint64_t> message((size - 1 + 7) / 8 + 1, 0);
  std::memcpy(message.data(), data + 1, size - 1);
  static std::vector<uint64_t> reply(1 << 15);
  uint16_t method = kMethods[data[0] % (sizeof kMethods / sizeof kMethods[0])];
  (void)sonde::capnp::serveRequest(
      service, sonde::capnp::Label{sonde::proto::TraceService::kInterfaceId, method},
      sonde::capnp::Bytes{reinterpret_cast<const uint8_t*>(message.data()), size - 1},
      sonde::capnp::MutableBytes{reinterpret_cast<uint8_t*>(reply.data()), reply.size() * 8});
  session.close_all();
  return 0;
}
