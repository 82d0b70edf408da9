// SPDX-License-Identifier: MIT
// Tracefs: the recorded Linux 6.1 shell session replayed through the facade, file by file,
// with the session's programs (mkdir, mkdirat, rm, unlink) simulated as the events they fire.
#include "trace/tracefs.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tracefs_test_support.hpp"

namespace trace::testing {
namespace {

using test_support::MallocAllocator;

constexpr uint64_t kDoUnlinkat = 0xffffffff8877dd60;
constexpr uint64_t kUnlinkReturn = 0xffffffff8877e0be;

class SessionTargets final : public ProbeTargets {
 public:
  bool kernel_symbol_exists(const char* name, size_t length) override {
    return std::string(name, length) == "do_unlinkat";
  }
  int user_file_status(const char* path, size_t length) override {
    return std::string(path, length) == "/bin/busybox" ? 0 : rt::kENOENT;
  }
  bool symbolize(uint64_t address, bool with_offset, TextBuffer& out) override {
    if (address == kDoUnlinkat) {
      out.append(with_offset ? "do_unlinkat+0x0/0x320" : "do_unlinkat");
      return true;
    }
    if (address == kUnlinkReturn) {
      out.append(with_offset ? "__x64_sys_unlink+0x3e/0x70" : "__x64_sys_unlink");
      return true;
    }
    return false;
  }
  void list_traceable_functions(TextBuffer& out) override { out.append("do_unlinkat\nvfs_read\n"); }
};

int errno_of(const std::string& message) {
  static const std::map<std::string, int> errnos = {{"Invalid argument", rt::kEINVAL},
                                                    {"No such file or directory", rt::kENOENT},
                                                    {"Device or resource busy", rt::kEBUSY}};
  auto found = errnos.find(message);
  return found == errnos.end() ? -1 : found->second;
}

// The line text after the timestamp, with pathname pointers masked (they are the programs'
// stack addresses, not something the trace server decides).
std::string event_texts(const std::string& trace) {
  std::istringstream lines(trace);
  std::string line, result;
  std::regex pointer("pathname: [0-9a-f]+");
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') {
      result += line + "\n";
      continue;
    }
    size_t text = line.find(": ", 40);
    result += std::regex_replace(line.substr(text + 2), pointer, "pathname: P") + "\n";
  }
  return result;
}

class TracefsSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tracefs.init().ok());
    // The recording ran after a bpf_trace_printk program had loaded, which enables its event.
    tracefs.enable_printk_event();
  }

  std::string cat(const std::string& path, int* code = nullptr) {
    std::string result;
    for (uint64_t offset = 0;;) {
      TextBuffer out(allocator);
      rt::Result<TracefsRead> read =
          tracefs.read(path.data(), path.size(), offset, 100, false, out);
      if (!read.ok()) {
        if (code != nullptr) *code = read.error().code;
        return result;
      }
      if (read.value().end_of_file) break;
      result += text_of(out);
      offset += out.size();
    }
    if (code != nullptr) *code = 0;
    return result;
  }
  int echo(const std::string& path, const std::string& data, bool append) {
    rt::Result<uint32_t> written =
        tracefs.write(path.data(), path.size(), 0, data.data(), data.size(), append);
    if (!written.ok()) return written.error().code;
    EXPECT_EQ(written.value(), data.size());
    return 0;
  }

  void fire(const char* system, const char* name, const std::vector<uint8_t>& record,
            const char* comm, int pid) {
    Event* event = tracefs.events().find(system, name);
    ASSERT_NE(event, nullptr);
    std::vector<uint8_t> copy = record;
    uint16_t type = static_cast<uint16_t>(event->id);
    std::memcpy(&copy[0], &type, 2);
    std::memcpy(&copy[4], &pid, 4);
    tracefs.record_event(*event, context(comm, pid, ++clock_ns, 0, 1), copy.data(), copy.size());
  }
  static void put(std::vector<uint8_t>& record, size_t offset, uint64_t value, size_t size) {
    if (record.size() < offset + size) record.resize(offset + size);
    std::memcpy(&record[offset], &value, size);
  }
  void mkdirat(uint64_t mode, int pid) {
    std::vector<uint8_t> record(40, 0);
    put(record, 8, 258, 4);
    put(record, 16, 0xffffff9c, 8);
    put(record, 24, 0x7fffca5e0f79, 8);
    put(record, 32, mode, 8);
    fire("syscalls", "sys_enter_mkdirat", record, "mkdirat", pid);
  }
  void mkdir(int pid) {
    std::vector<uint8_t> record(32, 0);
    put(record, 8, 83, 4);
    put(record, 16, 0x52eed00, 8);
    put(record, 24, 0777, 8);
    fire("syscalls", "sys_enter_mkdir", record, "mkdir", pid);
  }
  // do_unlinkat's three probes, as the session's rm and unlink fire them.
  void unlink(const std::string& path, bool exists, const char* comm, int pid) {
    std::vector<uint8_t> str(24, 0);
    put(str, 8, kDoUnlinkat, 8);
    put(str, 16, static_cast<uint32_t>(-100), 4);
    put(str, 20, 24 | (path.size() + 1) << 16, 4);
    str.insert(str.end(), path.begin(), path.end());
    str.push_back(0);
    fire("kprobes", "mystrprobe", str, comm, pid);
    std::vector<uint8_t> entry(24, 0);
    put(entry, 8, kDoUnlinkat, 8);
    put(entry, 16, 0xffffff9c, 8);
    fire("kprobes", "myprobe", entry, comm, pid);
    std::vector<uint8_t> exit(32, 0);
    put(exit, 8, kDoUnlinkat, 8);
    put(exit, 16, kUnlinkReturn, 8);
    put(exit, 24, exists ? 0 : 0xfffffffe, 8);
    fire("kprobes", "myretprobe", exit, comm, pid);
  }

  MallocAllocator allocator;
  SessionTargets targets;
  Tracefs tracefs{allocator, targets};
  uint64_t clock_ns = 40000000000;
};

