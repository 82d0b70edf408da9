// SPDX-License-Identifier: MIT
// ProbeEvents: tracefs kprobe_events and uprobe_events, Linux's probe definition syntax.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/allocator.hpp"
#include "rt/result.hpp"
#include "trace/error_log.hpp"
#include "trace/events.hpp"
#include "trace/text_buffer.hpp"
#include "trace/vector.hpp"

namespace trace {

inline constexpr size_t kMaxProbeArgs = 128;       // MAX_TRACE_ARGS
inline constexpr size_t kMaxArgNameLength = 32;    // MAX_ARG_NAME_LEN
inline constexpr size_t kMaxArgTextLength = 63;    // MAX_ARGSTR_LEN
inline constexpr uint32_t kMaxActiveLimit = 4096;  // KRETPROBE_MAXACTIVE_MAX
inline constexpr size_t kMaxDereferences = 8;

// Where a fetch argument's value comes from.
enum class FetchBase : uint8_t {
  kRegister,         // %reg: an offset into struct pt_regs
  kArgument,         // $argN (kprobes on a function entry)
  kReturnValue,      // $retval (return probes)
  kStackPointer,     // $stack
  kStackEntry,       // $stackN
  kComm,             // $comm
  kAddress,          // @ADDR or @SYM[+|-OFFS] (kprobes)
  kFileOffset,       // @+OFFS (uprobes: an offset in the probed file)
  kImmediate,        // \IMM
  kImmediateString,  // \"STRING"
};

enum class FetchType : uint8_t {
  kU8,
  kU16,
  kU32,
  kU64,
  kS8,
  kS16,
  kS32,
  kS64,
  kX8,
  kX16,
  kX32,
  kX64,
  kString,
  kUserString,
  kSymbol,
};

// One fetch argument: a base, then dereferences from the innermost out.
struct FetchArg {
  char name[kMaxArgNameLength + 1] = {};
  char text[kMaxArgTextLength + 1] = {};  // the expression as written ("+0(%si):string")
  FetchBase base = FetchBase::kRegister;
  uint32_t register_offset = 0;                 // kRegister: offset in pt_regs
  uint64_t number = 0;                          // $argN, $stackN, @ADDR, @+OFFS, \IMM
  char symbol[kEventNameMax + 1] = {};          // @SYM
  int64_t dereferences[kMaxDereferences] = {};  // offsets, innermost first
  uint32_t dereference_count = 0;
  FetchType type = FetchType::kX64;
  uint32_t field_offset = 0;  // in the event's record
};

// A probe event definition, as kprobe_events / uprobe_events list it.
struct ProbeDefinition {
  explicit ProbeDefinition(rt::Allocator& allocator) : target(allocator), args(allocator) {}
  bool is_return = false;
  bool is_uprobe = false;
  uint32_t max_active = 0;      // kretprobes: 0 until registered, then the number listed
  TextBuffer target;            // kprobes: the symbol (empty for an address); uprobes: the path
  uint64_t address = 0;         // kprobes on an address
  uint64_t offset = 0;          // SYM+OFFS, or the uprobe's file offset
  uint64_t ref_ctr_offset = 0;  // uprobes: PATH:OFFS(REF)
  Vector<FetchArg> args;
  Event* event = nullptr;
  // Hits (kprobe_profile, uprobe_profile), counted by the probe's tracefs client while the
  // event is enabled, as Linux counts while its probe is registered.
  uint64_t hits = 0;
  uint64_t created = 0;  // its place among kprobe and uprobe definitions (dynamic_events)
};

// What probe definitions are checked against in the traced system.
class ProbeTargets {
 public:
  // Kernel (Sonde: POSIX-server) functions a kprobe may name.
  virtual bool kernel_symbol_exists(const char* name, size_t length) = 0;
  // Whether a kprobe may sit at NAME+OFFSET, as register_kprobe answers at definition: 0, EILSEQ
  // for an offset inside an instruction, EINVAL for code kprobes refuse (Linux's blacklist, an
  // instruction that cannot run out of line).
  virtual int kernel_probe_error(const char* name, size_t length, uint64_t offset) {
    (void)name;
    (void)length;
    (void)offset;
    return 0;
  }
  // 0, ENOENT for a missing path, EINVAL for one that is no regular file.
  virtual int user_file_status(const char* path, size_t length) = 0;
  // Appends "function+0xOFF/0xSIZE" (or the function alone without `with_offset`) for an
  // address, as Linux's %pS / %ps; false when no symbol covers it (the line shows hex).
  virtual bool symbolize(uint64_t address, bool with_offset, TextBuffer& out) {
    (void)address;
    (void)with_offset;
    (void)out;
    return false;
  }
  // available_filter_functions: the functions a kprobe sits on as cheaply as Linux's ftrace
  // (one name a line); none by default.
  virtual void list_traceable_functions(TextBuffer& out) { (void)out; }

