// SPDX-License-Identifier: MIT
// The JIT behind PROG_LOAD: server-loaded programs get the verifier's call-site maps (lookups
// specialised as in the library path), and a program the JIT refuses runs in the interpreter
// with the reason at the end of the caller's verifier log.
#include <linux/bpf.h>

#include <cstring>
#include <string>

#include "ebpf/helpers.hpp"
#include "ebpf/jit.hpp"
#include "ebpf/verifier.hpp"
#include "trace_test_support.hpp"

namespace trace::testing {
namespace {

// Whether code that runs at `base` calls `target`: a `call rel32` to it, or (code beyond rel32
// reach) a `mov reg, imm64` of its address for `call reg`.
bool calls(const std::vector<uint8_t>& code, uint64_t base, const void* target) {
  uint64_t address = reinterpret_cast<uint64_t>(target);
  for (size_t i = 0; i + 5 <= code.size(); ++i) {
    if (i + 10 <= code.size() && (code[i] & 0xf8) == 0x48 && (code[i + 1] & 0xf8) == 0xb8) {
      uint64_t immediate;
      std::memcpy(&immediate, &code[i + 2], 8);
      if (immediate == address) return true;
    }
    if (code[i] != 0xe8) continue;
    int32_t rel;
    std::memcpy(&rel, &code[i + 1], 4);
    if (base + i + 5 + static_cast<int64_t>(rel) == address) return true;
  }
  return false;
}

// Executable memory that is never there: every compilation fails with this provider's reason.
class NoExecutableMemory final : public ebpf::ExecutableMemory {
 public:
  rt::Result<ebpf::ExecutableRegion> allocate(size_t, const void*) override {
    return rt::err(rt::kENOMEM, "test: no executable memory");
  }
  rt::Result<void> seal(ebpf::ExecutableRegion&) override { return {}; }
  void release(ebpf::ExecutableRegion&) override {}
};

class ProgJit : public TraceCoreTest {
 protected:
  void SetUp() override {
    TraceCoreTest::SetUp();
    objects_.set_executable_memory(&ebpf::host_executable_memory());
  }

  // PROG_LOAD of a raw tracepoint program with a level-1 log; `attr` keeps what came back.
  int64_t load_logged(const std::vector<ebpf::Insn>& insns, std::vector<char>& log, BpfAttr& attr) {
    attr = {};
    attr.prog_load.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
    attr.prog_load.insns = address(insns.data());
    attr.prog_load.insn_cnt = static_cast<uint32_t>(insns.size());
    attr.prog_load.license = address(license_);
    attr.prog_load.log_buf = address(log.data());
    attr.prog_load.log_size = static_cast<uint32_t>(log.size());
    attr.prog_load.log_level = 1;
    memory_.allow(insns.data(), insns.size() * sizeof(ebpf::Insn), false);
    memory_.allow(log.data(), log.size());
    return bpf(kProgLoad, attr);
  }

  // The program's JIT image as bpf_prog_info gives it (empty when interpreted), and its address.
  std::vector<uint8_t> jited(int64_t program, uint64_t& base) {
    std::vector<uint8_t> code(1 << 16);
    ProgInfo info = {};
    base = 0;
    memory_.allow(&info, sizeof(info));
    memory_.allow(code.data(), code.size());
    memory_.allow(&base, sizeof(base));
    info.jited_prog_len = static_cast<uint32_t>(code.size());
    info.jited_prog_insns = address(code.data());
    info.nr_jited_ksyms = 1;
    info.jited_ksyms = address(&base);
    BpfAttr attr = {};
    attr.info.bpf_fd = static_cast<uint32_t>(program);
    attr.info.info = address(&info);
    attr.info.info_len = sizeof(info);
    EXPECT_EQ(bpf(kObjGetInfoByFd, attr), 0);
    code.resize(info.jited_prog_len);
    return code;
  }

  // PROG_TEST_RUN with no arguments: r0.
  uint64_t run(int64_t program) {
    uint64_t arguments[1] = {0};
    memory_.allow(arguments, sizeof(arguments), false);
    BpfAttr attr = {};
    attr.test.prog_fd = static_cast<uint32_t>(program);
    attr.test.ctx_in = address(arguments);
    attr.test.ctx_size_in = sizeof(arguments);
    EXPECT_EQ(bpf(kProgTestRun, attr), 0);
    return attr.test.retval;
  }

  ebpf::Map* engine_map(int64_t fd) {
    auto handle = session_.lookup_kind(static_cast<int32_t>(fd), ObjectKind::kMap);
    EXPECT_TRUE(handle.ok());
    return handle.ok() ? static_cast<MapObject*>(handle->object)->map : nullptr;
  }

