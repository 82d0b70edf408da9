// SPDX-License-Identifier: MIT
// Process system calls: identities, fork/clone, execve, exit, wait4, process groups, TLS.
#include "kernel/syscalls.hpp"

#include <string.h>

#include "kernel/sched_tracepoints.hpp"
#include "platform/kernel.hpp"
#include "task/exec.hpp"
#include "task/replies.hpp"
#include "tracing/trace_service.hpp"
#include "tty/console.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {

constexpr uint64_t kCloneVm = 0x100, kCloneSighand = 0x800, kCloneVfork = 0x4000;
constexpr uint64_t kCloneThread = 0x10000;
constexpr uint64_t kCloneSetTls = 0x80000, kCloneParentSetTid = 0x100000;
constexpr uint64_t kCloneChildClearTid = 0x200000, kCloneChildSetTid = 0x1000000;
constexpr int kSigChld = 17;

// Does the child match wait4's pid argument?
bool matches(const Process* parent, const Process* child, int64_t pid) {
  if (child->ppid != parent->pid) return false;
  if (pid > 0) return child->pid == pid;
  if (pid == -1) return true;
  if (pid == 0) return child->pgid == parent->pgid;
  return child->pgid == -pid;
}

}  // namespace

int64_t sys_getpid(SyscallContext& c) { return c.process->pid; }
int64_t sys_gettid(SyscallContext& c) { return c.thread->tid; }
int64_t sys_getppid(SyscallContext& c) { return c.process->ppid; }
int64_t sys_getuid(SyscallContext& c) { return c.process->credentials.uid; }
int64_t sys_geteuid(SyscallContext& c) { return c.process->credentials.euid; }
int64_t sys_getgid(SyscallContext& c) { return c.process->credentials.gid; }
int64_t sys_getegid(SyscallContext& c) { return c.process->credentials.egid; }

namespace {

uint32_t id_argument(SyscallContext& c, int i) { return static_cast<uint32_t>(c.arg(i)); }

// Linux's commit_creds: a change of the effective or file system ids makes the process
// undumpable (suid_dumpable 0).
void commit_credentials(Process& process, const Credentials& ids) {
  const Credentials& old = process.credentials;
  if (ids.euid != old.euid || ids.egid != old.egid || ids.fsuid != old.fsuid ||
      ids.fsgid != old.fsgid) {
    process.dumpable = false;
  }
  process.credentials = ids;
  // Tracing sees the new ids at once (bpf_get_current_uid_gid), not at the next task switch.
  if (published_current_task() == &process) publish_current_task(&process);
}

// The new credentials of a set*id call, or its errno.
int64_t install(SyscallContext& c, const rt::Result<Credentials>& changed) {
  if (!changed.ok()) return -changed.error().code;
  commit_credentials(*c.process, changed.value());
  publish_current_task(c.process);  // bpf_get_current_uid_gid's ids
  return 0;
}

// getresuid and getresgid: three ids to three user addresses, EFAULT at the first bad one.
int64_t copy_out_ids(SyscallContext& c, const uint32_t (&ids)[3]) {
  for (int i = 0; i < 3; ++i) {
    if (!user(c).copy_out(c.arg(i), &ids[i], 4).ok()) return -rt::kEFAULT;
  }
  return 0;
}

}  // namespace

