// SPDX-License-Identifier: MIT
// The sched and signal tracepoints: format files as Linux 6.1 prints them, the records the
// trace server builds from a hook's values, their lines in trace, and filters on their fields.
#include "trace/sched_events.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "trace/filter.hpp"
#include "trace/tracefs.hpp"
#include "tracefs_test_support.hpp"

namespace trace::testing {
namespace {

using test_support::MallocAllocator;

class NoTargets final : public ProbeTargets {
 public:
  bool kernel_symbol_exists(const char*, size_t) override { return false; }
  int user_file_status(const char*, size_t) override { return rt::kENOENT; }
  bool symbolize(uint64_t, bool, TextBuffer&) override { return false; }
};

constexpr const char* kCommon =
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n";

class SchedEventsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(tracefs.init().ok()); }

  std::string format(const char* system, const char* name) {
    Event* event = tracefs.events().find(system, name);
    if (event == nullptr) return "(no event)";
    TextBuffer out(allocator);
    EventRegistry::render_format(*event, out);
    return text_of(out);
  }
  std::string head(const char* name) {
    Event* event =
        tracefs.events().find(name[0] == 's' && name[1] == 'i' ? "signal" : "sched", name);
    return std::string("name: ") + name + "\nID: " + std::to_string(event->id) + "\n" + kCommon;
  }
  // The record of `which` for `values`, and the line text trace shows for it.
  std::string line(SchedEvent which, const SchedValues& values, std::vector<uint8_t>* bytes) {
    const SchedEventName& names = kSchedEvents[static_cast<size_t>(which)];
    Event* event = tracefs.events().find(names.system, names.name);
    EXPECT_NE(event, nullptr);
    uint8_t record[256];
    uint32_t size = build_sched_record(which, static_cast<uint16_t>(event->id), 42, values, record,
                                       sizeof record);
    EXPECT_GT(size, 0u);
    if (bytes != nullptr) bytes->assign(record, record + size);
    TextBuffer text(allocator);
    tracefs.render_event_text(*event, record, size, text);
    return text_of(text);
  }

  MallocAllocator allocator;
  NoTargets targets;
  Tracefs tracefs{allocator, targets};
};

TEST_F(SchedEventsTest, FormatFilesAreLinux61s) {
  EXPECT_EQ(format("sched", "sched_process_exec"),
            head("sched_process_exec") +
                "\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:1;\n"
                "\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n"
                "\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;\n\n"
                "print fmt: \"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, "
                "REC->old_pid\n");
  for (const char* name : {"sched_process_exit", "sched_process_free", "sched_process_wait"}) {
    EXPECT_EQ(format("sched", name), head(name) +
                                         "\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:1;\n"
                                         "\tfield:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;\n"
                                         "\tfield:int prio;\toffset:28;\tsize:4;\tsigned:1;\n\n"
                                         "print fmt: \"comm=%s pid=%d prio=%d\", REC->comm, "
                                         "REC->pid, REC->prio\n")
        << name;
  }
  EXPECT_EQ(format("sched", "sched_process_fork"),
            head("sched_process_fork") +
                "\tfield:char parent_comm[16];\toffset:8;\tsize:16;\tsigned:1;\n"
                "\tfield:pid_t parent_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
                "\tfield:char child_comm[16];\toffset:28;\tsize:16;\tsigned:1;\n"
                "\tfield:pid_t child_pid;\toffset:44;\tsize:4;\tsigned:1;\n\n"
                "print fmt: \"comm=%s pid=%d child_comm=%s child_pid=%d\", REC->parent_comm, "
                "REC->parent_pid, REC->child_comm, REC->child_pid\n");
  EXPECT_EQ(format("signal", "signal_generate"),
            head("signal_generate") +
                "\tfield:int sig;\toffset:8;\tsize:4;\tsigned:1;\n"
                "\tfield:int errno;\toffset:12;\tsize:4;\tsigned:1;\n"
                "\tfield:int code;\toffset:16;\tsize:4;\tsigned:1;\n"
                "\tfield:char comm[16];\toffset:20;\tsize:16;\tsigned:1;\n"
                "\tfield:pid_t pid;\toffset:36;\tsize:4;\tsigned:1;\n"
                "\tfield:int group;\toffset:40;\tsize:4;\tsigned:1;\n"
                "\tfield:int result;\toffset:44;\tsize:4;\tsigned:1;\n\n"
                "print fmt: \"sig=%d errno=%d code=%d comm=%s pid=%d grp=%d res=%d\", REC->sig, "
                "REC->errno, REC->code, REC->comm, REC->pid, REC->group, REC->result\n");
  // The record sizes programs' contexts are checked against.
  EXPECT_EQ(tracefs.events().find("sched", "sched_process_exit")->record_size(), 32u);
  EXPECT_EQ(tracefs.events().find("sched", "sched_process_fork")->record_size(), 48u);
  EXPECT_EQ(tracefs.events().find("signal", "signal_generate")->record_size(), 48u);
  EXPECT_EQ(tracefs.events().find("sched", "sched_process_exec")->record_size(), 20u);
}

