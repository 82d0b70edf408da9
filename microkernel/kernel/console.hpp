// SPDX-License-Identifier: MIT
// Kernel console output (serial): printk and friends.
#pragma once

#include <stddef.h>

namespace kernel {

void printk(const char* format, ...) __attribute__((format(printf, 1, 2)));
void console_write(const char* text, size_t length);

}  // namespace kernel
