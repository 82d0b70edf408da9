// SPDX-License-Identifier: MIT
// Test support for BTF: BTF_LOAD through the core with its log, and a blob with every kind.
#pragma once

#include <string>
#include <vector>

#include "btf_builder.hpp"
#include "trace_test_support.hpp"

namespace trace::testing {

class BtfTestBase : public TraceCoreTest {
 protected:
  struct Loaded {
    int64_t status;
    std::string log;
    uint32_t true_size;
  };
  // BTF_LOAD of `blob` with a log of `log_size` bytes at `level` (no log for size 0).
  Loaded load_btf(const std::vector<uint8_t>& blob, uint32_t log_size = 1 << 16,
                  uint32_t level = 1) {
    blobs_.push_back(blob);
    logs_.emplace_back(log_size == 0 ? 1 : log_size, '\x7f');
    const std::vector<uint8_t>& kept = blobs_.back();
    std::vector<char>& log = logs_.back();
    memory_.allow(kept.data(), kept.size(), false);
    memory_.allow(log.data(), log.size());
    BpfAttr attr = {};
    attr.btf_load.btf = address(kept.data());
    attr.btf_load.btf_size = static_cast<uint32_t>(kept.size());
    if (log_size != 0) {
      attr.btf_load.btf_log_buf = address(log.data());
      attr.btf_load.btf_log_size = log_size;
      attr.btf_load.btf_log_level = level;
    }
    int64_t result = bpf(kBtfLoad, attr);
    return {result, log_size == 0 ? std::string() : std::string(log.data()),
            attr.btf_load.btf_log_true_size};
  }
  int64_t load_ok(const std::vector<uint8_t>& blob) {
    Loaded loaded = load_btf(blob);
    EXPECT_GT(loaded.status, 0) << loaded.log;
    return loaded.status;
  }

  void TearDown() override {
    TraceCoreTest::TearDown();
    EXPECT_EQ(objects_.count(ObjectKind::kBtf), 0u);
  }

  std::vector<std::vector<uint8_t>> blobs_;
  std::vector<std::vector<char>> logs_;
};

// One type of every kind, each valid, with forward and self references. Ids: 1 int, 2 ptr to
// 3, 3 struct node, 4 int[4], 5 union, 6 enum, 7 enum64, 8 fwd, 9 typedef, 10 volatile,
// 11 const, 12 restrict, 13 proto, 14 func, 15 var, 16 datasec, 17 float, 18 decl_tag,
// 19 type_tag, 20 ptr to it, 21 vararg proto, 22 bitfield struct.
inline BtfBuilder every_kind() {
  BtfBuilder b;
  b.add_int("int", 4, 32, kBtfIntSigned);
  b.add_ptr(3);
  b.add_struct("node", 16, {{"value", 1, 0}, {"next", 2, 64}});
  b.add_array(1, 1, 4);
  b.add_struct("u", 4, {{"a", 1, 0}, {"b", 17, 0}}, true);
  b.add_enum("e", 4, {{"A", 0}, {"B", -1}});
  b.add_enum64("e64", 8, {{"C", uint64_t{1} << 40}});
  b.add_fwd("later");
  b.add_typedef("int_t", 1);
  b.add_volatile(9);
  b.add_const(10);
  b.add_ref(kBtfKindRestrict, 2);
  b.add_func_proto(1, {{"ctx", 2}});
  b.add_func("main", 13);
  b.add_var("counter", 1);
  b.add_datasec(".data", 4, {{15, 0, 4}});
  b.add_float("float", 4);
  b.add_decl_tag("tag", 14, 0);
  b.add_type_tag("user", 1);
  b.add_ptr(19);
  b.add_func_proto(0, {{"x", 1}, {"", 0}});
  b.add_struct("bits", 4, {{"a", 1, (3u << 24) | 0}, {"b", 1, (5u << 24) | 3}}, false, true);
  return b;
}

}  // namespace trace::testing
