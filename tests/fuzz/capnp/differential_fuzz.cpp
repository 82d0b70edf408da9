// SPDX-License-Identifier: MIT
// libFuzzer target: where both the official reader and ours accept a message, they must read the
// same values.
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "test.capnp.h"
#include "test.capnp.hpp"

namespace {

namespace ours = sonde::proto;

constexpr uint64_t kTraversalWords = 1 << 16;
constexpr uint32_t kNesting = 24;

[[noreturn]] void mismatch(const char* what) {
  std::fprintf(stderr, "capnp differential: %s differs between the official reader and ours\n",
               what);
  std::abort();
}

template <typename T>
uint64_t bits(T value) {
  uint64_t out = 0;
  std::memcpy(&out, &value, sizeof(T));
  return out;
}

// Runs `official` (which may throw on malformed input) and `mine` (a Result); compares when
// both succeed.
template <typename Official, typename Mine, typename Same>
void compare(const char* what, Official official, Mine mine, Same same) {
  auto theirs = [&]() -> std::pair<bool, decltype(official())> {
    try {
      return {true, official()};
    } catch (...) {
      return {false, {}};
    }
  }();
  auto result = mine();
  if (!theirs.first || !result.ok()) return;
  if (!same(theirs.second, result.value())) mismatch(what);
}

std::string text(sonde::capnp::Text t) { return std::string(t.chars, t.size); }
std::string blob(sonde::capnp::Data d) {
  return std::string(reinterpret_cast<const char*>(d.bytes), d.size);
}

void compareAllKinds(AllKinds::Reader o, ours::AllKinds::Reader m) {
  auto eq = [](auto a, auto b) { return a == b; };
  auto ok = [](auto v) { return rt::Result<decltype(v)>(v); };
  compare(
      "boolField", [&] { return o.getBoolField(); }, [&] { return ok(m.getBoolField()); }, eq);
  compare(
      "int8Field", [&] { return o.getInt8Field(); }, [&] { return ok(m.getInt8Field()); }, eq);
  compare(
      "int16Field", [&] { return o.getInt16Field(); }, [&] { return ok(m.getInt16Field()); }, eq);
  compare(
      "int32Field", [&] { return o.getInt32Field(); }, [&] { return ok(m.getInt32Field()); }, eq);
  compare(
      "int64Field", [&] { return o.getInt64Field(); }, [&] { return ok(m.getInt64Field()); }, eq);
  compare(
      "uint64Field", [&] { return o.getUint64Field(); }, [&] { return ok(m.getUint64Field()); },
      eq);
  compare(
      "float32Field", [&] { return bits(o.getFloat32Field()); },
      [&] { return ok(bits(m.getFloat32Field())); }, eq);
  compare(
      "float64Field", [&] { return bits(o.getFloat64Field()); },
      [&] { return ok(bits(m.getFloat64Field())); }, eq);
  compare(
      "enumField", [&] { return static_cast<uint16_t>(o.getEnumField()); },
      [&] { return ok(static_cast<uint16_t>(m.getEnumField())); }, eq);
  compare(
      "textField", [&] { return std::string(o.getTextField().cStr(), o.getTextField().size()); },
      [&] {
        auto t = m.getTextField();
        return t.ok() ? ok(text(t.value())) : rt::Result<std::string>(t.error());
      },
      eq);
  compare(
      "dataField",
      [&] {
        auto d = o.getDataField();
        return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
      },
      [&] {
        auto d = m.getDataField();
        return d.ok() ? ok(blob(d.value())) : rt::Result<std::string>(d.error());
      },
      eq);
  compare(
      "structField.id", [&] { return o.getStructField().getId(); },
      [&] {
        auto s = m.getStructField();
        return s.ok() ? ok(s.value().getId()) : rt::Result<uint32_t>(s.error());
      },
      eq);
  compare(
      "int32List",
      [&] {
        std::vector<int32_t> v;
        for (auto x : o.getInt32List()) v.push_back(x);
        return v;
      },
      [&] {
        auto l = m.getInt32List();
        if (!l.ok()) return rt::Result<std::vector<int32_t>>(l.error());
        std::vector<int32_t> v;
        for (uint32_t i = 0; i < l.value().size(); ++i) v.push_back(l.value()[i]);
        return ok(v);
      },
      eq);
  compare(
      "boolList",
      [&] {
        std::vector<bool> v;
        for (auto x : o.getBoolList()) v.push_back(x);
        return v;
      },
      [&] {
        auto l = m.getBoolList();
        if (!l.ok()) return rt::Result<std::vector<bool>>(l.error());
        std::vector<bool> v;
        for (uint32_t i = 0; i < l.value().size(); ++i) v.push_back(l.value()[i]);
        return ok(v);
      },
      eq);
  compare(
      "structList ids",
      [&] {
        std::vector<uint32_t> v;
        for (auto x : o.getStructList()) v.push_back(x.getId());
        return v;
      },
      [&] {
        auto l = m.getStructList();
        if (!l.ok()) return rt::Result<std::vector<uint32_t>>(l.error());
        std::vector<uint32_t> v;
        for (uint32_t i = 0; i < l.value().size(); ++i) v.push_back(l.value()[i].getId());
        return ok(v);
      },
      eq);
  compare(
      "textList[0]",
      [&] {
        auto l = o.getTextList();
        return l.size() ? std::string(l[0].cStr(), l[0].size()) : std::string("<empty>");
      },
      [&] {
        auto l = m.getTextList();
        if (!l.ok()) return rt::Result<std::string>(l.error());
        if (l.value().size() == 0) return ok(std::string("<empty>"));
        auto t = l.value()[0];
        return t.ok() ? ok(text(t.value())) : rt::Result<std::string>(t.error());
      },
      eq);
  compare(
      "which", [&] { return static_cast<uint16_t>(o.which()); },
      [&] { return ok(static_cast<uint16_t>(m.which())); }, eq);
  compare(
      "settings.mode.which",
      [&] { return static_cast<uint16_t>(o.getSettings().getMode().which()); },
      [&] { return ok(static_cast<uint16_t>(m.getSettings().getMode().which())); }, eq);
  if (o.which() == AllKinds::NUMBER) {
    compare(
        "number", [&] { return o.getNumber(); }, [&] { return m.getNumber(); }, eq);
  }
}

void compareDefaults(Defaults::Reader o, ours::Defaults::Reader m) {
  auto eq = [](auto a, auto b) { return a == b; };
  auto ok = [](auto v) { return rt::Result<decltype(v)>(v); };
  compare(
      "defaults.bool", [&] { return o.getBoolField(); }, [&] { return ok(m.getBoolField()); }, eq);
  compare(
      "defaults.int16", [&] { return o.getInt16Field(); }, [&] { return ok(m.getInt16Field()); },
      eq);
  compare(
      "defaults.uint32", [&] { return o.getUint32Field(); }, [&] { return ok(m.getUint32Field()); },
      eq);
  compare(
      "defaults.float32", [&] { return bits(o.getFloat32Field()); },
      [&] { return ok(bits(m.getFloat32Field())); }, eq);
  compare(
      "defaults.float64", [&] { return bits(o.getFloat64Field()); },
      [&] { return ok(bits(m.getFloat64Field())); }, eq);
  compare(
      "defaults.enum", [&] { return static_cast<uint16_t>(o.getEnumField()); },
      [&] { return ok(static_cast<uint16_t>(m.getEnumField())); }, eq);
  compare(
      "defaults.text",
      [&] { return std::string(o.getTextField().cStr(), o.getTextField().size()); },
      [&] {
        auto t = m.getTextField();
        return t.ok() ? ok(text(t.value())) : rt::Result<std::string>(t.error());
      },
      eq);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size % 8 != 0 || size == 0) return 0;
  std::vector<capnp::word> words(size / 8);
  std::memcpy(words.data(), data, size);
  capnp::ReaderOptions options;
  options.traversalLimitInWords = kTraversalWords;
  options.nestingLimit = static_cast<int>(kNesting);
  try {
    capnp::FlatArrayMessageReader official(kj::arrayPtr(words.data(), words.size()), options);
    sonde::capnp::MessageReader mine;
    if (!mine.init(data, size, sonde::capnp::ReaderLimits{kTraversalWords, kNesting}).ok())
      return 0;
    auto root = mine.getRoot<ours::AllKinds>();
    if (root.ok()) compareAllKinds(official.getRoot<AllKinds>(), root.value());
    sonde::capnp::MessageReader again;
    (void)again.init(data, size, sonde::capnp::ReaderLimits{kTraversalWords, kNesting});
    auto defaults = again.getRoot<ours::Defaults>();
    if (defaults.ok()) compareDefaults(official.getRoot<Defaults>(), defaults.value());
  } catch (...) {
    // The official reader refused the framing or the root: nothing to compare.
  }
  return 0;
}
