// SPDX-License-Identifier: MIT
// The POSIX personality server: unpacks the initramfs, starts /init as a Linux process and
// serves the faults of its processes (system calls, page faults, exceptions) on one endpoint.
#include <string.h>

#include "fs/initramfs.hpp"
#include "fs/kallsyms.hpp"
#include "fs/tracefs.hpp"
#include "kernel/sched_tracepoints.hpp"
#include "kernel/task_struct.hpp"
#include "mm/address_space.hpp"
#include "platform/kernel.hpp"
#include "rt/format.hpp"
#include "rt/kernel_alias.hpp"
#include "rt/new.hpp"
#include "sys/clock.hpp"
#include "sys/server_start.hpp"
#include "sys/syscall.hpp"
#include "task/process.hpp"
#include "task/replies.hpp"
#include "tracing/trace_service.hpp"
#include "tracing/uprobes.hpp"
#include "tty/console.hpp"
#include "vfs/inode.hpp"

// The BTF blob (kernel/embed_blob.py's output).
extern "C" const unsigned char vmlinux_btf[];
extern "C" const unsigned long vmlinux_btf_size;

namespace {

using namespace posix;
namespace abi = sonde::abi;
using abi::Error;
using abi::Label;
using abi::ObjectType;

// The helper threads' badges (tids, the other badges, are far below them).
constexpr uint64_t kIrqBadge = 1ull << 40;
constexpr uint64_t kTimerBadge = 1ull << 41;
constexpr uint64_t kTraceWakeupBadge = 1ull << 42;
constexpr uint64_t kServerPriority = 200;

alignas(FileTree) uint8_t tree_storage[sizeof(FileTree)];
alignas(16) uint8_t irq_stack[16384];
uint64_t irq_notification = 0;
uint64_t irq_endpoint = 0;

// The interrupt thread: turns each COM1 interrupt into a message the main loop serves.
[[noreturn]] void irq_thread() {
  for (;;) {
    sys::wait(irq_notification);
    sys::MessageRegisters mr;
    (void)sys::call(irq_endpoint, 0, mr, 0);
  }
}

bool start_irq_thread(uint64_t endpoint) {
  auto notification = platform::make_object(ObjectType::kNotification);
  auto badged = platform::allocate_slot();
  auto tcb = platform::make_object(ObjectType::kTcb);
  if (!notification.ok() || !badged.ok() || !tcb.ok()) return false;
  irq_notification = notification.value();
  irq_endpoint = badged.value();
  if (sys::cnode_mint(sys::kServerSlotCNode, irq_endpoint, endpoint, abi::kRightWrite, kIrqBadge) !=
      Error::kNone) {
    return false;
  }
  uint64_t bind[] = {irq_notification};
  if (sys::invoke(sys::kServerSlotCom1Irq, Label::kIrqHandlerSetNotification, bind) !=
      Error::kNone) {
    return false;
  }
  uint64_t configure[] = {sys::kServerSlotCNode, 0, sys::kServerSlotVSpace, 0, 0, 0};
  uint64_t priority[] = {kServerPriority};
  if (sys::invoke(tcb.value(), Label::kTcbConfigure, configure) != Error::kNone ||
      sys::invoke(tcb.value(), Label::kTcbSetPriority, priority) != Error::kNone) {
    return false;
  }
  uint64_t words[1 + abi::kUserRegisterWords] = {};
  words[0] = abi::tcb_message::kWriteResume;
  abi::UserRegisters registers;  // valid when tid is set
  registers.rip = reinterpret_cast<uint64_t>(&irq_thread);
  registers.rsp = reinterpret_cast<uint64_t>(irq_stack + sizeof(irq_stack)) - 8;
  registers.rflags = 0x202;
  memcpy(&words[1], &registers, sizeof(registers));
  return sys::invoke(tcb.value(), Label::kTcbWriteRegisters, words) == Error::kNone;
}

void make_devices(FileTree& tree) {
  struct Device {
    const char* path;
    uint32_t mode;
    uint32_t device;
  };
  const Device devices[] = {
      {"/dev/console", kTypeCharDevice | 0600, (5 << 8) | 1},
      {"/dev/tty", kTypeCharDevice | 0666, (5 << 8) | 0},
      {"/dev/ttyS0", kTypeCharDevice | 0660, (4 << 8) | 64},
      {"/dev/null", kTypeCharDevice | 0666, (1 << 8) | 3},
      {"/dev/zero", kTypeCharDevice | 0666, (1 << 8) | 5},
      {"/dev/random", kTypeCharDevice | 0666, (1 << 8) | 8},
      {"/dev/urandom", kTypeCharDevice | 0666, (1 << 8) | 9},
  };
  for (const Device& d : devices) {
    auto made = tree.create(tree.root(), d.path, d.mode);
    if (made.ok()) made.value()->device = d.device;
  }
  const char* const directories[] = {"/tmp",
                                     "/proc",
                                     "/sys",
                                     "/root",
                                     "/sys/kernel/debug",
                                     "/sys/kernel/tracing",
                                     "/sys/kernel/debug/tracing",
                                     "/sys/fs/bpf",
                                     "/sys/kernel/btf"};
  for (const char* directory : directories) {
    auto made = tree.create(tree.root(), directory, kTypeDirectory | 0755);
    if (made.ok() && strcmp(directory, "/tmp") == 0) made.value()->mode = kTypeDirectory | 01777;
  }
}

// /boot/config-6.1.0 (the release uname gives), made here at start-up; its first lines are
// Linux's, which bpftool checks.
constexpr const char kKernelConfig[] =
    "#\n# Automatically generated file; DO NOT EDIT.\n"
    "# Sonde POSIX personality 6.1.0 Kernel Configuration\n#\n"
    "CONFIG_BPF=y\nCONFIG_BPF_SYSCALL=y\nCONFIG_HAVE_EBPF_JIT=y\nCONFIG_BPF_JIT=y\n"
    "# CONFIG_BPF_JIT_ALWAYS_ON is not set\nCONFIG_DEBUG_INFO_BTF=y\n"
    "CONFIG_PERF_EVENTS=y\nCONFIG_KPROBES=y\nCONFIG_BPF_EVENTS=y\nCONFIG_KPROBE_EVENTS=y\n"
    "# CONFIG_UPROBE_EVENTS is not set\nCONFIG_TRACING=y\nCONFIG_FTRACE_SYSCALLS=y\n"
    "# CONFIG_CGROUPS is not set\n# CONFIG_NET is not set\nCONFIG_HZ=100\n";

// sysfs's CPU files (every CPU the kernel runs threads on is present, possible and online, as
// sched_getaffinity and the trace server's per-CPU maps count them), the kprobe and uprobe PMUs
// whose type numbers perf_event_open takes (the trace server's: 6 and 7, the numbers Linux 6.1 gave
// them, see servers/trace/core/include/trace/perf_event_uapi.hpp), BPF sysctls and the kernel
// configuration.
void make_sysfs(FileTree& tree) {
  struct File {
    const char* path;
    const char* text;
  };
  // Linux's cpulist format: "0" for one CPU, "0-N" for more.
  char cpus[24];
  uint32_t last_cpu = platform::cpu_count() - 1;
  if (last_cpu == 0) {
    rt::format_to(cpus, sizeof(cpus), "0\n");
  } else {
    rt::format_to(cpus, sizeof(cpus), "0-%u\n", last_cpu);
  }
  static_assert(mm::AddressSpace::kMaxAreas == 4096, "vm.max_map_count below says so");
  const File files[] = {
      {"/sys/devices/system/cpu/online", cpus},
      {"/sys/devices/system/cpu/possible", cpus},
      {"/sys/devices/system/cpu/present", cpus},
      {"/sys/bus/event_source/devices/kprobe/type", "6\n"},
      {"/sys/bus/event_source/devices/kprobe/format/retprobe", "config:0\n"},
      {"/sys/bus/event_source/devices/uprobe/type", "7\n"},
      {"/sys/bus/event_source/devices/uprobe/format/retprobe", "config:0\n"},
      {"/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset", "config:32-63\n"},
      // The trace server's settings as Linux's sysctls show them (read-only here): its JIT is
      // on, constant blinding off, JIT images not in kallsyms; unprivileged bpf() as Debian's.
      {"/proc/sys/net/core/bpf_jit_enable", "1\n"},
      {"/proc/sys/net/core/bpf_jit_harden", "0\n"},
      {"/proc/sys/net/core/bpf_jit_kallsyms", "0\n"},
      {"/proc/sys/kernel/unprivileged_bpf_disabled", "2\n"},
      {"/proc/sys/kernel/pid_max", "32768\n"},  // kPidMax
      {"/proc/sys/vm/max_map_count", "4096\n"},
      // Stacks, mmaps and ET_DYN programs go at fixed addresses: no randomization (Linux's 0;
      // bpftrace reads it before resolving uprobe addresses).
      {"/proc/sys/kernel/randomize_va_space", "0\n"},
      // What this system is, in the kernel configuration's terms (bpftool feature, libbpf's
      // __kconfig externs read /boot/config-$(uname -r)).
      {"/boot/config-6.1.0", kKernelConfig},
  };
  for (const File& file : files) {
    auto made = tree.create(tree.root(), file.path, kTypeRegular | 0444);
    if (made.ok()) {
      (void)tree.set_contents(made.value(), reinterpret_cast<const uint8_t*>(file.text),
                              strlen(file.text), true);
    }
  }
  // The BTF of the types the server keeps with Linux's names (kernel/linux_types.h), made by
  // pahole at build time; read-only, as Linux's.
  auto btf = tree.create(tree.root(), "/sys/kernel/btf/vmlinux", kTypeRegular | 0444);
  if (btf.ok()) (void)tree.set_contents(btf.value(), vmlinux_btf, vmlinux_btf_size, false);
}

void read_registers(abi::UserRegisters& registers, const sys::MessageRegisters& mr) {
  static_assert(abi::kUserRegisterWords > abi::kRegisterMessageWords);
  auto* words = reinterpret_cast<uint64_t*>(&registers);
  // The first words came in registers, the rest in the IPC buffer (sys::message_word's split,
  // without its per-word test: this is every system call's path).
  memcpy(words, mr.word, sizeof(mr.word));
  memcpy(words + abi::kRegisterMessageWords,
         &sys::ipc_buffer()->message[abi::kRegisterMessageWords],
         (abi::kUserRegisterWords - abi::kRegisterMessageWords) * sizeof(uint64_t));
}

int signal_for_exception(uint64_t vector) {
  switch (vector) {
    case 0: return 8;  // #DE: SIGFPE
    case 1:
    case 3: return 5;  // #DB, #BP: SIGTRAP
    case 6: return 4;  // #UD: SIGILL
    case 16:
    case 19: return 8;   // x87, SIMD: SIGFPE
    case 17: return 7;   // #AC: SIGBUS
    default: return 11;  // #GP and the rest: SIGSEGV
  }
}

// What the main loop does after a message: answer it now (label and words) or not.
struct Answer {
  bool now = false;
  uint64_t label = 0;
  uint64_t length = 0;
  uint64_t words[abi::kUserRegisterWords];  // the first `length` are sent
  // The thread that waits for it (its system call or page fault), with the registers it
  // faulted with; none for a breakpoint hit (which of the process's threads hit it is not
  // known), and then no thread is interrupted before the answer (uprobes send no signals).
  int tid = 0;
  bool breakpoint = false;
  bool wakes_nobody = false;     // a call that changed nothing a blocked call waits for
  abi::UserRegisters registers;  // valid when tid is set
};

// The registers the thread goes on with once `answer` reaches it.
// si_code for an exception's signal (Linux's traps.c): the address a fault reports is rip for
// SIGFPE and SIGILL, none for SI_KERNEL.
int32_t code_for_exception(uint64_t vector) {
  switch (vector) {
    case 0: return 1;   // FPE_INTDIV
    case 1: return 2;   // TRAP_TRACE (a single step)
    case 6: return 2;   // ILL_ILLOPN
    case 17: return 1;  // BUS_ADRALN
    case 16:
    case 19: return 0;
    default: return 0x80;  // SI_KERNEL (#GP, int3 and the rest)
  }
}

// Runs the handler of a fault's signal: true, and `answer` holds the handler's registers;
// false when the signal is not taken (the caller ends the process with it).
bool fault_signal(Answer& answer, Thread* thread, int signal, const FaultSignal& fault,
                  const abi::UserRegisters& registers) {
  abi::UserRegisters handler = registers;
  if (thread == nullptr || !deliver_fault_signal(thread, signal, fault, handler)) return false;
  answer.now = true;
  memcpy(answer.words, &handler, sizeof(handler));
  answer.label = static_cast<uint64_t>(abi::FaultReply::kSetRegisters);
  answer.length = abi::kUserRegisterWords;
  return true;
}

abi::UserRegisters answered_registers(const Answer& answer) {
  abi::UserRegisters registers = answer.registers;
  if (answer.label == static_cast<uint64_t>(abi::FaultReply::kSetRegisters)) {
    memcpy(&registers, answer.words, sizeof(registers));
  } else if (answer.label == static_cast<uint64_t>(abi::FaultReply::kSetResult)) {
    registers.rax = answer.words[0];
  }
  return registers;
}

// Signals for threads in user mode (signal/interrupt.cpp), before the answer goes out. A
// thread whose process stopped during its call does not run on: it is answered with Suspend
// and parked with the registers the answer would have given it.
void interrupt_before_answer(Answer& answer) {
  if (answer.now && answer.breakpoint) return;
  int serving = answer.now ? answer.tid : 0;
  interrupt_user_threads(serving);
  if (serving == 0) return;
  Thread* thread = find_thread(serving);
  if (thread == nullptr || !thread->process->stopped ||
      thread->process->state != ProcessState::kRunning) {
    return;
  }
  thread->saved = answered_registers(answer);
  thread->parked = true;
  thread->parked_answer = true;
  answer.label = static_cast<uint64_t>(abi::FaultReply::kSuspend);
  answer.length = 0;
}

// Fills `answer` (fresh) in place: it is large, and this is every system call's path.
void serve_fault(Answer& answer, uint64_t badge, uint64_t label, const sys::MessageRegisters& mr) {
  // The badge is the faulting thread's tid (task/process.hpp), breakpoint hits' too (the
  // Breakpoint objects are bound with kBindToThread). Only a hit of a TCB with no fault
  // endpoint would come through the process's cap (badge = pid) once the leader is gone.
  Thread* thread = find_thread(static_cast<int>(badge));
  Process* process = thread != nullptr ? thread->process : nullptr;
  if (process == nullptr && static_cast<abi::FaultKind>(label) == abi::FaultKind::kBreakpoint) {
    process = find_process(static_cast<int>(badge));
  }
  if (process == nullptr || process->state != ProcessState::kRunning) {
    answer.now = true;
    answer.label = static_cast<uint64_t>(abi::FaultReply::kSuspend);
    return;
  }
  // Read straight into the answer (every system call's path: no copy of them is made here).
  const abi::UserRegisters& registers = answer.registers;
  read_registers(answer.registers, mr);
  // The CPU it faulted on: probes on what the server does for it report it (as Linux's run on
  // the task's CPU), getcpu returns it.
  auto cpu = static_cast<uint32_t>(sys::message_word(mr, abi::kFaultCpuWord));
  if (thread != nullptr) thread->cpu = cpu;
  use_current_cpu(cpu);
  answer.tid = thread != nullptr ? thread->tid : 0;
  answer.breakpoint = static_cast<abi::FaultKind>(label) == abi::FaultKind::kBreakpoint;
  switch (static_cast<abi::FaultKind>(label)) {
    case abi::FaultKind::kForeignSyscall: {
      if (process->stopped) {  // held, not served, until SIGCONT (wake_blocked serves it then)
        thread->blocked = true;
        thread->entered = false;
        thread->wait_reason = WaitReason::kAny;
        thread->saved = registers;
        thread->reply = detach_receive_reply();
        publish_waiting_registers(*thread, true);
        return;
      }
      SyscallContext context{process, thread, registers, false};
      int tid = thread->tid;
      uint64_t destroyed = threads_destroyed();
      uint64_t trace_seen = trace_events();  // before the call polls the trace server
      int64_t result = dispatch_syscall(context);
      // The caller may have ended in its own call without being what the call ended (an exit
      // it caused orphaned its stopped group, whose SIGHUP ended it): nothing left to answer.
      if (threads_destroyed() != destroyed && find_thread(tid) != thread) return;
      // Signals to act on before the answer (the common case, none, decided inline).
      if (result != kNoReply && result != kDeferred &&
          (deliverable_signals(thread) != 0 || thread->interrupted)) {
        result = deliver_signals(context, result);
      }
      if (result == kNoReply) return;
      if (result == kDeferred) {
        if (find_thread(tid) != thread) return;  // it ended meanwhile
        block_thread(thread, context, trace_seen);
        ++thread->usage.voluntary_switches;  // it sleeps
        thread->saved = registers;
        thread->reply = detach_receive_reply();
        publish_waiting_registers(*thread, true);
        return;
      }
      answer.now = true;
      answer.wakes_nobody = syscall_wakes_nobody(registers.rax) && !context.replace_registers;
      if (context.replace_registers) {
        context.registers.rax = static_cast<uint64_t>(result);
        memcpy(answer.words, &context.registers, sizeof(context.registers));
        answer.label = static_cast<uint64_t>(abi::FaultReply::kSetRegisters);
        answer.length = abi::kUserRegisterWords;
      } else {
        answer.words[0] = static_cast<uint64_t>(result);
        answer.label = static_cast<uint64_t>(abi::FaultReply::kSetResult);
        answer.length = 1;
      }
      return;
    }
    case abi::FaultKind::kPage: {
      use_current_task(process);  // as Linux, a page fault is the faulting task's
      uint64_t address = sys::message_word(mr, abi::kFaultAddressWord);
      uint64_t access = sys::message_word(mr, abi::kFaultDetailWord);
      int signal = process->memory->handle_fault(address, access);
      trace_page_fault_user(address, registers.rip, access, signal == 0);
      if (signal == 0) {
        if (thread != nullptr) ++thread->usage.minor_faults;
        answer.now = true;
        answer.label = static_cast<uint64_t>(abi::FaultReply::kResume);
        return;
      }
      // SEGV_ACCERR where something is mapped, SEGV_MAPERR where nothing is; BUS_ADRERR.
      FaultSignal fault{signal == 11 ? (process->memory->find_area(address) != nullptr ? 2 : 1) : 2,
                        address};
      if (fault_signal(answer, thread, signal, fault, registers)) return;
      tty::log("posix: pid %d (%s): %s at 0x%lx rip 0x%lx access 0x%lx\n", process->pid,
               process->comm, signal == 11 ? "segfault" : "bus error", address, registers.rip,
               access);
      finish_process(process, signal);
      return;
    }
    case abi::FaultKind::kBreakpoint: {
      // A uprobe (tracing/uprobes.hpp): the programs run, then the thread goes on. Nothing a
      // blocked call waits for changes (a program's output wakes readers through the trace
      // server's wakeup), so the blocked calls are not walked again.
      uint64_t address = sys::message_word(mr, abi::kFaultAddressWord);
      answer.now = true;
      answer.wakes_nobody = true;
      int tid = thread != nullptr ? thread->tid : process->pid;
      // What the probe's plan makes of the registers, in place: nothing reads the hit's own
      // after it (no thread is interrupted before a breakpoint's answer).
      abi::UserRegisters& hit = answer.registers;
      if (uprobes_hit(process, tid, hit, address)) {
        memcpy(answer.words, &hit, sizeof(hit));
        answer.label = static_cast<uint64_t>(abi::FaultReply::kSetRegisters);
        answer.length = abi::kUserRegisterWords;
      } else {
        answer.label = static_cast<uint64_t>(abi::FaultReply::kResume);
      }
      return;
    }
    default: {
      uint64_t vector = sys::message_word(mr, abi::kFaultAddressWord);
      int signal = signal_for_exception(vector);
      // si_addr: the instruction for SIGFPE, SIGILL and a single step's SIGTRAP (Linux's
      // error_get_trap_addr and send_sigtrap), none for SI_KERNEL.
      bool at_instruction = signal == 8 || signal == 4 || vector == 1;
      FaultSignal fault{code_for_exception(vector), at_instruction ? registers.rip : 0};
      if (fault_signal(answer, thread, signal, fault, registers)) return;
      tty::log("posix: pid %d (%s): exception %lu at rip 0x%lx: signal %d\n", process->pid,
               process->comm, vector, registers.rip, signal);
      finish_process(process, signal);
      return;
    }
  }
}

[[noreturn]] void serve(uint64_t endpoint) {
  sys::MessageRegisters mr;
  sys::IpcResult r = sys::recv(endpoint, receive_reply(), mr);
  for (;;) {
    Answer answer;
    if (r.error == Error::kNone) {
      // A helper thread's badge lies above every tid: one test on every system call's path.
      if (r.badge < kIrqBadge) {
        serve_fault(answer, r.badge, r.info.label, mr);
      } else {
        use_current_task(nullptr);  // for nobody: probes there see the idle task
        answer.now = true;
        if (r.badge == kTimerBadge) {
          timer_expired();  // the retries below end the sleeps that are due
        } else if (r.badge == kTraceWakeupBadge) {
          trace_wakeup();  // the retries below go on with calls waiting on trace files
        } else {
          note_console_event();  // a console read waits for this
          int signal = tty::receive();
          (void)sys::invoke(sys::kServerSlotCom1Irq, Label::kIrqHandlerAck);
          if (signal != 0) console_signal(signal);
        }
      }
      // A call that only reported changed nothing blocked calls, signals or timers depend on.
      if (!answer.wakes_nobody) {
        wake_blocked();
        interrupt_before_answer(answer);
        arm_timer();
      }
    }
    if (answer.now) {
      sys::MessageRegisters out;
      sys::load_message(out, answer.words, answer.length);
      mr = out;
      r = sys::reply_recv(endpoint, receive_reply(), answer.label, mr, answer.length);
    } else {
      r = sys::recv(endpoint, receive_reply(), mr);
    }
  }
}

}  // namespace

