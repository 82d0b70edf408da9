// SPDX-License-Identifier: MIT
// Kernel tests of TCB ReadFpu and WriteFpu: a thread's FPU/SSE state read and replaced by the
// holder of its TCB cap, what is refused, and that nobody else's state changes.
#include "suite.hpp"

namespace kernel_tests {

namespace {

namespace m = abi::tcb_message;

// xmm0..15 as 16-byte values, two words each.
struct alignas(16) XmmBank {
  uint64_t q[32];
};

}  // namespace

// What the thread functions below load into and store from their registers, and the caps they
// use, under plain symbol names: the asm that touches xmm registers names them itself, so no
// compiled code (which may use xmm registers) runs between loading and storing.
extern "C" {
XmmBank fpu_test_loaded asm("fpu_test_loaded");
XmmBank fpu_test_seen asm("fpu_test_seen");
uint32_t fpu_test_mxcsr asm("fpu_test_mxcsr");
uint64_t fpu_test_ready asm("fpu_test_ready");
uint64_t fpu_test_gate asm("fpu_test_gate");
uint64_t fpu_test_spins asm("fpu_test_spins");
}

namespace {

#define FPU_TEST_STORE_XMM                                                                \
  "movdqu %%xmm0, fpu_test_seen+0(%%rip)\n movdqu %%xmm1, fpu_test_seen+16(%%rip)\n"      \
  "movdqu %%xmm2, fpu_test_seen+32(%%rip)\n movdqu %%xmm3, fpu_test_seen+48(%%rip)\n"     \
  "movdqu %%xmm4, fpu_test_seen+64(%%rip)\n movdqu %%xmm5, fpu_test_seen+80(%%rip)\n"     \
  "movdqu %%xmm6, fpu_test_seen+96(%%rip)\n movdqu %%xmm7, fpu_test_seen+112(%%rip)\n"    \
  "movdqu %%xmm8, fpu_test_seen+128(%%rip)\n movdqu %%xmm9, fpu_test_seen+144(%%rip)\n"   \
  "movdqu %%xmm10, fpu_test_seen+160(%%rip)\n movdqu %%xmm11, fpu_test_seen+176(%%rip)\n" \
  "movdqu %%xmm12, fpu_test_seen+192(%%rip)\n movdqu %%xmm13, fpu_test_seen+208(%%rip)\n" \
  "movdqu %%xmm14, fpu_test_seen+224(%%rip)\n movdqu %%xmm15, fpu_test_seen+240(%%rip)\n" \
  "stmxcsr fpu_test_mxcsr(%%rip)\n"
#define FPU_TEST_LOAD_XMM                                                                     \
  "movdqu fpu_test_loaded+0(%%rip), %%xmm0\n movdqu fpu_test_loaded+16(%%rip), %%xmm1\n"      \
  "movdqu fpu_test_loaded+32(%%rip), %%xmm2\n movdqu fpu_test_loaded+48(%%rip), %%xmm3\n"     \
  "movdqu fpu_test_loaded+64(%%rip), %%xmm4\n movdqu fpu_test_loaded+80(%%rip), %%xmm5\n"     \
  "movdqu fpu_test_loaded+96(%%rip), %%xmm6\n movdqu fpu_test_loaded+112(%%rip), %%xmm7\n"    \
  "movdqu fpu_test_loaded+128(%%rip), %%xmm8\n movdqu fpu_test_loaded+144(%%rip), %%xmm9\n"   \
  "movdqu fpu_test_loaded+160(%%rip), %%xmm10\n movdqu fpu_test_loaded+176(%%rip), %%xmm11\n" \
  "movdqu fpu_test_loaded+192(%%rip), %%xmm12\n movdqu fpu_test_loaded+208(%%rip), %%xmm13\n" \
  "movdqu fpu_test_loaded+224(%%rip), %%xmm14\n movdqu fpu_test_loaded+240(%%rip), %%xmm15\n"
#define FPU_TEST_CLOBBERS                                                                   \
  "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", \
      "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

// Stores the registers it started with, then signals `done`.
void show_xmm(uint64_t done) {
  asm volatile(FPU_TEST_STORE_XMM ::: FPU_TEST_CLOBBERS);
  (void)sys::signal(done);
}

// Loads fpu_test_loaded, signals fpu_test_ready, waits for fpu_test_gate (blocked, its state
// is in its TCB), then stores what its registers hold and signals `done`.
void hold_xmm(uint64_t done) {
  asm volatile(FPU_TEST_LOAD_XMM
               "mov %[send], %%eax\n mov fpu_test_ready(%%rip), %%rdi\n xor %%esi, %%esi\n"
               "syscall\n"
               "mov %[recv], %%eax\n mov fpu_test_gate(%%rip), %%rdi\n xor %%esi, %%esi\n"
               "xor %%edx, %%edx\n syscall\n" FPU_TEST_STORE_XMM
               :
               : [send] "i"(abi::Syscall::kSend), [recv] "i"(abi::Syscall::kRecv)
               : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "r8", "r9", "r10", "r12", "r13", "r14",
                 "r15", "rbx", FPU_TEST_CLOBBERS);
  (void)sys::signal(done);
}

// Loads fpu_test_loaded, signals fpu_test_ready, then counts in rbx for ever (never entering
// the kernel), storing each count in fpu_test_spins.
void spin_xmm(uint64_t) {
  asm volatile(FPU_TEST_LOAD_XMM
               "mov %[send], %%eax\n mov fpu_test_ready(%%rip), %%rdi\n xor %%esi, %%esi\n"
               "syscall\n"
               "xor %%ebx, %%ebx\n"
               "1: inc %%rbx\n mov %%rbx, fpu_test_spins(%%rip)\n jmp 1b\n"
               :
               : [send] "i"(abi::Syscall::kSend)
               : "rax", "rdi", "rsi", "rcx", "r11", "rbx", FPU_TEST_CLOBBERS);
}

// Fills an xmm bank with values that tell the registers and `seed` apart.
void pattern(XmmBank& bank, uint64_t seed) {
  for (uint64_t i = 0; i < 32; ++i) bank.q[i] = seed * 0x0101010101010101ull ^ (i << 56) ^ i;
}

// A thread's FPU state as ReadFpu returns it.
struct FpuState {
  uint64_t features = 0;
  uint64_t area[m::kFpuAreaBytes / 8] = {};
  uint16_t fcw() const { return static_cast<uint16_t>(area[0]); }
  uint32_t mxcsr() const { return static_cast<uint32_t>(area[m::kFpuMxcsrOffset / 8]); }
  void set_mxcsr(uint32_t value) {
    uint64_t& word = area[m::kFpuMxcsrOffset / 8];
    word = (word & ~0xffffffffull) | value;
  }
  uint64_t* xmm(int index) { return &area[160 / 8 + 2 * index]; }
};

Error read_fpu(uint64_t tcb, FpuState& state, uint64_t* length = nullptr) {
  sys::MessageRegisters out;
  abi::MessageInfo info;
  Error e = sys::invoke(tcb, Label::kTcbReadFpu, nullptr, 0, &out, &info);
  if (length != nullptr) *length = info.length;
  if (e != Error::kNone) return e;
  state.features = sys::message_word(out, m::kFpuFeatures);
  for (uint64_t i = 0; i < m::kFpuAreaBytes / 8; ++i) {
    state.area[i] = sys::message_word(out, m::kFpuArea + i);
  }
  return e;
}

Error write_fpu(uint64_t tcb, const FpuState& state, uint64_t words = m::kFpuLength) {
  uint64_t message[m::kFpuLength];
  message[m::kFpuFeatures] = state.features;
  for (uint64_t i = 0; i < m::kFpuAreaBytes / 8; ++i) message[m::kFpuArea + i] = state.area[i];
  return sys::invoke(tcb, Label::kTcbWriteFpu, message, words);
}

bool same_area(const FpuState& a, const FpuState& b) {
  // Bytes 464..511 are software's: compare the state the CPU uses.
  for (uint64_t i = 0; i < 464 / 8; ++i) {
    if (a.area[i] != b.area[i]) return false;
  }
  return a.features == b.features;
}

bool bank_is(const XmmBank& bank, FpuState& state) {
  for (int i = 0; i < 16; ++i) {
    if (bank.q[2 * i] != state.xmm(i)[0] || bank.q[2 * i + 1] != state.xmm(i)[1]) return false;
  }
  return true;
}

void put_bank(FpuState& state, const XmmBank& bank) {
  for (int i = 0; i < 16; ++i) {
    state.xmm(i)[0] = bank.q[2 * i];
    state.xmm(i)[1] = bank.q[2 * i + 1];
  }
}

}  // namespace

DEFINE_TEST(fpu_state, "TCB ReadFpu/WriteFpu: round trips, the thread runs with it, refusals") {
  uint64_t done = make(ObjectType::kNotification);
  fpu_test_ready = make(ObjectType::kNotification);
  fpu_test_gate = make(ObjectType::kNotification);
  uint64_t fresh = spawn(show_xmm, done, ThreadOptions{.start = false});
  FpuState clean;
  {
    Check t("read_fpu_of_a_new_thread_is_the_clean_state");
    uint64_t length = 0;
    t.error(read_fpu(fresh, clean, &length), Error::kNone, "read fpu");
    t.that(length == m::kFpuLength, "not 65 words");
    t.that(clean.features == (m::kFpuX87 | m::kFpuSse), "features not x87|SSE");
    t.that(clean.fcw() == 0x37f, "FCW not 0x37f");
    t.that(clean.mxcsr() == 0x1f80, "MXCSR not 0x1f80");
    t.that(clean.xmm(0)[0] == 0 && clean.xmm(15)[1] == 0, "xmm not zero");
  }
  {
    Check t("write_fpu_is_what_the_thread_runs_with");
    uint64_t thread = spawn(show_xmm, done, ThreadOptions{.start = false});
    FpuState state = clean;
    XmmBank bank;
    pattern(bank, 0x5a);
    put_bank(state, bank);
    state.set_mxcsr(0x1f80 | 0x6000);  // round toward zero
    t.error(write_fpu(thread, state), Error::kNone, "write fpu");
    FpuState back;
    t.error(read_fpu(thread, back), Error::kNone, "read back");
    t.that(same_area(state, back), "read back differs");
    fpu_test_seen = XmmBank{};
    t.error(sys::invoke(thread, Label::kTcbResume), Error::kNone, "resume");
    t.error(sys::wait(done).error, Error::kNone, "wait");
    bool same = true;
    for (int i = 0; i < 32; ++i) same = same && fpu_test_seen.q[i] == bank.q[i];
    t.that(same, "thread's xmm registers are not the written ones");
    t.that(fpu_test_mxcsr == (0x1f80 | 0x6000), "thread's MXCSR is not the written one");
    kill(thread);
  }
  {
    Check t("read_and_write_fpu_of_a_blocked_thread");
    // On the second CPU when there is one: that CPU idles once the thread blocks, and the
    // state must then be in the TCB for the root to see and change.
    uint64_t thread = spawn(hold_xmm, done, ThreadOptions{.priority = 255, .start = false});
    if (boot->cpu_count > 1) {
      uint64_t cpu[] = {1};
      must(sys::invoke(thread, Label::kTcbSetAffinity, cpu), "affinity");
    }
    pattern(fpu_test_loaded, 0xa7);
    t.error(sys::invoke(thread, Label::kTcbResume), Error::kNone, "resume");
    t.error(sys::wait(fpu_test_ready).error, Error::kNone, "wait ready");
    FpuState state;
    Error e = Error::kThreadState;
    uint64_t start = sys::debug_ticks();
    // Until the thread has blocked on the gate (it may still run on the other CPU).
    while (e == Error::kThreadState && sys::debug_ticks() - start < 200)
      e = read_fpu(thread, state);
    t.error(e, Error::kNone, "read fpu of the blocked thread");
    t.that(bank_is(fpu_test_loaded, state), "read fpu: not the thread's xmm registers");
    XmmBank bank;
    pattern(bank, 0x3c);
    put_bank(state, bank);
    t.error(write_fpu(thread, state), Error::kNone, "write fpu");
    FpuState other;
    t.error(read_fpu(fresh, other), Error::kNone, "read other");
    t.that(same_area(other, clean), "another thread's state changed");
    fpu_test_seen = XmmBank{};
    t.error(sys::signal(fpu_test_gate), Error::kNone, "open gate");
    t.error(sys::wait(done).error, Error::kNone, "wait done");
    bool same = true;
    for (int i = 0; i < 32; ++i) same = same && fpu_test_seen.q[i] == bank.q[i];
    t.that(same, "the thread did not go on with the written xmm registers");
    kill(thread);
  }
  {
    Check t("suspend_stops_a_thread_running_on_another_cpu");
    // A thread counting in user mode on the second CPU (when there is one): Suspend returns
    // once it has stopped there, so its count stands still, ReadRegisters shows the count it
    // stopped at and ReadFpu its live xmm registers, at once (no ThreadState while that CPU
    // still holds them).
    uint64_t thread = spawn(spin_xmm, 0, ThreadOptions{.priority = 10, .start = false});
    if (boot->cpu_count > 1) {
      uint64_t cpu[] = {1};
      must(sys::invoke(thread, Label::kTcbSetAffinity, cpu), "affinity");
    }
    pattern(fpu_test_loaded, 0x5e);
    fpu_test_spins = 0;
    t.error(sys::invoke(thread, Label::kTcbResume), Error::kNone, "resume");
    t.error(sys::wait(fpu_test_ready).error, Error::kNone, "wait ready");
    bool two_cpus = boot->cpu_count > 1;
    uint64_t start = sys::debug_ticks();
    while (two_cpus && __atomic_load_n(&fpu_test_spins, __ATOMIC_RELAXED) < 1000 &&
           sys::debug_ticks() - start < 200) {
    }
    t.error(sys::invoke(thread, Label::kTcbSuspend), Error::kNone, "suspend");
    uint64_t stopped = __atomic_load_n(&fpu_test_spins, __ATOMIC_RELAXED);
    for (int i = 0; i < 200000; ++i) asm volatile("" ::: "memory");  // a while for it to run
    t.that(__atomic_load_n(&fpu_test_spins, __ATOMIC_RELAXED) == stopped,
           "the thread still ran after Suspend returned");
    sys::MessageRegisters out;
    abi::MessageInfo info;
    t.error(sys::invoke(thread, Label::kTcbReadRegisters, nullptr, 0, &out, &info), Error::kNone,
            "read registers");
    abi::UserRegisters registers;
    auto* words = reinterpret_cast<uint64_t*>(&registers);
    for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = sys::message_word(out, i);
    // rbx is the count, or one ahead of the store when it stopped between inc and mov.
    if (two_cpus) {
      t.that(stopped >= 1000, "the thread did not count on the other CPU");
      t.that(registers.rbx == stopped || registers.rbx == stopped + 1,
             "ReadRegisters: not the registers the thread stopped with");
    }
    FpuState state;
    t.error(read_fpu(thread, state), Error::kNone, "read fpu at once");
    t.that(bank_is(fpu_test_loaded, state), "read fpu: not the thread's xmm registers");
    kill(thread);
  }
  {
    Check t("write_fpu_refusals_change_nothing");
    FpuState state = clean;
    pattern(fpu_test_loaded, 0x11);
    put_bank(state, fpu_test_loaded);
    state.set_mxcsr(0x1f80 | (1u << 16));  // reserved on every CPU
    t.error(write_fpu(fresh, state), Error::kInvalidArgument, "MXCSR reserved bit");
    state.set_mxcsr(0x1f80 | (1u << 31));
    t.error(write_fpu(fresh, state), Error::kInvalidArgument, "MXCSR bit 31");
    state.set_mxcsr(0x1f80);
    state.features = m::kFpuX87 | m::kFpuSse | (1u << 2);
    t.error(write_fpu(fresh, state), Error::kInvalidArgument, "AVX not enabled");
    state.features = m::kFpuSse;
    t.error(write_fpu(fresh, state), Error::kInvalidArgument, "SSE alone");
    state.features = m::kFpuX87 | m::kFpuSse;
    t.error(write_fpu(fresh, state, m::kFpuLength - 1), Error::kTruncatedMessage, "64 words");
    t.error(write_fpu(kSelf, state), Error::kThreadState, "own state");
    FpuState own;
    t.error(read_fpu(kSelf, own), Error::kThreadState, "read own state");
    uint64_t read_only = new_slot();
    must_mint(kRoot, read_only, fresh, abi::kRightRead, 0);
    t.error(write_fpu(read_only, state), Error::kMissingRight, "write through a read-only cap");
    FpuState back;
    t.error(read_fpu(read_only, back), Error::kNone, "read through a read-only cap");
    t.that(same_area(back, clean), "a refused write changed the state");
    uint64_t write_only = new_slot();
    must_mint(kRoot, write_only, fresh, abi::kRightWrite, 0);
    t.error(read_fpu(write_only, back), Error::kMissingRight, "read through a write-only cap");
    // Not a TCB, or nothing at all: refused before anything is read or written (a call on a
    // notification is IllegalOperation, docs/CAPABILITIES.md; another object WrongType).
    uint64_t notification = make(ObjectType::kNotification);
    t.error(read_fpu(notification, back), Error::kIllegalOperation,
            "read through a notification cap");
    t.error(write_fpu(notification, state), Error::kIllegalOperation,
            "write through a notification cap");
    t.error(read_fpu(kRoot, back), Error::kWrongType, "read through a CNode cap");
    t.error(write_fpu(kRoot, state), Error::kWrongType, "write through a CNode cap");
    uint64_t empty = new_slot();
    t.error(read_fpu(empty, back), Error::kInvalidCapability, "read through an empty slot");
    t.error(write_fpu(empty, state), Error::kInvalidCapability, "write through an empty slot");
    t.error(read_fpu(fresh, back), Error::kNone, "read after the refusals");
    t.that(same_area(back, clean), "a refused write through another cap changed the state");
  }
  kill(fresh);
}

}  // namespace kernel_tests