TEST_F(TracefsSessionTest, RecordedSession) {
  std::string session = reference_file("tracefs.txt");
  if (session.empty()) GTEST_SKIP() << "no Linux 6.1 reference data";
  std::vector<std::string> lines;
  std::vector<size_t> starts;  // where each line starts in the session
  {
    std::istringstream stream(session);
    size_t at = 0;
    for (std::string line; std::getline(stream, line); at += line.size() + 1) {
      lines.push_back(line);
      starts.push_back(at);
    }
  }
  std::regex echo_quoted("^\\$ echo '(.*)' (>>?) (\\S+)$");
  std::regex echo_plain("^\\$ echo ?(\\S*) (>>?) (\\S+)$");
  std::regex mkdirat_command("^\\$ mkdirat \\S+ (\\d+)$");
  int pid = 1000;
  int compared = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.rfind("$ ", 0) != 0) continue;
    std::string output;
    for (size_t j = i + 1; j < lines.size() && lines[j].rfind("$ ", 0) != 0; ++j) {
      output += lines[j] + "\n";
    }
    std::string expected = reference_output(session.substr(starts[i]), line.substr(2));
    std::smatch match;
    bool quoted = std::regex_match(line, match, echo_quoted);
    if ((quoted || std::regex_match(line, match, echo_plain)) &&
        match[3].str().find("/tmp/") == std::string::npos) {
      std::string data = match[1].str() + "\n";
      int code = echo(match[3].str(), data, match[2].str() == ">>");
      int wanted = 0;
      if (output.rfind("sh: write error: ", 0) == 0)
        wanted = errno_of(output.substr(17, output.find('\n') - 17));
      EXPECT_EQ(code, wanted) << line;
      ++compared;
    } else if (line.rfind("$ cat ", 0) == 0 && line.find("/sys/") == std::string::npos &&
               line.find("kprobe_profile") == std::string::npos) {
      std::string path = line.substr(6);
      std::string got = cat(path);
      if (path == "trace") {
        EXPECT_EQ(event_texts(got), event_texts(expected)) << line;
      } else {
        EXPECT_EQ(got, expected) << line;
      }
      ++compared;
    } else if (std::regex_match(line, match, mkdirat_command)) {
      mkdirat(std::stoul(match[1].str(), nullptr, 8), ++pid);
    } else if (line.rfind("$ mkdir ", 0) == 0) {
      mkdir(++pid);
    } else if (line.rfind("$ sh -c 'echo common_pid == $$", 0) == 0) {
      // The shell sets a filter on its own pid, prints it, and execs mkdirat.
      EXPECT_EQ(echo("events/syscalls/sys_enter_mkdirat/filter", "common_pid == 370\n", false), 0);
      EXPECT_EQ(cat("events/syscalls/sys_enter_mkdirat/filter"), expected);
      mkdirat(0755, 370);
    } else if (line.rfind("$ rm ", 0) == 0 || line.rfind("$ unlink ", 0) == 0) {
      std::istringstream words(line.substr(2));
      std::string program, path;
      words >> program;
      while (words >> path) unlink(path, path != "/tmp/kp_missing", program.c_str(), ++pid);
    } else if (line.find("; rm /tmp/kp_keep /tmp/kp_other") != std::string::npos) {
      unlink("/tmp/kp_keep", true, "rm", ++pid);
      unlink("/tmp/kp_other", true, "rm", pid);
    } else if (line == "$ ls events/kprobes") {
      TextBuffer out(allocator);
      rt::Result<void> listed = tracefs.list("events/kprobes", 14, out);
      if (output.rfind("ls: ", 0) == 0) {
        EXPECT_EQ(listed.error().code, rt::kENOENT);
      } else {
        ASSERT_TRUE(listed.ok());
        std::istringstream expected_names(output), names(text_of(out));
        std::set<std::string> want, have;
        for (std::string name; expected_names >> name;) want.insert(name);
        for (std::string name; names >> name;) have.insert(name);
        EXPECT_EQ(have, want);
      }
      ++compared;
    } else if (line == "$ grep mkdir available_events") {
      std::istringstream available(cat("available_events"));
      std::string got;
      for (std::string name; std::getline(available, name);) {
        if (name.find("mkdir") != std::string::npos) got += name + "\n";
      }
      EXPECT_EQ(got, expected.substr(expected.find('\n') + 1));  // no cgroup events here
      ++compared;
    }
  }
  EXPECT_GE(compared, 70);
}

TEST_F(TracefsSessionTest, PipeReadsConsumeAndBlock) {
  TextBuffer out(allocator);
  EXPECT_EQ(tracefs.read("trace_pipe", 10, 0, 4096, false, out).error().code, rt::kEAGAIN);
  rt::Result<TracefsRead> blocked = tracefs.read("trace_pipe", 10, 0, 4096, true, out);
  ASSERT_TRUE(blocked.ok());
  EXPECT_TRUE(blocked.value().would_block);
  EXPECT_TRUE(tracefs.record_printk(context("rm", 114, 2985335000, 0, 0x12), "hello\n", 6));
  rt::Result<TracefsRead> read = tracefs.read("/trace_pipe", 11, 0, 4096, true, out);
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read.value().would_block);
  EXPECT_EQ(text_of(out),
            "              rm-114     [000] ...21     2.985335: bpf_trace_printk: hello\n\n");
  // Disabling the event stops bpf_trace_printk lines; tracing_on 0 stops all.
  EXPECT_EQ(echo("events/bpf_trace/bpf_trace_printk/enable", "0\n", false), 0);
  EXPECT_FALSE(tracefs.record_printk(context("rm", 114, 1), "x", 1));
  EXPECT_EQ(echo("events/bpf_trace/enable", "1\n", false), 0);
  EXPECT_EQ(echo("tracing_on", "0\n", false), 0);
  EXPECT_EQ(cat("tracing_on"), "0\n");
  EXPECT_FALSE(tracefs.record_printk(context("rm", 114, 1), "x", 1));
  EXPECT_EQ(echo("tracing_on", "1\n", false), 0);
  EXPECT_TRUE(tracefs.record_printk(context("rm", 114, 1), "x", 1));
  // trace keeps it, trace_pipe takes it, truncating trace clears.
  EXPECT_NE(cat("trace").find("bpf_trace_printk: x\n"), std::string::npos);
  EXPECT_NE(cat("trace_pipe").find("bpf_trace_printk: x\n"), std::string::npos);
  EXPECT_TRUE(tracefs.record_printk(context("rm", 114, 1), "y", 1));
  EXPECT_EQ(echo("trace", "\n", true), 0);  // >> does not clear
  EXPECT_NE(cat("trace").find("1/1"), std::string::npos);
  EXPECT_EQ(echo("trace", "", false), 0);
  EXPECT_NE(cat("trace").find("0/0"), std::string::npos);
}

