# SPDX-License-Identifier: MIT
# The trace service: Linux's bpf() commands, perf_event_open and its ioctls, mmap grants,
# tracefs reads and writes, and probe registration. Field names follow Linux's bpf_attr and
# perf_event_attr; user-space pointers become Data (the POSIX server copies the bytes in and
# out), file descriptors become trace-server handles (common.capnp).
@0xad18e48af549444d;

using Common = import "common.capnp";

# ---- bpf() ----------------------------------------------------------------------------------

# bpf(2) travels as Linux's own bytes: the attr as the caller passed it, and the parts of the
# caller's memory the command reads, copied in by the POSIX server. The trace core applies
# Linux's rules to the attr directly (CHECK_ATTR, tail bytes, output fields), so no field of
# any command is re-encoded here (docs/TRACE.md, "The bpf() call over IPC").

# Bytes of the caller's memory: [address, address + length); `data` holds the readable prefix
# (shorter than `length` where the caller's memory faulted).
struct UserRange {
  address @0 :UInt64;
  length @1 :UInt64;
  data @2 :Data;
}

# Who calls: the Linux process on whose behalf the POSIX server asks.
struct Caller {
  pid @0 :Int32;                     # thread id
  tgid @1 :Int32;
  uid @2 :UInt32;
  gid @3 :UInt32;
  comm @4 :Text;
  capBpf @5 :Bool;                   # CAP_BPF or CAP_SYS_ADMIN
  capPerfmon @6 :Bool;
  # The caller's descriptor table as the trace server needs it: entry n for Linux fd n is
  # the handle behind it, 0 for an open fd that is no trace-server object, -1 for a closed one.
  descriptors @7 :List(Int32);
}

# The Linux calls that travel as a BpfRequest: their user pointers read and written the same way.
enum LinuxCall {
  bpf @0;             # bpf(command, attr, attrSize)
  perfEventOpen @1;   # perf_event_open(attrAddress, pid, cpu, group_fd, flags): arguments 0..3
  perfEventIoctl @2;  # ioctl(fd, request, argument) on a perf event: arguments 0..2
  perfEventRead @3;   # read(fd, buffer, count) of a perf event: arguments 0..2
  objectFdinfo @4;    # /proc/PID/fdinfo/FD's lines for a BPF object: argument 0 the fd, 1 the
                      # address of the text, 2 its room; the result is the text's length
}

struct BpfRequest {
  command @0 :UInt32;                # enum bpf_cmd
  attr @1 :Data;                     # the first min(size, 4096) bytes of the caller's attr
  attrSize @2 :UInt32;               # bpf()'s size argument
  attrAddress @3 :UInt64;            # where the attr is in the caller (output fields go there)
  caller @4 :Caller;
  memory @5 :List(UserRange);        # ranges the previous tries asked for
  # The trace-server instance the caller's handles belong to. Another instance answers ESTALE
  # without running anything: the caller asks for the current instance (method `instance`)
  # and sends the handles of the dead one as closed descriptors.
  instance @6 :UInt64;
  operation @7 :LinuxCall;           # bpf unless set
  arguments @8 :List(UInt64);        # the call's other arguments, as Linux passes them
}

struct BpfOutcome {
  union {
    # The command ran: bpf()'s return value (a new handle, 0, or -errno), and what it wrote
    # into the caller's memory, in order (the POSIX server copies each out).
    done :group {
      result @0 :Int64;
      writes @1 :List(UserRange);
      newHandle @4 :Bool;            # `result` is a new handle the caller wraps in an fd
    }
    # The command needs bytes of the caller not sent yet and changed nothing: call again with
    # this range added (copy what is readable).
    needMemory :group {
      address @2 :UInt64;
      length @3 :UInt64;
    }
  }
}

# ---- perf_event_open ------------------------------------------------------------------------

