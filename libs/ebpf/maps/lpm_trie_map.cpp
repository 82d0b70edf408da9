// SPDX-License-Identifier: MIT
// LPM trie maps: Linux 6.1's trie (as its stable releases from 6.1.120 on, which Debian's 6.1
// kernels are: BPF_NOEXIST/BPF_EXIST honoured, in-place updates of a full trie allowed,
// get_next_key's exact match compares the matched length).
#include "maps/lpm_trie_map.hpp"

#include "rt/errno.hpp"

namespace ebpf {
namespace {

uint32_t prefixlen_of(const void* key) {
  uint32_t prefixlen;
  __builtin_memcpy(&prefixlen, key, sizeof(prefixlen));
  return prefixlen;
}

const uint8_t* data_of_key(const void* key) {
  return static_cast<const uint8_t*>(key) + LpmTrieMap::kKeyHeader;
}

// Bit `index` of `data`, the most significant bit of data[0] being bit 0 (Linux's extract_bit).
uint32_t extract_bit(const uint8_t* data, uint32_t index) {
  return (data[index / 8] >> (7 - index % 8)) & 1u;
}

}  // namespace

LpmTrieMap::LpmTrieMap(const MapAttributes& attributes, rt::Allocator* allocator)
    : Map(attributes),
      allocator_(allocator),
      data_size_(attributes.key_size - kKeyHeader),
      data_stride_((attributes.key_size - kKeyHeader + 7u) & ~7u),
      max_prefixlen_((attributes.key_size - kKeyHeader) * 8) {}

size_t LpmTrieMap::node_bytes(bool with_value) const {
  return sizeof(Node) + data_stride_ + (with_value ? attributes().value_size : 0);
}

LpmTrieMap::Node* LpmTrieMap::allocate_node(const uint8_t* data, uint32_t prefixlen,
                                            const void* value) {
  size_t bytes = node_bytes(value != nullptr);
  auto* node = static_cast<Node*>(allocator_->allocate(bytes, alignof(Node)));
  if (node == nullptr) return nullptr;
  node_bytes_held_ += bytes;
  node->child[0] = nullptr;
  node->child[1] = nullptr;
  node->prefixlen = prefixlen;
  node->flags = value != nullptr ? kHasValue : 0;
  __builtin_memset(data_of(node), 0, data_stride_);
  __builtin_memcpy(data_of(node), data, data_size_);
  if (value != nullptr) __builtin_memcpy(value_of(node), value, attributes().value_size);
  return node;
}

void LpmTrieMap::free_node(Node* node) {
  size_t bytes = node_bytes((node->flags & kHasValue) != 0);
  node_bytes_held_ -= bytes;
  allocator_->deallocate(node, bytes);
}

uint32_t LpmTrieMap::longest_prefix_match(const Node* node, uint32_t prefixlen,
                                          const uint8_t* data) const {
  uint32_t limit = node->prefixlen < prefixlen ? node->prefixlen : prefixlen;
  const uint8_t* node_data = data_of(node);
  uint32_t matched = 0;
  for (uint32_t i = 0; i < data_size_ && matched < limit; ++i) {
    uint32_t difference = node_data[i] ^ data[i];
    if (difference != 0) {
      matched += static_cast<uint32_t>(__builtin_clz(difference)) - 24;
      break;
    }
    matched += 8;
  }
  return matched < limit ? matched : limit;
}

void* LpmTrieMap::lookup(const void* key) {
  uint32_t prefixlen = prefixlen_of(key);
  if (prefixlen > max_prefixlen_) return nullptr;
  const uint8_t* data = data_of_key(key);
  Node* found = nullptr;
  for (Node* node = root_; node != nullptr;) {
    uint32_t matchlen = longest_prefix_match(node, prefixlen, data);
    // A full-length match cannot get more specific.
    if (matchlen == max_prefixlen_) {
      found = node;
      break;
    }
    if (matchlen < node->prefixlen) break;
    if (!(node->flags & kIntermediate)) found = node;
    node = node->child[extract_bit(data, node->prefixlen)];
  }
  return found != nullptr ? value_of(found) : nullptr;
}

long LpmTrieMap::check_add(uint64_t flags) {
  if (flags == kUpdateExist) return -rt::kENOENT;
  if (entries_ == attributes().max_entries) return -rt::kENOSPC;
  ++entries_;
  return 0;
}

long LpmTrieMap::update(const void* key, const void* value, uint64_t flags) {
  if (flags > kUpdateExist) return -rt::kEINVAL;  // BPF_F_LOCK too: no spin locks here
  uint32_t prefixlen = prefixlen_of(key);
  if (prefixlen > max_prefixlen_) return -rt::kEINVAL;
  const uint8_t* data = data_of_key(key);
  // Linux allocates first, so a refused allocation is ENOMEM whatever the flags say.
  Node* new_node = allocate_node(data, prefixlen, value);
  if (new_node == nullptr) return -rt::kENOMEM;

  // Down to an empty slot, the node with this prefix, or the first node that parts from it.
  Node** slot = &root_;
  Node* node;
  uint32_t matchlen = 0;
  while ((node = *slot) != nullptr) {
    matchlen = longest_prefix_match(node, prefixlen, data);
    if (node->prefixlen != matchlen || node->prefixlen == prefixlen) break;
    slot = &node->child[extract_bit(data, node->prefixlen)];
  }

  long error = 0;
  if (node == nullptr) {
    error = check_add(flags);
    if (error == 0) *slot = new_node;
  } else if (node->prefixlen == matchlen) {
    // The same prefix: an entry is replaced in place (no room needed); an intermediate node
    // becomes an entry.
    if (!(node->flags & kIntermediate)) {
      if (flags == kUpdateNoExist) error = -rt::kEEXIST;
    } else {
      error = check_add(flags);
    }
    if (error == 0) {
      new_node->child[0] = node->child[0];
      new_node->child[1] = node->child[1];
      *slot = new_node;
      free_node(node);
    }
  } else if ((error = check_add(flags)) == 0) {
    if (matchlen == prefixlen) {
      // The new prefix covers the node: it goes between the node and its slot.
      new_node->child[extract_bit(data_of(node), matchlen)] = node;
      *slot = new_node;
    } else {
      // They part after matchlen bits: an intermediate node holds both.
      Node* intermediate = allocate_node(data_of(node), matchlen, nullptr);
      if (intermediate == nullptr) {
        --entries_;
        error = -rt::kENOMEM;
      } else {
        intermediate->flags |= kIntermediate;
        uint32_t new_side = extract_bit(data, matchlen);
        intermediate->child[new_side] = new_node;
        intermediate->child[new_side ^ 1u] = node;
        *slot = intermediate;
      }
    }
  }
  if (error != 0) free_node(new_node);
  return error;
}

long LpmTrieMap::remove(const void* key) {
  uint32_t prefixlen = prefixlen_of(key);
  if (prefixlen > max_prefixlen_) return -rt::kEINVAL;
  const uint8_t* data = data_of_key(key);
  // The slot holding the node with exactly this prefix, and its parent's slot.
  Node** trim = &root_;
  Node** parent_trim = trim;
  Node* parent = nullptr;
  Node* node;
  uint32_t matchlen = 0;
  while ((node = *trim) != nullptr) {
    matchlen = longest_prefix_match(node, prefixlen, data);
    if (node->prefixlen != matchlen || node->prefixlen == prefixlen) break;
    parent = node;
    parent_trim = trim;
    trim = &node->child[extract_bit(data, node->prefixlen)];
  }
  if (node == nullptr || node->prefixlen != prefixlen || node->prefixlen != matchlen ||
      (node->flags & kIntermediate)) {
    return -rt::kENOENT;
  }
  --entries_;
  // With two children the node still parts them: it only stops being an entry.
  if (node->child[0] != nullptr && node->child[1] != nullptr) {
    node->flags |= kIntermediate;
    return 0;
  }
  // A leaf under an intermediate node takes that node with it; its sibling moves up, so every
  // intermediate node keeps exactly two children.
  if (parent != nullptr && (parent->flags & kIntermediate) && node->child[0] == nullptr &&
      node->child[1] == nullptr) {
    *parent_trim = parent->child[parent->child[0] == node ? 1 : 0];
    free_node(parent);
    free_node(node);
    return 0;
  }
  *trim = node->child[0] != nullptr ? node->child[0] : node->child[1];
  free_node(node);
  return 0;
}

rt::Result<void> LpmTrieMap::syscall_lookup(const void* key, void* value, uint64_t flags) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);
  if (flags != 0) return rt::err(rt::kEINVAL);  // BPF_F_LOCK: no spin locks in Sonde's values
  void* found = lookup(key);
  if (found == nullptr) return rt::err(rt::kENOENT);
  __builtin_memcpy(value, found, attributes().value_size);
  return {};
}

