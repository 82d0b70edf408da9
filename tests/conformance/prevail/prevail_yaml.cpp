// SPDX-License-Identifier: MIT
// PREVAIL test files: a reader for the YAML subset they use (documents, scalars, flow and
// block sequences of scalars, the `code` mapping of labels to literal blocks).
#include "prevail_yaml.hpp"

#include <cctype>
#include <sstream>

namespace prevail_runner {
namespace {

size_t indent_of(const std::string& line) {
  size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  return i;
}

bool is_blank_or_comment(const std::string& line) {
  size_t i = indent_of(line);
  return i == line.size() || line[i] == '#';
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// A plain or quoted scalar starting at text[pos]; advances pos past it.
bool read_scalar(const std::string& text, size_t& pos, const char* stops, std::string& out,
                 std::string& error) {
  while (pos < text.size() && text[pos] == ' ') ++pos;
  out.clear();
  if (pos < text.size() && text[pos] == '"') {
    for (++pos; pos < text.size() && text[pos] != '"'; ++pos) {
      if (text[pos] == '\\' && pos + 1 < text.size()) {
        char c = text[++pos];
        out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
      } else {
        out += text[pos];
      }
    }
    if (pos >= text.size()) return error = "unterminated double-quoted scalar", false;
    ++pos;
    return true;
  }
  if (pos < text.size() && text[pos] == '\'') {
    for (++pos; pos < text.size(); ++pos) {
      if (text[pos] == '\'') {
        if (pos + 1 < text.size() && text[pos + 1] == '\'') {
          out += '\'';
          ++pos;
          continue;
        }
        break;
      }
      out += text[pos];
    }
    if (pos >= text.size()) return error = "unterminated single-quoted scalar", false;
    ++pos;
    return true;
  }
  size_t start = pos;
  while (pos < text.size() && std::string(stops).find(text[pos]) == std::string::npos) ++pos;
  out = trim(text.substr(start, pos - start));
  return true;
}

// "[a, "b", c]" possibly spread over several lines (already joined).
bool parse_flow_sequence(const std::string& text, std::vector<std::string>& items,
                         std::string& error) {
  size_t pos = text.find('[');
  if (pos == std::string::npos) return error = "expected a flow sequence", false;
  ++pos;
  for (;;) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos < text.size() && text[pos] == ']') return true;
    std::string item;
    if (!read_scalar(text, pos, ",]", item, error)) return false;
    items.push_back(item);
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos < text.size() && text[pos] == ',') {
      ++pos;
      continue;
    }
    if (pos < text.size() && text[pos] == ']') return true;
    return error = "malformed flow sequence: " + text, false;
  }
}

int bracket_balance(const std::string& s) {
  int depth = 0;
  bool quoted = false;
  for (char c : s) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '[') ++depth;
    if (c == ']') --depth;
  }
  return depth;
}

bool parse_document(const std::vector<std::string>& lines, TestCase& tc, bool& empty,
                    std::string& error) {
  empty = true;
  for (size_t i = 0; i < lines.size();) {
    const std::string& line = lines[i];
    if (is_blank_or_comment(line)) {
      ++i;
      continue;
    }
    if (indent_of(line) != 0) return error = "unexpected indentation: " + line, false;
    size_t colon = line.find(':');
    if (colon == std::string::npos) return error = "expected a key: " + line, false;
    std::string key = line.substr(0, colon);
    std::string rest = trim(line.substr(colon + 1));
    empty = false;
    ++i;
    // Everything indented below the key belongs to it.
    std::vector<std::string> body;
    while (i < lines.size() &&
           (lines[i].empty() || indent_of(lines[i]) > 0 || trim(lines[i]).empty())) {
      body.push_back(lines[i]);
      ++i;
    }
    if (key == "observe") {
      tc.has_observe = true;
      continue;
    }
    if (key == "expected-exception") {
      tc.expects_exception = true;
      continue;
    }
    if (key == "test-case") {
      size_t pos = 0;
      if (!read_scalar(rest, pos, "", tc.name, error)) return false;
      continue;
    }
    if (key == "code") {
      for (size_t j = 0; j < body.size();) {
        if (is_blank_or_comment(body[j])) {
          ++j;
          continue;
        }
        size_t label_indent = indent_of(body[j]);
        std::string entry = trim(body[j]);
        size_t close = entry.find(">:");
        if (entry.empty() || entry[0] != '<' || close == std::string::npos) {
          return error = "expected <label>: in code: " + entry, false;
        }
        std::string label = entry.substr(1, close - 1);
        std::string value = trim(entry.substr(close + 2));
        ++j;
        std::string text;
        if (value == "|" || value == "|-" || value == "|+") {
          while (j < body.size() && (trim(body[j]).empty() || indent_of(body[j]) > label_indent)) {
            text += trim(body[j]) + "\n";
            ++j;
          }
        } else {
          size_t pos = 0;
          if (!read_scalar(value, pos, "", text, error)) return false;
          text += "\n";
        }
        tc.blocks.emplace_back(label, text);
      }
      continue;
    }
    std::vector<std::string> items;
    if (!rest.empty() && rest[0] == '[') {
      std::string joined = rest;
      for (const std::string& more : body) joined += " " + trim(more);
      // The closing bracket may sit at the left margin.
      while (bracket_balance(joined) != 0 && i < lines.size()) joined += " " + trim(lines[i++]);
      if (bracket_balance(joined) != 0) return error = "unbalanced flow sequence for " + key, false;
      if (!parse_flow_sequence(joined, items, error)) return false;
    } else if (!rest.empty()) {
      return error = "unsupported value for " + key + ": " + rest, false;
    } else {
      for (const std::string& item_line : body) {
        if (is_blank_or_comment(item_line)) continue;
        std::string t = trim(item_line);
        if (t.rfind("- ", 0) != 0 && t != "-")
          return error = "expected a block sequence item: " + t, false;
        size_t pos = 1;
        std::string item;
        if (!read_scalar(t, pos, "", item, error)) return false;
        items.push_back(item);
      }
    }
    if (key == "options")
      tc.options = items;
    else if (key == "pre")
      tc.pre = items;
    else if (key == "post")
      tc.post = items;
    else if (key == "messages")
      tc.messages = items;
    else
      return error = "unknown key " + key, false;
  }
  return true;
}

}  // namespace

bool parse_yaml_file(const std::string& path, const std::string& text, std::vector<TestCase>& cases,
                     std::string& error) {
  std::istringstream in(text);
  std::string line;
  std::vector<std::vector<std::string>> documents(1);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line) == "---" && indent_of(line) == 0) {
      documents.emplace_back();
      continue;
    }
    documents.back().push_back(line);
  }
  for (const auto& document : documents) {
    bool is_case = false;
    for (const std::string& l : document) is_case = is_case || l.rfind("test-case:", 0) == 0;
    if (!is_case) continue;  // e.g. the schema in test-schema.yaml
    TestCase tc;
    tc.file = path;
    bool empty = true;
    if (!parse_document(document, tc, empty, error)) return false;
    if (empty) continue;
    if (tc.name.empty()) continue;  // not a test case (e.g. the schema file)
    cases.push_back(std::move(tc));
  }
  return true;
}

}  // namespace prevail_runner
