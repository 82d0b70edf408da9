// SPDX-License-Identifier: MIT
// Event filters: every filter of the Linux 6.1 session with its answer and filter file text,
// the grammar, the evaluator over records, and glob matching.
#include "trace/filter.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <regex>
#include <sstream>
#include <string>

#include "tracefs_test_support.hpp"

namespace trace::testing {
namespace {

using test_support::MallocAllocator;

class FilterTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(registry.add_builtin().ok()); }
  int write(Event& event, const std::string& text) {
    rt::Result<void> result = write_event_filter(event, text.data(), text.size(), allocator);
    return result.ok() ? 0 : result.error().code;
  }
  std::string file(const Event& event) {
    TextBuffer out(allocator);
    render_event_filter(event, out);
    return text_of(out);
  }
  Event& mkdirat() { return *registry.find("syscalls", "sys_enter_mkdirat"); }

  // A sys_enter_mkdirat record: common fields, __syscall_nr, dfd, pathname, mode.
  std::vector<uint8_t> mkdirat_record(int32_t pid, uint64_t dfd, uint64_t mode) {
    std::vector<uint8_t> record(40, 0);
    std::memcpy(&record[4], &pid, 4);
    int32_t nr = 258;
    std::memcpy(&record[8], &nr, 4);
    std::memcpy(&record[16], &dfd, 8);
    uint64_t pathname = 0x7fffca5e0f79;
    std::memcpy(&record[24], &pathname, 8);
    std::memcpy(&record[32], &mode, 8);
    return record;
  }
  bool passes(const std::vector<uint8_t>& record, const char* comm = "mkdirat") {
    FilterRecord view{record.data(), record.size(), comm, 0};
    return event_filter_passes(mkdirat(), view);
  }

  MallocAllocator allocator;
  EventRegistry registry{allocator};
};

// Replays every `echo '...' > events/S/E/filter` of the recorded session: the errno (a failed
// write is followed by "# exit status 1") and what the next `cat` of that filter printed.
TEST_F(FilterTest, RecordedSessionFilters) {
  std::string session = reference_file("tracefs.txt");
  if (session.empty()) GTEST_SKIP() << "no Linux 6.1 reference data";
  std::regex echo_line("^\\$ echo '(.*)' > events/(\\w+)/(\\w+)/filter$");
  std::istringstream lines(session);
  std::string line;
  int checked = 0;
  size_t at = 0;
  while (std::getline(lines, line)) {
    at += line.size() + 1;
    std::smatch match;
    if (!std::regex_match(line, match, echo_line)) continue;
    Event* event = registry.find(match[2].str().c_str(), match[3].str().c_str());
    if (event == nullptr) continue;  // kprobe events: kprobe_events_test
    std::string text = match[1].str() + "\n";
    int code = write(*event, text);
    bool failed = session.compare(at, 18, "sh: write error: I") == 0;
    EXPECT_EQ(code, failed ? rt::kEINVAL : 0) << text;
    std::string cat = "cat events/" + match[2].str() + "/" + match[3].str() + "/filter";
    size_t next_command = session.find("\n$ ", at - 1);
    if (session.compare(next_command + 3, cat.size() + 1, cat + "\n") == 0) {
      std::string expected = reference_output(session.substr(next_command + 1), cat);
      EXPECT_EQ(file(*event), expected) << text;
      ++checked;
    }
  }
  EXPECT_GE(checked, 15);
}

TEST_F(FilterTest, NoneAndZero) {
  EXPECT_EQ(file(mkdirat()), "none\n");
  EXPECT_EQ(write(mkdirat(), "mode == 1\n"), 0);
  EXPECT_NE(mkdirat().filter, nullptr);
  EXPECT_EQ(write(mkdirat(), "0\n"), 0);
  EXPECT_EQ(mkdirat().filter, nullptr);
  EXPECT_EQ(file(mkdirat()), "none\n");
}

TEST_F(FilterTest, Errors) {
  // The caret's column as Linux places it (one past the character for errors found inside a
  // predicate, at it for quotes and parentheses); -1 for Linux's bare "Error: (0)".
  struct Case {
    const char* text;
    int code;
    int column;
    const char* error;
  } cases[] = {
      {"mode == 1 )", rt::kEINVAL, 10, "Too few '('"},
      {"(mode == 1", rt::kEINVAL, 0, "Too many '('"},
      {"mode == 1 || (mode == 2", rt::kEINVAL, 13, "Too many '('"},
      {"comm == \"abc", rt::kEINVAL, 8, "Missing matching quote"},
      {"mode = 1", rt::kEINVAL, 6, "Invalid operator"},
      {"mode == 1 mode", rt::kEINVAL, 10, "Too many terms in predicate expression"},
      {"mode < \"x\"", rt::kEINVAL, 8, "Illegal operation for field type"},
      {"mode ~ 1", rt::kEINVAL, 8, "Illegal operation for field type"},
      {"mode == 0x1g", rt::kEINVAL, 9, "Illegal integer value"},
      {"comm == 1", rt::kEINVAL, 9, "Expecting string field"},
      {"mode == 1 || !", rt::kEINVAL, 14, "Meaningless filter expression"},
      {"&&", rt::kEINVAL, -1, nullptr},
      {"== 1", rt::kEPERM, -1, nullptr},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(write(mkdirat(), c.text), c.code) << c.text;
    std::string expected = std::string(c.text) + "\n";
    if (c.column < 0) {
      expected += "Error: (0)\n\n";
    } else {
      expected += std::string(c.column, ' ') + "^\nparse_error: " + c.error + "\n\n";
    }
    EXPECT_EQ(file(mkdirat()), expected) << c.text;
    EXPECT_EQ(mkdirat().filter, nullptr) << c.text;
  }
}

