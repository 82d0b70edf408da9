// SPDX-License-Identifier: MIT
// bpf() as the POSIX server forwards it: trace_client's tries over the Cap'n Proto transport to
// the trace server's Service and core, with a fake process's memory on the client side.
#include "service.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "ebpf/ringbuf.hpp"
#include "probe_targets.hpp"
#include "trace_test_support.hpp"
#include "tracing/trace_client.hpp"

namespace trace::testing {
namespace {

// A process's memory: host buffers registered as readable (and writable) regions, addressed
// by their host pointers. read_prefix stops at the end of a region, as at an unmapped page.
class ProcessMemory final : public posix::trace_client::CallerMemory {
 public:
  void map(const void* start, size_t size, bool writable = true) {
    regions_.push_back({reinterpret_cast<uint64_t>(start), size, writable});
  }
  uint64_t read_prefix(uint64_t address, uint8_t* out, uint64_t length) override {
    ++reads;
    uint64_t n = 0;
    while (n < length && readable(address + n)) {
      out[n] = *reinterpret_cast<const uint8_t*>(address + n);
      ++n;
    }
    return n;
  }
  bool write(uint64_t address, const uint8_t* bytes, uint64_t length) override {
    for (uint64_t i = 0; i < length; ++i) {
      if (!writable(address + i)) return false;
    }
    std::memcpy(reinterpret_cast<void*>(address), bytes, length);
    return true;
  }
  int reads = 0;

 private:
  struct Region {
    uint64_t start, size;
    bool writable;
  };
  bool readable(uint64_t a) const {
    for (const Region& r : regions_) {
      if (a >= r.start && a - r.start < r.size) return true;
    }
    return false;
  }
  bool writable(uint64_t a) const {
    for (const Region& r : regions_) {
      if (a >= r.start && a - r.start < r.size && r.writable) return true;
    }
    return false;
  }
  std::vector<Region> regions_;
};

class TaskEnv final : public TaskEnvironment {
 public:
  uint32_t current_cpu() override { return cpu; }
  uint64_t monotonic_ns() override { return 1; }
  uint64_t boot_ns() override { return 1; }
  uint32_t random_u32() override { return 4; }
  long read_user(void*, uint64_t, uint32_t) override { return -rt::kEFAULT; }
  long read_kernel(void*, uint64_t, uint32_t) override { return -rt::kEFAULT; }
  uint64_t current_function_ip() override { return 0; }
  long capture_stack(bool, uint32_t, uint64_t*, uint32_t) override { return -rt::kEFAULT; }
  long trace_output(const char* message, uint32_t length) override {
    return tracefs != nullptr ? record_trace_printk(*tracefs, *this, message, length) : 0;
  }
  Tracefs* tracefs = nullptr;
  uint32_t cpu = 0;
};

// The process's fd table as the POSIX server keeps it: each fd's handle and its instance.
class FdTable final : public posix::trace_client::DescriptorSource {
 public:
  struct Entry {
    int32_t handle;  // -1 closed, 0 another file
    uint64_t instance;
  };
  uint32_t fill(int32_t* table, uint32_t capacity, uint64_t instance) override {
    uint32_t n = 0;
    for (; n < entries.size() && n < capacity; ++n) {
      const Entry& e = entries[n];
      table[n] = e.handle > 0 && e.instance != instance ? -1 : e.handle;
    }
    return n;
  }
  std::vector<Entry> entries = {{0, 0}, {0, 0}, {0, 0}};
};

class TraceServiceTest : public ::testing::Test {
 protected:
  TraceServiceTest()
      : objects_(allocator_, environment_),
        session_(objects_, false),
        tracefs_(allocator_, targets_),
        write_log_(1 << 20),
        service_(session_, environment_, tracefs_, write_log_.data(), write_log_.size()),
        request_(1 << 18),
        reply_(1 << 18),
        transport_(service_,
                   sonde::capnp::MutableBytes{reinterpret_cast<uint8_t*>(request_.data()),
                                              request_.size() * 8},
                   sonde::capnp::MutableBytes{reinterpret_cast<uint8_t*>(reply_.data()),
                                              reply_.size() * 8}),
        client_(transport_) {
    EXPECT_TRUE(tracefs_.init().ok());
    environment_.tracefs = &tracefs_;
  }
  ~TraceServiceTest() override { session_.close_all(); }

