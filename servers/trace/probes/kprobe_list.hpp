// SPDX-License-Identifier: MIT
// /sys/kernel/debug/kprobes/list: the kprobes registered on POSIX-server functions, one line
// each, in Linux 6.1's format (report_probe).
#pragma once

#include "kprobes.hpp"
#include "posix_symbols.hpp"
#include "service.hpp"
#include "trace/tracefs.hpp"

namespace trace {

// Lines are "ADDRESS  k  SYMBOL+0xOFF    FLAGS": the address as 16 hex digits (root sees it),
// k or r (a return probe), the function and the offset, then [DISABLED] for a kprobe event
// defined but not enabled (Linux registers it disabled) and [FTRACE] for one on a function's
// entry (here the patchable entry NOP, Linux's fentry site). An address without a symbol
// shows as hex. Armed probes come from Kprobes (kprobe events, kprobe PMU events, each return
// probe its own line), disabled ones from tracefs's kprobe_events definitions.
class KprobeList final : public KprobeListing {
 public:
  KprobeList(Kprobes& kprobes, PosixSymbols& symbols, Tracefs& tracefs)
      : kprobes_(kprobes), symbols_(symbols), tracefs_(tracefs) {}
  void list_kprobes(TextBuffer& out) override;
  void list_blacklist(TextBuffer& out) override;

  // One line (for tests and list_kprobes).
  static void line(TextBuffer& out, PosixSymbols& symbols, uint64_t address, bool is_return,
                   bool disabled);

 private:
  Kprobes& kprobes_;
  PosixSymbols& symbols_;
  Tracefs& tracefs_;
};

}  // namespace trace
