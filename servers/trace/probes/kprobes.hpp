// SPDX-License-Identifier: MIT
// Kprobes on POSIX-server functions: one Breakpoint object per probed address (entry NOPs),
// several clients (tracefs events, BPF programs) per probe; hits arrive as breakpoint faults.
#pragma once

#include <stdint.h>

#include "rt/result.hpp"
#include "sonde/abi/ipc.hpp"
#include "trace/probe_record.hpp"
#include "trace/xol.hpp"
#include "traced_memory.hpp"

namespace trace {

// Told of every hit of a probe it is attached to, while the traced thread waits.
class KprobeClient {
 public:
  virtual void on_hit(const PtRegs& regs, uint64_t address, TracedMemory& memory) = 0;
  // A return probe: `function` returned to `return_address` (regs.ax holds its value).
  virtual void on_return(const PtRegs& regs, uint64_t function, uint64_t return_address,
                         TracedMemory& memory) {
    (void)regs;
    (void)function;
    (void)return_address;
    (void)memory;
  }
  // Whether /sys/kernel/debug/kprobes/list shows this client as a kprobe of its own (Linux's
  // registered struct kprobe): kprobe events and kprobe PMU events are; tracepoint hooks and
  // kprobe_multi functions (fprobe in Linux) are not.
  virtual bool listed() const { return false; }
  // A return client that reads the call's arguments at its return (fexit): the probe keeps
  // them at each entry (Kprobes::entry_arguments).
  virtual bool needs_entry_arguments() const { return false; }
  // A static key's client: the POSIX server reads the probed byte (an int3 while armed) and never
  // executes it, so its probe is an int3, never a call probe.
  virtual bool is_key() const { return false; }

 protected:
  ~KprobeClient() = default;
};

// Told around the clients of every hit (the helpers' environment follows the traced task).
class HitObserver {
 public:
  // The registers a hit's stack walks start from (bpf_get_stack, bpf_get_stackid): a
  // POSIX-server function's at its entry or at a return probe's return, or the traced process's
  // at a uprobe; kernel samples have none. `regs` stays valid (the caller's) until hit_ends, so
  // an observer keeps a pointer, not a copy.
  enum class HitRegisters { kServerEntry, kServerReturn, kUser };
  // A hit begins (`regs` null: a hit without registers). Not virtual, nor hit_ends: every
  // probe hit tells both, and what they keep is the observer's state below.
  void hit_begins(TracedMemory& memory, const PtRegs* regs, HitRegisters kind) {
    hit_memory_ = &memory;
    task_pending_ = true;
    hit_regs_ = regs;
    hit_kind_ = kind;
    has_registers_ = regs != nullptr;
  }
  // A sample of a probe on a microkernel function (current_kernel_sample() says which).
  virtual void kernel_hit_begins(TracedMemory& memory) = 0;
  // Within such a sample: the Linux task the event stands for (a scheduling tracepoint's), for
  // the helpers (bpf_get_current_pid_tgid, _comm, _task).
  virtual void kernel_hit_task(int32_t tid, int32_t tgid, const char* comm, uint64_t task) {
    (void)tid;
    (void)tgid;
    (void)comm;
    (void)task;
  }
  void hit_ends() {
    task_pending_ = false;
    has_registers_ = false;
    hit_memory_ = nullptr;
    hit_task_ = 0;
    hit_user_pages_ = 0;
  }

 protected:
  ~HitObserver() = default;
  // The hit under way: the memory its helpers read, its registers and their kind; the task is
  // read at the first question (task_pending_), its task_struct and page map then kept.
  TracedMemory* hit_memory_ = nullptr;
  const PtRegs* hit_regs_ = nullptr;
  HitRegisters hit_kind_ = HitRegisters::kServerEntry;
  bool has_registers_ = false;
  bool task_pending_ = false;
  uint64_t hit_task_ = 0;
  uint64_t hit_user_pages_ = 0;
};

class KernelProbes;
class PosixSymbols;

class Kprobes {
 public:
  static constexpr uint64_t kFirstBadge = 0x1000;
  static constexpr uint32_t kMaxProbes = 256;
  static constexpr uint32_t kMaxClients = 8;

  // `traced_vspace`: the POSIX server's VSpace (Write: breakpoints, Read: borrows);
  // `endpoint`: where this server receives (hits come there badged per probe).
  Kprobes(uint64_t traced_vspace, uint64_t endpoint)
      : vspace_(traced_vspace), endpoint_(endpoint), memory_(traced_vspace) {}