# struct perf_event_attr; the bit fields of its flags word are split out by name.
struct PerfEventAttr {
  type @0 :UInt32;                   # PERF_TYPE_*, or the dynamic kprobe/uprobe PMU type
  size @1 :UInt32;
  config @2 :UInt64;
  samplePeriod @3 :UInt64;           # or sample_freq when `freq` is set
  sampleType @4 :UInt64;
  readFormat @5 :UInt64;
  disabled @6 :Bool;
  inherit @7 :Bool;
  pinned @8 :Bool;
  exclusive @9 :Bool;
  excludeUser @10 :Bool;
  excludeKernel @11 :Bool;
  excludeHv @12 :Bool;
  excludeIdle @13 :Bool;
  mmap @14 :Bool;
  comm @15 :Bool;
  freq @16 :Bool;
  enableOnExec @17 :Bool;
  task @18 :Bool;
  watermark @19 :Bool;
  preciseIp @20 :UInt8;
  sampleIdAll @21 :Bool;
  wakeupEvents @22 :UInt32;          # or wakeup_watermark when `watermark` is set
  bpType @23 :UInt32;
  config1 @24 :UInt64;               # kprobe_func / uprobe_path (see probeName)
  config2 @25 :UInt64;               # kprobe_addr / probe_offset
  probeName @26 :Text;               # the string config1 points to, copied by the POSIX server
  branchSampleType @27 :UInt64;
  sampleRegsUser @28 :UInt64;
  sampleStackUser @29 :UInt32;
  clockid @30 :Int32;
  sampleRegsIntr @31 :UInt64;
  auxWatermark @32 :UInt32;
  sampleMaxStack @33 :UInt16;
  flagsRaw @34 :UInt64;              # the whole flags word, for bits not named above
}

# perf event ioctls (PERF_EVENT_IOC_*).
enum PerfIoctl {
  enable @0;
  disable @1;
  refresh @2;
  reset @3;
  period @4;
  setOutput @5;
  setFilter @6;
  id @7;
  setBpf @8;
  pauseOutput @9;
  queryBpf @10;
  modifyAttributes @11;
}


# ---- probes ---------------------------------------------------------------------------------

enum ProbeKind {
  kprobe @0;
  kretprobe @1;
  uprobe @2;
  uretprobe @3;
  tracepoint @4;
  rawTracepoint @5;
}

struct ProbeSpec {
  kind @0 :ProbeKind;
  target :union {
    symbol :group {                  # kprobes: a function of the POSIX server or microkernel
      name @1 :Text;
      offset @2 :UInt64;
    }
    address @3 :UInt64;              # kprobes at an absolute address
    file :group {                    # uprobes: a path and a file offset
      path @4 :Text;
      offset @5 :UInt64;
      referenceCounterOffset @6 :UInt64;
    }
    tracepoint :group {
      category @7 :Text;
      name @8 :Text;
    }
  }
  pid @9 :Int32 = -1;                # -1: every process
  maxActive @10 :UInt32;             # kretprobe maxactive
}

# ---- the interface --------------------------------------------------------------------------

interface TraceService {
  # One bpf(2) call; repeat with more memory while the outcome is needMemory.
  bpf @0 (request :BpfRequest) -> (outcome :BpfOutcome);
  # Drops a handle (the last close() of the fd wrapping it); ESTALE (nothing dropped) when
  # `instance` is not the server's.
  close @1 (handle :UInt32, instance :UInt64) -> ();

  # perf_event_open(2) and the calls on its fd.
  perfEventOpen @2 (attr :PerfEventAttr, pid :Int32, cpu :Int32, groupHandle :UInt32, flags :UInt64)
      -> (eventHandle :UInt32);
  perfEventIoctl @3 (eventHandle :UInt32, request :PerfIoctl, argument :UInt64, filter :Text)
      -> (result :Int64);
  # Grants the pages of a perf ring, BPF ring buffer or mmapable map.
  # mmap(length, PROT_WRITE if `writable`, MAP_SHARED if `shared`, fd, offset) of the map or
  # perf event behind `handle` (of `instance`): its pages are shared as Frame caps copied into
  # the exchange CNode (sys::kServerSlotExchange) from slot `firstSlot` on, with Write only
  # when `writable`, one per page, in order. `result` is 0 or -errno (Linux's mmap errors);
  # `mapping` is the mapping's own handle, which keeps the object alive: close it at munmap.
  mmapGrant @4 (handle :UInt32, offset :UInt64, length :UInt64, writable :Bool, shared :Bool,
                instance :UInt64, firstSlot :UInt32) -> (result :Int64, mapping :UInt32, pages :UInt32);
  # tracefs (debugfs tracing/) files the trace server owns, by path below the tracing root.
  # A read with nothing to give yet (trace_pipe) answers wouldBlock; the POSIX server waits
  # and asks again, so its own loop never blocks on the trace server.
  tracefsRead @5 (path :Text, offset :UInt64, maxBytes :UInt32, blocking :Bool)
      -> (data :Data, endOfFile :Bool, wouldBlock :Bool);
  tracefsWrite @6 (path :Text, offset :UInt64, data :Data, append :Bool) -> (written :UInt32);

