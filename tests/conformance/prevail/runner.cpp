// SPDX-License-Identifier: MIT
// PREVAIL runner: verifies every case of PREVAIL's YAML suite with Sonde's verifier and
// compares accept/reject. usage: prevail_runner [--verbose] [--min-agree=N] DIR|FILE...
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

#include "ebpf/maps.hpp"
#include "ebpf/verifier.hpp"
#include "prevail_program.hpp"
#include "prevail_yaml.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace prevail_runner;

class RunnerMaps final : public MapSource {
 public:
  explicit RunnerMaps(rt::Allocator& allocator) : allocator_(allocator) {}
  ~RunnerMaps() override {
    for (ebpf::Map* map : maps_) ebpf::destroy_map(map, allocator_);
  }
  // PREVAIL's YAML harness describes every map fd as {key 4, value 4, 4 entries}. Its
  // map type is "unspecified"; an array is the Linux type with that shape.
  const ebpf::Map* test_map() override {
    if (test_ == nullptr) test_ = make(ebpf::MapType::kArray, 4, 4, 4);
    return test_;
  }
  const ebpf::Map* program_array() override {
    if (programs_ == nullptr) programs_ = make(ebpf::MapType::kProgArray, 4, 4, 4);
    return programs_;
  }
  const ebpf::Map* region(uint32_t size) override {
    auto it = regions_.find(size);
    if (it != regions_.end()) return it->second;
    ebpf::Map* map = size == 0 ? nullptr : make(ebpf::MapType::kArray, 4, size, 1);
    regions_[size] = map;
    return map;
  }

 private:
  ebpf::Map* make(ebpf::MapType type, uint32_t key, uint32_t value, uint32_t entries) {
    ebpf::MapAttributes a;
    a.type = type;
    a.key_size = key;
    a.value_size = value;
    a.max_entries = entries;
    auto created = ebpf::create_map(a, allocator_, 1);
    if (!created.ok()) return nullptr;
    maps_.push_back(created.value());
    return created.value();
  }
  rt::Allocator& allocator_;
  std::vector<ebpf::Map*> maps_;
  ebpf::Map* test_ = nullptr;
  ebpf::Map* programs_ = nullptr;
  std::map<uint32_t, ebpf::Map*> regions_;
};

const ebpf::Map* resolve_fd(void* state, int32_t fd) {
  if (fd < 0) return nullptr;
  return static_cast<RunnerMaps*>(state)->test_map();
}

struct Verdict {
  bool sonde_rejects = false;
  std::string reason;  // Sonde's reason (or why the case could not be stated)
  bool not_expressible = false;
};

// The last reason line of a level-1 log, with the instruction it follows.
std::string rejection_reason(const std::string& log, const TranslatedProgram& program) {
  std::istringstream in(log);
  std::string line, reason, last_insn;
  while (std::getline(in, line)) {
    if (line.rfind("processed ", 0) == 0 || line.empty()) continue;
    size_t colon = line.find(": (");
    if (colon != std::string::npos && std::all_of(line.begin(), line.begin() + colon, ::isdigit) &&
        colon > 0) {
      last_insn = line.substr(0, colon);
      continue;
    }
    reason = line;
  }
  if (!last_insn.empty()) {
    size_t pc = std::stoul(last_insn);
    std::string source = pc < program.source.size() ? program.source[pc] : "?";
    return "insn " + last_insn + " `" + source + "`: " + reason;
  }
  return reason;
}

