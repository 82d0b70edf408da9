// SPDX-License-Identifier: MIT
// Kernel-text probe samples: the pt_regs a program sees, the stack words as readable memory,
// draining the kernel's ring, and `microkernel:` names.
#include "trace/kernel_samples.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace trace::testing {
namespace {

namespace abi = sonde::abi;

abi::SampleRecord sample(uint64_t n) {
  abi::SampleRecord record{};
  record.address = 0xffffffff80123450ull;
  record.timestamp = 1000 + n;
  record.cpu = 1;
  record.thread = 0xffff800000abc000ull;
  record.rsp = 0xffff800000f00f80ull;
  record.rdi = 0x11 + n;
  record.rsi = 0x22;
  record.rdx = 0x33;
  record.rcx = 0x44;
  record.r8 = 0x55;
  record.r9 = 0x66;
  for (uint64_t i = 0; i < 5; ++i) record.stack[i] = 0xffffffff80200000ull + i;
  return record;
}

TEST(KernelSamples, PtRegsCarryTheArgumentsIpAndStack) {
  abi::SampleRecord record = sample(0);
  PtRegs regs = pt_regs_from_sample(record);
  EXPECT_EQ(regs.di, 0x11u);
  EXPECT_EQ(regs.si, 0x22u);
  EXPECT_EQ(regs.dx, 0x33u);
  EXPECT_EQ(regs.cx, 0x44u);
  EXPECT_EQ(regs.r8, 0x55u);
  EXPECT_EQ(regs.r9, 0x66u);
  EXPECT_EQ(regs.ip, record.address + 1) << "Linux's kprobe handlers see the int3's end";
  EXPECT_EQ(regs.sp, record.rsp);
  EXPECT_EQ(regs.cs, 0x08u);  // kernel mode: user_mode(regs) is false
  EXPECT_EQ(regs.ss, 0x10u);
  EXPECT_EQ(regs.orig_ax, ~uint64_t{0});
  EXPECT_EQ(regs.ax, 0u);
  EXPECT_EQ(regs.bx, 0u);
  // Linux's offsets, which programs use (PT_REGS_PARM1 is at 112, ip at 128, sp at 152).
  EXPECT_EQ(offsetof(PtRegs, di), 112u);
  EXPECT_EQ(offsetof(PtRegs, ip), 128u);
  EXPECT_EQ(offsetof(PtRegs, sp), 152u);
}

TEST(KernelSamples, StackWordsAreTheOnlyReadableMemory) {
  abi::SampleRecord record = sample(0);
  SampleMemory memory(record);
  uint64_t word = 0;
  ASSERT_TRUE(memory.read(&word, record.rsp, 8));
  EXPECT_EQ(word, record.stack[0]);  // the return address
  ASSERT_TRUE(memory.read(&word, record.rsp + 32, 8));
  EXPECT_EQ(word, record.stack[4]);
  uint32_t half = 0;
  ASSERT_TRUE(memory.read(&half, record.rsp + 12, 4));
  EXPECT_EQ(half, static_cast<uint32_t>(record.stack[1] >> 32));
  EXPECT_TRUE(memory.read(&word, record.rsp + 40, 0));
  EXPECT_FALSE(memory.read(&word, record.rsp + 36, 8));
  EXPECT_FALSE(memory.read(&word, record.rsp - 8, 8));
  EXPECT_FALSE(memory.read(&word, record.rsp + 40, 1));
  EXPECT_FALSE(memory.read(&word, record.address, 1));
  EXPECT_FALSE(memory.read(&word, ~uint64_t{0} - 3, 8));
}

// The POSIX server's memory as a test sees it: one readable range.
class ServerRange final : public TracedMemory {
 public:
  ServerRange(uint64_t start, const uint8_t* bytes, size_t size)
      : start_(start), bytes_(bytes), size_(size) {}
  bool read(void* destination, uint64_t address, size_t size) override {
    ++reads;
    if (address < start_ || address - start_ > size_ || size > size_ - (address - start_))
      return false;
    std::memcpy(destination, bytes_ + (address - start_), size);
    return true;
  }
  int reads = 0;