TEST_F(TracefsSessionTest, FilesAndErrors) {
  EXPECT_EQ(cat("buffer_size_kb"), "1408\n");
  EXPECT_EQ(echo("buffer_size_kb", "64\n", false), 0);
  EXPECT_EQ(cat("buffer_size_kb"), "64\n");
  EXPECT_EQ(cat("buffer_total_size_kb"), "64\n");
  EXPECT_EQ(echo("buffer_size_kb", "0\n", false), rt::kEINVAL);
  EXPECT_EQ(echo("buffer_size_kb", "x\n", false), rt::kEINVAL);
  EXPECT_EQ(cat("current_tracer"), "nop\n");
  EXPECT_EQ(echo("current_tracer", "function\n", false), rt::kEINVAL);
  EXPECT_EQ(cat("events/enable"), "X\n");
  EXPECT_EQ(echo("events/enable", "2\n", false), rt::kEINVAL);
  EXPECT_EQ(echo("events/enable", "1\n", false), 0);
  EXPECT_EQ(cat("events/enable"), "1\n");
  EXPECT_EQ(cat("events/syscalls/enable"), "1\n");
  EXPECT_EQ(echo("events/syscalls/enable", "0\n", false), 0);
  EXPECT_EQ(cat("events/enable"), "X\n");
  EXPECT_EQ(cat("events/syscalls/filter").rfind("### global filter ###\n", 0), 0u);
  EXPECT_EQ(echo("events/syscalls/filter", "ret == 0\n", false), 0);
  EXPECT_EQ(cat("events/syscalls/sys_exit_openat/filter"), "ret == 0\n");
  EXPECT_EQ(echo("events/syscalls/filter", "nosuchfield == 0\n", false), rt::kEINVAL);
  int code;
  cat("nosuch", &code);
  EXPECT_EQ(code, rt::kENOENT);
  cat("events", &code);
  EXPECT_EQ(code, rt::kEISDIR);
  cat("events/syscalls/sys_enter_nosuch/id", &code);
  EXPECT_EQ(code, rt::kENOENT);
  cat("events/syscalls/sys_enter_openat", &code);
  EXPECT_EQ(code, rt::kEISDIR);
  EXPECT_EQ(echo("available_events", "x\n", false), rt::kEINVAL);
  // The functions the probe targets list, as they list them; read-only as available_events.
  EXPECT_EQ(cat("available_filter_functions"), "do_unlinkat\nvfs_read\n");
  EXPECT_EQ(echo("available_filter_functions", "x\n", false), rt::kEINVAL);
  EXPECT_EQ(echo("events/syscalls/sys_enter_openat/id", "1\n", false), rt::kEINVAL);
  EXPECT_EQ(echo("nosuch", "1\n", false), rt::kENOENT);
  // Offsets: a read continues where the last one stopped.
  TextBuffer out(allocator);
  ASSERT_TRUE(tracefs.read("events/syscalls/sys_enter_openat/id", 35, 1, 10, false, out).ok());
  EXPECT_EQ(text_of(out), cat("events/syscalls/sys_enter_openat/id").substr(1));
  rt::Result<TracefsRead> end = tracefs.read("tracing_on", 10, 2, 10, false, out);
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end.value().end_of_file);
  // error_log through the facade.
  tracefs.set_time(5000000);
  EXPECT_EQ(echo("kprobe_events", "p:x do_unlinkat %zz\n", true), rt::kEINVAL);
  EXPECT_EQ(cat("error_log"),
            "[    0.005000] trace_kprobe: error: Invalid register name\n"
            "  Command: p:x do_unlinkat %zz\n"
            "                           ^\n");
  EXPECT_EQ(echo("error_log", "", false), 0);
  EXPECT_EQ(cat("error_log"), "");
  // perf record's header files: Linux 6.1's layouts, read-only; events/ftrace is there, empty.
  EXPECT_EQ(cat("events/header_page").rfind("\tfield: u64 timestamp;\toffset:0;\tsize:8;", 0), 0u);
  EXPECT_NE(cat("events/header_event").find("\tdata max type_len  == 28\n"), std::string::npos);
  EXPECT_EQ(echo("events/header_page", "x\n", false), rt::kEINVAL);
  EXPECT_EQ(echo("events/header_event", "x\n", false), rt::kEINVAL);
  EXPECT_EQ(echo("events/ftrace", "x\n", false), rt::kEISDIR);
  code = 0;
  cat("events/ftrace", &code);
  EXPECT_EQ(code, rt::kEISDIR);
  cat("events/ftrace/function/format", &code);
  EXPECT_EQ(code, rt::kENOENT);
  // Directory listings.
  TextBuffer names(allocator);
  ASSERT_TRUE(tracefs.list("events/ftrace", 13, names).ok());
  EXPECT_EQ(text_of(names), "");
  ASSERT_TRUE(tracefs.list("events", 6, names).ok());
  EXPECT_EQ(text_of(names).rfind("enable\nheader_event\nheader_page\nftrace\n", 0), 0u);
  names.clear();
  ASSERT_TRUE(tracefs.list("events/syscalls/sys_enter_openat", 32, names).ok());
  EXPECT_EQ(text_of(names), "enable\nfilter\nformat\nid\n");
  EXPECT_EQ(tracefs.list("trace", 5, names).error().code, rt::kENOTDIR);
  EXPECT_EQ(tracefs.list("events/nosuch", 13, names).error().code, rt::kENOENT);
  EXPECT_EQ(tracefs.list("trace_pipe", 10, names).error().code, rt::kENOTDIR);
  EXPECT_EQ(tracefs.list("events/enable", 13, names).error().code, rt::kENOTDIR);
  EXPECT_EQ(tracefs.list("events/syscalls/filter", 22, names).error().code, rt::kENOTDIR);
  // Files and directories by path, without rendering them.
  auto kind = [&](const char* path) {
    auto directory = tracefs.is_directory(path, std::strlen(path));
    return directory.ok() ? (directory.value() ? "directory" : "file") : "missing";
  };
  EXPECT_STREQ(kind(""), "directory");
  EXPECT_STREQ(kind("/events"), "directory");
  EXPECT_STREQ(kind("trace_pipe"), "file");
  EXPECT_STREQ(kind("events/enable"), "file");
  EXPECT_STREQ(kind("events/syscalls"), "directory");
  EXPECT_STREQ(kind("events/syscalls/filter"), "file");
  EXPECT_STREQ(kind("events/syscalls/sys_enter_openat"), "directory");
  EXPECT_STREQ(kind("events/syscalls/sys_enter_openat/format"), "file");
  EXPECT_STREQ(kind("events/syscalls/sys_enter_openat/hist"), "missing");
  EXPECT_STREQ(kind("events/nosuch"), "missing");
  EXPECT_STREQ(kind("nosuch"), "missing");
  EXPECT_STREQ(kind("trace/x"), "missing");
}