Verdict run_case(const TestCase& tc, RunnerMaps& maps, test_support::MallocAllocator& allocator) {
  Verdict v;
  TranslatedProgram program;
  std::string error;
  if (!translate_program(tc, program, error)) {
    v.not_expressible = true;
    v.reason = "code: " + error;
    return v;
  }
  ebpf::EntryAssumptions assumptions;
  if (!translate_pre(tc, maps, assumptions, error)) {
    v.not_expressible = true;
    v.reason = error;
    return v;
  }
  std::vector<char> log(1 << 20);
  std::vector<uint8_t> facts(program.insns.size());
  ebpf::VerifierOptions options;
  // PREVAIL's harness context is 64 bytes; a tracepoint record of 64 bytes is the Linux
  // context with that shape (read-only, like every tracing context).
  options.type = ebpf::ProgramType::kTracepoint;
  options.tracepoint_record_size = 64;
  options.allocator = &allocator;
  options.log = log.data();
  options.log_size = static_cast<uint32_t>(log.size());
  options.log_level = ebpf::kLogLevel1;
  options.assumptions = &assumptions;
  options.insn_facts = facts.data();
  options.resolve_map = resolve_fd;
  options.resolve_state = &maps;
  ebpf::VerifierResult result =
      ebpf::verify(program.insns.data(), static_cast<uint32_t>(program.insns.size()), options);
  if (result.error != 0) {
    v.sonde_rejects = true;
    v.reason =
        "error " + std::to_string(-result.error) + ", " + rejection_reason(log.data(), program);
    return v;
  }
  // PREVAIL's harness reports an assumption that no path can satisfy ("Code becomes
  // unreachable"); Sonde's simulation shows the same when the assume was reached but the
  // code after it never was.
  for (const Assume& assume : program.assumes) {
    if ((facts[assume.jump] & ebpf::kFactSeen) && !(facts[assume.continuation] & ebpf::kFactSeen)) {
      v.sonde_rejects = true;
      v.reason = "Code becomes unreachable (" + assume.text + ")";
      return v;
    }
  }
  // The same for both edges of every conditional jump the simulation reached.
  for (const auto& [pc, text] : program.branches) {
    uint8_t f = facts[pc];
    if (!(f & ebpf::kFactSeen) || program.insns[pc].offset == 0)
      continue;  // both edges lead to one place
    if (!(f & ebpf::kFactBranchTaken) || !(f & ebpf::kFactBranchFallthrough)) {
      v.sonde_rejects = true;
      v.reason = std::string("Code becomes unreachable (") + text + ": the jump is " +
                 ((f & ebpf::kFactBranchTaken) ? "always" : "never") + " taken)";
      return v;
    }
  }
  return v;
}

void collect(const std::string& path, std::vector<std::string>& files) {
  namespace fs = std::filesystem;
  if (fs::is_directory(path)) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.path().extension() == ".yaml") found.push_back(entry.path().string());
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  } else {
    files.push_back(path);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool verbose = false;
  long min_agree = -1;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--verbose")
      verbose = true;
    else if (arg.rfind("--min-agree=", 0) == 0)
      min_agree = std::stol(arg.substr(12));
    else
      collect(arg, files);
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s [--verbose] [--min-agree=N] DIR|FILE...\n", argv[0]);
    return 2;
  }
  test_support::MallocAllocator allocator;
  RunnerMaps maps(allocator);
  int agree = 0, disagree = 0, bad_files = 0;
  for (const std::string& file : files) {
    std::ifstream in(file);
    if (!in) {
      std::printf("ERROR %s: cannot read\n", file.c_str());
      ++bad_files;
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::vector<TestCase> cases;
    std::string error;
    std::string name = std::filesystem::path(file).filename().string();
    if (!parse_yaml_file(name, text.str(), cases, error)) {
      std::printf("ERROR %s: %s\n", name.c_str(), error.c_str());
      ++bad_files;
      continue;
    }
    for (const TestCase& tc : cases) {
      bool prevail_rejects = !tc.messages.empty();
      Verdict v = run_case(tc, maps, allocator);
      bool same = !v.not_expressible && v.sonde_rejects == prevail_rejects;
      if (same)
        ++agree;
      else
        ++disagree;
      if (same && !verbose) continue;
      std::printf("%s %s: \"%s\": prevail %s", same ? "agree" : "DISAGREE", name.c_str(),
                  tc.name.c_str(), prevail_rejects ? "rejects" : "accepts");
      if (prevail_rejects) std::printf(" (%s)", tc.messages[0].c_str());
      if (v.not_expressible)
        std::printf("; sonde cannot state it: %s\n", v.reason.c_str());
      else if (v.sonde_rejects)
        std::printf("; sonde rejects: %s\n", v.reason.c_str());
      else
        std::printf("; sonde accepts\n");
    }
  }
  std::printf("prevail: %d agree, %d disagree\n", agree, disagree);
  if (bad_files != 0) return 1;
  if (min_agree >= 0 && agree < min_agree) {
    std::printf("prevail: agreement %d fell below the recorded floor %ld\n", agree, min_agree);
    return 1;
  }
  return 0;
}
