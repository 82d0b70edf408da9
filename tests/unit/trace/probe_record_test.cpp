// SPDX-License-Identifier: MIT
// build_probe_record: a kprobe event's fetch arguments over registers and traced memory,
// rendered as the event's line Linux prints.
#include "trace/probe_record.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>

#include "support/malloc_allocator.hpp"
#include "trace/tracefs.hpp"

namespace trace::testing {
namespace {

constexpr uint64_t kDoUnlinkat = 0xffffffff8877dd60;

class Targets final : public ProbeTargets {
 public:
  bool kernel_symbol_exists(const char* name, size_t length) override {
    return std::string(name, length) == "do_unlinkat";
  }
  int user_file_status(const char*, size_t) override { return rt::kENOENT; }
  bool symbolize(uint64_t address, bool with_offset, TextBuffer& out) override {
    if (address != kDoUnlinkat) return false;
    out.append(with_offset ? "do_unlinkat+0x0/0x320" : "do_unlinkat");
    return true;
  }
};

// Bytes at addresses; everything else faults.
class Memory final : public TracedMemory {
 public:
  bool read(void* destination, uint64_t address, size_t size) override {
    for (size_t i = 0; i < size; ++i) {
      auto found = bytes.find(address + i);
      if (found == bytes.end()) return false;
      static_cast<uint8_t*>(destination)[i] = found->second;
    }
    return true;
  }
  void put(uint64_t address, const void* data, size_t size) {
    for (size_t i = 0; i < size; ++i) bytes[address + i] = static_cast<const uint8_t*>(data)[i];
  }
  std::map<uint64_t, uint8_t> bytes;
};

class ProbeRecordTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(tracefs_.init().ok()); }

  std::string line(const char* definition, const PtRegs& regs) {
    std::string command = definition;
    auto written = tracefs_.write("kprobe_events", 13, 0, command.data(), command.size(), false);
    EXPECT_TRUE(written.ok());
    const ProbeDefinition& probe = tracefs_.kprobes().at(0);
    uint8_t record[512];
    FetchContext hit{kDoUnlinkat, 0, "rm"};
    size_t size = build_probe_record(probe, static_cast<uint16_t>(probe.event->id), 42, regs, hit,
                                     memory_, record, sizeof record);
    EXPECT_GT(size, 0u);
    TextBuffer text(allocator_);
    tracefs_.render_event_text(*probe.event, record, size, text);
    return std::string(text.data(), text.size());
  }

  test_support::MallocAllocator allocator_;
  Targets targets_;
  Tracefs tracefs_{allocator_, targets_};
  Memory memory_;
};

TEST_F(ProbeRecordTest, RegistersDereferencesStringsAndArguments) {
  PtRegs regs = {};
  regs.di = static_cast<uint64_t>(-100);  // AT_FDCWD
  regs.si = 0x1000;                       // struct filename *
  regs.dx = 3;
  uint64_t name_pointer = 0x2000;
  memory_.put(0x1000, &name_pointer, 8);
  memory_.put(0x2000, "/tmp/x", 7);
  EXPECT_EQ(line("p:myprobe do_unlinkat dfd=%di name=+0(+0(%si)):string n=$arg3:u32", regs),
            "myprobe: (do_unlinkat+0x0/0x320) dfd=0xffffffffffffff9c name=\"/tmp/x\" n=3");
}

TEST_F(ProbeRecordTest, AnUnreadableStringIsFaultAndAValueZero) {
  PtRegs regs = {};
  regs.si = 0x9000;
  EXPECT_EQ(line("p:bad do_unlinkat s=+0(%si):string v=+8(%si):u64", regs),
            "bad: (do_unlinkat+0x0/0x320) s=\"(fault)\" v=0");
}

TEST_F(ProbeRecordTest, CommAndStack) {
  PtRegs regs = {};
  regs.sp = 0x7000;
  uint64_t slot = 0x1234;
  memory_.put(0x7008, &slot, 8);
  EXPECT_EQ(line("p:c do_unlinkat who=$comm s1=$stack1", regs),
            "c: (do_unlinkat+0x0/0x320) who=\"rm\" s1=0x1234");
}

TEST_F(ProbeRecordTest, TooSmallABufferGivesZero) {
  auto written = tracefs_.write("kprobe_events", 13, 0, "p:t do_unlinkat", 15, false);
  ASSERT_TRUE(written.ok());
  PtRegs regs = {};
  FetchContext hit{kDoUnlinkat, 0, "rm"};
  uint8_t record[8];
  EXPECT_EQ(
      build_probe_record(tracefs_.kprobes().at(0), 1, 1, regs, hit, memory_, record, sizeof record),
      0u);
}

}  // namespace
}  // namespace trace::testing