TEST_F(SchedEventsTest, ExecRecordCarriesTheFilenameAfterItsFields) {
  SchedValues values;
  values.text[0] = "/bin/true";
  values.text_length[0] = 9;
  values.value[0] = 42;
  values.value[1] = 42;
  std::vector<uint8_t> record;
  EXPECT_EQ(line(SchedEvent::kExec, values, &record),
            "sched_process_exec: filename=/bin/true pid=42 old_pid=42");
  ASSERT_EQ(record.size(), 30u);  // 20 + "/bin/true" and its NUL
  uint32_t location;
  std::memcpy(&location, &record[8], 4);
  EXPECT_EQ(location, 20u | 10u << 16);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&record[20])), "/bin/true");
  uint16_t type;
  int32_t common_pid;
  std::memcpy(&type, &record[0], 2);
  std::memcpy(&common_pid, &record[4], 4);
  EXPECT_EQ(type, tracefs.events().find("sched", "sched_process_exec")->id);
  EXPECT_EQ(common_pid, 42);
  uint8_t small[24];
  EXPECT_EQ(build_sched_record(SchedEvent::kExec, 1, 1, values, small, sizeof small), 0u);
}

TEST_F(SchedEventsTest, TaskRecordsAndLines) {
  SchedValues exit;
  exit.text[0] = "true";
  exit.text_length[0] = 16;  // a comm buffer: up to its NUL
  exit.value[0] = 42;
  exit.value[1] = 120;
  std::vector<uint8_t> record;
  EXPECT_EQ(line(SchedEvent::kExit, exit, &record),
            "sched_process_exit: comm=true pid=42 prio=120");
  ASSERT_EQ(record.size(), 32u);
  for (size_t i = 8 + 4; i < 24; ++i) EXPECT_EQ(record[i], 0) << i;
  EXPECT_EQ(line(SchedEvent::kFree, exit, nullptr),
            "sched_process_free: comm=true pid=42 prio=120");
  EXPECT_EQ(line(SchedEvent::kWait, exit, nullptr),
            "sched_process_wait: comm=true pid=42 prio=120");

  SchedValues fork;
  fork.text[0] = "sh";
  fork.text_length[0] = 2;
  fork.value[0] = 1;
  fork.text[1] = "a-name-longer-than-15";
  fork.text_length[1] = 21;
  fork.value[1] = 43;
  EXPECT_EQ(line(SchedEvent::kFork, fork, &record),
            "sched_process_fork: comm=sh pid=1 child_comm=a-name-longer-t child_pid=43");
  EXPECT_EQ(record.size(), 48u);
  EXPECT_EQ(record[28 + 15], 0);

  SchedValues signal;
  signal.value[0] = 10;
  signal.value[1] = 0;
  signal.value[2] = 0;
  signal.text[0] = "sleep";
  signal.text_length[0] = 5;
  signal.value[3] = 43;
  signal.value[4] = 1;
  signal.value[5] = 0;
  EXPECT_EQ(line(SchedEvent::kSignalGenerate, signal, &record),
            "signal_generate: sig=10 errno=0 code=0 comm=sleep pid=43 grp=1 res=0");
  signal.value[2] = -6;  // SI_TKILL
  signal.value[5] = 1;   // ignored
  EXPECT_EQ(line(SchedEvent::kSignalGenerate, signal, nullptr),
            "signal_generate: sig=10 errno=0 code=-6 comm=sleep pid=43 grp=1 res=1");
}

