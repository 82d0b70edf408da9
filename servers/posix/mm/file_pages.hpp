// SPDX-License-Identifier: MIT
// A regular file's bytes as page frames, once a process maps it MAP_SHARED: the server maps the
// frames contiguously (the inode's `data` then points at them, so read, write, exec and
// truncate work on them unchanged) and every shared mapping of the file maps the same frames.
#pragma once

#include <stdint.h>

#include "platform/kernel.hpp"
#include "rt/result.hpp"
#include "vfs/inode.hpp"

namespace posix::mm {

// The most a file with frames can hold: its window in the server's VSpace.
inline constexpr uint64_t kFileFramesWindow = 1ull << 30;

// The frame holding page `index` of `file`, its bytes moved into frames first if they are not
// yet (the file keeps one reference to each frame; a process mapping one takes its own). EFBIG
// past kFileFramesWindow, ENOMEM without memory; the page must lie below the file's capacity.
rt::Result<platform::PageFrame> file_frame(Inode& file, uint64_t index);

// MAP_SHARED|MAP_ANONYMOUS memory, as Linux's shmem: an unnamed regular inode (in no directory)
// of `length` bytes, zero, whose pages file_frame hands out (a frame made on first use; no
// window, no descriptor reads it). Areas mapping it count as its users: the mapping's area is
// the first; retain_area_file for each area copied or split off (fork, munmap, mprotect),
// release_area_file for each one gone, the last of which frees the inode and its frames.
rt::Result<Inode*> make_anon_shared(uint64_t length);
bool is_anon_shared(const Inode* file);
// Every area that maps a file counts: a file of the tree counts its areas in Inode::maps (the
// first from add_file_area), and when the last goes, an unlinked, closed file is freed with its
// frames and window (FileTree::forget_if_unused).
void retain_area_file(Inode* file);
void release_area_file(Inode* file);

}  // namespace posix::mm