  posix::trace_client::CallerInfo caller(bool root = true) {
    return {7, 7, root ? 0u : 1000u, 0, "loader", root, root};
  }
  // bpf() as the process calls it; a new handle becomes the lowest free fd, as POSIX does.
  int64_t bpf(int command, BpfAttr& attr, uint32_t size = sizeof(BpfAttr), bool root = true) {
    memory_.map(&attr, sizeof attr);
    bool new_handle = false;
    int64_t r =
        posix::trace_client::forward_bpf(client_, command, address(&attr), size, caller(root), fds_,
                                         memory_, allocator_, new_handle);
    if (new_handle) {
      fds_.entries.push_back({static_cast<int32_t>(r), posix::trace_client::current_instance()});
      return static_cast<int64_t>(fds_.entries.size() - 1);
    }
    return r;
  }
  int64_t create_map(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t entries) {
    BpfAttr attr = {};
    attr.map_create.map_type = type;
    attr.map_create.key_size = key_size;
    attr.map_create.value_size = value_size;
    attr.map_create.max_entries = entries;
    return bpf(kMapCreate, attr);
  }

  HostAllocator allocator_;
  TaskEnv environment_;
  ObjectTable objects_;
  Session session_;
  UnknownProbeTargets targets_;
  Tracefs tracefs_;
  std::vector<uint8_t> write_log_;
  Service service_;
  std::vector<uint64_t> request_, reply_;
  sonde::capnp::InProcessTransport transport_;
  sonde::proto::TraceService::Client client_;
  ProcessMemory memory_;
  FdTable fds_;
  bool ignored_handle_ = false;
};

TEST_F(TraceServiceTest, MapCreateUpdateLookupThroughFds) {
  int64_t fd = create_map(1 /* HASH */, 4, 8, 16);
  ASSERT_EQ(fd, 3);  // the lowest free fd, a handle of the server behind it
  uint32_t key = 7;
  uint64_t value = 0x1122334455667788, out = 0;
  memory_.map(&key, sizeof key, false);
  memory_.map(&value, sizeof value, false);
  memory_.map(&out, sizeof out);
  BpfAttr update = {};
  update.elem.map_fd = static_cast<uint32_t>(fd);
  update.elem.key = address(&key);
  update.elem.value = address(&value);
  ASSERT_EQ(bpf(kMapUpdateElem, update), 0);
  BpfAttr lookup = {};
  lookup.elem.map_fd = static_cast<uint32_t>(fd);
  lookup.elem.key = address(&key);
  lookup.elem.value = address(&out);
  ASSERT_EQ(bpf(kMapLookupElem, lookup), 0);
  EXPECT_EQ(out, value);
  // The fd names the map only through the caller's table: fd 1 is open but no map, fd 9 closed.
  lookup.elem.map_fd = 1;
  EXPECT_EQ(bpf(kMapLookupElem, lookup), -rt::kEINVAL);
  lookup.elem.map_fd = 9;
  EXPECT_EQ(bpf(kMapLookupElem, lookup), -rt::kEBADF);
  // A value buffer the caller cannot write: EFAULT, as copy_to_user.
  uint64_t read_only = 0;
  memory_.map(&read_only, sizeof read_only, false);
  lookup.elem.map_fd = static_cast<uint32_t>(fd);
  lookup.elem.value = address(&read_only);
  EXPECT_EQ(bpf(kMapLookupElem, lookup), -rt::kEFAULT);
}

TEST(TaskEnvironment, PossibleCpusAreTheMachinesFromOneToSixtyFour) {
  TaskEnv environment;
  EXPECT_EQ(environment.possible_cpus(), 1u) << "before the start info says";
  environment.set_possible_cpus(2);
  EXPECT_EQ(environment.possible_cpus(), 2u);
  environment.set_possible_cpus(0);
  EXPECT_EQ(environment.possible_cpus(), 1u);
  environment.set_possible_cpus(1000);
  EXPECT_EQ(environment.possible_cpus(), 64u) << "what the POSIX server's masks hold";
}

// The trace server with the machine's two CPUs: bpf() carries a per-CPU array's value once per
// CPU, each rounded up to 8 bytes, and a program run on CPU 1 changes CPU 1's copy only.
TEST_F(TraceServiceTest, APerCpuArrayHasAValuePerMachineCpu) {
  environment_.set_possible_cpus(2);
  int64_t fd = create_map(6 /* PERCPU_ARRAY */, 4, 4, 2);
  ASSERT_EQ(fd, 3);
  uint32_t key = 0;
  uint32_t values[4] = {5, 0xaaaa, 7, 0xbbbb};  // CPU 0's value, padding, CPU 1's, padding
  uint32_t out[6] = {0, 0, 0, 0, 0xeeee, 0xeeee};
  memory_.map(&key, sizeof key, false);
  memory_.map(values, sizeof values, false);
  memory_.map(out, sizeof out);
  BpfAttr elem = {};
  elem.elem.map_fd = static_cast<uint32_t>(fd);
  elem.elem.key = address(&key);
  elem.elem.value = address(values);
  ASSERT_EQ(bpf(kMapUpdateElem, elem), 0);
  elem.elem.value = address(out);
  ASSERT_EQ(bpf(kMapLookupElem, elem), 0);
  EXPECT_EQ(std::vector<uint32_t>(out, out + 6),
            (std::vector<uint32_t>{5, 0, 7, 0, 0xeeee, 0xeeee}))
      << "two 8-byte values, the padding zero, nothing written past them";

  // r0 = lookup(map, &0); *r0 += 10
  std::vector<ebpf::Insn> insns =
      ebpf::assemble("stw [%r10-4], 0\nlddw %r1, map:" + std::to_string(fd) +
                     "\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +3\nldxw %r1, [%r0+0]\n"
                     "add %r1, 10\nstxw [%r0+0], %r1\nmov %r0, 0\nexit")
          .insns;
  const char license[] = "GPL";
  memory_.map(insns.data(), insns.size() * sizeof(ebpf::Insn), false);
  memory_.map(license, sizeof license, false);
  BpfAttr load = {};
  load.prog_load.prog_type = 17;  // raw tracepoint
  load.prog_load.insns = address(insns.data());
  load.prog_load.insn_cnt = static_cast<uint32_t>(insns.size());
  load.prog_load.license = address(license);
  int64_t program = bpf(kProgLoad, load);
  ASSERT_GT(program, 0);
  uint64_t arguments[1] = {0};
  memory_.map(arguments, sizeof arguments, false);
  BpfAttr run = {};
  run.test.prog_fd = static_cast<uint32_t>(program);
  run.test.ctx_in = address(arguments);
  run.test.ctx_size_in = sizeof arguments;
  environment_.cpu = 1;  // the caller runs on CPU 1
  ASSERT_EQ(bpf(kProgTestRun, run), 0);
  ASSERT_EQ(bpf(kMapLookupElem, elem), 0);
  EXPECT_EQ(out[0], 5u) << "CPU 0's copy untouched";
  EXPECT_EQ(out[2], 17u) << "CPU 1's copy counted";
}

TEST_F(TraceServiceTest, EnableStatsMakesAnFd) {
  BpfAttr attr = {};  // enable_stats.type = BPF_STATS_RUN_TIME
  int64_t fd = bpf(kEnableStats, attr);
  ASSERT_GE(fd, 0) << "a new handle, wrapped in an fd";
  EXPECT_EQ(fds_.entries.size(), static_cast<size_t>(fd) + 1);
  EXPECT_TRUE(objects_.stats_enabled());
  ASSERT_TRUE(session_.close(fds_.entries[static_cast<size_t>(fd)].handle).ok());
  EXPECT_FALSE(objects_.stats_enabled());
}

TEST_F(TraceServiceTest, ProgLoadFetchesLicenseInsnsAndWritesTheLog) {
  std::vector<ebpf::Insn> insns = ebpf::assemble("mov %r0, 0\nexit").insns;
  ASSERT_EQ(insns.size(), 2u);
  const char license[] = "GPL";
  std::vector<char> log(4096, 'x');
  memory_.map(insns.data(), insns.size() * sizeof(ebpf::Insn), false);
  memory_.map(license, sizeof license, false);
  memory_.map(log.data(), log.size());
  BpfAttr attr = {};
  attr.prog_load.prog_type = 2;  // kprobe
  attr.prog_load.insns = address(insns.data());
  attr.prog_load.insn_cnt = 2;
  attr.prog_load.license = address(license);
  attr.prog_load.log_buf = address(log.data());
  attr.prog_load.log_size = static_cast<uint32_t>(log.size());
  attr.prog_load.log_level = 2;
  int64_t fd = bpf(kProgLoad, attr);
  ASSERT_EQ(fd, 3);
  EXPECT_NE(std::string(log.data()).find("processed 2 insns"), std::string::npos) << log.data();
  EXPECT_EQ(objects_.count(ObjectKind::kProgram), 1u);
  // The tries that missed memory left no program behind.
  EXPECT_EQ(session_.open_count(), 1u);
}

TEST_F(TraceServiceTest, ABadInsnsPointerIsEfaultAndLeavesNothing) {
  const char license[] = "GPL";
  memory_.map(license, sizeof license, false);
  BpfAttr attr = {};
  attr.prog_load.prog_type = 2;
  attr.prog_load.insns = 0x1000;  // nothing mapped there
  attr.prog_load.insn_cnt = 2;
  attr.prog_load.license = address(license);
  EXPECT_EQ(bpf(kProgLoad, attr), -rt::kEFAULT);
  EXPECT_EQ(objects_.count(ObjectKind::kProgram), 0u);
}

TEST_F(TraceServiceTest, BatchUpdateStopsWhereTheCallersKeysFault) {
  int64_t fd = create_map(1, 4, 4, 16);
  ASSERT_EQ(fd, 3);
  // Three keys readable, the fourth not: three updates, count 3, EFAULT (as Linux).
  std::vector<uint32_t> keys = {1, 2, 3};
  std::vector<uint32_t> values = {10, 20, 30, 40};
  memory_.map(keys.data(), keys.size() * 4, false);
  memory_.map(values.data(), values.size() * 4, false);
  BpfAttr attr = {};
  attr.batch.map_fd = static_cast<uint32_t>(fd);
  attr.batch.keys = address(keys.data());
  attr.batch.values = address(values.data());
  attr.batch.count = 4;
  memory_.reads = 0;
  EXPECT_EQ(bpf(kMapUpdateBatch, attr), -rt::kEFAULT);
  // The batch announced its whole input before changing anything: the attr, then all keys and
  // all values in one range each (not one try per element, each repeating earlier updates).
  EXPECT_EQ(memory_.reads, 3);
  EXPECT_EQ(attr.batch.count, 3u);
  uint32_t key = 3, out = 0;
  memory_.map(&key, 4, false);
  memory_.map(&out, 4);
  BpfAttr lookup = {};
  lookup.elem.map_fd = static_cast<uint32_t>(fd);
  lookup.elem.key = address(&key);
  lookup.elem.value = address(&out);
  ASSERT_EQ(bpf(kMapLookupElem, lookup), 0);
  EXPECT_EQ(out, 30u);
}

TEST_F(TraceServiceTest, SizeAndPrivilegeRulesComeFirst) {
  BpfAttr attr = {};
  EXPECT_EQ(bpf(kMapCreate, attr, sizeof attr, /*root=*/false), -rt::kEPERM);
  EXPECT_EQ(bpf(kMapCreate, attr, 4097), -rt::kE2BIG);
  // An attr the caller cannot read.
  int64_t r = posix::trace_client::forward_bpf(client_, kMapCreate, 0x10, sizeof(BpfAttr), caller(),
                                               fds_, memory_, allocator_, ignored_handle_);
  EXPECT_EQ(r, -rt::kEFAULT);
}

TEST_F(TraceServiceTest, CloseDropsTheHandle) {
  int64_t fd = create_map(2 /* ARRAY */, 4, 4, 1);
  ASSERT_EQ(fd, 3);
  EXPECT_EQ(objects_.count(ObjectKind::kMap), 1u);
  auto instance = posix::trace_client::current_instance();
  auto handle = static_cast<uint32_t>(fds_.entries[3].handle);
  ASSERT_TRUE(posix::trace_client::close_handle(client_, handle, instance).ok());
  EXPECT_EQ(objects_.count(ObjectKind::kMap), 0u);
  auto again = posix::trace_client::close_handle(client_, handle, instance);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, rt::kEBADF);
}

// A restarted trace server: the fds of the old instance name nothing (EBADF), nothing of
// them is closed in the new one, and new objects work.
TEST_F(TraceServiceTest, HandlesOfADeadInstanceAreStale) {
  int64_t old_fd = create_map(2, 4, 4, 1);
  ASSERT_EQ(old_fd, 3);
  uint64_t old_instance = posix::trace_client::current_instance();

  ObjectTable objects(allocator_, environment_);
  Session session(objects, false);
  std::vector<uint8_t> log(1 << 20);
  Tracefs tracefs(allocator_, targets_);
  Service restarted(session, environment_, tracefs, log.data(), log.size(), old_instance + 1);
  sonde::capnp::InProcessTransport transport(
      restarted,
      sonde::capnp::MutableBytes{reinterpret_cast<uint8_t*>(request_.data()), request_.size() * 8},
      sonde::capnp::MutableBytes{reinterpret_cast<uint8_t*>(reply_.data()), reply_.size() * 8});
  sonde::proto::TraceService::Client client(transport);
  // The new instance's first object gets handle 1, as the old map did.
  BpfAttr create = {};
  create.map_create.map_type = 2;
  create.map_create.key_size = 4;
  create.map_create.value_size = 4;
  create.map_create.max_entries = 1;
  memory_.map(&create, sizeof create);
  int64_t handle =
      posix::trace_client::forward_bpf(client, kMapCreate, address(&create), sizeof create,
                                       caller(), fds_, memory_, allocator_, ignored_handle_);
  ASSERT_EQ(handle, 1);
  EXPECT_EQ(posix::trace_client::current_instance(), old_instance + 1);
  fds_.entries.push_back({1, old_instance + 1});
  // The old fd does not reach the new map behind the same handle number.
  uint32_t key = 0, out = 0;
  memory_.map(&key, 4);
  memory_.map(&out, 4);
  BpfAttr lookup = {};
  lookup.elem.map_fd = static_cast<uint32_t>(old_fd);
  lookup.elem.key = address(&key);
  lookup.elem.value = address(&out);
  memory_.map(&lookup, sizeof lookup);
  EXPECT_EQ(
      posix::trace_client::forward_bpf(client, kMapLookupElem, address(&lookup), sizeof lookup,
                                       caller(), fds_, memory_, allocator_, ignored_handle_),
      -rt::kEBADF);
  lookup.elem.map_fd = 4;
  EXPECT_EQ(
      posix::trace_client::forward_bpf(client, kMapLookupElem, address(&lookup), sizeof lookup,
                                       caller(), fds_, memory_, allocator_, ignored_handle_),
      0);
  // Closing the old fd drops nothing in the new instance.
  ASSERT_TRUE(posix::trace_client::close_handle(client, 1, old_instance).ok());
  EXPECT_EQ(objects.count(ObjectKind::kMap), 1u);
  // A close that names the old instance is refused by the new one as well.
  auto request = client.closeRequest();
  request.params().setHandle(1);
  request.params().setInstance(old_instance);
  auto refused = request.send();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, rt::kESTALE);
  session.close_all();
}

