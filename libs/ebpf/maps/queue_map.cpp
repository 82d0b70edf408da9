// Queue, stack and program-array maps.
#include "maps/queue_map.hpp"

#include "rt/errno.hpp"

namespace ebpf {

QueueMap::QueueMap(const MapAttributes& attributes, uint8_t* storage) : Map(attributes), storage_(storage) {}

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
long QueueMap::get_next_key(const void*, void*) { return -rt::kEINVAL; }

long QueueMap::syscall_lookup(const void*, void* value, uint64_t flags) {
  if (flags != 0) return -rt::kEINVAL;
  return peek(value);
}

long QueueMap::syscall_update(const void*, const void* value, uint64_t flags) {
  if (frozen()) return -rt::kEPERM;
  return push(value, flags);
}

long QueueMap::lookup_and_delete(const void*, void* value, uint64_t flags) {
  if (flags != 0) return -rt::kEINVAL;
  if (frozen()) return -rt::kEPERM;
  return pop(value);
}

size_t QueueMap::memory_usage() const { return sizeof(*this) + storage_bytes(attributes()); }

ProgArrayMap::ProgArrayMap(const MapAttributes& attributes, const Program** slots) : Map(attributes), slots_(slots) {
  for (uint32_t i = 0; i < attributes.max_entries; ++i) slots_[i] = nullptr;
}

long ProgArrayMap::set(uint32_t index, const Program* program) {
  if (index >= attributes().max_entries) return -rt::kE2BIG;
  if (program == nullptr) return -rt::kEINVAL;
  slots_[index] = program;
  return 0;
}

long ProgArrayMap::clear(uint32_t index) {
  if (index >= attributes().max_entries) return -rt::kE2BIG;
  if (slots_[index] == nullptr) return -rt::kENOENT;
  slots_[index] = nullptr;
  return 0;
}

// Programs cannot read or write a prog_array; only bpf_tail_call uses it.
void* ProgArrayMap::lookup(const void*) { return nullptr; }
long ProgArrayMap::update(const void*, const void*, uint64_t) { return -rt::kEINVAL; }

long ProgArrayMap::remove(const void* key) {
  uint32_t index;
  __builtin_memcpy(&index, key, sizeof(index));
  return clear(index);
}

// Linux refuses BPF_MAP_LOOKUP_ELEM on program arrays from user space.
long ProgArrayMap::syscall_lookup(const void*, void*, uint64_t) { return -rt::kEOPNOTSUPP; }
// The value is a program fd that only the trace server can resolve: it calls set().
long ProgArrayMap::syscall_update(const void*, const void*, uint64_t) { return -rt::kEOPNOTSUPP; }

long ProgArrayMap::get_next_key(const void* key, void* next_key) {
  uint32_t max = attributes().max_entries;
  uint32_t next = 0;
  if (key != nullptr) {
    uint32_t index;
    __builtin_memcpy(&index, key, sizeof(index));
    if (index < max) {
      if (index == max - 1) return -rt::kENOENT;
      next = index + 1;
    }
  }
  __builtin_memcpy(next_key, &next, sizeof(next));
  return 0;
}

const Program* ProgArrayMap::tail_call_target(uint32_t index) const {
  return index < attributes().max_entries ? slots_[index] : nullptr;
}

size_t ProgArrayMap::memory_usage() const { return sizeof(*this) + attributes().max_entries * sizeof(void*); }

}  // namespace ebpf
