// TCB invocations (registered with the capability core at boot).
#pragma once

#include <stdint.h>

namespace kernel {

void tcb_invocations_init();

// CPUs threads can run on (affinity must name one of them).
uint64_t cpu_count();

}  // namespace kernel
