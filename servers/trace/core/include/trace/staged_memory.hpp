// SPDX-License-Identifier: MIT
// StagedMemory: a UserMemory over byte ranges a request carried in (proto/trace.capnp's Data).
#pragma once

#include <stdint.h>

#include "trace/user_memory.hpp"

namespace trace {

// The server binary stages each Data field of a request (a key, a value buffer, instructions,
// the license, a log buffer) here, puts the address `stage` returns into the attr's pointer
// field, and calls bpf_command; writable ranges then hold what the reply carries back, and
// output fields of the attr land in the attr buffer given here. Addresses outside every range
// (including 0) are EFAULT, as a bad user pointer.
class StagedMemory final : public UserMemory {
 public:
  static constexpr uint32_t kMaxRanges = 8;

  StagedMemory(uint8_t* attr, uint32_t attr_size) : attr_(attr), attr_size_(attr_size) {}

  // The address of `size` bytes at `bytes`; 0 when every range is taken or size is 4 GiB or more.
  uint64_t stage(uint8_t* bytes, uint64_t size, bool writable);

  rt::Result<void> read(void* destination, uint64_t source, uint64_t size) override;
  rt::Result<void> write(uint64_t destination, const void* source, uint64_t size) override;
  rt::Result<void> write_attr(uint32_t offset, const void* source, uint32_t size) override;

 private:
  static constexpr uint64_t kBase = uint64_t{1} << 44;  // range i starts at kBase + (i << 32)
  struct Range {
    uint8_t* bytes;
    uint64_t size;
    bool writable;
  };
  uint8_t* find(uint64_t address, uint64_t size, bool write);

  Range ranges_[kMaxRanges] = {};
  uint32_t count_ = 0;
  uint8_t* attr_;
  uint32_t attr_size_;
};

}  // namespace trace
