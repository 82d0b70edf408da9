// SPDX-License-Identifier: MIT
// The root task's report of a supervised server's fault.
#include "fault_report.hpp"

#include "sonde/abi/ipc.hpp"
#include "sys/syscall.hpp"

namespace root {

namespace {

namespace abi = sonde::abi;

const char* fault_name(uint64_t label) {
  switch (static_cast<abi::FaultKind>(label)) {
    case abi::FaultKind::kPage: return "page fault";
    case abi::FaultKind::kException: return "exception";
    case abi::FaultKind::kForeignSyscall: return "foreign system call";
    case abi::FaultKind::kBreakpoint: return "breakpoint";
  }
  return "unknown fault";
}

}  // namespace

void report_fault(const char* server, uint64_t label, const sys::MessageRegisters& mr,
                  uint64_t length) {
  abi::UserRegisters registers{};
  auto* out = reinterpret_cast<uint64_t*>(&registers);
  for (uint64_t i = 0; i < abi::kUserRegisterWords && i < length; ++i) {
    out[i] = sys::message_word(mr, i);
  }
  uint64_t address =
      length > abi::kFaultAddressWord ? sys::message_word(mr, abi::kFaultAddressWord) : 0;
  uint64_t detail =
      length > abi::kFaultDetailWord ? sys::message_word(mr, abi::kFaultDetailWord) : 0;
  sys::print("root: the %s died: %s at rip 0x%lx (address/vector 0x%lx, detail 0x%lx)\n", server,
             fault_name(label), registers.rip, address, detail);
  sys::print("root:   rsp 0x%lx rax 0x%lx rdi 0x%lx rsi 0x%lx rdx 0x%lx\n", registers.rsp,
             registers.rax, registers.rdi, registers.rsi, registers.rdx);
}

}  // namespace root
