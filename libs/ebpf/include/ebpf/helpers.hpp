// SPDX-License-Identifier: MIT
// Helper functions with Linux's numbers, prototypes and semantics.
#pragma once

#include "ebpf/helper_ids.hpp"
#include "ebpf/program.hpp"
#include "ebpf/runtime.hpp"

namespace ebpf {

// Fills `table` (kMaxHelperId entries) with every helper Sonde implements; other entries
// stay nullptr. Helpers reach the host through ExecContext::env.
void fill_helper_table(HelperFunction* table);

// The function fill_helper_table puts at `id`, or nullptr: an engine that performs a helper
// itself (the JIT inlining a lookup) first checks the program's table still holds this one.
HelperFunction standard_helper(uint32_t id);

}  // namespace ebpf
