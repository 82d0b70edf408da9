// SPDX-License-Identifier: MIT
// bpf_conformance runner: assembles each .data test, runs it in the checked interpreter at
// ISA v4 with every instruction group, and compares r0 with the expected result (TAP output).
// With --jit, each program the checked run accepts on its input also runs through the JIT
// (which must compile it) and the JIT's r0 is the one compared: the checked interpreter run
// stands in for the verifier these unverified programs never met. --jit-blinded does the same
// with constant blinding on (random values from the fixed test environment).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/jit.hpp"
#include "support/fixed_environment.hpp"

namespace {

struct TestCase {
  std::string name;
  std::map<std::string, std::string> sections;
};

TestCase read_test(const std::filesystem::path& path) {
  TestCase test{path.stem().string(), {}};
  std::ifstream in(path);
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.rfind("-- ", 0) == 0) {
      current = line.substr(3);
      while (!current.empty() && (current.back() == '\r' || current.back() == ' '))
        current.pop_back();
      test.sections[current];
      continue;
    }
    if (!current.empty()) test.sections[current] += line + "\n";
  }
  return test;
}

std::vector<uint8_t> parse_hex_bytes(const std::string& text) {
  std::vector<uint8_t> bytes;
  std::istringstream in(text);
  std::string token;
  while (in >> token) {
    if (token[0] == '#') {
      std::string rest;
      std::getline(in, rest);
      continue;
    }
    bytes.push_back(static_cast<uint8_t>(std::stoul(token, nullptr, 16)));
  }
  return bytes;
}

std::vector<ebpf::Insn> parse_raw(const std::string& text) {
  std::vector<ebpf::Insn> insns;
  std::istringstream in(text);
  std::string token;
  while (in >> token) {
    uint64_t word = std::stoull(token, nullptr, 0);
    ebpf::Insn insn;
    std::memcpy(&insn, &word, sizeof(insn));
    insns.push_back(insn);
  }
  return insns;
}

// The conformance suite's helper 5 ("unwind"): returns its argument; zero ends the program.
uint64_t unwind_helper(ebpf::ExecContext& context, uint64_t r1, uint64_t, uint64_t, uint64_t,
                       uint64_t) {
  if (r1 == 0) ebpf::request_abort(context);
  return r1;
}

bool use_jit = false;
bool blind_constants = false;

class MallocAllocator final : public rt::Allocator {
 public:
  void* allocate(size_t size, size_t) override { return std::malloc(size); }
  void deallocate(void* pointer, size_t) override { std::free(pointer); }
};

struct Outcome {
  bool pass;
  std::string detail;
};

