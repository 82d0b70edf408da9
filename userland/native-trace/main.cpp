// SPDX-License-Identifier: MIT
// native-trace: a Sonde program (no Linux personality) that talks to the trace server directly
// (docs/NATIVE.md). It makes an array map, loads a kprobe program that counts hits in it,
// attaches the program to the POSIX server's do_sys_openat2 through a perf event of the
// kprobe PMU, and reads the map until the function ran kTarget times; then it closes its
// handles. The root task starts it from the `native` boot module.
#include "native_bpf.hpp"
#include "sonde/capnp/kernel_transport.hpp"
#include "sys/clock.hpp"
#include "sys/ipc.hpp"
#include "sys/server_start.hpp"
#include "sys/syscall.hpp"

namespace {

namespace abi = sonde::abi;
using native_trace::NativeBpf;

constexpr uint64_t kTarget = 5;
constexpr uint64_t kPollNs = 100'000'000;  // 100 ms between looks at the map
constexpr uint64_t kGiveUpSeconds = 120;

// Linux's bpf_attr parts this program uses (include/uapi/linux/bpf.h), only as long as needed:
// bpf() treats the bytes past `size` as zero.
struct MapCreateAttr {
  uint32_t map_type;
  uint32_t key_size;
  uint32_t value_size;
  uint32_t max_entries;
  uint32_t map_flags;
  uint32_t inner_map_fd;
  uint32_t numa_node;
  char map_name[16];
};
struct MapElemAttr {
  uint32_t map_fd;
  uint32_t padding;
  uint64_t key;
  uint64_t value;
  uint64_t flags;
};
struct ProgLoadAttr {
  uint32_t prog_type;
  uint32_t insn_cnt;
  uint64_t insns;
  uint64_t license;
  uint32_t log_level;
  uint32_t log_size;
  uint64_t log_buf;
  uint32_t kern_version;
  uint32_t prog_flags;
  char prog_name[16];
};
// perf_event_attr up to config2 (PERF_ATTR_SIZE_VER1): the kprobe PMU's fields.
struct PerfEventAttr {
  uint32_t type;
  uint32_t size;
  uint64_t config;  // bit 0: a return probe
  uint64_t sample_period;
  uint64_t sample_type;
  uint64_t read_format;
  uint64_t flags;  // bit 0: disabled
  uint32_t wakeup_events;
  uint32_t bp_type;
  uint64_t config1;  // kprobe_func: the function's name
  uint64_t config2;  // probe offset
};
static_assert(sizeof(PerfEventAttr) == 72);

struct Insn {
  uint8_t code;
  uint8_t registers;  // dst in the low nibble, src in the high one
  int16_t offset;
  int32_t imm;
};
constexpr Insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t offset, int32_t imm) {
  return Insn{code, static_cast<uint8_t>(dst | src << 4), offset, imm};
}

// The program: counts[0] += 1, atomically, at every hit.
//   *(u32 *)(r10 - 4) = 0; r2 = r10 - 4; r1 = map; r0 = bpf_map_lookup_elem(r1, r2);
//   if (r0 != 0) lock *(u64 *)(r0 + 0) += 1; return 0;
Insn program[] = {
    insn(0x62, 10, 0, -4, 0),  // BPF_ST | BPF_MEM | BPF_W: *(u32 *)(r10 - 4) = 0
    insn(0xbf, 2, 10, 0, 0),   // BPF_ALU64 | BPF_MOV | BPF_X: r2 = r10
    insn(0x07, 2, 0, 0, -4),   // BPF_ALU64 | BPF_ADD | BPF_K: r2 += -4
    insn(0x18, 1, 1, 0, 0),    // BPF_LD | BPF_IMM | BPF_DW, BPF_PSEUDO_MAP_FD: r1 = map (imm)
    insn(0x00, 0, 0, 0, 0),    //   (its second half)
    insn(0x85, 0, 0, 0, 1),    // BPF_JMP | BPF_CALL: bpf_map_lookup_elem
    insn(0x15, 0, 0, 2, 0),    // BPF_JMP | BPF_JEQ | BPF_K: if r0 == 0 goto +2
    insn(0xb7, 1, 0, 0, 1),    // BPF_ALU64 | BPF_MOV | BPF_K: r1 = 1
    insn(0xdb, 0, 1, 0, 0),    // BPF_STX | BPF_ATOMIC | BPF_DW, BPF_ADD: lock *(u64 *)r0 += r1
    insn(0xb7, 0, 0, 0, 0),    // r0 = 0
    insn(0x95, 0, 0, 0, 0),    // BPF_JMP | BPF_EXIT
};
constexpr uint32_t kMapInsn = 3;

