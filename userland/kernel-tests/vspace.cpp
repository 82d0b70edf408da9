// SPDX-License-Identifier: MIT
// Kernel tests of address spaces: page tables, frames, other VSpaces, foreign mappings.
#include "suite.hpp"

namespace kernel_tests {

DEFINE_TEST(vspace, "page tables and frames: map, copy, remap, unmap and their errors") {
  fault_endpoint = make(ObjectType::kEndpoint);
  uint64_t frame = make(ObjectType::kFrame, 12);
  uint64_t table = make(ObjectType::kPageTable);
  {
    Check t("frame_map_without_page_table_is_missing_page_table");
    t.error(map_frame(frame, kVSpace, kWindow, abi::kMapWrite), Error::kMissingPageTable, "mapped");
  }
  {
    Check t("page_table_and_frame_map_make_memory");
    t.error(map_table(table, kVSpace, kWindow), Error::kNone, "page table map failed");
    t.error(map_table(table, kVSpace, kWindow), Error::kAlreadyMapped, "page table mapped twice");
    t.error(map_frame(frame, kVSpace, kWindow, abi::kMapWrite), Error::kNone, "frame map failed");
    auto* memory = reinterpret_cast<volatile uint64_t*>(kWindow);
    t.that(memory[0] == 0 && memory[511] == 0, "new frame not zeroed");
    memory[7] = 0xabcdef;
    t.that(memory[7] == 0xabcdef, "memory does not hold a value");
  }
  {
    Check t("frame_map_errors");
    uint64_t other = make(ObjectType::kFrame, 12);
    t.error(map_frame(frame, kVSpace, kWindow + 0x1000, 0), Error::kAlreadyMapped,
            "frame mapped twice");
    t.error(map_frame(other, kVSpace, kWindow, 0), Error::kAlreadyMapped, "address mapped twice");
    t.error(map_frame(other, kVSpace, kWindow + 0x800, 0), Error::kInvalidArgument, "unaligned");
    t.error(map_frame(other, kVSpace, 0xffff800000000000ull, 0), Error::kRangeError,
            "kernel address");
    // The last user page stays unmapped: a syscall ending there would sysret to 0x800000000000.
    t.error(map_frame(other, kVSpace, 0x00007ffffffff000ull, 0), Error::kRangeError,
            "the last user page");
    t.error(map_frame(other, kVSpace, kWindow + 0x1000, 8), Error::kInvalidArgument, "bad rights");
    t.error(map_frame(other, kRoot, kWindow + 0x1000, 0), Error::kWrongType, "CNode as VSpace");
    uint64_t read_only = new_slot();
    must_mint(kRoot, read_only, other, abi::kRightRead, 0);
    t.error(map_frame(read_only, kVSpace, kWindow + 0x1000, abi::kMapWrite), Error::kMissingRight,
            "writable map of a read-only frame cap");
    uint64_t unmapped_frame = make(ObjectType::kFrame, 12);
    uint64_t words[] = {0};
    t.error(sys::invoke(unmapped_frame, Label::kFrameRemap, words), Error::kNotMapped,
            "remap unmapped");
  }
  {
    Check t("frame_copy_shares_memory_at_another_address");
    uint64_t copy = new_slot();
    t.error(sys::cnode_copy(kRoot, copy, frame), Error::kNone, "copy failed");
    t.error(map_frame(copy, kVSpace, kWindow + 0x1000, abi::kMapWrite), Error::kNone,
            "copy map failed");
    t.that(reinterpret_cast<volatile uint64_t*>(kWindow + 0x1000)[7] == 0xabcdef,
           "not the same memory");
    t.error(sys::cnode_delete(kRoot, copy), Error::kNone, "delete failed");
    t.that(faults_at(read_word, kWindow + 0x1000), "deleting the copy left its mapping");
    t.that(reinterpret_cast<volatile uint64_t*>(kWindow)[7] == 0xabcdef, "original mapping lost");
  }
  {
    Check t("frame_get_address_is_page_aligned");
    sys::MessageRegisters out;
    abi::MessageInfo info;
    t.error(sys::invoke(frame, Label::kFrameGetAddress, nullptr, 0, &out, &info), Error::kNone,
            "failed");
    t.that(info.length == 1 && out.word[0] != 0 && out.word[0] % 4096 == 0, "bad address");
  }
  {
    Check t("remap_read_only_makes_writes_fault");
    uint64_t words[] = {abi::kMapRead};
    t.error(sys::invoke(frame, Label::kFrameRemap, words), Error::kNone, "remap failed");
    t.that(faults_at(write_word, kWindow + 8), "write to a read-only page did not fault");
    t.that(reinterpret_cast<volatile uint64_t*>(kWindow)[7] == 0xabcdef, "read after remap failed");
  }
  {
    Check t("unmap_removes_the_mapping");
    t.error(sys::invoke(frame, Label::kFrameUnmap), Error::kNone, "unmap failed");
    t.that(faults_at(read_word, kWindow), "read after unmap did not fault");
    t.error(map_frame(frame, kVSpace, kWindow, abi::kMapWrite), Error::kNone, "map again failed");
    t.that(reinterpret_cast<volatile uint64_t*>(kWindow)[7] == 0xabcdef, "contents lost");
  }
  {
    Check t("page_table_unmap_takes_its_mappings");
    t.error(sys::invoke(table, Label::kPageTableUnmap), Error::kNone, "unmap failed");
    t.that(faults_at(read_word, kWindow), "read through an unmapped page table worked");
    t.error(map_table(table, kVSpace, kWindow), Error::kNone, "remap of the table failed");
    t.that(faults_at(read_word, kWindow), "old mappings came back with the table");
  }
}

namespace {

uint64_t new_vspace_endpoint;

}  // namespace

DEFINE_TEST(thread_in_another_vspace,
            "a thread in a new VSpace runs machine code and sends to the root") {
  Check t("thread_in_another_vspace_runs_and_sends");
  new_vspace_endpoint = make(ObjectType::kEndpoint);
  uint64_t badged = new_slot();
  must_mint(kRoot, badged, new_vspace_endpoint, abi::kRightWrite, 0x33);
  uint64_t vspace = make(ObjectType::kVSpace);
  uint64_t code = make(ObjectType::kFrame, 12);
  for (int i = 0; i < 3; ++i) {
    t.error(map_table(make(ObjectType::kPageTable), vspace, 0x400000), Error::kNone, "page table");
  }
  t.error(map_table(make(ObjectType::kPageTable), vspace, 0x400000), Error::kAlreadyMapped,
          "a fourth level");
  t.error(map_frame(code, vspace, 0x400000, abi::kMapExecute), Error::kNone, "code frame");
  // Write the program through a second mapping in the root's own address space.
  uint64_t window = new_slot();
  must(sys::cnode_copy(kRoot, window, code), "copy code frame");
  must(map_frame(window, kVSpace, kWindow + 0x2000, abi::kMapWrite), "map code window");
  auto* bytes = reinterpret_cast<volatile uint8_t*>(kWindow + 0x2000);
  const uint8_t program[] = {
      0x41, 0xba, 0x2a, 0x00, 0x00, 0x00,  // mov $42, %r10d  (message word 0)
      0xbf, 0x00, 0x00, 0x00, 0x00,        // mov $cptr, %edi
      0xbe, 0x01, 0x00, 0x00, 0x00,        // mov $1, %esi   (MessageInfo: one word)
      0xb8, 0x05, 0x00, 0x00, 0x00,        // mov $5, %eax   (Syscall::kSend)
      0x0f, 0x05,                          // syscall
      0xeb, 0xfe,                          // jmp .
  };
  for (size_t i = 0; i < sizeof(program); ++i) bytes[i] = program[i];
  for (int i = 0; i < 4; ++i) bytes[7 + i] = static_cast<uint8_t>(badged >> (8 * i));
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t configure[] = {kRoot, 0, vspace, 0, 0, 0};
  t.error(sys::invoke(tcb, Label::kTcbConfigure, configure), Error::kNone, "configure");
  uint64_t priority[] = {kRootPriority};
  must(sys::invoke(tcb, Label::kTcbSetPriority, priority), "priority");
  abi::UserRegisters registers{};
  registers.rip = 0x400000;
  registers.rflags = 0x202;
  t.that(write_registers(tcb, registers, true) == 0, "start failed");
  sys::MessageRegisters mr;
  auto r = sys::recv(new_vspace_endpoint, 0, mr);
  t.error(r.error, Error::kNone, "no message");
  t.that(r.badge == 0x33 && r.info.length == 1 && mr.word[0] == 42, "wrong message");
  // The thread's address space is its own: the root's window is not mapped there.
  kill(tcb);
  t.error(sys::cnode_delete(kRoot, vspace), Error::kNone, "delete VSpace");
  t.error(map_frame(new_slot(), kVSpace, 0, 0), Error::kInvalidCapability, "empty slot mapped");
}

namespace {

abi::Error borrow(uint64_t source_vspace, uint64_t source, uint64_t destination_vspace,
                  uint64_t destination, Label label = Label::kVSpaceMapForeign) {
  uint64_t words[] = {source, destination_vspace, destination};
  return sys::invoke(source_vspace, label, words);
}

}  // namespace

DEFINE_TEST(foreign_mappings,
            "another VSpace's pages map read-only and go with their owner's mapping") {
  Check t("foreign_pages_map_read_only_and_are_revocable");
  uint64_t target = make(ObjectType::kVSpace);
  uint64_t data = make(ObjectType::kFrame, 12);
  must(map_anywhere(data, target, 0x400000, abi::kMapWrite), "map target data");
  uint64_t alias = new_slot();
  must(sys::cnode_copy(kRoot, alias, data), "alias");
  must(map_frame(alias, kVSpace, kWindow + 0x50000, abi::kMapWrite), "map alias");
  reinterpret_cast<volatile uint64_t*>(kWindow + 0x50000)[3] = 0x5eed;
  const uint64_t here = kWindow + 0x40000;
  t.error(borrow(target, 0x401000, kVSpace, here), Error::kNotMapped, "unmapped source page");
  t.error(borrow(target, 0x400800, kVSpace, here), Error::kInvalidArgument, "unaligned source");
  t.error(borrow(target, 0x400000, kVSpace, kWindow + 0x50000), Error::kAlreadyMapped,
          "occupied destination");
  uint64_t write_only = new_slot();
  must_mint(kRoot, write_only, target, abi::kRightWrite, 0);
  t.error(borrow(write_only, 0x400000, kVSpace, here), Error::kMissingRight, "borrow without Read");
  t.error(borrow(target, 0x400000, kVSpace, here), Error::kNone, "borrow");
  t.that(reinterpret_cast<volatile uint64_t*>(here)[3] == 0x5eed,
         "borrowed page shows other memory");
  t.that(faults_at(write_word, here), "borrowed page is writable");
  // The trace server checks a borrow it kept from an earlier hit this way: the same borrow
  // again is AlreadyMapped while it stands...
  t.error(borrow(target, 0x400000, kVSpace, here), Error::kAlreadyMapped, "the same borrow twice");
  t.that(reinterpret_cast<volatile uint64_t*>(here)[3] == 0x5eed, "the refused borrow changed it");
  // ...and once the owner put another frame there, it maps that frame.
  must(sys::invoke(data, Label::kFrameUnmap), "owner unmap");
  uint64_t other = make(ObjectType::kFrame, 12);
  must(map_frame(other, target, 0x400000, abi::kMapWrite), "owner maps another frame");
  t.error(borrow(target, 0x400000, kVSpace, here), Error::kNone, "borrow after the remap");
  t.that(reinterpret_cast<volatile uint64_t*>(here)[3] == 0, "the borrow shows the old frame");
  must(sys::invoke(other, Label::kFrameUnmap), "owner unmaps the other frame");
  t.that(faults_at(read_word, here), "borrow outlived the owner's mapping");
  must(map_frame(data, target, 0x400000, abi::kMapWrite), "owner maps again");
  // Explicit unmap.
  t.error(borrow(target, 0x400000, kVSpace, here), Error::kNone, "borrow again");
  t.error(borrow(target, 0x400000, kVSpace, here, Label::kVSpaceUnmapForeign), Error::kNone,
          "unborrow");
  t.that(faults_at(read_word, here), "unborrowed page still mapped");
  t.error(borrow(target, 0x400000, kVSpace, here, Label::kVSpaceUnmapForeign), Error::kNotMapped,
          "unborrow twice");
  // Revoking the holder's cap to the VSpace ends its borrows.
  uint64_t holder = new_slot();
  must(sys::cnode_copy(kRoot, holder, target), "holder cap");
  t.error(borrow(holder, 0x400000, kVSpace, here), Error::kNone, "borrow through the holder's cap");
  t.that(reinterpret_cast<volatile uint64_t*>(here)[3] == 0x5eed, "borrow through copy failed");
  t.error(sys::cnode_revoke(kRoot, target), Error::kNone, "revoke");
  t.that(faults_at(read_word, here), "borrow survived the revocation of the holder's cap");
}

}  // namespace kernel_tests