// trace_marker as Linux's tracing_mark_write: a line per write in the writer's name, the text's
// last newline the line's own, at most 1024 bytes taken a write, nothing for an empty one,
// EBADF while tracing is off; reading it is EINVAL.
TEST_F(TracefsSessionTest, TraceMarkerLines) {
  TraceContext writer;
  writer.timestamp_ns = 2067607000;
  writer.pid = 94;
  std::memcpy(writer.comm, "sh", 3);
  tracefs.set_writer(writer);
  EXPECT_EQ(echo("trace", "", false), 0);
  EXPECT_EQ(echo("trace_marker", "hello marker\n", false), 0);
  EXPECT_EQ(echo("trace_marker", "two\nlines", false), 0);
  EXPECT_EQ(echo("trace_marker", "", false), 0);
  std::string big(2000, 'a');
  rt::Result<uint32_t> taken = tracefs.write("trace_marker", 12, 0, big.data(), big.size(), false);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken.value(), 1024u);
  std::string trace = cat("trace");
  std::string lines = trace.substr(trace.find("\n              sh-94") + 1);
  EXPECT_EQ(lines.rfind("              sh-94      [000] .....     2.067607: tracing_mark_write: "
                        "hello marker\n"
                        "              sh-94      [000] .....     2.067607: tracing_mark_write: "
                        "two\nlines\n",
                        0),
            0u)
      << lines;
  EXPECT_NE(lines.find("tracing_mark_write: " + std::string(1024, 'a') + "\n"), std::string::npos);
  EXPECT_EQ(lines.find(std::string(1025, 'a')), std::string::npos);
  EXPECT_EQ(echo("tracing_on", "0\n", false), 0);
  EXPECT_EQ(echo("trace_marker", "off\n", false), rt::kEBADF);
  int code;
  cat("trace_marker", &code);
  EXPECT_EQ(code, rt::kEINVAL);
}

