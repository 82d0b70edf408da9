// SPDX-License-Identifier: MIT
// ClientSessions: the POSIX server's session and the native clients' own, by badge.
#include "clients.hpp"

#include "rt/errno.hpp"
#include "rt/new.hpp"

namespace trace {

ClientSessions::~ClientSessions() {
  for (Session*& session : native_) {
    if (session == nullptr) continue;
    session->~Session();  // closes every handle the client left open
    allocator_.deallocate(session, sizeof(Session));
    session = nullptr;
  }
}

rt::Result<Client> ClientSessions::find(uint64_t badge) {
  if (badge == badges_.posix) return Client{ClientKind::kPosix, &posix_};
  if (badge < badges_.first_native || badge - badges_.first_native >= badges_.native_count) {
    return rt::err(rt::kEPERM, "no client holds this badge");
  }
  uint64_t index = badge - badges_.first_native;
  if (native_[index] == nullptr) {
    void* memory = allocator_.allocate(sizeof(Session), alignof(Session));
    if (memory == nullptr) return rt::err(rt::kENOMEM, "no memory for a native client's session");
    // Privileges are set per call (Service::bpf): a native client always has them.
    native_[index] = new (memory) Session(objects_, true);
  }
  return Client{ClientKind::kNative, native_[index]};
}

uint32_t ClientSessions::native_clients() const {
  uint32_t count = 0;
  for (Session* session : native_) count += session != nullptr ? 1 : 0;
  return count;
}

}  // namespace trace