rt::Result<void> LpmTrieMap::syscall_update(const void* key, const void* value, uint64_t flags) {
  if (!syscall_can_write()) return rt::err(rt::kEPERM);
  return rt::from_negated_errno(update(key, value, flags));
}

const LpmTrieMap::Node* LpmTrieMap::leftmost(const Node* root) {
  // Intermediate nodes always have two children, so an entry is always found.
  const Node* entry = nullptr;
  for (const Node* node = root; node != nullptr;) {
    if (node->flags & kIntermediate) {
      node = node->child[0];
    } else {
      entry = node;
      node = node->child[0] != nullptr ? node->child[0] : node->child[1];
    }
  }
  return entry;
}

// trie_get_next_key: entries in postorder, left subtrie before right, more specific prefixes
// before the ones that cover them. No key, a prefix length above the maximum or a key that is
// not an entry starts from the first.
rt::Result<void> LpmTrieMap::get_next_key(const void* key, void* next_key) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);  // BPF_MAP_GET_NEXT_KEY reads the map
  if (root_ == nullptr) return rt::err(rt::kENOENT);
  const Node* next = nullptr;
  const Node* search_root = root_;
  if (key != nullptr && prefixlen_of(key) <= max_prefixlen_) {
    uint32_t prefixlen = prefixlen_of(key);
    const uint8_t* data = data_of_key(key);
    // Linux climbs back up from the key's node: the first ancestor whose right subtrie
    // follows the key's side is next (its first entry), else the first ancestor that is an
    // entry. On the way down the deepest such ancestor is the one it would reach.
    const Node* resume_subtrie = nullptr;
    const Node* resume_entry = nullptr;
    const Node* node = root_;
    uint32_t matchlen = 0;
    while (node != nullptr) {
      matchlen = longest_prefix_match(node, prefixlen, data);
      if (node->prefixlen != matchlen || node->prefixlen == prefixlen) break;
      uint32_t side = extract_bit(data, node->prefixlen);
      if (side == 0 && node->child[1] != nullptr) {
        resume_subtrie = node->child[1];
        resume_entry = nullptr;
      } else if (!(node->flags & kIntermediate)) {
        resume_subtrie = nullptr;
        resume_entry = node;
      }
      node = node->child[side];
    }
    if (node != nullptr && node->prefixlen == matchlen && !(node->flags & kIntermediate)) {
      if (resume_subtrie == nullptr && resume_entry == nullptr) return rt::err(rt::kENOENT);
      next = resume_entry;
      search_root = resume_subtrie;
    }
  }
  if (next == nullptr) next = leftmost(search_root);
  auto* out = static_cast<uint8_t*>(next_key);
  __builtin_memcpy(out, &next->prefixlen, sizeof(next->prefixlen));
  __builtin_memcpy(out + kKeyHeader, data_of(next), data_size_);
  return {};
}

