// SPDX-License-Identifier: MIT
// COM1 serial port: the kernel console.
#pragma once

namespace arch {

void serial_init();
void serial_put(char c);

}  // namespace arch