Outcome run_test(const TestCase& test) {
  std::vector<ebpf::Insn> insns;
  auto raw = test.sections.find("raw");
  auto asm_text = test.sections.find("asm");
  if (raw != test.sections.end()) {
    insns = parse_raw(raw->second);
  } else if (asm_text != test.sections.end()) {
    ebpf::AssemblyResult assembled = ebpf::assemble(asm_text->second);
    if (!assembled.ok()) return {false, "assembler: " + assembled.error};
    insns = assembled.insns;
  } else {
    return {false, "no -- asm or -- raw section"};
  }

  std::vector<uint8_t> memory;
  if (auto mem = test.sections.find("mem"); mem != test.sections.end())
    memory = parse_hex_bytes(mem->second);

  static ebpf::HelperFunction helpers[ebpf::kMaxHelperId] = {};
  helpers[5] = unwind_helper;
  ebpf::Program program;
  program.insns = insns.data();
  program.insn_count = static_cast<uint32_t>(insns.size());
  program.helpers = helpers;
  program.helper_count = ebpf::kMaxHelperId;

  ebpf::MemoryRegion region{reinterpret_cast<uint64_t>(memory.data()), memory.size(), true};
  ebpf::CheckedRunOptions options;
  options.regions = memory.empty() ? nullptr : &region;
  options.region_count = memory.empty() ? 0 : 1;
  uint64_t r1 = memory.empty() ? 0 : reinterpret_cast<uint64_t>(memory.data());
  ebpf::RunResult result = ebpf::run_checked(program, r1, memory.size(), nullptr, options);

  bool expect_error = test.sections.count("error") != 0;
  if (expect_error) {
    if (result.status == ebpf::RunStatus::kOk)
      return {false, "expected an error, program ran to completion"};
    return {true, ""};
  }
  if (result.status != ebpf::RunStatus::kOk && result.status != ebpf::RunStatus::kAborted) {
    return {false, std::string("run failed at pc ") + std::to_string(result.pc) + ": " +
                       ebpf::run_status_message(result.status)};
  }
  if (use_jit) {
    MallocAllocator scratch;
    test_support::FixedEnvironment environment;
    environment.random = 0x9e3779b9;  // bits in every byte of the blinded immediates
    ebpf::JitOptions jit_options;
    jit_options.blind_constants = blind_constants;
    jit_options.random_source = &environment;
    auto compiled =
        ebpf::jit_compile(program, ebpf::host_executable_memory(), scratch, jit_options);
    if (!compiled.ok()) return {false, std::string("JIT refused: ") + compiled.error().message};
    compiled->install(program);
    std::vector<uint8_t> fresh;  // the checked run may have written the memory: start again
    if (auto mem = test.sections.find("mem"); mem != test.sections.end())
      fresh = parse_hex_bytes(mem->second);
    uint64_t jit_r1 = fresh.empty() ? 0 : reinterpret_cast<uint64_t>(fresh.data());
    ebpf::JitRunResult jitted = ebpf::jit_run_registers(program, jit_r1, fresh.size(), nullptr);
    if (jitted.failed) return {false, "JIT run failed where the interpreter's did not"};
    result.value = jitted.value;
  }
  auto expected_text = test.sections.find("result");
  if (expected_text == test.sections.end()) return {false, "no -- result section"};
  uint64_t expected = std::stoull(expected_text->second, nullptr, 0);
  if (result.value != expected) {
    char buffer[96];
    std::snprintf(buffer, sizeof(buffer), "r0 = 0x%llx, expected 0x%llx",
                  static_cast<unsigned long long>(result.value),
                  static_cast<unsigned long long>(expected));
    return {false, buffer};
  }
  return {true, ""};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--jit" || std::string(argv[i]) == "--jit-blinded") {
      use_jit = true;
      blind_constants = std::string(argv[i]) == "--jit-blinded";
      continue;
    }
    std::filesystem::path p = argv[i];
    if (std::filesystem::is_directory(p)) {
      for (const auto& entry : std::filesystem::directory_iterator(p)) {
        if (entry.path().extension() == ".data") files.push_back(entry.path());
      }
    } else if (std::filesystem::exists(p)) {
      files.push_back(p);
    } else {
      // The data lives outside the repository (../shared); without it the suite is skipped,
      // loudly, rather than failed.
      std::printf("1..0 # SKIP test data not found: %s\n", argv[i]);
      std::printf("# bpf_conformance: skipped, no test data at %s\n", argv[i]);
      return 0;
    }
  }
  if (files.empty()) {
    std::printf("Bail out! no .data tests given\n");
    return 1;
  }
  std::sort(files.begin(), files.end());
  int passed = 0, failed = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    TestCase test = read_test(files[i]);
    Outcome outcome = run_test(test);
    if (outcome.pass)
      ++passed;
    else
      ++failed;
    std::printf("%s %zu - %s%s%s\n", outcome.pass ? "ok" : "not ok", i + 1, test.name.c_str(),
                outcome.pass ? "" : " # ", outcome.detail.c_str());
  }
  std::printf("1..%zu\n", files.size());
  std::printf("# bpf_conformance%s: %d passed, %d failed\n",
              blind_constants ? " (jit, blinded constants)"
              : use_jit       ? " (jit)"
                              : "",
              passed, failed);
  return failed == 0 ? 0 : 1;
}
