// The prototype table, by Linux helper id, from helper_table.def.
#include "verifier/helper_prototypes.hpp"

#include "ebpf/helper_ids.hpp"

namespace ebpf::verifier {
namespace {

struct Entry {
  int32_t id;
  HelperPrototype prototype;
};

// helper_table.def names argument and return types without their enums.
using enum ArgType;
using enum ReturnType;

const Entry kPrototypes[] = {
#define LINUX_HELPER(id, name)
#define SONDE_HELPER(id, Name, name, implementation, ret, ...) {id, {#name, ret, {__VA_ARGS__}}},
#include "ebpf/helper_table.def"
};

}  // namespace

const HelperPrototype* helper_prototype(int32_t id) {
  for (const Entry& entry : kPrototypes) {
    if (entry.id == id) return &entry.prototype;
  }
  return nullptr;
}

}  // namespace ebpf::verifier