 protected:
  ~ProbeTargets() = default;
};

// kprobe_events (uprobes = false) or uprobe_events. Definitions create events under the
// group (default "kprobes" / "uprobes") in the registry, with fields that follow the fetch
// arguments.
class ProbeEvents {
 public:
  ProbeEvents(EventRegistry& registry, ProbeTargets& targets, ErrorLog& errors, bool uprobes,
              uint32_t possible_cpus = 1)
      : registry_(registry),
        targets_(targets),
        errors_(errors),
        uprobes_(uprobes),
        possible_cpus_(possible_cpus),
        probes_(registry.allocator()) {}
  ~ProbeEvents();
  ProbeEvents(const ProbeEvents&) = delete;
  ProbeEvents& operator=(const ProbeEvents&) = delete;

  // A write to the file: one command per line, '#' starts a comment. `truncate` (an O_TRUNC
  // open) removes every probe first (EBUSY when one is enabled). The first failing command
  // ends the write with its errno; the commands before it stay.
  [[nodiscard]] rt::Result<void> write(const char* data, size_t length, bool truncate,
                                       uint64_t now_ns = 0);
  // The commands of a write, one per line ('#' starts a comment), each given to `command`;
  // EINVAL for a line over Linux's WRITE_BUFSIZE; the first failing command ends the write.
  using CommandFunction = rt::Result<void> (*)(void* state, const char* line, size_t length);
  [[nodiscard]] static rt::Result<void> for_each_command(const char* data, size_t length,
                                                         CommandFunction command, void* state);
  // One command: "p|r[MAXACTIVE][:[GRP/]EVENT] TARGET [ARGS]" or "-:[GRP/]EVENT".
  [[nodiscard]] rt::Result<void> run_command(const char* line, size_t length, uint64_t now_ns);
  // Reading the file: every definition in Linux's normalized form.
  void render(TextBuffer& out) const;
  // One definition's line (without the newline).
  static void render_definition(const ProbeDefinition& probe, TextBuffer& out);
  // The counter both files number their definitions from (dynamic_events lists them in the
  // order they were made).
  void set_creation_counter(uint64_t* counter) { created_counter_ = counter; }
  // Whether a definition's event is enabled or in use (what a truncating write refuses).
  bool busy() const;
  // Every definition removed (EBUSY, and none removed, while one is busy).
  [[nodiscard]] rt::Result<void> clear() { return remove_all(); }
  // kprobe_profile ("  NAME HITS MISSES", name padded to 44, counts to 15) or uprobe_profile
  // ("  PATH NAME HITS"), one line per definition in order.
  void render_profile(TextBuffer& out) const;

  size_t size() const { return probes_.size(); }
  const ProbeDefinition& at(size_t index) const { return *probes_[index]; }

 private:
  struct Command;
  [[nodiscard]] rt::Result<void> create(Command& command);
  [[nodiscard]] rt::Result<void> remove(Command& command);
  [[nodiscard]] rt::Result<void> remove_all();
  void destroy(size_t index);

  EventRegistry& registry_;
  ProbeTargets& targets_;
  ErrorLog& errors_;
  bool uprobes_;
  uint32_t possible_cpus_;
  Vector<ProbeDefinition*> probes_;
  uint64_t* created_counter_ = nullptr;
};

// The print format and record fields of a probe event from its definition (used when the
// event is created; exposed for tests).
[[nodiscard]] bool define_probe_fields(const ProbeDefinition& probe, Event& event);

}  // namespace trace
