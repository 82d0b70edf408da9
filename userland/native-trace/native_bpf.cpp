// SPDX-License-Identifier: MIT
// NativeBpf: BpfRequest tries with the program's own buffers as the caller memory.
#include "native_bpf.hpp"

#include "rt/errno.hpp"

namespace native_trace {

namespace {

int64_t errno_of(const rt::Error& error) {
  return -static_cast<int64_t>(error.code != 0 ? error.code : rt::kEIO);
}

uint64_t address_of(const void* pointer) { return reinterpret_cast<uint64_t>(pointer); }

}  // namespace

bool NativeBpf::expose(const void* start, size_t size, bool writable) {
  if (region_count_ == kMaxRegions) return false;
  regions_[region_count_++] = Region{address_of(start), size, writable};
  return true;
}

uint64_t NativeBpf::readable(uint64_t address, uint64_t length) const {
  for (uint32_t i = 0; i < region_count_; ++i) {
    const Region& region = regions_[i];
    if (address < region.start || address - region.start >= region.size) continue;
    uint64_t left = region.size - (address - region.start);
    return left < length ? left : length;
  }
  return 0;
}

bool NativeBpf::writable(uint64_t address, uint64_t length) const {
  for (uint32_t i = 0; i < region_count_; ++i) {
    const Region& region = regions_[i];
    if (region.writable && address >= region.start && address - region.start <= region.size &&
        length <= region.size - (address - region.start)) {
      return true;
    }
  }
  return false;
}

int64_t NativeBpf::connect() {
  auto request = client_.instanceRequest();
  ++calls_;
  auto reply = request.send();
  if (!reply.ok()) return errno_of(reply.error());
  instance_ = reply.value().getInstance();
  return 0;
}

int64_t NativeBpf::call(sonde::proto::LinuxCall operation, int command, const void* attr,
                        uint32_t size, uint64_t attr_address, const uint64_t* arguments,
                        uint32_t argument_count) {
  struct Range {
    uint64_t address;
    uint64_t length;
  };
  Range ranges[kMaxRanges];
  uint32_t range_count = 0;
  for (uint32_t tries = 0; tries < kMaxTries; ++tries) {
    auto request = client_.bpfRequest();
    auto call = request.params().initRequest();
    call.setCommand(static_cast<uint32_t>(command));
    call.setAttr(static_cast<const uint8_t*>(attr), size);
    call.setAttrSize(size);
    call.setAttrAddress(attr_address);
    call.setInstance(instance_);
    call.setOperation(operation);
    auto list = call.initArguments(argument_count);
    for (uint32_t i = 0; i < argument_count; ++i) list.set(i, arguments[i]);
    // The trace server gives a native client its own identity and privileges and reads no
    // descriptor table (its fds are its handles): the caller struct stays empty.
    (void)call.initCaller();
    auto memory = call.initMemory(range_count);
    for (uint32_t i = 0; i < range_count; ++i) {
      // The bytes go straight from the program's buffer into the message; past its readable
      // prefix the range reads as faulted (EFAULT), not missing.
      memory[i].setAddress(ranges[i].address);
      memory[i].setLength(ranges[i].length);
      memory[i].setData(reinterpret_cast<const uint8_t*>(ranges[i].address),
                        readable(ranges[i].address, ranges[i].length));
    }
    ++calls_;
    auto reply = request.send();  // E2BIG/ENOSPC here: the request outgrew an inline message
    if (!reply.ok()) return errno_of(reply.error());
    auto outcome = reply.value().getOutcome();
    if (!outcome.ok()) return errno_of(outcome.error());
    if (outcome.value().isNeedMemory()) {
      auto need = outcome.value().getNeedMemory();
      if (!need.ok()) return errno_of(need.error());
      if (range_count == kMaxRanges) return -static_cast<int64_t>(rt::kE2BIG);
      ranges[range_count++] = Range{need.value().getAddress(), need.value().getLength()};
      continue;
    }
    auto done = outcome.value().getDone();
    if (!done.ok()) return errno_of(done.error());
    auto writes = done.value().getWrites();
    if (!writes.ok()) return errno_of(writes.error());
    int64_t result = done.value().getResult();
    // Check every write first: a command whose output cannot land fails whole (EFAULT), and a
    // handle it made is given back, as Linux does not install the fd.
    for (uint32_t i = 0; i < writes.value().size(); ++i) {
      auto data = writes.value()[i].getData();
      if (!data.ok() || !writable(writes.value()[i].getAddress(), data.value().size)) {
        if (done.value().getNewHandle() && result > 0) (void)close(static_cast<int32_t>(result));
        return -static_cast<int64_t>(rt::kEFAULT);
      }
    }
    for (uint32_t i = 0; i < writes.value().size(); ++i) {
      auto data = writes.value()[i].getData().value();
      __builtin_memcpy(reinterpret_cast<void*>(writes.value()[i].getAddress()), data.bytes,
                       data.size);
    }
    return result;
  }
  return -static_cast<int64_t>(rt::kE2BIG);  // it kept asking for more memory
}

int64_t NativeBpf::bpf(int command, void* attr, uint32_t size) {
  return call(sonde::proto::LinuxCall::kBpf, command, attr, size, address_of(attr), nullptr, 0);
}

int64_t NativeBpf::perf_event_open(void* attr, int32_t pid, int32_t cpu, int32_t group_fd,
                                   uint64_t flags) {
  // The attr is read through the ranges (its size first, then the whole struct).
  uint64_t arguments[] = {static_cast<uint64_t>(pid), static_cast<uint64_t>(cpu),
                          static_cast<uint64_t>(group_fd), flags};
  return call(sonde::proto::LinuxCall::kPerfEventOpen, 0, nullptr, 0, address_of(attr), arguments,
              4);
}

int64_t NativeBpf::perf_event_ioctl(int32_t handle, uint64_t request, uint64_t argument) {
  uint64_t arguments[] = {static_cast<uint64_t>(handle), request, argument};
  return call(sonde::proto::LinuxCall::kPerfEventIoctl, 0, nullptr, 0, 0, arguments, 3);
}

int64_t NativeBpf::close(int32_t handle) {
  auto request = client_.closeRequest();
  request.params().setHandle(static_cast<uint32_t>(handle));
  request.params().setInstance(instance_);
  ++calls_;
  auto reply = request.send();
  return reply.ok() ? 0 : errno_of(reply.error());
}

}  // namespace native_trace
