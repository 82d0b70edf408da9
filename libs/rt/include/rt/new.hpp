// SPDX-License-Identifier: MIT
// Placement new for code built with or without a hosted C++ library.
#pragma once

#include <stddef.h>

#if __STDC_HOSTED__
#include <new>
#else
inline void* operator new(size_t, void* where) noexcept { return where; }
inline void* operator new[](size_t, void* where) noexcept { return where; }
#endif
