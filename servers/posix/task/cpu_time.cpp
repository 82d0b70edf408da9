// SPDX-License-Identifier: MIT
// CPU time of Linux tasks from the kernel's per-thread counts (cpu_time.hpp).
#include "task/cpu_time.hpp"

#include "sys/ipc.hpp"
#include "task/process.hpp"

namespace posix {

namespace {

CpuTime read_tcb(uint64_t tcb) {
  CpuTime time;
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

}  // namespace

CpuTime thread_cpu_time(const Thread& thread) {
  CpuTime time = thread.cpu_base;
  time += read_tcb(thread.tcb);
  return time;
}

CpuTime process_cpu_time(const Process& process) {
  CpuTime time = process.ended_threads_cpu;
  for (const Thread* t = process.threads; t != nullptr; t = t->next) time += thread_cpu_time(*t);
  return time;
}

void keep_thread_cpu_time(Thread& thread, bool ended) {
  CpuTime time = thread_cpu_time(thread);
  thread.cpu_base = CpuTime{};
  if (ended) {
    thread.process->ended_threads_cpu += time;
  } else {
    thread.cpu_base = time;
  }
}

CpuTime reaped_cpu_time(const Process& child) {
  CpuTime time = process_cpu_time(child);
  time += child.children_cpu;
  return time;
}

}  // namespace posix
