// SPDX-License-Identifier: MIT
// Kernel tests of capabilities: boot info, lookup and retype errors, rights, revoke.
#include "suite.hpp"

namespace kernel_tests {

DEFINE_TEST(boot_info,
            "the boot info describes the untyped memory, at least 16 MiB, and an IPC buffer") {
  Check t("boot_info_describes_untyped_memory");
  t.that(boot->magic == abi::kBootInfoMagic, "bad magic");
  t.that(boot->untyped_count > 0, "no untyped memory");
  t.that(boot->ipc_buffer != 0, "no IPC buffer");
  uint64_t total = 0;
  for (uint64_t i = 0; i < boot->untyped_count; ++i)
    total += uint64_t{1} << boot->untyped[i].size_bits;
  t.that(total >= (16ull << 20), "less than 16 MiB of untyped memory");
}

DEFINE_TEST(lookup_errors,
            "cap lookup errors: empty slot, unknown label, wrong object type, guard mismatch") {
  {
    Check t("invoke_empty_slot_is_invalid_capability");
    t.error(sys::invoke(next_slot + 100, Label::kTcbResume), Error::kInvalidCapability,
            "empty slot accepted");
  }
  {
    Check t("unknown_label_is_invalid_label");
    t.error(sys::invoke(kRoot, static_cast<Label>(1000)), Error::kInvalidLabel, "label accepted");
  }
  {
    Check t("label_of_another_type_is_wrong_type");
    t.error(sys::invoke(kSelf, Label::kUntypedRetype), Error::kWrongType,
            "retype on a TCB accepted");
  }
  {
    Check t("cptr_beyond_guard_is_guard_mismatch");
    t.error(sys::invoke(uint64_t{1} << 40, Label::kTcbResume), Error::kGuardMismatch,
            "bad guard accepted");
  }
}

DEFINE_TEST(retype_errors,
            "Untyped retype refuses an occupied slot, an object too large and an unknown type") {
  {
    Check t("retype_into_occupied_slot_is_slot_occupied");
    t.error(sys::retype(untyped, ObjectType::kEndpoint, 0, kRoot, kSelf), Error::kSlotOccupied,
            "overwrote a cap");
  }
  {
    Check t("retype_larger_than_untyped_is_not_enough_memory");
    uint64_t smallest = boot->untyped_first;
    for (uint64_t i = 0; i < boot->untyped_count; ++i) {
      if (boot->untyped[i].size_bits < boot->untyped[smallest - boot->untyped_first].size_bits) {
        smallest = boot->untyped_first + i;
      }
    }
    t.error(sys::retype(smallest, ObjectType::kCNode, 24, kRoot, next_slot + 1),
            Error::kNotEnoughMemory, "huge CNode fit in the smallest untyped");
  }
  {
    Check t("retype_unknown_type_is_invalid_argument");
    t.error(sys::retype(untyped, static_cast<ObjectType>(77), 0, kRoot, next_slot + 1),
            Error::kInvalidArgument, "unknown type accepted");
  }
}

DEFINE_TEST(rights_and_revoke,
            "minted rights limit send and receive; revoke and delete invalidate caps") {
  uint64_t endpoint = make(ObjectType::kEndpoint);
  uint64_t read_only = new_slot();
  {
    Check t("mint_reduces_rights_and_send_needs_write");
    t.error(sys::cnode_mint(kRoot, read_only, endpoint, abi::kRightRead, 0), Error::kNone,
            "mint failed");
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kNBSend, read_only, abi::MessageInfo{1, 0, 0}, 0, mr);
    t.error(r.error, Error::kMissingRight, "send through a read-only cap");
  }
  {
    Check t("recv_needs_read_right");
    uint64_t write_only = new_slot();
    must_mint(kRoot, write_only, endpoint, abi::kRightWrite, 0);
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kNBRecv, write_only, abi::MessageInfo{}, 0, mr);
    t.error(r.error, Error::kMissingRight, "receive through a write-only cap");
  }
  {
    Check t("revoke_deletes_derived_caps");
    uint64_t copy = new_slot();
    t.error(sys::cnode_copy(kRoot, copy, endpoint), Error::kNone, "copy failed");
    t.error(sys::cnode_revoke(kRoot, endpoint), Error::kNone, "revoke failed");
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kNBSend, copy, abi::MessageInfo{}, 0, mr);
    t.error(r.error, Error::kInvalidCapability, "revoked copy still usable");
    r = sys::ipc(abi::Syscall::kNBSend, read_only, abi::MessageInfo{}, 0, mr);
    t.error(r.error, Error::kInvalidCapability, "revoked mint still usable");
  }
  {
    Check t("deleted_cap_is_invalid_capability");
    t.error(sys::cnode_delete(kRoot, endpoint), Error::kNone, "delete failed");
    sys::MessageRegisters mr;
    auto r = sys::ipc(abi::Syscall::kCall, endpoint, abi::MessageInfo{}, 0, mr);
    t.error(r.error, Error::kInvalidCapability, "call on a deleted cap");
  }
}

}  // namespace kernel_tests