int64_t sys_setuid(SyscallContext& c) {
  return install(c, set_uid(c.process->credentials, id_argument(c, 0)));
}
int64_t sys_setgid(SyscallContext& c) {
  return install(c, set_gid(c.process->credentials, id_argument(c, 0)));
}
int64_t sys_setreuid(SyscallContext& c) {
  return install(c, set_reuid(c.process->credentials, id_argument(c, 0), id_argument(c, 1)));
}
int64_t sys_setregid(SyscallContext& c) {
  return install(c, set_regid(c.process->credentials, id_argument(c, 0), id_argument(c, 1)));
}
int64_t sys_setresuid(SyscallContext& c) {
  return install(c, set_resuid(c.process->credentials, id_argument(c, 0), id_argument(c, 1),
                               id_argument(c, 2)));
}
int64_t sys_setresgid(SyscallContext& c) {
  return install(c, set_resgid(c.process->credentials, id_argument(c, 0), id_argument(c, 1),
                               id_argument(c, 2)));
}
int64_t sys_getresuid(SyscallContext& c) {
  const Credentials& ids = c.process->credentials;
  return copy_out_ids(c, {ids.uid, ids.euid, ids.suid});
}
int64_t sys_getresgid(SyscallContext& c) {
  const Credentials& ids = c.process->credentials;
  return copy_out_ids(c, {ids.gid, ids.egid, ids.sgid});
}
// setfsuid and setfsgid answer the old id, changed or not.
int64_t sys_setfsuid(SyscallContext& c) {
  uint32_t old = c.process->credentials.fsuid;
  commit_credentials(*c.process, set_fsuid(c.process->credentials, id_argument(c, 0)));
  return old;
}
int64_t sys_setfsgid(SyscallContext& c) {
  uint32_t old = c.process->credentials.fsgid;
  commit_credentials(*c.process, set_fsgid(c.process->credentials, id_argument(c, 0)));
  return old;
}

// getgroups(size, list): the count when size is 0; EINVAL when they do not fit.
int64_t sys_getgroups(SyscallContext& c) {
  auto size = static_cast<int32_t>(c.arg(0));
  const Credentials& ids = c.process->credentials;
  if (size < 0) return -rt::kEINVAL;
  if (size == 0) return ids.group_count;
  if (static_cast<uint32_t>(size) < ids.group_count) return -rt::kEINVAL;
  if (!user(c).copy_out(c.arg(1), ids.groups, ids.group_count * 4).ok()) return -rt::kEFAULT;
  return ids.group_count;
}

// setgroups(size, list): EPERM and EINVAL before the list is read, EFAULT while it is.
int64_t sys_setgroups(SyscallContext& c) {
  auto size = static_cast<int32_t>(c.arg(0));
  if (auto checked = check_group_count(c.process->credentials, size); !checked.ok()) {
    return -checked.error().code;
  }
  uint32_t groups[Credentials::kGroupsMax];
  auto count = static_cast<uint32_t>(size);
  if (count > 0 && !user(c).copy_in(groups, c.arg(1), count * 4).ok()) return -rt::kEFAULT;
  return install(c, set_groups(c.process->credentials, groups, count));
}

int64_t sys_set_tid_address(SyscallContext& c) {
  c.thread->clear_child_tid = c.arg(0);
  return c.thread->tid;
}
int64_t sys_set_robust_list(SyscallContext&) { return 0; }

int64_t sys_arch_prctl(SyscallContext& c) {
  constexpr uint64_t kSetFs = 0x1002, kGetFs = 0x1003;
  switch (c.arg(0)) {
    case kSetFs:
      if (c.arg(1) >= mm::kUserTop) return -rt::kEPERM;
      c.registers.fs_base = c.arg(1);
      c.replace_registers = true;
      return 0;
    case kGetFs: return to_rax(user(c).copy_out(c.arg(1), &c.registers.fs_base, 8));
    default: return -rt::kEINVAL;
  }
}

}  // namespace posix

// Linux's struct kernel_clone_args (include/linux/sched/task.h), the fields clone uses.
struct kernel_clone_args {
  uint64_t flags;
  int* pidfd;
  int* child_tid;  // user addresses
  int* parent_tid;
  int exit_signal;
  unsigned long stack;
  unsigned long stack_size;
  unsigned long tls;
};