// A hostile request: a range whose data claims more than its length, and attr bytes that
// disagree with the size, are refused without touching the core.
TEST_F(TraceServiceTest, MalformedRequestsAreRefused) {
  auto request = client_.bpfRequest();
  auto call = request.params().initRequest();
  call.setCommand(kMapCreate);
  uint8_t attr[8] = {};
  call.setAttr(attr, sizeof attr);
  call.setAttrSize(144);
  call.setInstance(1);  // the fixture's instance
  call.initCaller().setCapBpf(true);
  auto reply = request.send();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, rt::kEINVAL);

  auto second = client_.bpfRequest();
  auto bad = second.params().initRequest();
  bad.setCommand(kMapCreate);
  bad.setAttrSize(0);
  bad.setInstance(1);
  bad.initCaller().setCapBpf(true);
  auto range = bad.initMemory(1)[0];
  range.setAddress(0x1000);
  range.setLength(2);
  range.setData(attr, 8);
  auto refused = second.send();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, rt::kEINVAL);
  EXPECT_EQ(objects_.count(ObjectKind::kMap), 0u);
}

// ---- tracefs ----

// tracefsRead as the POSIX server sends it: the bytes, or the errno of an error reply.
struct TracefsAnswer {
  int error = 0;
  std::string data;
  bool end_of_file = false;
  bool would_block = false;
};