 private:
  uint64_t start_;
  const uint8_t* bytes_;
  size_t size_;
};

TEST(KernelSamples, LowerHalfAddressesAreTheServersWhenItIsGiven) {
  abi::SampleRecord record = sample(0);
  const uint8_t task[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ServerRange server(0x400000, task, sizeof task);
  SampleMemory memory(record, &server);
  uint64_t word = 0;
  ASSERT_TRUE(memory.read(&word, 0x400000, 8));  // a task_struct of the POSIX server
  EXPECT_EQ(word, 0x0807060504030201u);
  EXPECT_FALSE(memory.read(&word, 0x400004, 8));  // past what the server has
  // The server's image at its kernel alias, where kallsyms lists it (bpftrace's kaddr).
  word = 0;
  ASSERT_TRUE(memory.read(&word, 0xffffffff81000000ull, 8));
  EXPECT_EQ(word, 0x0807060504030201u);
  ASSERT_TRUE(memory.read(&word, record.rsp, 8));  // the stack words stay the sample's
  EXPECT_EQ(word, record.stack[0]);
  int asked = server.reads;
  // Kernel addresses and ranges that run out of the lower half are never asked of the server.
  EXPECT_FALSE(memory.read(&word, record.address, 8));
  EXPECT_FALSE(memory.read(&word, 0x00007ffffffffffcull, 8));
  EXPECT_EQ(server.reads, asked);
  // Without a server, nothing outside the stack words is readable.
  SampleMemory alone(record);
  EXPECT_FALSE(alone.read(&word, 0x400000, 8));
}

TEST(KernelSamples, BytesShownAsSampledOverrideTheServersNow) {
  abi::SampleRecord record = sample(0);
  const uint8_t task[8] = {0, 0, 0, 0, 5, 6, 7, 8};  // __state 0 now
  ServerRange server(0x400000, task, sizeof task);
  SampleMemory memory(record, &server);
  const uint32_t sleeping = 1;  // TASK_INTERRUPTIBLE when the sample was taken
  memory.show_as_sampled(0x400000, &sleeping, sizeof sleeping);
  uint32_t state = 99;
  ASSERT_TRUE(memory.read(&state, 0x400000, 4));
  EXPECT_EQ(state, 1u);
  uint64_t word = 0;  // a read that covers it and more: only those bytes change
  ASSERT_TRUE(memory.read(&word, 0x400000, 8));
  EXPECT_EQ(word, 0x0807060500000001u);
  uint8_t byte = 0;  // a read of part of it
  ASSERT_TRUE(memory.read(&byte, 0x400000, 1));
  EXPECT_EQ(byte, 1);
  ASSERT_TRUE(memory.read(&byte, 0x400004, 1));  // outside it
  EXPECT_EQ(byte, 5);
  EXPECT_FALSE(memory.read(&word, 0x400004, 8));  // what the server cannot read stays unreadable
}

abi::SampleRing* new_ring() {
  auto* ring = new abi::SampleRing{};
  ring->capacity = 31;
  return ring;
}

// The kernel's side: one record at head % capacity, or a drop when full.
void kernel_writes(abi::SampleRing& ring, const abi::SampleRecord& record) {
  if (ring.head - ring.tail >= ring.capacity) {
    ring.dropped = ring.dropped + 1;
    return;
  }
  ring.records[ring.head % ring.capacity] = record;
  ring.head = ring.head + 1;
}

TEST(KernelSamples, DrainTakesEverySampleInOrderAndFreesTheRing) {
  abi::SampleRing* ring = new_ring();
  std::vector<uint64_t> seen;
  auto take = [&](const abi::SampleRecord& record) { seen.push_back(record.rdi); };
  EXPECT_EQ(drain_samples(*ring, take), 0u);
  uint64_t n = 0;
  for (int round = 0; round < 5; ++round) {  // around the ring several times
    for (int i = 0; i < 20; ++i) kernel_writes(*ring, sample(n++));
    EXPECT_EQ(drain_samples(*ring, take), 20u);
    EXPECT_EQ(ring->tail, ring->head);
  }
  ASSERT_EQ(seen.size(), 100u);
  for (uint64_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 0x11 + i);
  EXPECT_EQ(ring->dropped, 0u);
  delete ring;
}

TEST(KernelSamples, AFullRingDropsAndDrainsWhatItHolds) {
  abi::SampleRing* ring = new_ring();
  for (uint64_t i = 0; i < 40; ++i) kernel_writes(*ring, sample(i));
  EXPECT_EQ(ring->dropped, 9u);
  uint64_t last = 0, count = 0;
  EXPECT_EQ(drain_samples(*ring,
                          [&](const abi::SampleRecord& record) {
                            last = record.rdi;
                            ++count;
                          }),
            31u);
  EXPECT_EQ(count, 31u);
  EXPECT_EQ(last, 0x11u + 30);
  kernel_writes(*ring, sample(99));
  EXPECT_EQ(drain_samples(*ring, [](const abi::SampleRecord&) {}), 1u);
  delete ring;
}

TEST(KernelSamples, NonsenseIndicesResetTheRing) {
  abi::SampleRing* ring = new_ring();
  int calls = 0;
  auto count = [&](const abi::SampleRecord&) { ++calls; };
  ring->head = 100;
  ring->tail = 10;  // more pending than the ring holds
  EXPECT_EQ(drain_samples(*ring, count), 0u);
  EXPECT_EQ(ring->tail, 100u);
  ring->tail = 200;  // tail past head
  EXPECT_EQ(drain_samples(*ring, count), 0u);
  EXPECT_EQ(ring->tail, 100u);
  ring->capacity = 1000;  // beyond the frame
  ring->head = 101;
  EXPECT_EQ(drain_samples(*ring, count), 0u);
  EXPECT_EQ(calls, 0);
  delete ring;
}

TEST(KernelSamples, ModulePrefixNamesKernelFunctions) {
  std::string text = "microkernel:_ZN6kernel16syscall_dispatchEPNS_3TcbE";
  SymbolName name = split_symbol_name(text.data(), text.size());
  EXPECT_TRUE(name.is_kernel_module());
  EXPECT_EQ(std::string(name.symbol, name.symbol_length), "_ZN6kernel16syscall_dispatchEPNS_3TcbE");
  text = "do_unlinkat";
  name = split_symbol_name(text.data(), text.size());
  EXPECT_EQ(name.module, nullptr);
  EXPECT_FALSE(name.is_kernel_module());
  EXPECT_EQ(std::string(name.symbol, name.symbol_length), "do_unlinkat");
  text = "ext4:ext4_file_open";
  name = split_symbol_name(text.data(), text.size());
  EXPECT_FALSE(name.is_kernel_module());
  EXPECT_EQ(std::string(name.module, name.module_length), "ext4");
  text = "microkernelx:f";
  EXPECT_FALSE(split_symbol_name(text.data(), text.size()).is_kernel_module());
  EXPECT_TRUE(is_kernel_address(0xffffffff80000000ull));
  EXPECT_FALSE(is_kernel_address(0x401000));
}

}  // namespace
}  // namespace trace::testing
