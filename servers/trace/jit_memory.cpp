// SPDX-License-Identifier: MIT
// FrameExecutableMemory: Frame caps per region, mapped, sealed with FrameRemap, unmapped.
#include "jit_memory.hpp"

#include "rt/errno.hpp"
#include "sys/ipc.hpp"
#include "sys/server_memory.hpp"

namespace trace {

namespace {

namespace abi = sonde::abi;
constexpr uint64_t kPage = 4096;

// A region's frames, kept on the heap behind ExecutableRegion::handle.
struct Frames {
  uint64_t count;
  uint64_t caps[1];  // `count` of them
};

size_t frames_bytes(uint64_t count) { return sizeof(Frames) + (count - 1) * sizeof(uint64_t); }

void drop(Frames* frames, uint64_t mapped) {
  for (uint64_t i = 0; i < frames->count; ++i) {
    if (frames->caps[i] == 0) continue;
    if (i < mapped) (void)sys::invoke(frames->caps[i], abi::Label::kFrameUnmap);
    (void)sys::cnode_delete(sys::kServerSlotCNode, frames->caps[i]);
    sys::server::free_slot(frames->caps[i]);
  }
  sys::server::heap().deallocate(frames, frames_bytes(frames->count));
}

}  // namespace

rt::Result<ebpf::ExecutableRegion> FrameExecutableMemory::allocate(size_t size, const void*) {
  if (size == 0) return rt::err(rt::kEINVAL);
  uint64_t count = (size + kPage - 1) / kPage;
  auto* frames =
      static_cast<Frames*>(sys::server::heap().allocate(frames_bytes(count), alignof(Frames)));
  if (frames == nullptr) return rt::err(rt::kENOMEM);
  frames->count = count;
  for (uint64_t i = 0; i < count; ++i) frames->caps[i] = 0;
  uint64_t base = next_;
  for (uint64_t i = 0; i < count; ++i) {
    auto frame = sys::server::make_object(abi::ObjectType::kFrame, 12);
    if (!frame.ok()) {
      drop(frames, i);
      return rt::err(rt::kENOMEM);
    }
    frames->caps[i] = frame.value();
    if (sys::server::map_frame(frame.value(), sys::kServerSlotVSpace, base + i * kPage,
                               abi::kMapWrite) != abi::Error::kNone) {
      drop(frames, i);
      return rt::err(rt::kENOMEM, "cannot map JIT memory");
    }
  }
  next_ += (count + 1) * kPage;  // a guard page between regions
  ebpf::ExecutableRegion region;
  region.write_view = reinterpret_cast<uint8_t*>(base);
  region.execute_view = reinterpret_cast<const uint8_t*>(base);
  region.size = count * kPage;
  region.handle = frames;
  return region;
}

rt::Result<void> FrameExecutableMemory::seal(ebpf::ExecutableRegion& region) {
  auto* frames = static_cast<Frames*>(region.handle);
  if (frames == nullptr) return rt::err(rt::kEINVAL);
  for (uint64_t i = 0; i < frames->count; ++i) {
    uint64_t words[] = {abi::kMapExecute};  // read and execute, no write
    if (sys::invoke(frames->caps[i], abi::Label::kFrameRemap, words) != abi::Error::kNone) {
      return rt::err(rt::kEPERM, "cannot make JIT memory executable");
    }
  }
  region.write_view = nullptr;
  return {};
}

void FrameExecutableMemory::release(ebpf::ExecutableRegion& region) {
  auto* frames = static_cast<Frames*>(region.handle);
  if (frames != nullptr) drop(frames, frames->count);
  region = ebpf::ExecutableRegion{};
}

}  // namespace trace
