// SPDX-License-Identifier: MIT
// UnknownProbeTargets: no probe target exists until the POSIX server's symbols are known.
#include "probe_targets.hpp"

#include "rt/errno.hpp"

namespace trace {

// GAP: ask the POSIX server's symbol table (kallsyms) instead.
bool UnknownProbeTargets::kernel_symbol_exists(const char*, size_t) { return false; }

// GAP: ask the POSIX server's file tree instead.
int UnknownProbeTargets::user_file_status(const char*, size_t) { return rt::kENOENT; }

}  // namespace trace
