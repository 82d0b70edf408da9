// SPDX-License-Identifier: MIT
// Kernel samples as probe hits: pt_regs, the stack words as memory, names of kernel functions.
#include "trace/kernel_samples.hpp"

#include "rt/kernel_alias.hpp"

namespace trace {

namespace {
constexpr uint64_t kKernelCodeSelector = 0x08;  // the microkernel's GDT (trap_frame.hpp)
constexpr uint64_t kKernelDataSelector = 0x10;
constexpr uint64_t kStackWords = sizeof(sonde::abi::SampleRecord::stack) / 8;
constexpr uint64_t kUserHalfEnd = 0x0000800000000000ull;  // past the POSIX server's addresses
}  // namespace

bool SymbolName::is_kernel_module() const {
  size_t length = sizeof kKernelModule - 1;
  if (module == nullptr || module_length != length) return false;
  for (size_t i = 0; i < length; ++i) {
    if (module[i] != kKernelModule[i]) return false;
  }
  return true;
}

SymbolName split_symbol_name(const char* name, size_t length) {
  SymbolName split;
  split.symbol = name;
  split.symbol_length = length;
  for (size_t i = 0; i < length; ++i) {
    if (name[i] != ':') continue;
    split.module = name;
    split.module_length = i;
    split.symbol = name + i + 1;
    split.symbol_length = length - i - 1;
    break;
  }
  return split;
}

PtRegs pt_regs_from_sample(const sonde::abi::SampleRecord& sample) {
  PtRegs regs{};
  regs.di = sample.rdi;
  regs.si = sample.rsi;
  regs.dx = sample.rdx;
  regs.cx = sample.rcx;
  regs.r8 = sample.r8;
  regs.r9 = sample.r9;
  regs.orig_ax = ~uint64_t{0};
  regs.ip = sample.address + 1;  // past the int3, as Linux's kprobe handlers see it
  regs.cs = kKernelCodeSelector;
  regs.flags = 0x2;  // the kernel runs probed code with interrupts off
  regs.sp = sample.rsp;
  regs.ss = kKernelDataSelector;
  return regs;
}

bool SampleMemory::read(void* destination, uint64_t address, size_t size) {
  // The POSIX server's image as Linux programs see it (kallsyms: bpftrace's kaddr) is its own.
  address = sonde::abi::server_address(address);
  uint64_t start = sample_.rsp;
  uint64_t bytes = kStackWords * 8;
  if (address < start || address - start > bytes || size > bytes - (address - start)) {
    bool in_server = address < kUserHalfEnd && size <= kUserHalfEnd - address;
    if (server_ == nullptr || !in_server || !server_->read(destination, address, size)) {
      return false;
    }
    auto* out = static_cast<uint8_t*>(destination);
    for (size_t i = 0; i < overlay_size_; ++i) {
      uint64_t at = overlay_address_ + i;
      if (at >= address && at - address < size) out[at - address] = overlay_[i];
    }
    return true;
  }
  const auto* words = reinterpret_cast<const uint8_t*>(sample_.stack);
  auto* out = static_cast<uint8_t*>(destination);
  for (size_t i = 0; i < size; ++i) out[i] = words[address - start + i];
  return true;
}

void SampleMemory::show_as_sampled(uint64_t address, const void* bytes, size_t size) {
  overlay_size_ = size <= sizeof overlay_ ? size : sizeof overlay_;
  overlay_address_ = address;
  __builtin_memcpy(overlay_, bytes, overlay_size_);
}

}  // namespace trace
