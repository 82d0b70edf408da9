// SPDX-License-Identifier: MIT
// HostDifferential: the same bpf_attr to the host kernel's bpf() and to the trace core, for the
// differential tests (host_differential_test.cpp, host_differential_maps_test.cpp). Skipped
// where the host refuses bpf() (no privilege); nothing is ever attached on the host.
#pragma once

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <random>

#include "btf_test_support.hpp"
#include "trace_test_support.hpp"

namespace trace::testing {

inline int64_t host_bpf(int command, BpfAttr& attr, uint32_t size = sizeof(BpfAttr)) {
  long result = syscall(SYS_bpf, command, attr.bytes, size);
  return result < 0 ? -static_cast<int64_t>(errno) : result;
}

// The host kernel's version as major * 100 + minor (6.1 -> 601).
inline int host_version() {
  struct utsname name;
  if (uname(&name) != 0) return 0;
  int major = 0, minor = 0;
  std::sscanf(name.release, "%d.%d", &major, &minor);
  return major * 100 + minor;
}

class HostDifferential : public TraceCoreTest {
 protected:
  void SetUp() override {
    TraceCoreTest::SetUp();
    BpfAttr attr = {};
    attr.map_create.map_type = BPF_MAP_TYPE_ARRAY;
    attr.map_create.key_size = 4;
    attr.map_create.value_size = 4;
    attr.map_create.max_entries = 1;
    int64_t fd = host_bpf(kMapCreate, attr);
    if (fd < 0) GTEST_SKIP() << "the host refuses bpf(): errno " << -fd;
    close(static_cast<int>(fd));
  }
  void TearDown() override {
    for (int fd : host_fds_) close(fd);
  }

  // Both sides' answers to one attr; `fds` puts each side's own fds into it.
  struct Answers {
    int64_t core;
    int64_t host;
  };
  Answers both(int command, BpfAttr attr, uint32_t size = sizeof(BpfAttr),
               const std::function<void(BpfAttr&, bool host)>& fds = nullptr) {
    BpfAttr core_attr = attr, host_attr = attr;
    if (fds) {
      fds(core_attr, false);
      fds(host_attr, true);
    }
    Answers answers{bpf(command, core_attr, size), host_bpf(command, host_attr, size)};
    if (answers.host > 0 && returns_fd(command))
      host_fds_.push_back(static_cast<int>(answers.host));
    core_out_ = core_attr;
    host_out_ = host_attr;
    return answers;
  }
  static bool returns_fd(int command) {
    return command == kMapCreate || command == kProgLoad || command == kMapGetFdById ||
           command == kProgGetFdById || command == kBtfLoad;
  }
  // A map on each side: the core's handle and the host's fd.
  std::pair<int64_t, int64_t> map_on_both(uint32_t type, uint32_t key_size, uint32_t value_size,
                                          uint32_t max_entries) {
    BpfAttr attr = {};
    attr.map_create.map_type = type;
    attr.map_create.key_size = key_size;
    attr.map_create.value_size = value_size;
    attr.map_create.max_entries = max_entries;
    Answers answers = both(kMapCreate, attr);
    EXPECT_GT(answers.core, 0);
    EXPECT_GT(answers.host, 0);
    return {answers.core, answers.host};
  }
  std::function<void(BpfAttr&, bool)> elem_fd(std::pair<int64_t, int64_t> map) {
    return [map](BpfAttr& attr, bool host) {
      attr.elem.map_fd = static_cast<uint32_t>(host ? map.second : map.first);
    };
  }

  std::vector<int> host_fds_;
  BpfAttr core_out_ = {}, host_out_ = {};
};

#define EXPECT_SAME(answers, what)                                 \
  do {                                                             \
    Answers a = (answers);                                         \
    if (a.host > 0) {                                              \
      EXPECT_GT(a.core, 0) << what << " (host: " << a.host << ")"; \
    } else {                                                       \
      EXPECT_EQ(a.core, a.host) << what;                           \
    }                                                              \
  } while (0)

}  // namespace trace::testing
