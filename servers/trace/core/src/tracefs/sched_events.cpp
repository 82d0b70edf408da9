// SPDX-License-Identifier: MIT
// The sched and signal tracepoints' records and lines (events.cpp has their format files).
#include "trace/sched_events.hpp"

namespace trace {

constinit const SchedEventName kSchedEvents[kSchedEventCount] = {
    {"sched", "sched_process_exec", "trace_sched_process_exec"},
    {"sched", "sched_process_exit", "trace_sched_process_exit"},
    {"sched", "sched_process_free", "trace_sched_process_free"},
    {"sched", "sched_process_wait", "trace_sched_process_wait"},
    {"sched", "sched_process_fork", "trace_sched_process_fork"},
    {"signal", "signal_generate", "trace_signal_generate"},
    {"sched", "sched_switch", "microkernel:trace_sched_switch"},
    {"sched", "sched_wakeup", "microkernel:trace_sched_wakeup"},
    {"sched", "sched_wakeup_new", "microkernel:trace_sched_wakeup_new"},
    {"sched", "sched_waking", "microkernel:trace_sched_waking"},
    {"task", "task_rename", "trace_task_rename"},
    {"exceptions", "page_fault_user", "trace_page_fault_user"},
    {"sched", "sched_stat_runtime", "microkernel:trace_sched_stat_runtime"},
    {"sched", "sched_migrate_task", "microkernel:trace_sched_migrate_task"},
};

namespace {

constexpr size_t kComm = 16;  // TASK_COMM_LEN

void put32(uint8_t* out, uint32_t offset, int32_t value) {
  __builtin_memcpy(out + offset, &value, 4);
}

int32_t get32(const uint8_t* record, size_t size, uint32_t offset) {
  int32_t value = 0;
  if (offset + 4 <= size) __builtin_memcpy(&value, record + offset, 4);
  return value;
}

// A comm as Linux copies it: at most 15 characters and a NUL, zero-padded to 16 bytes.
void put_comm(uint8_t* out, uint32_t offset, const char* text, size_t length) {
  size_t n = 0;
  for (; n < length && n < kComm - 1 && text != nullptr && text[n] != 0; ++n) {
    out[offset + n] = static_cast<uint8_t>(text[n]);
  }
  for (; n < kComm; ++n) out[offset + n] = 0;
}

// A char[16] field up to its NUL.
void append_comm(TextBuffer& out, const uint8_t* record, size_t size, uint32_t offset) {
  if (offset + kComm > size) return;
  size_t n = 0;
  while (n < kComm && record[offset + n] != 0) ++n;
  out.append(reinterpret_cast<const char*>(record + offset), n);
}

void append_number(TextBuffer& out, const char* label, int32_t value) {
  out.append(label);
  out.append_signed(value);
}

}  // namespace

bool sched_event_of(const Event& event, SchedEvent& which) {
  for (size_t i = 0; i < kSchedEventCount; ++i) {
    if (same_text(event.system, string_length(event.system), kSchedEvents[i].system) &&
        same_text(event.name, string_length(event.name), kSchedEvents[i].name)) {
      which = static_cast<SchedEvent>(i);
      return true;
    }
  }
  return false;
}

uint32_t build_sched_record(SchedEvent which, uint16_t type, int32_t common_pid,
                            const SchedValues& values, uint8_t* out, size_t capacity) {
  uint32_t size = 0;
  switch (which) {
    case SchedEvent::kExec: {
      // The filename follows the fixed part: __data_loc is offset | length << 16, the length
      // counting its NUL.
      size_t length = 0;
      while (length < values.text_length[0] && values.text[0][length] != 0) ++length;
      if (length > 4095) length = 4095;
      size = 20 + static_cast<uint32_t>(length) + 1;
      if (size > capacity) return 0;
      put32(out, 8, static_cast<int32_t>(20u | static_cast<uint32_t>(length + 1) << 16));
      put32(out, 12, values.value[0]);
      put32(out, 16, values.value[1]);
      if (length > 0) __builtin_memcpy(out + 20, values.text[0], length);
      out[20 + length] = 0;
      break;
    }
    case SchedEvent::kExit:
    case SchedEvent::kFree:
    case SchedEvent::kWait:
      size = 32;
      if (size > capacity) return 0;
      put_comm(out, 8, values.text[0], values.text_length[0]);
      put32(out, 24, values.value[0]);
      put32(out, 28, values.value[1]);
      break;
    case SchedEvent::kFork:
      size = 48;
      if (size > capacity) return 0;
      put_comm(out, 8, values.text[0], values.text_length[0]);
      put32(out, 24, values.value[0]);
      put_comm(out, 28, values.text[1], values.text_length[1]);
      put32(out, 44, values.value[1]);
      break;
    case SchedEvent::kSignalGenerate:
      size = 48;
      if (size > capacity) return 0;
      put32(out, 8, values.value[0]);
      put32(out, 12, values.value[1]);
      put32(out, 16, values.value[2]);
      put_comm(out, 20, values.text[0], values.text_length[0]);
      put32(out, 36, values.value[3]);
      put32(out, 40, values.value[4]);
      put32(out, 44, values.value[5]);
      break;
    case SchedEvent::kSwitch: {
      size = 64;
      if (size > capacity) return 0;
      put_comm(out, 8, values.text[0], values.text_length[0]);
      put32(out, 24, values.value[0]);
      put32(out, 28, values.value[1]);
      __builtin_memcpy(out + 32, &values.state, 8);
      put_comm(out, 40, values.text[1], values.text_length[1]);
      put32(out, 56, values.value[2]);
      put32(out, 60, values.value[3]);
      break;
    }
    case SchedEvent::kWakeup:
    case SchedEvent::kWakeupNew:
    case SchedEvent::kWaking:
      size = 36;
      if (size > capacity) return 0;
      put_comm(out, 8, values.text[0], values.text_length[0]);
      put32(out, 24, values.value[0]);
      put32(out, 28, values.value[1]);
      put32(out, 32, values.value[2]);
      break;
    case SchedEvent::kTaskRename: {
      size = 48;
      if (size > capacity) return 0;
      put32(out, 8, values.value[0]);
      put_comm(out, 12, values.text[0], values.text_length[0]);
      put_comm(out, 28, values.text[1], values.text_length[1]);
      auto adj = static_cast<int16_t>(values.value[1]);
      __builtin_memcpy(out + 44, &adj, 2);
      out[46] = out[47] = 0;
      break;
    }
    case SchedEvent::kPageFaultUser:
      size = 32;
      if (size > capacity) return 0;
      __builtin_memcpy(out + 8, values.wide, 24);
      break;
    case SchedEvent::kStatRuntime:
      size = 48;
      if (size > capacity) return 0;
      put_comm(out, 8, values.text[0], values.text_length[0]);
      put32(out, 24, values.value[0]);
      put32(out, 28, 0);
      __builtin_memcpy(out + 32, values.wide, 16);
      break;
    case SchedEvent::kMigrateTask:
      size = 40;
      if (size > capacity) return 0;
      put_comm(out, 8, values.text[0], values.text_length[0]);
      put32(out, 24, values.value[0]);
      put32(out, 28, values.value[1]);
      put32(out, 32, values.value[2]);
      put32(out, 36, values.value[3]);
      break;
    case SchedEvent::kCount: return 0;
  }
  __builtin_memcpy(out, &type, 2);
  // common_flags and common_preempt_count: a fault's irqs are off, a rename holds task_lock.
  out[2] = which == SchedEvent::kPageFaultUser ? 1 : 0;
  out[3] = which == SchedEvent::kTaskRename ? 1 : 0;
  put32(out, 4, common_pid);
  return size;
}

void render_sched_text(SchedEvent which, const uint8_t* record, size_t size, TextBuffer& out) {
  switch (which) {
    case SchedEvent::kExec: {
      // filename=%s pid=%d old_pid=%d
      auto location = static_cast<uint32_t>(get32(record, size, 8));
      uint32_t offset = location & 0xffff, length = location >> 16;
      out.append("filename=");
      if (offset + length <= size) {
        const char* text = reinterpret_cast<const char*>(record + offset);
        while (length > 0 && text[length - 1] == 0) --length;
        out.append(text, length);
      }
      append_number(out, " pid=", get32(record, size, 12));
      append_number(out, " old_pid=", get32(record, size, 16));
      return;
    }
    case SchedEvent::kExit:
    case SchedEvent::kFree:
    case SchedEvent::kWait:
      // comm=%s pid=%d prio=%d
      out.append("comm=");
      append_comm(out, record, size, 8);
      append_number(out, " pid=", get32(record, size, 24));
      append_number(out, " prio=", get32(record, size, 28));
      return;
    case SchedEvent::kFork:
      // comm=%s pid=%d child_comm=%s child_pid=%d
      out.append("comm=");
      append_comm(out, record, size, 8);
      append_number(out, " pid=", get32(record, size, 24));
      out.append(" child_comm=");
      append_comm(out, record, size, 28);
      append_number(out, " child_pid=", get32(record, size, 44));
      return;
    case SchedEvent::kSignalGenerate:
      // sig=%d errno=%d code=%d comm=%s pid=%d grp=%d res=%d
      append_number(out, "sig=", get32(record, size, 8));
      append_number(out, " errno=", get32(record, size, 12));
      append_number(out, " code=", get32(record, size, 16));
      out.append(" comm=");
      append_comm(out, record, size, 20);
      append_number(out, " pid=", get32(record, size, 36));
      append_number(out, " grp=", get32(record, size, 40));
      append_number(out, " res=", get32(record, size, 44));
      return;
    case SchedEvent::kSwitch: {
      // prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d
      // next_prio=%d, the state as Linux's __print_flags of the TASK_REPORT bits ("R" for
      // none) and "+" for TASK_REPORT_MAX.
      out.append("prev_comm=");
      append_comm(out, record, size, 8);
      append_number(out, " prev_pid=", get32(record, size, 24));
      append_number(out, " prev_prio=", get32(record, size, 28));
      int64_t state = 0;
      if (size >= 40) __builtin_memcpy(&state, record + 32, 8);
      out.append(" prev_state=");
      static constexpr const char* kStateLetters[] = {"S", "D", "T", "t", "X", "Z", "P", "I"};
      int64_t reported = state & (kSwitchPreempted - 1);
      if (reported == 0) {
        out.append("R");
      } else {
        bool first = true;
        for (int bit = 0; bit < 8; ++bit) {
          if ((reported & (int64_t{1} << bit)) == 0) continue;
          if (!first) out.append("|");
          out.append(kStateLetters[bit]);
          first = false;
        }
      }
      if ((state & kSwitchPreempted) != 0) out.append("+");
      out.append(" ==> next_comm=");
      append_comm(out, record, size, 40);
      append_number(out, " next_pid=", get32(record, size, 56));
      append_number(out, " next_prio=", get32(record, size, 60));
      return;
    }
    case SchedEvent::kWakeup:
    case SchedEvent::kWakeupNew:
    case SchedEvent::kWaking: {
      // comm=%s pid=%d prio=%d target_cpu=%03d
      out.append("comm=");
      append_comm(out, record, size, 8);
      append_number(out, " pid=", get32(record, size, 24));
      append_number(out, " prio=", get32(record, size, 28));
      out.append(" target_cpu=");
      int32_t cpu = get32(record, size, 32);
      if (cpu >= 0 && cpu < 100) out.append(cpu < 10 ? "00" : "0");
      out.append_signed(cpu);
      return;
    }
    case SchedEvent::kTaskRename: {
      // pid=%d oldcomm=%s newcomm=%s oom_score_adj=%hd
      append_number(out, "pid=", get32(record, size, 8));
      out.append(" oldcomm=");
      append_comm(out, record, size, 12);
      out.append(" newcomm=");
      append_comm(out, record, size, 28);
      int16_t adj = 0;
      if (size >= 46) __builtin_memcpy(&adj, record + 44, 2);
      append_number(out, " oom_score_adj=", adj);
      return;
    }
    case SchedEvent::kPageFaultUser: {
      // address=%ps ip=%ps error_code=0x%lx: %ps of a user address (no symbol) is its hex.
      static constexpr const char* kLabels[3] = {"address=0x", " ip=0x", " error_code=0x"};
      for (uint32_t i = 0; i < 3; ++i) {
        uint64_t value = 0;
        if (size >= 16 + 8 * i) __builtin_memcpy(&value, record + 8 + 8 * i, 8);
        out.append(kLabels[i]);
        out.append_unsigned(value, 16);
      }
      return;
    }
    case SchedEvent::kStatRuntime: {
      // comm=%s pid=%d runtime=%Lu [ns] vruntime=%Lu [ns]
      out.append("comm=");
      append_comm(out, record, size, 8);
      append_number(out, " pid=", get32(record, size, 24));
      uint64_t times[2] = {};
      if (size >= 48) __builtin_memcpy(times, record + 32, 16);
      out.append(" runtime=");
      out.append_unsigned(times[0]);
      out.append(" [ns] vruntime=");
      out.append_unsigned(times[1]);
      out.append(" [ns]");
      return;
    }
    case SchedEvent::kMigrateTask:
      // comm=%s pid=%d prio=%d orig_cpu=%d dest_cpu=%d
      out.append("comm=");
      append_comm(out, record, size, 8);
      append_number(out, " pid=", get32(record, size, 24));
      append_number(out, " prio=", get32(record, size, 28));
      append_number(out, " orig_cpu=", get32(record, size, 32));
      append_number(out, " dest_cpu=", get32(record, size, 36));
      return;
    case SchedEvent::kCount: return;
  }
}

}  // namespace trace
