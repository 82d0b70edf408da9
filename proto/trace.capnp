# SPDX-License-Identifier: MIT
# The trace service: Linux's bpf() commands, perf_event_open and its ioctls, mmap grants,
# tracefs reads and writes, and probe registration. Field names follow Linux's bpf_attr and
# perf_event_attr; user-space pointers become Data (the POSIX server copies the bytes in and
# out), file descriptors become trace-server handles (common.capnp).
@0xad18e48af549444d;

using Common = import "common.capnp";

# ---- bpf(): maps ----------------------------------------------------------------------------

struct MapCreateAttr {
  mapType @0 :UInt32;                # enum bpf_map_type
  keySize @1 :UInt32;
  valueSize @2 :UInt32;
  maxEntries @3 :UInt32;
  mapFlags @4 :UInt32;
  innerMapHandle @5 :UInt32;         # inner_map_fd
  numaNode @6 :UInt32;
  mapName @7 :Text;                  # at most BPF_OBJ_NAME_LEN - 1 bytes
  mapIfindex @8 :UInt32;
  btfHandle @9 :UInt32;              # btf_fd
  btfKeyTypeId @10 :UInt32;
  btfValueTypeId @11 :UInt32;
  btfVmlinuxValueTypeId @12 :UInt32;
  mapExtra @13 :UInt64;
}

# BPF_MAP_LOOKUP_BATCH, BPF_MAP_LOOKUP_AND_DELETE_BATCH, BPF_MAP_UPDATE_BATCH, BPF_MAP_DELETE_BATCH.
struct MapBatchAttr {
  mapHandle @0 :UInt32;
  inBatch @1 :Data;                  # null: start from the beginning
  keys @2 :Data;                     # count * key_size bytes (update and delete)
  values @3 :Data;                   # count * value_size bytes (update)
  count @4 :UInt32;                  # elements requested
  elemFlags @5 :UInt64;
  flags @6 :UInt64;
}

struct MapBatchResult {
  outBatch @0 :Data;
  keys @1 :Data;
  values @2 :Data;
  count @3 :UInt32;                  # elements processed
  done @4 :Bool;                     # Linux returns ENOENT with the last batch; this says so
}

# ---- bpf(): programs ------------------------------------------------------------------------

struct ProgLoadAttr {
  progType @0 :UInt32;               # enum bpf_prog_type
  insns @1 :Data;                    # insn_cnt * 8 bytes of struct bpf_insn
  license @2 :Text;
  logLevel @3 :UInt32;
  logSize @4 :UInt32;                # size of the caller's log buffer (0: no log)
  kernVersion @5 :UInt32;
  progFlags @6 :UInt32;
  progName @7 :Text;
  progIfindex @8 :UInt32;
  expectedAttachType @9 :UInt32;     # enum bpf_attach_type
  progBtfHandle @10 :UInt32;
  funcInfoRecSize @11 :UInt32;
  funcInfo @12 :Data;
  lineInfoRecSize @13 :UInt32;
  lineInfo @14 :Data;
  attachBtfId @15 :UInt32;
  attachTarget :union {
    none @16 :Void;
    attachProgHandle @17 :UInt32;    # attach_prog_fd
    attachBtfObjHandle @18 :UInt32;  # attach_btf_obj_fd
  }
  fdArray @19 :List(UInt32);         # handles for BPF_PSEUDO_MAP_IDX and friends
  coreRelos @20 :Data;
  coreReloRecSize @21 :UInt32;
}

struct ProgLoadResult {
  progHandle @0 :UInt32;
  log @1 :Text;                      # the verifier log, cut to log_size - 1 bytes
  logTrueSize @2 :UInt32;            # bytes the full log needs (Linux's log_true_size)
}

struct ProgAttachAttr {
  targetHandle @0 :UInt32;           # target_fd
  attachBpfHandle @1 :UInt32;        # attach_bpf_fd
  attachType @2 :UInt32;
  attachFlags @3 :UInt32;
  replaceBpfHandle @4 :UInt32;
}