class TracefsServiceTest : public TraceServiceTest {
 protected:
  TracefsAnswer read(const std::string& path, uint64_t offset = 0, bool blocking = false) {
    auto request = client_.tracefsReadRequest();
    request.params().setPath(path.data(), path.size());
    request.params().setOffset(offset);
    request.params().setMaxBytes(1 << 16);
    request.params().setBlocking(blocking);
    auto reply = request.send();
    TracefsAnswer answer;
    if (!reply.ok()) {
      answer.error = reply.error().code;
      return answer;
    }
    auto data = reply.value().getData();
    if (data.ok())
      answer.data.assign(reinterpret_cast<const char*>(data.value().bytes), data.value().size);
    answer.end_of_file = reply.value().getEndOfFile();
    answer.would_block = reply.value().getWouldBlock();
    return answer;
  }
  // The bytes taken, or -errno.
  int64_t write(const std::string& path, const std::string& data, uint64_t offset = 0,
                bool append = false) {
    auto request = client_.tracefsWriteRequest();
    request.params().setPath(path.data(), path.size());
    request.params().setOffset(offset);
    request.params().setData(data.data(), data.size());
    request.params().setAppend(append);
    auto reply = request.send();
    if (!reply.ok()) return -static_cast<int64_t>(reply.error().code);
    return reply.value().getWritten();
  }
  TracefsAnswer list(const std::string& path) {
    auto request = client_.tracefsListRequest();
    request.params().setPath(path.data(), path.size());
    auto reply = request.send();
    TracefsAnswer answer;
    if (!reply.ok()) {
      answer.error = reply.error().code;
      return answer;
    }
    auto names = reply.value().getNames();
    if (names.ok())
      answer.data.assign(reinterpret_cast<const char*>(names.value().bytes), names.value().size);
    return answer;
  }
};

