// SPDX-License-Identifier: MIT
// The attack suite: each test performs an attack on the kernel's isolation that an audit
// confirmed on an earlier kernel, with only the caps an ordinary program could hold, and
// asserts that it is refused (docs/SECURITY.md lists them).
#include "elf/elf64.hpp"
#include "suite.hpp"
#include "sys/clock.hpp"

namespace kernel_tests {

namespace {

uint64_t attack_endpoint = 0;
uint64_t attack_receive_slot = 0;
volatile uint64_t attack_received_caps = 0;

// Receives one message with a cap into attack_receive_slot.
void cap_thief(uint64_t) {
  abi::IpcBuffer* buffer = sys::ipc_buffer();
  buffer->receive_root = kRoot;
  buffer->receive_index = attack_receive_slot;
  buffer->receive_depth = 64;
  sys::MessageRegisters mr;
  auto r = sys::recv(attack_endpoint, 0, mr);
  attack_received_caps = r.error == Error::kNone ? r.info.extra_caps : 100;
  (void)sys::signal(done_notification);
}

uint64_t frame_address(uint64_t frame) {
  sys::MessageRegisters out;
  if (sys::invoke(frame, Label::kFrameGetAddress, nullptr, 0, &out) != Error::kNone) return 0;
  return out.word[0];
}

abi::Error lend(uint64_t source_vspace, uint64_t source, uint64_t destination_vspace,
                uint64_t destination) {
  uint64_t words[] = {source, destination_vspace, destination};
  return sys::invoke(source_vspace, Label::kVSpaceMapForeign, words);
}

}  // namespace

DEFINE_TEST(attack_untyped_granted_then_retyped_twice,
            "an untyped cap sent with Grant is used up in the sender, as a CNode Copy is") {
  Check t("attack_untyped_granted_then_retyped_twice_is_refused");
  uint64_t small = new_slot();
  must(sys::retype(untyped, ObjectType::kUntyped, 14, kRoot, small, 1), "a small untyped");
  attack_endpoint = make(ObjectType::kEndpoint);
  attack_receive_slot = new_slot();
  attack_received_caps = 0;
  done_notification = make(ObjectType::kNotification);
  uint64_t thread = spawn(cap_thief, 0, ThreadOptions{.priority = 254});
  sys::ipc_buffer()->caps[0] = small;
  sys::MessageRegisters mr;
  auto r = sys::ipc(abi::Syscall::kSend, attack_endpoint, abi::MessageInfo{3, 0, 1}, 0, mr);
  t.error(r.error, Error::kNone, "send with the untyped failed");
  (void)sys::wait(done_notification);
  t.that(attack_received_caps == 1, "the untyped did not arrive");
  // The received copy owns the free memory now; the sender's cap can make nothing.
  uint64_t mine = new_slot();
  uint64_t theirs = new_slot();
  t.error(sys::retype(small, ObjectType::kFrame, 12, kRoot, mine, 1), Error::kNotEnoughMemory,
          "the sender's untyped retyped after it was sent");
  t.error(sys::retype(attack_receive_slot, ObjectType::kFrame, 12, kRoot, theirs, 1), Error::kNone,
          "the received untyped cannot retype");
  // Had both retyped, the two frames would be one page.
  uint64_t a = frame_address(mine), b = frame_address(theirs);
  t.that(a == 0 || a != b, "two frames over one physical page");
  kill(thread);
}

DEFINE_TEST(attack_borrow_of_a_borrowed_page,
            "a page borrowed with MapForeign cannot be lent on to a third VSpace") {
  Check t("attack_borrow_of_a_borrowed_page_is_refused");
  uint64_t owner = make(ObjectType::kVSpace);
  uint64_t page = make(ObjectType::kFrame, 12);
  must(map_anywhere(page, owner, 0x400000, abi::kMapWrite), "owner's page");
  const uint64_t borrowed = kWindow + 0x70000;
  t.error(lend(owner, 0x400000, kVSpace, borrowed), Error::kNone, "first borrow");
  uint64_t third = make(ObjectType::kVSpace);
  uint64_t filler = make(ObjectType::kFrame, 12);
  must(map_anywhere(filler, third, 0x401000, 0), "third VSpace's page tables");
  t.error(lend(kVSpace, borrowed, third, 0x400000), Error::kIllegalOperation,
          "a borrowed page was lent on");
  // The first borrow still goes with the owner's mapping.
  must(sys::invoke(page, Label::kFrameUnmap), "owner unmaps");
  t.that(faults_at(read_word, borrowed), "the borrow outlived the owner's mapping");
}

DEFINE_TEST(attack_probe_into_data,
            "Breakpoint Insert refuses borrowed read-only pages and non-executable pages") {
  Check t("attack_probe_into_borrowed_or_data_page_is_refused");
  uint64_t endpoint = make(ObjectType::kEndpoint);
  uint64_t breakpoint = make(ObjectType::kBreakpoint);
  t.error(bind(breakpoint, kVSpace, endpoint), Error::kNone, "bind to the root's VSpace");
  // Another VSpace's data, borrowed read-only into the root's.
  uint64_t owner = make(ObjectType::kVSpace);
  uint64_t data = make(ObjectType::kFrame, 12);
  must(map_anywhere(data, owner, 0x400000, abi::kMapWrite), "owner's data page");
  uint64_t alias = new_slot();
  must(sys::cnode_copy(kRoot, alias, data), "alias of the owner's data");
  const uint64_t view = kWindow + 0x72000;
  must(map_frame(alias, kVSpace, view, abi::kMapWrite), "the root's view of the data");
  volatile auto* bytes = reinterpret_cast<volatile uint8_t*>(view);
  bytes[0x10] = 0x42;
  const uint64_t borrowed = kWindow + 0x71000;
  must(lend(owner, 0x400000, kVSpace, borrowed), "borrow the owner's data");
  t.error(insert(breakpoint, borrowed + 0x10, 1, 0, 0), Error::kNotMapped,
          "int3 into a borrowed page");
  // The root's own writable, non-executable page.
  t.error(insert(breakpoint, view + 0x10, 1, 0, 0), Error::kNotMapped,
          "int3 into a non-executable page");
  t.that(bytes[0x10] == 0x42, "the owner's data was changed");
  kill(breakpoint);
}

DEFINE_TEST(attack_kernel_probe_without_authority,
            "BindKernel needs the KernelProbes cap; kernel probes only at function starts") {
  Check t("attack_kernel_probe_without_authority_is_refused");
  uint64_t ring = make(ObjectType::kFrame, 12);
  uint64_t notification = make(ObjectType::kNotification);
  uint64_t breakpoint = make(ObjectType::kBreakpoint);
  uint64_t no_cap[] = {ring, notification, new_slot()};
  t.error(sys::invoke(breakpoint, Label::kBreakpointBindKernel, no_cap), Error::kSlotEmpty,
          "bound to kernel text without authority");
  uint64_t wrong_cap[] = {ring, notification, notification};
  t.error(sys::invoke(breakpoint, Label::kBreakpointBindKernel, wrong_cap), Error::kWrongType,
          "bound to kernel text with a notification as authority");
  uint64_t two_words[] = {ring, notification};
  t.error(sys::invoke(breakpoint, Label::kBreakpointBindKernel, two_words),
          Error::kTruncatedMessage, "bound without naming the authority");
  // A copy of the authority works: the root task hands it to the trace server this way.
  uint64_t delegated = new_slot();
  must(sys::cnode_copy(kRoot, delegated, abi::kSlotKernelProbes), "copy of the authority");
  uint64_t granted[] = {ring, notification, delegated};
  t.error(sys::invoke(breakpoint, Label::kBreakpointBindKernel, granted), Error::kNone,
          "bound with a copy of the authority");
  kill(breakpoint);
}

DEFINE_TEST(attack_kernel_probe_off_function_entry,
            "a kernel probe on entry-NOP bytes that do not start a function is refused") {
  Check t("attack_kernel_probe_off_function_entry_is_refused");
  const abi::ModuleDescription* symbols = nullptr;
  for (uint64_t i = 0; i < boot->module_count; ++i) {
    const char* n = boot->modules[i].name;
    if (n[0] == 's' && n[1] == 'y' && n[2] == 'm' && n[3] == 'b' && n[7] == '\0') {
      symbols = &boot->modules[i];
    }
  }
  t.that(symbols != nullptr, "no symbols module");
  if (symbols == nullptr) return;
  constexpr uint64_t kImageWindow = 0x48000000;
  // The module's frames may be mapped by an earlier test: each cap maps once, so move them.
  for (uint64_t i = 0; i < symbols->frame_count; ++i) {
    must(sys::invoke(symbols->first_slot + i, Label::kFrameUnmap), "unmap the kernel image");
    must(map_anywhere(symbols->first_slot + i, kVSpace, kImageWindow + i * 4096, 0),
         "map the kernel image");
  }
  const auto* image = reinterpret_cast<const uint8_t*>(kImageWindow + symbols->offset);
  elf::SymbolTable table;
  t.that(table.open(image, symbols->size) == elf::ElfError::kNone, "kernel symbols unreadable");
  elf::Executable kernel;
  t.that(elf::parse_executable(image, symbols->size, elf::Limits{0, ~0ull}, kernel) ==
             elf::ElfError::kNone,
         "kernel image unreadable");
  // Find the bytes the kernel once took for an entry NOP (0f 1f 44 00: nopl d8(%rax,%rax))
  // somewhere that is not a function's start: the assembler pads with the same NOP.
  uint64_t decoy = 0, entry = 0;
  for (size_t s = 0; s < kernel.segment_count && (decoy == 0 || entry == 0); ++s) {
    const elf::Segment& segment = kernel.segments[s];
    if ((segment.flags & elf::kFlagExecute) == 0) continue;
    const uint8_t* code = image + segment.file_offset;
    for (uint64_t i = 0; i + 5 <= segment.file_size && (decoy == 0 || entry == 0); ++i) {
      if (code[i] != 0x0f || code[i + 1] != 0x1f || code[i + 2] != 0x44 || code[i + 3] != 0) {
        continue;
      }
      uint64_t address = segment.virtual_address + i;
      if (table.is_function_start(address)) {
        if (entry == 0) entry = address;
      } else if (decoy == 0) {
        decoy = address;
      }
    }
  }
  t.that(entry != 0, "no function entry NOP found in kernel text");
  t.that(decoy != 0, "no padding NOP found in kernel text");
  uint64_t ring = make(ObjectType::kFrame, 12);
  uint64_t notification = make(ObjectType::kNotification);
  uint64_t breakpoint = make(ObjectType::kBreakpoint);
  uint64_t words[] = {ring, notification, abi::kSlotKernelProbes};
  must(sys::invoke(breakpoint, Label::kBreakpointBindKernel, words), "bind kernel");
  t.error(insert(breakpoint, decoy, 5, 0, 0), Error::kInvalidArgument,
          "probe on padding that is not a function entry");
  t.error(insert(breakpoint, entry, 5, 0, 0), Error::kNone, "probe on a function entry");
  kill(breakpoint);
}

namespace {

// Makes its own stack pointer non-canonical and enters the kernel with call `number` (Yield, a
// native call that returns to the caller, or an unknown number, which syscall_entry answers
// itself): the way back must not fault in the kernel. Touches no memory afterwards, so only the
// kernel can report it.
[[gnu::naked]] void leave_with_bad_stack(uint64_t) {
  asm volatile(
      "mov %rdi, %rax\n"
      "movabs $0x8000000000000000, %rsp\n"
      "syscall\n"
      ".globl bad_stack_after_syscall\n"
      "bad_stack_after_syscall: nop\n"
      "1: jmp 1b\n");
}
// Where the fault must show the thread: right after its syscall, not in the loop after it
// (where a later interrupt's exit would find the bad rsp).
extern "C" char bad_stack_after_syscall[];

}  // namespace

DEFINE_TEST(attack_non_canonical_stack_pointer,
            "a non-canonical user rsp is refused by WriteRegisters and faults before iretq") {
  Check t("attack_non_canonical_stack_pointer_is_refused");
  uint64_t thread = spawn(read_word, 0, ThreadOptions{.start = false});
  abi::UserRegisters registers{};
  registers.rip = reinterpret_cast<uint64_t>(&read_word);
  registers.rsp = 0x8000000000000000ull;
  registers.rflags = 0x202;
  t.that(write_registers(thread, registers, false) != 0,
         "WriteRegisters accepted a non-canonical rsp");
  kill(thread);

  uint64_t reply = make(ObjectType::kReply);
  const uint64_t numbers[] = {10, 4096};
  for (uint64_t number : numbers) {
    uint64_t bad =
        spawn(leave_with_bad_stack, number,
              ThreadOptions{.priority = kRootPriority, .fault_endpoint = fault_endpoint});
    // The fault comes at once; without the check the thread spins (or the kernel faults).
    sys::MessageRegisters mr;
    sys::IpcResult r{};
    sys::clock_page = reinterpret_cast<const abi::ClockPage*>(abi::kRootClockPage);
    uint64_t deadline = sys::clock_ns() + 3'000'000'000ull;
    do {
      r = sys::ipc(abi::Syscall::kNBRecv, fault_endpoint, abi::MessageInfo{}, reply, mr);
      if (r.error != Error::kWouldBlock) break;
      sys::yield();
    } while (sys::clock_ns() < deadline);
    t.error(r.error, Error::kNone, "no fault for the non-canonical stack pointer");
    t.that(r.info.label == static_cast<uint64_t>(abi::FaultKind::kException) &&
               sys::message_word(mr, abi::kFaultAddressWord) == 13,
           "the fault is not a #GP exception");
    t.that(sys::message_word(mr, 1) == 0x8000000000000000ull, "the fault shows another rsp");
    t.that(sys::message_word(mr, 0) == reinterpret_cast<uint64_t>(bad_stack_after_syscall),
           "the fault came after the syscall's exit, not at it");
    (void)sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), mr, 0);
    kill(bad);
  }
}

}  // namespace kernel_tests
