// SPDX-License-Identifier: MIT
// Kernel object lifecycle: installs the Retype/delete hooks and the invocation handlers.
#pragma once

namespace kernel {

void objects_init();

}  // namespace kernel
