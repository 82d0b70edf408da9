// Creating and destroying maps of every supported type.
#pragma once

#include "ebpf/map.hpp"
#include "rt/allocator.hpp"
#include "rt/result.hpp"

namespace ebpf {

class Environment;

// Validates `attributes` as Linux's map_create does (EINVAL for bad sizes or flags, E2BIG
// for sizes that overflow, ENOMEM when the allocator refuses) and builds the map. Per-CPU
// maps keep `possible_cpus` copies and ask `cpu_source` which CPU is current; they are
// EINVAL without one.
rt::Result<Map*> create_map(const MapAttributes& attributes, rt::Allocator& allocator,
                            uint32_t possible_cpus, Environment* cpu_source = nullptr);
void destroy_map(Map* map, rt::Allocator& allocator);

}  // namespace ebpf