// task:task_rename and exceptions:page_fault_user (ids, formats and lines as Linux 6.1's, which
// task_events compares in the guest): the records a hook's values make.
TEST_F(SchedEventsTest, RenameAndPageFaultRecordsAndLines) {
  EXPECT_EQ(tracefs.events().find("task", "task_rename")->id, 131u);
  EXPECT_EQ(tracefs.events().find("exceptions", "page_fault_user")->id, 118u);
  EXPECT_NE(format("task", "task_rename")
                .find("\tfield:short oom_score_adj;\toffset:44;\tsize:2;"
                      "\tsigned:1;\n"),
            std::string::npos);
  SchedValues rename;
  rename.value[0] = 97;
  rename.text[0] = "exe";
  rename.text_length[0] = 16;
  rename.text[1] = "cat";
  rename.text_length[1] = 3;
  rename.value[1] = -1000;
  std::vector<uint8_t> record;
  EXPECT_EQ(line(SchedEvent::kTaskRename, rename, &record),
            "task_rename: pid=97 oldcomm=exe newcomm=cat oom_score_adj=-1000");
  ASSERT_EQ(record.size(), 48u);
  EXPECT_EQ(record[3], 1) << "preempt count: under task_lock";
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(record.data() + 28)), "cat");

  SchedValues fault;
  fault.wide[0] = 0x5e9820;
  fault.wide[1] = 0x4614b9;
  fault.wide[2] = 0x14;
  EXPECT_EQ(line(SchedEvent::kPageFaultUser, fault, &record),
            "page_fault_user: address=0x5e9820 ip=0x4614b9 error_code=0x14");
  ASSERT_EQ(record.size(), 32u);
  EXPECT_EQ(record[2], 1) << "irqs off";
  uint64_t error_code = 0;
  std::memcpy(&error_code, record.data() + 24, 8);
  EXPECT_EQ(error_code, 0x14u);
}

// sched_stat_runtime and sched_migrate_task (the microkernel's, for perf sched): Linux 6.1's
// ids and lines.
TEST_F(SchedEventsTest, RuntimeAndMigrationRecordsAndLines) {
  EXPECT_EQ(tracefs.events().find("sched", "sched_stat_runtime")->id, 307u);
  EXPECT_EQ(tracefs.events().find("sched", "sched_migrate_task")->id, 318u);
  SchedValues runtime;
  runtime.text[0] = "sh";
  runtime.text_length[0] = 2;
  runtime.value[0] = 94;
  runtime.wide[0] = 975684;
  runtime.wide[1] = 874676817;
  std::vector<uint8_t> record;
  EXPECT_EQ(line(SchedEvent::kStatRuntime, runtime, &record),
            "sched_stat_runtime: comm=sh pid=94 runtime=975684 [ns] vruntime=874676817 [ns]");
  ASSERT_EQ(record.size(), 48u);
  uint64_t vruntime = 0;
  std::memcpy(&vruntime, record.data() + 40, 8);
  EXPECT_EQ(vruntime, 874676817u);
  SchedValues migrate;
  migrate.text[0] = "sh";
  migrate.text_length[0] = 2;
  migrate.value[0] = 94;
  migrate.value[1] = 120;
  migrate.value[2] = 1;
  migrate.value[3] = 0;
  EXPECT_EQ(line(SchedEvent::kMigrateTask, migrate, &record),
            "sched_migrate_task: comm=sh pid=94 prio=120 orig_cpu=1 dest_cpu=0");
  EXPECT_EQ(record.size(), 40u);
}

