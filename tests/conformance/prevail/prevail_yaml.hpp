// SPDX-License-Identifier: MIT
// PREVAIL test files: the small YAML subset they use, read into test cases.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace prevail_runner {

struct TestCase {
  std::string file;
  std::string name;
  std::vector<std::string> options;
  std::vector<std::string> pre;
  std::vector<std::pair<std::string, std::string>> blocks;  // label (without <>), text
  std::vector<std::string> post;
  std::vector<std::string> messages;
  bool has_observe = false;
  bool expects_exception = false;
};

// Parses one multi-document file. Returns false with `error` set when the text leaves the
// subset (the runner reports it rather than guessing).
bool parse_yaml_file(const std::string& path, const std::string& text, std::vector<TestCase>& cases,
                     std::string& error);

}  // namespace prevail_runner