const char license[] = "GPL";
const char function[] = "do_sys_openat2";  // every open(2) of a Linux process
MapCreateAttr map_attr;
ProgLoadAttr prog_attr;
PerfEventAttr event_attr;
MapElemAttr lookup_attr;
uint32_t key;
uint64_t count;

// Requests are built here and sent inline: a native client has no shared buffers.
alignas(8) uint8_t request_buffer[sonde::capnp::kInlineBytes];

void copy_name(char* to, const char* from) {
  for (int i = 0; i < 15 && from[i] != '\0'; ++i) to[i] = from[i];
}

// Says what failed and with which errno; false when it failed.
bool ok(int64_t result, const char* what) {
  if (result >= 0) return true;
  sys::print("native: %s failed: errno %ld\n", what, -result);
  return false;
}

void sleep_ns(uint64_t ns) {
  if (sys::set_timer(sys::kServerSlotTimer, sys::clock_ns() + ns) != abi::Error::kNone) {
    sys::yield();
    return;
  }
  (void)sys::wait(sys::kServerSlotTimer);
}

// Counts the function's runs until kTarget; 0 or -errno (what failed is printed).
int64_t trace_function(NativeBpf& bpf) {
  if (!ok(bpf.connect(), "asking the trace server's instance")) return -1;
  sys::print("native: connected to trace server instance %lu\n", bpf.instance());
  // The POSIX server's own raw calls (a return probe's registers, a uprobe hit, a poll, a call
  // probe's entry) from another badge: each a malformed Cap'n Proto call to the server
  // (EBADMSG), nothing run, and the server goes on serving this client (the calls below).
  const uint64_t raw_calls[][2] = {{sys::kKretprobeReturnLabel, 1},
                                   {sys::kUprobeHitLabel, 0},
                                   {sys::kTracePollLabel, 2},
                                   {sys::kKprobeEntryLabel, 1}};
  int refused = 0;
  for (const auto& call : raw_calls) {
    sys::MessageRegisters mr;
    mr.word[0] = 0x1000;
    mr.word[1] = bpf.instance();
    sys::IpcResult result = sys::call(sys::kServerSlotTraceService, call[0], mr, call[1]);
    if (result.error == abi::Error::kNone && result.info.label == sonde::capnp::kReplyLabel &&
        static_cast<int32_t>(mr.word[0]) == 74) {  // EBADMSG
      ++refused;
    }
  }
  sys::print("native: the POSIX server's raw calls refused: %d of 4\n", refused);

  map_attr.map_type = native_trace::kBpfMapTypeArray;
  map_attr.key_size = sizeof key;
  map_attr.value_size = sizeof count;
  map_attr.max_entries = 1;
  copy_name(map_attr.map_name, "native_hits");
  int64_t map = bpf.bpf(native_trace::kBpfMapCreate, &map_attr, sizeof map_attr);
  if (!ok(map, "BPF_MAP_CREATE")) return map;

  program[kMapInsn].imm = static_cast<int32_t>(map);  // a native client's fds are its handles
  prog_attr.prog_type = native_trace::kBpfProgTypeKprobe;
  prog_attr.insn_cnt = sizeof program / sizeof program[0];
  prog_attr.insns = reinterpret_cast<uint64_t>(program);
  prog_attr.license = reinterpret_cast<uint64_t>(license);
  copy_name(prog_attr.prog_name, "native_count");
  int64_t prog = bpf.bpf(native_trace::kBpfProgLoad, &prog_attr, sizeof prog_attr);
  if (!ok(prog, "BPF_PROG_LOAD")) return prog;

  event_attr.type = native_trace::kPerfTypeKprobe;
  event_attr.size = sizeof event_attr;
  event_attr.flags = 1;  // disabled until PERF_EVENT_IOC_ENABLE
  event_attr.config1 = reinterpret_cast<uint64_t>(function);
  // Every task (pid -1) on CPU 0, as libbpf opens kprobes.
  int64_t event = bpf.perf_event_open(&event_attr, -1, 0, -1, 0);
  if (!ok(event, "perf_event_open on the kprobe PMU")) return event;
  int32_t event_handle = static_cast<int32_t>(event);
  if (!ok(bpf.perf_event_ioctl(event_handle, native_trace::kPerfEventIocSetBpf,
                               static_cast<uint64_t>(prog)),
          "PERF_EVENT_IOC_SET_BPF") ||
      !ok(bpf.perf_event_ioctl(event_handle, native_trace::kPerfEventIocEnable, 0),
          "PERF_EVENT_IOC_ENABLE")) {
    return -1;
  }
  sys::print("native: counting %s (map %ld, program %ld, perf event %ld)\n", function, map, prog,
             event);

  lookup_attr.map_fd = static_cast<uint32_t>(map);
  lookup_attr.key = reinterpret_cast<uint64_t>(&key);
  lookup_attr.value = reinterpret_cast<uint64_t>(&count);
  uint64_t shown = 0;
  uint64_t deadline = sys::clock_ns() + kGiveUpSeconds * 1'000'000'000;
  while (shown < kTarget) {
    sleep_ns(kPollNs);
    if (!ok(bpf.bpf(native_trace::kBpfMapLookupElem, &lookup_attr, sizeof lookup_attr),
            "BPF_MAP_LOOKUP_ELEM")) {
      return -1;
    }
    if (count != shown) {
      sys::print("native: %s ran %lu times\n", function, count);
      shown = count;
    }
    if (shown < kTarget && sys::clock_ns() > deadline) {
      sys::print("native: gave up: %s ran %lu times in %lu s\n", function, shown, kGiveUpSeconds);
      return -1;
    }
  }
  // Detach and give everything back: the trace server keeps a native client's handles until
  // it closes them.
  bool disabled = ok(bpf.perf_event_ioctl(event_handle, native_trace::kPerfEventIocDisable, 0),
                     "PERF_EVENT_IOC_DISABLE");
  bool closed = ok(bpf.close(event_handle), "closing the perf event");
  closed = ok(bpf.close(static_cast<int32_t>(prog)), "closing the program") && closed;
  closed = ok(bpf.close(static_cast<int32_t>(map)), "closing the map") && closed;
  if (!disabled || !closed) return -1;
  sys::print("native: closed its handles after %u calls to the trace server\n", bpf.calls());
  return 0;
}

}  // namespace

