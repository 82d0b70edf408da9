// Helper function ids: Linux's enum bpf_func_id numbering, for the helpers Sonde knows.
#pragma once

#include <stdint.h>

namespace ebpf {

// kHelper<Name> for each SONDE_HELPER in helper_table.def.
enum HelperId : int32_t {
#define LINUX_HELPER(id, name)
#define SONDE_HELPER(id, Name, ...) kHelper##Name = id,
#include "ebpf/helper_table.def"
};

}  // namespace ebpf