// kprobe_profile and uprobe_profile: a line per definition with its hits (and, for kprobes,
// misses), in Linux's columns.
TEST_F(TracefsSessionTest, ProbeProfiles) {
  EXPECT_EQ(echo("kprobe_events", "p:myprobe do_unlinkat\nr:myret do_unlinkat\n", false), 0);
  EXPECT_EQ(cat("kprobe_profile"),
            "  myprobe                                                    0               0\n"
            "  myret                                                      0               0\n");
  Event* event = tracefs.events().find("kprobes", "myprobe");
  ASSERT_NE(event, nullptr);
  static_cast<ProbeDefinition*>(event->probe)->hits = 12;
  EXPECT_EQ(cat("kprobe_profile").substr(0, 79),
            "  myprobe                                                   12               0\n");
  EXPECT_EQ(echo("uprobe_events", "p:bb /bin/busybox:0x1000\n", false), 0);
  EXPECT_EQ(cat("uprobe_profile"),
            "  /bin/busybox bb                                                         0\n");
  EXPECT_EQ(echo("kprobe_profile", "1\n", false), rt::kEINVAL);
}

// set_event_pid: the list as Linux keeps it (ascending, base-0 numbers, '>' empties it even
// when the write fails, a bad token adds nothing), and only the listed tasks' events are kept.
TEST_F(TracefsSessionTest, SetEventPidKeepsTheListedTasks) {
  EXPECT_EQ(cat("set_event_pid"), "");
  EXPECT_EQ(echo("set_event_pid", "5\n", false), 0);
  EXPECT_EQ(echo("set_event_pid", "3 9\n7\n0x10\n010\n5\n", true), 0);
  EXPECT_EQ(cat("set_event_pid"), "3\n5\n7\n8\n9\n16\n");
  EXPECT_EQ(echo("set_event_pid", "4 -1\n", true), rt::kEINVAL);
  EXPECT_EQ(echo("set_event_pid", "4 2147483648\n", true), rt::kEINVAL);
  EXPECT_EQ(cat("set_event_pid"), "3\n5\n7\n8\n9\n16\n");
  EXPECT_EQ(echo("set_event_pid", "abc\n", false), rt::kEINVAL);
  EXPECT_EQ(cat("set_event_pid"), "");
  EXPECT_EQ(echo("set_event_pid", "42\n", false), 0);
  EXPECT_EQ(echo("events/syscalls/sys_enter_openat/enable", "1\n", false), 0);
  EXPECT_EQ(echo("trace", "", false), 0);
  std::vector<uint8_t> openat(56, 0);
  fire("syscalls", "sys_enter_openat", openat, "cat", 41);
  fire("syscalls", "sys_enter_openat", openat, "cat", 42);
  std::string trace = cat("trace");
  EXPECT_EQ(trace.find("cat-41"), std::string::npos) << trace;
  EXPECT_NE(trace.find("cat-42"), std::string::npos) << trace;
  // A switch is kept when the listed task is its prev or its next, whoever runs the event.
  EXPECT_EQ(echo("events/sched/sched_switch/enable", "1\n", false), 0);
  Event* sched_switch = tracefs.events().find("sched", "sched_switch");
  ASSERT_NE(sched_switch, nullptr);
  auto switch_record = [&](int prev, int next) {
    std::vector<uint8_t> record(64, 0);
    for (size_t i = 0; i < sched_switch->fields.size(); ++i) {
      const EventField& field = sched_switch->fields[i];
      if (std::strcmp(field.name, "prev_pid") == 0) put(record, field.offset, prev, 4);
      if (std::strcmp(field.name, "next_pid") == 0) put(record, field.offset, next, 4);
    }
    return record;
  };
  EXPECT_EQ(echo("trace", "", false), 0);
  fire("sched", "sched_switch", switch_record(41, 42), "sh", 41);
  fire("sched", "sched_switch", switch_record(41, 43), "sh", 41);
  fire("sched", "sched_switch", switch_record(42, 0), "cat", 42);
  trace = cat("trace");
  EXPECT_NE(trace.find("prev_pid=41 prev_prio=0 prev_state=R ==> next_comm= next_pid=42"),
            std::string::npos)
      << trace;
  EXPECT_EQ(trace.find("next_pid=43"), std::string::npos) << trace;
  EXPECT_NE(trace.find("prev_pid=42"), std::string::npos) << trace;
  EXPECT_EQ(echo("set_event_pid", "", false), 0);
  fire("syscalls", "sys_enter_openat", openat, "cat", 41);
  EXPECT_NE(cat("trace").find("cat-41"), std::string::npos);
}

