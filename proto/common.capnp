# SPDX-License-Identifier: MIT
# Types shared by every Sonde interface: errors, object kinds, handles.
@0x9632da35e8862c96;

# The body of every error reply (the reply's status is the same errno). The runtime writes and
# reads this layout by hand (libs/capnp ErrorLayout): errno at data byte 0, message pointer 0.
struct Error {
  errno @0 :Int32;     # a Linux errno value (positive), as rt/errno.hpp lists them
  message @1 :Text;    # a short explanation for people; may be empty
}

# What a trace-server handle names. Handles are the trace server's object ids; the POSIX server
# wraps each in a Linux file descriptor. Handle 0 means "none" (Linux's fd 0 never names a
# BPF object in these calls: callers translate).
enum ObjectKind {
  none @0;
  program @1;
  map @2;
  btf @3;
  link @4;
  perfEvent @5;
  ringBuffer @6;
  stats @7;  # BPF_ENABLE_STATS's fd
}

# A monotonic timestamp in nanoseconds since boot (the clock bpf_ktime_get_ns reads).
struct Timestamp {
  nanoseconds @0 :UInt64;
}
