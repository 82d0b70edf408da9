// SPDX-License-Identifier: MIT
// kprobe_events and uprobe_events: Linux's syntax, normalized listing, errors and error_log.
#include "trace/probe_events.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tracefs_test_support.hpp"

namespace trace::testing {
namespace {

using test_support::MallocAllocator;

class FakeTargets final : public ProbeTargets {
 public:
  bool kernel_symbol_exists(const char* name, size_t length) override {
    std::string symbol(name, length);
    return symbol == "do_unlinkat" || symbol == "do_sys_openat2" || symbol == "vfs_read.cold" ||
           symbol == "kretprobe_shim";
  }
  // The return-probe shim is on the blacklist, as Sonde's servers/trace/main.cpp puts it.
  // do_unlinkat's instructions in this fake: boundaries at 0, 5 and 8.
  int kernel_probe_error(const char* name, size_t length, uint64_t offset) override {
    std::string symbol(name, length);
    if (symbol == "kretprobe_shim") return rt::kEINVAL;
    if (symbol == "do_unlinkat" && offset != 0 && offset != 5 && offset != 8) return rt::kEILSEQ;
    return 0;
  }
  int user_file_status(const char* path, size_t length) override {
    std::string file(path, length);
    if (file == "/bin/bash" || file == "/tmp/app") return 0;
    if (file == "/tmp") return rt::kEINVAL;
    return rt::kENOENT;
  }
};

class ProbeEventsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(registry.add_builtin().ok()); }
  int write(ProbeEvents& probes, const std::string& text, bool truncate = false) {
    rt::Result<void> result = probes.write(text.data(), text.size(), truncate, 44123456000);
    return result.ok() ? 0 : result.error().code;
  }
  std::string listing(const ProbeEvents& probes) {
    TextBuffer out(allocator);
    probes.render(out);
    return text_of(out);
  }
  std::string format(const char* system, const char* name) {
    Event* event = registry.find(system, name);
    if (event == nullptr) return "(none)";
    TextBuffer out(allocator);
    EventRegistry::render_format(*event, out);
    return text_of(out);
  }
  std::string log() {
    TextBuffer out(allocator);
    errors.render(out);
    return text_of(out);
  }

  MallocAllocator allocator;
  EventRegistry registry{allocator};
  FakeTargets targets;
  ErrorLog errors{allocator};
  ProbeEvents kprobes{registry, targets, errors, false};
  ProbeEvents uprobes{registry, targets, errors, true};
};

TEST_F(ProbeEventsTest, RecordedSession) {
  std::string session = reference_file("tracefs.txt");
  if (session.empty()) GTEST_SKIP() << "no Linux 6.1 reference data";
  EXPECT_EQ(write(kprobes, "p:myprobe do_unlinkat dfd=%di\n", true), 0);
  EXPECT_EQ(write(kprobes, "r:myretprobe do_unlinkat ret=$retval\n"), 0);
  EXPECT_EQ(write(kprobes, "p:mystrprobe do_unlinkat dfd=%di:s32 name=+0(+0(%si)):string\n"), 0);
  EXPECT_EQ(write(kprobes, "p:badprobe no_such_function_xyz\n"), rt::kENOENT);
  EXPECT_EQ(listing(kprobes), reference_output(session, "cat kprobe_events", 1));
  EXPECT_EQ(format("kprobes", "myprobe"),
            reference_output(session, "cat events/kprobes/myprobe/format"));
  EXPECT_EQ(format("kprobes", "myretprobe"),
            reference_output(session, "cat events/kprobes/myretprobe/format"));
  EXPECT_EQ(format("kprobes", "mystrprobe"),
            reference_output(session, "cat events/kprobes/mystrprobe/format"));
  EXPECT_EQ(log(),
            "[   44.123456] trace_kprobe: error: Invalid probed address or symbol\n"
            "  Command: p:badprobe no_such_function_xyz\n"
            "                      ^\n");

  // Removing an enabled probe is EBUSY; a missing one ENOENT.
  registry.find("kprobes", "mystrprobe")->enabled = true;
  EXPECT_EQ(write(kprobes, "-:mystrprobe\n"), rt::kEBUSY);
  EXPECT_EQ(write(kprobes, "x\n", true), rt::kEBUSY);
  registry.set_enabled("kprobes", 7, false);
  EXPECT_EQ(write(kprobes, "-:myprobe\n"), 0);
  EXPECT_EQ(write(kprobes, "-:kprobes/myretprobe\n"), 0);
  EXPECT_EQ(write(kprobes, "-:myprobe\n"), rt::kENOENT);
  EXPECT_EQ(listing(kprobes), reference_output(session, "cat kprobe_events", 2));
  EXPECT_EQ(write(kprobes, "\n", true), 0);
  EXPECT_EQ(listing(kprobes), "");
  EXPECT_FALSE(registry.system_exists("kprobes", 7));
}

