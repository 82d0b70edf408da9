// SPDX-License-Identifier: MIT
// Randomised differential tests: hash, LRU hash, queue and stack maps against simple
// standard-library models of Linux's rules, over many thousands of mixed operations.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "ebpf/maps.hpp"
#include "ebpf/perf_buffer.hpp"
#include "ebpf/ringbuf.hpp"
#include "fake_environment.hpp"
#include "rt/errno.hpp"
#include "support/malloc_allocator.hpp"

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
  test_support::MallocAllocator allocator;
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
        ASSERT_EQ(map->update(&key, &value, flags), model.update(key, value, flags))
            << "step " << step;
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
      case 3: ASSERT_EQ(map->remove(&key), model.remove(key)) << "step " << step; break;
      case 4: {
        uint64_t out = 0;
        auto it = model.values.find(key);
        long expected = it == model.values.end() ? -rt::kENOENT : 0;
        ASSERT_EQ(rt::to_negated_errno(map->lookup_and_delete(&key, &out, 0)), expected)
            << "step " << step;
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
        while (rt::to_negated_errno(map->get_next_key(from, &next)) == 0) {
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
  EXPECT_EQ(allocator.in_use(), 0u);
}

TEST(MapModel, HashMatchesTheModel) {
  for (uint32_t seed : {1u, 2u, 3u}) run_hash_model(MapType::kHash, seed);
}

TEST(MapModel, LruHashEvictsExactlyTheLeastRecentlyUsedKey) {
  for (uint32_t seed : {4u, 5u, 6u}) run_hash_model(MapType::kLruHash, seed);
}

TEST(MapModel, QueueAndStackMatchADeque) {
  for (MapType type : {MapType::kQueue, MapType::kStack}) {
    test_support::MallocAllocator allocator;
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
            if (flags == kUpdateExist)
              model.pop_front();
            else
              expected = -rt::kE2BIG;
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
            if (type == MapType::kQueue)
              model.pop_front();
            else
              model.pop_back();
          }
          break;
        }
        case 3: {
          long result = rt::to_negated_errno(map->lookup_and_delete(nullptr, &out, 0));
          ASSERT_EQ(result, model.empty() ? -rt::kENOENT : 0);
          if (!model.empty()) {
            ASSERT_EQ(out, type == MapType::kQueue ? model.front() : model.back());
            if (type == MapType::kQueue)
              model.pop_front();
            else
              model.pop_back();
          }
          break;
        }
      }
    }
    destroy_map(map, allocator);
  }
}

// A consumer written the way libbpf's ring_buffer reads (positions, header bits, 8-byte
// rounding, contiguous record bytes thanks to the double mapping): the records it sees.
struct Record {
  uint32_t id;
  uint32_t length;
};

std::vector<Record> consume(RingbufMap* ring) {
  std::vector<Record> seen;
  uint64_t consumer = ring->consumer_position();
  uint64_t producer = ring->producer_position();
  uint64_t mask = ring->query(kRingbufRingSize) - 1;
  while (consumer < producer) {
    const uint8_t* header = ring->data() + (consumer & mask);
    uint32_t length = __atomic_load_n(reinterpret_cast<const uint32_t*>(header), __ATOMIC_ACQUIRE);
    if (length & kRingbufBusyBit) break;
    uint32_t size = length & ~(kRingbufBusyBit | kRingbufDiscardBit);
    if (!(length & kRingbufDiscardBit)) {
      Record r{0, size};
      if (size >= 4) std::memcpy(&r.id, header + kRingbufHeaderSize, 4);
      // Every byte of the sample carries the id's low byte after the id itself.
      for (uint32_t i = 4; i < size; ++i) {
        if (header[kRingbufHeaderSize + i] != static_cast<uint8_t>(r.id)) {
          ADD_FAILURE() << "record " << r.id << " byte " << i << " corrupt";
          break;
        }
      }
      seen.push_back(r);
    }
    consumer += (size + kRingbufHeaderSize + 7) & ~7ull;
    ring->set_consumer_position(consumer);
  }
  return seen;
}

