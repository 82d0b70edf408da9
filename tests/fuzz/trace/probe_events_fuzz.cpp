// SPDX-License-Identifier: MIT
// libFuzzer target: hostile kprobe_events / uprobe_events / dynamic_events writes (and
// set_event_pid, trace_clock, trace_marker ones) through the tracefs facade, then every listing,
// profile and format file they create, and the events' lines through set_event_pid's filter. Any
// errno is fine; a crash, a leak or undefined behaviour is not.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "support/malloc_allocator.hpp"
#include "trace/tracefs.hpp"

namespace {

class FuzzTargets final : public trace::ProbeTargets {
 public:
  bool kernel_symbol_exists(const char* name, size_t length) override {
    return length > 0 && name[0] != 'x';
  }
  int user_file_status(const char* path, size_t length) override {
    return length > 0 && path[0] == '/' ? 0 : 2;
  }
};

void read_all(trace::Tracefs& tracefs, const char* path, test_support::MallocAllocator& allocator) {
  trace::TextBuffer out(allocator);
  (void)tracefs.read(path, std::strlen(path), 0, 1 << 16, false, out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  test_support::MallocAllocator allocator;
  {
    FuzzTargets targets;
    trace::Tracefs tracefs(allocator, targets, 2);
    if (!tracefs.init().ok()) abort();
    // First byte: which file (bit 0, and bits 2-3) and whether the write truncates (bit 1); the
    // rest: the commands, which a '\x01' splits into several writes.
    constexpr const char* kFiles[] = {"kprobe_events", "uprobe_events", "dynamic_events",
                                      "set_event_pid", "trace_clock",   "trace_marker",
                                      "kprobe_events", "uprobe_events"};
    const char* file = kFiles[(data[0] & 1) | ((data[0] >> 1) & 6)];
    const char* text = reinterpret_cast<const char*>(data + 1);
    size_t length = size - 1;
    bool first = true;
    while (length > 0) {
      size_t piece = 0;
      while (piece < length && text[piece] != '\x01') ++piece;
      (void)tracefs.write(file, std::strlen(file), 0, text, piece, !(first && (data[0] & 2)));
      first = false;
      text += piece;
      length -= piece;
      if (length > 0) {
        ++text;
        --length;
      }
    }
    for (const char* listing :
         {"kprobe_events", "uprobe_events", "dynamic_events", "error_log", "kprobe_profile",
          "uprobe_profile", "set_event_pid", "trace_clock"}) {
      read_all(tracefs, listing, allocator);
    }
    for (size_t i = 0; i < tracefs.events().size(); ++i) {
      trace::Event& event = tracefs.events().at(i);
      if (event.source != trace::EventSource::kKprobe &&
          event.source != trace::EventSource::kUprobe)
        continue;
      trace::TextBuffer out(allocator);
      trace::EventRegistry::render_format(event, out);
      // A record of the event's size with the fuzz bytes, through the line renderer.
      uint8_t record[512] = {};
      std::memcpy(record, data, size < sizeof(record) ? size : sizeof(record));
      size_t record_size =
          event.record_size() < sizeof(record) ? event.record_size() : sizeof(record);
      event.enabled = true;
      trace::TraceContext context;
      tracefs.record_event(event, context, record, record_size);
      event.enabled = false;
    }
    read_all(tracefs, "trace", allocator);
    (void)tracefs.write("kprobe_events", 13, 0, "", 0, false);
    (void)tracefs.write("uprobe_events", 13, 0, "", 0, false);
  }
  if (allocator.in_use() != 0) abort();  // a leak
  return 0;
}
