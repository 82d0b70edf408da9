// SPDX-License-Identifier: MIT
// The process table, threads of Linux processes, fork, clone of threads, exit and the waits of
// blocked calls.
#include "task/process.hpp"

#include <string.h>

#include "kernel/sched_tracepoints.hpp"
#include "kernel/task_struct.hpp"
#include "platform/kernel.hpp"
#include "rt/new.hpp"
#include "sys/clock.hpp"
#include "task/exec.hpp"
#include "task/replies.hpp"
#include "tracing/trace_service.hpp"
#include "tracing/uprobes.hpp"
#include "tty/console.hpp"

namespace posix {

namespace {

using abi::Error;
using abi::Label;

TaskResources resources;
FileTree* tree = nullptr;
Process* processes = nullptr;
int next_pid = 1;
constexpr uint64_t kProcessPriority = 100;

// Linux's alloc_pid: the next number up to pid_max, then again from RESERVED_PIDS, skipping
// every number still in use as a thread, process, group or session id.
int allocate_pid() {
  for (int tries = 0; tries < kPidMax; ++tries) {
    int pid = next_pid++;
    if (next_pid >= kPidMax) next_pid = kReservedPids;
    bool used = false;
    for (Process* p = processes; p != nullptr && !used; p = p->next) {
      used = p->pid == pid || p->pgid == pid || p->sid == pid;
      for (Thread* t = p->threads; t != nullptr && !used; t = t->next) used = t->tid == pid;
    }
    if (!used) return pid;
  }
  return 0;  // every number is taken
}

Process* allocate_process() {
  auto* process = static_cast<Process*>(platform::heap().allocate(sizeof(Process), 16));
  if (process == nullptr) return nullptr;
  int pid = allocate_pid();
  if (pid == 0) {
    platform::heap().deallocate(process, sizeof(Process));
    return nullptr;
  }
  memset(process, 0, sizeof(Process));
  process->pid = pid;
  process->umask = 022;
  process->credentials = Credentials::root();
  process->dumpable = true;
  process->start_ns = sys::clock_ns();
  process->next = processes;
  processes = process;
  return process;
}

Thread* last_found = nullptr;  // find_thread's
uint64_t destroyed_count = 0;  // threads_destroyed()

// Linux frees a task_struct an RCU grace period after its last use: programs that run late
// still read the dead task's fields. Here the scheduling tracepoints' programs run on kernel
// samples drained a few milliseconds after the event, and they read the task_struct inside
// the process record: a released record waits kRetireNs (or until kRetiredMax newer ones wait)
// before its memory may be reused.
constexpr uint64_t kRetireNs = 100'000'000;
constexpr size_t kRetiredMax = 16;
// Thread records hold the task_structs of threads other than the leader: they wait too.
struct Retired {
  void* record;
  size_t size;
  uint64_t since;
};
Retired retired[kRetiredMax];
size_t retired_first = 0, retired_count = 0;

void retire(void* record, size_t size) {
  uint64_t now = sys::clock_ns();
  while (retired_count > 0 &&
         (retired_count == kRetiredMax || now - retired[retired_first].since >= kRetireNs)) {
    platform::heap().deallocate(retired[retired_first].record, retired[retired_first].size);
    retired_first = (retired_first + 1) % kRetiredMax;
    --retired_count;
  }
  retired[(retired_first + retired_count++) % kRetiredMax] = Retired{record, size, now};
}

void release_process(Process* process) {
  for (Process** at = &processes; *at != nullptr; at = &(*at)->next) {
    if (*at == process) {
      *at = process->next;
      break;
    }
  }
  retire(process, sizeof(Process));
}

// A thread record for `process` (no TCB yet), with a new tid or the pid (the leader).
Thread* allocate_thread(Process* process, int tid) {
  auto* thread = static_cast<Thread*>(platform::heap().allocate(sizeof(Thread), 16));
  if (thread == nullptr) return nullptr;
  memset(thread, 0, sizeof(Thread));
  thread->process = process;
  thread->tid = tid;
  thread->altstack_flags = 2;       // SS_DISABLE
  Thread** at = &process->threads;  // in the order made: the leader first
  while (*at != nullptr) at = &(*at)->next;
  *at = thread;
  return thread;
}

void delete_cap(uint64_t& slot) {
  if (slot == 0) return;
  (void)sys::cnode_delete(sys::kServerSlotCNode, slot);
  platform::free_slot(slot);
  slot = 0;
}

// Ends a thread at once: its blocked call is not answered, its TCB and its own cap go.
void destroy_thread(Thread* thread) {
  ++destroyed_count;
  Process* process = thread->process;
  // A thread that ran and is not the leader was a Linux task of its own (the leader's end is
  // the process's: finish_process, free_process).
  if (thread->tcb != 0 && thread->tid != process->pid) sched_thread_exit(*thread);
  if (last_found == thread) last_found = nullptr;
  futex_cancel(thread);
  fifo_cancel(*thread);
  if (thread->blocked) {
    return_reply(thread->reply);
    thread->blocked = false;
    publish_waiting_registers(*thread, false);
  }
  if (thread->tcb != 0) keep_thread_usage(*thread, true);
  delete_cap(thread->tcb);
  if (thread->fault_cap != process->fault_cap) delete_cap(thread->fault_cap);
  for (Thread** at = &process->threads; *at != nullptr; at = &(*at)->next) {
    if (*at == thread) {
      *at = thread->next;
      break;
    }
  }
  retire(thread, sizeof(Thread));
}

// A cap of the server's endpoint badged with `badge` (a tid).
rt::Result<uint64_t> badged_endpoint(uint64_t badge) {
  uint64_t slot = TRY(platform::allocate_slot());
  if (sys::cnode_mint(sys::kServerSlotCNode, slot, resources.endpoint, abi::kRightsAll, badge) !=
      Error::kNone) {
    platform::free_slot(slot);
    return rt::err(rt::kENOMEM, "cannot badge the fault endpoint");
  }
  return slot;
}

// A process that ran (not a failed fork's) leaves the table: sched_process_free first.
uint64_t child_event_count = 0;

void free_process(Process* process) {
  note_child_event();
  sched_process_free(*process);
  set_exe(process, nullptr);
  set_cwd(process, nullptr);
  release_process(process);
}

}  // namespace

int last_pid() { return next_pid > 1 ? next_pid - 1 : 0; }

Process* current = nullptr;

void init_tasks(const TaskResources& with, FileTree& files) {
  resources = with;
  tree = &files;
}

FileTree& file_tree() { return *tree; }

namespace {

// `*slot` becomes `inode`, held; the old one is let go.
void hold_in(Inode*& slot, Inode* inode) {
  Inode* old = slot;
  if (inode != nullptr) inode->holds++;
  slot = inode;
  if (old != nullptr) {
    old->holds--;
    tree->forget_if_unused(old);
  }
}

}  // namespace

void set_exe(Process* process, Inode* file) { hold_in(process->exe, file); }
void set_cwd(Process* process, Inode* directory) { hold_in(process->cwd, directory); }

bool capable(Process& process, int cap) {
  if (!process.credentials.capable(cap)) return false;
  process.used_privilege = true;
  return true;
}

Process* find_process(int pid) {
  for (Process* p = processes; p != nullptr; p = p->next) {
    if (p->pid == pid) return p;
  }
  return nullptr;
}

Thread* find_thread(int tid) {
  // Every message looks its thread up: the last one found first (threads of a process that
  // calls in a loop), forgotten when it is destroyed.
  if (last_found != nullptr && last_found->tid == tid) return last_found;
  for (Process* p = processes; p != nullptr; p = p->next) {
    for (Thread* t = p->threads; t != nullptr; t = t->next) {
      if (t->tid == tid) return last_found = t;
    }
  }
  return nullptr;
}

Process* first_process() { return processes; }

// The process's badged fault endpoint cap (badge = pid), made once; its leader faults to it.
rt::Result<void> ensure_fault_cap(Process* process) {
  if (process->fault_cap != 0) return {};
  process->fault_cap = TRY(badged_endpoint(static_cast<uint64_t>(process->pid)));
  return {};
}

namespace {

Error set_trace_identity(uint64_t tcb, const Thread& thread, bool continues = false) {
  const Process& process = *thread.process;
  uint64_t words[abi::tcb_message::kTraceLength] = {};
  words[abi::tcb_message::kTraceIds] =
      static_cast<uint32_t>(thread.tid) | static_cast<uint64_t>(process.pid) << 32;
  static_assert(sizeof(process.comm) == 16);
  memcpy(&words[abi::tcb_message::kTraceComm], process.comm, sizeof(process.comm));
  words[abi::tcb_message::kTraceTask] =
      reinterpret_cast<uint64_t>(task_struct_of(const_cast<Thread*>(&thread)));
  words[abi::tcb_message::kTraceFlags] = continues ? abi::tcb_message::kTraceContinues : 0;
  return sys::invoke(tcb, Label::kTcbSetTraceIdentity, words);
}

}  // namespace

void publish_trace_identity(Process* process) {
  for (Thread* t = process->threads; t != nullptr; t = t->next) {
    if (t->tcb != 0) (void)set_trace_identity(t->tcb, *t);
  }
}

rt::Result<void> start_thread(Thread* thread, const abi::UserRegisters& registers) {
  Process* process = thread->process;
  if (thread->fault_cap == 0) {
    TRY(ensure_fault_cap(process));
    thread->fault_cap = process->fault_cap;
  }
  uint64_t tcb = TRY(platform::make_object(abi::ObjectType::kTcb));
  uint64_t configure[] = {resources.empty_cnode, 0, process->memory->vspace(), 0,
                          thread->fault_cap,     0};
  uint64_t abi_words[] = {static_cast<uint64_t>(abi::ThreadAbi::kLinux)};
  uint64_t priority[] = {kProcessPriority};
  uint64_t words[1 + abi::kUserRegisterWords];
  words[0] = abi::tcb_message::kWriteResume;
  memcpy(&words[1], &registers, sizeof(registers));
  Error e = sys::invoke(tcb, Label::kTcbConfigure, configure);
  if (e == Error::kNone) e = sys::invoke(tcb, Label::kTcbSetAbi, abi_words);
  if (e == Error::kNone) e = sys::invoke(tcb, Label::kTcbSetPriority, priority);
  // A thread that had a TCB (an exec replaces it) is the same Linux task going on.
  if (e == Error::kNone) e = set_trace_identity(tcb, *thread, thread->tcb != 0);
  if (e == Error::kNone && thread->home_cpu != 0) {
    uint64_t cpu[] = {thread->home_cpu};
    e = sys::invoke(tcb, Label::kTcbSetAffinity, cpu);
  }
  if (e == Error::kNone) e = sys::invoke(tcb, Label::kTcbWriteRegisters, words);
  if (e != Error::kNone) {
    tty::log("posix: cannot start a thread for pid %d: %s\n", process->pid, abi::error_name(e));
    delete_cap(tcb);
    return rt::err(rt::kENOMEM);
  }
  if (thread->tcb != 0) keep_thread_usage(*thread, false);
  delete_cap(thread->tcb);
  thread->tcb = tcb;
  return {};
}

}  // namespace posix

