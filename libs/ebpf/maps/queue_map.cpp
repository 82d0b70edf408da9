// SPDX-License-Identifier: MIT
// Queue and stack maps: a ring of max_entries values; queues take from the oldest end.
#include "maps/queue_map.hpp"

#include "rt/errno.hpp"

namespace ebpf {

QueueMap::QueueMap(const MapAttributes& attributes, uint8_t* storage)
    : Map(attributes), storage_(storage) {}

long QueueMap::push(const void* value, uint64_t flags) {
  if (flags != kUpdateAny && flags != kUpdateExist) return -rt::kEINVAL;
  uint32_t max = attributes().max_entries;
  if (count_ == max) {
    // BPF_EXIST makes room by dropping the oldest element; otherwise the map is full.
    if (flags != kUpdateExist) return -rt::kE2BIG;
    head_ = (head_ + 1) % max;
    --count_;
  }
  __builtin_memcpy(slot((head_ + count_) % max), value, attributes().value_size);
  ++count_;
  return 0;
}

long QueueMap::take(void* value, bool remove) {
  if (count_ == 0) return -rt::kENOENT;
  uint32_t max = attributes().max_entries;
  uint32_t index = is_stack() ? (head_ + count_ - 1) % max : head_;
  __builtin_memcpy(value, slot(index), attributes().value_size);
  if (remove) {
    if (!is_stack()) head_ = (head_ + 1) % max;
    --count_;
  }
  return 0;
}

long QueueMap::pop(void* value) { return take(value, true); }
long QueueMap::peek(void* value) { return take(value, false); }

// Keyed operations do not exist for queues and stacks (Linux returns these errors).
void* QueueMap::lookup(const void*) { return nullptr; }
long QueueMap::update(const void*, const void*, uint64_t) { return -rt::kEINVAL; }
long QueueMap::remove(const void*) { return -rt::kEINVAL; }
rt::Result<void> QueueMap::get_next_key(const void*, void*) {
  return rt::err(syscall_can_read() ? rt::kEINVAL : rt::kEPERM);
}

rt::Result<void> QueueMap::syscall_lookup(const void*, void* value, uint64_t flags) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);
  if (flags != 0) return rt::err(rt::kEINVAL);
  return rt::from_negated_errno(peek(value));
}

rt::Result<void> QueueMap::syscall_update(const void*, const void* value, uint64_t flags) {
  if (!syscall_can_write()) return rt::err(rt::kEPERM);
  return rt::from_negated_errno(push(value, flags));
}

rt::Result<void> QueueMap::lookup_and_delete(const void*, void* value, uint64_t flags) {
  if (!syscall_can_read() || !syscall_can_write()) return rt::err(rt::kEPERM);
  if (flags != 0) return rt::err(rt::kEINVAL);
  return rt::from_negated_errno(pop(value));
}

size_t QueueMap::memory_usage() const { return sizeof(*this) + storage_bytes(attributes()); }

}  // namespace ebpf
