// SPDX-License-Identifier: MIT
// The POSIX server's connection to the trace server, and the Linux calls forwarded on it.
#pragma once

#include <stdint.h>

#include "sys/server_start.hpp"
#include "trace.capnp.hpp"

namespace posix {

// Connects to the trace service if the root task gave one (kStartFlagHasTrace).
void init_trace_service(const sys::ServerStartInfo& info);
bool trace_service_available();
// The connection, or nullptr without a trace server.
sonde::proto::TraceService::Client* trace_service_client();

// The last close of a kTrace file.
void close_trace_handle(uint32_t handle, uint64_t instance);

}  // namespace posix
