// SPDX-License-Identifier: MIT
// What Linux tasks used (usage.hpp): the kernel's CPU time and the server's counts.
#include "task/usage.hpp"

#include "mm/address_space.hpp"
#include "sys/ipc.hpp"
#include "task/process.hpp"

namespace posix {

namespace {

TaskUsage read_tcb(uint64_t tcb) {
  TaskUsage time;
  if (tcb == 0) return time;
  sys::MessageRegisters out;
  abi::MessageInfo info;
  if (sys::invoke(tcb, abi::Label::kTcbReadCpuTime, nullptr, 0, &out, &info) != abi::Error::kNone ||
      info.length < abi::tcb_message::kCpuTimeLength) {
    return time;
  }
  time.ns = sys::message_word(out, abi::tcb_message::kCpuTimeNs);
  time.user_ticks = sys::message_word(out, abi::tcb_message::kCpuTimeUserTicks);
  time.system_ticks = sys::message_word(out, abi::tcb_message::kCpuTimeSystemTicks);
  return time;
}

// What threads that ended used, by CPU.
CpuUse ended_use[kMaxStatCpus];
uint64_t ended_switches = 0;

void add_use(CpuUse& to, const TaskUsage& time) {
  CpuSplit split = split_cpu_time(time);
  to.user_ns += split.user_ns;
  to.system_ns += split.system_ns;
}

}  // namespace

TaskUsage thread_usage(const Thread& thread) {
  TaskUsage time = thread.usage;  // the counts, and the time of earlier TCBs
  time += read_tcb(thread.tcb);
  return time;
}

TaskUsage process_usage(const Process& process) {
  TaskUsage time = process.ended_threads_usage;
  for (const Thread* t = process.threads; t != nullptr; t = t->next) time += thread_usage(*t);
  uint64_t pages = process.max_rss_pages;
  if (process.memory != nullptr && process.memory->peak_resident_pages() > pages)
    pages = process.memory->peak_resident_pages();
  if (pages * 4 > time.max_rss_kb) time.max_rss_kb = pages * 4;
  return time;
}

void keep_thread_usage(Thread& thread, bool ended) {
  TaskUsage time = thread_usage(thread);
  thread.usage = TaskUsage{};
  if (ended) {
    thread.process->ended_threads_usage += time;
    add_use(ended_use[thread.home_cpu % kMaxStatCpus], time);
    ended_switches += time.voluntary_switches;
  } else {
    thread.usage = time;
  }
}

TaskUsage reaped_usage(const Process& child) {
  TaskUsage time = process_usage(child);
  time += child.children_usage;
  return time;
}

void cpu_use(CpuUse (&per_cpu)[kMaxStatCpus], uint64_t& switches) {
  switches = ended_switches;
  for (uint32_t cpu = 0; cpu < kMaxStatCpus; ++cpu) per_cpu[cpu] = ended_use[cpu];
  for (const Process* p = first_process(); p != nullptr; p = p->next) {
    for (const Thread* t = p->threads; t != nullptr; t = t->next) {
      TaskUsage time = thread_usage(*t);
      add_use(per_cpu[t->home_cpu % kMaxStatCpus], time);
      switches += time.voluntary_switches;
    }
  }
}

}  // namespace posix
