// SPDX-License-Identifier: MIT
// libFuzzer target: hostile BTF blobs through the trace core's BTF parser (btf_parse's checks),
// with a log, then every accepted type's size and a map check. Any refusal is fine; a crash, a
// leak or undefined behaviour is not.
#include <cstdint>
#include <cstring>

#include "commands.hpp"
#include "support/malloc_allocator.hpp"
#include "trace/btf.hpp"
#include "verifier_log.hpp"

// Input: a mode byte, then the blob. Mode bit 7 set: the rest is a type section and a string
// section of (mode & 0x7f) + 1 bytes behind a generated valid header (with the string section's
// first and last bytes NUL), so that most inputs reach the type checks. Bits 0-1 pick the log.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size - 1 > trace::kBtfMaxSize - sizeof(trace::BtfHeader)) return 0;
  test_support::MallocAllocator allocator(64u << 20);
  {
    uint8_t mode = data[0];
    uint32_t body = static_cast<uint32_t>(size - 1);
    bool framed = (mode & 0x80) != 0;
    uint32_t header = framed ? sizeof(trace::BtfHeader) : 0;
    uint32_t blob_size = header + body;
    uint8_t* blob = nullptr;
    if (blob_size != 0) {
      blob = static_cast<uint8_t*>(allocator.allocate(blob_size, 8));
      if (blob == nullptr) return 0;
      std::memcpy(blob + header, data + 1, body);
    }
    if (framed) {
      uint32_t strings = (mode & 0x7fu) + 1 < body ? (mode & 0x7fu) + 1 : body;
      trace::BtfHeader h = {trace::kBtfMagic, trace::kBtfVersion, 0,      header, 0,
                            body - strings,   body - strings,     strings};
      std::memcpy(blob, &h, sizeof(h));
      if (strings != 0) {
        blob[header + body - strings] = 0;
        blob[blob_size - 1] = 0;
      }
    }
    uint32_t log_size = (mode & 3) == 0 ? 0 : (mode & 3) == 1 ? 128 : 4096;
    char log_buffer[4096];
    trace::VerifierLog log(log_size != 0 ? log_buffer : nullptr, log_size, 1);
    trace::Btf btf;
    if (btf.parse(allocator, blob, blob_size, log).ok()) {
      for (uint32_t id = 0; id < btf.type_count() + 2; ++id) {
        uint32_t resolved = id, type_size = 0;
        (void)btf.type_id_size(&resolved, &type_size);
        ebpf::MapAttributes map;
        map.type = id % 2 ? ebpf::MapType::kArray : ebpf::MapType::kHash;
        map.key_size = 4;
        map.value_size = type_size;
        map.max_entries = 1;
        (void)trace::check_map_btf(btf, map, id % 3, id);
      }
    }
    if (log_size != 0 && std::strlen(log_buffer) >= log_size) __builtin_trap();
    btf.destroy(allocator);
  }
  if (allocator.in_use() != 0) __builtin_trap();  // the parser gave everything back
  return 0;
}