TEST_F(ProbeEventsTest, SyntaxAndDefaults) {
  EXPECT_EQ(write(kprobes,
                  "p do_unlinkat\n"
                  "p do_sys_openat2+16 %ax $stack $stack3 @0x1000:u32 +8(%sp):x16\n"
                  "r5:grp/ret do_unlinkat $retval:s64 $comm\n"
                  "p:args do_unlinkat a=$arg1 b=$arg2:u8 s=+u0($arg2):ustring c=$comm\n"
                  "# a comment line\n"
                  "p 0xffffffff81000000\n"
                  "p vfs_read.cold  # trailing comment\n"
                  "p:imm do_unlinkat k=\\123 t=\\\"hi\":string neg=-8(%bp)\n"),
            0);
  EXPECT_EQ(listing(kprobes),
            "p:kprobes/p_do_unlinkat_0 do_unlinkat\n"
            "p:kprobes/p_do_sys_openat2_16 do_sys_openat2+16 arg1=%ax arg2=$stack arg3=$stack3 "
            "arg4=@0x1000:u32 arg5=+8(%sp):x16\n"
            "r5:grp/ret do_unlinkat arg1=$retval:s64 arg2=$comm\n"
            "p:kprobes/args do_unlinkat a=$arg1 b=$arg2:u8 s=+u0($arg2):ustring c=$comm\n"
            "p:kprobes/p_0xffffffff81000000 0xffffffff81000000\n"
            "p:kprobes/p_vfs_read_cold_0 vfs_read.cold\n"
            "p:kprobes/imm do_unlinkat k=\\123 t=\\\"hi\":string neg=-8(%bp)\n");
  std::string ret = format("grp", "ret");
  EXPECT_NE(ret.find("\tfield:s64 arg1;\toffset:24;\tsize:8;\tsigned:1;\n"
                     "\tfield:__data_loc char[] arg2;\toffset:32;\tsize:4;\tsigned:1;\n"),
            std::string::npos)
      << ret;
  EXPECT_NE(ret.find("print fmt: \"(%lx <- %lx) arg1=%Ld arg2=\\\"%s\\\"\", REC->__probe_func, "
                     "REC->__probe_ret_ip, REC->arg1, __get_str(arg2)\n"),
            std::string::npos)
      << ret;
  std::string args = format("kprobes", "args");
  EXPECT_NE(args.find("\tfield:u8 b;\toffset:24;\tsize:1;\tsigned:0;\n"
                      "\tfield:__data_loc char[] s;\toffset:25;\tsize:4;\tsigned:1;\n"),
            std::string::npos)
      << args;
  // Ids follow creation.
  EXPECT_EQ(registry.find("kprobes", "p_do_unlinkat_0")->id, kFirstDynamicEventId);
}