namespace {

// clone(CLONE_THREAD): a thread of the caller's process (pthread_create's flags:
// CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|
// CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID). The memory, files, cwd, umask and signal actions
// are the process's, shared by all its threads, so CLONE_FS, CLONE_FILES and CLONE_SYSVSEM
// have nothing more to do; without CLONE_SIGHAND (or CLONE_VM) it is EINVAL, as Linux's. GAP:
// a thread made without CLONE_FS or CLONE_FILES shares the cwd and files all the same.
long clone_thread_of(posix::SyscallContext& c, const kernel_clone_args* args,
                     const posix::abi::UserRegisters& registers) {
  using namespace posix;
  uint64_t flags = args->flags;
  if ((flags & kCloneSighand) == 0 || (flags & kCloneVm) == 0) return -rt::kEINVAL;
  auto made = clone_thread(c.process, c.thread, registers, args->flags);
  if (!made.ok()) return -made.error().code;
  Thread* thread = made.value();
  sched_thread_fork(*c.thread, *thread);  // Linux fires sched_process_fork for every clone
  int32_t tid = thread->tid;
  auto parent_tid = reinterpret_cast<uint64_t>(args->parent_tid);
  auto child_tid = reinterpret_cast<uint64_t>(args->child_tid);
  // Written before the thread can run past its first instruction: the server runs first.
  if ((flags & kCloneParentSetTid) != 0) (void)user(c).copy_out(parent_tid, &tid, 4);
  if ((flags & kCloneChildSetTid) != 0) (void)user(c).copy_out(child_tid, &tid, 4);
  if ((flags & kCloneChildClearTid) != 0) thread->clear_child_tid = child_tid;
  return tid;
}

}  // namespace

// fork, vfork and clone end here, as in Linux.
extern "C" __attribute__((noinline)) long kernel_clone(struct kernel_clone_args* args) {
  using namespace posix;
  SyscallContext& c = *current_context();
  uint64_t flags = args->flags;
  if ((flags & kCloneThread) == 0 && args->exit_signal != kSigChld && args->exit_signal != 0) {
    return -rt::kEINVAL;
  }
  abi::UserRegisters registers = c.registers;
  if (args->stack != 0) registers.rsp = args->stack;
  if ((flags & kCloneSetTls) != 0) registers.fs_base = args->tls;
  if ((flags & kCloneThread) != 0) {
    registers.rax = 0;
    return clone_thread_of(c, args, registers);
  }
  // CLONE_VM without CLONE_THREAD (vfork, posix_spawn): the child runs in the parent's address
  // space itself until it execs or exits; otherwise a copy-on-write copy.
  auto child = fork_process(c.process, c.thread, registers, (flags & kCloneVm) != 0, flags);
  if (!child.ok()) return -child.error().code;
  Process* p = child.value();
  sched_process_fork(*c.process, *p);
  int64_t pid = p->pid;
  auto parent_tid = reinterpret_cast<uint64_t>(args->parent_tid);
  auto child_tid = reinterpret_cast<uint64_t>(args->child_tid);
  if ((flags & kCloneParentSetTid) != 0) (void)user(c).copy_out(parent_tid, &pid, 4);
  if ((flags & kCloneChildSetTid) != 0) (void)p->memory->copy_out(child_tid, &pid, 4);
  if ((flags & kCloneChildClearTid) != 0) p->threads->clear_child_tid = child_tid;
  if ((flags & kCloneVfork) != 0) {
    // The caller waits until the child execs or ends (Linux's wait_for_vfork_done): its call
    // is answered by a retry (vfork_wait) once release_vfork_waiter ran.
    p->vfork_waiter = c.thread->tid;
    c.thread->vfork_child = p->pid;
    c.wait = WaitReason::kChildren;
    return kDeferred;
  }
  return pid;
}

