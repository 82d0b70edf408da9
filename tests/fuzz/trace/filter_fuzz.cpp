// SPDX-License-Identifier: MIT
// libFuzzer target: hostile event filter expressions, compiled against events with numeric,
// string and generic fields and evaluated over records made of the same bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "support/malloc_allocator.hpp"
#include "trace/filter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  test_support::MallocAllocator allocator;
  {
    trace::EventRegistry registry(allocator);
    if (!registry.add_builtin().ok()) abort();
    const char* text = reinterpret_cast<const char*>(data);
    const char* targets[][2] = {{"syscalls", "sys_enter_mkdirat"},
                                {"bpf_trace", "bpf_trace_printk"},
                                {"raw_syscalls", "sys_enter"}};
    for (const auto& target : targets) {
      trace::Event* event = registry.find(target[0], target[1]);
      (void)trace::write_event_filter(*event, text, size, allocator);
      trace::TextBuffer out(allocator);
      trace::render_event_filter(*event, out);
      // The record: the input bytes, a dynamic string location that may point anywhere.
      uint8_t record[96] = {};
      std::memcpy(record, data, size < sizeof(record) ? size : sizeof(record));
      char comm[16] = {};
      std::memcpy(comm, data, size < 15 ? size : 15);
      const size_t record_sizes[] = {0, 12, sizeof(record)};
      for (size_t record_size : record_sizes) {
        trace::FilterRecord view{record, record_size, comm, size > 0 ? data[0] : 0u};
        (void)trace::event_filter_passes(*event, view);
      }
    }
  }
  if (allocator.in_use() != 0) abort();  // a leak
  return 0;
}
