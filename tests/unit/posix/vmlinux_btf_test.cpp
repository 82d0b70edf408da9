// SPDX-License-Identifier: MIT
// /sys/kernel/btf/vmlinux as built: Debian's libbpf parses it, it describes the Linux-named
// types with the layout the POSIX server compiles (kernel/linux_types.h), bpftool turns it into
// a vmlinux.h, and libbpf's CO-RE relocations of userland/libbpf/task_core resolve against it.
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/btf.h>
#include <linux/time_types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernel/linux_types.h"

namespace {

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string run(const std::string& command, int& status) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    status = -1;
    return out;
  }
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  status = pclose(pipe);
  return out;
}

struct Member {
  const char* name;
  size_t offset;  // bytes, from the server's own compilation of the header
};
struct Struct {
  const char* name;
  size_t size;
  std::vector<Member> members;
};

#define MEMBER(type, field) \
  Member { #field, offsetof(struct type, field) }

const std::vector<Struct>& expected_structs() {
  static const std::vector<Struct> structs = {
      {"filename", sizeof(struct filename), {MEMBER(filename, name), MEMBER(filename, uptr)}},
      // nanosleep's and clock_nanosleep's argument (bpftrace's naptime reads its fields).
      {"__kernel_timespec",
       sizeof(struct __kernel_timespec),
       {MEMBER(__kernel_timespec, tv_sec), MEMBER(__kernel_timespec, tv_nsec)}},
      {"pt_regs",
       sizeof(struct pt_regs),
       {MEMBER(pt_regs, di), MEMBER(pt_regs, si), MEMBER(pt_regs, dx), MEMBER(pt_regs, cx),
        MEMBER(pt_regs, r8), MEMBER(pt_regs, r9), MEMBER(pt_regs, ax), MEMBER(pt_regs, ip),
        MEMBER(pt_regs, sp), MEMBER(pt_regs, orig_ax)}},
      {"task_struct",
       sizeof(struct task_struct),
       {MEMBER(task_struct, pid), MEMBER(task_struct, tgid), MEMBER(task_struct, comm),
        MEMBER(task_struct, real_parent), MEMBER(task_struct, parent),
        MEMBER(task_struct, group_leader), MEMBER(task_struct, flags), MEMBER(task_struct, mm),
        MEMBER(task_struct, exit_code), MEMBER(task_struct, start_time)}},
      {"cred",
       sizeof(struct cred),
       {MEMBER(cred, uid), MEMBER(cred, gid), MEMBER(cred, euid), MEMBER(cred, fsuid),
        MEMBER(cred, cap_permitted), MEMBER(cred, cap_effective)}},
      {"mm_struct",
       sizeof(struct mm_struct),
       {MEMBER(mm_struct, arg_start), MEMBER(mm_struct, arg_end), MEMBER(mm_struct, env_start),
        MEMBER(mm_struct, env_end)}},
      {"file",
       sizeof(struct file),
       {MEMBER(file, f_path), MEMBER(file, f_inode), MEMBER(file, f_mode), MEMBER(file, f_flags),
        MEMBER(file, f_pos)}},
      {"path", sizeof(struct path), {MEMBER(path, mnt), MEMBER(path, dentry)}},
      {"dentry",
       sizeof(struct dentry),
       {MEMBER(dentry, d_name), MEMBER(dentry, d_parent), MEMBER(dentry, d_inode),
        MEMBER(dentry, d_iname)}},
      {"qstr", sizeof(struct qstr), {MEMBER(qstr, name)}},
      {"inode",
       sizeof(struct inode),
       {MEMBER(inode, i_ino), MEMBER(inode, i_mode), MEMBER(inode, i_nlink),
        MEMBER(inode, i_size)}},
      {"renamedata",
       sizeof(struct renamedata),
       {MEMBER(renamedata, old_mnt_userns), MEMBER(renamedata, old_dentry)}},
      {"user_namespace", sizeof(struct user_namespace), {MEMBER(user_namespace, ns)}},
      {"linux_binprm", sizeof(struct linux_binprm), {MEMBER(linux_binprm, filename)}},
      {"trace_event_raw_sys_enter",
       sizeof(struct trace_event_raw_sys_enter),
       {MEMBER(trace_event_raw_sys_enter, ent), MEMBER(trace_event_raw_sys_enter, id),
        MEMBER(trace_event_raw_sys_enter, args)}},
      {"trace_event_raw_sys_exit",
       sizeof(struct trace_event_raw_sys_exit),
       {MEMBER(trace_event_raw_sys_exit, ent), MEMBER(trace_event_raw_sys_exit, id),
        MEMBER(trace_event_raw_sys_exit, ret)}},
  };
  return structs;
}

class VmlinuxBtfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = env("SONDE_VMLINUX_BTF");
    ASSERT_FALSE(path_.empty()) << "SONDE_VMLINUX_BTF is not set";
    btf_ = btf__parse(path_.c_str(), nullptr);
    ASSERT_NE(btf_, nullptr) << "btf__parse(" << path_ << ") failed";
  }
  void TearDown() override { btf__free(btf_); }

  std::string path_;
  struct btf* btf_ = nullptr;
};