TEST_F(TracefsServiceTest, ReadsAndWritesFilesByPath) {
  EXPECT_EQ(read("tracing_on").data, "1\n");
  EXPECT_EQ(write("buffer_size_kb", "4\n"), 2);
  EXPECT_EQ(read("buffer_size_kb").data, "4\n");
  TracefsAnswer past = read("buffer_size_kb", 2);
  EXPECT_TRUE(past.end_of_file);
  EXPECT_EQ(past.data, "");
  EXPECT_EQ(read("events/syscalls/sys_enter_mkdirat/id").data, "765\n");
  EXPECT_EQ(read("no_such_file").error, rt::kENOENT);
  EXPECT_EQ(read("events").error, rt::kEISDIR);
  EXPECT_EQ(write("tracing_on", "x\n"), -rt::kEINVAL);
  // A kprobe on a symbol the targets do not know: ENOENT and a line in error_log.
  EXPECT_EQ(write("kprobe_events", "p:bad no_such_function\n"), -rt::kENOENT);
  EXPECT_NE(read("error_log").data.find("Invalid probed address or symbol"), std::string::npos);
}

// The server binary's kprobes, as a test gives them.
class FixedKprobeListing final : public KprobeListing {
 public:
  void list_kprobes(TextBuffer& out) override { out.append(text.c_str()); }
  void list_blacklist(TextBuffer& out) override { out.append(blacklist.c_str()); }
  std::string text;
  std::string blacklist;
};

