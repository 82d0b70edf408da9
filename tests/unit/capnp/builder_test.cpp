// SPDX-License-Identifier: MIT
// The builder over a caller buffer: out of space is an error, never a write past the buffer.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "test.capnp.h"
#include "test.capnp.hpp"

namespace {

using sonde::capnp::MessageBuilder;
namespace ours = sonde::proto;

void fill(ours::AllKinds::Builder b) {
  b.setInt64Field(-1);
  b.setTextField("a text that takes a few words of the buffer");
  auto structs = b.initStructList(4);
  for (uint32_t i = 0; i < 4; ++i) {
    structs[i].setId(i);
    structs[i].setLabel("label");
    structs[i].initWeights(3).set(2, 1.0);
  }
  b.initListList(2).init(1, 5).set(4, 99);
  b.getSettings().getMode().setCareful("careful");
}

TEST(CapnpBuilder, EveryBufferSizeEitherFitsOrFailsWithoutOverflow) {
  constexpr size_t kGuard = 64;
  size_t smallest_fit = 0;
  for (size_t size = 0; size <= 1200; size += 8) {
    std::vector<uint8_t> memory(size + kGuard, 0xa5);
    MessageBuilder builder(memory.data(), size);
    fill(builder.initRoot<ours::AllKinds>());
    auto bytes = builder.finish();
    for (size_t i = size; i < memory.size(); ++i)
      ASSERT_EQ(memory[i], 0xa5) << "overflow at size " << size;
    if (!bytes.ok()) {
      EXPECT_EQ(bytes.error().code, rt::kENOSPC) << size;
      EXPECT_EQ(smallest_fit, 0u) << "a larger buffer failed after a smaller one fit";
      continue;
    }
    if (smallest_fit == 0) smallest_fit = size;
    EXPECT_LE(bytes.value().size, size);
    // What fits is a complete message the official library reads.
    std::vector<capnp::word> words(bytes.value().size / 8);
    std::memcpy(words.data(), bytes.value().data, bytes.value().size);
    capnp::FlatArrayMessageReader official(kj::arrayPtr(words.data(), words.size()));
    auto root = official.getRoot<AllKinds>();
    EXPECT_EQ(root.getStructList()[3].getWeights()[2], 1.0);
    EXPECT_EQ(root.getListList()[1][4], 99);
    EXPECT_EQ(std::string(root.getSettings().getMode().getCareful().cStr()), "careful");
  }
  EXPECT_GT(smallest_fit, 0u);
}

TEST(CapnpBuilder, TinyOrMissingBufferFails) {
  MessageBuilder none(nullptr, 0);
  none.initRoot<ours::Inner>().setId(1);  // a null builder ignores writes
  EXPECT_EQ(none.finish().error().code, rt::kENOSPC);
  uint64_t one_word[1];
  MessageBuilder tiny(one_word, sizeof one_word);
  EXPECT_EQ(tiny.finish().error().code, rt::kENOSPC);
  // Room for the table and root pointer only: an empty message, but no struct.
  uint64_t two_words[2];
  MessageBuilder empty(two_words, sizeof two_words);
  EXPECT_TRUE(empty.finish().ok());
  auto inner = empty.initRoot<ours::Inner>();
  EXPECT_TRUE(inner.isNull());
  EXPECT_EQ(empty.finish().error().code, rt::kENOSPC);
}

TEST(CapnpBuilder, FailedAllocationsLeaveNullBuildersThatIgnoreWrites) {
  std::vector<uint64_t> buffer(12);
  MessageBuilder builder(buffer.data(), buffer.size() * 8);
  auto root = builder.initRoot<ours::Inner>();
  ASSERT_FALSE(root.isNull());
  root.setId(5);
  auto weights = root.initWeights(100);  // does not fit
  EXPECT_TRUE(weights.isNull());
  weights.set(99, 1.0);  // no effect, no crash
  root.setLabel("later writes fail too");
  EXPECT_FALSE(root.hasLabel());
  EXPECT_EQ(builder.finish().error().code, rt::kENOSPC);
  // reset() makes the buffer usable again.
  builder.reset();
  builder.initRoot<ours::Inner>().setId(6);
  EXPECT_TRUE(builder.finish().ok());
}

TEST(CapnpBuilder, ListsLongerThanAPointerCanDescribeFail) {
  std::vector<uint64_t> buffer(64);
  MessageBuilder builder(buffer.data(), buffer.size() * 8);
  auto root = builder.initRoot<ours::AllKinds>();
  auto too_long = root.initBoolList(1u << 29);
  EXPECT_TRUE(too_long.isNull());
  EXPECT_EQ(builder.finish().error().code, rt::kE2BIG);
}

// A text's size plus its NUL must not wrap: SIZE_MAX + 1 is an empty list, and a copy of
// SIZE_MAX bytes into it.
TEST(CapnpBuilder, BlobSizesThatOverflowFail) {
  for (size_t size : {size_t{UINT32_MAX}, SIZE_MAX, SIZE_MAX - 1}) {
    std::vector<uint64_t> buffer(64);
    static const char kChars[] = "x";
    {
      MessageBuilder builder(buffer.data(), buffer.size() * 8);
      builder.initRootStruct(0, 1).setText(0, kChars, size);
      EXPECT_EQ(builder.finish().error().code, rt::kE2BIG) << size;
    }
    {
      MessageBuilder builder(buffer.data(), buffer.size() * 8);
      builder.initRootStruct(0, 1).setBlob(0, kChars, size);
      EXPECT_EQ(builder.finish().error().code, rt::kE2BIG) << size;
    }
    {
      MessageBuilder builder(buffer.data(), buffer.size() * 8);
      EXPECT_EQ(builder.initRootStruct(0, 1).initBlob(0, size).data, nullptr);
      EXPECT_EQ(builder.finish().error().code, rt::kE2BIG) << size;
    }
    for (bool text : {false, true}) {
      MessageBuilder builder(buffer.data(), buffer.size() * 8);
      // The root pointer's slot: the word after the segment table.
      auto blob = builder.initBlobAt(reinterpret_cast<uint8_t*>(buffer.data()) + 8, size, text);
      EXPECT_EQ(blob.data, nullptr) << size;
      EXPECT_EQ(blob.size, 0u) << size;
      EXPECT_EQ(builder.finish().error().code, rt::kE2BIG) << size << " text " << text;
    }
  }
}

TEST(CapnpBuilder, BuilderGettersReadBackWithDefaults) {
  std::vector<uint64_t> buffer(64);
  MessageBuilder builder(buffer.data(), buffer.size() * 8);
  auto d = builder.initRoot<ours::Defaults>();
  EXPECT_EQ(d.getUint16Field(), 54321);
  EXPECT_TRUE(d.getBoolField());
  d.setUint16Field(7);
  d.setBoolField(false);
  EXPECT_EQ(d.getUint16Field(), 7);
  EXPECT_FALSE(d.getBoolField());
  EXPECT_EQ(d.getEnumField(), ours::Color::kBlue);
}

}  // namespace
