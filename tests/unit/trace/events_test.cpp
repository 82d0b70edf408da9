// SPDX-License-Identifier: MIT
// EventRegistry: format files and ids as Linux 6.1 prints them, available_events, set_event.
#include "trace/events.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "tracefs_test_support.hpp"

namespace trace::testing {
namespace {

using test_support::MallocAllocator;

std::string format_of(EventRegistry& registry, const char* system, const char* name) {
  Event* event = registry.find(system, name);
  if (event == nullptr) return "(no event)";
  TextBuffer out(registry.allocator());
  EventRegistry::render_format(*event, out);
  return text_of(out);
}

std::string set_event_of(EventRegistry& registry) {
  TextBuffer out(registry.allocator());
  registry.render_set_event(out);
  return text_of(out);
}

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(registry.add_builtin().ok()); }
  MallocAllocator allocator;
  EventRegistry registry{allocator};
};

TEST_F(EventsTest, FormatFilesMatchLinux) {
  std::string session = reference_file("tracefs.txt");
  if (session.empty()) GTEST_SKIP() << "no Linux 6.1 reference data";
  EXPECT_EQ(format_of(registry, "syscalls", "sys_enter_mkdirat"),
            reference_output(session, "cat events/syscalls/sys_enter_mkdirat/format"));
  EXPECT_EQ(format_of(registry, "syscalls", "sys_enter_mkdir"),
            reference_output(session, "cat events/syscalls/sys_enter_mkdir/format"));
  EXPECT_EQ(std::to_string(registry.find("syscalls", "sys_enter_mkdirat")->id) + "\n",
            reference_output(session, "cat events/syscalls/sys_enter_mkdirat/id"));
  EXPECT_EQ(std::to_string(registry.find("syscalls", "sys_enter_mkdir")->id) + "\n",
            reference_output(session, "cat events/syscalls/sys_enter_mkdir/id"));
}

TEST_F(EventsTest, OtherSyscallFormats) {
  std::string openat = format_of(registry, "syscalls", "sys_enter_openat");
  EXPECT_NE(openat.find("\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n"),
            std::string::npos);
  EXPECT_NE(openat.find("print fmt: \"dfd: 0x%08lx, filename: 0x%08lx, flags: 0x%08lx, mode: "
                        "0x%08lx\", ((unsigned long)(REC->dfd)), ((unsigned long)(REC->filename)), "
                        "((unsigned long)(REC->flags)), ((unsigned long)(REC->mode))\n"),
            std::string::npos);
  std::string exit = format_of(registry, "syscalls", "sys_exit_openat");
  EXPECT_NE(exit.find("\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
                      "\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n\n"
                      "print fmt: \"0x%lx\", REC->ret\n"),
            std::string::npos);
  std::string raw = format_of(registry, "raw_syscalls", "sys_enter");
  EXPECT_NE(raw.find("\tfield:long id;\toffset:8;\tsize:8;\tsigned:1;\n"
                     "\tfield:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;\n"),
            std::string::npos);
  std::string printk = format_of(registry, "bpf_trace", "bpf_trace_printk");
  EXPECT_NE(printk.find("\tfield:__data_loc char[] bpf_string;\toffset:8;\tsize:4;\tsigned:1;\n\n"
                        "print fmt: \"%s\", __get_str(bpf_string)\n"),
            std::string::npos);
}

TEST_F(EventsTest, AvailableEventsInLinuxOrder) {
  std::string session = reference_file("tracefs.txt");
  if (session.empty()) GTEST_SKIP() << "no Linux 6.1 reference data";
  TextBuffer out(allocator);
  registry.render_available_events(out);
  std::istringstream lines(text_of(out));
  std::string line, mkdir_lines;
  while (std::getline(lines, line)) {
    if (line.find("mkdir") != std::string::npos) mkdir_lines += line + "\n";
  }
  // The recording's grep also shows cgroup:cgroup_mkdir, an event Sonde does not have.
  std::string expected = reference_output(session, "grep mkdir available_events");
  expected.erase(0, expected.find('\n') + 1);
  EXPECT_EQ(mkdir_lines, expected);
}