namespace posix {

namespace {

// The retry of a call waiting for its vfork child (before the call's arguments are read again:
// a vfork child running on the parent's stack may have changed them): the child's pid once it
// exec'd or ended, kDeferred until then. No signal but a fatal one (which ends the process and
// this call with it) ends the wait: make_pending leaves such a thread uninterrupted.
int64_t vfork_wait(SyscallContext& c) {
  Thread* thread = c.thread;
  int pid = thread->vfork_child;
  const Process* child = find_process(pid);
  if (child != nullptr && child->vfork_waiter == thread->tid) {
    c.wait = WaitReason::kChildren;
    return kDeferred;
  }
  thread->vfork_child = 0;
  return pid;
}

}  // namespace

int64_t sys_fork(SyscallContext&) {
  kernel_clone_args args{0, nullptr, nullptr, nullptr, kSigChld, 0, 0, 0};
  return kernel_clone(&args);
}
int64_t sys_vfork(SyscallContext& c) {
  if (c.thread->vfork_child != 0) return vfork_wait(c);
  kernel_clone_args args{kCloneVfork | kCloneVm, nullptr, nullptr, nullptr, kSigChld, 0, 0, 0};
  return kernel_clone(&args);
}
int64_t sys_clone(SyscallContext& c) {
  if (c.thread->vfork_child != 0) return vfork_wait(c);
  // clone(flags, stack, parent_tid, child_tid, tls) on x86-64; the low byte is the exit signal.
  kernel_clone_args args{c.arg(0) & ~uint64_t{0xff},
                         nullptr,
                         reinterpret_cast<int*>(c.arg(3)),
                         reinterpret_cast<int*>(c.arg(2)),
                         static_cast<int>(c.arg(0) & 0xff),
                         c.arg(1),
                         0,
                         c.arg(4)};
  return kernel_clone(&args);
}

// clone3(args, size): Linux's struct clone_args, checked as copy_clone_args_from_user and
// clone3_args_valid do, then the clone path every other fork takes (the same errors for the
// same flags: glibc falls back to clone on ENOSYS only).
int64_t sys_clone3(SyscallContext& c) {
  if (c.thread->vfork_child != 0) return vfork_wait(c);
  struct CloneArgs {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
  };
  constexpr uint64_t kSizeVer0 = 64, kPage = 4096, kCSignal = 0xff, kCloneDetached = 0x400000;
  constexpr uint64_t kCloneParent = 0x8000;
  constexpr uint64_t kCloneClearSighand = 0x100000000ull, kCloneIntoCgroup = 0x200000000ull;
  constexpr uint64_t kMaxPidNsLevel = 32;
  uint64_t address = c.arg(0), size = c.arg(1);
  if (size > kPage) return -rt::kE2BIG;
  if (size < kSizeVer0) return -rt::kEINVAL;
  CloneArgs args{};
  uint64_t known = size < sizeof(args) ? size : sizeof(args);
  if (!user(c).copy_in(&args, address, known).ok()) return -rt::kEFAULT;
  // A larger struct than this one: what follows must be zero (copy_struct_from_user).
  for (uint64_t at = sizeof(args); at < size; at += 8) {
    uint64_t word = 0;
    uint64_t n = size - at < 8 ? size - at : 8;
    if (!user(c).copy_in(&word, address + at, n).ok()) return -rt::kEFAULT;
    if (word != 0) return -rt::kE2BIG;
  }
  if (args.set_tid_size > kMaxPidNsLevel) return -rt::kEINVAL;
  if (args.set_tid == 0 && args.set_tid_size > 0) return -rt::kEINVAL;
  if (args.set_tid != 0 && args.set_tid_size == 0) return -rt::kEINVAL;
  if ((args.exit_signal & ~kCSignal) != 0 || args.exit_signal > static_cast<uint64_t>(kSignals)) {
    return -rt::kEINVAL;
  }
  if ((args.flags & kCloneIntoCgroup) != 0 && (args.cgroup > 0x7fffffff || size < 88)) {
    return -rt::kEINVAL;
  }
  if ((args.flags & ~(0xffffffffull | kCloneClearSighand | kCloneIntoCgroup)) != 0) {
    return -rt::kEINVAL;
  }
  if ((args.flags & (kCloneDetached | kCSignal)) != 0) return -rt::kEINVAL;
  if ((args.flags & (kCloneSighand | kCloneClearSighand)) == (kCloneSighand | kCloneClearSighand)) {
    return -rt::kEINVAL;
  }
  if ((args.flags & (kCloneThread | kCloneParent)) != 0 && args.exit_signal != 0) {
    return -rt::kEINVAL;
  }
  // The stack: none, or a range of user memory (its top is the child's rsp).
  if (args.stack == 0) {
    if (args.stack_size != 0) return -rt::kEINVAL;
  } else if (args.stack_size == 0 || args.stack + args.stack_size < args.stack ||
             args.stack + args.stack_size > mm::kUserTop) {
    return -rt::kEINVAL;
  }
  // GAP: set_tid (a chosen pid), CLONE_INTO_CGROUP and CLONE_CLEAR_SIGHAND are accepted and
  // not acted on, as clone's other flags are.
  kernel_clone_args kargs{args.flags,
                          reinterpret_cast<int*>(args.pidfd),
                          reinterpret_cast<int*>(args.child_tid),
                          reinterpret_cast<int*>(args.parent_tid),
                          static_cast<int>(args.exit_signal),
                          args.stack + args.stack_size,
                          0,
                          args.tls};
  return kernel_clone(&kargs);
}

extern "C" __attribute__((noinline)) int do_execveat_common(int fd, const char* filename,
                                                            SyscallContext* c) {
  (void)fd;
  ExecArguments arguments;
  auto copied = arguments.from_user(user(*c), c->arg(1), c->arg(2));
  if (!copied.ok()) {
    arguments.release();
    return -copied.error().code;
  }
  abi::UserRegisters registers{};
  char interpreter[kPathMax] = {};
  auto loaded = exec_image(c->process, filename, arguments, registers, interpreter);
  // What sched_process_exec's raw tracepoint programs read of the exec, as Linux's bprm after
  // loading (p: the new stack's top; no file kept past the load; interp: the file loaded, a
  // script's interpreter).
  struct linux_binprm bprm = {};
  bprm.mm = &c->process->linux_mm;
  bprm.p = registers.rsp;
  bprm.argc = static_cast<int>(arguments.argc);
  bprm.envc = static_cast<int>(arguments.envc);
  bprm.filename = filename;
  bprm.interp = interpreter;
  arguments.release();
  if (!loaded.ok()) return -loaded.error().code;
  release_vfork_waiter(c->process);  // its own address space now: a vfork parent goes on
  close_on_exec(*c->process->files);
  // The other threads end; the caller becomes the leader (Linux's de_thread).
  Thread* thread = c->thread;
  exec_kill_other_threads(thread);
  thread->clear_child_tid = 0;
  thread->altstack_sp = thread->altstack_size = 0;
  thread->altstack_flags = 2;  // SS_DISABLE
  sched_process_exec(*c->process, filename, &bprm);
  // The old TCB waits on a Reply nobody answers; it goes.
  if (auto started = start_thread(thread, registers); !started.ok()) {
    finish_process(c->process, 9);
  }
  return 0;
}

int64_t sys_execve(SyscallContext& c) {
  char path[kPathMax];
  if (auto r = copy_path(c, c.arg(0), path); !r.ok()) return -r.error().code;
  int result = do_execveat_common(-100, path, &c);
  return result == 0 ? kNoReply : result;
}

// One thread's end (exit), as Linux's do_exit: its clear_child_tid is zeroed and woken; the
// process ends with its last thread.
extern "C" __attribute__((noinline)) void do_exit(long code, Thread* thread) {
  exit_thread(thread, static_cast<int>(code));
}

// exit_group: every thread ends; the caller's clear_child_tid is zeroed as at its own exit
// (the others' do not matter: the memory goes).
extern "C" __attribute__((noinline)) void do_group_exit(long code, Thread* thread) {
  Process* process = thread->process;
  if (thread->clear_child_tid != 0 && process->memory != nullptr) {
    uint32_t zero = 0;
    (void)process->memory->copy_out(thread->clear_child_tid, &zero, 4);
  }
  finish_process(process, static_cast<int>(code));
}

int64_t sys_exit(SyscallContext& c) {
  do_exit(static_cast<long>((c.arg(0) & 0xff) << 8), c.thread);
  return kNoReply;
}
int64_t sys_exit_group(SyscallContext& c) {
  do_group_exit(static_cast<long>((c.arg(0) & 0xff) << 8), c.thread);
  return kNoReply;
}

namespace {

// What a waiting parent finds in `child`, in do_wait's order: its exit (a zombie; when `exits`),
// a stop not yet reported (`stops`; `signal` is the stop signal), a continue not yet reported
// (`continues`). A stop or continue report is taken unless `keep` (WNOWAIT).
enum class ChildChange : uint8_t { kNone, kExited, kStopped, kContinued };
ChildChange take_change(Process& child, bool exits, bool stops, bool continues, bool keep,
                        int& signal) {
  if (child.state == ProcessState::kZombie)
    return exits ? ChildChange::kExited : ChildChange::kNone;
  if (stops && child.stopped && child.stop_report != 0) {
    signal = child.stop_report;
    if (!keep) child.stop_report = 0;  // once per stop
    return ChildChange::kStopped;
  }
  if (continues && child.continue_report) {
    if (!keep) child.continue_report = false;
    return ChildChange::kContinued;
  }
  return ChildChange::kNone;
}

// sched_process_wait for a wait on `pid` (wait4's numbering), once per call: a blocked wait is
// dispatched again when a child changes.
void trace_wait(SyscallContext& c, int64_t pid) {
  if (c.thread->blocked) return;
  sched_process_wait(*c.process, pid > 0    ? static_cast<int>(pid)
                                 : pid == 0 ? c.process->pgid
                                 : pid < -1 ? static_cast<int>(-pid)
                                            : 0);
}

// The end of a wait that found `child`: its rusage (its own and its reaped children's time,
// Linux's RUSAGE_BOTH; a stopped or continued child's too) to `usage_address` when given, and
// a zombie reaped unless `keep`. EFAULT for the rusage.
int64_t finish_wait(SyscallContext& c, Process& child, uint64_t usage_address, bool keep) {
  if (usage_address != 0) {
    Rusage usage = rusage_of(reaped_usage(child));
    if (auto r = user(c).copy_out(usage_address, &usage, sizeof(usage)); !r.ok()) {
      return -rt::kEFAULT;
    }
  }
  if (child.state == ProcessState::kZombie && !keep) {
    c.process->children_usage += reaped_usage(child);
    reap_process(&child);
  }
  return 0;
}

}  // namespace

int64_t sys_wait4(SyscallContext& c) {
  int64_t pid = static_cast<int32_t>(c.arg(0));
  uint64_t status_address = c.arg(1);
  uint64_t options = c.arg(2);
  constexpr uint64_t kNoHang = 1, kUntraced = 2, kContinued = 8;
  if ((options & ~uint64_t{0x0100000b | 0x60000000}) != 0) return -rt::kEINVAL;
  trace_wait(c, pid);
  bool any = false;
  for (Process* p = first_process(); p != nullptr; p = p->next) {
    if (!matches(c.process, p, pid)) continue;
    any = true;
    int status = 0, signal = 0;
    switch (take_change(*p, true, (options & kUntraced) != 0, (options & kContinued) != 0, false,
                        signal)) {
      case ChildChange::kExited: status = p->wait_status; break;
      case ChildChange::kStopped: status = (signal << 8) | 0x7f; break;  // WIFSTOPPED
      case ChildChange::kContinued: status = 0xffff; break;              // WIFCONTINUED
      case ChildChange::kNone: continue;
    }
    if (status_address != 0) {
      if (auto r = user(c).copy_out(status_address, &status, 4); !r.ok()) return -rt::kEFAULT;
    }
    int64_t found = p->pid;
    if (int64_t e = finish_wait(c, *p, c.arg(3), false); e != 0) return e;
    return found;
  }
  if (!any) return -rt::kECHILD;
  if ((options & kNoHang) != 0) return 0;
  c.wait = WaitReason::kChildren;  // retried once a child changes (or a signal comes)
  return kDeferred;
}

// waitid: as wait4, the children chosen by P_ALL, P_PID or P_PGID (0: the caller's group), the
// changes asked for (WEXITED, WSTOPPED, WCONTINUED; WNOWAIT leaves them to be waited for
// again), told in a siginfo (SIGCHLD, CLD_*, pid, uid, status); nothing found with WNOHANG
// writes a zero siginfo. No pidfds exist here: P_PIDFD is EBADF (EINVAL for a negative one).
int64_t sys_waitid(SyscallContext& c) {
  constexpr int kPAll = 0, kPPid = 1, kPPgid = 2, kPPidfd = 3;
  constexpr uint64_t kNoHang = 1, kStopped = 2, kExited = 4, kContinued = 8, kNoWait = 0x01000000;
  constexpr uint64_t kKnown = kNoHang | kStopped | kExited | kContinued | kNoWait | 0xe0000000;
  constexpr int kSigChld = 17, kSigCont = 18;
  constexpr int kCldExitedCode = 1, kCldKilled = 2, kCldDumped = 3, kCldStopped = 5,
                kCldContinued = 6;
  int which = static_cast<int>(c.arg(0));
  int64_t id = static_cast<int32_t>(c.arg(1));
  uint64_t info_address = c.arg(2), options = c.arg(3), usage_address = c.arg(4);
  if ((options & ~kKnown) != 0 || (options & (kExited | kStopped | kContinued)) == 0) {
    return -rt::kEINVAL;
  }
  int64_t pid;
  if (which == kPAll) {
    pid = -1;
  } else if (which == kPPid) {
    if (id <= 0) return -rt::kEINVAL;
    pid = id;
  } else if (which == kPPgid) {
    if (id < 0) return -rt::kEINVAL;
    pid = id == 0 ? 0 : -id;
  } else if (which == kPPidfd) {
    return id < 0 ? -rt::kEINVAL : -rt::kEBADF;
  } else {
    return -rt::kEINVAL;
  }
  trace_wait(c, pid);
  // si_signo, si_errno, si_code, (pad), si_pid, si_uid, si_status: what Linux writes.
  struct {
    int32_t signo, error, code, pad, pid;
    uint32_t uid;
    int32_t status;
  } info = {};
  bool any = false;
  bool keep = (options & kNoWait) != 0;
  Process* found = nullptr;
  for (Process* p = first_process(); p != nullptr; p = p->next) {
    if (!matches(c.process, p, pid)) continue;
    any = true;
    int signal = 0;
    switch (take_change(*p, (options & kExited) != 0, (options & kStopped) != 0,
                        (options & kContinued) != 0, keep, signal)) {
      case ChildChange::kExited: {
        int status = p->wait_status;
        bool killed = (status & 0x7f) != 0;
        info.code = !killed ? kCldExitedCode : (status & 0x80) != 0 ? kCldDumped : kCldKilled;
        info.status = killed ? status & 0x7f : (status >> 8) & 0xff;
        break;
      }
      case ChildChange::kStopped:
        info.code = kCldStopped;
        info.status = signal;
        break;
      case ChildChange::kContinued:
        info.code = kCldContinued;
        info.status = kSigCont;
        break;
      case ChildChange::kNone: continue;
    }
    info.signo = kSigChld;
    info.pid = p->pid;
    info.uid = p->credentials.uid;
    found = p;
    break;
  }
  if (!any) return -rt::kECHILD;
  if (found == nullptr && (options & kNoHang) == 0) {
    c.wait = WaitReason::kChildren;  // retried once a child changes (or a signal comes)
    return kDeferred;
  }
  if (info_address != 0) {
    if (auto r = user(c).copy_out(info_address, &info, sizeof info); !r.ok()) return -rt::kEFAULT;
  }
  return found != nullptr ? finish_wait(c, *found, usage_address, keep) : 0;
}

int64_t sys_kill(SyscallContext& c) {
  int64_t pid = static_cast<int32_t>(c.arg(0));
  int signal = static_cast<int>(c.arg(1));
  if (signal < 0 || signal > kSignals) return -rt::kEINVAL;
  return send_signal(c.process, pid, signal);
}
int64_t sys_tkill(SyscallContext& c) {
  int signal = static_cast<int>(c.arg(1));
  int64_t tid = static_cast<int32_t>(c.arg(0));
  if (signal < 0 || signal > kSignals || tid <= 0) return -rt::kEINVAL;
  return send_thread_signal(c.process, 0, static_cast<int>(tid), signal);
}
int64_t sys_tgkill(SyscallContext& c) {
  int signal = static_cast<int>(c.arg(2));
  int64_t tgid = static_cast<int32_t>(c.arg(0)), tid = static_cast<int32_t>(c.arg(1));
  if (signal < 0 || signal > kSignals || tid <= 0 || tgid <= 0) return -rt::kEINVAL;
  return send_thread_signal(c.process, static_cast<int>(tgid), static_cast<int>(tid), signal);
}

namespace {
// The siginfo a caller queues (rt_sigqueueinfo, rt_tgsigqueueinfo): its si_code, si_pid,
// si_uid and si_value as it wrote them. Linux lets a non-negative si_code (what the kernel
// sends) or SI_TKILL go only to the caller itself (EPERM otherwise).
int64_t read_queued_info(SyscallContext& c, uint64_t address, SignalInfo& info) {
  uint8_t raw[32];
  if (!user(c).copy_in(raw, address, sizeof raw).ok()) return -rt::kEFAULT;
  memcpy(&info.code, raw + 8, 4);
  memcpy(&info.pid, raw + 16, 4);
  memcpy(&info.uid, raw + 20, 4);
  memcpy(&info.value, raw + 24, 8);
  return 0;
}
bool kernel_code(const SignalInfo& info) { return info.code >= 0 || info.code == kSiTkill; }
}  // namespace

int64_t sys_rt_sigqueueinfo(SyscallContext& c) {
  int64_t pid = static_cast<int32_t>(c.arg(0));
  int signal = static_cast<int>(c.arg(1));
  SignalInfo info;
  if (int64_t e = read_queued_info(c, c.arg(2), info); e != 0) return e;
  if (kernel_code(info) && pid != c.thread->tid) return -rt::kEPERM;
  if (signal < 0 || signal > kSignals) return -rt::kEINVAL;
  return queue_signal(c.process, pid, signal, info);
}

int64_t sys_rt_tgsigqueueinfo(SyscallContext& c) {
  int64_t tgid = static_cast<int32_t>(c.arg(0)), tid = static_cast<int32_t>(c.arg(1));
  int signal = static_cast<int>(c.arg(2));
  SignalInfo info;
  if (int64_t e = read_queued_info(c, c.arg(3), info); e != 0) return e;
  if (tid <= 0 || tgid <= 0) return -rt::kEINVAL;
  if (kernel_code(info) && tid != c.thread->tid) return -rt::kEPERM;
  if (signal < 0 || signal > kSignals) return -rt::kEINVAL;
  return send_thread_signal(c.process, static_cast<int>(tgid), static_cast<int>(tid), signal,
                            &info);
}

int64_t sys_setpgid(SyscallContext& c) {
  int64_t pid = static_cast<int32_t>(c.arg(0));
  int64_t pgid = static_cast<int32_t>(c.arg(1));
  if (pgid < 0) return -rt::kEINVAL;
  Process* p = pid == 0 ? c.process : find_process(static_cast<int>(pid));
  if (p == nullptr || (p != c.process && p->ppid != c.process->pid)) return -rt::kESRCH;
  p->pgid = pgid == 0 ? p->pid : static_cast<int>(pgid);
  return 0;
}
int64_t sys_getpgid(SyscallContext& c) {
  int64_t pid = static_cast<int32_t>(c.arg(0));
  Process* p = pid == 0 ? c.process : find_process(static_cast<int>(pid));
  return p == nullptr ? -rt::kESRCH : p->pgid;
}
int64_t sys_getpgrp(SyscallContext& c) { return c.process->pgid; }
int64_t sys_setsid(SyscallContext& c) {
  if (c.process->pgid == c.process->pid) return -rt::kEPERM;
  c.process->sid = c.process->pgid = c.process->pid;
  return c.process->pid;
}
int64_t sys_getsid(SyscallContext& c) {
  int64_t pid = static_cast<int32_t>(c.arg(0));
  Process* p = pid == 0 ? c.process : find_process(static_cast<int>(pid));
  return p == nullptr ? -rt::kESRCH : p->sid;
}

int64_t sys_sched_yield(SyscallContext&) { return 0; }

}  // namespace posix
