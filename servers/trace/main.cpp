// SPDX-License-Identifier: MIT
// The trace server: owns every BPF object and serves the POSIX server's bpf() calls over
// proto/trace.capnp on the endpoint the root task gives it.
#include "client_calls.hpp"
#include "jit_memory.hpp"
#include "kernel_probes.hpp"
#include "kprobe_events.hpp"
#include "kprobe_list.hpp"
#include "kprobes.hpp"
#include "posix_symbols.hpp"
#include "rt/kernel_alias.hpp"
#include "rt/new.hpp"
#include "server_probe_hooks.hpp"
#include "service.hpp"
#include "sonde/capnp/kernel_transport.hpp"
#include "stack_walk.hpp"
#include "sys/clock.hpp"
#include "sys/server_memory.hpp"
#include "sys/server_start.hpp"
#include "sys/syscall.hpp"
#include "task_environment.hpp"
#include "trace/objects.hpp"
#include "trace/perf_events.hpp"
#include "uprobes.hpp"

// The POSIX server's vmlinux BTF (servers/posix/meson.build, kernel/embed_blob.py).
extern "C" const unsigned char vmlinux_btf[];
extern "C" const unsigned long vmlinux_btf_size;

namespace {

namespace abi = sonde::abi;

constexpr uint64_t kHeapBase = sys::kTraceHeapBase;
constexpr uint64_t kStackBytes = sys::kTraceStackPages * 4096;  // mapped below kTraceStackTop

// Memory of this server a program may name: its stack (the BPF stack lives there) and heap
// (map values, ring buffers). Such addresses are read here, not in the traced server.
bool is_local(uint64_t address, uint64_t size) {
  auto inside = [&](uint64_t start, uint64_t end) {
    return address >= start && address < end && size <= end - address;
  };
  return inside(sys::kTraceStackTop - kStackBytes, sys::kTraceStackTop) ||
         inside(kHeapBase, sys::server::heap_end());
}
// Room for one call's writes; the reply needs a little more for its own framing.
constexpr uint64_t kWriteLogBytes = sys::kTraceBufferBytes - (64u << 10);

// Time from the kernel's clock page, randomness from a xorshift generator seeded by the TSC.
class ServerEnvironment final : public trace::TaskEnvironment, public trace::HitObserver {
 public:
  ServerEnvironment() {
    uint32_t low, high;
    asm volatile("rdtsc" : "=a"(low), "=d"(high));
    state_ = (uint64_t{high} << 32 | low) | 1;
  }
  // In a hit: its CPU (the task's a POSIX-server function works for, or the sample's); outside
  // one (PROG_TEST_RUN): the bpf() caller's, as the POSIX server published it.
  uint32_t current_cpu() override {
    if (hit_memory_ == nullptr) return trace::read_current_task().cpu;
    sync_task();
    return hit_cpu_;
  }
  // The task's identity as TaskEnvironment keeps it, brought up to date with the hit's first.
  uint64_t current_pid_tgid() override {
    sync_task();
    return TaskEnvironment::current_pid_tgid();
  }
  uint64_t current_uid_gid() override {
    sync_task();
    return TaskEnvironment::current_uid_gid();
  }
  long current_comm(char* buffer, uint32_t size) override {
    sync_task();
    return TaskEnvironment::current_comm(buffer, size);
  }
  // A program on a kernel sample runs after the fact: its clock is the sample's, so that the
  // time between two events (runqlat's wakeup and switch) is theirs, not the drain's.
  uint64_t monotonic_ns() override {
    const sonde::abi::SampleRecord* sample = trace::current_kernel_sample();
    return sample != nullptr ? trace::sample_time_ns(*sample) : sys::clock_ns();
  }
  uint64_t boot_ns() override { return monotonic_ns(); }
  uint32_t random_u32() override {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return static_cast<uint32_t>(state_ >> 16);
  }
  // bpf_probe_read_kernel in a probe on the POSIX server reads its memory, borrowed for the hit;
  // outside a hit (PROG_TEST_RUN) nothing is readable.
  // bpf_probe_read_user: the process the hit works for, through its page map in the POSIX
  // server (sys::user_page_map); a page not present or not readable is EFAULT, as
  // copy_from_user_nofault. Outside a hit nothing is readable.
  long read_user(void* destination, uint64_t source, uint32_t size) override {
    namespace map = sys::user_page_map;
    if (hit_memory_ == nullptr) return -14;
    sync_task();
    load_sample_task();  // a scheduling event's task (no-op otherwise)
    if (hit_user_pages_ == 0) return -14;
    auto* out = static_cast<uint8_t*>(destination);
    for (uint32_t done = 0; done < size;) {
      uint64_t address = source + done;
      if (address < source || address >= 0x0000800000000000ull) return -14;
      uint64_t entry = hit_user_pages_;
      for (uint64_t level = 0; level < map::kLevels && entry != 0; ++level) {
        uint64_t index = (address >> (39 - 9 * level)) & (map::kEntries - 1);
        if (!hit_memory_->read(&entry, entry + index * 8, 8)) return -14;
      }
      uint64_t page_address = 0;
      uint32_t prot = 0;
      if (entry == 0 || !hit_memory_->read(&page_address, entry + map::kServerAddressOffset, 8) ||
          !hit_memory_->read(&prot, entry + map::kProtOffset, 4) || (prot & map::kProtRead) == 0) {
        return -14;
      }
      uint32_t offset = static_cast<uint32_t>(address & 4095);
      uint32_t chunk = 4096 - offset < size - done ? 4096 - offset : size - done;
      if (!hit_memory_->read(out + done, page_address + offset, chunk)) return -14;
      done += chunk;
    }
    return 0;
  }
  // bpf_probe_read_user_str a page at a time: read_user walks the page map once per chunk, not
  // once per byte (opensnoop's file name cost about 20,000 instructions a byte at a time). A
  // page is readable or not as a whole, so the outcome is the byte-at-a-time default's, and
  // nothing past the string's NUL reaches `destination`.
  long read_string(bool user, char* destination, uint64_t source, uint32_t size) override {
    if (!user) return TaskEnvironment::read_string(user, destination, source, size);
    if (size == 0) return 0;
    char chunk[256];
    uint32_t n = 0;
    while (n + 1 < size) {
      uint64_t address = source + n;
      uint32_t want = size - 1 - n;
      uint32_t page_left = 4096 - static_cast<uint32_t>(address & 4095);
      if (want > page_left) want = page_left;
      if (want > sizeof chunk) want = sizeof chunk;
      if (read_user(chunk, address, want) < 0) return -14;  // EFAULT
      for (uint32_t i = 0; i < want; ++i) {
        destination[n++] = chunk[i];
        if (chunk[i] == 0) return n;
      }
    }
    destination[n] = 0;
    return n + 1;
  }
  long read_kernel(void* destination, uint64_t source, uint32_t size) override {
    if (is_local(source, size)) {
      __builtin_memcpy(destination, reinterpret_cast<const void*>(source), size);
      return 0;
    }
    if (hit_memory_ == nullptr || !hit_memory_->read(destination, source, size)) return -14;
    return 0;
  }
  // A hit on a POSIX-server function (HitObserver::hit_begins): the helpers see the Linux
  // process it works for, read from the POSIX server's record when a helper first asks
  // (sync_task; most programs of a counting kind ask nothing of the task).
  void sync_task() {
    if (!task_pending_) return;
    task_pending_ = false;
    const trace::CurrentTaskView& task = trace::read_current_task();
    if (task.sequence != hit_sequence_ || current_generation() != hit_generation_) {
      set_current(task.pid, task.tgid, task.uid, task.gid, task.comm, 16);
      hit_sequence_ = task.sequence;  // odd (a torn read) never matches again
      hit_generation_ = current_generation();
    }
    hit_task_ = task.task_struct;
    hit_user_pages_ = task.user_pages;
    hit_cpu_ = task.cpu;
    hit_serving_context_ = task.serving_context;
    hit_registers_offset_ = task.registers_offset;
  }
  void serving_task(int32_t& pid, char (&comm)[kCommLength], uint32_t& cpu) override {
    const trace::CurrentTaskView& task = trace::read_current_task();
    pid = task.pid;
    static_assert(sizeof task.comm == kCommLength);
    __builtin_memcpy(comm, task.comm, kCommLength);
    cpu = task.cpu;
  }
  // A sample of a microkernel function: no Linux task (pid 0, comm "microkernel"); the sample's
  // stack words are the kernel memory a program can read.
  void kernel_hit_begins(trace::TracedMemory& memory) override {
    hit_memory_ = &memory;
    task_pending_ = false;
    set_current(0, 0, 0, 0, trace::kKernelSampleComm, sizeof trace::kKernelSampleComm);
    hit_task_ = 0;
    hit_user_pages_ = 0;
    hit_serving_context_ = 0;
    has_registers_ = false;
    sample_task_pending_ = false;
    sample_task_waits_ = false;
    const sonde::abi::SampleRecord* sample = trace::current_kernel_sample();
    hit_cpu_ = sample != nullptr ? static_cast<uint32_t>(sample->cpu) : 0;
  }
  void kernel_hit_task(int32_t tid, int32_t tgid, const char* comm, uint64_t task) override {
    set_current(tid, tgid, 0, 0, comm, 16);
    hit_task_ = task;
    sample_task_pending_ = task != 0;
    sample_task_waits_ = false;
  }
  // A scheduling event's task, when a helper first needs its user side: the user registers it
  // waits in a system call with, and its page map, as the POSIX server keeps them in its
  // task_struct (Linux's task_pt_regs), read when the sample is drained as the task_struct's
  // other fields. Its user memory is then readable (bpf_probe_read_user) and its user stack
  // walks from those registers.
  void load_sample_task() {
    if (!sample_task_pending_) return;
    sample_task_pending_ = false;
    uint64_t registers = 0, pages = 0;
    if (hit_memory_ == nullptr ||
        !hit_memory_->read(&registers, hit_task_ + sys::kTaskUserRegistersOffset, 8) ||
        !hit_memory_->read(&pages, hit_task_ + sys::kTaskUserPagesOffset, 8) || registers == 0 ||
        pages == 0 || !hit_memory_->read(&sample_registers_, registers, sizeof sample_registers_)) {
      return;
    }
    hit_user_pages_ = pages;
    sample_task_waits_ = true;
  }
  // bpf_get_current_task: the task_struct the POSIX server keeps for the process a hit works
  // for. GAP: 0 outside a hit (PROG_TEST_RUN), where no POSIX-server memory is readable either.
  uint64_t current_task() override {
    sync_task();
    return hit_task_;
  }
  uint64_t current_function_ip() override { return 0; }
  // bpf_get_stack and bpf_get_stackid: frame-pointer walks, as Linux's user stacks (and its
  // kernel stacks with CONFIG_UNWINDER_FRAME_POINTER). The kernel stack of a probe on a
  // POSIX-server function is the server's own (built with frame pointers for this); at a uprobe
  // there is none (the hit is in user mode: no frames, as Linux). The user stack is the traced
  // process's: a uprobe's registers, or in a kprobe those of the system call being served.
  // A scheduling event's task that waits in a system call has the user stack of its call's
  // registers (kernel_hit_task). GAP: kernel samples have no kernel stack here (EFAULT), nor a
  // user stack for a task that is running or being served (preempted in user mode, or the
  // waker of a wakeup).
  // GAP: a return address a kretprobe replaced shows as the POSIX server's trampoline (Linux
  // puts the real one back).
  long capture_stack(bool user, uint32_t skip, uint64_t* ips, uint32_t max) override {
    if (hit_memory_ != nullptr && trace::current_kernel_sample() != nullptr) {
      if (user) load_sample_task();
      if (!user || !sample_task_waits_) return -14;
      trace::StackStart start{sample_registers_.rip, sample_registers_.rsp, sample_registers_.rbp,
                              false};
      return trace::walk_stack(start, trace::StackWalkRules::kUser, &read_user_word, this, skip,
                               ips, max);
    }
    if (hit_memory_ == nullptr || !has_registers_) return -14;
    sync_task();
    bool server_regs = hit_kind_ != HitRegisters::kUser;
    if (!user) {
      if (!server_regs) return skip == 0 ? 0 : -14;
      trace::StackStart start{hit_regs_->ip, hit_regs_->sp, hit_regs_->bp,
                              hit_kind_ == HitRegisters::kServerEntry};
      long frames = trace::walk_stack(start, trace::StackWalkRules::kServer, &read_server_word,
                                      this, skip, ips, max);
      // The server's return addresses where Linux programs see its code (kallsyms).
      for (long i = 0; i < frames; ++i) ips[i] = sonde::abi::kernel_alias(ips[i]);
      return frames;
    }
    trace::StackStart start{hit_regs_->ip, hit_regs_->sp, hit_regs_->bp, false};
    if (server_regs) {
      // The registers the Linux process made its system call with; none outside a call (Linux:
      // a kernel thread has no user stack, EFAULT).
      uint64_t context = 0;
      sonde::abi::UserRegisters registers;
      if (hit_serving_context_ == 0 || !hit_memory_->read(&context, hit_serving_context_, 8) ||
          context == 0 ||
          !hit_memory_->read(&registers, context + hit_registers_offset_, sizeof registers)) {
        return -14;
      }
      start = trace::StackStart{registers.rip, registers.rsp, registers.rbp, false};
    }
    return trace::walk_stack(start, trace::StackWalkRules::kUser, &read_user_word, this, skip, ips,
                             max);
  }
  // bpf_trace_printk: into the trace buffer behind trace and trace_pipe.
  long trace_output(const char* message, uint32_t length) override {
    if (tracefs_ == nullptr) return 0;
    sync_task();
    return trace::record_trace_printk(
        *tracefs_, *this, message, length,
        hit_memory_ != nullptr ? trace::kProbePreemptCount : trace::kTestRunPreemptCount);
  }
  void set_tracefs(trace::Tracefs* tracefs) { tracefs_ = tracefs; }

