// SPDX-License-Identifier: MIT
// eventfd: a 64-bit counter behind a file (Linux's fs/eventfd.c).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vfs/file.hpp"

namespace posix {

struct EventCounter {
  uint64_t count;
  uint64_t writes;  // writes that added to it: each is an event for edge-triggered epoll
  uint32_t id;      // fdinfo's eventfd-id
  bool semaphore;   // EFD_SEMAPHORE: a read takes 1
};

// read(2) and write(2) of 8 bytes, poll bits, the file's end and its fdinfo lines.
int64_t eventfd_read(File& file, uint64_t address, size_t count);
int64_t eventfd_write(File& file, uint64_t address, size_t count);
int eventfd_poll(const File& file);
void eventfd_release(File& file);
size_t eventfd_fdinfo(const File& file, char* out, size_t capacity);

}  // namespace posix
