// SPDX-License-Identifier: MIT
// ProbeTargets for the trace server binary: what kprobe_events and uprobe_events may name.
#pragma once

#include "trace/probe_events.hpp"

namespace trace {

// GAP: no symbol table of the POSIX server and no file lookup yet: every kernel symbol is
// missing (ENOENT, "Invalid probed address or symbol") and every user file is absent.
class UnknownProbeTargets final : public ProbeTargets {
 public:
  bool kernel_symbol_exists(const char* name, size_t length) override;
  int user_file_status(const char* path, size_t length) override;
};

}  // namespace trace
