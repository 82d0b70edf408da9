// SPDX-License-Identifier: MIT
// EventRegistry: format files and ids as Linux 6.1 prints them, available_events, set_event.
#include "trace/events.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

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

// The field lines after the common ones: "type name;\toffset:N;\tsize:N;\tsigned:N;" each.
std::vector<std::string> own_fields(const std::string& format) {
  std::vector<std::string> fields;
  std::istringstream lines(format);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("\tfield:", 0) != 0 || line.find(" common_") != std::string::npos) continue;
    fields.push_back(line.substr(7));
  }
  return fields;
}

TEST_F(EventsTest, MoreSyscallFormats) {
  // kill(2): Linux's SYSCALL_DEFINE2(kill, pid_t, pid, int, sig).
  Event* kill = registry.find("syscalls", "sys_enter_kill");
  ASSERT_NE(kill, nullptr);
  EXPECT_EQ(format_of(registry, "syscalls", "sys_enter_kill"),
            "name: sys_enter_kill\nID: " + std::to_string(kill->id) +
                "\nformat:\n"
                "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
                "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
                "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
                "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
                "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
                "\tfield:pid_t pid;\toffset:16;\tsize:8;\tsigned:0;\n"
                "\tfield:int sig;\toffset:24;\tsize:8;\tsigned:0;\n\n"
                "print fmt: \"pid: 0x%08lx, sig: 0x%08lx\", ((unsigned long)(REC->pid)), "
                "((unsigned long)(REC->sig))\n");
  EXPECT_EQ(kill->syscall_nr, 62);
  EXPECT_EQ(registry.find("syscalls", "sys_exit_kill")->id, kill->id + 1);

  // stat(2) is Linux's newstat (syscall_64.tbl: 4 stat sys_newstat).
  EXPECT_EQ(registry.find("syscalls", "sys_enter_stat"), nullptr);
  EXPECT_EQ(registry.find("syscalls", "sys_enter_newstat")->syscall_nr, 4);
  EXPECT_EQ(own_fields(format_of(registry, "syscalls", "sys_enter_newstat")),
            (std::vector<std::string>{"int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;",
                                      "const char * filename;\toffset:16;\tsize:8;\tsigned:0;",
                                      "struct stat * statbuf;\toffset:24;\tsize:8;\tsigned:0;"}));
  EXPECT_NE(format_of(registry, "syscalls", "sys_enter_newstat")
                .find("print fmt: \"filename: 0x%08lx, statbuf: 0x%08lx\", ((unsigned "
                      "long)(REC->filename)), ((unsigned long)(REC->statbuf))\n"),
            std::string::npos);

  EXPECT_EQ(registry.find("syscalls", "sys_enter_execve")->syscall_nr, 59);
  EXPECT_EQ(
      own_fields(format_of(registry, "syscalls", "sys_enter_execve")),
      (std::vector<std::string>{"int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;",
                                "const char * filename;\toffset:16;\tsize:8;\tsigned:0;",
                                "const char *const * argv;\toffset:24;\tsize:8;\tsigned:0;",
                                "const char *const * envp;\toffset:32;\tsize:8;\tsigned:0;"}));

  EXPECT_EQ(registry.find("syscalls", "sys_enter_mount")->syscall_nr, 165);
  EXPECT_EQ(own_fields(format_of(registry, "syscalls", "sys_enter_mount")),
            (std::vector<std::string>{"int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;",
                                      "char * dev_name;\toffset:16;\tsize:8;\tsigned:0;",
                                      "char * dir_name;\toffset:24;\tsize:8;\tsigned:0;",
                                      "char * type;\toffset:32;\tsize:8;\tsigned:0;",
                                      "unsigned long flags;\toffset:40;\tsize:8;\tsigned:0;",
                                      "void * data;\toffset:48;\tsize:8;\tsigned:0;"}));
  // umount2(2) is Linux's umount (syscall_64.tbl: 166 umount2 sys_umount).
  EXPECT_EQ(registry.find("syscalls", "sys_enter_umount")->syscall_nr, 166);

  Event* exit_group = registry.find("syscalls", "sys_enter_exit_group");
  ASSERT_NE(exit_group, nullptr);
  EXPECT_EQ(exit_group->syscall_nr, 231);
  EXPECT_EQ(own_fields(format_of(registry, "syscalls", "sys_enter_exit_group")),
            (std::vector<std::string>{"int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;",
                                      "int error_code;\toffset:16;\tsize:8;\tsigned:0;"}));
  EXPECT_NE(format_of(registry, "syscalls", "sys_enter_exit_group")
                .find("print fmt: \"error_code: 0x%08lx\", ((unsigned long)(REC->error_code))\n"),
            std::string::npos);
  EXPECT_EQ(format_of(registry, "syscalls", "sys_exit_exit_group")
                .substr(format_of(registry, "syscalls", "sys_exit_exit_group").find("\n\n") + 2),
            "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
            "\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n\n"
            "print fmt: \"0x%lx\", REC->ret\n");

  // A call without arguments: only __syscall_nr, and an empty print format.
  EXPECT_EQ(own_fields(format_of(registry, "syscalls", "sys_enter_getpid")),
            (std::vector<std::string>{"int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;"}));
  EXPECT_NE(format_of(registry, "syscalls", "sys_enter_getpid").find("print fmt: \"\"\n"),
            std::string::npos);
  // Record sizes as Linux's: struct syscall_trace_enter is 16 bytes before its arguments.
  EXPECT_EQ(registry.find("syscalls", "sys_enter_getpid")->record_size(), 16u);
  EXPECT_EQ(registry.find("syscalls", "sys_enter_kill")->record_size(), 32u);
  EXPECT_EQ(registry.find("syscalls", "sys_exit_getpid")->record_size(), 24u);
}

