// Randomised differential tests: hash, LRU hash, queue and stack maps against simple
// standard-library models of Linux's rules, over many thousands of mixed operations.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <random>
#include <set>

#include "ebpf/maps.hpp"
#include "fake_environment.hpp"
#include "rt/errno.hpp"

namespace {

using namespace ebpf;

MapAttributes attributes(MapType type, uint32_t key_size, uint32_t max_entries) {
  MapAttributes a;
  a.type = type;
  a.key_size = key_size;
  a.value_size = 8;
  a.max_entries = max_entries;
  return a;
}

// A hash map model: present keys and values; for LRU, keys by recency (front: most recent).
struct HashModel {
  std::map<uint32_t, uint64_t> values;
  std::list<uint32_t> recency;
  bool lru = false;
  uint32_t max_entries;

  void touch(uint32_t key) {
    if (!lru) return;
    recency.remove(key);
    recency.push_front(key);
  }
  long update(uint32_t key, uint64_t value, uint64_t flags) {
    if (flags > kUpdateExist) return -rt::kEINVAL;
    bool present = values.count(key) != 0;
    if (present && flags == kUpdateNoExist) return -rt::kEEXIST;
    if (!present && flags == kUpdateExist) return -rt::kENOENT;
    if (!present && values.size() == max_entries) {
      if (!lru) return -rt::kE2BIG;
      values.erase(recency.back());  // evict the least recently used key
      recency.pop_back();
    }
    values[key] = value;
    touch(key);
    return 0;
  }
  long remove(uint32_t key) {
    if (values.erase(key) == 0) return -rt::kENOENT;
    recency.remove(key);
    return 0;
  }
};

void run_hash_model(MapType type, uint32_t seed) {
  ebpf_test::CountingAllocator allocator;
  constexpr uint32_t kMax = 32;
  Map* map = create_map(attributes(type, 4, kMax), allocator, 1).value();
  HashModel model;
  model.lru = type == MapType::kLruHash;
  model.max_entries = kMax;
  std::mt19937 random(seed);
  for (int step = 0; step < 20000; ++step) {
    uint32_t key = random() % 64;  // twice the capacity: full maps and misses are common
    uint64_t value = random();
    switch (random() % 6) {
      case 0:
      case 1: {
        uint64_t flags = random() % 4;  // 3 is an invalid flag value
        ASSERT_EQ(map->update(&key, &value, flags), model.update(key, value, flags)) << "step " << step;
        break;
      }
      case 2: {
        void* found = map->lookup(&key);
        auto it = model.values.find(key);
        ASSERT_EQ(found != nullptr, it != model.values.end()) << "step " << step;
        if (found) {
          uint64_t stored;
          std::memcpy(&stored, found, 8);
          ASSERT_EQ(stored, it->second);
          model.touch(key);
        }
        break;
      }
      case 3:
        ASSERT_EQ(map->remove(&key), model.remove(key)) << "step " << step;
        break;
      case 4: {
        uint64_t out = 0;
        auto it = model.values.find(key);
        long expected = it == model.values.end() ? -rt::kENOENT : 0;
        ASSERT_EQ(map->lookup_and_delete(&key, &out, 0), expected) << "step " << step;
        if (expected == 0) {
          ASSERT_EQ(out, it->second);
          model.remove(key);
        }
        break;
      }
      case 5: {
        // A full walk with get_next_key visits exactly the present keys, each once.
        std::set<uint32_t> seen;
        uint32_t current = 0, next = 0;
        const void* from = nullptr;
        while (map->get_next_key(from, &next) == 0) {
          ASSERT_TRUE(seen.insert(next).second) << "key " << next << " visited twice";
          current = next;
          from = &current;
        }
        std::set<uint32_t> expected;
        for (auto& [k, v] : model.values) expected.insert(k);
        ASSERT_EQ(seen, expected) << "step " << step;
        break;
      }
    }
  }
  destroy_map(map, allocator);
  EXPECT_EQ(allocator.in_use, 0u);
}

TEST(MapModel, HashMatchesTheModel) {
  for (uint32_t seed : {1u, 2u, 3u}) run_hash_model(MapType::kHash, seed);
}

TEST(MapModel, LruHashEvictsExactlyTheLeastRecentlyUsedKey) {
  for (uint32_t seed : {4u, 5u, 6u}) run_hash_model(MapType::kLruHash, seed);
}

TEST(MapModel, QueueAndStackMatchADeque) {
  for (MapType type : {MapType::kQueue, MapType::kStack}) {
    ebpf_test::CountingAllocator allocator;
    constexpr uint32_t kMax = 7;
    Map* map = create_map(attributes(type, 0, kMax), allocator, 1).value();
    std::deque<uint64_t> model;  // front: oldest
    std::mt19937 random(static_cast<uint32_t>(type));
    for (int step = 0; step < 20000; ++step) {
      uint64_t value = random(), out = 0;
      switch (random() % 4) {
        case 0: {
          uint64_t flags = random() % 3;  // ANY, NOEXIST (EINVAL), EXIST (replace oldest)
          long expected = 0;
          if (flags == kUpdateNoExist) {
            expected = -rt::kEINVAL;
          } else if (model.size() == kMax) {
            if (flags == kUpdateExist) model.pop_front();
            else expected = -rt::kE2BIG;
          }
          if (expected == 0) model.push_back(value);
          ASSERT_EQ(map->push(&value, flags), expected) << "step " << step;
          break;
        }
        case 1:
        case 2: {
          bool pop = random() % 2 == 0;
          long result = pop ? map->pop(&out) : map->peek(&out);
          if (model.empty()) {
            ASSERT_EQ(result, -rt::kENOENT);
            break;
          }
          ASSERT_EQ(result, 0);
          uint64_t expected = type == MapType::kQueue ? model.front() : model.back();
          ASSERT_EQ(out, expected) << "step " << step;
          if (pop) {
            if (type == MapType::kQueue) model.pop_front();
            else model.pop_back();
          }
          break;
        }
        case 3: {
          long result = map->lookup_and_delete(nullptr, &out, 0);
          ASSERT_EQ(result, model.empty() ? -rt::kENOENT : 0);
          if (!model.empty()) {
            ASSERT_EQ(out, type == MapType::kQueue ? model.front() : model.back());
            if (type == MapType::kQueue) model.pop_front();
            else model.pop_back();
          }
          break;
        }
      }
    }
    destroy_map(map, allocator);
  }
}

}  // namespace
