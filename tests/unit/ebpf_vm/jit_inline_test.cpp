// SPDX-License-Identifier: MIT
// What the JIT does itself instead of calling a helper (array lookups in place, other lookups
// called directly, the CPU number as a load), each against the interpreter on verified programs.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/jit.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/prog_array.hpp"
#include "ebpf/program.hpp"
#include "ebpf/verifier.hpp"
#include "support/ebpf_fixture.hpp"
#include "support/fixed_environment.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

// Whether `code` calls `target`: a `call rel32` to it, or (code placed beyond rel32 reach) a
// `mov reg, imm64` of its address for `call reg`.
bool calls(const JitProgram& code, const void* target) {
  const uint8_t* bytes = code.code();
  uint64_t address = reinterpret_cast<uint64_t>(target);
  for (size_t i = 0; i + 5 <= code.code_size(); ++i) {
    uint64_t immediate = 0;
    if (i + 10 <= code.code_size() && (bytes[i] & 0xf8) == 0x48 && (bytes[i + 1] & 0xf8) == 0xb8) {
      std::memcpy(&immediate, bytes + i + 2, 8);
      if (immediate == address) return true;
    }
    if (bytes[i] != 0xe8) continue;
    int32_t rel;
    std::memcpy(&rel, bytes + i + 1, 4);
    if (reinterpret_cast<uint64_t>(bytes + i + 5) + rel == address) return true;
  }
  return false;
}

const void* lookup_helper() {
  return reinterpret_cast<const void*>(standard_helper(kHelperMapLookupElem));
}

class JitInline : public ::testing::Test {
 protected:
  void SetUp() override {
    using test_support::create_test_map;
    maps_[0] = create_test_map(allocator_, MapType::kArray, 4, 8, 4);   // stride 8: a shift
    maps_[1] = create_test_map(allocator_, MapType::kArray, 4, 20, 3);  // stride 24: imul
    maps_[2] = create_test_map(allocator_, MapType::kHash, 4, 8, 8);
    MapAttributes per_cpu{MapType::kPercpuArray, 4, 8, 2, 0, {}};
    maps_[3] = create_map(per_cpu, allocator_, environment_).value();
    maps_[4] = create_test_map(allocator_, MapType::kProgArray, 4, 4, 1);
    // Three CPUs' copies: value 1000 * cpu + 100 + key in each.
    MapAttributes three_cpus{MapType::kPercpuArray, 4, 8, 3, 0, {}};
    maps_[5] = create_map(three_cpus, allocator_, 3, &environment_).value();
    three_cpus.value_size = 20;
    maps_[6] = create_map(three_cpus, allocator_, 3, &environment_).value();
    for (int fd : {5, 6}) {
      for (uint32_t key = 0; key < 3; ++key) {
        uint64_t values[3 * 3] = {};  // user space's layout: one 8-byte-aligned slot per CPU
        size_t slot = fd == 5 ? 1 : 3;
        for (uint32_t cpu = 0; cpu < 3; ++cpu) values[cpu * slot] = 1000 * cpu + 100 + key;
        EXPECT_TRUE(maps_[fd]->syscall_update(&key, values, kUpdateAny).ok());
      }
    }
    for (uint32_t key = 0; key < 4; ++key) {
      uint64_t value = 100 + key;
      EXPECT_EQ(maps_[0]->update(&key, &value, kUpdateAny), 0);
      if (key < 3) EXPECT_EQ(maps_[1]->update(&key, &value, kUpdateAny), 0);
      if (key < 2) EXPECT_EQ(maps_[3]->update(&key, &value, kUpdateAny), 0);
    }
    uint32_t key = 7;
    uint64_t value = 70;
    EXPECT_EQ(maps_[2]->update(&key, &value, kUpdateAny), 0);
  }
  void TearDown() override {
    for (Map* map : maps_) destroy_map(map, allocator_);
  }

  static const Map* verifier_map(void* state, int32_t fd) { return by_fd(state, fd); }
  static Map* by_fd(void* state, int32_t fd) {
    auto* self = static_cast<JitInline*>(state);
    return fd >= 0 && fd < kMaps ? self->maps_[fd] : nullptr;
  }

  // A verified program with its JIT code; `jitted` is `loaded.program` with the JIT installed.
  struct Engines {
    test_support::LoadedProgram loaded;
    JitProgram code;
    Program jitted;
  };

