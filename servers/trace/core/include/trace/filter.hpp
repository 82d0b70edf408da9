// SPDX-License-Identifier: MIT
// Event filters: Linux's filter expressions (events/.../filter), their errors and evaluation.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/allocator.hpp"
#include "rt/result.hpp"
#include "trace/events.hpp"

namespace trace {

// Linux 6.1's filter parse errors (the text after "parse_error: ").
enum class FilterError : uint8_t {
  kNone,
  kInvalidOp,
  kTooManyOpen,
  kTooManyClose,
  kMissingQuote,
  kOperandTooLong,
  kExpectString,
  kExpectDigit,
  kIllegalFieldOp,
  kFieldNotFound,
  kIllegalIntval,
  kBadSubsysFilter,
  kTooManyPreds,
  kInvalidFilter,
  kIpFieldOnly,
  kInvalidValue,
};
const char* filter_error_text(FilterError error);

// What a parse failure reports: Linux's error and its position (the caret's column), or
// kNone with errno EPERM for the case Linux reports as "Error: (0)".
struct FilterParseError {
  FilterError error = FilterError::kNone;
  uint32_t position = 0;
};

// The record a filter reads: the event's bytes (common fields first) and the context the
// generic fields name.
struct FilterRecord {
  const uint8_t* data = nullptr;
  size_t size = 0;
  const char* comm = "";  // at most 16 bytes, NUL-terminated within them
  uint32_t cpu = 0;
};

class FilterProgram;

// Compiles `text` against the event's fields. On failure, `error` says why and where and the
// result is EINVAL (EPERM for an empty predicate, as Linux's parser answers -1).
[[nodiscard]] rt::Result<FilterProgram*> compile_filter(const Event& event, const char* text,
                                                        size_t length, rt::Allocator& allocator,
                                                        FilterParseError& error);
bool filter_matches(const FilterProgram& program, const FilterRecord& record);
void destroy_filter_program(FilterProgram* program);

// A write to an event's filter file (apply_event_filter): "0" removes the filter; otherwise
// the filter replaces the old one, or, when it does not parse, the event is left unfiltered
// and its filter file shows the text with a caret and the error.
[[nodiscard]] rt::Result<void> write_event_filter(Event& event, const char* data, size_t length,
                                                  rt::Allocator& allocator);
// The filter file: "none" or the filter text (with its error), and a newline.
void render_event_filter(const Event& event, TextBuffer& out);
// Whether an event's record passes its filter (no filter: it does).
bool event_filter_passes(const Event& event, const FilterRecord& record);

// Glob matching as Linux's glob_match: '*', '?', '[...]' with ranges and '!', '\' escapes.
bool glob_match(const char* pattern, size_t pattern_length, const char* text, size_t length);

}  // namespace trace
