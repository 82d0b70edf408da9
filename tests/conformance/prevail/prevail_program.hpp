// SPDX-License-Identifier: MIT
// PREVAIL test programs in Sonde's terms: the text assembly turned into instructions and
// the `pre` constraints turned into verifier entry assumptions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ebpf/isa.hpp"
#include "ebpf/map.hpp"
#include "ebpf/verifier_assumptions.hpp"
#include "prevail_yaml.hpp"

namespace prevail_runner {

struct Assume {
  size_t jump;          // the instruction testing the assumed condition
  size_t continuation;  // the first instruction after the dead end
  std::string text;     // "assume r1 < r2", as written
};

struct TranslatedProgram {
  std::vector<ebpf::Insn> insns;
  std::vector<std::string> source;  // per instruction: the line it came from
  std::vector<Assume> assumes;
  std::vector<std::pair<size_t, std::string>> branches;  // conditional jumps written as `if`
};

// Assembles the case's blocks in order. `assume c` becomes "if c goto +2; r0 = 0; exit"
// (the dead end ends the path, as the assumption does); code that falls off the end gets
// "r0 = 0; exit" (PREVAIL tests need not end in exit). Returns false with `error` set for
// text outside PREVAIL's assembly.
bool translate_program(const TestCase& tc, TranslatedProgram& out, std::string& error);

// Maps the runner creates for `pre` constraints and map references.
class MapSource {
 public:
  virtual ~MapSource() = default;
  // The test map of PREVAIL's YAML harness (key 4, value 4, 4 entries) for any fd.
  virtual const ebpf::Map* test_map() = 0;
  virtual const ebpf::Map* program_array() = 0;
  // A map whose values are `size` bytes (a "shared" region of that size); nullptr if none.
  virtual const ebpf::Map* region(uint32_t size) = 0;
};

// Translates the `pre` constraints. Returns false with `error` set for constraints Sonde
// cannot state (packet pointers, type disjunctions...).
bool translate_pre(const TestCase& tc, MapSource& maps, ebpf::EntryAssumptions& out,
                   std::string& error);

}  // namespace prevail_runner
