// SPDX-License-Identifier: MIT
// Kernel tests of fault delivery: page faults, exceptions, foreign syscalls, supervisors.
#include "suite.hpp"

namespace kernel_tests {

namespace {

void recovered(uint64_t value) {
  after_fault = value;
  (void)sys::signal(done_notification);
  for (;;) sys::yield();
}
void invalid_opcode(uint64_t) { asm volatile("ud2"); }
void breakpoint_instruction(uint64_t) {
  asm volatile("int3");
  after_fault = 3;
  (void)sys::signal(done_notification);
  for (;;) sys::yield();
}
// A thread with the Linux ABI: every `syscall` is a ForeignSyscall fault, so it reports by
// making a second call (exit_group) after storing the first one's result.
void linux_syscall(uint64_t) {
  uint64_t result;
  asm volatile("syscall" : "=a"(result) : "a"(39) : "rcx", "r11", "memory");  // getpid
  after_fault = result;
  asm volatile("syscall" : : "a"(231), "D"(0) : "rcx", "r11", "memory");  // exit_group
}

}  // namespace

DEFINE_TEST(faults, "faults, exceptions and foreign syscalls reach the handler or the supervisor") {
  done_notification = make(ObjectType::kNotification);
  fault_endpoint = make(ObjectType::kEndpoint);
  uint64_t reply = make(ObjectType::kReply);
  uint64_t badged = new_slot();
  must_mint(kRoot, badged, fault_endpoint, abi::kRightsAll, 0xfa);
  {
    Check t("page_fault_is_delivered_and_handler_redirects");
    after_fault = 0;
    uint64_t thread =
        spawn(touch_unmapped, 0, ThreadOptions{.priority = 100, .fault_endpoint = badged});
    abi::UserRegisters registers;
    uint64_t address = 0, detail = 0;
    auto r = receive_fault(reply, registers, address, detail);
    t.error(r.error, Error::kNone, "no fault message");
    t.that(r.info.label == static_cast<uint64_t>(abi::FaultKind::kPage), "not a page fault");
    t.that(r.info.length == abi::kFaultMessageWords, "fault message length");
    t.that(r.badge == 0xfa, "fault endpoint badge missing");
    t.that(address == 0x100000000ull, "fault address wrong");
    t.that((detail & 2) != 0 && (detail & 4) != 0, "not a user write");
    // Redirect the thread to `recovered(77)`.
    registers.rip = reinterpret_cast<uint64_t>(&recovered);
    registers.rdi = 77;
    sys::MessageRegisters mr;
    uint64_t words[abi::kUserRegisterWords];
    const auto* in = reinterpret_cast<const uint64_t*>(&registers);
    for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = in[i];
    sys::load_message(mr, words, abi::kUserRegisterWords);
    t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSetRegisters), mr,
                      abi::kUserRegisterWords)
                .error,
            Error::kNone, "reply failed");
    sys::wait(done_notification);
    t.that(after_fault == 77, "thread did not continue where the handler said");
    kill(thread);
  }
  {
    Check t("set_some_registers_redirects_a_fault");
    // Twice: answered by Send (the general path) and by ReplyRecv (the fast path's case).
    for (int round = 0; round < 2; ++round) {
      after_fault = 0;
      uint64_t thread =
          spawn(touch_unmapped, 0, ThreadOptions{.priority = 100, .fault_endpoint = badged});
      abi::UserRegisters registers;
      uint64_t address = 0, detail = 0;
      auto r = receive_fault(reply, registers, address, detail);
      t.error(r.error, Error::kNone, "no fault message");
      sys::MessageRegisters mr;
      constexpr uint64_t kRip = 0, kRdi = 8;
      uint64_t words[] = {uint64_t{1} << kRip | uint64_t{1} << kRdi,
                          reinterpret_cast<uint64_t>(&recovered), 78u + round};
      // Refused, and nothing changed: a bit past the registers, fewer values than bits, a
      // kernel rip.
      uint64_t beyond[] = {uint64_t{1} << abi::kUserRegisterWords, 1};
      sys::load_message(mr, beyond, 2);
      t.error(
          sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSetSomeRegisters), mr, 2).error,
          Error::kInvalidArgument, "a mask beyond the registers accepted");
      sys::load_message(mr, words, 2);
      t.error(
          sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSetSomeRegisters), mr, 2).error,
          Error::kInvalidArgument, "two bits with one value accepted");
      uint64_t kernel_rip[] = {uint64_t{1} << kRip, 0xffffffff80000000ull};
      sys::load_message(mr, kernel_rip, 2);
      t.error(
          sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSetSomeRegisters), mr, 2).error,
          Error::kInvalidArgument, "a kernel rip accepted");
      // rip and r11 alone (a return probe's entry: the kernel's shortcut) checks rip the same.
      uint64_t kernel_rip_r11[] = {uint64_t{1} << kRip | uint64_t{1} << abi::user_register::kR11,
                                   0xffffffff80000000ull, 5};
      sys::load_message(mr, kernel_rip_r11, 3);
      t.error(
          sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSetSomeRegisters), mr, 3).error,
          Error::kInvalidArgument, "a kernel rip with r11 accepted");
      sys::load_message(mr, words, 3);
      if (round == 0) {
        t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSetSomeRegisters), mr, 3)
                    .error,
                Error::kNone, "reply failed");
        sys::wait(done_notification);
        t.that(after_fault == 78, "the thread did not go on where the answer said");
      } else {
        // Sent into ud2 with rdi 79: the handler, waiting again at once, gets that #UD.
        words[1] = reinterpret_cast<uint64_t>(&invalid_opcode);
        sys::load_message(mr, words, 3);
        r = sys::reply_recv(fault_endpoint, reply,
                            static_cast<uint64_t>(abi::FaultReply::kSetSomeRegisters), mr, 3);
        t.error(r.error, Error::kNone, "no fault after the redirect");
        t.that(r.info.label == static_cast<uint64_t>(abi::FaultKind::kException),
               "not the #UD where the answer sent it");
        t.that(sys::message_word(mr, kRdi) == 79, "rdi not set by the answer");
        t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), mr, 0).error,
                Error::kNone, "suspend reply failed");
      }
      kill(thread);
    }
  }
  {
    Check t("invalid_opcode_is_an_exception_fault");
    uint64_t thread =
        spawn(invalid_opcode, 0, ThreadOptions{.priority = 100, .fault_endpoint = badged});
    abi::UserRegisters registers;
    uint64_t vector = 0, detail = 0;
    auto r = receive_fault(reply, registers, vector, detail);
    t.error(r.error, Error::kNone, "no fault message");
    t.that(r.info.label == static_cast<uint64_t>(abi::FaultKind::kException), "not an exception");
    t.that(vector == 6, "vector is not #UD");
    t.that(registers.rip == reinterpret_cast<uint64_t>(&invalid_opcode) ||
               registers.rip > reinterpret_cast<uint64_t>(&invalid_opcode),
           "rip not in the faulting function");
    sys::MessageRegisters mr;
    sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), mr, 0);
    kill(thread);
  }
  {
    Check t("int3_is_an_exception_fault_and_resumes_after_it");
    after_fault = 0;
    uint64_t thread =
        spawn(breakpoint_instruction, 0, ThreadOptions{.priority = 100, .fault_endpoint = badged});
    abi::UserRegisters registers;
    uint64_t vector = 0, detail = 0;
    auto r = receive_fault(reply, registers, vector, detail);
    t.error(r.error, Error::kNone, "no fault message");
    t.that(vector == 3, "vector is not #BP");
    sys::MessageRegisters mr;
    sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kResume), mr, 0);
    sys::wait(done_notification);
    t.that(after_fault == 3, "thread did not go on after int3");
    kill(thread);
  }
  {
    Check t("foreign_syscall_round_trip");
    after_fault = 0;
    uint64_t thread =
        spawn(linux_syscall, 0,
              ThreadOptions{.priority = 100, .fault_endpoint = badged, .linux_abi = true});
    abi::UserRegisters registers;
    uint64_t a = 0, b = 0;
    auto r = receive_fault(reply, registers, a, b);
    t.error(r.error, Error::kNone, "no fault message");
    t.that(r.info.label == static_cast<uint64_t>(abi::FaultKind::kForeignSyscall),
           "not a ForeignSyscall");
    t.that(registers.rax == 39, "syscall number not in rax");
    sys::MessageRegisters mr;
    mr.word[0] = 4242;
    // Reply and wait for the next fault in one call (the ReplyRecv fast path).
    r = sys::reply_recv(fault_endpoint, reply, static_cast<uint64_t>(abi::FaultReply::kSetResult),
                        mr, 1);
    t.error(r.error, Error::kNone, "no second fault message");
    auto* words = reinterpret_cast<uint64_t*>(&registers);
    for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = sys::message_word(mr, i);
    t.that(r.info.label == static_cast<uint64_t>(abi::FaultKind::kForeignSyscall),
           "second fault kind");
    t.that(registers.rax == 231 && registers.rdi == 0, "second syscall's registers wrong");
    t.that(after_fault == 4242, "syscall result not delivered");
    t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), mr, 0).error,
            Error::kNone, "suspend reply failed");
    kill(thread);
  }
  {
    // A fault its handler has not received is taken back by Suspend: the thread is left at its
    // `syscall` with the number in rax, and Resume makes the call again (the POSIX server
    // suspends threads for signals without knowing whether one has just made a call).
    Check t("suspend_takes_back_an_unreceived_foreign_syscall");
    after_fault = 0;
    uint64_t thread =
        spawn(linux_syscall, 0,
              ThreadOptions{.priority = 200, .fault_endpoint = badged, .linux_abi = true});
    // It ran at once (above the root) and waits in its fault's send: nobody receives yet.
    t.error(sys::invoke(thread, Label::kTcbSuspend), Error::kNone, "suspend failed");
    sys::MessageRegisters out;
    abi::MessageInfo info;
    t.error(sys::invoke(thread, Label::kTcbReadRegisters, nullptr, 0, &out, &info), Error::kNone,
            "read registers failed");
    abi::UserRegisters registers;
    auto* words = reinterpret_cast<uint64_t*>(&registers);
    for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = sys::message_word(out, i);
    const auto* at = reinterpret_cast<const uint8_t*>(registers.rip);
    t.that(at[0] == 0x0f && at[1] == 0x05, "not left at its syscall instruction");
    t.that(registers.rax == 39, "the syscall number was lost");
    t.error(sys::invoke(thread, Label::kTcbResume), Error::kNone, "resume failed");
    uint64_t a = 0, b = 0;
    auto r = receive_fault(reply, registers, a, b);
    t.error(r.error, Error::kNone, "no fault message after resume");
    t.that(r.info.label == static_cast<uint64_t>(abi::FaultKind::kForeignSyscall) &&
               registers.rax == 39,
           "the call was not made again");
    sys::MessageRegisters mr;
    mr.word[0] = 4242;
    r = sys::reply_recv(fault_endpoint, reply, static_cast<uint64_t>(abi::FaultReply::kSetResult),
                        mr, 1);
    t.error(r.error, Error::kNone, "no second fault message");
    t.that(after_fault == 4242, "the result of the call made again was not delivered");
    t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), mr, 0).error,
            Error::kNone, "suspend reply failed");
    kill(thread);
  }
  {
    Check t("malformed_fault_reply_is_rejected");
    uint64_t thread =
        spawn(invalid_opcode, 0, ThreadOptions{.priority = 100, .fault_endpoint = badged});
    abi::UserRegisters registers;
    uint64_t a = 0, b = 0;
    receive_fault(reply, registers, a, b);
    sys::MessageRegisters mr;
    t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSetRegisters), mr, 2).error,
            Error::kInvalidArgument, "short register set accepted");
    t.error(sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSuspend), mr, 0).error,
            Error::kNone, "the caller was lost after a bad reply");
    kill(thread);
  }
  {
    Check t("fault_without_handler_suspends_and_signals_supervisor");
    uint64_t supervisor = make(ObjectType::kNotification);
    uint64_t badged_supervisor = new_slot();
    must_mint(kRoot, badged_supervisor, supervisor, abi::kRightsAll, 0x77);
    uint64_t thread =
        spawn(touch_unmapped, 0, ThreadOptions{.priority = 100, .supervisor = badged_supervisor});
    auto r = sys::wait(supervisor);
    t.error(r.error, Error::kNone, "supervisor not signalled");
    t.that(r.badge == 0x77, "supervisor badge wrong");
    sys::MessageRegisters out;
    t.error(sys::invoke(thread, Label::kTcbReadRegisters, nullptr, 0, &out), Error::kNone,
            "thread gone");
    kill(thread);
  }
  {
    Check t("fault_endpoint_revoked_while_waiting_signals_supervisor");
    uint64_t supervisor = make(ObjectType::kNotification);
    uint64_t lonely = make(ObjectType::kEndpoint);
    uint64_t thread =
        spawn(touch_unmapped, 0,
              ThreadOptions{.priority = 100, .fault_endpoint = lonely, .supervisor = supervisor});
    // Nobody receives on `lonely`: the thread waits in its queue until the endpoint dies.
    auto r = sys::poll(supervisor);
    t.error(r.error, Error::kWouldBlock, "supervisor signalled too early");
    sys::yield();
    // The thread's own copy of the cap keeps the endpoint alive; revoking the original
    // deletes that copy, and deleting the original then destroys the endpoint.
    t.error(sys::cnode_revoke(kRoot, lonely), Error::kNone, "revoke failed");
    t.error(sys::cnode_delete(kRoot, lonely), Error::kNone, "delete failed");
    r = sys::poll(supervisor);
    t.error(r.error, Error::kNone, "supervisor not signalled when the handler went away");
    kill(thread);
  }
}

}  // namespace kernel_tests