extern "C" int main(const sys::ServerStartInfo* info) {
  auto* buffer = reinterpret_cast<abi::IpcBuffer*>(sys::kServerIpcBuffer);
  buffer->user_data = sys::kServerIpcBuffer;
  sys::debug_console = sys::kServerSlotDebugConsole;
  sys::clock_page = reinterpret_cast<const abi::ClockPage*>(sys::kServerClockPage);
  if (info->magic != sys::kServerStartMagic || (info->flags & sys::kStartFlagNativeTrace) == 0) {
    sys::print("native: started without the trace service\n");
    return 1;
  }
  // The generated client over the kernel transport, inline messages only: requests are built in
  // a local buffer of kInlineBytes (never shared) and no reply buffer is shared either.
  sonde::capnp::KernelTransport transport(
      sys::kServerSlotTraceService,
      sonde::capnp::MutableBytes{request_buffer, sizeof request_buffer}, sonde::capnp::Bytes{});
  sonde::proto::TraceService::Client client(transport);
  NativeBpf bpf(client);
  // What the trace server may read of this program, and write (the map value, attr outputs).
  bool exposed = bpf.expose(&map_attr, sizeof map_attr, true) &&
                 bpf.expose(&prog_attr, sizeof prog_attr, true) &&
                 bpf.expose(program, sizeof program, false) &&
                 bpf.expose(license, sizeof license, false) &&
                 bpf.expose(&event_attr, sizeof event_attr, true) &&
                 bpf.expose(function, sizeof function, false) &&
                 bpf.expose(&lookup_attr, sizeof lookup_attr, true) &&
                 bpf.expose(&key, sizeof key, false) && bpf.expose(&count, sizeof count, true);
  if (!exposed) return 1;
  if (trace_function(bpf) != 0) {
    sys::print("native: stopped\n");
    return 1;
  }
  sys::print("native: done\n");
  return 0;
}
