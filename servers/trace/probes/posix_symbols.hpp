// SPDX-License-Identifier: MIT
// The POSIX server's symbol table and the microkernel's: what kprobes name, and how addresses
// print (%pS). A bare name is the POSIX server's function (Linux's "kernel" here) or, when it
// has none of that name, the microkernel's; `microkernel:NAME` is only the microkernel's.
// Names are the ELF symbols as /proc/kallsyms lists them (C++ functions mangled).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "elf/elf64.hpp"
#include "trace/probe_events.hpp"

namespace trace {

class Kprobes;

class PosixSymbols final : public ProbeTargets {
 public:
  // `image`: the POSIX server's ELF (nullptr: no symbols, every kprobe target is refused).
  void open(const uint8_t* image, size_t size);
  // `image`: the microkernel's ELF (the `symbols` boot module).
  void open_kernel(const uint8_t* image, size_t size);

  // The address of function `name` (`length` bytes) plus `offset`; false when there is none.
  bool resolve(const char* name, size_t length, uint64_t offset, uint64_t& address) const;
  // The address of any function or object named `name`.
  bool resolve_any(const char* name, size_t length, uint64_t& address) const;

  bool kernel_symbol_exists(const char* name, size_t length) override;
  int kernel_probe_error(const char* name, size_t length, uint64_t offset) override;
  // Who says whether a kprobe may sit at an address (Kprobes::check_probe_point); without it
  // only function entries are taken.
  void set_probe_points(Kprobes* kprobes) { kprobes_ = kprobes; }
  // The start of the POSIX-server function holding `address`; false outside every function.
  bool function_start(uint64_t address, uint64_t& start) const;
  // Code kprobes refuse, [start, end) (Kprobes::each_blacklisted gives it at start).
  void refuse(uint64_t start, uint64_t end);
  // The trace server cannot see the POSIX server's files: that server checks the paths of
  // uprobe_events writes before it forwards them (ENOENT, EINVAL as Linux), and of uprobe
  // perf events at perf_event_open. A relative path names nothing here.
  int user_file_status(const char* path, size_t length) override {
    return length > 0 && path[0] == '/' ? 0 : 2; /* ENOENT */
  }
  bool symbolize(uint64_t address, bool with_offset, TextBuffer& out) override;
  bool is_function_start(uint64_t address) const {
    return open_ && table_.is_function_start(address);
  }
  // The st_size of the POSIX-server function that starts at `address` (0: none starts there).
  uint64_t function_size(uint64_t address) const;
  // The function `address` is in and how far into it; false when no symbol covers it.
  bool locate(uint64_t address, const char*& name, uint64_t& offset) const;
  // tracefs's available_filter_functions: the POSIX-server functions that start with a
  // patchable entry NOP (the __patchable_function_entries section, Linux's mcount_loc), one
  // name a line in address order, less the code kprobes refuse.
  void list_traceable_functions(TextBuffer& out) override;

 private:
  bool find_function(const elf::SymbolTable& table, const char* name, size_t length,
                     uint64_t& address) const;
  // `name` is _text or _stext: the POSIX server's first function, as kallsyms lists them.
  bool text_start(const char* name, size_t length, uint64_t& start) const;
  mutable uint64_t text_start_ = 0;

  // The entry sites, sorted, and each one's function name (found on first use).
  void find_traceable();
  const uint8_t* image_ = nullptr;
  size_t image_size_ = 0;
  bool traceable_found_ = false;

  elf::SymbolTable table_;
  bool open_ = false;
  elf::SymbolTable kernel_table_;
  bool kernel_open_ = false;
  Kprobes* kprobes_ = nullptr;
  struct Range {
    uint64_t start = 0;
    uint64_t end = 0;
  };
  Range refused_[8];
  size_t refused_count_ = 0;
};

}  // namespace trace
