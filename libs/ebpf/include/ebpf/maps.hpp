// SPDX-License-Identifier: MIT
// Creating and destroying maps of every supported type.
#pragma once

#include "ebpf/map.hpp"
#include "rt/allocator.hpp"
#include "rt/result.hpp"

namespace ebpf {

class Environment;

// Validates `attributes` as Linux's map_create does (EINVAL for bad sizes or flags, E2BIG
// for sizes Linux refuses as too big, ENOTSUPP for an LRU map without preallocation) and
// builds the map with memory from `allocator` (ENOMEM when it refuses; wrap it in a
// MapMemoryBudget, map_budget.hpp, to bound a map or a client). Per-CPU maps keep
// `possible_cpus` copies and ask `cpu_source` which CPU is current on every program-side
// access, so the trace server decides the current CPU; they are EINVAL without one.
rt::Result<Map*> create_map(const MapAttributes& attributes, rt::Allocator& allocator,
                            uint32_t possible_cpus, Environment* cpu_source = nullptr);
// The same, with the CPU count and current CPU taken from `environment`.
rt::Result<Map*> create_map(const MapAttributes& attributes, rt::Allocator& allocator,
                            Environment& environment);
// Returns every byte the map took to `allocator` (the one it was created with).
void destroy_map(Map* map, rt::Allocator& allocator);

}  // namespace ebpf