struct ProgTestRunAttr {
  progHandle @0 :UInt32;
  dataIn @1 :Data;
  dataSizeOut @2 :UInt32;            # room the caller has for data_out
  repeat @3 :UInt32;
  ctxIn @4 :Data;
  ctxSizeOut @5 :UInt32;
  flags @6 :UInt32;
  cpu @7 :UInt32;
  batchSize @8 :UInt32;
}

struct ProgTestRunResult {
  retval @0 :UInt32;
  dataOut @1 :Data;
  dataSizeOut @2 :UInt32;            # full size; ENOSPC if it exceeds the caller's room
  ctxOut @3 :Data;
  ctxSizeOut @4 :UInt32;
  duration @5 :UInt32;               # average nanoseconds per run
}

# ---- bpf(): objects, ids, info --------------------------------------------------------------

struct ObjGetAttr {
  pathname @0 :Text;
  fileFlags @1 :UInt32;
}

struct LinkCreateAttr {
  progHandle @0 :UInt32;
  targetHandle @1 :UInt32;           # target_fd or target_ifindex
  attachType @2 :UInt32;
  flags @3 :UInt32;
  target :union {
    none @4 :Void;
    targetBtfId @5 :UInt32;
    iterInfo @6 :Data;
    perfEvent :group {
      bpfCookie @7 :UInt64;
    }
    kprobeMulti :group {
      flags @8 :UInt32;
      syms @9 :List(Text);
      addrs @10 :List(UInt64);
      cookies @11 :List(UInt64);
    }
    tracing :group {
      targetBtfId @12 :UInt32;
      cookie @13 :UInt64;
    }
  }
}

struct LinkUpdateAttr {
  linkHandle @0 :UInt32;
  newProgHandle @1 :UInt32;
  flags @2 :UInt32;
  oldProgHandle @3 :UInt32;          # only with BPF_F_REPLACE
}

