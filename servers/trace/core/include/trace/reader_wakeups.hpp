// SPDX-License-Identifier: MIT
// ReaderWakeups: when a blocked reader of a ring or of trace_pipe is to be told to look again.
#pragma once

#include <stdint.h>

namespace trace {

// Linux wakes a perf ring's, a BPF ring buffer's or trace_pipe's wait queue when a record makes
// it worth reading (the rings' own wakeup rules, every trace line) and only if someone waits on
// it. Here readers wait in the POSIX server, which retries its calls blocked on trace-server
// files only when told (its trace wakeup notification, which the server binary signals): the
// rings and the trace buffer call wake(), a poll and a blocking trace_pipe read that found
// nothing call reader_waits(), and after each message take_due() says whether to signal. One
// flag for all objects: a reader told in vain looks, finds nothing and waits again. A reader
// whose poll found something does not wait (it reads first, and polls again before it blocks),
// so records that come meanwhile cost no signal (a tool that keeps up with a busy ring).
class ReaderWakeups {
 public:
  void wake() {
    ++wakeups_;
    pending_ = true;
  }
  // For PerfEventRing::set_wakeup, RingbufMap::set_wakeup and TraceBuffer::set_wakeup.
  static void wake(void* wakeups) { static_cast<ReaderWakeups*>(wakeups)->wake(); }
  // What any waiter hears, whatever its poll found before: an object hung up (EPOLLHUP).
  void wake_everyone() {
    wake();
    waiting_ = true;
  }
  // A poll found nothing to report, or a trace_pipe read would block: the reader may be
  // waiting from now on.
  void reader_waits() { waiting_ = true; }
  // True once something woke since a reader began waiting; the reader then counts as told.
  // A wakeup with no reader waiting is dropped: whoever looks next finds its record.
  bool take_due() {
    if (!pending_) return false;
    pending_ = false;
    if (!waiting_) return false;
    waiting_ = false;
    return true;
  }
  uint64_t wakeups() const { return wakeups_; }

 private:
  uint64_t wakeups_ = 0;
  bool pending_ = false;
  bool waiting_ = false;
};

}  // namespace trace
