// SPDX-License-Identifier: MIT
// Test support for tracefs: a host allocator, contexts, and Linux 6.1's recorded session text.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "support/malloc_allocator.hpp"
#include "trace/text_buffer.hpp"
#include "trace/trace_buffer.hpp"

namespace trace::testing {

inline std::string text_of(const TextBuffer& text) { return std::string(text.data(), text.size()); }

inline TraceContext context(const char* comm, int32_t pid, uint64_t timestamp_ns, uint8_t flags = 0,
                            uint8_t preempt_count = 0, uint32_t cpu = 0) {
  TraceContext result;
  std::strncpy(result.comm, comm, sizeof(result.comm));
  result.pid = pid;
  result.timestamp_ns = timestamp_ns;
  result.flags = flags;
  result.preempt_count = preempt_count;
  result.cpu = cpu;
  return result;
}

// A file of the recorded Linux 6.1 session (/work/shared/reference/linux-6.1), or "" when the
// shared data is absent (the caller then skips).
inline std::string reference_file(const char* name) {
  std::ifstream file(std::string(SONDE_LINUX_REFERENCE_DIR) + "/" + name);
  if (!file) return "";
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// What the recorded session printed for `command` (its `occurrence`th run): the lines after
// "$ command" up to the next command or comment line ("$ ..." or "# ...", except the header
// lines of a `trace` listing), each with its newline.
inline std::string reference_output(const std::string& session, const std::string& command,
                                    int occurrence = 0) {
  std::string marker = "$ " + command + "\n";
  size_t at = std::string::npos;
  for (int i = 0; i <= occurrence; ++i) {
    at = session.find(marker, at == std::string::npos ? 0 : at + 1);
    if (at == std::string::npos) return "";
  }
  size_t start = at + marker.size();
  size_t end = start;
  while (end < session.size()) {
    std::string line = session.substr(end, session.find('\n', end) - end);
    bool header = line.rfind("# tracer:", 0) == 0 || line.rfind("# entries-in-buffer", 0) == 0 ||
                  line.rfind("#  ", 0) == 0 || line == "#";
    if (line.rfind("$ ", 0) == 0 || (line.rfind("#", 0) == 0 && !header)) break;
    end += line.size() + 1;
  }
  return session.substr(start, end - start);
}

}  // namespace trace::testing
