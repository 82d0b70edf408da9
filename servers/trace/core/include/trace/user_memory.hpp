// SPDX-License-Identifier: MIT
// UserMemory: how the trace core reads and writes the memory of the process that called bpf().
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/result.hpp"

namespace trace {

// The POSIX server implements this over the caller's address space (or over bytes it copied
// in ahead of the request); tests implement it over registered host buffers. Every failure is
// EFAULT, as copy_from_user/copy_to_user fail in Linux.
class UserMemory {
 public:
  virtual rt::Result<void> read(void* destination, uint64_t source, uint64_t size) = 0;
  virtual rt::Result<void> write(uint64_t destination, const void* source, uint64_t size) = 0;
  // Linux's copy_to_user(&uattr->field, ...): an output field of the caller's bpf_attr, at
  // byte `offset` of it (batch count, retval, info_len, next_id, log_true_size).
  virtual rt::Result<void> write_attr(uint32_t offset, const void* source, uint32_t size) = 0;

  // strncpy_from_user: copies at most `size` bytes, stopping after a NUL; the length without
  // the NUL (`size` when none was found). The default reads a byte at a time, so a string may
  // end just before an unreadable page.
  virtual rt::Result<uint64_t> read_string(char* destination, uint64_t source, uint64_t size) {
    for (uint64_t n = 0; n < size; ++n) {
      TRY(read(destination + n, source + n, 1));
      if (destination[n] == 0) return n;
    }
    return size;
  }

  // Says that the command will read [source, source + size) before it changes anything (batch
  // updates and deletes, which read element by element): memory that copies the caller's
  // bytes in ahead of time (ForwardedMemory) asks for all of them now. EFAULT only when the
  // range is not there at all; a partly unreadable range still fails where Linux fails.
  virtual rt::Result<void> prefetch(uint64_t source, uint64_t size) {
    (void)source;
    (void)size;
    return {};
  }

  // How many bytes writes may still carry: unlimited for memory written directly; what is left
  // of the reply for ForwardedMemory (a verifier log longer than that is cut, prog_commands.cpp).
  virtual uint64_t write_room() const { return UINT64_MAX; }

 protected:
  ~UserMemory() = default;
};

}  // namespace trace
