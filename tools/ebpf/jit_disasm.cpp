// SPDX-License-Identifier: MIT
// sonde-jit-disasm: compiles an eBPF program with the JIT and prints its x86-64 code (Intel).
//   sonde-jit-disasm [--blind] INPUT
// INPUT is assembler text or a conformance .data file (its `-- asm` part). `map:0` names a
// BPF_MAP_TYPE_ARRAY (u32 key, u64 value, 16 entries) and `map:1` a hash map of the same shape.
// A program the verifier accepts (as a kprobe program) gets its lookups specialised; another is
// compiled as it stands. --blind blinds constants (random values from the C library).
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/environment.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/jit.hpp"
#include "ebpf/jit_disassembly.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/verifier.hpp"

namespace {

class MallocAllocator final : public rt::Allocator {
 public:
  void* allocate(size_t size, size_t alignment) override {
    size_t align = alignment < alignof(std::max_align_t) ? alignof(std::max_align_t) : alignment;
    return std::aligned_alloc(align, (size + align - 1) / align * align);
  }
  void deallocate(void* pointer, size_t) override { std::free(pointer); }
};

// Only random_u32 is used (blinding); the rest answers as an idle machine would.
class RandomEnvironment final : public ebpf::Environment {
 public:
  uint32_t current_cpu() override { return 0; }
  uint32_t possible_cpus() override { return 1; }
  uint64_t monotonic_ns() override { return 0; }
  uint64_t boot_ns() override { return 0; }
  uint32_t random_u32() override { return static_cast<uint32_t>(generator_()); }
  uint64_t current_pid_tgid() override { return 0; }
  uint64_t current_uid_gid() override { return 0; }
  long current_comm(char* buffer, uint32_t size) override {
    std::memset(buffer, 0, size);
    return 0;
  }
  long read_user(void*, uint64_t, uint32_t) override { return -14; }
  long read_kernel(void*, uint64_t, uint32_t) override { return -14; }
  uint64_t current_function_ip() override { return 0; }
  long capture_stack(bool, uint32_t, uint64_t*, uint32_t) override { return -14; }
  long trace_output(const char*, uint32_t) override { return 0; }

 private:
  std::mt19937 generator_{std::random_device{}()};
};

MallocAllocator allocator;
ebpf::Map* maps[2] = {};

ebpf::Map* map_by_fd(void*, int32_t fd) { return fd == 0 || fd == 1 ? maps[fd] : nullptr; }
const ebpf::Map* const_map_by_fd(void*, int32_t fd) { return map_by_fd(nullptr, fd); }

// A conformance .data file holds sections; keep the `-- asm` one.
std::string assembly_of(const std::string& path, const std::string& text) {
  if (path.size() < 5 || path.compare(path.size() - 5, 5, ".data") != 0) return text;
  std::istringstream in(text);
  std::string line, program;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("-- ", 0) == 0) {
      inside = line.rfind("-- asm", 0) == 0;
      continue;
    }
    if (inside) program += line + "\n";
  }
  return program;
}

}  // namespace

int main(int argc, char** argv) {
  bool blind = argc == 3 && std::strcmp(argv[1], "--blind") == 0;
  if (argc != 2 + (blind ? 1 : 0) || argv[argc - 1][0] == '-') {
    std::fprintf(stderr, "usage: sonde-jit-disasm [--blind] INPUT\n");
    return 2;
  }
  const char* path = argv[argc - 1];
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "sonde-jit-disasm: cannot read %s\n", path);
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  ebpf::AssemblyResult assembled = ebpf::assemble(assembly_of(path, text.str()));
  if (!assembled.ok()) {
    std::fprintf(stderr, "sonde-jit-disasm: %s: %s\n", path, assembled.error.c_str());
    return 1;
  }
  ebpf::MapAttributes attributes{ebpf::MapType::kArray, 4, 8, 16, 0, {}};
  maps[0] = ebpf::create_map(attributes, allocator, 1).value();
  attributes.type = ebpf::MapType::kHash;
  maps[1] = ebpf::create_map(attributes, allocator, 1).value();

  std::vector<ebpf::Insn> insns = assembled.insns;
  uint32_t count = static_cast<uint32_t>(insns.size());
  std::vector<ebpf::CallSiteMap> call_maps(count);
  ebpf::VerifierOptions options;
  options.type = ebpf::ProgramType::kKprobe;
  options.allocator = &allocator;
  options.resolve_map = const_map_by_fd;
  options.call_maps = call_maps.data();
  bool verified = ebpf::verify(insns.data(), count, options).error == 0;
  ebpf::LoadResolver resolver;
  resolver.map_by_fd = map_by_fd;
  if (!ebpf::prepare_for_execution(insns.data(), count, resolver).ok()) {
    std::fprintf(stderr, "sonde-jit-disasm: %s: cannot prepare the program\n", path);
    return 1;
  }
  static ebpf::HelperFunction helpers[ebpf::kMaxHelperId] = {};
  ebpf::fill_helper_table(helpers);
  ebpf::Program program;
  program.insns = insns.data();
  program.insn_count = count;
  program.type = ebpf::ProgramType::kKprobe;
  program.helpers = helpers;
  program.helper_count = ebpf::kMaxHelperId;
  program.verified = verified;
  if (verified) program.call_maps = call_maps.data();

  RandomEnvironment environment;
  ebpf::JitOptions jit_options;
  jit_options.blind_constants = blind;
  jit_options.random_source = &environment;
  auto compiled =
      ebpf::jit_compile(program, ebpf::host_executable_memory(), allocator, jit_options);
  if (!compiled.ok()) {
    std::fprintf(stderr, "sonde-jit-disasm: %s: %s\n", path, compiled.error().message);
    return 1;
  }
  std::printf("; %s: %u instructions, %s, %zu bytes of code%s\n", path, count,
              verified ? "verified" : "not verified", compiled->code_size(),
              blind ? ", constants blinded" : "");
  std::fputs(ebpf::jit_listing(compiled.value()).c_str(), stdout);
  return 0;
}