struct BtfLoadResult {
  btfHandle @0 :UInt32;
  log @1 :Text;
  logTrueSize @2 :UInt32;
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

# Pages the trace server grants to a reader (perf ring, BPF ring buffer, mmapable array). The
# frame capabilities travel with the IPC reply; this says how to map them.
struct MmapGrant {
  firstPage @0 :UInt64;              # page offset within the object
  pageCount @1 :UInt32;
  writable @2 :Bool;
  readOnlyPages @3 :UInt32;          # trailing pages that must stay read-only (ring data)
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
  # bpf() commands, one method each (BPF_* names in comments).
  mapCreate @0 (attr :MapCreateAttr) -> (mapHandle :UInt32);                                       # MAP_CREATE
  mapLookupElem @1 (mapHandle :UInt32, key :Data, flags :UInt64) -> (value :Data);                 # MAP_LOOKUP_ELEM
  mapUpdateElem @2 (mapHandle :UInt32, key :Data, value :Data, flags :UInt64) -> ();               # MAP_UPDATE_ELEM
  mapDeleteElem @3 (mapHandle :UInt32, key :Data) -> ();                                           # MAP_DELETE_ELEM
  mapGetNextKey @4 (mapHandle :UInt32, key :Data, fromStart :Bool) -> (nextKey :Data);             # MAP_GET_NEXT_KEY
  progLoad @5 (attr :ProgLoadAttr) -> (result :ProgLoadResult);                                    # PROG_LOAD
  objPin @6 (handle :UInt32, pathname :Text, fileFlags :UInt32) -> ();                             # OBJ_PIN
  objGet @7 (attr :ObjGetAttr) -> (handle :UInt32, kind :Common.ObjectKind);                       # OBJ_GET
  progAttach @8 (attr :ProgAttachAttr) -> ();                                                      # PROG_ATTACH
  progDetach @9 (attr :ProgAttachAttr) -> ();                                                      # PROG_DETACH
  progTestRun @10 (attr :ProgTestRunAttr) -> (result :ProgTestRunResult);                          # PROG_TEST_RUN
  getNextId @11 (kind :Common.ObjectKind, startId :UInt32) -> (nextId :UInt32);                    # PROG/MAP/BTF/LINK_GET_NEXT_ID
  getHandleById @12 (kind :Common.ObjectKind, id :UInt32, openFlags :UInt32) -> (handle :UInt32);  # *_GET_FD_BY_ID
  objGetInfoByHandle @13 (handle :UInt32, infoLen :UInt32) -> (info :Data, kind :Common.ObjectKind); # OBJ_GET_INFO_BY_FD (Linux's bpf_*_info bytes)
  rawTracepointOpen @14 (name :Text, progHandle :UInt32) -> (linkHandle :UInt32);                   # RAW_TRACEPOINT_OPEN
  btfLoad @15 (btf :Data, logLevel :UInt32, logSize :UInt32) -> (result :BtfLoadResult);           # BTF_LOAD
  linkCreate @16 (attr :LinkCreateAttr) -> (linkHandle :UInt32);                                   # LINK_CREATE
  linkUpdate @17 (attr :LinkUpdateAttr) -> ();                                                     # LINK_UPDATE
  linkDetach @18 (linkHandle :UInt32) -> ();                                                       # LINK_DETACH
  mapLookupAndDeleteElem @19 (mapHandle :UInt32, key :Data, flags :UInt64) -> (value :Data);       # MAP_LOOKUP_AND_DELETE_ELEM
  mapFreeze @20 (mapHandle :UInt32) -> ();                                                         # MAP_FREEZE
  mapLookupBatch @21 (attr :MapBatchAttr) -> (result :MapBatchResult);                             # MAP_LOOKUP_BATCH
  mapLookupAndDeleteBatch @22 (attr :MapBatchAttr) -> (result :MapBatchResult);                    # MAP_LOOKUP_AND_DELETE_BATCH
  mapUpdateBatch @23 (attr :MapBatchAttr) -> (result :MapBatchResult);                             # MAP_UPDATE_BATCH
  mapDeleteBatch @24 (attr :MapBatchAttr) -> (result :MapBatchResult);                             # MAP_DELETE_BATCH
  progBindMap @25 (progHandle :UInt32, mapHandle :UInt32, flags :UInt32) -> ();                    # PROG_BIND_MAP

  # perf_event_open(2) and the calls on its fd.
  perfEventOpen @26 (attr :PerfEventAttr, pid :Int32, cpu :Int32, groupHandle :UInt32, flags :UInt64)
      -> (eventHandle :UInt32);
  perfEventIoctl @27 (eventHandle :UInt32, request :PerfIoctl, argument :UInt64, filter :Text)
      -> (result :Int64);
  # Grants the pages of a perf ring, BPF ring buffer or mmapable map.
  mmapGrant @28 (handle :UInt32, offset :UInt64, length :UInt64, writable :Bool) -> (grant :MmapGrant);
  # Drops a handle (close() of the fd wrapping it).
  close @29 (handle :UInt32) -> ();

  # tracefs (debugfs tracing/) files the trace server owns, by path below the tracing root.
  # A blocking read (trace_pipe) replies only when data arrives.
  tracefsRead @30 (path :Text, offset :UInt64, maxBytes :UInt32, blocking :Bool)
      -> (data :Data, endOfFile :Bool);
  tracefsWrite @31 (path :Text, offset :UInt64, data :Data, append :Bool) -> (written :UInt32);

  # Probe registration for the probe manager (kprobe_events, uprobe_events, perf probes).
  registerProbe @32 (probe :ProbeSpec) -> (probeId :UInt32);
  unregisterProbe @33 (probeId :UInt32) -> ();
}
