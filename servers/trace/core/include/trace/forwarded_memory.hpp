// SPDX-License-Identifier: MIT
// ForwardedMemory: the caller's memory as the POSIX server copied it in for one bpf() call.
#pragma once

#include <stdint.h>

#include "trace/user_memory.hpp"

namespace trace {

// The POSIX server sends the attr and, for each range of the caller's memory the command read
// before, the bytes it could copy. A read the ranges do not cover records a miss (the first
// one) and fails; the server then answers "need these bytes" instead of a result, and the
// POSIX server calls again with the range added. Commands read user memory before they change
// anything (batch updates announce their whole input with prefetch()), so a call that missed
// left nothing behind and is simply repeated. Writes are collected in order into a log the
// reply carries back; output fields of the attr are writes at the attr's own address.
class ForwardedMemory final : public UserMemory {
 public:
  // [address, address + length) of the caller's memory; the first `available` bytes were
  // readable and are at `data`; the rest faulted (reads there are EFAULT, not misses).
  struct Range {
    uint64_t address;
    uint64_t length;
    const uint8_t* data;
    uint64_t available;
  };
  struct Miss {
    uint64_t address;
    uint64_t length;
  };
  // One write: `length` bytes at `address` of the caller, the bytes following the header.
  struct WriteHeader {
    uint64_t address;
    uint64_t length;
  };

  ForwardedMemory(const Range* ranges, uint32_t range_count, uint64_t attr_address,
                  uint8_t* write_log, uint64_t write_capacity)
      : ranges_(ranges),
        range_count_(range_count),
        attr_address_(attr_address),
        log_(write_log),
        capacity_(write_capacity) {}

  rt::Result<void> read(void* destination, uint64_t source, uint64_t size) override;
  rt::Result<void> write(uint64_t destination, const void* source, uint64_t size) override;
  rt::Result<void> write_attr(uint32_t offset, const void* source, uint32_t size) override;
  rt::Result<uint64_t> read_string(char* destination, uint64_t source, uint64_t size) override;
  rt::Result<void> prefetch(uint64_t source, uint64_t size) override;
  uint64_t write_room() const override {
    uint64_t left = capacity_ - used_;
    return left > sizeof(WriteHeader) ? left - sizeof(WriteHeader) : 0;
  }

  bool missed() const { return missed_; }
  Miss miss() const { return miss_; }
  // The write log: headers, each followed by its bytes padded to 8.
  uint64_t log_size() const { return used_; }
  // A write did not fit in the log (the reply could not carry it).
  bool overflowed() const { return overflowed_; }

 private:
  enum class Found { kBytes, kFault, kMissing };
  Found find(uint64_t address, uint64_t size, const uint8_t*& bytes) const;
  void record_miss(uint64_t address, uint64_t size);

  const Range* ranges_;
  uint32_t range_count_;
  uint64_t attr_address_;
  uint8_t* log_;
  uint64_t capacity_;
  uint64_t used_ = 0;
  bool overflowed_ = false;
  bool missed_ = false;
  Miss miss_ = {};
};

}  // namespace trace