TEST(MapModel, RingbufReaderSeesCommittedRecordsInOrder) {
  test_support::MallocAllocator allocator;
  MapAttributes a;
  a.type = MapType::kRingbuf;
  a.max_entries = 4096;
  auto* ring = static_cast<RingbufMap*>(create_map(a, allocator, 1).value());
  struct Pending {
    uint32_t id;
    uint32_t length;
    void* sample;
    int state;  // 0 reserved, 1 submitted, 2 discarded
  };
  std::deque<Pending> in_ring;  // reservation order, not yet consumed
  std::mt19937 random(42);
  uint32_t next_id = 1, delivered = 0;
  for (int step = 0; step < 20000; ++step) {
    uint32_t op = random() % 10;
    if (op < 4) {
      uint32_t length = 4 + random() % 700;
      void* sample = ring->reserve(length, 0);
      uint64_t used = ring->producer_position() - ring->consumer_position();
      if (sample == nullptr) {
        // Refused only when it would not leave the ring with at least one free byte.
        ASSERT_GT(used + ((length + 8 + 7) & ~7u), 4095u) << "step " << step;
        continue;
      }
      std::memcpy(sample, &next_id, 4);
      std::memset(static_cast<uint8_t*>(sample) + 4, static_cast<uint8_t>(next_id), length - 4);
      in_ring.push_back({next_id++, length, sample, 0});
    } else if (op < 8) {
      // Commit or discard a random pending reservation, in any order.
      std::vector<Pending*> open;
      for (Pending& p : in_ring)
        if (p.state == 0) open.push_back(&p);
      if (open.empty()) continue;
      Pending* p = open[random() % open.size()];
      bool discard = random() % 4 == 0;
      ring->submit(p->sample, 0, discard);
      p->state = discard ? 2 : 1;
    } else {
      std::vector<Record> seen = consume(ring);
      // Expected: the committed records before the first still-reserved one, in order.
      std::vector<Record> expected;
      while (!in_ring.empty() && in_ring.front().state != 0) {
        if (in_ring.front().state == 1)
          expected.push_back({in_ring.front().id, in_ring.front().length});
        in_ring.pop_front();
      }
      ASSERT_EQ(seen.size(), expected.size()) << "step " << step;
      for (size_t i = 0; i < seen.size(); ++i) {
        ASSERT_EQ(seen[i].id, expected[i].id) << "step " << step;
        ASSERT_EQ(seen[i].length, expected[i].length);
      }
      delivered += static_cast<uint32_t>(seen.size());
    }
  }
  EXPECT_GT(delivered, 1000u) << "the test exercised wrapping many times";
  EXPECT_GT(ring->producer_position(), 100u * 4096u);
  destroy_map(ring, allocator);
}

// A consumer written the way libbpf's perf_buffer reads a perf ring: data_head with acquire,
// records copied out in two parts when they wrap, data_tail advanced with release.
struct PerfSeen {
  std::vector<std::vector<uint8_t>> samples;
  uint64_t lost = 0;
};

void consume_perf(PerfRing& ring, PerfSeen& seen) {
  uint64_t head = ring.head(), tail = ring.tail();
  uint64_t size = ring.data_size();
  while (tail < head) {
    uint8_t record[65536];
    uint8_t header[8];
    for (int i = 0; i < 8; ++i) header[i] = ring.data()[(tail + i) & (size - 1)];
    uint16_t record_size;
    uint32_t type;
    std::memcpy(&type, header, 4);
    std::memcpy(&record_size, header + 6, 2);
    ASSERT_GE(record_size, 8u);
    for (uint32_t i = 0; i < record_size; ++i) record[i] = ring.data()[(tail + i) & (size - 1)];
    if (type == kPerfRecordSample) {
      uint32_t raw_size;
      std::memcpy(&raw_size, record + 8, 4);
      ASSERT_LE(12u + raw_size, record_size);
      seen.samples.emplace_back(record + 12, record + 12 + raw_size);
    } else {
      ASSERT_EQ(type, kPerfRecordLost);
      uint64_t lost;
      std::memcpy(&lost, record + 16, 8);
      seen.lost += lost;
    }
    tail += record_size;
  }
  ring.set_tail(tail);
}

TEST(MapModel, PerfRingReaderSeesEverySampleOrCountsItLost) {
  auto* memory = static_cast<uint8_t*>(std::aligned_alloc(4096, 3 * 4096));
  std::memset(memory, 0, 3 * 4096);
  PerfRing ring(memory, 2, 0);
  std::mt19937 random(7);
  std::vector<std::vector<uint8_t>> written;
  uint64_t refused = 0;
  PerfSeen seen;
  for (int step = 0; step < 20000; ++step) {
    if (random() % 40 != 0) {  // the reader falls behind: the ring fills up now and then
      std::vector<uint8_t> sample(1 + random() % 900);
      for (auto& byte : sample) byte = static_cast<uint8_t>(random());
      long result = ring.output(sample.data(), static_cast<uint32_t>(sample.size()));
      if (result == 0) {
        written.push_back(sample);
      } else {
        ASSERT_EQ(result, -rt::kENOSPC);
        ++refused;
      }
    } else {
      consume_perf(ring, seen);
    }
  }
  consume_perf(ring, seen);
  ring.output("x", 1);  // room again: the last losses are reported before this sample
  written.push_back({'x'});
  consume_perf(ring, seen);
  ASSERT_EQ(seen.samples.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    // PERF_SAMPLE_RAW pads the raw data to keep records 8-byte aligned; the sample leads.
    ASSERT_GE(seen.samples[i].size(), written[i].size());
    ASSERT_TRUE(std::equal(written[i].begin(), written[i].end(), seen.samples[i].begin()))
        << "sample " << i;
  }
  EXPECT_GT(refused, 100u) << "the ring filled up many times";
  EXPECT_EQ(seen.lost, refused) << "every refused sample is reported lost, once";
  EXPECT_GT(ring.head(), 50u * 8192u) << "the ring wrapped many times";
  std::free(memory);
}

}  // namespace