// The end of the server's image (the linker's): all of it must lie in the window that Linux
// programs see at the kernel alias (rt/kernel_alias.hpp).
extern "C" char _end[];

extern "C" int main(const sys::ServerStartInfo* info) {
  auto* buffer = reinterpret_cast<abi::IpcBuffer*>(sys::kServerIpcBuffer);
  buffer->user_data = sys::kServerIpcBuffer;
  sys::debug_console = sys::kServerSlotDebugConsole;
  sys::clock_page = reinterpret_cast<const abi::ClockPage*>(sys::kServerClockPage);
  if (info->magic != sys::kServerStartMagic) {
    sys::print("posix: bad start information\n");
    return 1;
  }
  if (reinterpret_cast<uint64_t>(_end) - abi::kServerImageStart > abi::kServerImageWindow) {
    sys::print("posix: the server's image is larger than its kernel alias window\n");
    return 1;
  }
  platform::init(*info);
  tty::init(sys::kServerSlotCom1,
            (info->flags & sys::kStartFlagHasCom2) != 0 ? sys::kServerSlotCom2 : 0);
  init_power(sys::kServerSlotDebugExit);
  init_wall_clock(sys::kServerSlotRtc);
  init_trace_service(*info);
  tty::log("posix: the POSIX personality server is up\n");

  auto* tree = new (tree_storage) FileTree(platform::heap());
  if (info->module_frames > 0) {
    for (uint64_t i = 0; i < info->module_frames; ++i) {
      if (platform::map_frame(sys::kServerSlotFirstModule + i, sys::kServerSlotVSpace,
                              platform::kInitramfsBase + i * platform::kPage,
                              abi::kMapRead) != Error::kNone) {
        tty::log("posix: cannot map the initramfs\n");
        return 1;
      }
    }
    const auto* archive =
        reinterpret_cast<const uint8_t*>(platform::kInitramfsBase + info->module_offset);
    auto unpacked = unpack_initramfs(*tree, archive, info->module_size);
    if (!unpacked.ok()) {
      tty::log("posix: the initramfs is malformed: %s\n",
               unpacked.error().message != nullptr ? unpacked.error().message : "?");
    } else {
      tty::log("posix: initramfs: %lu entries\n", unpacked.value());
    }
  }
  make_devices(*tree);
  make_sysfs(*tree);
  if (auto kallsyms = make_kallsyms(*tree, *info); !kallsyms.ok()) {
    tty::log("posix: no /proc/kallsyms: errno %d\n", kallsyms.error().code);
  }
  mount_tracefs(*tree);

  auto endpoint = platform::make_object(ObjectType::kEndpoint);
  auto empty_cnode = platform::make_object(ObjectType::kCNode, 1);
  auto reply = platform::make_object(ObjectType::kReply);
  if (!endpoint.ok() || !empty_cnode.ok() || !reply.ok()) {
    tty::log("posix: out of memory at start\n");
    return 1;
  }
  init_replies(reply.value());
  init_tasks(TaskResources{endpoint.value(), empty_cnode.value()}, *tree);
  if (!start_irq_thread(endpoint.value())) tty::log("posix: no console input (IRQ 4)\n");
  init_timer(endpoint.value(), kTimerBadge);
  init_trace_wakeup(endpoint.value(), kTraceWakeupBadge);

  const char* const argv[] = {"/init", nullptr};
  const char* const envp[] = {"HOME=/", "TERM=vt100", "PATH=/sbin:/usr/sbin:/bin:/usr/bin",
                              nullptr};
  auto init = spawn_init("/init", argv, envp);
  if (!init.ok()) {
    tty::log("posix: cannot start /init: errno %d\n", init.error().code);
    const char* const shell[] = {"/bin/sh", nullptr};
    init = spawn_init("/bin/sh", shell, envp);
    if (!init.ok()) {
      tty::log("posix: cannot start /bin/sh either: errno %d\n", init.error().code);
      return 1;
    }
  }
  serve(endpoint.value());
}