TEST_F(ProbeEventsTest, ErrorsAndErrorLog) {
  struct Case {
    const char* command;
    int code;
    const char* message;  // nullptr: no error_log line (Linux logs none)
    size_t column;
  } cases[] = {
      {"q:x do_unlinkat", rt::kEINVAL, nullptr, 0},
      {"p", rt::kEINVAL, nullptr, 0},
      {"p5:x do_unlinkat", rt::kEINVAL, "Maxactive is only for function exit", 1},
      {"r0:x do_unlinkat", rt::kEINVAL, "Invalid maxactive number", 1},
      {"r5000:x do_unlinkat", rt::kEINVAL, "Maxactive is too big", 1},
      {"r:x do_unlinkat+4", rt::kEINVAL, "Retprobe address must be an function entry", 4},
      {"p:x do_unlinkat+zz", rt::kEINVAL, "Invalid probed address or symbol", 4},
      {"p:x kretprobe_shim", rt::kEINVAL, "Failed to register probe event", 4},
      {"p:/x do_unlinkat", rt::kEINVAL, "Group name is not specified", 2},
      {"p:1g/x do_unlinkat", rt::kEINVAL, "Group name must follow the same rules as C identifiers",
       2},
      {"p:g/ do_unlinkat", rt::kEINVAL, "Event name is not specified", 4},
      {"p:a-b do_unlinkat", rt::kEINVAL, "Event name must follow the same rules as C identifiers",
       2},
      {"p:grp:ev do_unlinkat", rt::kEINVAL,
       "Event name must follow the same rules as C identifiers", 2},
      {"p:x do_unlinkat %zz", rt::kEINVAL, "Invalid register name", 16},
      {"p:x do_unlinkat a=$retval", rt::kEINVAL, "$retval is not available on probe", 18},
      {"p:x do_unlinkat $foo", rt::kEINVAL, "Invalid $-valiable specified", 16},
      {"p:x do_unlinkat $arg0", rt::kEINVAL, "Invalid argument number", 16},
      {"p:x do_unlinkat+8 $arg1", rt::kEINVAL, "$arg* can be used only on function entry or exit",
       18},
      {"p:x do_unlinkat $stackx", rt::kEINVAL, "Invalid stack number", 16},
      {"p:x do_unlinkat 1a=%di", rt::kEINVAL,
       "Argument name must follow the same rules as C identifiers", 16},
      {"p:x do_unlinkat =%di", rt::kEINVAL, "Argument name is not specified", 16},
      {"p:x do_unlinkat a=", rt::kEINVAL, "No argument expression", 18},
      {"p:x do_unlinkat a=%di a=%si", rt::kEINVAL, "This argument name is already used", 22},
      {"p:x do_unlinkat __probe_ip=%di", rt::kEINVAL, "This argument name is already used", 16},
      {"p:x do_unlinkat a=%di:u128", rt::kEINVAL, "Unknown type is specified", 22},
      {"p:x do_unlinkat a=%di:string", rt::kEINVAL, "String accepts only memory argument", 22},
      {"p:x do_unlinkat +0%di", rt::kEINVAL, "Dereference needs a brace", 16},
      {"p:x do_unlinkat +z(%di)", rt::kEINVAL, "Invalid dereference offset", 16},
      {"p:x do_unlinkat +0(%di", rt::kEINVAL, "Dereference brace is not closed", 22},
      {"p:x do_unlinkat +0(%zz)", rt::kEINVAL, "Invalid register name", 19},
      {"p:x do_unlinkat +0($comm)", rt::kEINVAL, "$comm can not be dereferenced", 19},
      {"p:x do_unlinkat @+8", rt::kEINVAL, "File offset is not available with kprobe", 16},
      {"p:x do_unlinkat @0xzz", rt::kEINVAL, "Invalid memory address", 16},
      {"p:x do_unlinkat \\\"abc", rt::kEINVAL, "String is not closed with '\"'", 16},
      {"p:x do_unlinkat \\zz", rt::kEINVAL, "Invalid immediate value", 16},
      {"p:x do_unlinkat abc", rt::kEINVAL, "Invalid fetch argument", 16},
      {"p:x do_unlinkat a=+0(+0(+0(+0(+0(+0(+0(+0(+0(%si)))))))))", rt::kEINVAL,
       "Dereference is too much nested", 42},
      {"p:sys_enter_mkdir do_unlinkat", rt::kENOENT, nullptr, 0},
      {"p:syscalls/sys_enter_mkdir do_unlinkat", rt::kEEXIST,
       "Given group/event name is already used by another event", 0},
      {"-:nosuch", rt::kENOENT, nullptr, 0},
      {"-:", rt::kEINVAL, nullptr, 0},
      {"-x", rt::kEINVAL, nullptr, 0},
  };
  for (const Case& c : cases) {
    errors.clear();
    std::string command = c.command;
    if (command == "p:sys_enter_mkdir do_unlinkat") {
      // A free name in the kprobes group: only the symbol decides (it exists), so make it fail
      // through a missing symbol instead.
      command = "p:sys_enter_mkdir missing_function";
    }
    EXPECT_EQ(write(kprobes, command + "\n"), c.code) << command;
    if (c.message == nullptr) {
      if (c.code == rt::kENOENT && command[0] == 'p') continue;
      EXPECT_EQ(log(), "") << command;
      continue;
    }
    std::string expected = "[   44.123456] trace_kprobe: error: " + std::string(c.message) +
                           "\n  Command: " + command + "\n" + std::string(11 + c.column, ' ') +
                           "^\n";
    EXPECT_EQ(log(), expected) << command;
  }
  EXPECT_EQ(listing(kprobes), "");
  // The same name twice.
  EXPECT_EQ(write(kprobes, "p:dup do_unlinkat\n"), 0);
  EXPECT_EQ(write(kprobes, "p:dup do_sys_openat2\n"), rt::kEEXIST);
  EXPECT_EQ(write(kprobes, "r:dup do_sys_openat2\n"), rt::kEEXIST);
  EXPECT_NE(log().find("Probe type is different from existing probe"), std::string::npos);
  // The error log keeps the last 16.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(write(kprobes, "p:x do_unlinkat %zz\n"), rt::kEINVAL);
  EXPECT_EQ(errors.size(), ErrorLog::kMaxEntries);
}