  // Arms `address` (a function's entry NOP) for `client`; the breakpoint is made with the
  // first client. ENOSPC past kMaxProbes or kMaxClients, ENOMEM, EINVAL for an address the
  // kernel refuses (not executable code of the traced VSpace).
  [[nodiscard]] rt::Result<void> attach(uint64_t address, KprobeClient* client);
  // Removes the client; the last one takes the breakpoint away.
  void detach(uint64_t address, KprobeClient* client);
  // Addresses in the kernel's half go to `kernel` (kprobes on microkernel functions, whose
  // clients run on samples); without it they are EOPNOTSUPP.
  void set_kernel(KernelProbes* kernel) { kernel_ = kernel; }

  // Return probes need the POSIX server's shim, trampoline, the trampoline's key and the
  // pending-return stack (servers/posix/kernel/kretprobe.S); without them attach_return is
  // EOPNOTSUPP.
  struct ReturnSupport {
    uint64_t shim = 0;
    uint64_t shim_size = 0;
    uint64_t trampoline = 0;
    uint64_t trampoline_size = 0;
    uint64_t key = 0;  // kretprobe_return_key: breakpointed while return probes exist
    uint64_t key_size = 0;
    uint64_t depth = 0;             // &kretprobe_depth
    uint64_t return_addresses = 0;  // kretprobe_return_addresses[64]
    uint64_t functions = 0;         // kretprobe_functions[64] (function + 5)
    // kprobe_entry_stub: with it, probes on functions are call probes (the kernel writes a call
    // to it over the entry NOP) and their hits come as calls (entry_called), not traps.
    uint64_t entry_stub = 0;
    uint64_t entry_stub_size = 0;
  };
  // The pending-return stack is read at every return hit: its pages stay borrowed.
  void set_return_support(const ReturnSupport& support) {
    returns_ = support;
    if (support.depth != 0) {
      (void)memory_.pin(support.depth, 8);
      (void)memory_.pin(support.return_addresses, 64 * 8);
      (void)memory_.pin(support.functions, 64 * 8);
      depth_word_ = memory_.pinned_words(support.depth, 8);
      return_words_ = memory_.pinned_words(support.return_addresses, 64 * 8);
      function_words_ = memory_.pinned_words(support.functions, 64 * 8);
    }
  }
  // Linux's kprobe blacklist (NOKPROBE_SYMBOL): code that probes themselves run through, here
  // the return-probe shim and trampoline. A probe inside is EINVAL, as Linux answers.
  bool blacklisted(uint64_t address) const;
  // Each blacklisted range [start, end) with the function's address, for kprobes/blacklist.
  template <typename F>
  void each_blacklisted(F&& f) const {
    if (returns_.shim != 0) f(returns_.shim, returns_.shim + returns_.shim_size);
    if (returns_.trampoline != 0) {
      f(returns_.trampoline, returns_.trampoline + returns_.trampoline_size);
    }
    if (returns_.key != 0) f(returns_.key, returns_.key + returns_.key_size);
    if (returns_.entry_stub != 0)
      f(returns_.entry_stub, returns_.entry_stub + returns_.entry_stub_size);
    if (xol_page_ != 0) f(xol_page_, xol_page_ + kXolPageSize);
  }
  // Kprobes inside POSIX-server functions (an int3 on any instruction boundary, Linux's
  // func+offs): the POSIX server's page of out-of-line slots (`page` there, writable here at
  // `window`), and its symbols for the functions' starts. Without them kprobes sit on function
  // entries only. `instance` spreads a restarted server's first slots away from its
  // predecessor's (a thread may be about to run one of those).
  void set_inside_support(const PosixSymbols* symbols, uint64_t page, volatile uint8_t* window,
                          uint64_t instance) {
    symbols_ = symbols;
    xol_page_ = page;
    xol_window_ = window;
    next_slot_ = static_cast<uint32_t>((instance * 37) % kXolSlots);
  }
  // Whether a kprobe may sit at `address`: a POSIX-server function's entry NOP, or an
  // instruction boundary inside a function (found by decoding it from its start, as Linux's
  // can_probe) whose instruction can run out of line. EILSEQ inside an instruction or outside
  // every function, EINVAL for an instruction that cannot run out of line; microkernel addresses
  // are left to the kernel, which refuses anything but a function's entry.
  [[nodiscard]] rt::Result<void> check_probe_point(uint64_t address);
  // A return probe on the function at `address` for `client`.
  [[nodiscard]] rt::Result<void> attach_return(uint64_t address, KprobeClient* client);
  void detach_return(uint64_t address, KprobeClient* client);