  // Looks key 1 up in `map` and returns the value found plus one, or 0xdead for NULL.
  std::vector<ebpf::Insn> lookup_program(int64_t map) {
    return assemble("stw [%r10-4], 1\nlddw %r1, map:" + std::to_string(map) +
                    "\nmov %r2, %r10\nadd %r2, -4\ncall 1\njne %r0, 0, +2\nmov %r0, 0xdead\n"
                    "exit\nldxdw %r0, [%r0+0]\nadd %r0, 1\nexit");
  }
};

const void* lookup_helper() {
  return reinterpret_cast<const void*>(ebpf::standard_helper(ebpf::kHelperMapLookupElem));
}

TEST_F(ProgJit, AnArrayLookupIsInlinedInAServerLoadedProgram) {
  int64_t map = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4);
  ASSERT_GT(map, 0);
  uint32_t key = 1;
  uint64_t value = 41;
  memory_.allow(&key, sizeof(key), false);
  memory_.allow(&value, sizeof(value), false);
  ASSERT_EQ(elem(kMapUpdateElem, map, &key, &value), 0);
  std::vector<char> log(4096);
  BpfAttr attr;
  int64_t program = load_logged(lookup_program(map), log, attr);
  ASSERT_GT(program, 0) << log.data();
  uint64_t base = 0;
  std::vector<uint8_t> code = jited(program, base);
  ASSERT_FALSE(code.empty()) << "the server compiled the program";
  EXPECT_FALSE(calls(code, base, lookup_helper())) << "the helper call stayed";
  auto* lookup = reinterpret_cast<const void*>(engine_map(map)->lookup_function());
  EXPECT_FALSE(calls(code, base, lookup)) << "the lookup is a call, not computed in place";
  EXPECT_EQ(run(program), 42u);
  EXPECT_EQ(std::string(log.data()).find("JIT:"), std::string::npos) << "compiled: no JIT line";
}

TEST_F(ProgJit, APerCpuArrayLookupIsInlinedInAServerLoadedProgram) {
  // The test environment has two CPUs and runs on CPU 0: CPU 0's copy, found without a call.
  int64_t map = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4);
  ASSERT_GT(map, 0);
  uint32_t key = 1;
  uint64_t values[2] = {20, 30};  // CPU 0's and CPU 1's copies
  memory_.allow(&key, sizeof(key), false);
  memory_.allow(values, sizeof(values), false);
  ASSERT_EQ(elem(kMapUpdateElem, map, &key, values), 0);
  std::vector<char> log(4096);
  BpfAttr attr;
  int64_t program = load_logged(lookup_program(map), log, attr);
  ASSERT_GT(program, 0) << log.data();
  uint64_t base = 0;
  std::vector<uint8_t> code = jited(program, base);
  ASSERT_FALSE(code.empty());
  EXPECT_FALSE(calls(code, base, lookup_helper()));
  EXPECT_FALSE(
      calls(code, base, reinterpret_cast<const void*>(engine_map(map)->lookup_function())));
  EXPECT_EQ(run(program), 21u);
}

TEST_F(ProgJit, AHashLookupCallsTheMapDirectlyInAServerLoadedProgram) {
  int64_t map = create_map(BPF_MAP_TYPE_HASH, 4, 8, 4);
  ASSERT_GT(map, 0);
  uint32_t key = 1;
  uint64_t value = 9;
  memory_.allow(&key, sizeof(key), false);
  memory_.allow(&value, sizeof(value), false);
  ASSERT_EQ(elem(kMapUpdateElem, map, &key, &value), 0);
  std::vector<char> log(4096);
  BpfAttr attr;
  int64_t program = load_logged(lookup_program(map), log, attr);
  ASSERT_GT(program, 0) << log.data();
  uint64_t base = 0;
  std::vector<uint8_t> code = jited(program, base);
  ASSERT_FALSE(code.empty());
  EXPECT_FALSE(calls(code, base, lookup_helper()));
  EXPECT_TRUE(calls(code, base, reinterpret_cast<const void*>(engine_map(map)->lookup_function())));
  EXPECT_EQ(run(program), 10u);
}

TEST_F(ProgJit, AProgramTheJitRefusesRunsInTheInterpreterWithTheReasonLogged) {
  NoExecutableMemory no_memory;
  objects_.set_executable_memory(&no_memory);
  std::vector<char> log(4096);
  BpfAttr attr;
  int64_t program = load_logged(assemble("mov %r0, 7\nexit"), log, attr);
  ASSERT_GT(program, 0) << "a JIT failure does not fail the load";
  std::string text(log.data());
  const std::string line =
      "JIT: not compiled (test: no executable memory); the program runs in the interpreter\n";
  ASSERT_GE(text.size(), line.size()) << text;
  EXPECT_EQ(text.substr(text.size() - line.size()), line) << "the log ends with the reason";
  EXPECT_EQ(attr.prog_load.log_true_size, text.size() + 1) << "log_true_size counts the line";
  uint64_t base = 1;
  EXPECT_TRUE(jited(program, base).empty()) << "no JIT image";
  EXPECT_EQ(base, 0u);
  EXPECT_EQ(run(program), 7u) << "the interpreter runs it";
}

TEST_F(ProgJit, TheFallbackLineIsCutToASmallLog) {
  NoExecutableMemory no_memory;
  objects_.set_executable_memory(&no_memory);
  std::vector<char> log(ebpf::kMinLogSize, 'x');
  BpfAttr attr;
  int64_t program = load_logged(assemble("mov %r0, 7\nexit"), log, attr);
  ASSERT_GT(program, 0);
  EXPECT_EQ(log.back(), 0) << "the log stays NUL-terminated within its size";
  EXPECT_NE(std::string(log.data()).find("JIT: not compiled"), std::string::npos);
  EXPECT_GT(attr.prog_load.log_true_size, log.size()) << "the whole line is counted";
}

}  // namespace
}  // namespace trace::testing
