// SPDX-License-Identifier: MIT
// Readable names for Itanium-mangled C++ symbols, enough for panic reports and symbol lists.
#pragma once

#include <stddef.h>

namespace elf {

// Writes a readable form of the symbol `name` into `out` (always NUL-terminated when
// `capacity` > 0) and returns `out`. Functions in namespaces and classes become
// `a::b::f` (parameter types are left out: `kernel::panic` for `_ZN6kernel5panicEPKcz`),
// anonymous namespaces `(anonymous namespace)`, constructors and destructors `C::C` and
// `C::~C`. A name that is not mangled, or uses a form this does not decode (templates,
// operators, substitutions), is copied unchanged; a result too long for `out` is cut short
// and ends in "...".
const char* demangle(const char* name, char* out, size_t capacity);

}  // namespace elf
