// SPDX-License-Identifier: MIT
// TraceBuffer: the trace ring and Linux's `trace` / `trace_pipe` line format.
#include "trace/trace_buffer.hpp"

#include "rt/errno.hpp"

namespace trace {

struct TraceBuffer::Record {
  uint32_t size;  // bytes of the record with its text, a multiple of 8; 0 marks a wrap
  uint32_t text_length;
  TraceContext context;
  const char* text() const { return reinterpret_cast<const char*>(this + 1); }
};

namespace {

constexpr uint64_t align8(uint64_t value) { return (value + 7) & ~uint64_t{7}; }

// The column legend under "# tracer: nop" (Linux 6.1's print_func_help_header_irq).
constexpr const char kLegend[] =
    "#                                _-----=> irqs-off/BH-disabled\n"
    "#                               / _----=> need-resched\n"
    "#                              | / _---=> hardirq/softirq\n"
    "#                              || / _--=> preempt-depth\n"
    "#                              ||| / _-=> migrate-disable\n"
    "#                              |||| /     delay\n"
    "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
    "#              | |         |   |||||     |         |\n";

constexpr const char kPrintkPrefix[] = "bpf_trace_printk: ";
constexpr const char kMarkerPrefix[] = "tracing_mark_write: ";

char irq_column(uint8_t flags) {
  bool irqs_off = (flags & kTraceIrqsOff) != 0;
  bool bh_off = (flags & kTraceBhOff) != 0;
  if (irqs_off && bh_off) return 'D';
  if (irqs_off) return 'd';
  if (bh_off) return 'b';
  if ((flags & kTraceIrqsNoSupport) != 0) return 'X';
  return '.';
}

char resched_column(uint8_t flags) {
  bool need = (flags & kTraceNeedResched) != 0;
  bool preempt = (flags & kTracePreemptResched) != 0;
  if (need && preempt) return 'N';
  if (need) return 'n';
  if (preempt) return 'p';
  return '.';
}

char context_column(uint8_t flags) {
  bool nmi = (flags & kTraceNmi) != 0;
  bool hardirq = (flags & kTraceHardirq) != 0;
  bool softirq = (flags & kTraceSoftirq) != 0;
  if (nmi && hardirq) return 'Z';
  if (nmi) return 'z';
  if (hardirq && softirq) return 'H';
  if (hardirq) return 'h';
  if (softirq) return 's';
  return '.';
}

char nibble_column(unsigned nibble) { return nibble == 0 ? '.' : "0123456789abcdef"[nibble]; }

}  // namespace

TraceBuffer::~TraceBuffer() {
  if (ring_ != nullptr) allocator_.deallocate(ring_, capacity_);
}

void TraceBuffer::render_line(TextBuffer& out, const TraceContext& context, const char* text,
                              size_t length) {
  size_t comm_length = 0;
  while (comm_length < kTaskCommLen && context.comm[comm_length] != 0) ++comm_length;
  const char* comm = context.comm;
  if (context.pid == 0) {
    comm = "<idle>";
    comm_length = 6;
  } else if (comm_length == 0) {
    comm = "<...>";
    comm_length = 5;
  }
  if (comm_length < 16) out.append_repeated(' ', 16 - comm_length);
  out.append(comm, comm_length);
  out.append_char('-');
  size_t pid_start = out.size();
  out.append_signed(context.pid);
  out.pad_to(pid_start, 7);
  out.append(" [");
  out.append_unsigned(context.cpu, 10, 3, '0');
  out.append("] ");
  char flags[5] = {irq_column(context.flags), resched_column(context.flags),
                   context_column(context.flags), nibble_column(context.preempt_count & 0xf),
                   nibble_column(context.preempt_count >> 4)};
  out.append(flags, sizeof(flags));
  out.append_char(' ');
  out.append_unsigned(context.timestamp_ns / 1000000000, 10, 5, ' ');
  out.append_char('.');
  out.append_unsigned(context.timestamp_ns % 1000000000 / 1000, 10, 6, '0');
  out.append(": ");
  out.append(text, length);
  out.append_char('\n');
}

bool TraceBuffer::ensure_ring() {
  if (ring_ != nullptr) return true;
  uint64_t capacity = size_kb_ * 1024;
  ring_ = static_cast<uint8_t*>(allocator_.allocate(capacity, 8));
  if (ring_ == nullptr) return false;
  capacity_ = capacity;
  head_ = tail_ = count_ = 0;
  return true;
}

uint64_t TraceBuffer::next_offset(uint64_t offset) const {
  if (capacity_ - offset < sizeof(Record)) return 0;
  if (reinterpret_cast<const Record*>(ring_ + offset)->size == 0) return 0;
  return offset;
}

const TraceBuffer::Record* TraceBuffer::oldest() const {
  return reinterpret_cast<const Record*>(ring_ + head_);
}

void TraceBuffer::drop_oldest(bool overrun) {
  if (overrun) ++overruns_;
  head_ = next_offset(head_ + oldest()->size);
  if (--count_ == 0) head_ = tail_ = 0;
}

bool TraceBuffer::append_record(const TraceContext& context, const char* first, size_t first_length,
                                const char* second, size_t second_length) {
  if (!tracing_on_ || !ensure_ring()) return false;
  uint64_t size = align8(sizeof(Record) + first_length + second_length);
  if (size > capacity_ || first_length + second_length > UINT32_MAX) return false;
  uint64_t place;
  for (;;) {
    if (count_ == 0) {
      head_ = tail_ = 0;
      place = 0;
      break;
    }
    if (tail_ > head_) {
      if (capacity_ - tail_ >= size) {
        place = tail_;
        break;
      }
      // Wrap: mark the unused end so readers skip it.
      if (capacity_ - tail_ >= sizeof(Record)) reinterpret_cast<Record*>(ring_ + tail_)->size = 0;
      tail_ = 0;
      continue;
    }
    if (tail_ < head_ && head_ - tail_ >= size) {
      place = tail_;
      break;
    }
    drop_oldest(true);  // tail_ == head_ with entries: full
  }
  Record* record = reinterpret_cast<Record*>(ring_ + place);
  record->size = static_cast<uint32_t>(size);
  record->text_length = static_cast<uint32_t>(first_length + second_length);
  record->context = context;
  char* text = reinterpret_cast<char*>(record + 1);
  if (first_length > 0) __builtin_memcpy(text, first, first_length);
  if (second_length > 0) __builtin_memcpy(text + first_length, second, second_length);
  tail_ = place + size;
  ++count_;
  if (wakeup_function_ != nullptr) wakeup_function_(wakeup_cookie_);
  return true;
}

bool TraceBuffer::record(const TraceContext& context, const char* text, size_t length) {
  return append_record(context, text, length, nullptr, 0);
}

bool TraceBuffer::record_printk(const TraceContext& context, const char* message, size_t length) {
  return append_record(context, kPrintkPrefix, sizeof(kPrintkPrefix) - 1, message, length);
}

bool TraceBuffer::record_marker(const TraceContext& context, const char* text, size_t length) {
  if (length > 0 && text[length - 1] == '\n') --length;
  return append_record(context, kMarkerPrefix, sizeof(kMarkerPrefix) - 1, text, length);
}

void TraceBuffer::clear() {
  head_ = tail_ = count_ = overruns_ = 0;
  pending_.clear();
}

rt::Result<void> TraceBuffer::set_size_kb(uint64_t size_kb) {
  if (size_kb == 0 || size_kb > (uint64_t{1} << 40)) return rt::err(rt::kEINVAL);
  if (ring_ == nullptr) {
    size_kb_ = size_kb;
    return {};
  }
  uint8_t* ring = static_cast<uint8_t*>(allocator_.allocate(size_kb * 1024, 8));
  if (ring == nullptr) return rt::err(rt::kENOMEM);
  uint8_t* old_ring = ring_;
  uint64_t old_capacity = capacity_;
  uint64_t offset = head_;
  uint64_t old_count = count_;
  uint64_t overruns = overruns_;
  bool on = tracing_on_;
  ring_ = ring;
  capacity_ = size_kb * 1024;
  size_kb_ = size_kb;
  head_ = tail_ = count_ = overruns_ = 0;
  tracing_on_ = true;
  for (uint64_t i = 0; i < old_count; ++i) {
    const Record* record = reinterpret_cast<const Record*>(old_ring + offset);
    (void)append_record(record->context, record->text(), record->text_length, nullptr, 0);
    offset += record->size;
    if (old_capacity - offset < sizeof(Record) ||
        reinterpret_cast<const Record*>(old_ring + offset)->size == 0)
      offset = 0;
  }
  tracing_on_ = on;
  overruns_ += overruns;
  allocator_.deallocate(old_ring, old_capacity);
  return {};
}

rt::Result<void> TraceBuffer::render_trace(TextBuffer& out) const {
  out.append("# tracer: nop\n#\n# entries-in-buffer/entries-written: ");
  out.append_unsigned(count_);
  out.append_char('/');
  out.append_unsigned(entries_written());
  out.append("   #P:");
  out.append_unsigned(cpus_);
  out.append("\n#\n");
  out.append(kLegend, sizeof(kLegend) - 1);
  uint64_t offset = head_;
  for (uint64_t i = 0; i < count_; ++i) {
    const Record* record = reinterpret_cast<const Record*>(ring_ + offset);
    render_line(out, record->context, record->text(), record->text_length);
    offset = next_offset(offset + record->size);
  }
  if (!out.ok()) return rt::err(rt::kENOMEM);
  return {};
}

size_t TraceBuffer::consume_pipe(TextBuffer& out, size_t max_bytes) {
  size_t start = out.size();
  while (out.size() - start < max_bytes) {
    if (pending_.empty()) {
      if (count_ == 0) break;
      const Record* record = oldest();
      TextBuffer line(allocator_);
      render_line(line, record->context, record->text(), record->text_length);
      if (!line.ok()) break;  // no memory: the entry stays for a later read
      size_t room = max_bytes - (out.size() - start);
      if (line.size() > room && out.size() > start) break;  // whole lines when possible
      pending_ = static_cast<TextBuffer&&>(line);
      drop_oldest(false);
    }
    size_t room = max_bytes - (out.size() - start);
    size_t take = pending_.size() < room ? pending_.size() : room;
    out.append(pending_.data(), take);
    pending_.erase_front(take);
  }
  return out.size() - start;
}

}  // namespace trace