TEST_F(EventsTest, SetEventShowsEnabledEventsAsLinux) {
  std::string session = reference_file("tracefs.txt");
  if (session.empty()) GTEST_SKIP() << "no Linux 6.1 reference data";
  registry.find("bpf_trace", "bpf_trace_printk")->enabled = true;
  registry.find("syscalls", "sys_enter_mkdirat")->enabled = true;
  registry.find("syscalls", "sys_enter_mkdir")->enabled = true;
  EXPECT_EQ(set_event_of(registry), reference_output(session, "cat set_event"));
}

TEST_F(EventsTest, SetEventSyntax) {
  const char* all_syscalls = "syscalls:*\n";
  ASSERT_TRUE(registry.write_set_event(all_syscalls, std::strlen(all_syscalls), true).ok());
  EXPECT_EQ(registry.enable_state("syscalls", 8), '1');
  EXPECT_EQ(registry.enable_state(nullptr, 0), 'X');
  const char* some_off = "!syscalls:sys_enter_mkdir !sys_exit_openat";
  ASSERT_TRUE(registry.write_set_event(some_off, std::strlen(some_off), false).ok());
  EXPECT_FALSE(registry.find("syscalls", "sys_enter_mkdir")->enabled);
  EXPECT_FALSE(registry.find("syscalls", "sys_exit_openat")->enabled);
  EXPECT_TRUE(registry.find("syscalls", "sys_enter_openat")->enabled);
  EXPECT_EQ(registry.enable_state("syscalls", 8), 'X');
  // A system's name alone, and "*:EVENT".
  const char* by_system = "raw_syscalls *:bpf_trace_printk";
  ASSERT_TRUE(registry.write_set_event(by_system, std::strlen(by_system), true).ok());
  EXPECT_EQ(set_event_of(registry),
            "bpf_trace:bpf_trace_printk\nraw_syscalls:sys_exit\nraw_syscalls:sys_enter\n");
  // A token matching nothing is EINVAL; the ones before it stay applied.
  const char* bad = "syscalls:sys_enter_mkdir nosuch:event syscalls:sys_enter_openat";
  EXPECT_EQ(registry.write_set_event(bad, std::strlen(bad), false).error().code, rt::kEINVAL);
  EXPECT_TRUE(registry.find("syscalls", "sys_enter_mkdir")->enabled);
  EXPECT_FALSE(registry.find("syscalls", "sys_enter_openat")->enabled);
  // An empty truncating write disables everything.
  ASSERT_TRUE(registry.write_set_event("\n", 1, true).ok());
  EXPECT_EQ(set_event_of(registry), "");
  EXPECT_EQ(registry.enable_state(nullptr, 0), '0');
  // '*:*' enables all.
  ASSERT_TRUE(registry.write_set_event("*:*", 3, false).ok());
  EXPECT_EQ(registry.enable_state(nullptr, 0), '1');
}

TEST_F(EventsTest, DynamicIdsAreStableAndReused) {
  Event* first = registry.create("kprobes", "a").value();
  Event* second = registry.create("kprobes", "b").value();
  EXPECT_EQ(first->id, kFirstDynamicEventId);
  EXPECT_EQ(second->id, kFirstDynamicEventId + 1);
  EXPECT_EQ(registry.create("kprobes", "a").error().code, rt::kEEXIST);
  registry.remove(first);
  EXPECT_EQ(registry.find("kprobes", "a"), nullptr);
  EXPECT_EQ(registry.create("kprobes", "c").value()->id, kFirstDynamicEventId);
  EXPECT_EQ(second->id, kFirstDynamicEventId + 1);
}

TEST(EventsAllocationTest, EverythingIsGivenBack) {
  MallocAllocator allocator;
  {
    EventRegistry registry(allocator);
    ASSERT_TRUE(registry.add_builtin().ok());
  }
  EXPECT_EQ(allocator.in_use(), 0u);
  // With too little memory the registry says ENOMEM and still gives back what it took.
  for (size_t budget = 0; budget < 4096; budget += 97) {
    MallocAllocator small(budget);
    {
      EventRegistry registry(small);
      EXPECT_EQ(registry.add_builtin().error().code, rt::kENOMEM);
    }
    EXPECT_EQ(small.in_use(), 0u);
  }
}

}  // namespace
}  // namespace trace::testing