TEST_F(TracefsServiceTest, ServesDebugfsKprobesAndTheStatsSysctl) {
  FixedKprobeListing listing;
  listing.text = "0000000000401000  k  do_unlinkat+0x0    [FTRACE]\n";
  listing.blacklist = "0x0000000000408208-0x000000000040824b\tkretprobe_shim\n";
  EXPECT_EQ(read("@debugfs/kprobes/list").data, "") << "no listing: no kprobes";
  service_.set_kprobe_listing(&listing);
  EXPECT_EQ(read("@debugfs/kprobes/list").data, listing.text);
  EXPECT_EQ(read("@debugfs/kprobes/list", 20).data, listing.text.substr(20));
  EXPECT_TRUE(read("@debugfs/kprobes/list", 400).end_of_file);
  EXPECT_EQ(read("@debugfs/kprobes/enabled").data, "1\n");
  EXPECT_EQ(list("@debugfs/kprobes").data, "blacklist\nenabled\nlist\n");
  EXPECT_EQ(list("@debugfs/kprobes/list").error, rt::kENOTDIR);
  EXPECT_EQ(read("@debugfs/kprobes").error, rt::kEISDIR);
  EXPECT_EQ(read("@debugfs/kprobes/blacklist").data, listing.blacklist);
  EXPECT_EQ(write("@debugfs/kprobes/blacklist", "x"), -rt::kEINVAL);
  EXPECT_EQ(list("@debugfs/nothing").error, rt::kENOENT);
  EXPECT_EQ(write("@debugfs/kprobes/list", "x"), -rt::kEINVAL);
  EXPECT_EQ(write("@debugfs/kprobes/enabled", "1\n"), 2);
  EXPECT_EQ(write("@debugfs/kprobes/enabled", "0\n"), -rt::kEINVAL) << "GAP: no global disarm";

  // /proc/sys/kernel/bpf_stats_enabled: the sysctl's own value, 0 or 1.
  const std::string sysctl = "@sysctl/kernel/bpf_stats_enabled";
  EXPECT_EQ(read(sysctl).data, "0\n");
  EXPECT_EQ(write(sysctl, "1\n"), 2);
  EXPECT_TRUE(objects_.stats_enabled());
  EXPECT_EQ(read(sysctl).data, "1\n");
  EXPECT_EQ(read(sysctl, 1).data, "") << "a sysctl reads as empty past its start";
  EXPECT_EQ(write(sysctl, "2\n"), -rt::kEINVAL);
  EXPECT_EQ(write(sysctl, "one"), -rt::kEINVAL);
  EXPECT_EQ(write(sysctl, "0", 1), 1) << "a write past the start changes nothing";
  EXPECT_TRUE(objects_.stats_enabled());
  EXPECT_EQ(write(sysctl, " 0\n"), 3);
  EXPECT_FALSE(objects_.stats_enabled());
  EXPECT_EQ(read(sysctl).data, "0\n");
  service_.set_kprobe_listing(nullptr);
}

