// SPDX-License-Identifier: MIT
// Host executable memory: mmap read-write, then mprotect read-execute (W^X), munmap to free.
#include <sys/mman.h>
#include <unistd.h>

#include "ebpf/jit.hpp"

namespace ebpf {
namespace {

class HostExecutableMemory final : public ExecutableMemory {
 public:
  rt::Result<ExecutableRegion> allocate(size_t size, const void* near) override {
    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t length = (size + page - 1) / page * page;
    // Ask for a spot within rel32 reach of the helpers (below the program text), so helper
    // calls are direct; the kernel may place it elsewhere, and the JIT then calls through a
    // register.
    void* hint = nullptr;
    if (near != nullptr) {
      uint64_t address = reinterpret_cast<uint64_t>(near) & ~static_cast<uint64_t>((1u << 21) - 1);
      if (address > (1ull << 30)) hint = reinterpret_cast<void*>(address - (1ull << 28));
    }
    void* memory = mmap(hint, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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
