// The prototype table, by Linux helper id.
#include "verifier/helper_prototypes.hpp"

#include "ebpf/helper_ids.hpp"

namespace ebpf::verifier {
namespace {

using A = ArgType;
using R = ReturnType;

struct Entry {
  int32_t id;
  HelperPrototype prototype;
};

const Entry kPrototypes[] = {
    {kHelperMapLookupElem, {"map_lookup_elem", R::kMapValueOrNull, {A::kMapPointer, A::kMapKey}}},
    {kHelperMapUpdateElem, {"map_update_elem", R::kInteger, {A::kMapPointer, A::kMapKey, A::kMapValue, A::kAnything}}},
    {kHelperMapDeleteElem, {"map_delete_elem", R::kInteger, {A::kMapPointer, A::kMapKey}}},
    {kHelperMapLookupPercpuElem, {"map_lookup_percpu_elem", R::kMapValueOrNull, {A::kMapPointer, A::kMapKey, A::kAnything}}},
    {kHelperMapPushElem, {"map_push_elem", R::kInteger, {A::kMapPointer, A::kMapValue, A::kAnything}}},
    {kHelperMapPopElem, {"map_pop_elem", R::kInteger, {A::kMapPointer, A::kUninitMapValue}}},
    {kHelperMapPeekElem, {"map_peek_elem", R::kInteger, {A::kMapPointer, A::kUninitMapValue}}},
    {kHelperProbeRead, {"probe_read", R::kInteger, {A::kUninitMemory, A::kConstSizeOrZero, A::kAnything}}},
    {kHelperKtimeGetNs, {"ktime_get_ns", R::kInteger, {}}},
    {kHelperGetPrandomU32, {"get_prandom_u32", R::kInteger, {}}},
    {kHelperGetSmpProcessorId, {"get_smp_processor_id", R::kInteger, {}}},
    {kHelperTailCall, {"tail_call", R::kVoid, {A::kCtx, A::kMapPointer, A::kAnything}}},
    {kHelperGetCurrentPidTgid, {"get_current_pid_tgid", R::kInteger, {}}},
    {kHelperGetCurrentUidGid, {"get_current_uid_gid", R::kInteger, {}}},
    {kHelperGetCurrentComm, {"get_current_comm", R::kInteger, {A::kUninitMemory, A::kConstSize}}},
    {kHelperProbeReadUser, {"probe_read_user", R::kInteger, {A::kUninitMemory, A::kConstSizeOrZero, A::kAnything}}},
    {kHelperProbeReadKernel, {"probe_read_kernel", R::kInteger, {A::kUninitMemory, A::kConstSizeOrZero, A::kAnything}}},
    {kHelperKtimeGetBootNs, {"ktime_get_boot_ns", R::kInteger, {}}},
    {kHelperTracePrintk, {"trace_printk", R::kInteger, {A::kReadMemory, A::kConstSize}}},  // args 3-5 unchecked, as in Linux
    {kHelperTraceVprintk, {"trace_vprintk", R::kInteger, {A::kReadMemory, A::kConstSize, A::kReadMemoryOrNull, A::kConstSizeOrZero}}},
    {kHelperProbeReadStr, {"probe_read_str", R::kInteger, {A::kUninitMemory, A::kConstSizeOrZero, A::kAnything}}},
    {kHelperProbeReadUserStr, {"probe_read_user_str", R::kInteger, {A::kUninitMemory, A::kConstSizeOrZero, A::kAnything}}},
    {kHelperProbeReadKernelStr, {"probe_read_kernel_str", R::kInteger, {A::kUninitMemory, A::kConstSizeOrZero, A::kAnything}}},
    {kHelperGetFuncIp, {"get_func_ip", R::kInteger, {A::kCtx}}},
    {kHelperGetStack, {"get_stack", R::kInteger, {A::kCtx, A::kUninitMemory, A::kConstSizeOrZero, A::kAnything}}},
    {kHelperPerfEventOutput, {"perf_event_output", R::kInteger, {A::kCtx, A::kMapPointer, A::kAnything, A::kReadMemory, A::kConstSizeOrZero}}},
    {kHelperRingbufOutput, {"ringbuf_output", R::kInteger, {A::kMapPointer, A::kReadMemory, A::kConstSizeOrZero, A::kAnything}}},
    {kHelperRingbufReserve, {"ringbuf_reserve", R::kRingbufMemOrNull, {A::kMapPointer, A::kConstAllocSize, A::kAnything}}},
    {kHelperRingbufSubmit, {"ringbuf_submit", R::kVoid, {A::kReleaseMemory, A::kAnything}}},
    {kHelperRingbufDiscard, {"ringbuf_discard", R::kVoid, {A::kReleaseMemory, A::kAnything}}},
    {kHelperRingbufQuery, {"ringbuf_query", R::kInteger, {A::kMapPointer, A::kAnything}}},
    {kHelperForEachMapElem, {"for_each_map_elem", R::kInteger, {A::kMapPointer, A::kFunc, A::kStackOrNull, A::kAnything}}},
    {kHelperSnprintf, {"snprintf", R::kInteger, {A::kUninitMemoryOrNull, A::kConstSizeOrZero, A::kConstString, A::kReadMemoryOrNull, A::kConstSizeOrZero}}},
    {kHelperLoop, {"loop", R::kInteger, {A::kAnything, A::kFunc, A::kStackOrNull, A::kAnything}}},
};

}  // namespace

const HelperPrototype* helper_prototype(int32_t id) {
  for (const Entry& entry : kPrototypes) {
    if (entry.id == id) return &entry.prototype;
  }
  return nullptr;
}

}  // namespace ebpf::verifier
