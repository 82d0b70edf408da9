// SPDX-License-Identifier: MIT
// The bpf file system (/sys/fs/bpf, and wherever `mount -t bpf` puts one): BPF_OBJ_PIN makes a
// file there that keeps the object alive, BPF_OBJ_GET opens it again.
#pragma once

#include <stdint.h>

namespace posix {

struct Inode;
struct SyscallContext;

// The POSIX half of BPF_OBJ_PIN and BPF_OBJ_GET, after the trace server has checked the attr
// and (for OBJ_PIN) that `fd` is a map, program or link: the file at the attr's pathname.
int64_t bpf_obj_pin(SyscallContext& c, uint64_t pathname, int fd);
int64_t bpf_obj_get(SyscallContext& c, uint64_t pathname);

// An inode's last link went: a pinned object loses the reference its file held.
void release_pin(Inode* inode);

}  // namespace posix