  # Probe registration for the probe manager (kprobe_events, uprobe_events, perf probes).
  registerProbe @7 (probe :ProbeSpec) -> (probeId :UInt32);
  unregisterProbe @8 (probeId :UInt32) -> ();

  # Which instance serves: the root task starts instance 1 and one more at every restart.
  instance @9 () -> (instance :UInt64);

  # A tracefs directory's entries, one name per line, a directory's name ending in '/'
  # (ENOTDIR for a file, ENOENT for nothing): the POSIX server's readdir and path lookup.
  tracefsList @10 (path :Text) -> (names :Data);

  # Crash isolation drill (root only, through /proc/sonde/trace-server): the server faults on
  # purpose, now, inside its next probe hit (while a POSIX thread waits on the breakpoint) or
  # inside its next return-probe call (while the POSIX thread waits in the return trampoline).
  crash @11 (atNextHit :Bool, atNextReturn :Bool) -> ();

  # poll() of a trace-server fd: Linux's event mask (EPOLLIN when a ring buffer or a perf
  # event's ring has data to read; what vfs_poll gives files without a poll method otherwise).
  poll @12 (handle :UInt32, instance :UInt64) -> (events :UInt32);

  # ---- uprobes: the trace server owns them, the POSIX server arms them in its processes ----
  # The uprobes armed now (perf events of the uprobe PMU, enabled uprobe_events). `generation`
  # changes whenever the set does; asked with the current one, the answer is `unchanged`.
  # The POSIX server asks after the calls that can change the set and arms every site in every
  # process that maps the file executable (at exec and mmap too).
  uprobeSites @13 (generation :UInt64) -> (generation :UInt64, unchanged :Bool,
                                           instance :UInt64, sites :List(UprobeSite));
  # How to run the instruction at `address` (its bytes, up to 16) out of line: decoded here.
  # `result` 0, or -errno when it cannot be probed (the site is then not armed in that process).
  uprobePrepare @14 (bytes :Data, address :UInt64) -> (result :Int64, plan :UprobePlan);
  # A hit of the sites `probes` in the process the current-task record names (the POSIX server
  # publishes it first; helpers read that process's memory through its page map). `registers`
  # are the thread's UserRegisters (19 words) at the probe; for a return, rip is the address
  # the function returns to and `function` the probed function.
  uprobeHit @15 (probes :List(UInt32), registers :List(UInt64), isReturn :Bool,
                 function :UInt64, instance :UInt64) -> ();
}

struct UprobeSite {
  probe @0 :UInt32;                  # the trace server's number for the site
  path @1 :Text;                     # absolute, as the POSIX server resolved it at open
  offset @2 :UInt64;                 # file offset of the probed instruction
  isReturn @3 :Bool;                 # uretprobe: the hit comes when the function returns
  pid @4 :Int32 = -1;                # only this process (a perf event's pid), -1 every one
  refCtrOffset @5 :UInt64;           # file offset of the USDT semaphore (a u16) it counts, or 0
}

enum UprobeAction {
  step @0;                           # run `slot` out of line (the kernel single-steps it)
  jump @1;                           # emulated: rip = target
  branch @2;                         # emulated: rip = target if `condition` holds, else next
  call @3;                           # emulated: push the next address, rip = target
}

struct UprobePlan {
  action @0 :UprobeAction;
  length @1 :UInt8;                  # the original instruction's length
  slot @2 :Data;                     # step: the bytes to run out of line, as long as the original
  fixupRegister @3 :Int8 = -1;       # step: UserRegisters index holding the next address
  target @4 :UInt64;
  condition @5 :UInt8;               # branch: x86 condition code (0..15)
}
