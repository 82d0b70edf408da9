// SPDX-License-Identifier: MIT
// Guest tests of the eBPF engine built freestanding: verify and run programs in ring 3, as
// the trace server will.
#include <stdint.h>

#include "ebpf/environment.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/verifier.hpp"
#include "sys/syscall.hpp"

void report(const char* name, bool ok, const char* reason);

namespace {

using namespace ebpf;

// A bump allocator over a static arena: enough for the verifier's states in these tests.
class ArenaAllocator final : public rt::Allocator {
 public:
  void* allocate(size_t size, size_t alignment) override {
    size_t at = (used_ + alignment - 1) & ~(alignment - 1);
    if (at + size > sizeof(arena_)) return nullptr;
    used_ = at + size;
    return arena_ + at;
  }
  void deallocate(void*, size_t) override {}

 private:
  alignas(4096) uint8_t arena_[1 << 20];
  size_t used_ = 0;
};

class GuestEnvironment final : public Environment {
 public:
  uint32_t current_cpu() override { return 0; }
  uint32_t possible_cpus() override { return 1; }
  uint64_t monotonic_ns() override { return sys::debug_ticks() * 10000000ull; }
  uint64_t boot_ns() override { return monotonic_ns(); }
  uint32_t random_u32() override { return 4; }
  uint64_t current_pid_tgid() override { return 1; }
  uint64_t current_uid_gid() override { return 0; }
  long current_comm(char* buffer, uint32_t size) override {
    const char name[] = "root";
    for (uint32_t i = 0; i < size; ++i) buffer[i] = i < sizeof(name) ? name[i] : 0;
    return 0;
  }
  long read_user(void*, uint64_t, uint32_t) override { return -14; }
  long read_kernel(void*, uint64_t, uint32_t) override { return -14; }
  uint64_t current_function_ip() override { return 0; }
  long capture_stack(bool, uint32_t, uint64_t*, uint32_t) override { return 0; }
  long trace_output(const char* message, uint32_t length) override {
    sys::print("trace: ");
    sys::debug_write(message, length);
    return 0;
  }
};

ArenaAllocator arena;
GuestEnvironment environment;
HelperFunction helpers[kMaxHelperId];

constexpr Insn insn(uint8_t opcode, uint8_t dst, uint8_t src, int16_t offset, int32_t imm) {
  Insn i{};
  i.opcode = opcode;
  i.dst = dst;
  i.src = src;
  i.offset = offset;
  i.imm = imm;
  return i;
}

}  // namespace

void run_ebpf_tests() {
  fill_helper_table(helpers);
  MapAttributes attributes;
  attributes.type = MapType::kArray;
  attributes.key_size = 4;
  attributes.value_size = 8;
  attributes.max_entries = 4;
  rt::Result<Map*> created = create_map(attributes, arena, 1);
  report("ebpf_map_created_in_user_mode", created.ok(), "create_map failed");
  if (!created.ok()) return;
  Map* map = created.value();
  uint64_t pointer = reinterpret_cast<uint64_t>(map);

  // key = 2; v = lookup(map, &key); if (!v) return 0; *v += 40; return *v + random (4)
  Insn program[] = {
      insn(0x62, 10, 0, -4, 2),  // *(u32 *)(r10 - 4) = 2
      insn(0x18, 1, kPseudoMapFd, 0, static_cast<int32_t>(static_cast<uint32_t>(pointer))),
      insn(0x00, 0, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(pointer >> 32))),
      insn(0xbf, 2, 10, 0, 0),  // r2 = r10
      insn(0x07, 2, 0, 0, -4),  // r2 += -4
      insn(0x85, 0, 0, 0, 1),   // call map_lookup_elem
      insn(0x15, 0, 0, 7, 0),   // if r0 == 0 goto out
      insn(0x79, 1, 0, 0, 0),   // r1 = *(u64 *)(r0 + 0)
      insn(0x07, 1, 0, 0, 40),  // r1 += 40
      insn(0x7b, 0, 1, 0, 0),   // *(u64 *)(r0 + 0) = r1
      insn(0xbf, 6, 1, 0, 0),   // r6 = r1
      insn(0x85, 0, 0, 0, 7),   // call get_prandom_u32
      insn(0x0f, 0, 6, 0, 0),   // r0 += r6
      insn(0x95, 0, 0, 0, 0),   // exit
      insn(0xb7, 0, 0, 0, 0),   // out: r0 = 0
      insn(0x95, 0, 0, 0, 0),
  };
  char log[1024];
  VerifierOptions options;
  options.allocator = &arena;
  options.log = log;
  options.log_size = sizeof(log);
  options.log_level = kLogLevel1;
  VerifierResult verdict = verify(program, sizeof(program) / sizeof(program[0]), options);
  report("ebpf_verifier_accepts_in_user_mode", verdict.error == 0, log);

  Program loaded;
  loaded.insns = program;
  loaded.insn_count = sizeof(program) / sizeof(program[0]);
  loaded.type = ProgramType::kKprobe;
  loaded.helpers = helpers;
  loaded.helper_count = kMaxHelperId;
  uint8_t registers[kPtRegsSize] = {};
  uint64_t first = run(loaded, registers, &environment);
  uint64_t second = run(loaded, registers, &environment);
  report("ebpf_interpreter_runs_in_user_mode", first == 44 && second == 84, "wrong results");

  // The unsafe twin (reading past the value) is refused with the instruction named.
  program[7] = insn(0x79, 1, 0, 8, 0);  // r1 = *(u64 *)(r0 + 8)
  verdict = verify(program, sizeof(program) / sizeof(program[0]), options);
  bool named = false;
  for (const char* p = log; *p != 0 && !named; ++p) {
    const char expected[] = "invalid access to map value, value_size=8 off=8 size=8";
    size_t k = 0;
    while (expected[k] != 0 && p[k] == expected[k]) ++k;
    named = expected[k] == 0;
  }
  report("ebpf_verifier_rejects_in_user_mode", verdict.error == -13 && named,
         "unsafe program accepted");
}
