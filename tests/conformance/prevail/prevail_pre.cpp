// SPDX-License-Identifier: MIT
// PREVAIL `pre` constraints as Sonde verifier entry assumptions.
#include <cstdint>
#include <map>
#include <optional>
#include <regex>

#include "prevail_program.hpp"

namespace prevail_runner {
namespace {

using namespace ebpf;

struct Range {
  int64_t low, high;
};

struct RegisterFacts {
  std::string type;
  std::optional<Range> svalue, uvalue, offset, region_size, numeric_size;
  bool uvalue_is_svalue = false;
};

const std::regex kType("r([0-9]+)\\.type=(\\w+)");
const std::regex kTypeSet("r([0-9]+)\\.type in \\{.*\\}");
const std::regex kSingle("r([0-9]+)\\.(\\w+)=([-+]?[0-9]+)");
const std::regex kInterval("r([0-9]+)\\.(\\w+)=\\[\\s*([-+]?[0-9]+)\\s*,\\s*([-+]?[0-9]+)\\s*\\]");
const std::regex kRelation("r([0-9]+)\\.(\\w+)=r([0-9]+)\\.(\\w+)");
const std::regex kStackType("s\\[([0-9]+)\\.\\.\\.([0-9]+)\\]\\.type=(\\w+)");
const std::regex kStackValue("s\\[([0-9]+)\\.\\.\\.([0-9]+)\\]\\.(svalue|uvalue)=([-+]?[0-9]+)");

int64_t number(const std::string& text, bool is_unsigned) {
  return is_unsigned ? static_cast<int64_t>(std::stoull(text)) : std::stoll(text);
}

}  // namespace

bool translate_pre(const TestCase& tc, MapSource& maps, EntryAssumptions& out, std::string& error) {
  std::map<int, RegisterFacts> regs;
  struct StackRange {
    int first, last;
    bool zero;
  };
  std::vector<StackRange> stack;
  std::map<std::pair<int, int>, int> stack_values;  // range -> count of constraints saying 0
  for (const std::string& constraint : tc.pre) {
    std::smatch m;
    if (std::regex_match(constraint, m, kType)) {
      regs[std::stoi(m[1])].type = m[2];
    } else if (std::regex_match(constraint, m, kTypeSet)) {
      return error = "pre: a set of possible types (" + constraint + ")", false;
    } else if (std::regex_match(constraint, m, kInterval) ||
               std::regex_match(constraint, m, kSingle)) {
      RegisterFacts& r = regs[std::stoi(m[1])];
      std::string kind = m[2];
      bool is_unsigned = kind == "uvalue";
      Range range{number(m[3], is_unsigned),
                  number(m.size() > 4 && m[4].matched ? m[4].str() : m[3].str(), is_unsigned)};
      if (kind == "svalue")
        r.svalue = range;
      else if (kind == "uvalue")
        r.uvalue = range;
      else if (kind == "stack_offset" || kind == "ctx_offset" || kind == "shared_offset")
        r.offset = range;
      else if (kind == "shared_region_size")
        r.region_size = range;
      else if (kind == "stack_numeric_size")
        r.numeric_size = range;
      else if (kind == "map_fd" || kind == "map_fd_programs")
        continue;  // every fd names the test map
      else
        return error = "pre: " + kind + " has no Sonde equivalent (" + constraint + ")", false;
    } else if (std::regex_match(constraint, m, kRelation)) {
      if (m[1] == m[3] && m[2] == m[4]) continue;  // x = x
      if (m[1] == m[3] && m[2] == "uvalue" && m[4] == "svalue") {
        regs[std::stoi(m[1])].uvalue_is_svalue = true;
        continue;
      }
      return error = "pre: a relation between registers (" + constraint + ")", false;
    } else if (std::regex_match(constraint, m, kStackType)) {
      if (m[3] != "number") return error = "pre: stack bytes of type " + m[3].str(), false;
      stack.push_back({std::stoi(m[1]), std::stoi(m[2]), false});
    } else if (std::regex_match(constraint, m, kStackValue)) {
      if (std::stoll(m[4]) == 0) stack_values[{std::stoi(m[1]), std::stoi(m[2])}]++;
    } else {
      return error = "pre: no Sonde equivalent for " + constraint, false;
    }
  }

  // The frame pointer: Linux's r10 always points at the top of the frame's 512 bytes.
  int64_t frame_top = kStackSize;
  if (regs.count(kFramePointer)) {
    RegisterFacts& fp = regs[kFramePointer];
    if (fp.type != "stack" || !fp.offset || fp.offset->low != fp.offset->high) {
      return error = "pre: r10 is not a fixed stack pointer", false;
    }
    frame_top = fp.offset->low;
  }
  auto stack_index = [&](int64_t prevail_offset) {
    return prevail_offset - frame_top + kStackSize;
  };

  for (int i = 0; i < kNumRegisters; ++i) out.regs[i] = AssumedRegister{};
  out.regs[kFramePointer].type = AssumedType::kStack;
  for (auto& [regno, r] : regs) {
    if (regno < 0 || regno >= kNumRegisters) return error = "pre: register out of range", false;
    if (regno == kFramePointer) continue;
    AssumedRegister& a = out.regs[regno];
    if (r.type == "number") {
      a.type = AssumedType::kScalar;
      if (r.svalue) {
        a.smin = r.svalue->low;
        a.smax = r.svalue->high;
        if (r.uvalue_is_svalue && r.svalue->low >= 0) {
          a.umin = static_cast<uint64_t>(r.svalue->low);
          a.umax = static_cast<uint64_t>(r.svalue->high);
        }
      }
      if (r.uvalue) {
        a.umin = static_cast<uint64_t>(r.uvalue->low);
        a.umax = static_cast<uint64_t>(r.uvalue->high);
      }
      continue;
    }
    // Without a type the register may hold anything, uninitialised included: Linux's only
    // state for that is NOT_INIT, as for registers the pre-condition does not mention.
    if (r.type.empty()) continue;
    // Pointers: a fixed offset, maybe with a variable part.
    Range offset = r.offset.value_or(Range{0, 0});
    if (r.type == "stack") {
      // No offset: anywhere in the frame.
      if (!r.offset) offset = Range{frame_top - kStackSize, frame_top};
      a.type = AssumedType::kStack;
      offset.low -= frame_top;
      offset.high -= frame_top;
      if (r.numeric_size && r.offset && r.offset->low == r.offset->high) {
        for (int64_t b = 0; b < r.numeric_size->low; ++b)
          stack.push_back(
              {static_cast<int>(r.offset->low + b), static_cast<int>(r.offset->low + b), false});
      }
    } else if (r.type == "ctx") {
      a.type = AssumedType::kCtx;
    } else if (r.type == "map_fd") {
      a.type = AssumedType::kMapPointer;
      a.map = maps.test_map();
    } else if (r.type == "map_fd_programs") {
      a.type = AssumedType::kMapPointer;
      a.map = maps.program_array();
    } else if (r.type == "shared") {
      if (!r.region_size || r.region_size->low != r.region_size->high) {
        return error = "pre: shared region of unknown size", false;
      }
      // A shared pointer whose value range holds 0 may be NULL (an unchecked lookup).
      bool maybe_null = (r.svalue && r.svalue->low <= 0 && r.svalue->high >= 0) ||
                        (r.uvalue && r.uvalue->low == 0);
      a.type = maybe_null ? AssumedType::kMapValueOrNull : AssumedType::kMapValue;
      a.map = maps.region(static_cast<uint32_t>(r.region_size->low));
      if (a.map == nullptr)
        return error = "pre: shared region of size " + std::to_string(r.region_size->low), false;
    } else {
      return error = "pre: type " + r.type + " has no Sonde equivalent", false;
    }
    if (a.map == nullptr && (a.type == AssumedType::kMapPointer))
      return error = "pre: no map", false;
    a.offset = static_cast<int32_t>(offset.low);
    if (offset.high != offset.low) {
      a.variable_offset = true;
      a.smin = 0;
      a.smax = offset.high - offset.low;
      a.umin = 0;
      a.umax = static_cast<uint64_t>(offset.high - offset.low);
    }
  }

  for (const StackRange& range : stack) {
    bool zero = stack_values[{range.first, range.last}] >= 2;  // svalue and uvalue both 0
    for (int64_t b = range.first; b <= range.last; ++b) {
      int64_t index = stack_index(b);
      if (index < 0 || index >= kStackSize) continue;  // outside the current frame
      out.stack[index] = zero ? AssumedStackByte::kZero : AssumedStackByte::kScalar;
    }
  }
  return true;
}

}  // namespace prevail_runner
