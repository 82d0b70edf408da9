// SPDX-License-Identifier: MIT
// The trace service's clients, told apart by the badge of the endpoint cap a call came through:
// the POSIX server (one session for every Linux process it serves, fds mapped per call) and
// native Sonde programs (one session each: their handles are their own, as a Linux process's
// fds are). docs/NATIVE.md describes what a native client sees.
#pragma once

#include <stdint.h>

#include "rt/allocator.hpp"
#include "rt/result.hpp"
#include "trace/objects.hpp"
#include "trace/session.hpp"

namespace trace {

enum class ClientKind : uint8_t { kPosix, kNative };

struct Client {
  ClientKind kind = ClientKind::kPosix;
  Session* session = nullptr;
};

// Which badges the root task hands out: one for the POSIX server, and a range for native
// programs (sys/server_start.hpp has the numbers the two servers agree on).
struct ClientBadges {
  uint64_t posix = 1;
  uint64_t first_native = 0;
  uint32_t native_count = 0;
};

// A native client's identity in every call: the fields of its BpfRequest.caller are not read.
// bpf_get_current_pid_tgid (PROG_TEST_RUN) answers 0, comm "native"; uid and gid 0. Its
// privileges (CAP_BPF, CAP_PERFMON) come with the cap: whoever holds a badged endpoint cap has
// them, so the root task decides by handing it out.
inline constexpr int32_t kNativePid = 0;
inline constexpr uint32_t kNativeUid = 0;
inline constexpr char kNativeComm[] = "native";

class ClientSessions {
 public:
  static constexpr uint32_t kMaxNativeClients = 16;

  ClientSessions(ObjectTable& objects, rt::Allocator& allocator, Session& posix,
                 const ClientBadges& badges)
      : objects_(objects), allocator_(allocator), posix_(posix), badges_(badges) {
    if (badges_.native_count > kMaxNativeClients) badges_.native_count = kMaxNativeClients;
  }
  ClientSessions(const ClientSessions&) = delete;
  ClientSessions& operator=(const ClientSessions&) = delete;
  ~ClientSessions();

  // The client behind `badge`: the POSIX server's session, or a native client's own, made at
  // its first call (ENOMEM when there is no memory for it). EPERM for a badge no client holds.
  [[nodiscard]] rt::Result<Client> find(uint64_t badge);

  // A native client's session, nullptr before its first call (for tests and statistics).
  Session* native_session(uint32_t index) const {
    return index < kMaxNativeClients ? native_[index] : nullptr;
  }
  uint32_t native_clients() const;

 private:
  ObjectTable& objects_;
  rt::Allocator& allocator_;
  Session& posix_;
  ClientBadges badges_;
  Session* native_[kMaxNativeClients] = {};
};

}  // namespace trace
