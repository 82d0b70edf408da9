// Creating and destroying maps of every supported type.
#pragma once

#include "ebpf/map.hpp"
#include "rt/allocator.hpp"
#include "rt/result.hpp"

namespace ebpf {

// Validates `attributes` as Linux's map_create does (EINVAL for bad sizes or flags, E2BIG
// for sizes that overflow, ENOMEM when the allocator refuses) and builds the map.
rt::Result<Map*> create_map(const MapAttributes& attributes, rt::Allocator& allocator,
                            uint32_t possible_cpus);
void destroy_map(Map* map, rt::Allocator& allocator);

}  // namespace ebpf