  bool handles(uint64_t badge) const {
    return badge >= kFirstBadge && badge < kFirstBadge + kMaxProbes;
  }
  // A breakpoint fault: runs every client of the probe. True when the thread must go on with
  // the rip and r11 set here in `registers` (into the return shim; nothing else changes), else
  // Resume. Call probes hit this way too while the kernel writes or removes their call.
  bool hit(uint64_t badge, sonde::abi::UserRegisters& registers, uint64_t address);
  // The entry stub's call (sys::kKprobeEntryLabel): a call probe's function was entered, its
  // registers laid out at `saved` as a struct pt_regs (ip = the function + 1), then the
  // function + 5. Runs every client of the probe; true when the function must go on through
  // the return shim.
  bool entry_called(uint64_t saved);
  // The trampoline's call (sys::kKretprobeReturnLabel): a probed function returned with the
  // registers laid out at `saved` on the POSIX server's stack as a struct pt_regs (ip = the
  // real return address); runs the return clients of the pending return it pops.
  void return_called(uint64_t saved);
  uint64_t hits() const { return hits_; }
  // During a return client's on_return: the six argument registers the call had at its entry,
  // or nullptr when its entry was not seen keeping them.
  const uint64_t* entry_arguments() const { return entry_arguments_; }
  // Every listed client of every armed probe, entry clients first (kprobes/list).
  void each_listed(void (*visit)(void* context, uint64_t address, bool is_return),
                   void* context) const;
  void set_observer(HitObserver* observer) { observer_ = observer; }
  HitObserver* observer() const { return observer_; }
  // The POSIX server's memory as hits borrow it (one window: kernel samples use it too).
  BorrowedMemory& memory() { return memory_; }
  // The crash drill: fault inside the next hit, while the traced thread waits on it.
  void crash_at_next_hit() { crash_at_next_hit_ = true; }
  void crash_at_next_return() { crash_at_next_return_ = true; }

