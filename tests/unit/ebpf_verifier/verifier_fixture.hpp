// SPDX-License-Identifier: MIT
// The verifier tests' fixture: four maps, assembly with symbolic map names, verify() with a log.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/verifier.hpp"
#include "rt/errno.hpp"

namespace ebpf_test {

class MallocAllocator final : public rt::Allocator {
 public:
  size_t in_use = 0;
  void* allocate(size_t size, size_t alignment) override {
    in_use += size;
    return std::aligned_alloc(alignment < 8 ? 8 : alignment, (size + 7) & ~size_t{7});
  }
  void deallocate(void* pointer, size_t size) override {
    in_use -= size;
    std::free(pointer);
  }
};

struct Outcome {
  int error;
  std::string log;
  ebpf::VerifierResult result;
};

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ebpf::MapAttributes a;
    a.type = ebpf::MapType::kArray;
    a.key_size = 4;
    a.value_size = 8;
    a.max_entries = 4;
    array_ = ebpf::create_map(a, map_allocator_, 1).value();
    a.type = ebpf::MapType::kArray;
    a.value_size = 64;
    big_array_ = ebpf::create_map(a, map_allocator_, 1).value();
    ebpf::MapAttributes q;
    q.type = ebpf::MapType::kQueue;
    q.value_size = 8;
    q.max_entries = 4;
    queue_ = ebpf::create_map(q, map_allocator_, 1).value();
    ebpf::MapAttributes r;
    r.type = ebpf::MapType::kRingbuf;
    r.max_entries = 4096;
    ring_ = ebpf::create_map(r, map_allocator_, 1).value();
  }
  void TearDown() override {
    ebpf::destroy_map(array_, map_allocator_);
    ebpf::destroy_map(big_array_, map_allocator_);
    ebpf::destroy_map(queue_, map_allocator_);
    ebpf::destroy_map(ring_, map_allocator_);
    EXPECT_EQ(allocator_.in_use, 0u) << "verifier leaked memory";
  }

  // Assembles `text`; `MAP`, `BIGMAP`, `QUEUE` and `RING` stand for map references
  // (BPF_PSEUDO_MAP_FD, already resolved to the Map* as the loader leaves them).
  std::vector<ebpf::Insn> program(std::string text) {
    auto replace = [&](const std::string& name, ebpf::Map* map) {
      for (size_t at; (at = text.find(name)) != std::string::npos;) {
        text.replace(at, name.size(), std::to_string(reinterpret_cast<uint64_t>(map)));
      }
    };
    replace("QUEUE", queue_);
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
          value == reinterpret_cast<uint64_t>(ring_)) {
        insn.src = ebpf::kPseudoMapFd;
      }
    }
    return assembled.insns;
  }

  Outcome check(const std::string& text, uint32_t level = ebpf::kLogLevel2,
                ebpf::ProgramType type = ebpf::ProgramType::kKprobe, uint32_t log_size = 1 << 20,
                uint32_t limit = ebpf::kMaxInsns) {
    std::vector<ebpf::Insn> insns = program(text);
    std::string log(log_size, '\0');
    ebpf::VerifierOptions options;
    options.type = type;
    options.tracepoint_record_size = 24;
    options.log = log_size ? log.data() : nullptr;
    options.log_size = log_size;
    options.log_level = level;
    options.allocator = &allocator_;
    options.instruction_limit = limit;
    ebpf::VerifierResult result =
        ebpf::verify(insns.data(), static_cast<uint32_t>(insns.size()), options);
    log.resize(std::strlen(log.c_str()));
    return Outcome{result.error, log, result};
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

  MallocAllocator allocator_, map_allocator_;
  ebpf::Map* array_ = nullptr;
  ebpf::Map* big_array_ = nullptr;
  ebpf::Map* queue_ = nullptr;
  ebpf::Map* ring_ = nullptr;
};

}  // namespace ebpf_test