// generic_map_lookup_batch: get_next_key from the token (or the start), each key's value by
// lookup; ENOENT once the walk is done, with what was copied.
rt::Result<void> LpmTrieMap::lookup_batch(const void* in_batch, void* out_batch, void* keys,
                                          void* values, uint32_t* count) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);
  uint32_t want = *count;
  if (want == 0) return {};
  size_t key_size = attributes().key_size;
  size_t value_size = attributes().value_size;
  auto* key_out = static_cast<uint8_t*>(keys);
  auto* value_out = static_cast<uint8_t*>(values);
  const void* from = in_batch;
  uint32_t done = 0;
  rt::Result<void> result;
  while (done < want) {
    uint8_t* key = key_out + done * key_size;
    result = get_next_key(from, key);
    if (!result.ok()) break;
    // The key just given is an entry, so its own lookup finds it.
    (void)syscall_lookup(key, value_out + done * value_size, 0);
    from = key;
    ++done;
  }
  *count = done;
  if (done > 0) __builtin_memcpy(out_batch, from, key_size);
  return result;
}

void LpmTrieMap::release_nodes() {
  // Without recursion or memory (tries can be 2,049 nodes deep): rotate each left child up
  // until the node has none, then free it and go on with its right child. Each rotation moves
  // one node for good, so this takes time proportional to the nodes.
  Node* node = root_;
  while (node != nullptr) {
    if (Node* left = node->child[0]; left != nullptr) {
      node->child[0] = left->child[1];
      left->child[1] = node;
      node = left;
    } else {
      Node* right = node->child[1];
      free_node(node);
      node = right;
    }
  }
  root_ = nullptr;
  entries_ = 0;
}

size_t LpmTrieMap::memory_usage() const { return sizeof(*this) + node_bytes_held_; }

}  // namespace ebpf
