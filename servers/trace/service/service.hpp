// SPDX-License-Identifier: MIT
// The trace server's TraceService (proto/trace.capnp) over the core: one client connection.
#pragma once

#include <stdint.h>

#include "rt/allocator.hpp"
#include "task_environment.hpp"
#include "trace.capnp.hpp"
#include "trace/forwarded_memory.hpp"
#include "trace/session.hpp"

namespace trace {

// Limits of one bpf() call as the IPC carries it.
inline constexpr uint32_t kMaxForwardedRanges = 64;
inline constexpr uint32_t kMaxDescriptors = 4096;

// What serve_bpf needs from a BpfRequest, already checked.
struct BpfServiceCall {
  int command;
  const uint8_t* attr;  // min(attr_size, 4096) bytes
  uint32_t attr_size;
  uint64_t attr_address;
  bool privileged;
  const int32_t* descriptors;
  uint32_t descriptor_count;
  const ForwardedMemory::Range* ranges;
  uint32_t range_count;
};

struct BpfServiceOutcome {
  bool need_memory = false;
  ForwardedMemory::Miss miss = {};
  int64_t result = 0;  // bpf()'s value or -errno
};

// Runs one try of a bpf() call: its writes land in `write_log` (see ForwardedMemory). A try
// that missed memory leaves nothing behind (a handle it made is closed again).
BpfServiceOutcome serve_bpf(Session& session, const BpfServiceCall& call, uint8_t* write_log,
                            uint64_t write_capacity, uint64_t& log_size);

class Service final : public sonde::proto::TraceService::Server {
 public:
  // `write_log` holds the writes of one call; the reply carries them (so it needs about as
  // much room in the reply buffer).
  Service(Session& session, TaskEnvironment& environment, uint8_t* write_log,
          uint64_t write_capacity, uint64_t instance = 1)
      : instance_(instance),
        session_(session),
        environment_(environment),
        write_log_(write_log),
        write_capacity_(write_capacity) {}

  rt::Result<void> bpf(sonde::proto::TraceService::BpfParams::Reader params,
                       sonde::proto::TraceService::BpfResults::Builder results) override;
  rt::Result<void> close(sonde::proto::TraceService::CloseParams::Reader params,
                         sonde::proto::TraceService::CloseResults::Builder results) override;
  rt::Result<void> instance(sonde::proto::TraceService::InstanceParams::Reader params,
                            sonde::proto::TraceService::InstanceResults::Builder results) override;

 private:
  uint64_t instance_;
  Session& session_;
  TaskEnvironment& environment_;
  uint8_t* write_log_;
  uint64_t write_capacity_;
};

}  // namespace trace
