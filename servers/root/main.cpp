// Root task: the first user program. Today it greets and reports; it will start the servers.
#include "sys/syscall.hpp"

extern "C" int main() {
  sys::print("root: hello from user mode (ring 3)\n");
  sys::print("root: timer ticks since boot: %lu\n", sys::debug_ticks());
  sys::print("root: nothing more to start yet; the trace and POSIX servers come later\n");
  return 0;
}
