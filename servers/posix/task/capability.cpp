// SPDX-License-Identifier: MIT
// cap_capable, Linux's commoncap function, which every capability check calls
// (Credentials::capable, task/credentials.cpp) with a struct cred built from the process's ids,
// so that capable(8), kprobes and fentry programs on cap_capable see the checks Linux would
// make (docs/LINUX.md, "Credentials"). Its own translation unit: a caller that saw its body
// could leave out the arguments it does not read, which programs do read.
#include <stddef.h>

#include "kernel/linux_types.h"
#include "rt/errno.hpp"
#include "task/credentials.hpp"  // kCapLastCap

static_assert(posix::kCapOptNoAudit == CAP_OPT_NOAUDIT && posix::kCapOptInsetid == CAP_OPT_INSETID);

extern "C" {

// Linux's initial user namespace, the only one (the mount user namespace vfs_create and
// vfs_unlink take, the target namespace of every capability check), with the inum Linux's has.
struct user_namespace init_user_ns = {
    .ns = {.stashed = nullptr, .ops = nullptr, .inum = 4026531837u, .count = 1}};

// Linux 6.1's cap_capable: 0 when `cred`'s effective set holds `cap`, else -EPERM. Sonde has
// one user namespace (`targ_ns` is init_user_ns); `opts` (CAP_OPT_*) changes nothing here,
// as in Linux, where only auditing reads it.
__attribute__((noinline, used)) int cap_capable(const struct cred* cred,
                                                struct user_namespace* targ_ns, int cap,
                                                unsigned int opts) {
  (void)targ_ns;
  (void)opts;
  if (cred == nullptr || cap < 0 || cap > posix::kCapLastCap) return -rt::kEPERM;
  bool held = (cred->cap_effective.cap[cap / 32] >> (cap % 32)) & 1;
  return held ? 0 : -rt::kEPERM;
}
}
