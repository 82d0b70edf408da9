// Helper names by Linux helper id (enum bpf_func_id order), for bpftool-style call text.
#include <stddef.h>

#include "ebpf/insn_format.hpp"

namespace ebpf {
namespace {

// Index = id - 1: helper_table.def lists every id from 1 in order (checked below).
const char* const kHelperNames[] = {
#define LINUX_HELPER(id, name) "bpf_" #name,
#define SONDE_HELPER(id, Name, name, ...) "bpf_" #name,
#include "ebpf/helper_table.def"
};

constexpr int32_t kHelperIds[] = {
#define LINUX_HELPER(id, name) id,
#define SONDE_HELPER(id, ...) id,
#include "ebpf/helper_table.def"
};

constexpr bool idsFollowEachOther() {
  for (size_t i = 0; i < sizeof(kHelperIds) / sizeof(kHelperIds[0]); ++i) {
    if (kHelperIds[i] != static_cast<int32_t>(i + 1)) return false;
  }
  return true;
}
static_assert(idsFollowEachOther(), "helper_table.def must list helper ids 1, 2, 3, ... in order");

}  // namespace

const char* helper_name(int32_t id) {
  constexpr int32_t count = static_cast<int32_t>(sizeof(kHelperNames) / sizeof(kHelperNames[0]));
  return id >= 1 && id <= count ? kHelperNames[id - 1] : nullptr;
}

}  // namespace ebpf
