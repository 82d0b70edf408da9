// SPDX-License-Identifier: MIT
// Host executable memory: mmap read-write, then mprotect read-execute (W^X), munmap to free.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "ebpf/jit.hpp"

namespace ebpf {
namespace {

constexpr uint64_t kSlot = 1ull << 21;   // hints step by 2 MiB
constexpr uint64_t kReach = 1ull << 30;  // accepted distance from `near` (rel32 reaches 2 GiB)
constexpr int kAttempts = 256;           // hints tried below `near` (up to 512 MiB below it)

// A read-write mapping of `length` bytes within kReach of `near` (below the program text), so
// helper calls are direct `call rel32` rather than going through the retpoline. The first free
// hint wins: a hint that is taken (an earlier program's code) makes the kernel place the
// mapping elsewhere, often terabytes away, so each miss is unmapped and the next slot down is
// tried. The search starts at the last slot that worked: the slots before it are likely still
// taken, and code compiled and freed in turn keeps reusing one place (and its page tables). Past
// the attempts, or without `near`, anywhere (the JIT then calls far).
void* map_near(size_t length, const void* near) {
  static std::atomic<int> next_slot{0};
  // SONDE_JIT_FAR=1: never near (tests and fuzzing of the far-call paths).
  static const bool far = getenv("SONDE_JIT_FAR") != nullptr;
  if (far) near = nullptr;
  uint64_t top = reinterpret_cast<uint64_t>(near) & ~(kSlot - 1);
  uint64_t span = (length + kSlot - 1) & ~(kSlot - 1);
  int first = next_slot.load(std::memory_order_relaxed);
  for (int attempt = 0; near != nullptr && attempt < kAttempts; ++attempt) {
    int slot = (first + attempt) % kAttempts;
    uint64_t below = kSlot * 128 + static_cast<uint64_t>(slot) * span;
    if (top <= below + kReach / 4) continue;
    auto* hint = reinterpret_cast<void*>(top - below);
    void* memory = mmap(hint, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) break;
    uint64_t address = reinterpret_cast<uint64_t>(memory);
    uint64_t distance = address > top ? address - top : top - address;
    if (distance < kReach) {
      next_slot.store(slot, std::memory_order_relaxed);
      return memory;
    }
    munmap(memory, length);
  }
  return mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

class HostExecutableMemory final : public ExecutableMemory {
 public:
  rt::Result<ExecutableRegion> allocate(size_t size, const void* near) override {
    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t length = (size + page - 1) / page * page;
    void* memory = map_near(length, near);
    if (memory == MAP_FAILED) return rt::err(rt::kENOMEM, "jit: mmap failed");
    auto* bytes = static_cast<uint8_t*>(memory);
    for (size_t i = 0; i < length; ++i) bytes[i] = 0xcc;  // int3 in any unused tail
    return ExecutableRegion{bytes, bytes, length, nullptr};
  }

  rt::Result<void> seal(ExecutableRegion& region) override {
    if (mprotect(region.write_view, region.size, PROT_READ | PROT_EXEC) != 0) {
      return rt::err(rt::kENOMEM, "jit: mprotect failed");
    }
    __builtin___clear_cache(reinterpret_cast<char*>(region.write_view),
                            reinterpret_cast<char*>(region.write_view + region.size));
    region.write_view = nullptr;
    return {};
  }

  void release(ExecutableRegion& region) override {
    if (region.execute_view != nullptr)
      munmap(const_cast<uint8_t*>(region.execute_view), region.size);
    region = {};
  }
};

}  // namespace

ExecutableMemory& host_executable_memory() {
  static HostExecutableMemory memory;
  return memory;
}

}  // namespace ebpf