TEST_F(VmlinuxBtfTest, DescribesTheServersTypesWithTheirLayout) {
  for (const Struct& expected : expected_structs()) {
    SCOPED_TRACE(expected.name);
    int id = btf__find_by_name_kind(btf_, expected.name, BTF_KIND_STRUCT);
    ASSERT_GT(id, 0) << "no struct " << expected.name;
    const struct btf_type* type = btf__type_by_id(btf_, id);
    EXPECT_EQ(type->size, expected.size);
    const struct btf_member* members = btf_members(type);
    for (const Member& member : expected.members) {
      bool found = false;
      for (int i = 0; i < btf_vlen(type); ++i) {
        if (std::string(btf__name_by_offset(btf_, members[i].name_off)) != member.name) continue;
        found = true;
        EXPECT_EQ(btf_member_bit_offset(type, i), member.offset * 8) << member.name;
      }
      EXPECT_TRUE(found) << expected.name << "." << member.name;
    }
  }
}

TEST_F(VmlinuxBtfTest, TaskStructPointsAtTaskStructsAndMm) {
  int id = btf__find_by_name_kind(btf_, "task_struct", BTF_KIND_STRUCT);
  ASSERT_GT(id, 0);
  const struct btf_type* type = btf__type_by_id(btf_, id);
  const struct btf_member* members = btf_members(type);
  for (int i = 0; i < btf_vlen(type); ++i) {
    std::string name = btf__name_by_offset(btf_, members[i].name_off);
    if (name != "real_parent" && name != "mm" && name != "comm") continue;
    const struct btf_type* member = btf__type_by_id(btf_, members[i].type);
    if (name == "comm") {
      ASSERT_TRUE(btf_is_array(member));
      EXPECT_EQ(btf_array(member)->nelems, 16u);
      continue;
    }
    ASSERT_TRUE(btf_is_ptr(member)) << name;
    const struct btf_type* target = btf__type_by_id(btf_, member->type);
    EXPECT_STREQ(btf__name_by_offset(btf_, target->name_off),
                 name == "mm" ? "mm_struct" : "task_struct");
  }
}

TEST_F(VmlinuxBtfTest, BpftoolDumpsItAsC) {
  std::string bpftool = env("SONDE_BPFTOOL");
  if (bpftool.empty()) GTEST_SKIP() << "no bpftool";
  int status = 0;
  std::string c = run(bpftool + " btf dump file " + path_ + " format c", status);
  ASSERT_EQ(status, 0);
  for (const char* text :
       {"struct task_struct {", "\tpid_t tgid;", "\tchar comm[16];",
        "\tstruct task_struct *real_parent;", "struct filename {", "\tconst char *name;",
        "struct trace_event_raw_sys_enter {", "\tunsigned long args[6];", "TASK_COMM_LEN = 16",
        "BPF_MAP_TYPE_ARRAY = 2"}) {
    EXPECT_NE(c.find(text), std::string::npos) << text;
  }
}

// libbpf's CO-RE relocations of a real program (userland/libbpf/task_core.bpf.o) against this
// BTF, computed on the host without loading anything (bpftool gen min_core_btf): the result
// holds exactly the fields the program reads.
TEST_F(VmlinuxBtfTest, CoreRelocationsOfTaskCoreResolve) {
  std::string bpftool = env("SONDE_BPFTOOL");
  std::string object = env("SONDE_TASK_CORE_OBJECT");
  if (bpftool.empty() || object.empty()) GTEST_SKIP() << "no bpftool or libbpf programs";
  char directory[] = "/tmp/vmlinux-btf-XXXXXX";
  ASSERT_NE(mkdtemp(directory), nullptr);
  std::string minimal = std::string(directory) + "/min.btf";
  int status = 0;
  std::string out =
      run(bpftool + " gen min_core_btf " + path_ + " " + minimal + " " + object + " 2>&1", status);
  ASSERT_EQ(status, 0) << out;
  std::string dump = run(bpftool + " btf dump file " + minimal, status);
  ASSERT_EQ(status, 0);
  std::remove(minimal.c_str());
  rmdir(directory);
  for (const char* text : {"STRUCT 'filename'", "'name'", "STRUCT 'task_struct'", "'tgid'",
                           "'real_parent'", "'comm'", "'mm'", "STRUCT 'mm_struct'", "'arg_start'",
                           "'arg_end'", "STRUCT 'trace_event_raw_sys_enter'", "'id'"}) {
    EXPECT_NE(dump.find(text), std::string::npos) << text << "\n" << dump;
  }
}

// The same object, relocated against this BTF by libbpf (btf_custom_path), passes the host
// kernel's verifier. Nothing is attached: the programs are loaded and closed. Skipped where the
// host refuses bpf().
TEST_F(VmlinuxBtfTest, TaskCoreRelocatedForSondeLoadsOnTheHost) {
  std::string object_path = env("SONDE_TASK_CORE_OBJECT");
  if (object_path.empty()) GTEST_SKIP() << "no libbpf programs";
  LIBBPF_OPTS(bpf_object_open_opts, options, .btf_custom_path = path_.c_str());
  struct bpf_object* object = bpf_object__open_file(object_path.c_str(), &options);
  ASSERT_NE(object, nullptr);
  libbpf_print_fn_t previous = libbpf_set_print(nullptr);
  int loaded = bpf_object__load(object);
  libbpf_set_print(previous);
  bpf_object__close(object);
  if (loaded == -EPERM || loaded == -EACCES || loaded == -ENOSYS) {
    GTEST_SKIP() << "the host refuses bpf(): " << loaded;
  }
  EXPECT_EQ(loaded, 0);
}

}  // namespace