TEST_F(ProbeEventsTest, Uprobes) {
  EXPECT_EQ(write(uprobes,
                  "p:myup /tmp/app:0x1234 a=%di x=@+16:u32 s=+0(%si):string\n"
                  "r /bin/bash:4245c0 ret=$retval\n"
                  "p /tmp/app:0x10(0x20)\n"),
            rt::kEINVAL);  // 4245c0 is no number
  EXPECT_EQ(write(uprobes,
                  "p:myup /tmp/app:0x1234 a=%di x=@+16:u32 s=+0(%si):string\n"
                  "r /bin/bash:0x4245c0 ret=$retval\n"
                  "p /tmp/app:0x10(0x20)\n",
                  true),
            0);
  EXPECT_EQ(listing(uprobes),
            "p:uprobes/myup /tmp/app:0x0000000000001234 a=%di x=@+16:u32 s=+0(%si):string\n"
            "r:uprobes/r_bash_0x4245c0 /bin/bash:0x00000000004245c0 ret=$retval\n"
            "p:uprobes/p_app_0x10 /tmp/app:0x0000000000000010(0x20)\n");
  std::string format;
  {
    TextBuffer out(allocator);
    EventRegistry::render_format(*registry.find("uprobes", "myup"), out);
    format = text_of(out);
  }
  EXPECT_NE(format.find("\tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;\tsigned:0;\n"
                        "\tfield:u64 a;\toffset:16;\tsize:8;\tsigned:0;\n"
                        "\tfield:u32 x;\toffset:24;\tsize:4;\tsigned:0;\n"
                        "\tfield:__data_loc char[] s;\toffset:28;\tsize:4;\tsigned:1;\n"),
            std::string::npos)
      << format;
  errors.clear();
  EXPECT_EQ(write(uprobes, "p /nonexistent:0x10\n"), rt::kENOENT);
  EXPECT_EQ(write(uprobes, "p /tmp:0x10\n"), rt::kEINVAL);
  EXPECT_EQ(write(uprobes, "p /tmp/app\n"), rt::kEINVAL);
  EXPECT_EQ(write(uprobes, "p:x /tmp/app:0x10 $arg1\n"), rt::kEINVAL);
  EXPECT_EQ(write(uprobes, "p:x /tmp/app:0x10 @sym\n"), rt::kEINVAL);
  EXPECT_EQ(log(),
            "[   44.123456] trace_uprobe: error: Failed to find the given file\n"
            "  Command: p /nonexistent:0x10\n"
            "             ^\n"
            "[   44.123456] trace_uprobe: error: Not a regular file\n"
            "  Command: p /tmp:0x10\n"
            "             ^\n"
            "[   44.123456] trace_uprobe: error: Invalid uprobe offset\n"
            "  Command: p /tmp/app\n"
            "             ^\n"
            "[   44.123456] trace_uprobe: error: Invalid $-valiable specified\n"
            "  Command: p:x /tmp/app:0x10 $arg1\n"
            "                             ^\n"
            "[   44.123456] trace_uprobe: error: Symbol is not available with uprobe\n"
            "  Command: p:x /tmp/app:0x10 @sym\n"
            "                             ^\n");
}

TEST(ProbeEventsAllocationTest, NothingLeaks) {
  for (size_t budget = 0; budget < 60000; budget += 1500) {
    MallocAllocator allocator(budget);
    {
      class Targets final : public ProbeTargets {
       public:
        bool kernel_symbol_exists(const char*, size_t) override { return true; }
        int user_file_status(const char*, size_t) override { return 0; }
      } targets;
      EventRegistry registry(allocator);
      ErrorLog errors(allocator);
      ProbeEvents probes(registry, targets, errors, false);
      const char text[] =
          "p:a f x=%di y=+0(%si):string\nr:b f $retval\np c\np:d f %zz\n-:a\np:e f $comm";
      (void)probes.write(text, sizeof(text) - 1, true, 0);
    }
    EXPECT_EQ(allocator.in_use(), 0u) << budget;
  }
}

}  // namespace
}  // namespace trace::testing