TEST_F(TracefsServiceTest, ListsDirectoriesWithASlash) {
  TracefsAnswer root = list("");
  EXPECT_EQ(root.error, 0);
  EXPECT_NE(root.data.find("trace_pipe\n"), std::string::npos) << root.data;
  EXPECT_NE(root.data.find("events/\n"), std::string::npos) << root.data;
  TracefsAnswer events = list("events");
  EXPECT_NE(events.data.find("enable\n"), std::string::npos);
  EXPECT_NE(events.data.find("syscalls/\n"), std::string::npos) << events.data;
  EXPECT_EQ(list("events/syscalls/sys_enter_mkdirat").data, "enable\nfilter\nformat\nid\n");
  EXPECT_EQ(list("trace_pipe").error, rt::kENOTDIR);
  EXPECT_EQ(list("events/enable").error, rt::kENOTDIR);
  EXPECT_EQ(list("/events/syscalls/enable").error, rt::kENOTDIR);
  EXPECT_EQ(list("events/syscalls/sys_enter_mkdirat/format").error, rt::kENOTDIR);
  EXPECT_EQ(list("events/nosuch").error, rt::kENOENT);
}

TEST_F(TracefsServiceTest, TracePipeWouldBlockThenGivesTheProgramsPrintk) {
  TracefsAnswer empty = read("trace_pipe", 0, /*blocking=*/true);
  EXPECT_EQ(empty.error, 0);
  EXPECT_TRUE(empty.would_block);
  EXPECT_EQ(read("trace_pipe", 0, /*blocking=*/false).error, rt::kEAGAIN);
  // A raw tracepoint program writing "hi" through bpf_trace_printk; loading it enables
  // bpf_trace:bpf_trace_printk, as on Linux.
  EXPECT_EQ(read("events/bpf_trace/bpf_trace_printk/enable").data, "0\n");
  std::vector<ebpf::Insn> insns =
      ebpf::assemble(
          "mov %r1, 0x6968\nstxw [%r10-8], %r1\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 3\n"
          "call 6\nmov %r0, 0\nexit")
          .insns;
  const char license[] = "GPL";
  memory_.map(insns.data(), insns.size() * sizeof(ebpf::Insn), false);
  memory_.map(license, sizeof license, false);
  BpfAttr load = {};
  load.prog_load.prog_type = 17;  // raw tracepoint
  load.prog_load.insns = address(insns.data());
  load.prog_load.insn_cnt = static_cast<uint32_t>(insns.size());
  load.prog_load.license = address(license);
  int64_t fd = bpf(kProgLoad, load);
  ASSERT_EQ(fd, 3);
  EXPECT_EQ(read("events/bpf_trace/bpf_trace_printk/enable").data, "1\n");
  uint64_t arguments[1] = {0};
  memory_.map(arguments, sizeof arguments, false);
  BpfAttr run = {};
  run.test.prog_fd = static_cast<uint32_t>(fd);
  run.test.ctx_in = address(arguments);
  run.test.ctx_size_in = sizeof arguments;
  ASSERT_EQ(bpf(kProgTestRun, run), 0);
  TracefsAnswer line = read("trace_pipe", 0, /*blocking=*/true);
  EXPECT_FALSE(line.would_block);
  // "          loader-7       [000] ...2.     0.000000: bpf_trace_printk: hi"
  EXPECT_NE(line.data.find("loader-7 "), std::string::npos) << line.data;
  EXPECT_NE(line.data.find("] ...2. "), std::string::npos) << line.data;
  EXPECT_NE(line.data.find(": bpf_trace_printk: hi\n"), std::string::npos) << line.data;
  EXPECT_TRUE(read("trace_pipe", 0, /*blocking=*/true).would_block) << "the line was consumed";
}

