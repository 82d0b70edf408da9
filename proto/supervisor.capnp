# SPDX-License-Identifier: MIT
# The root task's supervisor: starts servers, reports their health, restarts them.
@0xd103f2a2c29e5a09;

using Common = import "common.capnp";

enum ServerKind {
  trace @0;
  posix @1;
}

enum Health {
  starting @0;
  running @1;
  crashed @2;      # dead, restart pending or refused
  restarting @3;
  stopped @4;
}

struct ServerStatus {
  server @0 :ServerKind;
  health @1 :Health;
  instance @2 :UInt32;        # increases by one at every (re)start
  restarts @3 :UInt32;
  startedAt @4 :Common.Timestamp;
  lastExit :union {
    none @5 :Void;
    fault :group {            # the fault that killed the previous instance
      vector @6 :UInt8;
      errorCode @7 :UInt64;
      instructionPointer @8 :UInt64;
    }
    exitCode @9 :Int32;
  }
}

interface Supervisor {
  # Starts a server that is not running; EEXIST if it already runs.
  start @0 (server :ServerKind, arguments :List(Text)) -> (status :ServerStatus);
  # The current state of one server, or of all when `all` is set.
  health @1 (server :ServerKind, all :Bool) -> (servers :List(ServerStatus));
  # Stops (if needed) and starts a fresh instance; clients of the old instance get ESRCH.
  restart @2 (server :ServerKind, reason :Text) -> (status :ServerStatus);
}