TEST_F(SchedEventsTest, SwitchAndWakeupRecordsAndLines) {
  SchedValues change;
  change.text[0] = "sh";
  change.text_length[0] = 2;
  change.value[0] = 9;
  change.value[1] = 120;
  change.text[1] = "swapper/1";
  change.text_length[1] = 9;
  change.value[2] = 0;
  change.value[3] = 120;
  struct Case {
    int64_t state;
    const char* shown;
  };
  // Linux's letters for the TASK_REPORT bits, several joined by "|", "R" for none and "+" for
  // TASK_REPORT_MAX (preempted).
  const Case cases[] = {{0, "R"},     {kSwitchPreempted, "R+"},
                        {0x1, "S"},   {0x2, "D"},
                        {0x4, "T"},   {0x20, "Z"},
                        {0x80, "I"},  {0x10, "X"},
                        {0x5, "S|T"}, {0x101, "S+"}};
  std::vector<uint8_t> record;
  for (const Case& c : cases) {
    change.state = c.state;
    EXPECT_EQ(line(SchedEvent::kSwitch, change, &record),
              std::string("sched_switch: prev_comm=sh prev_pid=9 prev_prio=120 prev_state=") +
                  c.shown + " ==> next_comm=swapper/1 next_pid=0 next_prio=120");
  }
  ASSERT_EQ(record.size(), 64u);
  int64_t state = 0;
  std::memcpy(&state, record.data() + 32, 8);
  EXPECT_EQ(state, 0x101);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(record.data() + 40)), "swapper/1");

  SchedValues wakeup;
  wakeup.text[0] = "sleep";
  wakeup.text_length[0] = 5;
  wakeup.value[0] = 12;
  wakeup.value[1] = 120;
  wakeup.value[2] = 1;
  EXPECT_EQ(line(SchedEvent::kWakeup, wakeup, &record),
            "sched_wakeup: comm=sleep pid=12 prio=120 target_cpu=001");
  EXPECT_EQ(record.size(), 36u);
  wakeup.value[2] = 12;
  EXPECT_EQ(line(SchedEvent::kWakeupNew, wakeup, nullptr),
            "sched_wakeup_new: comm=sleep pid=12 prio=120 target_cpu=012");
  EXPECT_EQ(line(SchedEvent::kWaking, wakeup, nullptr),
            "sched_waking: comm=sleep pid=12 prio=120 target_cpu=012");
}

TEST_F(SchedEventsTest, LinesInTraceAndFiltersOnOwnFields) {
  const char* enable = "1";
  ASSERT_TRUE(tracefs.write("events/signal/signal_generate/enable", 36, 0, enable, 1, false).ok());
  // The record's own comm (the target's), not the generic one (the sender's).
  const char* filter = "comm == \"sleep\" && sig == 10";
  ASSERT_TRUE(
      tracefs
          .write("events/signal/signal_generate/filter", 36, 0, filter, std::strlen(filter), false)
          .ok());
  Event* event = tracefs.events().find("signal", "signal_generate");
  auto fire = [&](const char* target, int sig) {
    SchedValues values;
    values.value[0] = sig;
    values.text[0] = target;
    values.text_length[0] = std::strlen(target);
    values.value[3] = 43;
    values.value[4] = 1;
    uint8_t record[64];
    uint32_t size =
        build_sched_record(SchedEvent::kSignalGenerate, static_cast<uint16_t>(event->id), 1, values,
                           record, sizeof record);
    tracefs.record_event(*event, context("sh", 1, 1000, 0, 1), record, size);
  };
  fire("sleep", 10);
  fire("sleep", 15);
  fire("cat", 10);
  TextBuffer out(allocator);
  ASSERT_TRUE(tracefs.read("trace", 5, 0, 1 << 20, false, out).ok());
  std::string trace = text_of(out);
  EXPECT_NE(trace.find(": signal_generate: sig=10 errno=0 code=0 comm=sleep pid=43 grp=1 res=0\n"),
            std::string::npos)
      << trace;
  EXPECT_EQ(trace.find("sig=15"), std::string::npos) << trace;
  EXPECT_EQ(trace.find("comm=cat"), std::string::npos) << trace;
  TextBuffer events(allocator);
  ASSERT_TRUE(tracefs.read("available_events", 16, 0, 1 << 20, false, events).ok());
  for (const SchedEventName& name : kSchedEvents) {
    EXPECT_NE(text_of(events).find(std::string(name.system) + ":" + name.name + "\n"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace trace::testing
