// SPDX-License-Identifier: MIT
// EventPids (event_pids.hpp).
#include "trace/event_pids.hpp"

#include "rt/errno.hpp"

namespace trace {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

// kstrtoul(text, 0): a leading "0x" is hex, a leading 0 octal; nothing else may follow. Pids are
// int: more than INT32_MAX is no pid.
bool parse_pid(const char* text, size_t length, int32_t& pid) {
  unsigned base = 10;
  size_t i = 0;
  if (length > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    i = 2;
  } else if (length > 1 && text[0] == '0') {
    base = 8;
    i = 1;
  }
  if (i == length) return false;
  uint64_t value = 0;
  for (; i < length; ++i) {
    int digit = digit_value(text[i]);
    if (digit >= static_cast<int>(base)) return false;
    value = value * base + static_cast<unsigned>(digit);
    if (value > INT32_MAX) return false;
  }
  pid = static_cast<int32_t>(value);
  return true;
}

}  // namespace

rt::Result<void> EventPids::write(const char* data, size_t length, bool truncate) {
  if (truncate) pids_.clear();
  // Parsed first, added after: a bad token leaves the list as it was.
  Vector<int32_t> parsed(allocator_);
  for (size_t i = 0; i < length;) {
    while (i < length && is_space(data[i])) ++i;
    size_t start = i;
    while (i < length && !is_space(data[i])) ++i;
    if (i == start) break;
    int32_t pid;
    if (!parse_pid(data + start, i - start, pid)) return rt::err(rt::kEINVAL);
    if (!parsed.push_back(int32_t{pid})) return rt::err(rt::kENOMEM);
  }
  for (size_t n = 0; n < parsed.size(); ++n) {
    size_t at = 0;
    while (at < pids_.size() && pids_[at] < parsed[n]) ++at;
    if (at < pids_.size() && pids_[at] == parsed[n]) continue;
    if (!pids_.push_back(int32_t{parsed[n]})) return rt::err(rt::kENOMEM);
    for (size_t j = pids_.size() - 1; j > at; --j) pids_[j] = pids_[j - 1];
    pids_[at] = parsed[n];
  }
  return {};
}

void EventPids::render(TextBuffer& out) const {
  for (size_t i = 0; i < pids_.size(); ++i) {
    out.append_unsigned(static_cast<uint64_t>(pids_[i]));
    out.append_char('\n');
  }
}

bool EventPids::contains(int64_t pid) const {
  for (size_t i = 0; i < pids_.size(); ++i) {
    if (pids_[i] == pid) return true;
  }
  return false;
}

}  // namespace trace