TEST_F(FilterTest, EvaluatesLikeLinux) {
  auto a = mkdirat_record(333, 0xffffff9c, 0755);
  auto b = mkdirat_record(334, 0xffffff9c, 0700);
  struct Case {
    const char* filter;
    bool a, b;
  } cases[] = {
      {"mode == 0755", true, false},
      {"mode == 0x1ed", true, false},
      {"mode == 493", true, false},
      {"mode != 0700", true, false},
      {"dfd == 0xffffff9c", true, true},
      {"(mode == 0755 || mode == 0700) && common_pid > 0", true, true},
      {"mode & 0700", true, true},
      {"mode & 055", true, false},
      {"mode > 0700", true, false},
      {"mode >= 0700 && mode <= 0700", false, true},
      {"!(mode == 0755)", false, true},
      {"!mode == 0755 || common_pid == 333", true, true},
      {"common_pid < 334", true, false},
      {"common_pid > -1", true, true},
      {"comm == \"mkdirat\"", true, true},
      {"comm ~ \"mkdir*\"", true, true},
      {"comm ~ \"*dira*\"", true, true},
      {"comm ~ \"*rat\"", true, true},
      {"comm ~ \"m?dir[a-c]t\"", true, true},
      {"comm ~ \"!mk*\"", false, false},
      {"comm != \"mkdirat\"", false, false},
      // Strings behind the user pointer of a syscall argument never match on 6.1.
      {"pathname ~ \"*tfs*\"", false, false},
      {"pathname != \"zzz\"", false, false},
      {"cpu == 0", true, true},
      {"mode == 0755 && common_pid == 334 || mode == 0700 && common_pid == 334", false, true},
  };
  for (const Case& c : cases) {
    ASSERT_EQ(write(mkdirat(), c.filter), 0) << c.filter;
    EXPECT_EQ(passes(a), c.a) << c.filter;
    EXPECT_EQ(passes(b), c.b) << c.filter;
  }
}

TEST_F(FilterTest, DynamicStringFields) {
  Event& printk = *registry.find("bpf_trace", "bpf_trace_printk");
  ASSERT_EQ(write(printk, "bpf_string ~ \"*ENTRY*\""), 0);
  std::vector<uint8_t> record(12, 0);
  const char text[] = "KPROBE ENTRY pid = 1";
  uint32_t location = 12 | (sizeof(text) << 16);
  std::memcpy(&record[8], &location, 4);
  record.insert(record.end(), text, text + sizeof(text));
  FilterRecord view{record.data(), record.size(), "rm", 0};
  EXPECT_TRUE(event_filter_passes(printk, view));
  ASSERT_EQ(write(printk, "bpf_string == \"KPROBE ENTRY pid = 1\""), 0);
  EXPECT_TRUE(event_filter_passes(printk, view));
  ASSERT_EQ(write(printk, "bpf_string == \"KPROBE\""), 0);
  EXPECT_FALSE(event_filter_passes(printk, view));
  // A location past the record's end never matches.
  location = 200 | (4 << 16);
  std::memcpy(&record[8], &location, 4);
  ASSERT_EQ(write(printk, "bpf_string != \"x\""), 0);
  EXPECT_FALSE(event_filter_passes(printk, view));
}

TEST(GlobTest, Patterns) {
  auto glob = [](const char* pattern, const char* text) {
    return glob_match(pattern, std::strlen(pattern), text, std::strlen(text));
  };
  EXPECT_TRUE(glob("*", ""));
  EXPECT_TRUE(glob("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob("a*b*c", "aXXbYY"));
  EXPECT_TRUE(glob("[!x]?", "ab"));
  EXPECT_FALSE(glob("[!a]?", "ab"));
  EXPECT_TRUE(glob("\\*", "*"));
  EXPECT_FALSE(glob("\\*", "a"));
  EXPECT_TRUE(glob("[a-", "[a-"));
  EXPECT_TRUE(glob("**a", "a"));
}

TEST(FilterAllocationTest, FailedAllocationsAreENOMEMAndLeakNothing) {
  for (size_t budget = 0; budget < 20000; budget += 250) {
    MallocAllocator allocator(budget);
    {
      EventRegistry registry(allocator);
      if (!registry.add_builtin().ok()) continue;
      Event& event = *registry.find("syscalls", "sys_enter_mkdirat");
      const char* text = "(mode == 0755 || mode == 0700) && comm ~ \"mk*\" && !(dfd == 1)";
      rt::Result<void> result = write_event_filter(event, text, std::strlen(text), allocator);
      if (!result.ok()) EXPECT_EQ(result.error().code, rt::kENOMEM);
    }
    EXPECT_EQ(allocator.in_use(), 0u);
  }
}

}  // namespace
}  // namespace trace::testing