  Engines load(const std::string& text) {
    AssemblyResult assembled = assemble(text);
    EXPECT_TRUE(assembled.ok()) << assembled.error;
    test_support::LoadOptions options;
    options.verifier.type = ProgramType::kKprobe;
    options.verifier.allocator = &allocator_;
    options.verifier.resolve_map = verifier_map;
    options.verifier.resolve_state = this;
    options.verifier.log_level = 1;
    options.log_size = 4096;
    options.resolver = LoadResolver{by_fd, nullptr, this};
    options.helpers = test_support::real_helpers();
    Engines engines{test_support::load_program(assembled.insns, options), {}, {}};
    EXPECT_TRUE(engines.loaded.ok()) << engines.loaded.verdict.log << text;
    if (!engines.loaded.ok()) return engines;
    auto compiled = jit_compile(engines.loaded.program, host_executable_memory(), allocator_);
    EXPECT_TRUE(compiled.ok()) << (compiled.ok() ? "" : compiled.error().message);
    if (!compiled.ok()) return engines;
    engines.code = static_cast<JitProgram&&>(compiled.value());
    engines.jitted = engines.loaded.program;
    engines.code.install(engines.jitted);
    return engines;
  }

  // Runs `engines` in the interpreter, then in the JIT, on a zeroed pt_regs whose first word is
  // `selector`; r0 and every map must agree. Returns the JIT's r0.
  uint64_t both(const Engines& engines, uint64_t selector = 0) {
    if (!engines.code.compiled()) return ~0ull;
    std::vector<std::vector<uint8_t>> before = snapshot();
    uint8_t pt_regs[168] = {};
    std::memcpy(pt_regs, &selector, 8);
    uint64_t expected = execute(engines.loaded.program, pt_regs, &environment_);
    std::vector<std::vector<uint8_t>> interpreted = snapshot();
    restore(before);
    uint64_t value = execute(engines.jitted, pt_regs, &environment_);
    EXPECT_EQ(value, expected);
    EXPECT_EQ(snapshot(), interpreted) << "the engines left different map contents";
    return value;
  }

  // Every array and hash value, as user space reads them.
  std::vector<std::vector<uint8_t>> snapshot() {
    std::vector<std::vector<uint8_t>> values;
    for (int fd : kValueMaps) {
      for (uint32_t key = 0; key < 8; ++key) {
        std::vector<uint8_t> value(maps_[fd]->syscall_value_size(), 0xee);
        (void)maps_[fd]->syscall_lookup(&key, value.data(), 0);
        values.push_back(value);
      }
    }
    return values;
  }
  void restore(const std::vector<std::vector<uint8_t>>& values) {
    size_t i = 0;
    for (int fd : kValueMaps) {
      for (uint32_t key = 0; key < 8; ++key, ++i) {
        if (values[i] != std::vector<uint8_t>(values[i].size(), 0xee))
          (void)maps_[fd]->syscall_update(&key, values[i].data(), kUpdateAny);
      }
    }
  }

  static constexpr int kMaps = 7;
  static constexpr int kValueMaps[] = {0, 1, 2, 3, 5, 6};  // the maps snapshot() compares
  test_support::MallocAllocator allocator_;
  test_support::FixedEnvironment environment_;
  // fd 0, 1: arrays; 2: hash; 3: per-CPU array (one CPU); 4: prog_array; 5, 6: per-CPU arrays
  // of three CPUs.
  Map* maps_[kMaps] = {};
};

// Looks `key` (a u64 on the stack: the lookup reads its low 32 bits) up in map `fd`; adds one
// to the value found and returns it, or 0xdead for NULL.
std::string lookup_program(int fd, const std::string& key) {
  return "lddw %r3, " + key + "\nstxdw [%r10-8], %r3\nlddw %r1, map:" + std::to_string(fd) +
         "\nmov %r2, %r10\nadd %r2, -8\ncall 1\njne %r0, 0, +2\nmov %r0, 0xdead\nexit\n"
         "ldxdw %r1, [%r0+0]\nadd %r1, 1\nstxdw [%r0+0], %r1\nmov %r0, %r1\nexit";
}

TEST_F(JitInline, ArrayLookupsAreComputedInPlace) {
  // In range, the last element, max_entries, far past it, and a key whose upper half is set
  // (the index is the u32 key, as Linux reads it).
  const char* keys[] = {"0", "3", "4", "0xffffffff", "0x100000002", "0x80000001"};
  uint64_t expected[] = {101, 104, 0xdead, 0xdead, 103, 0xdead};
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); ++i) {
    Engines engines = load(lookup_program(0, keys[i]));
    ASSERT_TRUE(engines.code.compiled());
    // The verifier recorded the map at the call (instruction 7), and the JIT used it.
    EXPECT_EQ(engines.loaded.call_maps[7].map, maps_[0]);
    EXPECT_FALSE(calls(engines.code, lookup_helper())) << keys[i];
    EXPECT_EQ(both(engines), expected[i]) << keys[i];
  }
}

TEST_F(JitInline, ArrayLookupsWithAStrideThatIsNotAPowerOfTwo) {
  const char* keys[] = {"0", "1", "2", "3"};
  uint64_t expected[] = {101, 102, 103, 0xdead};
  for (size_t i = 0; i < 4; ++i) {
    Engines engines = load(lookup_program(1, keys[i]));
    EXPECT_FALSE(calls(engines.code, lookup_helper()));
    EXPECT_EQ(both(engines), expected[i]) << keys[i];
  }
}

