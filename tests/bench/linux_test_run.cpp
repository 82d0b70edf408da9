// SPDX-License-Identifier: MIT
// LinuxTestRun: bpf(MAP_CREATE, PROG_LOAD, PROG_TEST_RUN) through libbpf, when it is built in.
#include "linux_test_run.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#if SONDE_BENCH_LIBBPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#endif

namespace bench {

#if SONDE_BENCH_LIBBPF

namespace {

std::string failed(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// /proc/sys/net/core/bpf_jit_enable: 1 or 2 means programs are JIT-compiled.
bool linux_jit_enabled() {
  FILE* file = std::fopen("/proc/sys/net/core/bpf_jit_enable", "r");
  if (file == nullptr) return true;  // no knob: a kernel with the JIT always on
  int value = 0;
  bool read = std::fscanf(file, "%d", &value) == 1;
  std::fclose(file);
  return !read || value != 0;
}

int quiet(enum libbpf_print_level, const char*, va_list) { return 0; }

}  // namespace

bool LinuxTestRun::open(std::string& why) {
  libbpf_set_print(quiet);
  if (!linux_jit_enabled()) {
    why = "the kernel's JIT is off (bpf_jit_enable=0)";
    return false;
  }
  map_fd_ = bpf_map_create(BPF_MAP_TYPE_ARRAY, "eref_map", 4, 8, EREF_MAP_ENTRIES, nullptr);
  if (map_fd_ < 0) {
    why = failed("bpf(BPF_MAP_CREATE)");
    map_fd_ = -1;
    return false;
  }
  for (uint32_t key = 0; key < EREF_MAP_ENTRIES; ++key) {
    uint64_t value = EREF_MAP_VALUE(key);
    if (bpf_map_update_elem(map_fd_, &key, &value, BPF_ANY) != 0) {
      why = failed("bpf(BPF_MAP_UPDATE_ELEM)");
      return false;
    }
  }
  return true;
}

LinuxTestRun::~LinuxTestRun() {
  if (map_fd_ >= 0) close(map_fd_);
}

int LinuxTestRun::load(const eref_prog& program, std::string& why) {
  static_assert(sizeof(eref_insn) == sizeof(bpf_insn));
  std::vector<bpf_insn> insns(program.n_slots);
  std::memcpy(insns.data(), program.insns, program.n_slots * sizeof(bpf_insn));
  if (program.map_ld_slot >= 0) insns[program.map_ld_slot].imm = map_fd_;
  std::vector<char> log(1 << 16);
  LIBBPF_OPTS(bpf_prog_load_opts, options, .log_level = 0);
  int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, program.name, "GPL", insns.data(),
                         insns.size(), &options);
  if (fd < 0) {
    // Again with a log, for the reason.
    options.log_level = 1;
    options.log_buf = log.data();
    options.log_size = static_cast<uint32_t>(log.size());
    int again = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, program.name, "GPL", insns.data(),
                              insns.size(), &options);
    why = failed("bpf(BPF_PROG_LOAD)") + (log[0] != 0 ? std::string(" (") + log.data() + ")" : "");
    if (again >= 0) close(again);
    return -1;
  }
  return fd;
}

bool LinuxTestRun::run(int fd, uint32_t repeat, uint32_t& mean_ns, uint32_t& retval,
                       std::string& why) {
  uint8_t packet[64] = {};
  LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = packet, .data_size_in = sizeof(packet),
              .repeat = static_cast<int>(repeat));
  if (bpf_prog_test_run_opts(fd, &options) != 0) {
    why = failed("bpf(BPF_PROG_TEST_RUN)");
    return false;
  }
  mean_ns = options.duration;
  retval = options.retval;
  return true;
}

#else  // no libbpf: the Linux column says why it is empty.

bool LinuxTestRun::open(std::string& why) {
  why = "built without libbpf (Debian's libbpf-dev; run tools/setup)";
  return false;
}
LinuxTestRun::~LinuxTestRun() = default;
int LinuxTestRun::load(const eref_prog&, std::string& why) {
  why = "built without libbpf";
  return -1;
}
bool LinuxTestRun::run(int, uint32_t, uint32_t&, uint32_t&, std::string& why) {
  why = "built without libbpf";
  return false;
}

#endif

}  // namespace bench
