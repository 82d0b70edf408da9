// SPDX-License-Identifier: MIT
// Helper implementations: maps, time, randomness, current task, and traced memory.
#include "ebpf/helpers.hpp"

#include "ebpf/environment.hpp"
#include "ebpf/map.hpp"
#include "ebpf/perf_buffer.hpp"
#include "ebpf/program.hpp"
#include "ebpf/ringbuf.hpp"
#include "helpers/printk_format.hpp"
#include "maps/cgroup_array_map.hpp"
#include "maps/stack_trace_map.hpp"
#include "rt/errno.hpp"

namespace ebpf {
namespace {

constexpr size_t kMessageSize = 512;  // MAX_BPRINTF_BUF: a printk message, NUL included

Map* as_map(uint64_t value) { return reinterpret_cast<Map*>(value); }
const void* as_pointer(uint64_t value) { return reinterpret_cast<const void*>(value); }

uint64_t map_lookup_elem(ExecContext&, uint64_t map, uint64_t key, uint64_t, uint64_t, uint64_t) {
  return reinterpret_cast<uint64_t>(as_map(map)->lookup(as_pointer(key)));
}

uint64_t map_update_elem(ExecContext&, uint64_t map, uint64_t key, uint64_t value, uint64_t flags,
                         uint64_t) {
  return static_cast<uint64_t>(as_map(map)->update(as_pointer(key), as_pointer(value), flags));
}

uint64_t map_delete_elem(ExecContext&, uint64_t map, uint64_t key, uint64_t, uint64_t, uint64_t) {
  return static_cast<uint64_t>(as_map(map)->remove(as_pointer(key)));
}

uint64_t map_lookup_percpu_elem(ExecContext&, uint64_t map, uint64_t key, uint64_t cpu, uint64_t,
                                uint64_t) {
  return reinterpret_cast<uint64_t>(
      as_map(map)->lookup_percpu(as_pointer(key), static_cast<uint32_t>(cpu)));
}

uint64_t map_push_elem(ExecContext&, uint64_t map, uint64_t value, uint64_t flags, uint64_t,
                       uint64_t) {
  return static_cast<uint64_t>(as_map(map)->push(as_pointer(value), flags));
}

uint64_t map_pop_elem(ExecContext&, uint64_t map, uint64_t value, uint64_t, uint64_t, uint64_t) {
  return static_cast<uint64_t>(as_map(map)->pop(reinterpret_cast<void*>(value)));
}

uint64_t map_peek_elem(ExecContext&, uint64_t map, uint64_t value, uint64_t, uint64_t, uint64_t) {
  return static_cast<uint64_t>(as_map(map)->peek(reinterpret_cast<void*>(value)));
}

uint64_t ktime_get_ns(ExecContext& context, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  return context.env->monotonic_ns();
}

uint64_t ktime_get_boot_ns(ExecContext& context, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  return context.env->boot_ns();
}

uint64_t get_prandom_u32(ExecContext& context, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  return context.env->random_u32();
}

uint64_t get_smp_processor_id(ExecContext& context, uint64_t, uint64_t, uint64_t, uint64_t,
                              uint64_t) {
  return context.env->current_cpu();
}

uint64_t get_current_pid_tgid(ExecContext& context, uint64_t, uint64_t, uint64_t, uint64_t,
                              uint64_t) {
  return context.env->current_pid_tgid();
}

uint64_t get_current_task(ExecContext& context, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  return context.env->current_task();
}

// bpf_current_task_under_cgroup(map, index): a cgroup array's slot (always empty on Sonde).
uint64_t current_task_under_cgroup(ExecContext&, uint64_t map, uint64_t index, uint64_t, uint64_t,
                                   uint64_t) {
  auto* cgroups = static_cast<const CgroupArrayMap*>(reinterpret_cast<const Map*>(map));
  return static_cast<uint64_t>(cgroups->task_under_cgroup(static_cast<uint32_t>(index)));
}

uint64_t get_current_uid_gid(ExecContext& context, uint64_t, uint64_t, uint64_t, uint64_t,
                             uint64_t) {
  return context.env->current_uid_gid();
}

// bpf_get_current_comm(buf, size): strscpy_pad of the task's 16-byte comm, as Linux: at most
// size - 1 characters, then NULs to the end; on failure the buffer is zeroed.
uint64_t get_current_comm(ExecContext& context, uint64_t buffer, uint64_t size, uint64_t, uint64_t,
                          uint64_t) {
  constexpr uint32_t kTaskCommLength = 16;  // TASK_COMM_LEN
  auto* out = reinterpret_cast<char*>(buffer);
  char comm[kTaskCommLength] = {};
  long result = size == 0 ? -rt::kEINVAL : context.env->current_comm(comm, kTaskCommLength);
  if (result < 0) {
    __builtin_memset(out, 0, size);
    return static_cast<uint64_t>(result);
  }
  uint64_t n = 0;
  while (n + 1 < size && n < kTaskCommLength && comm[n] != 0) {
    out[n] = comm[n];
    ++n;
  }
  __builtin_memset(out + n, 0, size - n);
  return 0;
}

// probe_read family: on failure the destination is zeroed, as Linux does.
uint64_t probe_read_user(ExecContext& context, uint64_t destination, uint64_t size, uint64_t source,
                         uint64_t, uint64_t) {
  void* out = reinterpret_cast<void*>(destination);
  long result = context.env->read_user(out, source, static_cast<uint32_t>(size));
  if (result < 0) __builtin_memset(out, 0, size);
  return static_cast<uint64_t>(result);
}

uint64_t probe_read_kernel(ExecContext& context, uint64_t destination, uint64_t size,
                           uint64_t source, uint64_t, uint64_t) {
  void* out = reinterpret_cast<void*>(destination);
  long result = context.env->read_kernel(out, source, static_cast<uint32_t>(size));
  if (result < 0) __builtin_memset(out, 0, size);
  return static_cast<uint64_t>(result);
}

// bpf_trace_printk: at most three arguments; the message goes to the trace buffer.
uint64_t trace_printk(ExecContext& context, uint64_t format, uint64_t format_size, uint64_t a1,
                      uint64_t a2, uint64_t a3) {
  char message[kMessageSize];
  uint64_t args[3] = {a1, a2, a3};
  size_t needed = 0;
  long length = format_bpf_message(*context.env, message, sizeof(message),
                                   reinterpret_cast<const char*>(format),
                                   static_cast<uint32_t>(format_size), args, 3, &needed);
  if (length < 0) return static_cast<uint64_t>(length);
  // Linux returns what bstr_printf returns: the untruncated length.
  long written = context.env->trace_output(message, static_cast<uint32_t>(length));
  return static_cast<uint64_t>(written < 0 ? written : static_cast<long>(needed));
}

// bpf_trace_vprintk: arguments in a u64 array (at most 12, data_len a multiple of 8).
uint64_t trace_vprintk(ExecContext& context, uint64_t format, uint64_t format_size, uint64_t data,
                       uint64_t data_length, uint64_t) {
  constexpr uint64_t kMaxArgs = 12;
  if (data_length % 8 != 0 || data_length / 8 > kMaxArgs || (data_length != 0 && data == 0)) {
    return static_cast<uint64_t>(-static_cast<int64_t>(rt::kEINVAL));
  }
  uint64_t args[kMaxArgs] = {};
  __builtin_memcpy(args, reinterpret_cast<const void*>(data), data_length);
  char message[kMessageSize];
  size_t needed = 0;
  long length = format_bpf_message(
      *context.env, message, sizeof(message), reinterpret_cast<const char*>(format),
      static_cast<uint32_t>(format_size), args, static_cast<uint32_t>(data_length / 8), &needed);
  if (length < 0) return static_cast<uint64_t>(length);
  long written = context.env->trace_output(message, static_cast<uint32_t>(length));
  return static_cast<uint64_t>(written < 0 ? written : static_cast<long>(needed));
}

// probe_read_str family: copies up to size - 1 bytes and a NUL; returns the length with the
// NUL. On a fault the whole buffer is zeroed and -EFAULT returned, as Linux.
uint64_t read_string(ExecContext& context, bool user, uint64_t destination, uint64_t size,
                     uint64_t source) {
  auto* out = reinterpret_cast<char*>(destination);
  if (size == 0) return 0;
  long result = context.env->read_string(user, out, source, static_cast<uint32_t>(size));
  if (result < 0) __builtin_memset(out, 0, size);
  return static_cast<uint64_t>(result);
}

uint64_t probe_read_user_str(ExecContext& context, uint64_t destination, uint64_t size,
                             uint64_t source, uint64_t, uint64_t) {
  return read_string(context, true, destination, size, source);
}

uint64_t probe_read_kernel_str(ExecContext& context, uint64_t destination, uint64_t size,
                               uint64_t source, uint64_t, uint64_t) {
  return read_string(context, false, destination, size, source);
}

uint64_t get_func_ip(ExecContext& context, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  return context.env->current_function_ip();
}

// bpf_get_func_arg, bpf_get_func_ret, bpf_get_func_arg_cnt: Linux's verifier inlines them as
// loads around the trampoline's context, which keeps the argument count at ctx[-1]; Sonde's
// fentry/fexit contexts are laid out the same (kTrampolineHasReturn marks a fexit's).
uint64_t trampoline_word(uint64_t ctx) { return reinterpret_cast<const uint64_t*>(ctx)[-1]; }

uint64_t get_func_arg(ExecContext&, uint64_t ctx, uint64_t n, uint64_t value, uint64_t, uint64_t) {
  uint64_t count = trampoline_word(ctx) & ~kTrampolineHasReturn;
  if (static_cast<uint32_t>(n) >= count) return static_cast<uint64_t>(-22);  // EINVAL
  *reinterpret_cast<uint64_t*>(value) = reinterpret_cast<const uint64_t*>(ctx)[n & 0xffffffff];
  return 0;
}

uint64_t get_func_ret(ExecContext&, uint64_t ctx, uint64_t value, uint64_t, uint64_t, uint64_t) {
  uint64_t word = trampoline_word(ctx);
  if ((word & kTrampolineHasReturn) == 0) return static_cast<uint64_t>(-95);  // EOPNOTSUPP
  uint64_t count = word & ~kTrampolineHasReturn;
  *reinterpret_cast<uint64_t*>(value) = reinterpret_cast<const uint64_t*>(ctx)[count];
  return 0;
}

uint64_t get_func_arg_cnt(ExecContext&, uint64_t ctx, uint64_t, uint64_t, uint64_t, uint64_t) {
  return trampoline_word(ctx) & ~kTrampolineHasReturn;
}

uint64_t get_attach_cookie(ExecContext& context, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  return context.env->attach_cookie();
}

// bpf_get_stack(ctx, buf, size, flags): flags = skip (low 8 bits) | BPF_F_USER_STACK.
uint64_t get_stack(ExecContext& context, uint64_t, uint64_t buffer, uint64_t size, uint64_t flags,
                   uint64_t) {
  constexpr uint64_t kSkipMask = 0xff, kUserStack = 1u << 8, kUserBuildId = 1u << 11;
  auto* out = reinterpret_cast<uint8_t*>(buffer);
  if ((flags & ~(kSkipMask | kUserStack | kUserBuildId)) != 0 || (flags & kUserBuildId) ||
      size % 8 != 0) {
    __builtin_memset(out, 0, size);
    return static_cast<uint64_t>(-static_cast<int64_t>(rt::kEINVAL));
  }
  // As Linux: the walk goes at most sysctl perf_event_max_stack (127) frames deep, skipped
  // frames included, and stores what fits in the buffer.
  constexpr uint32_t kMaxStackDepth = 127;
  uint32_t skip = static_cast<uint32_t>(flags & kSkipMask);
  uint64_t entries = size / 8;
  uint64_t depth = entries + skip < kMaxStackDepth ? entries + skip : kMaxStackDepth;
  uint32_t max = depth > skip ? static_cast<uint32_t>(depth - skip) : 0;
  uint64_t ips[kMaxStackDepth];
  long count = max == 0 ? 0 : context.env->capture_stack((flags & kUserStack) != 0, skip, ips, max);
  if (count < 0) {
    __builtin_memset(out, 0, size);
    return static_cast<uint64_t>(count);
  }
  uint64_t bytes = static_cast<uint64_t>(count) * 8;
  __builtin_memcpy(out, ips, bytes);
  if (bytes < size) __builtin_memset(out + bytes, 0, size - bytes);
  return bytes;
}

// bpf_get_stackid(ctx, map, flags): flags = skip (low 8 bits) | BPF_F_USER_STACK |
// BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID. The stack is walked value_size / 8 frames deep
// after the skipped ones (at most perf_event_max_stack in all), then stored in the map.
uint64_t get_stackid(ExecContext& context, uint64_t, uint64_t map, uint64_t flags, uint64_t,
                     uint64_t) {
  constexpr uint64_t kSkipMask = 0xff, kUserStack = 1u << 8, kFastStackCompare = 1u << 9,
                     kReuseStackId = 1u << 10;
  constexpr uint32_t kMaxStackDepth = 127;  // sysctl perf_event_max_stack
  if ((flags & ~(kSkipMask | kUserStack | kFastStackCompare | kReuseStackId)) != 0) {
    return static_cast<uint64_t>(-static_cast<int64_t>(rt::kEINVAL));
  }
  auto* stacks = static_cast<StackTraceMap*>(as_map(map));
  uint32_t skip = static_cast<uint32_t>(flags & kSkipMask);
  uint32_t depth = stacks->attributes().value_size / 8 + skip;
  if (depth > kMaxStackDepth) depth = kMaxStackDepth;
  uint32_t max = depth > skip ? depth - skip : 0;
  uint64_t ips[kMaxStackDepth];
  long count = max == 0 ? 0 : context.env->capture_stack((flags & kUserStack) != 0, skip, ips, max);
  // Linux: no frame left after the skipped ones is EFAULT too.
  if (count <= 0) return static_cast<uint64_t>(count < 0 ? count : -rt::kEFAULT);
  return static_cast<uint64_t>(stacks->stack_id(ips, static_cast<uint32_t>(count), flags));
}

// bpf_perf_event_output(ctx, map, flags, data, size).
uint64_t perf_event_output(ExecContext& context, uint64_t, uint64_t map, uint64_t flags,
                           uint64_t data, uint64_t size) {
  auto* array = static_cast<PerfEventArrayMap*>(as_map(map));
  return static_cast<uint64_t>(
      array->output(flags, context.env->current_cpu(), as_pointer(data), size));
}

RingbufMap* as_ringbuf(uint64_t map) { return static_cast<RingbufMap*>(as_map(map)); }

uint64_t ringbuf_output(ExecContext&, uint64_t map, uint64_t data, uint64_t size, uint64_t flags,
                        uint64_t) {
  return static_cast<uint64_t>(as_ringbuf(map)->output(as_pointer(data), size, flags));
}

uint64_t ringbuf_reserve(ExecContext&, uint64_t map, uint64_t size, uint64_t flags, uint64_t,
                         uint64_t) {
  return reinterpret_cast<uint64_t>(as_ringbuf(map)->reserve(size, flags));
}

// The verifier guarantees `sample` is a live reservation; its header leads to its ring.
uint64_t ringbuf_submit(ExecContext&, uint64_t sample, uint64_t flags, uint64_t, uint64_t,
                        uint64_t) {
  void* record = reinterpret_cast<void*>(sample);
  RingbufMap::of_sample(record)->submit(record, flags, false);
  return 0;
}

uint64_t ringbuf_discard(ExecContext&, uint64_t sample, uint64_t flags, uint64_t, uint64_t,
                         uint64_t) {
  void* record = reinterpret_cast<void*>(sample);
  RingbufMap::of_sample(record)->submit(record, flags, true);
  return 0;
}

uint64_t ringbuf_query(ExecContext&, uint64_t map, uint64_t flags, uint64_t, uint64_t, uint64_t) {
  return as_ringbuf(map)->query(flags);
}

// bpf_for_each_map_elem(map, callback, callback_ctx, flags): callback(map, key, value, ctx)
// returns 0 to go on, 1 to stop; the result is the number of elements visited.
struct ForEachState {
  ExecContext* context;
  uint64_t map;
  uint64_t callback;
  uint64_t callback_context;
};

uint64_t visit_element(void* key, void* value, void* raw) {
  auto* state = static_cast<ForEachState*>(raw);
  ExecContext& context = *state->context;
  uint64_t stop =
      context.invoke_callback(context, state->callback, state->map, reinterpret_cast<uint64_t>(key),
                              reinterpret_cast<uint64_t>(value), state->callback_context, 0);
  return context.abort_requested ? 1 : stop;
}

uint64_t for_each_map_elem(ExecContext& context, uint64_t map, uint64_t callback,
                           uint64_t callback_context, uint64_t flags, uint64_t) {
  if (flags != 0) return static_cast<uint64_t>(-static_cast<int64_t>(rt::kEINVAL));
  ForEachState state{&context, map, callback, callback_context};
  return static_cast<uint64_t>(as_map(map)->for_each_element(visit_element, &state));
}

// bpf_snprintf(out, out_size, fmt, data, data_len): like snprintf with u64 arguments;
// returns the length the whole string needs, including its NUL.
uint64_t snprintf_helper(ExecContext& context, uint64_t out, uint64_t out_size, uint64_t format,
                         uint64_t data, uint64_t data_length) {
  constexpr uint64_t kMaxArgs = 12;
  if (data_length % 8 != 0 || data_length / 8 > kMaxArgs || (data_length != 0 && data == 0)) {
    return static_cast<uint64_t>(-static_cast<int64_t>(rt::kEINVAL));
  }
  uint64_t args[kMaxArgs] = {};
  __builtin_memcpy(args, reinterpret_cast<const void*>(data), data_length);
  const char* text = reinterpret_cast<const char*>(format);
  uint32_t format_size = 0;
  while (text[format_size] != 0) ++format_size;  // the verifier proved it is terminated
  char scratch[1];
  char* buffer = out_size > 0 ? reinterpret_cast<char*>(out) : scratch;
  size_t needed = 0;
  long length =
      format_bpf_message(*context.env, buffer, out_size > 0 ? out_size : sizeof(scratch), text,
                         format_size + 1, args, static_cast<uint32_t>(data_length / 8), &needed);
  if (length < 0) return static_cast<uint64_t>(length);
  return static_cast<uint64_t>(needed + 1);
}

// bpf_loop(u32 nr_loops, callback, ctx, flags): flags must be 0 (EINVAL), at most 1 << 23
// iterations (E2BIG); a callback returning non-zero stops. Returns the iterations run.
uint64_t loop(ExecContext& context, uint64_t nr_loops, uint64_t callback, uint64_t callback_context,
              uint64_t flags, uint64_t) {
  constexpr uint32_t kMaxLoops = 1u << 23;           // BPF_MAX_LOOPS
  uint32_t count = static_cast<uint32_t>(nr_loops);  // the prototype's argument is a u32
  if (flags != 0) return static_cast<uint64_t>(-static_cast<int64_t>(rt::kEINVAL));
  if (count > kMaxLoops) return static_cast<uint64_t>(-static_cast<int64_t>(rt::kE2BIG));
  uint64_t i = 0;
  while (i < count) {
    uint64_t stop = context.invoke_callback(context, callback, i, callback_context, 0, 0, 0);
    ++i;
    if (context.abort_requested || stop != 0) break;
  }
  return i;
}

}  // namespace

void fill_helper_table(HelperFunction* table) {
#define LINUX_HELPER(id, name)
#define SONDE_HELPER(id, Name, name, implementation, ...) \
  static_assert(id < kMaxHelperId);                       \
  table[id] = implementation;
#include "ebpf/helper_table.def"
}

HelperFunction standard_helper(uint32_t id) {
  HelperFunction function = nullptr;
#define LINUX_HELPER(id, name)
#define SONDE_HELPER(helper_id, Name, name, implementation, ...) \
  if (id == helper_id) function = implementation;
#include "ebpf/helper_table.def"
  return function;
}

}  // namespace ebpf