TEST_F(JitInline, HashLookupsCallTheMapDirectly) {
  for (const char* key : {"0", "1", "7", "9"}) {
    Engines engines = load(lookup_program(2, key));
    EXPECT_FALSE(calls(engines.code, lookup_helper()));
    EXPECT_TRUE(calls(engines.code, reinterpret_cast<const void*>(maps_[2]->lookup_function())));
    both(engines);
  }
}

TEST_F(JitInline, PerCpuArrayLookupsAreComputedInPlace) {
  // fd 3 has one copy (the environment reports one CPU); fd 5 and 6 have three, with strides 8
  // (shifts) and 24 (imul). Each CPU's copy, and a CPU past the copies (copy 0, as the map's
  // own lookup picks), in both engines.
  struct Key {
    const char* text;
    uint32_t index;  // the u32 the lookup uses
  };
  const Key keys[] = {{"0", 0}, {"1", 1}, {"2", 2}, {"3", 3}, {"0x100000001", 1}};
  for (int fd : {3, 5, 6}) {
    uint32_t copies = fd == 3 ? 1 : 3;
    uint32_t entries = fd == 3 ? 2 : 3;
    for (uint32_t cpu : {0u, 1u, 2u, 3u, 9u}) {
      environment_.cpu = cpu;
      for (const Key& key : keys) {
        Engines engines = load(lookup_program(fd, key.text));
        ASSERT_TRUE(engines.code.compiled());
        EXPECT_FALSE(calls(engines.code, lookup_helper()));
        EXPECT_FALSE(
            calls(engines.code, reinterpret_cast<const void*>(maps_[fd]->lookup_function())));
        std::vector<std::vector<uint8_t>> before = snapshot();
        uint64_t value = both(engines);
        restore(before);
        uint32_t copy = cpu < copies ? cpu : 0;
        uint64_t expected = key.index >= entries ? 0xdead : 1000 * copy + 100 + key.index + 1;
        EXPECT_EQ(value, expected) << "fd " << fd << ", cpu " << cpu << ", key " << key.text;
      }
    }
  }
}

TEST_F(JitInline, ACallReachedWithTwoMapsKeepsTheHelper) {
  // pt_regs' first word picks map 0 or map 1 before one shared call: nothing to specialise on.
  Engines engines = load(
      "ldxdw %r6, [%r1+0]\nstw [%r10-4], 2\nlddw %r1, map:0\njeq %r6, 0, +2\n"
      "lddw %r1, map:1\nmov %r2, %r10\nadd %r2, -4\ncall 1\njne %r0, 0, +2\nmov %r0, 0xdead\n"
      "exit\nldxdw %r0, [%r0+0]\nexit");
  EXPECT_TRUE(engines.loaded.call_maps[9].varies);
  EXPECT_TRUE(calls(engines.code, lookup_helper()));
  EXPECT_EQ(both(engines, 0), 102u);
  EXPECT_EQ(both(engines, 1), 102u);
}

TEST_F(JitInline, ALookupHelperReplacedInTheTableIsCalled) {
  // Only Sonde's own bpf_map_lookup_elem is performed inline.
  HelperFunction table[kMaxHelperId];
  std::memcpy(table, test_support::real_helpers(), sizeof(table));
  table[kHelperMapLookupElem] = [](ExecContext&, uint64_t, uint64_t, uint64_t, uint64_t,
                                   uint64_t) -> uint64_t { return 0; };
  Engines engines = load(lookup_program(0, "1"));
  engines.loaded.program.helpers = table;
  auto compiled = jit_compile(engines.loaded.program, host_executable_memory(), allocator_);
  ASSERT_TRUE(compiled.ok());
  EXPECT_TRUE(calls(compiled.value(), reinterpret_cast<const void*>(table[1])));
}

TEST_F(JitInline, TheCpuNumberIsALoad) {
  environment_.cpu = 3;
  Engines engines = load("call 8\nexit");
  EXPECT_FALSE(calls(engines.code,
                     reinterpret_cast<const void*>(standard_helper(kHelperGetSmpProcessorId))));
  EXPECT_EQ(both(engines), 3u);
}

TEST_F(JitInline, ATailCalledProgramReadsTheCpuOfTheRun) {
  // The entry program does not read the CPU itself; its tail-call target does.
  environment_.cpu = 5;
  Engines target = load("call 8\nadd %r0, 100\nexit");
  ASSERT_TRUE(target.code.compiled());
  ASSERT_EQ(rt::to_negated_errno(static_cast<ProgArrayMap*>(maps_[4])->set(0, &target.jitted)), 0);
  Engines entry = load("lddw %r2, map:4\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit");
  EXPECT_EQ(both(entry), 105u);
}

}  // namespace
