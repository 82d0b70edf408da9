// SPDX-License-Identifier: MIT
// ErrorLog: the last errors of tracefs commands, rendered as Linux's error_log.
#include "trace/error_log.hpp"

namespace trace {

void ErrorLog::add(uint64_t timestamp_ns, const char* location, const char* message,
                   const char* command, size_t command_length, size_t position) {
  char* copy = static_cast<char*>(allocator_.allocate(command_length + 1, 1));
  if (copy == nullptr) return;  // the log is best effort, as Linux's
  if (command_length > 0) __builtin_memcpy(copy, command, command_length);
  copy[command_length] = 0;
  if (count_ == kMaxEntries) {
    Entry& oldest = entries_[first_];
    allocator_.deallocate(oldest.command, oldest.command_length + 1);
    first_ = (first_ + 1) % kMaxEntries;
    --count_;
  }
  entries_[(first_ + count_) % kMaxEntries] =
      Entry{timestamp_ns, location, message, copy, command_length, position};
  ++count_;
}

void ErrorLog::render(TextBuffer& out) const {
  for (size_t i = 0; i < count_; ++i) {
    const Entry& entry = entries_[(first_ + i) % kMaxEntries];
    out.append_char('[');
    out.append_unsigned(entry.timestamp_ns / 1000000000, 10, 5, ' ');
    out.append_char('.');
    out.append_unsigned(entry.timestamp_ns % 1000000000 / 1000, 10, 6, '0');
    out.append("] ");
    out.append(entry.location);
    out.append(": error: ");
    out.append(entry.message);
    out.append("\n  Command: ");
    out.append(entry.command, entry.command_length);
    out.append_char('\n');
    out.append_repeated(' ', 11 + entry.position);  // under the command, past "  Command: "
    out.append("^\n");
  }
}

void ErrorLog::clear() {
  for (size_t i = 0; i < count_; ++i) {
    Entry& entry = entries_[(first_ + i) % kMaxEntries];
    allocator_.deallocate(entry.command, entry.command_length + 1);
  }
  first_ = count_ = 0;
}

}  // namespace trace