 private:
  uint64_t state_;
  trace::Tracefs* tracefs_ = nullptr;
  uint32_t hit_cpu_ = 0;
  uint64_t hit_serving_context_ = 0;
  uint32_t hit_registers_offset_ = 0;
  // A scheduling event's task waiting in a system call: the registers it made the call with
  // (read at the first helper that needs them: sample_task_pending_ until then).
  bool sample_task_pending_ = false;
  bool sample_task_waits_ = false;
  sonde::abi::UserRegisters sample_registers_{};
  // The record and set_current the task was set from last (sync_task skips a repeat).
  uint64_t hit_sequence_ = 1;
  uint64_t hit_generation_ = 0;

  static bool read_server_word(void* state, uint64_t address, uint64_t& word) {
    return static_cast<ServerEnvironment*>(state)->hit_memory_->read(&word, address, 8);
  }
  static bool read_user_word(void* state, uint64_t address, uint64_t& word) {
    return static_cast<ServerEnvironment*>(state)->read_user(&word, address, 8) == 0;
  }
};

// mmap of rings and mmapable arrays: the Frame caps behind the object's heap pages, minted into
// the exchange CNode for the POSIX server (read-only unless the mapping may write).
class FrameGranter final : public trace::PageGranter {
 public:
  rt::Result<void> grant(const uint8_t* page, uint32_t slot, bool writable) override {
    uint64_t frame = TRY(sys::server::heap_frame(reinterpret_cast<uint64_t>(page)));
    uint64_t rights = abi::kRightRead | (writable ? abi::kRightWrite : 0);
    uint64_t words[] = {slot, sys::kExchangeRadix, sys::kServerSlotCNode, frame, 64, rights, 0};
    if (sys::invoke(sys::kServerSlotExchange, abi::Label::kCNodeMint, words) != abi::Error::kNone) {
      return rt::err(rt::kENOMEM, "the exchange slot is taken or the frame cap is gone");
    }
    return {};
  }
  void take_back(uint32_t slot) override {
    uint64_t words[] = {slot, sys::kExchangeRadix};
    (void)sys::invoke(sys::kServerSlotExchange, abi::Label::kCNodeDelete, words);
  }
};
FrameGranter frame_granter;

alignas(ServerEnvironment) uint8_t environment_storage[sizeof(ServerEnvironment)];
alignas(trace::ObjectTable) uint8_t objects_storage[sizeof(trace::ObjectTable)];
alignas(trace::Session) uint8_t session_storage[sizeof(trace::Session)];
alignas(trace::Service) uint8_t service_storage[sizeof(trace::Service)];
alignas(trace::Tracefs) uint8_t tracefs_storage[sizeof(trace::Tracefs)];
alignas(trace::ClientSessions) uint8_t clients_storage[sizeof(trace::ClientSessions)];
alignas(trace::Kprobes) uint8_t kprobes_storage[sizeof(trace::Kprobes)];
alignas(trace::KernelProbes) uint8_t kernel_probes_storage[sizeof(trace::KernelProbes)];
// JIT code from 1 GiB up: within rel32 reach of the server's text, where helpers are.
constexpr uint64_t kJitBase = 0x40000000;
trace::FrameExecutableMemory jit_memory(kJitBase);
trace::Kprobes* the_kprobes = nullptr;

// The crash drill (/proc/sonde/trace-server): a page fault now, in the next probe hit, or in
// the next return-probe call.
void crash_drill(bool at_next_hit, bool at_next_return) {
  if ((at_next_hit || at_next_return) && the_kprobes != nullptr) {
    if (at_next_return) {
      the_kprobes->crash_at_next_return();
    } else {
      the_kprobes->crash_at_next_hit();
    }
    return;
  }
  *reinterpret_cast<volatile uint64_t*>(8) = 0;
}
alignas(trace::SyscallTracepoints) uint8_t syscalls_storage[sizeof(trace::SyscallTracepoints)];
alignas(trace::SchedTracepoints) uint8_t sched_storage[sizeof(trace::SchedTracepoints)];
alignas(trace::Uprobes) uint8_t uprobes_storage[sizeof(trace::Uprobes)];
alignas(trace::ServerProbeHooks) uint8_t hooks_storage[sizeof(trace::ServerProbeHooks)];
alignas(trace::ProbeTable) uint8_t probe_table_storage[sizeof(trace::ProbeTable)];
alignas(trace::KprobeEventSwitch) uint8_t kprobe_events_storage[sizeof(trace::KprobeEventSwitch)];
alignas(trace::KprobeList) uint8_t kprobe_list_storage[sizeof(trace::KprobeList)];
trace::PosixSymbols posix_symbols;

// The POSIX server's calls blocked on this server's rings and trace_pipe look again when a
// message made something they may wait for ready (trace/reader_wakeups.hpp): signalled before
// the message's answer goes out, so a probe hit's record is announced before its thread runs on.
void tell_readers(trace::ReaderWakeups& wakeups) {
  if (wakeups.take_due()) (void)sys::signal(sys::kServerSlotTraceWakeupSignal);
}

// A call probe's entry stub or the return trampoline (kretprobe.S): one word, the address of
// the pt_regs they laid out.
bool is_kprobe_call(const sys::IpcResult& received) {
  return received.badge == sys::kTracePosixBadge && received.info.length == 1 &&
         (received.info.label == sys::kKprobeEntryLabel ||
          received.info.label == sys::kKretprobeReturnLabel);
}

// Kprobe hits, answered while they come one after another: the entry programs run before the
// stub goes on and the answer says whether into the return shim; the return programs run
// before the trampoline goes on. The message words stay in registers from one hit to the next
// (`mr` gets them when another message comes).
sys::IpcResult serve_kprobe_calls(trace::Kprobes& kprobes,
                                  const sonde::capnp::KernelServerConfig& config,
                                  trace::ReaderWakeups& wakeups, sys::IpcResult received,
                                  sys::MessageRegisters& mr) {
  sys::MessageRegisters words = mr;
  do {
    uint64_t length = 0;
    if (received.info.label == sys::kKprobeEntryLabel) {
      words.word[0] = kprobes.entry_called(words.word[0]) ? 1 : 0;
      length = 1;
    } else {
      kprobes.return_called(words.word[0]);
    }
    tell_readers(wakeups);
    received = sys::reply_recv(config.endpoint, config.reply, 0, words, length);
  } while (received.error == abi::Error::kNone && is_kprobe_call(received));
  mr = words;
  return received;
}

// One endpoint receives the POSIX server's calls (Cap'n Proto, badge 1), native clients' (their
// own badges) and breakpoint hits on its functions (badged per probe): a hit is handled and the
// thread resumed at once. The drain thread calls it too when the kernel has samples of probes on
// its own functions; the rings are drained before every call is answered as well, so what a
// program counted before a bpf() call is seen by it.
[[noreturn]] void serve(trace::Service& service, trace::Kprobes& kprobes,
                        trace::KernelProbes& kernel_probes,
                        const sonde::capnp::KernelServerConfig& config,
                        trace::ClientSessions& clients, trace::ReaderWakeups& wakeups) {
  sys::MessageRegisters mr;
  sys::IpcResult received = sys::recv(config.endpoint, config.reply, mr);
  for (;;) {
    if (received.error != abi::Error::kNone) {
      received = sys::recv(config.endpoint, config.reply, mr);
      continue;
    }
    // Kprobe hits first: every probed call comes this way, twice with a return probe.
    if (is_kprobe_call(received)) {
      received = serve_kprobe_calls(kprobes, config, wakeups, received, mr);
      continue;
    }
    if (received.info.label == static_cast<uint64_t>(abi::FaultKind::kBreakpoint) &&
        kprobes.handles(received.badge)) {
      // The first words came in registers, the rest in the IPC buffer (sys::message_word's
      // split, without its per-word test: every hit comes this way).
      static_assert(abi::kUserRegisterWords > abi::kRegisterMessageWords);
      abi::UserRegisters registers;
      auto* words = reinterpret_cast<uint64_t*>(&registers);
      __builtin_memcpy(words, mr.word, sizeof(mr.word));
      __builtin_memcpy(words + abi::kRegisterMessageWords,
                       &sys::ipc_buffer()->message[abi::kRegisterMessageWords],
                       (abi::kUserRegisterWords - abi::kRegisterMessageWords) * sizeof(uint64_t));
      bool redirected =
          kprobes.hit(received.badge, registers, sys::message_word(mr, abi::kFaultAddressWord));
      tell_readers(wakeups);
      if (redirected) {
        // Into the return shim: rip and r11 (Kprobes::hit changes nothing else), in the message
        // registers, so the kernel's fast path answers.
        using abi::user_register::kR11;
        using abi::user_register::kRip;
        uint64_t answer[] = {uint64_t{1} << kRip | uint64_t{1} << kR11, registers.rip,
                             registers.r11};
        sys::MessageRegisters out;
        sys::load_message(out, answer, 3);
        mr = out;
        received =
            sys::reply_recv(config.endpoint, config.reply,
                            static_cast<uint64_t>(abi::FaultReply::kSetSomeRegisters), mr, 3);
      } else {
        received = sys::reply_recv(config.endpoint, config.reply,
                                   static_cast<uint64_t>(abi::FaultReply::kResume), mr, 0);
      }
      continue;
    }
    if (received.badge == sys::kTracePosixBadge && received.info.label == sys::kUprobeHitLabel &&
        received.info.length == 0) {
      // A uprobe hit in a Linux process, in the shared request buffer. Each word is read once,
      // so the checks and the run see one version of it: the header and the probe ids here,
      // the registers by the hit as it converts them (any value of theirs is harmless).
      const auto* shared = reinterpret_cast<const sys::UprobeHitMessage*>(sys::kTraceRequestBuffer);
      static_assert(sizeof shared->registers / sizeof shared->registers[0] ==
                    trace::UprobeBackend::kRegisterWords);
      uint32_t count = __atomic_load_n(&shared->count, __ATOMIC_RELAXED);
      uint32_t is_return = __atomic_load_n(&shared->is_return, __ATOMIC_RELAXED);
      if (count <= sys::UprobeHitMessage::kMaxProbes && is_return <= 1) {
        uint32_t probes[sys::UprobeHitMessage::kMaxProbes];
        for (uint32_t i = 0; i < count; ++i) {
          probes[i] = __atomic_load_n(&shared->probes[i], __ATOMIC_RELAXED);
        }
        service.uprobe_hit(__atomic_load_n(&shared->instance, __ATOMIC_RELAXED), probes, count,
                           shared->registers, is_return != 0,
                           __atomic_load_n(&shared->function, __ATOMIC_RELAXED));
      }
      tell_readers(wakeups);
      received = sys::reply_recv(config.endpoint, config.reply, 0, mr, 0);
      continue;
    }
    if (received.badge == sys::kTracePosixBadge && received.info.label == sys::kTracePollLabel &&
        received.info.length == 2) {
      // poll() of a POSIX fd of this server: the answer's word 0 (the mask, or -errno).
      int64_t answer = -static_cast<int64_t>(rt::kEPERM);
      if (auto client = clients.find(received.badge); client.ok()) {
        service.set_client(client.value());
        answer = service.poll_handle(static_cast<uint32_t>(mr.word[0]), mr.word[1]);
      }
      mr.word[0] = static_cast<uint64_t>(answer);
      tell_readers(wakeups);
      received = sys::reply_recv(config.endpoint, config.reply, 0, mr, 1);
      continue;
    }
    kernel_probes.drain();
    if (kernel_probes.handles(received.badge)) {
      tell_readers(wakeups);
      received = sys::reply_recv(config.endpoint, config.reply, 0, mr, 0);
      continue;
    }
    // The POSIX server (badge 1) or a native client (its own session): client_calls.hpp.
    uint64_t length = trace::answer_client_call(service, clients, config, received.badge,
                                                received.info.label, received.info.length, mr);
    tell_readers(wakeups);
    received =
        sys::reply_recv(config.endpoint, config.reply, sonde::capnp::kReplyLabel, mr, length);
  }
}

}  // namespace

