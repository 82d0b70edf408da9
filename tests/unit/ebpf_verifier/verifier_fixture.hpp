// SPDX-License-Identifier: MIT
// The verifier tests' fixture: six maps, assembly with symbolic map names, verify() with a log.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/verifier.hpp"
#include "rt/errno.hpp"
#include "support/ebpf_fixture.hpp"
#include "support/malloc_allocator.hpp"

namespace ebpf_test {

using Outcome = test_support::VerifierRun;

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    array_ = test_support::create_test_map(map_allocator_, ebpf::MapType::kArray, 4, 8, 4);
    big_array_ = test_support::create_test_map(map_allocator_, ebpf::MapType::kArray, 4, 64, 4);
    queue_ = test_support::create_test_map(map_allocator_, ebpf::MapType::kQueue, 0, 8, 4);
    ring_ = test_support::create_test_map(map_allocator_, ebpf::MapType::kRingbuf, 0, 0, 4096);
    stacks_ = test_support::create_test_map(map_allocator_, ebpf::MapType::kStackTrace, 4, 32, 16);
    bloom_ = test_support::create_test_map(map_allocator_, ebpf::MapType::kBloomFilter, 0, 8, 16);
    lpm_ = test_support::create_test_map(map_allocator_, ebpf::MapType::kLpmTrie, 8, 8, 16,
                                         ebpf::kMapNoPrealloc);
  }
  void TearDown() override {
    ebpf::destroy_map(array_, map_allocator_);
    ebpf::destroy_map(big_array_, map_allocator_);
    ebpf::destroy_map(queue_, map_allocator_);
    ebpf::destroy_map(ring_, map_allocator_);
    ebpf::destroy_map(stacks_, map_allocator_);
    ebpf::destroy_map(bloom_, map_allocator_);
    ebpf::destroy_map(lpm_, map_allocator_);
    EXPECT_EQ(allocator_.in_use(), 0u) << "verifier leaked memory";
  }

  // Assembles `text`; `MAP`, `BIGMAP`, `QUEUE`, `RING`, `STACKS`, `BLOOM` (8-byte values) and
  // `LPM` (an IPv4 LPM trie: 8-byte keys, 8-byte values) stand for map references
  // (BPF_PSEUDO_MAP_FD, already resolved to the Map* as the loader leaves them).
  std::vector<ebpf::Insn> program(std::string text) {
    auto replace = [&](const std::string& name, ebpf::Map* map) {
      for (size_t at; (at = text.find(name)) != std::string::npos;) {
        text.replace(at, name.size(), std::to_string(reinterpret_cast<uint64_t>(map)));
      }
    };
    replace("QUEUE", queue_);
    replace("STACKS", stacks_);
    replace("BLOOM", bloom_);
    replace("LPM", lpm_);
    replace("RING", ring_);
    replace("BIGMAP", big_array_);
    replace("MAP", array_);
    ebpf::AssemblyResult assembled = ebpf::assemble(text);
    EXPECT_TRUE(assembled.ok()) << assembled.error;
    for (size_t i = 0; i + 1 < assembled.insns.size(); ++i) {
      ebpf::Insn& insn = assembled.insns[i];
      if (insn.opcode != ebpf::kOpLdImm64) continue;
      uint64_t value = static_cast<uint32_t>(insn.imm) |
                       (uint64_t{static_cast<uint32_t>(assembled.insns[i + 1].imm)} << 32);
      if (value == reinterpret_cast<uint64_t>(array_) ||
          value == reinterpret_cast<uint64_t>(big_array_) ||
          value == reinterpret_cast<uint64_t>(queue_) ||
          value == reinterpret_cast<uint64_t>(ring_) ||
          value == reinterpret_cast<uint64_t>(stacks_) ||
          value == reinterpret_cast<uint64_t>(bloom_) ||
          value == reinterpret_cast<uint64_t>(lpm_)) {
        insn.src = ebpf::kPseudoMapFd;
      }
    }
    return assembled.insns;
  }

  Outcome check(const std::string& text, uint32_t level = ebpf::kLogLevel2,
                ebpf::ProgramType type = ebpf::ProgramType::kKprobe, uint32_t log_size = 1 << 20,
                uint32_t limit = ebpf::kMaxInsns) {
    ebpf::VerifierOptions options;
    options.type = type;
    options.tracepoint_record_size = 24;
    options.log_level = level;
    options.allocator = &allocator_;
    options.instruction_limit = limit;
    return test_support::verify_program(program(text), options, log_size);
  }

  void expect_accepted(const std::string& text,
                       ebpf::ProgramType type = ebpf::ProgramType::kKprobe) {
    Outcome o = check(text, ebpf::kLogLevel2, type);
    EXPECT_EQ(o.error, 0) << o.log;
  }
  void expect_rejected(const std::string& text, const std::string& message,
                       int error = -rt::kEACCES,
                       ebpf::ProgramType type = ebpf::ProgramType::kKprobe) {
    Outcome o = check(text, ebpf::kLogLevel2, type);
    EXPECT_EQ(o.error, error) << o.log;
    EXPECT_NE(o.log.find(message), std::string::npos) << "log lacks '" << message << "':\n"
                                                      << o.log;
  }

  test_support::MallocAllocator allocator_, map_allocator_;
  ebpf::Map* array_ = nullptr;
  ebpf::Map* big_array_ = nullptr;
  ebpf::Map* queue_ = nullptr;
  ebpf::Map* ring_ = nullptr;
  ebpf::Map* stacks_ = nullptr;
  ebpf::Map* bloom_ = nullptr;
  ebpf::Map* lpm_ = nullptr;
};

}  // namespace ebpf_test