// dynamic_events: both kinds of probe in the order they were made, each to its own parser.
TEST_F(TracefsSessionTest, DynamicEventsListAndDefineBothKinds) {
  EXPECT_EQ(echo("kprobe_events", "p:k1 do_unlinkat\n", false), 0);
  EXPECT_EQ(echo("uprobe_events", "p:u1 /bin/busybox:0x10\n", false), 0);
  EXPECT_EQ(echo("dynamic_events", "r:grp/k2 do_unlinkat\np:u2 /bin/busybox:0x20\n", true), 0);
  EXPECT_EQ(cat("dynamic_events"),
            "p:kprobes/k1 do_unlinkat\n"
            "p:uprobes/u1 /bin/busybox:0x0000000000000010\n"
            "r10:grp/k2 do_unlinkat\n"
            "p:uprobes/u2 /bin/busybox:0x0000000000000020\n");
  EXPECT_EQ(cat("kprobe_events"), "p:kprobes/k1 do_unlinkat\nr10:grp/k2 do_unlinkat\n");
  EXPECT_EQ(echo("dynamic_events", "-:u1\n-:grp/k2\n", true), 0);
  EXPECT_EQ(echo("dynamic_events", "-:nosuch\n", true), rt::kENOENT);
  EXPECT_EQ(echo("dynamic_events", "x:bad do_unlinkat\n", true), rt::kEINVAL);
  EXPECT_EQ(cat("dynamic_events"),
            "p:kprobes/k1 do_unlinkat\np:uprobes/u2 /bin/busybox:0x0000000000000020\n");
  EXPECT_EQ(echo("events/kprobes/k1/enable", "1\n", false), 0);
  EXPECT_EQ(echo("dynamic_events", "\n", false), rt::kEBUSY);
  EXPECT_NE(cat("dynamic_events"), "");
  EXPECT_EQ(echo("events/kprobes/k1/enable", "0\n", false), 0);
  EXPECT_EQ(echo("dynamic_events", "\n", false), 0);
  EXPECT_EQ(cat("dynamic_events") + cat("kprobe_events") + cat("uprobe_events"), "");
}

