// SPDX-License-Identifier: MIT
// The eBPF load path for host tests, fuzzers and benchmarks: verify, prepare, fill a Program.
#include "support/ebpf_fixture.hpp"

#include <cstring>
#include <utility>

#include "ebpf/helpers.hpp"
#include "ebpf/maps.hpp"

namespace test_support {

VerifierRun verify_program(const std::vector<ebpf::Insn>& insns, ebpf::VerifierOptions options,
                           uint32_t log_size) {
  VerifierRun run;
  if (log_size > 0) {
    run.log.assign(log_size, '\0');
    options.log = run.log.data();
    options.log_size = log_size;
  }
  run.result = ebpf::verify(insns.data(), static_cast<uint32_t>(insns.size()), options);
  run.error = run.result.error;
  run.log.resize(std::strlen(run.log.c_str()));
  return run;
}

LoadedProgram load_program(std::vector<ebpf::Insn> insns, const LoadOptions& options) {
  LoadedProgram loaded;
  loaded.insns = std::move(insns);
  loaded.call_maps.resize(loaded.insns.size());
  ebpf::VerifierOptions verifier = options.verifier;
  verifier.call_maps = loaded.call_maps.data();
  loaded.verdict = verify_program(loaded.insns, verifier, options.log_size);
  if (!loaded.verified() && !options.prepare_rejected) return loaded;
  uint32_t count = static_cast<uint32_t>(loaded.insns.size());
  loaded.prepare_error = rt::to_negated_errno(
      ebpf::prepare_for_execution(loaded.insns.data(), count, options.resolver));
  if (loaded.prepare_error != 0) return loaded;
  loaded.prepared = true;
  ebpf::Program& program = loaded.program;
  program.insns = loaded.insns.data();
  program.insn_count = count;
  program.type = options.verifier.type;
  program.helpers = options.helpers;
  program.helper_count = options.helpers != nullptr ? ebpf::kMaxHelperId : 0;
  program.verified = loaded.verified();
  program.max_stack_depth = loaded.verdict.result.max_stack_depth;
  if (loaded.verified()) program.call_maps = loaded.call_maps.data();
  return loaded;
}

ebpf::Map* create_test_map(rt::Allocator& allocator, ebpf::MapType type, uint32_t key_size,
                           uint32_t value_size, uint32_t max_entries, uint32_t map_flags) {
  ebpf::MapAttributes attributes;
  attributes.type = type;
  attributes.key_size = key_size;
  attributes.value_size = value_size;
  attributes.max_entries = max_entries;
  attributes.map_flags = map_flags;
  return ebpf::create_map(attributes, allocator, 1).value();
}

const ebpf::HelperFunction* real_helpers() {
  static ebpf::HelperFunction table[ebpf::kMaxHelperId] = {};
  static bool filled = false;
  if (!filled) {
    ebpf::fill_helper_table(table);
    filled = true;
  }
  return table;
}

}  // namespace test_support
