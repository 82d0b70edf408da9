// SPDX-License-Identifier: MIT
// Helper prototypes the verifier checks calls against (Linux's bpf_func_proto, in brief).
#pragma once

#include <stdint.h>

namespace ebpf::verifier {

enum class ArgType : uint8_t {
  kNone,
  kAnything,            // any initialised register
  kMapPointer,          // CONST_PTR_TO_MAP
  kMapKey,              // pointer to key_size initialised bytes
  kMapValue,            // pointer to value_size initialised bytes
  kUninitMapValue,      // pointer to value_size bytes the helper fills
  kUninitMemory,        // pointer to memory the helper fills; size in the next argument
  kReadMemory,          // pointer to initialised memory the helper reads; size in the next argument
  kReadMemoryOrNull,    // as kReadMemory, or NULL with a zero size
  kConstSize,           // size of the previous memory argument, > 0
  kConstSizeOrZero,     // size of the previous memory argument, >= 0
  kCtx,                 // the program context, unmodified
  kFunc,                // a callback (BPF_PSEUDO_FUNC)
  kStackOrNull,         // pointer to the stack, or NULL (callback context)
  kConstAllocSize,      // a known constant size for an allocation (ringbuf_reserve)
  kUninitMemoryOrNull,  // as kUninitMemory, or NULL with a zero size
  kConstString,         // a NUL-terminated string in a frozen read-only map (.rodata)
  kReleaseMemory,       // an unmodified ring buffer reservation, released by the call
  kLongOut,             // pointer to 8 bytes the helper fills (ARG_PTR_TO_LONG)
};

enum class ReturnType : uint8_t {
  kInteger,
  kMapValueOrNull,
  kVoid,
  kRingbufMemOrNull,
  kTaskBtf,  // a BTF-typed pointer to the current struct task_struct
};

struct HelperPrototype {
  const char* name;
  ReturnType ret;
  ArgType args[5];
};

// nullptr for helpers the verifier does not know.
const HelperPrototype* helper_prototype(int32_t id);

}  // namespace ebpf::verifier