// A reader that would block on trace_pipe, or that polled a ring, is told of the next line or
// record (the server binary signals the POSIX server's trace wakeup when take_due says so).
TEST_F(TracefsServiceTest, BlockedReadersAreToldOfNewLinesAndRecords) {
  ReaderWakeups& wakeups = objects_.reader_wakeups();
  EXPECT_TRUE(read("trace_pipe", 0, /*blocking=*/true).would_block);
  EXPECT_FALSE(wakeups.take_due()) << "nothing new yet";
  // Lines as an event or bpf_trace_printk records them.
  ASSERT_TRUE(tracefs_.buffer().record(TraceContext{}, "hello", 5));
  EXPECT_TRUE(wakeups.take_due()) << "a line for the blocked reader";
  ASSERT_TRUE(tracefs_.buffer().record(TraceContext{}, "again", 5));
  EXPECT_FALSE(wakeups.take_due()) << "the reader was told and has not blocked again";
  EXPECT_FALSE(read("trace_pipe", 0, /*blocking=*/true).would_block);
  int64_t ring = create_map(27, 0, 0, 4096);
  ASSERT_EQ(ring, 3);
  auto request = client_.pollRequest();
  request.params().setHandle(static_cast<uint32_t>(fds_.entries[3].handle));
  request.params().setInstance(posix::trace_client::current_instance());
  auto polled = request.send();
  ASSERT_TRUE(polled.ok());
  EXPECT_EQ(polled.value().getEvents(), 0u) << "empty";
  EXPECT_FALSE(wakeups.take_due());
  Handle handle = session_.lookup(fds_.entries[3].handle).value();
  auto& map = *static_cast<ebpf::RingbufMap*>(static_cast<MapObject*>(handle.object)->map);
  uint64_t record = 1;
  ASSERT_EQ(map.output(&record, sizeof record, 0), 0);
  EXPECT_TRUE(wakeups.take_due()) << "a record for the reader that polled";
  // A poll that finds the record: that reader reads before it blocks, so a record meanwhile
  // (BPF_RB_FORCE_WAKEUP here: the reader is behind) costs no signal.
  auto again = client_.pollRequest();
  again.params().setHandle(static_cast<uint32_t>(fds_.entries[3].handle));
  again.params().setInstance(posix::trace_client::current_instance());
  auto ready = again.send();
  ASSERT_TRUE(ready.ok());
  EXPECT_NE(ready.value().getEvents(), 0u);
  ASSERT_EQ(map.output(&record, sizeof record, ebpf::kRingbufForceWakeup), 0);
  EXPECT_FALSE(wakeups.take_due());
}

}  // namespace
}  // namespace trace::testing
