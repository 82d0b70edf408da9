// SPDX-License-Identifier: MIT
// The helper table (helper_table.def): every helper has an id, a name, a prototype and an
// implementation, and the names and ids are Linux's.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <string>

#include "ebpf/helper_ids.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/insn_format.hpp"
#include "ebpf/program.hpp"
#include "verifier/helper_prototypes.hpp"

namespace {

using namespace ebpf;

// Linux's own list, index = id. The uapi header of Linux 6.1 separates the entries with commas
// itself.
#define SONDE_LINUX_HELPER_NAME(name) "bpf_" #name
const char* const kLinuxHelperNames[] = {__BPF_FUNC_MAPPER(SONDE_LINUX_HELPER_NAME)};
#undef SONDE_LINUX_HELPER_NAME
constexpr int32_t kLinuxHelperCount =
    static_cast<int32_t>(sizeof(kLinuxHelperNames) / sizeof(kLinuxHelperNames[0]));

TEST(HelperTable, NamesAreLinuxNamesByLinuxId) {
  EXPECT_EQ(helper_name(0), nullptr);
  int32_t named = 0;
  for (int32_t id = 1; id < kLinuxHelperCount && helper_name(id) != nullptr; ++id, ++named) {
    EXPECT_STREQ(helper_name(id), kLinuxHelperNames[id]) << "id " << id;
  }
  // Every helper up to Linux 6.1's last (user_ringbuf_drain) has its name.
  EXPECT_GE(named, BPF_FUNC_user_ringbuf_drain);
}

TEST(HelperTable, EveryHelperWithAPrototypeHasAnImplementationAndAName) {
  HelperFunction table[kMaxHelperId] = {};
  fill_helper_table(table);
  int prototypes = 0;
  for (int32_t id = 0; id < static_cast<int32_t>(kMaxHelperId); ++id) {
    const verifier::HelperPrototype* prototype = verifier::helper_prototype(id);
    if (prototype == nullptr) continue;
    ++prototypes;
    // Tail calls are performed by the engines themselves, never through the table.
    if (id != kHelperTailCall)
      EXPECT_NE(table[id], nullptr) << "no implementation for " << prototype->name;
    ASSERT_NE(helper_name(id), nullptr) << "no name for " << prototype->name;
    EXPECT_EQ(helper_name(id), std::string("bpf_") + prototype->name) << "id " << id;
  }
  EXPECT_GE(prototypes, 34);
  EXPECT_EQ(table[kHelperTailCall], nullptr);
}

TEST(HelperTable, EveryImplementedHelperHasAPrototype) {
  HelperFunction table[kMaxHelperId] = {};
  fill_helper_table(table);
  for (int32_t id = 0; id < static_cast<int32_t>(kMaxHelperId); ++id) {
    if (table[id] == nullptr) continue;
    EXPECT_NE(verifier::helper_prototype(id), nullptr)
        << "helper " << id << " (" << (helper_name(id) ? helper_name(id) : "?")
        << ") runs without a verifier prototype";
  }
}

}  // namespace