// Every system call the POSIX server implements has its two events. The numbers and names come
// from the POSIX server's own table (its ENTRY(number, name) lines, read from the source), so a
// call added there without events here fails this test.
TEST_F(EventsTest, EveryPosixSyscallHasEvents) {
  std::ifstream file(SONDE_POSIX_SYSCALL_TABLE);
  ASSERT_TRUE(file) << SONDE_POSIX_SYSCALL_TABLE;
  std::stringstream text;
  text << file.rdbuf();
  std::string source = text.str();
  std::regex entry(R"(ENTRY\((\d+), (\w+)\))");
  size_t count = 0;
  for (auto it = std::sregex_iterator(source.begin(), source.end(), entry);
       it != std::sregex_iterator(); ++it) {
    int number = std::stoi((*it)[1]);
    std::string name = (*it)[2];
    if (name == "name") continue;  // the macro's own definition
    ++count;
    // Linux's event names for x86-64 calls whose entry point has another name.
    if (name == "stat" || name == "fstat" || name == "lstat" || name == "uname")
      name = "new" + name;
    if (name == "umount2") name = "umount";
    if (name == "sendfile") name = "sendfile64";
    for (const char* side : {"sys_enter_", "sys_exit_"}) {
      Event* event = registry.find("syscalls", (side + name).c_str());
      ASSERT_NE(event, nullptr) << side << name << " (system call " << number << ")";
      EXPECT_EQ(event->syscall_nr, number) << side << name;
    }
  }
  EXPECT_GE(count, 130u);  // the table was read, not skipped
  // Ids: unique, and below the dynamic ones.
  std::set<uint32_t> ids;
  for (size_t i = 0; i < registry.size(); ++i) {
    EXPECT_TRUE(ids.insert(registry.at(i).id).second) << registry.at(i).name;
    EXPECT_LT(registry.at(i).id, kFirstDynamicEventId) << registry.at(i).name;
  }
}

// The running host's format files, when tracefs is mounted and readable: the fields (types,
// names, offsets, sizes) of every syscall event both have. The host runs a newer Linux than 6.1,
// so ids and print formats are not compared; __user's BTF tag (clang-built kernels) is dropped.
TEST_F(EventsTest, SyscallFieldsMatchHostTracefs) {
  std::string root;
  for (const char* candidate : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    if (std::ifstream(std::string(candidate) + "/events/syscalls/sys_enter_kill/format")) {
      root = candidate;
      break;
    }
  }
  if (root.empty()) {
    GTEST_SKIP() << "host tracefs not available (mount -t tracefs nodev /sys/kernel/tracing as "
                    "root to compare)";
  }
  size_t compared = 0;
  for (size_t i = 0; i < registry.size(); ++i) {
    const Event& event = registry.at(i);
    if (std::string(event.system) != "syscalls") continue;
    std::ifstream file(root + "/events/syscalls/" + event.name + "/format");
    if (!file) continue;  // a call this host's kernel does not trace
    std::stringstream host;
    host << file.rdbuf();
    std::string host_text = host.str();
    const std::string tag = " __attribute__((btf_type_tag(\"user\")))";
    for (size_t at; (at = host_text.find(tag)) != std::string::npos;)
      host_text.erase(at, tag.size());
    EXPECT_EQ(own_fields(format_of(registry, "syscalls", event.name)), own_fields(host_text))
        << event.name;
    ++compared;
  }
  EXPECT_GE(compared, 100u);
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
