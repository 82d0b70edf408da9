// SPDX-License-Identifier: MIT
// forward_bpf: tries until the trace server has every byte it needs, then the writes back.
#include "tracing/trace_client.hpp"

#include "rt/errno.hpp"

namespace posix::trace_client {

namespace {

constexpr uint32_t kAttrPage = 4096;
constexpr uint32_t kMaxRanges = 64;

struct Staged {
  uint64_t address;
  uint64_t length;
  uint8_t* bytes;
  uint64_t available;
};

// The ranges of one call, freed when it ends.
class StagedRanges {
 public:
  explicit StagedRanges(rt::Allocator& allocator) : allocator_(allocator) {}
  ~StagedRanges() {
    for (uint32_t i = 0; i < count_; ++i)
      allocator_.deallocate(ranges_[i].bytes, ranges_[i].length);
  }
  uint32_t count() const { return count_; }
  const Staged& operator[](uint32_t i) const { return ranges_[i]; }

  // EFAULT-free: a range the caller cannot read is staged with its readable prefix only.
  rt::Result<void> add(uint64_t address, uint64_t length, CallerMemory& memory) {
    if (count_ == kMaxRanges) return rt::err(rt::kE2BIG, "too many memory ranges for one call");
    if (length > kMaxStagedBytes || total_ + length > kMaxStagedBytes) {
      return rt::err(rt::kE2BIG, "the call reads more memory than one request carries");
    }
    auto* bytes = static_cast<uint8_t*>(allocator_.allocate(length == 0 ? 1 : length, 8));
    if (bytes == nullptr) return rt::err(rt::kENOMEM);
    uint64_t available = memory.read_prefix(address, bytes, length);
    ranges_[count_++] = Staged{address, length, bytes, available};
    total_ += length;
    return {};
  }

