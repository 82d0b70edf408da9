// SPDX-License-Identifier: MIT
// BPF_MAP_TYPE_PROG_ARRAY: program slots for bpf_tail_call, filled by the trace server.
#include "ebpf/prog_array.hpp"
#include "rt/errno.hpp"

namespace ebpf {

ProgArrayMap::ProgArrayMap(const MapAttributes& attributes, Slot* slots)
    : Map(attributes), slots_(slots) {
  for (uint32_t i = 0; i < attributes.max_entries; ++i) slots_[i] = Slot{nullptr, 0};
}

rt::Result<void> ProgArrayMap::set(uint32_t index, const Program* program, uint32_t id) {
  if (index >= attributes().max_entries) return rt::err(rt::kE2BIG);
  if (program == nullptr) return rt::err(rt::kEINVAL);
  __atomic_store_n(&slots_[index].id, id, __ATOMIC_RELAXED);
  __atomic_store_n(&slots_[index].program, program, __ATOMIC_RELEASE);
  return {};
}

rt::Result<void> ProgArrayMap::clear(uint32_t index) {
  if (index >= attributes().max_entries) return rt::err(rt::kE2BIG);
  if (__atomic_exchange_n(&slots_[index].program, nullptr, __ATOMIC_ACQ_REL) == nullptr)
    return rt::err(rt::kENOENT);
  return {};
}

// Programs cannot read or write a prog_array (the verifier allows only bpf_tail_call on it).
void* ProgArrayMap::lookup(const void*) { return nullptr; }
long ProgArrayMap::update(const void*, const void*, uint64_t) { return -rt::kEINVAL; }

long ProgArrayMap::remove(const void* key) {
  uint32_t index;
  __builtin_memcpy(&index, key, sizeof(index));
  return rt::to_negated_errno(clear(index));
}

// As Linux's prog_fd_array_sys_lookup_elem: the id of the program in the slot.
rt::Result<void> ProgArrayMap::syscall_lookup(const void* key, void* value, uint64_t flags) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);
  if (flags != 0) return rt::err(rt::kEINVAL);
  uint32_t index;
  __builtin_memcpy(&index, key, sizeof(index));
  if (index >= attributes().max_entries) return rt::err(rt::kENOENT);
  if (__atomic_load_n(&slots_[index].program, __ATOMIC_ACQUIRE) == nullptr)
    return rt::err(rt::kENOENT);
  uint32_t id = __atomic_load_n(&slots_[index].id, __ATOMIC_RELAXED);
  __builtin_memcpy(value, &id, sizeof(id));
  return {};
}

// The value is a program fd that only the trace server can resolve: it calls set().
rt::Result<void> ProgArrayMap::syscall_update(const void*, const void*, uint64_t) {
  if (!syscall_can_write()) return rt::err(rt::kEPERM);
  return rt::err(rt::kEOPNOTSUPP);
}

rt::Result<void> ProgArrayMap::get_next_key(const void* key, void* next_key) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);  // BPF_MAP_GET_NEXT_KEY reads the map
  return next_array_index(attributes().max_entries, key, next_key);
}

// What the engine's bpf_tail_call needs: the program at `index`, nullptr when out of range
// or empty (the tail call then falls through, as Linux).
const Program* ProgArrayMap::tail_call_target(uint32_t index) const {
  return index < attributes().max_entries
             ? __atomic_load_n(&slots_[index].program, __ATOMIC_ACQUIRE)
             : nullptr;
}

size_t ProgArrayMap::memory_usage() const { return sizeof(*this) + slots_bytes(attributes()); }

}  // namespace ebpf
