// Helper function ids: Linux's enum bpf_func_id numbering, for the helpers Sonde knows.
#pragma once

#include <stdint.h>

namespace ebpf {

enum HelperId : int32_t {
  kHelperMapLookupElem = 1,
  kHelperMapUpdateElem = 2,
  kHelperMapDeleteElem = 3,
  kHelperProbeRead = 4,
  kHelperKtimeGetNs = 5,
  kHelperTracePrintk = 6,
  kHelperGetPrandomU32 = 7,
  kHelperGetSmpProcessorId = 8,
  kHelperTailCall = 12,
  kHelperGetCurrentPidTgid = 14,
  kHelperGetCurrentUidGid = 15,
  kHelperGetCurrentComm = 16,
  kHelperPerfEventOutput = 25,
  kHelperGetStack = 67,
  kHelperProbeReadStr = 45,
  kHelperMapPushElem = 87,
  kHelperMapPopElem = 88,
  kHelperMapPeekElem = 89,
  kHelperProbeReadUser = 112,
  kHelperProbeReadKernel = 113,
  kHelperProbeReadUserStr = 114,
  kHelperProbeReadKernelStr = 115,
  kHelperKtimeGetBootNs = 125,
  kHelperRingbufOutput = 130,
  kHelperRingbufReserve = 131,
  kHelperRingbufSubmit = 132,
  kHelperRingbufDiscard = 133,
  kHelperRingbufQuery = 134,
  kHelperForEachMapElem = 164,
  kHelperSnprintf = 165,
  kHelperGetFuncIp = 173,
  kHelperTraceVprintk = 177,
  kHelperLoop = 181,
  kHelperMapLookupPercpuElem = 195,
};

}  // namespace ebpf