// trace_clock: Linux's list with the choice in brackets; a choice empties the buffer; the clocks
// that count something else than nanoseconds since boot are refused.
TEST_F(TracefsSessionTest, TraceClockChoices) {
  EXPECT_EQ(cat("trace_clock"),
            "local [global] counter uptime perf mono mono_raw boot tai x86-tsc\n");
  TraceContext writer;
  tracefs.set_writer(writer);
  EXPECT_EQ(echo("trace_marker", "kept?\n", false), 0);
  EXPECT_EQ(echo("trace_clock", " mono\n", false), 0);
  EXPECT_EQ(cat("trace_clock"),
            "local global counter uptime perf [mono] mono_raw boot tai x86-tsc\n");
  EXPECT_EQ(cat("trace").find("kept?"), std::string::npos);
  for (const char* refused : {"counter\n", "uptime\n", "tai\n", "x86-tsc\n", "nosuch\n", "\n"}) {
    EXPECT_EQ(echo("trace_clock", refused, false), rt::kEINVAL) << refused;
  }
  EXPECT_EQ(cat("trace_clock"),
            "local global counter uptime perf [mono] mono_raw boot tai x86-tsc\n");
}

TEST_F(TracefsSessionTest, EventSwitchSeesEnables) {
  class Switch final : public EventSwitch {
   public:
    rt::Result<void> event_enabled(Event& event, bool enabled) override {
      if (std::strcmp(event.name, "sys_enter_close") == 0) return rt::err(rt::kENODEV);
      calls.push_back(std::string(event.name) + (enabled ? "+" : "-"));
      return {};
    }
    std::vector<std::string> calls;
  } events;
  tracefs.set_switch(&events);
  EXPECT_EQ(echo("events/syscalls/sys_enter_openat/enable", "1\n", false), 0);
  EXPECT_EQ(echo("events/syscalls/sys_enter_openat/enable", "1\n", false), 0);
  EXPECT_EQ(echo("events/syscalls/sys_enter_close/enable", "1\n", false), rt::kENODEV);
  EXPECT_EQ(cat("events/syscalls/sys_enter_close/enable"), "0\n");
  EXPECT_EQ(events.calls, std::vector<std::string>{"sys_enter_openat+"});
}

TEST(TracefsAllocationTest, EverythingIsGivenBack) {
  MallocAllocator allocator;
  {
    SessionTargets targets;
    Tracefs tracefs(allocator, targets);
    ASSERT_TRUE(tracefs.init().ok());
    const char probe[] = "p:kp do_unlinkat a=%di s=+0(%si):string\n";
    ASSERT_TRUE(tracefs.write("kprobe_events", 13, 0, probe, sizeof(probe) - 1, false).ok());
    ASSERT_TRUE(tracefs.write("events/kprobes/kp/filter", 24, 0, "a == 1", 6, false).ok());
    tracefs.enable_printk_event();
    EXPECT_TRUE(tracefs.record_printk(context("a", 1, 1), "hello", 5));
    TextBuffer out(allocator);
    ASSERT_TRUE(tracefs.read("trace", 5, 0, 100, false, out).ok());
  }
  EXPECT_EQ(allocator.in_use(), 0u);
}

}  // namespace
}  // namespace trace::testing
