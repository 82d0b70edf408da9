// SPDX-License-Identifier: MIT
// Verifier accept/reject cases read from cases/*.data (format: docs/VERIFIER.md), one test each.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "rt/errno.hpp"
#include "verifier_fixture.hpp"

#ifndef SONDE_VERIFIER_CASES
#error "meson passes SONDE_VERIFIER_CASES, the folder holding the .data files"
#endif

namespace {

using ebpf::ProgramType;

// One case of a data file, or (when `problem` is set) a file that could not be read.
struct Case {
  std::string name;      // test name: file stem + "_" + case name
  std::string location;  // file:line of the case's `-- case` line
  ProgramType type = ProgramType::kKprobe;
  bool accept = true;
  int error = 0;        // negative errno, for reject
  std::string message;  // expected log substring, for reject
  std::string text;     // assembly
  std::string problem;  // a malformed file: what is wrong, at file:line
};

std::ostream& operator<<(std::ostream& out, const Case& c) { return out << c.location; }

struct Named {
  const char* name;
  int value;
};

constexpr Named kErrnos[] = {
    {"EPERM", rt::kEPERM},   {"E2BIG", rt::kE2BIG},       {"EACCES", rt::kEACCES},
    {"EFAULT", rt::kEFAULT}, {"EINVAL", rt::kEINVAL},     {"ENOSPC", rt::kENOSPC},
    {"ENOMEM", rt::kENOMEM}, {"ENOTSUPP", rt::kENOTSUPP},
};

constexpr Named kTypes[] = {
    {"kprobe", static_cast<int>(ProgramType::kKprobe)},
    {"tracepoint", static_cast<int>(ProgramType::kTracepoint)},
    {"perf_event", static_cast<int>(ProgramType::kPerfEvent)},
    {"raw_tracepoint", static_cast<int>(ProgramType::kRawTracepoint)},
};

template <size_t N>
const Named* find(const Named (&table)[N], const std::string& name) {
  for (const Named& entry : table) {
    if (name == entry.name) return &entry;
  }
  return nullptr;
}

bool valid_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Reads one file; returns false (with `problem` set to file:line: why) if it is malformed.
bool read_cases(const std::filesystem::path& path, std::vector<Case>& out, std::string& problem) {
  std::ifstream in(path);
  const std::string file = path.string();
  const std::string stem = path.stem().string();
  if (!in) {
    problem = file + ": cannot open";
    return false;
  }
  std::vector<Case> cases;
  std::set<std::string> names;
  bool in_asm = false;  // after `-- asm`, until the next `-- case`
  int number = 0;
  auto fail = [&](int line, const std::string& why) {
    problem = file + ":" + std::to_string(line) + ": " + why;
    return false;
  };
  // Checks the case just finished (at the next `-- case` or the end of the file).
  auto finish = [&](int line) {
    if (cases.empty()) return true;
    const Case& c = cases.back();
    if (!in_asm) return fail(line, "case '" + c.name + "' has no '-- asm' section");
    if (c.text.find_first_not_of(" \t\n") == std::string::npos) {
      return fail(line, "case '" + c.name + "' has no assembly");
    }
    return true;
  };
  bool has_expect = false;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string trimmed = line.substr(std::min(line.size(), line.find_first_not_of(" \t")));
    if (trimmed.empty() || trimmed[0] == '#') {
      // Kept in the assembly (which skips them) so that its line numbers count from `-- asm`.
      if (in_asm) cases.back().text += line + "\n";
      continue;
    }
    if (line.rfind("-- ", 0) != 0) {
      if (!in_asm) return fail(number, "expected a '-- ' header line, got '" + line + "'");
      cases.back().text += line + "\n";
      continue;
    }
    std::string rest = line.substr(3);
    size_t space = rest.find(' ');
    std::string key = rest.substr(0, space);
    std::string value = space == std::string::npos ? "" : rest.substr(space + 1);
    if (key == "case") {
      if (!finish(number)) return false;
      if (!valid_name(value)) return fail(number, "case name '" + value + "' is not [A-Za-z0-9_]+");
      if (!names.insert(value).second) return fail(number, "case '" + value + "' appears twice");
      Case c;
      c.name = stem + "_" + value;
      c.location = file + ":" + std::to_string(number);
      cases.push_back(c);
      in_asm = false;
      has_expect = false;
      continue;
    }
    if (cases.empty()) return fail(number, "'-- " + key + "' before the first '-- case'");
    if (in_asm) return fail(number, "'-- " + key + "' inside the assembly");
    Case& c = cases.back();
    if (key == "type") {
      const Named* type = find(kTypes, value);
      if (type == nullptr) return fail(number, "unknown program type '" + value + "'");
      c.type = static_cast<ProgramType>(type->value);
    } else if (key == "expect") {
      if (value == "accept") {
        c.accept = true;
      } else if (value.rfind("reject ", 0) == 0) {
        const Named* error = find(kErrnos, value.substr(7));
        if (error == nullptr) return fail(number, "unknown errno '" + value.substr(7) + "'");
        c.accept = false;
        c.error = -error->value;
      } else {
        return fail(number, "expected 'accept' or 'reject ERRNO', got '" + value + "'");
      }
      has_expect = true;
    } else if (key == "message") {
      if (value.empty()) return fail(number, "empty message");
      c.message = value;
    } else if (key == "asm") {
      if (!value.empty()) return fail(number, "'-- asm' takes nothing after it");
      if (!has_expect) return fail(number, "case without '-- expect'");
      if (c.accept && !c.message.empty()) return fail(number, "an accepted case has no message");
      if (!c.accept && c.message.empty()) return fail(number, "a rejected case needs '-- message'");
      in_asm = true;
    } else {
      return fail(number, "unknown header '-- " + key + "'");
    }
  }
  if (!finish(number + 1)) return false;
  if (cases.empty()) return fail(number, "no cases");
  out.insert(out.end(), cases.begin(), cases.end());
  return true;
}

// Every case of every .data file in the folder, in file then case order.
std::vector<Case> all_cases() {
  std::vector<Case> cases;
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(SONDE_VERIFIER_CASES, error)) {
    if (entry.path().extension() == ".data") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (error || files.empty()) {
    Case c;
    c.name = "no_case_files";
    c.problem = std::string(SONDE_VERIFIER_CASES) + ": no .data files";
    cases.push_back(c);
  }
  for (const auto& path : files) {
    std::string problem;
    if (!read_cases(path, cases, problem)) {
      Case c;
      c.name = path.stem().string() + "_malformed";
      c.location = problem;
      c.problem = problem;
      cases.push_back(c);
    }
  }
  return cases;
}

class VerifierCaseTest : public ebpf_test::VerifierTest,
                         public ::testing::WithParamInterface<Case> {};

TEST_P(VerifierCaseTest, Verdict) {
  const Case& c = GetParam();
  if (!c.problem.empty()) FAIL() << c.problem;
  SCOPED_TRACE(c.location);
  if (c.accept) {
    expect_accepted(c.text, c.type);
  } else {
    expect_rejected(c.text, c.message, c.error, c.type);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, VerifierCaseTest, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

}  // namespace
