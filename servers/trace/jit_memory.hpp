// SPDX-License-Identifier: MIT
// Executable memory for the JIT in the trace server: Frames mapped writable while the code is
// written, then remapped read-execute (FrameRemap): never writable and executable at once.
#pragma once

#include "ebpf/jit.hpp"

namespace trace {

class FrameExecutableMemory final : public ebpf::ExecutableMemory {
 public:
  // Regions from `base` up (within rel32 reach of the server's text, so helper calls are
  // direct), address space used once (GAP: not reused after release).
  explicit FrameExecutableMemory(uint64_t base) : next_(base) {}

  rt::Result<ebpf::ExecutableRegion> allocate(size_t size, const void* near) override;
  rt::Result<void> seal(ebpf::ExecutableRegion& region) override;
  void release(ebpf::ExecutableRegion& region) override;

 private:
  uint64_t next_;
};

}  // namespace trace