// Linux's sched_fork (kernel/sched/core.c), called for each new task before it first runs, with
// what it copied from its creator already in it (as dup_task_struct leaves it): where the task
// starts, its home CPU when its affinity allows that, else the lowest CPU the mask allows (the
// CPU its TCB is then bound to). Under this name and prototype fentry programs attach to it
// (bpftrace's kfunc support probe does).
extern "C" __attribute__((noinline)) int sched_fork(unsigned long clone_flags,
                                                    struct task_struct* p) {
  (void)clone_flags;
  posix::Thread* task = posix::find_thread(p->pid);
  if (task == nullptr) return -rt::kEINVAL;
  uint64_t allowed = task->affinity;
  if (allowed != 0 && (task->home_cpu >= 64 || (allowed >> task->home_cpu & 1) == 0)) {
    task->home_cpu = static_cast<uint32_t>(__builtin_ctzll(allowed));
  }
  if (task->home_cpu >= posix::platform::cpu_count()) task->home_cpu = 0;
  task->cpu = task->home_cpu;
  return 0;
}

namespace posix {

rt::Result<Thread*> clone_thread(Process* process, const Thread* from,
                                 const abi::UserRegisters& registers, uint64_t clone_flags) {
  int tid = allocate_pid();
  if (tid == 0) return rt::err(rt::kEAGAIN, "every pid is taken");
  Thread* thread = allocate_thread(process, tid);
  if (thread == nullptr) return rt::err(rt::kENOMEM);
  thread->signal_mask = from->signal_mask;
  thread->affinity = from->affinity;  // as Linux's clone: the mask is inherited
  thread->home_cpu = from->home_cpu;
  update_task_struct(*process);  // the new thread's task_struct, before it is ever scheduled
  if (sched_fork(clone_flags, task_struct_of(thread)) != 0) {
    destroy_thread(thread);
    return rt::err(rt::kEINVAL);
  }
  auto cap = badged_endpoint(static_cast<uint64_t>(thread->tid));
  if (!cap.ok()) {
    destroy_thread(thread);
    return cap.error();
  }
  thread->fault_cap = cap.value();
  if (auto started = start_thread(thread, registers); !started.ok()) {
    destroy_thread(thread);
    return started.error();
  }
  return thread;
}

void exec_kill_other_threads(Thread* survivor) {
  Process* process = survivor->process;
  while (process->threads != survivor || survivor->next != nullptr) {
    destroy_thread(process->threads != survivor ? process->threads : survivor->next);
  }
  if (survivor->tid != process->pid) {
    delete_cap(survivor->fault_cap);
    survivor->fault_cap = process->fault_cap;
    survivor->tid = process->pid;
  }
}

rt::Result<Process*> spawn_init(const char* path, const char* const* argv,
                                const char* const* envp) {
  Process* process = allocate_process();
  if (process == nullptr) return rt::err(rt::kENOMEM);
  process->ppid = 0;
  process->pgid = process->pid;
  process->sid = process->pid;
  set_cwd(process, tree->root());
  default_limits(process->limits);
  process->files = TRY(new_fd_table());
  // fds 0, 1 and 2 are the console.
  for (int fd = 0; fd < 3; ++fd) {
    File* console = TRY(new_file(FileKind::kConsole, kO_RDWR, nullptr));
    TRY(install_fd(*process->files, console, fd, false));
  }
  ExecArguments arguments;
  TRY(arguments.set(argv, envp));
  abi::UserRegisters registers{};
  rt::Result<void> loaded = exec_image(process, path, arguments, registers);
  arguments.release();
  if (!loaded.ok()) return loaded.error();
  Thread* thread = allocate_thread(process, process->pid);
  if (thread == nullptr) return rt::err(rt::kENOMEM);
  TRY(start_thread(thread, registers));
  update_task_struct(*process);
  tty::foreground_group() = process->pgid;
  return process;
}

void release_memory(Process* process) {
  mm::AddressSpace* memory = process->memory;
  if (memory == nullptr) return;
  process->memory = nullptr;
  process->file_maps.clear();  // what its areas mapped may go with them
  // setmax_mm_hiwater_rss: what it had stays its maxrss.
  if (memory->peak_resident_pages() > process->max_rss_pages)
    process->max_rss_pages = memory->peak_resident_pages();
  if (--memory->users != 0) return;
  memory->destroy();
  platform::heap().deallocate(memory, sizeof(mm::AddressSpace));
}

void release_vfork_waiter(Process* process) {
  if (process->vfork_waiter == 0) return;
  process->vfork_waiter = 0;
  note_child_event();  // the waiting vfork is retried as a wait4 is (WaitReason::kChildren)
}

rt::Result<Process*> fork_process(Process* parent, const Thread* thread,
                                  const abi::UserRegisters& registers, bool share_memory,
                                  uint64_t clone_flags) {
  Process* child = allocate_process();
  if (child == nullptr) return rt::err(rt::kENOMEM);
  child->ppid = parent->pid;
  child->pgid = parent->pgid;
  child->sid = parent->sid;
  set_cwd(child, parent->cwd);
  child->umask = parent->umask;
  for (int i = 0; i < Process::kLimits; ++i) child->limits[i] = parent->limits[i];
  child->credentials = parent->credentials;
  child->dumpable = parent->dumpable;
  child->nice = parent->nice;
  memcpy(child->actions, parent->actions, sizeof(child->actions));
  memcpy(child->comm, parent->comm, sizeof(child->comm));
  memcpy(child->cmdline, parent->cmdline, sizeof(child->cmdline));
  child->cmdline_length = parent->cmdline_length;
  set_exe(child, parent->exe);
  child->linux_mm = parent->linux_mm;  // the same addresses in the copied address space
  child->file_maps = parent->file_maps;
  auto fail = [&](rt::Error error) -> rt::Error {
    uprobes_exit(child);
    while (child->threads != nullptr) destroy_thread(child->threads);
    delete_cap(child->fault_cap);
    release_memory(child);
    put_fd_table(child->files);
    set_exe(child, nullptr);
    set_cwd(child, nullptr);
    release_process(child);
    return error;
  };
  auto files = copy_fd_table(*parent->files);
  if (!files.ok()) return fail(files.error());
  child->files = files.value();
  if (share_memory) {
    child->memory = parent->memory;
    ++child->memory->users;
    child->borrowed_memory = true;
  } else {
    void* memory = platform::heap().allocate(sizeof(mm::AddressSpace), 16);
    if (memory == nullptr) return fail(rt::err(rt::kENOMEM));
    child->memory = new (memory) mm::AddressSpace();
    if (auto made = child->memory->create(); !made.ok()) return fail(made.error());
    if (auto copied = parent->memory->fork_into(*child->memory); !copied.ok()) {
      return fail(copied.error());
    }
  }
  if (auto badged = ensure_fault_cap(child); !badged.ok()) return fail(badged.error());
  // The child's uprobes are in place before its thread runs into their int3s. GAP: a child
  // sharing its parent's memory gets none until it execs (uprobes_fork would take the parent's
  // int3s out of the one copy of the code they share): a probe it hits is not reported.
  if (!share_memory) {
    if (auto probed = uprobes_fork(parent, child); !probed.ok()) return fail(probed.error());
  }
  // Only the calling thread is copied, as Linux's fork; it keeps its mask and alternate stack.
  Thread* leader = allocate_thread(child, child->pid);
  if (leader == nullptr) return fail(rt::err(rt::kENOMEM));
  leader->signal_mask = thread->signal_mask;
  leader->affinity = thread->affinity;
  leader->home_cpu = thread->home_cpu;
  leader->altstack_sp = thread->altstack_sp;
  leader->altstack_size = thread->altstack_size;
  leader->altstack_flags = thread->altstack_flags;
  update_task_struct(*child);  // its task_struct, before it is ever scheduled
  if (sched_fork(clone_flags, task_struct_of(leader)) != 0) return fail(rt::err(rt::kEINVAL));
  abi::UserRegisters child_registers = registers;
  child_registers.rax = 0;
  if (auto started = start_thread(leader, child_registers); !started.ok()) {
    return fail(started.error());
  }
  update_task_struct(*child);
  return child;
}

void reap_process(Process* zombie) { free_process(zombie); }

namespace {

// The parent sees the child's end unless it ignores SIGCHLD (then the child is reaped now).
void notify_parent(Process* process) {
  Process* parent = find_process(process->ppid);
  if (parent == nullptr || parent->actions[17].handler == 1) {
    free_process(process);
    return;
  }
  // SIGCHLD: CLD_KILLED when a signal ended the child (its status is the signal's number),
  // else CLD_EXITED with its exit code; the child's pid and real uid.
  bool killed = (process->wait_status & 0x7f) != 0;
  SignalInfo info{killed ? kCldKilled : kCldExited, process->pid, process->credentials.uid,
                  killed ? process->wait_status & 0x7f : (process->wait_status >> 8) & 0xff};
  raise_signal(parent, 17, info);
}

}  // namespace

uint64_t trace_event_count = 0;
uint64_t console_event_count = 0;
uint64_t pipe_event_count = 0;

uint64_t child_events() { return child_event_count; }
uint64_t threads_destroyed() { return destroyed_count; }
void note_child_event() { ++child_event_count; }
void note_trace_event() { ++trace_event_count; }
void note_console_event() { ++console_event_count; }
void note_pipe_event() { ++pipe_event_count; }

void block_thread(Thread* thread, const SyscallContext& context, uint64_t trace_seen) {
  thread->blocked = true;
  thread->entered = true;
  thread->wait_reason = context.wait;
  // A wakeup that came while the call asked the trace server counts as unseen: it retries.
  thread->wait_mark = context.wait == WaitReason::kTrace     ? trace_seen
                      : context.wait == WaitReason::kConsole ? console_event_count
                      : context.wait == WaitReason::kPipe    ? pipe_event_count
                                                             : child_event_count;
}

void finish_process(Process* process, int status) {
  if (process->state == ProcessState::kZombie) return;
  note_child_event();  // its parent's, and init's for its orphans
  // Every thread ends (exit_group, a fatal signal); their blocked calls are not answered.
  while (process->threads != nullptr) destroy_thread(process->threads);
  process->state = ProcessState::kZombie;
  process->wait_status = status;
  // The end runs as the ending task, as Linux's do_exit does: tracing sees it as current for
  // sched_process_exit and for the SIGCHLD it sends its parent (its leader: another thread's
  // exit_group, whose own end was its thread's, leaves the leader's to the leader).
  bool elsewhere = process != current || published_current_tid() != process->pid;
  if (elsewhere) publish_current_task(process);
  sched_process_exit(*process);
  delete_cap(process->fault_cap);
  put_fd_table(process->files);
  process->files = nullptr;
  uprobes_exit(process);
  release_memory(process);
  release_vfork_waiter(process);
  // Groups linked to the session through it may be orphaned by its end.
  OrphanCandidates orphan_candidates = groups_linked_through(process);
  // Orphans go to init; zombies among them are reaped there.
  for (Process* p = processes; p != nullptr;) {
    Process* next = p->next;
    if (p->ppid == process->pid) {
      p->ppid = 1;
      update_task_struct(*p);
      if (p->state == ProcessState::kZombie && find_process(1) != nullptr &&
          find_process(1)->actions[17].handler == 1) {
        free_process(p);
      }
    }
    p = next;
  }
  update_task_struct(*process);
  if (process->pid == 1) {
    tty::log("posix: init exited with status 0x%x\n", static_cast<unsigned>(status));
    power_off(status);
  }
  if (elsewhere) publish_current_task(process);  // without the address space it no longer has
  notify_parent(process);                        // may free `process`
  if (elsewhere) publish_current_task(current);
  hang_up_orphaned_groups(orphan_candidates);
}

void exit_thread(Thread* thread, int status) {
  Process* process = thread->process;
  if (thread->clear_child_tid != 0 && process->memory != nullptr) {
    // As Linux's mm_release: the word is zeroed and one waiter woken (pthread_join's).
    uint32_t zero = 0;
    if (process->memory->copy_out(thread->clear_child_tid, &zero, 4).ok()) {
      (void)futex_wake(process->memory, thread->clear_child_tid, 1, ~0u);
    }
  }
  if (process->threads == thread && thread->next == nullptr) {
    finish_process(process, status);
    return;
  }
  destroy_thread(thread);
}

namespace {

// Whether the blocked call certainly cannot go on yet: nothing it waits for changed since it
// blocked, no signal came and its deadline is ahead. This runs for every blocked thread after
// every message: the clock is read (into `now`, once per walk) only for a call with a deadline.
bool waits_on(const Thread* t, uint64_t& now) {
  if (t->wait_reason == WaitReason::kAny || !t->entered || t->interrupted) return false;
  uint64_t changes = t->wait_reason == WaitReason::kTrace     ? trace_event_count
                     : t->wait_reason == WaitReason::kConsole ? console_event_count
                     : t->wait_reason == WaitReason::kPipe    ? pipe_event_count
                                                              : child_event_count;
  if (t->wait_mark != changes) return false;
  if (t->sleep_deadline == 0) return true;
  if (now == 0) now = sys::clock_ns();
  return now < t->sleep_deadline;
}

// Retries one blocked call; true when it went on (answered, or its thread or process ended).
bool retry(Thread* t) {
  Process* p = t->process;
  int tid = t->tid;
  uint64_t trace_seen = trace_event_count;  // before the call polls the trace server
  SyscallContext context{p, t, t->saved, false, t->entered};
  t->entered = true;
  int64_t result = dispatch_syscall(context);
  if (result == kDeferred) {
    block_thread(t, context, trace_seen);  // it saw every change so far
    if (!t->interrupted) return false;
    if (deliverable_signals(t) == 0) {  // another thread took the signal: wait on
      t->interrupted = false;
      return false;
    }
    trace_interrupted_exit(context);
    result = -rt::kEINTR;  // a signal's handler runs instead (or restarts the call)
    t->sleep_deadline = 0;
    futex_cancel(t);
    fifo_cancel(*t);
  }
  // The thread may be gone now (exit, execve, a fatal signal): look it up again.
  if (result == kNoReply || find_thread(tid) != t || !t->blocked) return true;
  t->blocked = false;
  publish_waiting_registers(*t, false);
  uint64_t reply = t->reply;
  t->reply = 0;
  result = deliver_signals(context, result);
  if (result == kNoReply) {  // the frame could not be written: the process is gone
    return_reply(reply);
    return true;
  }
  answer(reply, context, result);
  return_reply(reply);
  return true;
}

}  // namespace

void wake_blocked() {
  // A retried call may change what others wait for (and the table itself: wait4 reaps, exits
  // free threads), so the walk starts over after each call that went on, a bounded number of
  // times.
  uint64_t now = 0;
  for (int round = 0; round < 256; ++round) {
    bool progress = false;
    for (Process* p = processes; p != nullptr && !progress; p = p->next) {
      if (p->state != ProcessState::kRunning || p->stopped) continue;
      for (Thread* t = p->threads; t != nullptr; t = t->next) {
        if (!t->blocked || waits_on(t, now)) continue;
        if (retry(t)) {
          progress = true;
          break;
        }
      }
    }
    if (!progress) return;
  }
}

}  // namespace posix
