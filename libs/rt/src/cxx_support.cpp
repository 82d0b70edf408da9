// SPDX-License-Identifier: MIT
// The few C++ runtime hooks freestanding code needs (virtual destructors, pure virtuals).
#include <stddef.h>

// Objects are built in allocator memory and destroyed explicitly; a deleting destructor is
// emitted for classes with virtual destructors but must never run. Trap if it does.
void operator delete(void*) noexcept { __builtin_trap(); }
void operator delete(void*, size_t) noexcept { __builtin_trap(); }

extern "C" void __cxa_pure_virtual() { __builtin_trap(); }
