// SPDX-License-Identifier: MIT
// KprobeList: debugfs's kprobes/list from the armed kprobes and the disabled kprobe events.
#include "kprobe_list.hpp"

#include "rt/kernel_alias.hpp"

namespace trace {

void KprobeList::line(TextBuffer& out, PosixSymbols& symbols, uint64_t address, bool is_return,
                      bool disabled) {
  out.append_unsigned(sonde::abi::kernel_alias(address), 16, 16, '0');
  out.append(is_return ? "  r  " : "  k  ");
  const char* name = nullptr;
  uint64_t offset = 0;
  bool entry = false;
  if (symbols.locate(address, name, offset)) {
    // "%s+0x%x  %s " with no module name (" "), as Linux prints a built-in symbol.
    out.append(name);
    out.append("+0x");
    out.append_unsigned(offset, 16);
    out.append("    ");
    entry = offset == 0;
  } else {
    out.append("0x");
    out.append_unsigned(sonde::abi::kernel_alias(address), 16);
    out.append_char(' ');
  }
  if (disabled) out.append("[DISABLED]");
  if (entry) out.append("[FTRACE]");
  out.append_char('\n');
}

void KprobeList::list_kprobes(TextBuffer& out) {
  struct Context {
    TextBuffer& out;
    PosixSymbols& symbols;
  } context{out, symbols_};
  kprobes_.each_listed(
      [](void* raw, uint64_t address, bool is_return) {
        auto* c = static_cast<Context*>(raw);
        line(c->out, c->symbols, address, is_return, false);
      },
      &context);
  // Kprobe events defined but not enabled are registered disabled in Linux. GAP: one opened
  // through perf (PERF_TYPE_TRACEPOINT) while not enabled in tracefs shows as disabled.
  ProbeEvents& events = tracefs_.kprobes();
  for (size_t i = 0; i < events.size(); ++i) {
    const ProbeDefinition& probe = events.at(i);
    if (probe.event == nullptr || probe.event->enabled) continue;
    uint64_t address = sonde::abi::server_address(probe.address);
    if (!probe.target.empty() &&
        !symbols_.resolve(probe.target.data(), probe.target.size(), probe.offset, address)) {
      continue;
    }
    line(out, symbols_, address, probe.is_return, true);
  }
}

void KprobeList::list_blacklist(TextBuffer& out) {
  kprobes_.each_blacklisted([&](uint64_t start, uint64_t end) {
    out.append("0x");
    out.append_unsigned(sonde::abi::kernel_alias(start), 16, 16, '0');
    out.append("-0x");
    out.append_unsigned(sonde::abi::kernel_alias(end), 16, 16, '0');
    out.append_char('\t');
    if (!symbols_.symbolize(start, false, out)) out.append("?");
    out.append_char('\n');
  });
}

}  // namespace trace
