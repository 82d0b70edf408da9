// SPDX-License-Identifier: MIT
// The eBPF load path for host tests, fuzzers and benchmarks: verify, prepare, fill a Program.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ebpf/map.hpp"
#include "ebpf/program.hpp"
#include "ebpf/verifier.hpp"
#include "rt/allocator.hpp"

namespace test_support {

// One verifier run with its log as text.
struct VerifierRun {
  int error = 0;  // 0 or the verifier's negative errno
  std::string log;
  ebpf::VerifierResult result;
};

// Verifies `insns` with `options`; with `log_size` > 0 the log is collected into the result
// (the options' own log buffer, if any, is replaced).
VerifierRun verify_program(const std::vector<ebpf::Insn>& insns, ebpf::VerifierOptions options,
                           uint32_t log_size = 0);

// How load_program loads: as the trace server does, the verifier sees Linux's form (map fds)
// and prepare_for_execution then rewrites it for the engines.
struct LoadOptions {
  ebpf::VerifierOptions verifier;  // type, allocator, resolve_map, limits, log level
  uint32_t log_size = 0;           // bytes of verifier log to keep (VerifierRun::log)
  ebpf::LoadResolver resolver;     // maps by fd for prepare_for_execution
  const ebpf::HelperFunction* helpers = nullptr;  // kMaxHelperId entries, or nullptr
  // Whether a program the verifier rejects is still prepared (unverified) for running.
  bool prepare_rejected = false;
};

// A program ready to run. `program` points into `insns`: move a LoadedProgram, never copy it.
struct LoadedProgram {
  LoadedProgram() = default;
  LoadedProgram(const LoadedProgram&) = delete;
  LoadedProgram& operator=(const LoadedProgram&) = delete;
  LoadedProgram(LoadedProgram&&) = default;
  LoadedProgram& operator=(LoadedProgram&&) = default;

  std::vector<ebpf::Insn> insns;
  std::vector<ebpf::CallSiteMap> call_maps;  // the verifier's, for Program::call_maps
  ebpf::Program program;
  VerifierRun verdict;
  int prepare_error = 0;  // prepare_for_execution's result
  bool prepared = false;  // prepare_for_execution ran and succeeded
  bool verified() const { return verdict.error == 0; }
  bool ok() const { return verified() && prepared; }
};

// Verifies `insns`, then (if accepted, or if options.prepare_rejected) prepares them and fills
// `program` with the verifier's facts (the map at each helper call included) and the helper
// table.
LoadedProgram load_program(std::vector<ebpf::Insn> insns, const LoadOptions& options);

// A map of the given shape for one possible CPU; a map a test cannot create is a broken test,
// so creation failure aborts (rt::Result::value()).
ebpf::Map* create_test_map(rt::Allocator& allocator, ebpf::MapType type, uint32_t key_size,
                           uint32_t value_size, uint32_t max_entries, uint32_t map_flags = 0);

// The real helper table (fill_helper_table), built once.
const ebpf::HelperFunction* real_helpers();

}  // namespace test_support
