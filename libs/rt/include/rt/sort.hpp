// SPDX-License-Identifier: MIT
// Sorting in place without the standard library (freestanding servers): a Shell sort, fast on
// the mostly ordered tables they sort once (symbols by address).
#pragma once

#include <stddef.h>

namespace rt {

// Sorts `items[0, count)` so that no element is `less` than one before it.
template <typename T, typename Less>
void shell_sort(T* items, size_t count, Less less) {
  for (size_t gap = count / 2; gap > 0; gap /= 2) {
    for (size_t i = gap; i < count; ++i) {
      T item = items[i];
      size_t j = i;
      for (; j >= gap && less(item, items[j - gap]); j -= gap) items[j] = items[j - gap];
      items[j] = item;
    }
  }
}

}  // namespace rt