extern "C" int main(const sys::ServerStartInfo* info) {
  auto* buffer = reinterpret_cast<abi::IpcBuffer*>(sys::kServerIpcBuffer);
  buffer->user_data = sys::kServerIpcBuffer;
  sys::debug_console = sys::kServerSlotDebugConsole;
  sys::clock_page = reinterpret_cast<const abi::ClockPage*>(sys::kServerClockPage);
  if (info->magic != sys::kServerStartMagic) {
    sys::print("trace: bad start information\n");
    return 1;
  }
  if ((info->flags & sys::kStartFlagHasCom2) != 0) {
    (void)sys::use_log_port(sys::kServerSlotCom2, 0x2f8);
  }
  sys::server::init(*info, kHeapBase);
  rt::Allocator& heap = sys::server::heap();
  auto* environment = new (environment_storage) ServerEnvironment();
  environment->set_possible_cpus(info->cpu_count);
  auto* objects = new (objects_storage) trace::ObjectTable(heap, *environment);
  // The kernel's BTF before anything else: BTF object 1, "vmlinux", as on Linux.
  if (auto added = objects->add_kernel_btf(vmlinux_btf, static_cast<uint32_t>(vmlinux_btf_size));
      !added.ok()) {
    sys::print("trace: going on without the vmlinux BTF object (errno %d)\n", added.error().code);
  }
  auto* session = new (session_storage) trace::Session(*objects, false);
  objects->set_executable_memory(&jit_memory);
  auto* write_log = static_cast<uint8_t*>(heap.allocate(kWriteLogBytes, 4096));
  auto reply = sys::server::make_object(abi::ObjectType::kReply);
  if (write_log == nullptr || !reply.ok()) {
    sys::print("trace: out of memory at start\n");
    return 1;
  }
  if (info->traced_image_size > 0) {
    posix_symbols.open(
        reinterpret_cast<const uint8_t*>(sys::kTracedImageBase + info->traced_image_offset),
        info->traced_image_size);
  }
  if (info->kernel_image_size > 0) {
    posix_symbols.open_kernel(
        reinterpret_cast<const uint8_t*>(sys::kKernelImageBase + info->kernel_image_offset),
        info->kernel_image_size);
  }
  auto* tracefs =
      new (tracefs_storage) trace::Tracefs(heap, posix_symbols, environment->possible_cpus());
  if (!tracefs->init().ok()) {
    sys::print("trace: out of memory for tracefs\n");
    return 1;
  }
  environment->set_tracefs(tracefs);
  auto* service = new (service_storage)
      trace::Service(*session, *environment, *tracefs, write_log, kWriteLogBytes, info->instance);
  sonde::capnp::KernelServerConfig config{};
  config.endpoint = sys::kServerSlotTraceService;
  config.reply = reply.value();
  config.shared_request = sonde::capnp::Bytes{
      reinterpret_cast<const uint8_t*>(sys::kTraceRequestBuffer), sys::kTraceBufferBytes};
  config.shared_reply = sonde::capnp::MutableBytes{
      reinterpret_cast<uint8_t*>(sys::kTraceReplyBuffer), sys::kTraceBufferBytes};
  config.max_calls = 0;
  auto* kprobes = new (kprobes_storage)
      trace::Kprobes(sys::kServerSlotTracedVSpace, sys::kServerSlotTraceService);
  auto* syscalls =
      new (syscalls_storage) trace::SyscallTracepoints(*tracefs, posix_symbols, *kprobes);
  auto* sched = new (sched_storage) trace::SchedTracepoints(*tracefs, posix_symbols, *kprobes);
  auto* kprobe_events = new (kprobe_events_storage)
      trace::KprobeEventSwitch(*tracefs, posix_symbols, *kprobes, *syscalls);
  kprobe_events->set_sched(sched);
  tracefs->set_switch(kprobe_events);
  service->set_kprobe_listing(new (kprobe_list_storage)
                                  trace::KprobeList(*kprobes, posix_symbols, *tracefs));
  kprobes->set_observer(environment);
  // Kprobes on microkernel functions, with the KernelProbes cap root hands over (an empty slot
  // makes every such probe EPERM).
  auto* kernel_probes = new (kernel_probes_storage)
      trace::KernelProbes(sys::kServerSlotKernelProbes, sys::kServerSlotTraceService);
  kernel_probes->set_observer(environment);
  kernel_probes->set_server_memory(&kprobes->memory());
  // The POSIX server's heap and its map of process pages (neither ever unmapped there) stay
  // borrowed between hits, and a few pages a hit borrows elsewhere are kept for the next,
  // checked again at their first use (Uprobes' instance has its own window addresses; with the
  // pinned and sticky pages these stay within the kernel's 64 borrows of the POSIX server's
  // VSpace).
  static_assert(sys::kPosixHeapEnd == sys::kPosixFrameMapBase);
  kprobes->memory().set_sticky_range(sys::kPosixHeapBase, sys::kPosixFrameMapEnd);
  kprobes->memory().set_kept_slots(trace::BorrowedMemory::kMaxKeptSlots);
  kprobes->set_kernel(kernel_probes);
  the_kprobes = kprobes;
  service->set_crash_hook(crash_drill);
  service->set_page_granter(&frame_granter);
  trace::Kprobes::ReturnSupport returns;
  const char* const names[] = {
      "kretprobe_shim",   "kretprobe_trampoline",       "kretprobe_return_key",
      "kretprobe_depth",  "kretprobe_return_addresses", "kretprobe_functions",
      "kprobe_entry_stub"};
  uint64_t* const targets[] = {&returns.shim,      &returns.trampoline,       &returns.key,
                               &returns.depth,     &returns.return_addresses, &returns.functions,
                               &returns.entry_stub};
  bool found_all = true;
  for (int i = 0; i < 7; ++i) {
    size_t length = 0;
    while (names[i][length] != 0) ++length;
    found_all = found_all && posix_symbols.resolve_any(names[i], length, *targets[i]);
  }
  if (!found_all) returns = {};
  returns.shim_size = posix_symbols.function_size(returns.shim);
  returns.trampoline_size = posix_symbols.function_size(returns.trampoline);
  returns.key_size = posix_symbols.function_size(returns.key);
  returns.entry_stub_size = posix_symbols.function_size(returns.entry_stub);
  kprobes->set_return_support(returns);
  // Kprobes inside functions: the POSIX server's slot page, which the root task mapped here.
  uint64_t xol_page = 0;
  if ((info->flags & sys::kStartFlagHasKprobeXol) != 0 &&
      posix_symbols.resolve_any("kprobe_xol_page", 15, xol_page)) {
    kprobes->set_inside_support(&posix_symbols, xol_page,
                                reinterpret_cast<volatile uint8_t*>(sys::kKprobeXolWindow),
                                info->instance);
  } else {
    kprobes->set_inside_support(&posix_symbols, 0, nullptr, 0);
  }
  posix_symbols.set_probe_points(kprobes);
  kprobes->each_blacklisted(
      [&](uint64_t start, uint64_t end) { posix_symbols.refuse(start, end); });
  auto* hooks =
      new (hooks_storage) trace::ServerProbeHooks(*tracefs, posix_symbols, *kprobes, *syscalls);
  auto* probe_table = new (probe_table_storage) trace::ProbeTable(*objects, *hooks);
  hooks->set_table(probe_table);
  auto* uprobes =
      new (uprobes_storage) trace::Uprobes(sys::kServerSlotTracedVSpace, *tracefs, *environment);
  uprobes->set_table(probe_table);
  uprobes->set_observer(environment);
  hooks->set_uprobes(uprobes);
  kprobe_events->set_uprobes(uprobes);
  service->set_uprobes(uprobes);
  syscalls->set_table(probe_table);
  sched->set_table(probe_table);
  sched->set_observer(environment);
  hooks->set_sched(sched);
  hooks->set_kprobe_events(kprobe_events);
  kprobe_events->set_table(probe_table);
  objects->set_probes(probe_table);
  auto* clients = new (clients_storage) trace::ClientSessions(
      *objects, heap, *session,
      trace::ClientBadges{sys::kTracePosixBadge, sys::kTraceNativeBadgeFirst,
                          static_cast<uint32_t>(sys::kTraceMaxNativeClients)});
  sys::print("trace: the trace server is up (instance %lu)\n", info->instance);
  serve(*service, *kprobes, *kernel_probes, config, *clients, objects->reader_wakeups());
}
