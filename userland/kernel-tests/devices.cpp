// SPDX-License-Identifier: MIT
// Kernel tests of devices: I/O port caps (a user-mode COM1 driver) and IRQ lines.
#include "suite.hpp"

namespace kernel_tests {

namespace {

abi::Error port_in(uint64_t ports, Label label, uint64_t port, uint64_t& value) {
  uint64_t words[] = {port};
  sys::MessageRegisters out;
  abi::Error e = sys::invoke(ports, label, words, 1, &out);
  value = out.word[0];
  return e;
}
abi::Error port_out(uint64_t ports, Label label, uint64_t port, uint64_t value) {
  uint64_t words[] = {port, value};
  return sys::invoke(ports, label, words);
}
abi::Error issue_ports(uint64_t ports, uint64_t first, uint64_t last, uint64_t slot) {
  uint64_t words[] = {first, last, slot, 64};
  return sys::invoke(ports, Label::kIoPortsIssue, words);
}

constexpr uint64_t kCom1 = 0x3f8;

// A user-mode COM1 driver: wait for the transmitter, write a byte.
abi::Error com1_write(uint64_t ports, const char* text) {
  for (const char* c = text; *c != '\0'; ++c) {
    uint64_t status = 0;
    do {
      if (abi::Error e = port_in(ports, Label::kIoPortsIn8, kCom1 + 5, status); e != Error::kNone)
        return e;
    } while ((status & 0x20) == 0);
    if (abi::Error e = port_out(ports, Label::kIoPortsOut8, kCom1, static_cast<uint8_t>(*c));
        e != Error::kNone) {
      return e;
    }
  }
  return Error::kNone;
}

}  // namespace

DEFINE_TEST(devices, "I/O port caps drive COM1 from user mode; IRQ lines signal notifications") {
  uint64_t com1 = new_slot();
  {
    Check t("user_mode_com1_driver_writes_through_io_port_cap");
    t.error(issue_ports(abi::kSlotIoPorts, kCom1, kCom1 + 7, com1), Error::kNone,
            "issue COM1's ports");
    t.error(com1_write(com1, "kernel-tests: hello from a user-mode COM1 driver\n"), Error::kNone,
            "write");
  }
  {
    Check t("io_ports_outside_the_range_are_refused");
    uint64_t value = 0;
    t.error(port_in(com1, Label::kIoPortsIn8, 0x60, value), Error::kRangeError,
            "keyboard port read");
    t.error(port_out(com1, Label::kIoPortsOut16, kCom1 + 7, 0), Error::kRangeError,
            "word past the end");
    t.error(issue_ports(com1, kCom1 - 8, kCom1, new_slot()), Error::kRangeError,
            "wider range issued");
    t.error(issue_ports(com1, kCom1 + 2, kCom1 + 1, new_slot()), Error::kRangeError,
            "empty range issued");
  }
  {
    Check t("io_ports_need_rights_and_revoke_with_their_parent");
    uint64_t read_only = new_slot();
    must_mint(kRoot, read_only, com1, abi::kRightRead, 0);
    uint64_t value = 0;
    t.error(port_in(read_only, Label::kIoPortsIn8, kCom1 + 5, value), Error::kNone, "read");
    t.error(port_out(read_only, Label::kIoPortsOut8, kCom1 + 7, 0), Error::kMissingRight,
            "write through read-only");
    uint64_t scratch = new_slot();
    t.error(issue_ports(com1, kCom1 + 7, kCom1 + 7, scratch), Error::kNone,
            "issue the scratch register");
    t.error(sys::cnode_revoke(kRoot, com1), Error::kNone, "revoke");
    t.error(port_in(scratch, Label::kIoPortsIn8, kCom1 + 7, value), Error::kInvalidCapability,
            "narrower cap survived its parent's revocation");
  }
  uint64_t irq4 = new_slot();
  {
    Check t("irq_control_hands_out_each_line_once");
    uint64_t get[] = {0, new_slot(), 64};
    t.error(sys::invoke(abi::kSlotIrqControl, Label::kIrqControlGet, get), Error::kNotPermitted,
            "timer line");
    get[0] = 16;
    t.error(sys::invoke(abi::kSlotIrqControl, Label::kIrqControlGet, get), Error::kRangeError,
            "line 16");
    uint64_t get4[] = {4, irq4, 64};
    t.error(sys::invoke(abi::kSlotIrqControl, Label::kIrqControlGet, get4), Error::kNone, "line 4");
    get4[1] = new_slot();
    t.error(sys::invoke(abi::kSlotIrqControl, Label::kIrqControlGet, get4), Error::kIrqInUse,
            "line 4 twice");
    uint64_t wrong[] = {kSelf};
    t.error(sys::invoke(irq4, Label::kIrqHandlerSetNotification, wrong), Error::kWrongType,
            "TCB as notification");
  }
  {
    Check t("com1_interrupt_signals_the_bound_notification");
    uint64_t notification = make(ObjectType::kNotification);
    uint64_t badged = new_slot();
    must_mint(kRoot, badged, notification, abi::kRightsAll, 0x44);
    uint64_t bind_words[] = {badged};
    t.error(sys::invoke(irq4, Label::kIrqHandlerSetNotification, bind_words), Error::kNone, "bind");
    uint64_t ports = new_slot();
    must(issue_ports(abi::kSlotIoPorts, kCom1, kCom1 + 7, ports), "ports");
    uint64_t mcr = 0;
    must(port_in(ports, Label::kIoPortsIn8, kCom1 + 4, mcr), "read MCR");
    must(port_out(ports, Label::kIoPortsOut8, kCom1 + 4, mcr | 0x08), "OUT2: IRQ line on");
    must(port_out(ports, Label::kIoPortsOut8, kCom1 + 1, 0x02), "IER: transmitter empty");
    sys::IpcResult r;
    uint64_t start = sys::debug_ticks();
    do {
      r = sys::poll(notification);
    } while (r.error == Error::kWouldBlock && sys::debug_ticks() - start < 200);
    t.error(r.error, Error::kNone, "no interrupt arrived");
    t.that(r.badge == 0x44, "interrupt badge lost");
    must(port_out(ports, Label::kIoPortsOut8, kCom1 + 1, 0x00), "IER off");
    uint64_t iir = 0;
    must(port_in(ports, Label::kIoPortsIn8, kCom1 + 2, iir), "read IIR");
    t.error(sys::invoke(irq4, Label::kIrqHandlerAck), Error::kNone, "ack");
    must(port_out(ports, Label::kIoPortsOut8, kCom1 + 4, mcr), "MCR back");
    t.error(sys::cnode_delete(kRoot, irq4), Error::kNone, "delete handler");
    uint64_t again[] = {4, new_slot(), 64};
    t.error(sys::invoke(abi::kSlotIrqControl, Label::kIrqControlGet, again), Error::kNone,
            "line not free after its handler cap was deleted");
  }
}

}  // namespace kernel_tests