 private:
  rt::Allocator& allocator_;
  Staged ranges_[kMaxRanges] = {};
  uint32_t count_ = 0;
  uint64_t total_ = 0;
};

int64_t errno_value(const rt::Error& error) { return -static_cast<int64_t>(error.code); }

uint64_t known_instance = 0;  // 0: not asked yet

// Asks the server which instance it is.
rt::Result<uint64_t> ask_instance(sonde::proto::TraceService::Client& client) {
  auto request = client.instanceRequest();
  auto reply = request.send();
  if (!reply.ok()) return reply.error();
  known_instance = reply.value().getInstance();
  return known_instance;
}

}  // namespace

uint64_t current_instance() { return known_instance; }

namespace {

struct Call {
  sonde::proto::LinuxCall operation;
  int command;            // bpf's command
  uint64_t attr_address;  // bpf's attr or perf_event_open's
  const uint8_t* attr;    // bpf: the attr bytes read ahead
  uint32_t size;
  uint64_t arguments[4];
  uint32_t argument_count;
};

int64_t forward(sonde::proto::TraceService::Client& client, const Call& what,
                const CallerInfo& caller, DescriptorSource& source, CallerMemory& memory,
                rt::Allocator& scratch, bool& new_handle) {
  new_handle = false;
  const uint8_t* attr = what.attr;
  uint32_t size = what.size;
  int command = what.command;
  uint64_t attr_address = what.attr_address;
  if (known_instance == 0) {
    auto asked = ask_instance(client);
    if (!asked.ok()) return errno_value(asked.error());
  }
  int32_t descriptors[kMaxDescriptors];
  uint32_t descriptor_count = source.fill(descriptors, kMaxDescriptors, known_instance);
  StagedRanges ranges(scratch);
  bool asked_again = false;
  for (uint32_t tries = 0; tries < kMaxTries; ++tries) {
    auto request = client.bpfRequest();
    auto call = request.params().initRequest();
    call.setCommand(static_cast<uint32_t>(command));
    call.setAttr(attr, size);
    call.setAttrSize(size);
    call.setAttrAddress(attr_address);
    call.setInstance(known_instance);
    call.setOperation(what.operation);
    auto arguments = call.initArguments(what.argument_count);
    for (uint32_t i = 0; i < what.argument_count; ++i) arguments.set(i, what.arguments[i]);
    auto who = call.initCaller();
    who.setPid(caller.pid);
    who.setTgid(caller.tgid);
    who.setUid(caller.uid);
    who.setGid(caller.gid);
    who.setComm(caller.comm);
    who.setCapBpf(caller.cap_bpf);
    who.setCapPerfmon(caller.cap_perfmon);
    auto list_of_fds = who.initDescriptors(descriptor_count);
    for (uint32_t i = 0; i < descriptor_count; ++i) list_of_fds.set(i, descriptors[i]);
    auto list = call.initMemory(ranges.count());
    for (uint32_t i = 0; i < ranges.count(); ++i) {
      list[i].setAddress(ranges[i].address);
      list[i].setLength(ranges[i].length);
      list[i].setData(ranges[i].bytes, ranges[i].available);
    }
    auto reply = request.send();
    if (!reply.ok() && reply.error().code == rt::kESTALE && !asked_again) {
      // A new instance serves: every handle of the old one is gone.
      asked_again = true;
      auto asked = ask_instance(client);
      if (!asked.ok()) return errno_value(asked.error());
      descriptor_count = source.fill(descriptors, kMaxDescriptors, known_instance);
      continue;
    }
    // The server died during the call (its reply object went with it): the new instance has
    // none of this call's work, so the caller may simply try again.
    if (!reply.ok() && reply.error().code == rt::kEPIPE) return -static_cast<int64_t>(rt::kEAGAIN);
    if (!reply.ok()) return errno_value(reply.error());
    auto outcome = reply.value().getOutcome();
    if (!outcome.ok()) return errno_value(outcome.error());
    if (outcome.value().isNeedMemory()) {
      auto need = outcome.value().getNeedMemory();
      if (!need.ok()) return errno_value(need.error());
      auto added = ranges.add(need.value().getAddress(), need.value().getLength(), memory);
      if (!added.ok()) return errno_value(added.error());
      continue;
    }
    auto done = outcome.value().getDone();
    if (!done.ok()) return errno_value(done.error());
    int64_t result = done.value().getResult();
    bool made = done.value().getNewHandle() && result > 0;
    auto writes = done.value().getWrites();
    if (!writes.ok()) return errno_value(writes.error());
    bool faulted = false;
    for (uint32_t i = 0; i < writes.value().size() && !faulted; ++i) {
      auto data = writes.value()[i].getData();
      if (!data.ok()) return errno_value(data.error());
      faulted =
          !memory.write(writes.value()[i].getAddress(), data.value().bytes, data.value().size);
    }
    if (faulted && result >= 0) {
      // copy_to_user failed after the work was done: Linux answers EFAULT, and a new fd is
      // not installed.
      if (made) {
        (void)close_handle(client, static_cast<uint32_t>(result), known_instance);
      }
      return -static_cast<int64_t>(rt::kEFAULT);
    }
    new_handle = made;
    return result;
  }
  return -static_cast<int64_t>(rt::kE2BIG);  // the command kept asking for more memory
}

}  // namespace

int64_t forward_bpf(sonde::proto::TraceService::Client& client, int command, uint64_t attr_address,
                    uint32_t size, const CallerInfo& caller, DescriptorSource& source,
                    CallerMemory& memory, rt::Allocator& scratch, bool& new_handle) {
  new_handle = false;
  // unprivileged_bpf_disabled: the capability check comes before anything is read.
  if (!caller.cap_bpf) return -static_cast<int64_t>(rt::kEPERM);
  if (size > kAttrPage) return -static_cast<int64_t>(rt::kE2BIG);
  uint8_t attr[kAttrPage];
  if (memory.read_prefix(attr_address, attr, size) != size) {
    return -static_cast<int64_t>(rt::kEFAULT);
  }
  Call call{sonde::proto::LinuxCall::kBpf, command, attr_address, attr, size, {}, 0};
  return forward(client, call, caller, source, memory, scratch, new_handle);
}

int64_t forward_perf_event_open(sonde::proto::TraceService::Client& client, uint64_t attr,
                                int32_t pid, int32_t cpu, int32_t group_fd, uint64_t flags,
                                const CallerInfo& caller, DescriptorSource& source,
                                CallerMemory& memory, rt::Allocator& scratch, bool& new_handle) {
  new_handle = false;
  // perf_event_paranoid: kprobes, uprobes and tracepoints need CAP_PERFMON (root has it).
  if (!caller.cap_perfmon) return -static_cast<int64_t>(rt::kEACCES);
  Call call{sonde::proto::LinuxCall::kPerfEventOpen,
            0,
            attr,
            nullptr,
            0,
            {static_cast<uint64_t>(pid), static_cast<uint64_t>(cpu),
             static_cast<uint64_t>(group_fd), flags},
            4};
  return forward(client, call, caller, source, memory, scratch, new_handle);
}

int64_t forward_perf_event_call(sonde::proto::TraceService::Client& client, bool ioctl, int32_t fd,
                                uint64_t first, uint64_t second, const CallerInfo& caller,
                                DescriptorSource& source, CallerMemory& memory,
                                rt::Allocator& scratch) {
  Call call{
      ioctl ? sonde::proto::LinuxCall::kPerfEventIoctl : sonde::proto::LinuxCall::kPerfEventRead,
      0,
      0,
      nullptr,
      0,
      {static_cast<uint64_t>(fd), first, second, 0},
      3};
  bool new_handle = false;
  return forward(client, call, caller, source, memory, scratch, new_handle);
}

int64_t forward_object_fdinfo(sonde::proto::TraceService::Client& client, int32_t fd,
                              uint64_t address, uint64_t capacity, const CallerInfo& caller,
                              DescriptorSource& source, CallerMemory& memory,
                              rt::Allocator& scratch) {
  Call call{sonde::proto::LinuxCall::kObjectFdinfo,
            0,
            0,
            nullptr,
            0,
            {static_cast<uint64_t>(fd), address, capacity, 0},
            3};
  bool new_handle = false;
  return forward(client, call, caller, source, memory, scratch, new_handle);
}

MmapGrant mmap_grant(sonde::proto::TraceService::Client& client, uint32_t handle, uint64_t instance,
                     uint64_t offset, uint64_t length, bool writable, bool shared) {
  MmapGrant grant;
  if (instance != known_instance) {
    grant.result = -rt::kEBADF;  // an fd of a dead instance
    return grant;
  }
  auto request = client.mmapGrantRequest();
  auto params = request.params();
  params.setHandle(handle);
  params.setOffset(offset);
  params.setLength(length);
  params.setWritable(writable);
  params.setShared(shared);
  params.setInstance(instance);
  params.setFirstSlot(0);
  auto reply = request.send();
  if (!reply.ok()) {
    grant.result = reply.error().code == rt::kESTALE ? -rt::kEBADF : -rt::kENODEV;
    return grant;
  }
  grant.result = reply.value().getResult();
  grant.mapping = reply.value().getMapping();
  grant.pages = reply.value().getPages();
  return grant;
}

rt::Result<void> close_handle(sonde::proto::TraceService::Client& client, uint32_t handle,
                              uint64_t instance) {
  if (instance != known_instance) return {};  // died with its instance
  auto request = client.closeRequest();
  request.params().setHandle(handle);
  request.params().setInstance(instance);
  auto reply = request.send();
  if (!reply.ok()) return reply.error();
  return {};
}

}  // namespace posix::trace_client
