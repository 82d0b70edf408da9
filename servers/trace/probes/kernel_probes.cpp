// SPDX-License-Identifier: MIT
// KernelProbes: BindKernel and Insert on Breakpoint objects, the rings, and a small thread that
// turns the kernel's notification into a call on the server's endpoint.
#include "kernel_probes.hpp"

#include "rt/errno.hpp"
#include "sys/clock.hpp"
#include "sys/ipc.hpp"
#include "sys/server_memory.hpp"
#include "sys/server_start.hpp"

namespace trace {

namespace {
namespace abi = sonde::abi;
constexpr uint64_t kEntryNopLength = 5;

SampleMemory* memory_in_progress = nullptr;

// The drain thread: waits for the kernel's signal, lets samples gather for kDrainDelayNs, then
// calls the server, whose reply comes once the rings are drained.
uint64_t drain_notification = 0;
uint64_t drain_timer = 0;
uint64_t drain_endpoint = 0;
alignas(16) uint8_t drain_stack[8192];

[[noreturn]] void drain_thread() {
  for (;;) {
    (void)sys::wait(drain_notification);
    if (sys::set_timer(drain_timer, sys::clock_ns() + KernelProbes::kDrainDelayNs) ==
        abi::Error::kNone) {
      (void)sys::wait(drain_timer);
    }
    sys::MessageRegisters mr;
    (void)sys::call(drain_endpoint, 0, mr, 0);
  }
}

void free_object(uint64_t slot) {
  (void)sys::cnode_delete(sys::kServerSlotCNode, slot);
  sys::server::free_slot(slot);
}

}  // namespace

SampleMemory* current_sample_memory() { return memory_in_progress; }

uint64_t sample_time_ns(const abi::SampleRecord& sample) {
  const abi::ClockPage* page = sys::clock_page;
  if (page == nullptr) return sys::clock_ns();
  for (;;) {
    uint32_t sequence = __atomic_load_n(&page->sequence, __ATOMIC_ACQUIRE);
    if ((sequence & 1) != 0) continue;
    uint64_t base = page->tsc_base, ns = page->ns_base, mult = page->mult;
    uint32_t shift = page->shift;
    if (__atomic_load_n(&page->sequence, __ATOMIC_ACQUIRE) != sequence) continue;
    // A sample taken before the page's base (it was rewritten since) shows the base's time.
    if (sample.timestamp < base) return ns;
    return ns + abi::clock_delta_ns(sample.timestamp - base, mult, shift);
  }
}

rt::Result<void> KernelProbes::start_drain_thread() {
  if (notification_ != 0) return {};
  uint64_t notification = TRY(sys::server::make_object(abi::ObjectType::kNotification));
  auto timer = sys::server::make_object(abi::ObjectType::kNotification);
  auto badged = sys::server::allocate_slot();
  auto tcb = sys::server::make_object(abi::ObjectType::kTcb);
  auto undo = [&] {
    free_object(notification);
    if (timer.ok()) free_object(timer.value());
    if (badged.ok()) free_object(badged.value());
    if (tcb.ok()) free_object(tcb.value());
  };
  if (!timer.ok() || !badged.ok() || !tcb.ok()) {
    undo();
    return rt::err(rt::kENOMEM, "no drain thread");
  }
  drain_notification = notification;
  drain_timer = timer.value();
  drain_endpoint = badged.value();
  uint64_t configure[] = {sys::kServerSlotCNode, 0, sys::kServerSlotVSpace, 0, 0, 0};
  uint64_t words[1 + abi::kUserRegisterWords] = {};
  words[0] = abi::tcb_message::kWriteResume;
  abi::UserRegisters registers{};
  registers.rip = reinterpret_cast<uint64_t>(&drain_thread);
  registers.rsp = reinterpret_cast<uint64_t>(drain_stack + sizeof(drain_stack)) - 8;
  registers.rflags = 0x202;
  __builtin_memcpy(&words[1], &registers, sizeof(registers));
  uint64_t priority[] = {kDrainPriority};
  if (sys::cnode_mint(sys::kServerSlotCNode, drain_endpoint, endpoint_, abi::kRightWrite,
                      kDrainBadge) != abi::Error::kNone ||
      sys::invoke(tcb.value(), abi::Label::kTcbConfigure, configure) != abi::Error::kNone ||
      sys::invoke(tcb.value(), abi::Label::kTcbSetPriority, priority) != abi::Error::kNone ||
      sys::invoke(tcb.value(), abi::Label::kTcbWriteRegisters, words) != abi::Error::kNone) {
    undo();
    return rt::err(rt::kENOMEM, "the drain thread did not start");
  }
  notification_ = notification;
  return {};
}

KernelProbes::Probe* KernelProbes::find(uint64_t address) {
  for (Probe& probe : probes_) {
    if (probe.address == address) return &probe;
  }
  return nullptr;
}

rt::Result<void> KernelProbes::attach(uint64_t address, KprobeClient* client) {
  if (address == 0) return rt::err(rt::kEINVAL);
  if (authority_ == 0) return rt::err(rt::kEPERM, "no KernelProbes cap");
  Probe* probe = find(address);
  if (probe == nullptr) {
    probe = find(0);
    if (probe == nullptr) return rt::err(rt::kENOSPC, "too many kernel probes");
    TRY(start_drain_thread());
    rt::Allocator& heap = sys::server::heap();
    void* page = heap.allocate(sys::server::kPage, sys::server::kPage);
    if (page == nullptr) return rt::err(rt::kENOMEM);
    if ((reinterpret_cast<uint64_t>(page) & (sys::server::kPage - 1)) != 0) {
      heap.deallocate(page, sys::server::kPage);
      return rt::err(rt::kENOMEM, "the ring is not a page of its own");
    }
    auto frame = sys::server::heap_frame(reinterpret_cast<uint64_t>(page));
    auto breakpoint = sys::server::make_object(abi::ObjectType::kBreakpoint);
    if (!frame.ok() || !breakpoint.ok()) {
      if (breakpoint.ok()) free_object(breakpoint.value());
      heap.deallocate(page, sys::server::kPage);
      return rt::err(rt::kENOMEM);
    }
    __builtin_memset(page, 0, sys::server::kPage);
    uint64_t bind[] = {frame.value(), notification_, authority_};
    abi::Error e = sys::invoke(breakpoint.value(), abi::Label::kBreakpointBindKernel, bind);
    uint64_t insert[] = {address, kEntryNopLength, 0, 0};
    if (e == abi::Error::kNone) {
      e = sys::invoke(breakpoint.value(), abi::Label::kBreakpointInsert, insert);
    }
    if (e != abi::Error::kNone) {
      free_object(breakpoint.value());
      heap.deallocate(page, sys::server::kPage);
      if (e == abi::Error::kWrongType || e == abi::Error::kSlotEmpty) {
        return rt::err(rt::kEPERM, "the kernel refused the KernelProbes cap");
      }
      return rt::err(rt::kEINVAL, "the kernel refused the probe (no function entry NOP)");
    }
    *probe = Probe{};
    probe->address = address;
    ++armed_;
    probe->breakpoint = breakpoint.value();
    probe->ring = static_cast<volatile abi::SampleRing*>(page);
  }
  for (uint32_t i = 0; i < probe->client_count; ++i) {
    if (probe->clients[i] == client) return {};
  }
  if (probe->client_count == kMaxClients) return rt::err(rt::kENOSPC, "too many probe clients");
  probe->clients[probe->client_count++] = client;
  return {};
}

void KernelProbes::detach(uint64_t address, KprobeClient* client) {
  Probe* probe = address != 0 ? find(address) : nullptr;
  if (probe == nullptr) return;
  drain(*probe, 0);  // what was sampled while the client was attached is still its
  for (uint32_t i = 0; i < probe->client_count; ++i) {
    if (probe->clients[i] != client) continue;
    probe->clients[i] = probe->clients[--probe->client_count];
    break;
  }
  if (probe->client_count == 0) disarm(*probe);
}

void KernelProbes::disarm(Probe& probe) {
  // Deleting the Breakpoint removes its probe in the kernel, which then writes no more.
  free_object(probe.breakpoint);
  dropped_gone_ += probe.ring->dropped;
  sys::server::heap().deallocate(const_cast<abi::SampleRing*>(probe.ring), sys::server::kPage);
  probe = Probe{};
  --armed_;
}

void KernelProbes::drain() {
  if (armed_ == 0) return;  // before every call the server answers: nothing to walk
  // Oldest first over every ring (a sched_switch and the sched_wakeup before it are in two),
  // as far as the samples there now go; a ring the kernel fills meanwhile waits for the next.
  uint64_t heads[kMaxProbes];
  for (uint32_t i = 0; i < kMaxProbes; ++i) {
    heads[i] = probes_[i].address != 0 ? probes_[i].ring->head : 0;
  }
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  for (;;) {
    Probe* oldest = nullptr;
    uint64_t oldest_time = 0;
    for (uint32_t i = 0; i < kMaxProbes; ++i) {
      Probe& probe = probes_[i];
      if (probe.address == 0) continue;
      volatile abi::SampleRing& ring = *probe.ring;
      uint64_t tail = ring.tail;
      uint64_t capacity = ring.capacity;
      if (tail >= heads[i] || capacity == 0 ||
          capacity > sizeof(ring.records) / sizeof(ring.records[0])) {
        continue;
      }
      uint64_t time = ring.records[tail % capacity].timestamp;
      if (oldest == nullptr || time < oldest_time) {
        oldest = &probe;
        oldest_time = time;
      }
    }
    if (oldest == nullptr) break;
    drain(*oldest, 1);
  }
  for (Probe& probe : probes_) {  // and whatever a ring with odd indices holds (reset there)
    if (probe.address != 0) drain(probe, 0);
  }
}

void KernelProbes::drain(Probe& probe, uint64_t limit) {
  samples_ += drain_samples(
      *probe.ring,
      [&](const abi::SampleRecord& sample) {
        if (sample.address != probe.address) return;
        PtRegs regs = pt_regs_from_sample(sample);
        SampleMemory memory(sample, server_memory_);
        detail::sample_in_progress = &sample;
        memory_in_progress = &memory;
        if (observer_ != nullptr) observer_->kernel_hit_begins(memory);
        for (uint32_t i = 0; i < probe.client_count; ++i) {
          probe.clients[i]->on_hit(regs, probe.address, memory);
        }
        if (observer_ != nullptr) observer_->hit_ends();
        if (server_memory_ != nullptr) server_memory_->release();
        detail::sample_in_progress = nullptr;
        memory_in_progress = nullptr;
      },
      limit);
}

uint64_t KernelProbes::dropped() const {
  uint64_t total = dropped_gone_;
  for (const Probe& probe : probes_) {
    if (probe.address != 0) total += probe.ring->dropped;
  }
  return total;
}

uint64_t KernelProbes::dropped_at(uint64_t address) const {
  for (const Probe& probe : probes_) {
    if (probe.address == address && address != 0) return probe.ring->dropped;
  }
  return 0;
}

}  // namespace trace
