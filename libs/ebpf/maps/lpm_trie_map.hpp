// SPDX-License-Identifier: MIT
// BPF_MAP_TYPE_LPM_TRIE: longest-prefix match over keys `struct bpf_lpm_trie_key { u32
// prefixlen; u8 data[]; }`, a binary trie with Linux's node layout rules (kernel/bpf/lpm_trie.c):
// a node per entry plus intermediate nodes where two prefixes part. Nodes come from the
// allocator on update (LPM tries are never preallocated) and go back on delete.
#pragma once

#include "ebpf/map.hpp"
#include "rt/allocator.hpp"

namespace ebpf {

class LpmTrieMap final : public Map {
 public:
  struct Node {
    Node* child[2];
    uint32_t prefixlen;
    uint32_t flags;  // kIntermediate, kHasValue
    // data_size bytes of key data padded to 8, then value_size bytes of value (kHasValue).
  };
  // Linux's LPM_TREE_NODE_FLAG_IM: a node only there to part two subtries; not an entry.
  static constexpr uint32_t kIntermediate = 1u << 0;
  // The node was allocated with room for a value (every node but the intermediate nodes
  // made by update; a deleted entry with two children becomes intermediate and keeps it).
  static constexpr uint32_t kHasValue = 1u << 1;

  // sizeof(struct bpf_lpm_trie_key) without its data.
  static constexpr uint32_t kKeyHeader = 4;

  LpmTrieMap(const MapAttributes& attributes, rt::Allocator* allocator);

  // Gives every node back to the allocator (destroy_map).
  void release_nodes();

  void* lookup(const void* key) override;
  long update(const void* key, const void* value, uint64_t flags) override;
  long remove(const void* key) override;
  [[nodiscard]] rt::Result<void> syscall_lookup(const void* key, void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> syscall_update(const void* key, const void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> get_next_key(const void* key, void* next_key) override;
  // Linux gives LPM tries the generic batches: lookup walks get_next_key with a key_size
  // token (the last key copied); update and delete go element by element.
  [[nodiscard]] rt::Result<void> lookup_batch(const void* in_batch, void* out_batch, void* keys,
                                              void* values, uint32_t* count) override;
  [[nodiscard]] rt::Result<void> update_batch(const void* keys, const void* values, uint32_t* count,
                                              uint64_t elem_flags) override {
    return generic_update_batch(keys, values, count, elem_flags);
  }
  [[nodiscard]] rt::Result<void> delete_batch(const void* keys, uint32_t* count,
                                              uint64_t elem_flags) override {
    return generic_delete_batch(keys, count, elem_flags);
  }
  size_t memory_usage() const override;

  // Entries (intermediate nodes not counted), as Linux's n_entries.
  uint32_t count() const { return entries_; }
  uint32_t max_prefixlen() const { return max_prefixlen_; }

 private:
  uint8_t* data_of(Node* node) const { return reinterpret_cast<uint8_t*>(node + 1); }
  const uint8_t* data_of(const Node* node) const {
    return reinterpret_cast<const uint8_t*>(node + 1);
  }
  uint8_t* value_of(Node* node) const { return data_of(node) + data_stride_; }
  size_t node_bytes(bool with_value) const;
  // A node with this data and prefix length, and `value` when not nullptr; nullptr when the
  // allocator refuses.
  Node* allocate_node(const uint8_t* data, uint32_t prefixlen, const void* value);
  void free_node(Node* node);
  // How many leading bits of `node` and the key agree, at most the shorter prefix length
  // (Linux's longest_prefix_match).
  uint32_t longest_prefix_match(const Node* node, uint32_t prefixlen, const uint8_t* data) const;
  // trie_check_add_elem: whether a new entry may be added (BPF_EXIST: ENOENT; full: ENOSPC).
  long check_add(uint64_t flags);
  // The first entry in postorder under `root` (Linux's find_leftmost).
  static const Node* leftmost(const Node* root);

  rt::Allocator* allocator_;
  Node* root_ = nullptr;
  uint32_t data_size_;
  uint32_t data_stride_;  // data_size rounded up to 8, so values are 8-byte aligned
  uint32_t max_prefixlen_;
  uint32_t entries_ = 0;
  size_t node_bytes_held_ = 0;
};

}  // namespace ebpf
