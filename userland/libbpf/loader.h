// SPDX-License-Identifier: MIT
// What every loader here tells libbpf: its warnings and errors to stderr, its debug lines not.
#ifndef SONDE_USERLAND_LIBBPF_LOADER_H
#define SONDE_USERLAND_LIBBPF_LOADER_H

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>

static inline int loader_print(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  return vfprintf(stderr, format, args);
}

#endif
