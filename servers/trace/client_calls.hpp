// SPDX-License-Identifier: MIT
// One TraceService call on the service endpoint, answered for the client its badge names.
#pragma once

#include <stdint.h>

#include "clients.hpp"
#include "service.hpp"
#include "sonde/capnp/kernel_transport.hpp"
#include "sys/ipc.hpp"

namespace trace {

// Answers a call that arrived with `badge`, `label` and `length` words in `mr`; returns the
// reply's length in words (send it with sonde::capnp::kReplyLabel). The POSIX server's calls
// use `posix` (its shared buffers); a native client's travel inline only, both ways (at most
// sonde::capnp::kInlineBytes), in its own session. A badge no client holds gets EPERM.
uint64_t answer_client_call(Service& service, ClientSessions& clients,
                            const sonde::capnp::KernelServerConfig& posix, uint64_t badge,
                            uint64_t label, uint64_t length, sys::MessageRegisters& mr);

}  // namespace trace