 private:
  struct Probe {
    uint64_t address = 0;  // 0: free
    uint64_t breakpoint = 0;
    uint64_t badged_endpoint = 0;
    KprobeClient* clients[kMaxClients] = {};
    uint32_t client_count = 0;
    KprobeClient* return_clients[kMaxClients] = {};
    uint32_t return_count = 0;
    bool trampoline = false;       // the return trampoline's own probe
    bool keeps_arguments = false;  // a return client needs_entry_arguments
    int16_t slot = -1;             // inside a function: its out-of-line slot
    uint8_t original = 0;          // inside a function: the byte the int3 replaced
  };
  // The out-of-line slots: taken round-robin, so a freed slot is written again only after the
  // others were (a thread resumed into it just before its probe went still runs the old copy).
  static constexpr uint64_t kXolPageSize = 4096;
  static constexpr uint32_t kXolSlots = kXolPageSize / 32;  // kKprobeSlotSize each
  const PosixSymbols* symbols_ = nullptr;
  uint64_t xol_page_ = 0;
  volatile uint8_t* xol_window_ = nullptr;
  bool slot_used_[kXolSlots] = {};
  uint32_t next_slot_ = 0;
  // Whether `address` lies inside a function (not at its start); its start in `start`.
  bool inside_function(uint64_t address, uint64_t& start) const;
  // Decodes the function from `start` to `address` (armed probes read as their original
  // bytes) and plans the instruction there out of line.
  // `original` receives the instruction's first byte.
  [[nodiscard]] rt::Result<XolPlan> plan_inside(uint64_t address, uint64_t start,
                                                uint8_t& original);
  // The arguments of each pending return, by its depth in the POSIX server's pending-return
  // stack (kretprobe.S: 64 deep), with the function they belong to.
  struct EntryArguments {
    uint64_t function = 0;
    uint64_t registers[6] = {};
  };
  static constexpr uint32_t kReturnDepth = 64;
  EntryArguments pending_arguments_[kReturnDepth];
  const uint64_t* entry_arguments_ = nullptr;
  void keep_arguments(const Probe& probe, const PtRegs& regs);
  // The POSIX server's stacks live as long as it: the pages just above a hit's rsp (where the
  // probed function's arguments and its callers' locals are) stay borrowed, so later hits read
  // them without mapping (a few stacks: the serving thread's, at a few depths).
  static constexpr uint32_t kStackPins = 6;
  uint32_t stack_pins_ = 0;
  uint64_t pinned_stack_low_ = 0, pinned_stack_high_ = 0;  // pages pin_stack found pinned
  static constexpr uint64_t kStackAbove = 1024;  // the frames a program reads from: its caller's
  void pin_stack(uint64_t rsp) {
    // Mostly the range the last hit found pinned (hits of one call path come at one rsp).
    if (rsp < pinned_stack_low_ || rsp + kStackAbove > pinned_stack_high_) pin_new_stack(rsp);
  }
  void pin_new_stack(uint64_t rsp);
  // A new probe is a call probe when `as_call` and the POSIX server has the entry stub.
  [[nodiscard]] rt::Result<Probe*> arm(uint64_t address, bool as_call);
  // Runs an entry hit's clients on `regs` (ip = the probed `address` + 1 at the kernel alias,
  // sp as at the entry);
  // true when the function must go on through the return shim.
  [[gnu::always_inline]] bool run_entry(Probe& probe, const PtRegs& regs, uint64_t address);
  void release_if_unused(Probe& probe);
  [[gnu::always_inline]] void returned(const PtRegs& regs);
  uint32_t return_probes_ = 0;  // probes with return clients (the trampoline is armed while > 0)
  ReturnSupport returns_;
  // The pending-return words in their pinned pages (null: read through memory_).
  const volatile uint64_t* depth_word_ = nullptr;
  const volatile uint64_t* return_words_ = nullptr;
  const volatile uint64_t* function_words_ = nullptr;
  bool read_depth(uint64_t& depth) {
    if (depth_word_ == nullptr) return memory_.read_word(depth, returns_.depth);
    depth = *depth_word_;
    return true;
  }
  // The probe at `address` (0: a free one). Every hit asks: a direct-mapped cache of where each
  // address was found last, checked against the probe (a freed or reused one fails the check).
  Probe* find(uint64_t address) {
    if (address == 0) return scan(0);
    uint16_t& cached = found_[(address ^ (address >> 7)) % kFoundSlots];
    if (cached < kMaxProbes && probes_[cached].address == address) return &probes_[cached];
    Probe* probe = scan(address);
    if (probe != nullptr) cached = static_cast<uint16_t>(probe - probes_);
    return probe;
  }
  Probe* scan(uint64_t address);
  static constexpr uint32_t kFoundSlots = 64;
  uint16_t found_[kFoundSlots] = {};
  void disarm(Probe& probe);

  uint64_t vspace_;
  uint64_t endpoint_;
  KernelProbes* kernel_ = nullptr;
  BorrowedMemory memory_;
  Probe probes_[kMaxProbes];
  uint64_t hits_ = 0;
  HitObserver* observer_ = nullptr;
  bool crash_at_next_hit_ = false;
  bool crash_at_next_return_ = false;
};

// Linux's pt_regs from a fault message's registers (ip = the probed address). Inline: a hit's
// copy of the message words and this one fold into one (a uprobe hit's registers come as words).
inline PtRegs pt_regs_from(const sonde::abi::UserRegisters& r) {
  PtRegs regs{};
  regs.r15 = r.r15;
  regs.r14 = r.r14;
  regs.r13 = r.r13;
  regs.r12 = r.r12;
  regs.bp = r.rbp;
  regs.bx = r.rbx;
  regs.r11 = r.r11;
  regs.r10 = r.r10;
  regs.r9 = r.r9;
  regs.r8 = r.r8;
  regs.ax = r.rax;
  regs.cx = r.rcx;
  regs.dx = r.rdx;
  regs.si = r.rsi;
  regs.di = r.rdi;
  regs.orig_ax = ~uint64_t{0};
  regs.ip = r.rip;
  regs.cs = 0x33;  // the user code segment the POSIX server runs in
  regs.flags = r.rflags;
  regs.sp = r.rsp;
  regs.ss = 0x2b;
  return regs;
}

}  // namespace trace
