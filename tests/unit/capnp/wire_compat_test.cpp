// SPDX-License-Identifier: MIT
// Wire compatibility with the official Cap'n Proto library, both directions, every field kind.
#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "supervisor.capnp.h"
#include "supervisor.capnp.hpp"
#include "test.capnp.h"    // official generated code (global namespace)
#include "test.capnp.hpp"  // capnpc-sonde generated code (sonde::proto)
#include "trace.capnp.h"
#include "trace.capnp.hpp"

namespace {

namespace ours = sonde::proto;
using sonde::capnp::MessageBuilder;
using sonde::capnp::MessageReader;

const uint8_t kBlob[] = {0x00, 0x01, 0xfe, 0xff, 0x7f};

std::string str(sonde::capnp::Text text) { return std::string(text.chars, text.size); }
std::string str(sonde::capnp::Data data) {
  return std::string(reinterpret_cast<const char*>(data.bytes), data.size);
}
std::string str(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}
kj::ArrayPtr<const kj::byte> blob() { return kj::arrayPtr(kBlob, sizeof kBlob); }

// ---- the same values, written with each library ----

void fillOurs(ours::AllKinds::Builder b) {
  b.setBoolField(true);
  b.setInt8Field(-100);
  b.setInt16Field(-30000);
  b.setInt32Field(-2000000000);
  b.setInt64Field(-9000000000000000000LL);
  b.setUint8Field(250);
  b.setUint16Field(65000);
  b.setUint32Field(4000000000u);
  b.setUint64Field(18000000000000000000ull);
  b.setFloat32Field(3.25f);
  b.setFloat64Field(-1e300);
  b.setTextField("hello, wire");
  b.setDataField(kBlob, sizeof kBlob);
  b.setEnumField(ours::Color::kGreen);
  auto inner = b.initStructField();
  inner.setId(77);
  inner.setLabel("inner");
  auto weights = inner.initWeights(2);
  weights.set(0, 0.5);
  weights.set(1, -8.0);

  auto bools = b.initBoolList(10);
  for (uint32_t i = 0; i < 10; ++i) bools.set(i, i % 3 == 0);
  auto i8 = b.initInt8List(3);
  i8.set(0, -1), i8.set(1, 0), i8.set(2, 127);
  auto i16 = b.initInt16List(2);
  i16.set(0, -300), i16.set(1, 300);
  auto i32 = b.initInt32List(2);
  i32.set(0, -70000), i32.set(1, 70000);
  auto i64 = b.initInt64List(2);
  i64.set(0, -(1LL << 40)), i64.set(1, 1LL << 50);
  auto u8 = b.initUint8List(3);
  u8.set(0, 1), u8.set(1, 2), u8.set(2, 255);
  auto u16 = b.initUint16List(1);
  u16.set(0, 65535);
  auto u32 = b.initUint32List(2);
  u32.set(0, 0), u32.set(1, 0xffffffffu);
  auto u64 = b.initUint64List(1);
  u64.set(0, ~0ull);
  auto f32 = b.initFloat32List(2);
  f32.set(0, 1.25f), f32.set(1, -0.0f);
  auto f64 = b.initFloat64List(1);
  f64.set(0, 6.02e23);
  auto texts = b.initTextList(3);
  texts.setText(0, "one"), texts.setText(1, ""), texts.setText(2, "three");
  auto datas = b.initDataList(2);
  datas.setData(0, kBlob, 2), datas.setData(1, kBlob, sizeof kBlob);
  auto enums = b.initEnumList(3);
  enums.set(0, ours::Color::kBlue), enums.set(1, ours::Color::kRed),
      enums.set(2, ours::Color::kGreen);
  auto structs = b.initStructList(2);
  structs[0].setId(1), structs[0].setLabel("first");
  structs[1].setId(2), structs[1].initWeights(1).set(0, 9.5);
  auto lists = b.initListList(2);
  auto l0 = lists.init(0, 3);
  l0.set(0, 10), l0.set(1, 20), l0.set(2, 30);
  lists.init(1, 0);
  auto struct_lists = b.initStructListList(1);
  auto sl = struct_lists.init(0, 2);
  sl[0].setId(5), sl[1].setLabel("nested");

  auto pair = b.initPair();
  pair.setLeft(321);
  pair.initRight().setId(654);
  auto settings = b.getSettings();
  settings.setVerbose(true);
  settings.getMode().setCareful("slowly");
}

void fillOfficial(AllKinds::Builder b) {
  b.setBoolField(true);
  b.setInt8Field(-100);
  b.setInt16Field(-30000);
  b.setInt32Field(-2000000000);
  b.setInt64Field(-9000000000000000000LL);
  b.setUint8Field(250);
  b.setUint16Field(65000);
  b.setUint32Field(4000000000u);
  b.setUint64Field(18000000000000000000ull);
  b.setFloat32Field(3.25f);
  b.setFloat64Field(-1e300);
  b.setTextField("hello, wire");
  b.setDataField(blob());
  b.setEnumField(Color::GREEN);
  auto inner = b.initStructField();
  inner.setId(77);
  inner.setLabel("inner");
  auto weights = inner.initWeights(2);
  weights.set(0, 0.5);
  weights.set(1, -8.0);

  auto bools = b.initBoolList(10);
  for (uint32_t i = 0; i < 10; ++i) bools.set(i, i % 3 == 0);
  b.setInt8List({-1, 0, 127});
  b.setInt16List({-300, 300});
  b.setInt32List({-70000, 70000});
  b.setInt64List({-(1LL << 40), 1LL << 50});
  b.setUint8List({1, 2, 255});
  b.setUint16List({65535});
  b.setUint32List({0, 0xffffffffu});
  b.setUint64List({~0ull});
  b.setFloat32List({1.25f, -0.0f});
  b.setFloat64List({6.02e23});
  b.setTextList({"one", "", "three"});
  auto datas = b.initDataList(2);
  datas.set(0, kj::arrayPtr(kBlob, 2));
  datas.set(1, blob());
  b.setEnumList({Color::BLUE, Color::RED, Color::GREEN});
  auto structs = b.initStructList(2);
  structs[0].setId(1), structs[0].setLabel("first");
  structs[1].setId(2), structs[1].initWeights(1).set(0, 9.5);
  auto lists = b.initListList(2);
  lists.set(0, {10, 20, 30});
  lists.init(1, 0);
  auto sl = b.initStructListList(1).init(0, 2);
  sl[0].setId(5), sl[1].setLabel("nested");

  auto pair = b.initPair();
  pair.setLeft(321);
  pair.initRight().setId(654);
  auto settings = b.getSettings();
  settings.setVerbose(true);
  settings.getMode().setCareful("slowly");
}

// ---- each library checks every value ----

void checkOfficial(AllKinds::Reader r) {
  EXPECT_TRUE(r.getBoolField());
  EXPECT_EQ(r.getInt8Field(), -100);
  EXPECT_EQ(r.getInt16Field(), -30000);
  EXPECT_EQ(r.getInt32Field(), -2000000000);
  EXPECT_EQ(r.getInt64Field(), -9000000000000000000LL);
  EXPECT_EQ(r.getUint8Field(), 250);
  EXPECT_EQ(r.getUint16Field(), 65000);
  EXPECT_EQ(r.getUint32Field(), 4000000000u);
  EXPECT_EQ(r.getUint64Field(), 18000000000000000000ull);
  EXPECT_EQ(r.getFloat32Field(), 3.25f);
  EXPECT_EQ(r.getFloat64Field(), -1e300);
  EXPECT_EQ(std::string(r.getTextField().cStr()), "hello, wire");
  EXPECT_EQ(str(r.getDataField()), std::string(reinterpret_cast<const char*>(kBlob), sizeof kBlob));
  EXPECT_EQ(r.getEnumField(), Color::GREEN);
  EXPECT_EQ(r.getStructField().getId(), 77u);
  EXPECT_EQ(std::string(r.getStructField().getLabel().cStr()), "inner");
  ASSERT_EQ(r.getStructField().getWeights().size(), 2u);
  EXPECT_EQ(r.getStructField().getWeights()[1], -8.0);
  ASSERT_EQ(r.getBoolList().size(), 10u);
  for (uint32_t i = 0; i < 10; ++i) EXPECT_EQ(r.getBoolList()[i], i % 3 == 0) << i;
  EXPECT_EQ(r.getInt8List()[2], 127);
  EXPECT_EQ(r.getInt16List()[0], -300);
  EXPECT_EQ(r.getInt32List()[1], 70000);
  EXPECT_EQ(r.getInt64List()[0], -(1LL << 40));
  EXPECT_EQ(r.getUint8List()[2], 255);
  EXPECT_EQ(r.getUint16List()[0], 65535);
  EXPECT_EQ(r.getUint32List()[1], 0xffffffffu);
  EXPECT_EQ(r.getUint64List()[0], ~0ull);
  EXPECT_EQ(r.getFloat32List()[0], 1.25f);
  EXPECT_EQ(r.getFloat64List()[0], 6.02e23);
  ASSERT_EQ(r.getTextList().size(), 3u);
  EXPECT_EQ(std::string(r.getTextList()[0].cStr()), "one");
  EXPECT_EQ(std::string(r.getTextList()[1].cStr()), "");
  EXPECT_EQ(std::string(r.getTextList()[2].cStr()), "three");
  EXPECT_EQ(r.getDataList()[0].size(), 2u);
  EXPECT_EQ(str(r.getDataList()[1]),
            std::string(reinterpret_cast<const char*>(kBlob), sizeof kBlob));
  EXPECT_EQ(r.getEnumList()[0], Color::BLUE);
  EXPECT_EQ(r.getEnumList()[2], Color::GREEN);
  ASSERT_EQ(r.getStructList().size(), 2u);
  EXPECT_EQ(std::string(r.getStructList()[0].getLabel().cStr()), "first");
  EXPECT_EQ(r.getStructList()[1].getWeights()[0], 9.5);
  ASSERT_EQ(r.getListList().size(), 2u);
  EXPECT_EQ(r.getListList()[0][2], 30);
  EXPECT_EQ(r.getListList()[1].size(), 0u);
  EXPECT_EQ(r.getStructListList()[0][0].getId(), 5u);
  EXPECT_EQ(std::string(r.getStructListList()[0][1].getLabel().cStr()), "nested");
  ASSERT_EQ(r.which(), AllKinds::PAIR);
  EXPECT_EQ(r.getPair().getLeft(), 321);
  EXPECT_EQ(r.getPair().getRight().getId(), 654u);
  EXPECT_TRUE(r.getSettings().getVerbose());
  ASSERT_EQ(r.getSettings().getMode().which(), AllKinds::Settings::Mode::CAREFUL);
  EXPECT_EQ(std::string(r.getSettings().getMode().getCareful().cStr()), "slowly");
}

void checkOurs(ours::AllKinds::Reader r) {
  EXPECT_TRUE(r.getBoolField());
  EXPECT_EQ(r.getInt8Field(), -100);
  EXPECT_EQ(r.getInt16Field(), -30000);
  EXPECT_EQ(r.getInt32Field(), -2000000000);
  EXPECT_EQ(r.getInt64Field(), -9000000000000000000LL);
  EXPECT_EQ(r.getUint8Field(), 250);
  EXPECT_EQ(r.getUint16Field(), 65000);
  EXPECT_EQ(r.getUint32Field(), 4000000000u);
  EXPECT_EQ(r.getUint64Field(), 18000000000000000000ull);
  EXPECT_EQ(r.getFloat32Field(), 3.25f);
  EXPECT_EQ(r.getFloat64Field(), -1e300);
  EXPECT_EQ(str(r.getTextField().value()), "hello, wire");
  EXPECT_EQ(str(r.getDataField().value()),
            std::string(reinterpret_cast<const char*>(kBlob), sizeof kBlob));
  EXPECT_EQ(r.getEnumField(), ours::Color::kGreen);
  auto inner = r.getStructField();
  ASSERT_TRUE(inner.ok());
  EXPECT_EQ(inner.value().getId(), 77u);
  EXPECT_EQ(str(inner.value().getLabel().value()), "inner");
  auto weights = inner.value().getWeights();
  ASSERT_TRUE(weights.ok());
  ASSERT_EQ(weights.value().size(), 2u);
  EXPECT_EQ(weights.value()[1], -8.0);
  auto bools = r.getBoolList().value();
  ASSERT_EQ(bools.size(), 10u);
  for (uint32_t i = 0; i < 10; ++i) EXPECT_EQ(bools[i], i % 3 == 0) << i;
  EXPECT_EQ(r.getInt8List().value()[2], 127);
  EXPECT_EQ(r.getInt16List().value()[0], -300);
  EXPECT_EQ(r.getInt32List().value()[1], 70000);
  EXPECT_EQ(r.getInt64List().value()[0], -(1LL << 40));
  EXPECT_EQ(r.getUint8List().value()[2], 255);
  EXPECT_EQ(r.getUint16List().value()[0], 65535);
  EXPECT_EQ(r.getUint32List().value()[1], 0xffffffffu);
  EXPECT_EQ(r.getUint64List().value()[0], ~0ull);
  EXPECT_EQ(r.getFloat32List().value()[0], 1.25f);
  EXPECT_EQ(r.getFloat64List().value()[0], 6.02e23);
  auto texts = r.getTextList().value();
  ASSERT_EQ(texts.size(), 3u);
  EXPECT_EQ(str(texts[0].value()), "one");
  EXPECT_EQ(str(texts[1].value()), "");
  EXPECT_EQ(str(texts[2].value()), "three");
  auto datas = r.getDataList().value();
  EXPECT_EQ(datas[0].value().size, 2u);
  EXPECT_EQ(str(datas[1].value()), std::string(reinterpret_cast<const char*>(kBlob), sizeof kBlob));
  auto enums = r.getEnumList().value();
  EXPECT_EQ(enums[0], ours::Color::kBlue);
  EXPECT_EQ(enums[2], ours::Color::kGreen);
  auto structs = r.getStructList().value();
  ASSERT_EQ(structs.size(), 2u);
  EXPECT_EQ(str(structs[0].getLabel().value()), "first");
  EXPECT_EQ(structs[1].getWeights().value()[0], 9.5);
  auto lists = r.getListList().value();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].value()[2], 30);
  EXPECT_EQ(lists[1].value().size(), 0u);
  auto struct_lists = r.getStructListList().value();
  EXPECT_EQ(struct_lists[0].value()[0].getId(), 5u);
  EXPECT_EQ(str(struct_lists[0].value()[1].getLabel().value()), "nested");
  ASSERT_EQ(r.which(), ours::AllKinds::Which::kPair);
  EXPECT_TRUE(r.isPair());
  EXPECT_EQ(r.getPair().value().getLeft(), 321);
  EXPECT_EQ(r.getPair().value().getRight().value().getId(), 654u);
  // Other members of the union are checked: reading them is an error, not a reinterpretation.
  EXPECT_EQ(r.getNumber().error().code, rt::kENODATA);
  EXPECT_EQ(r.getName().error().code, rt::kENODATA);
  EXPECT_TRUE(r.getSettings().getVerbose());
  ASSERT_EQ(r.getSettings().getMode().which(), ours::AllKinds::Settings::Mode::Which::kCareful);
  EXPECT_EQ(str(r.getSettings().getMode().getCareful().value()), "slowly");
  EXPECT_EQ(r.getSettings().getMode().getFast().error().code, rt::kENODATA);
}

// ---- plumbing ----

struct OurMessage {
  std::vector<uint64_t> buffer = std::vector<uint64_t>(8192);
  MessageBuilder builder{buffer.data(), buffer.size() * 8};
  kj::ArrayPtr<const capnp::word> words() {
    auto bytes = builder.finish();
    EXPECT_TRUE(bytes.ok());
    return kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.value().data),
                        bytes.value().size / 8);
  }
};

kj::Array<capnp::word> canonical(capnp::AnyStruct::Reader reader) { return reader.canonicalize(); }

TEST(CapnpWireCompat, OursBuildsOfficialReadsEveryKind) {
  OurMessage message;
  fillOurs(message.builder.initRoot<ours::AllKinds>());
  capnp::FlatArrayMessageReader official(message.words());
  checkOfficial(official.getRoot<AllKinds>());
}

TEST(CapnpWireCompat, OfficialBuildsOursReadsEveryKind) {
  capnp::MallocMessageBuilder official;
  fillOfficial(official.initRoot<AllKinds>());
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(official);
  MessageReader reader;
  ASSERT_TRUE(reader.init(flat.begin(), flat.size() * 8).ok());
  ASSERT_TRUE(reader.validate().ok());
  auto root = reader.getRoot<ours::AllKinds>();
  ASSERT_TRUE(root.ok());
  checkOurs(root.value());
}

// Official messages spread over many small segments use far pointers (single and double);
// the reader follows them with the same checks.
TEST(CapnpWireCompat, OfficialMultiSegmentMessageWithFarPointersReads) {
  capnp::MallocMessageBuilder official(4, capnp::AllocationStrategy::FIXED_SIZE);
  fillOfficial(official.initRoot<AllKinds>());
  ASSERT_GT(official.getSegmentsForOutput().size(), 4u);
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(official);
  MessageReader reader;
  ASSERT_TRUE(reader.init(flat.begin(), flat.size() * 8).ok());
  EXPECT_GT(reader.segmentCount(), 4u);
  auto valid = reader.validate();
  ASSERT_TRUE(valid.ok()) << valid.error().message;
  checkOurs(reader.getRoot<ours::AllKinds>().value());
}

// What the official library writes from ordinary content when its segments are small: more
// segments than the reader once accepted (32), and with the smallest segments more than the
// reader records starts for, so some segments are found by walking the segment table.
TEST(CapnpWireCompat, OfficialMessageWithATinyFirstSegmentReads) {
  for (int fills : {1, 3}) {
    capnp::MallocMessageBuilder official(1, capnp::AllocationStrategy::FIXED_SIZE);
    // Each initRoot abandons the previous content, which stays in the message.
    for (int i = 0; i < fills; ++i) fillOfficial(official.initRoot<AllKinds>());
    size_t segments = official.getSegmentsForOutput().size();
    ASSERT_GT(segments, fills == 1 ? 32u : size_t{MessageReader::kAnchorCount});
    kj::Array<capnp::word> flat = capnp::messageToFlatArray(official);
    MessageReader reader;
    auto parsed = reader.init(flat.begin(), flat.size() * 8);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(reader.segmentCount(), segments);
    auto valid = reader.validate();
    ASSERT_TRUE(valid.ok()) << valid.error().message;
    MessageReader again;
    ASSERT_TRUE(again.init(flat.begin(), flat.size() * 8).ok());
    checkOurs(again.getRoot<ours::AllKinds>().value());
  }
}

TEST(CapnpWireCompat, SameValuesGiveTheSameCanonicalMessage) {
  OurMessage message;
  fillOurs(message.builder.initRoot<ours::AllKinds>());
  capnp::FlatArrayMessageReader from_ours(message.words());
  capnp::MallocMessageBuilder official;
  fillOfficial(official.initRoot<AllKinds>());
  auto a = canonical(from_ours.getRoot<AllKinds>());
  auto b = canonical(official.getRoot<AllKinds>().asReader());
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(0, std::memcmp(a.begin(), b.begin(), a.size() * 8));
}

TEST(CapnpWireCompat, UnionMembersBothWays) {
  {
    OurMessage message;
    message.builder.initRoot<ours::AllKinds>().setNumber(-5);
    capnp::FlatArrayMessageReader official(message.words());
    ASSERT_EQ(official.getRoot<AllKinds>().which(), AllKinds::NUMBER);
    EXPECT_EQ(official.getRoot<AllKinds>().getNumber(), -5);
  }
  {
    OurMessage message;
    message.builder.initRoot<ours::AllKinds>().setName("named");
    capnp::FlatArrayMessageReader official(message.words());
    ASSERT_EQ(official.getRoot<AllKinds>().which(), AllKinds::NAME);
    EXPECT_EQ(std::string(official.getRoot<AllKinds>().getName().cStr()), "named");
  }
  {
    OurMessage message;
    auto root = message.builder.initRoot<ours::AllKinds>();
    root.setNumber(9);
    root.setNone();
    capnp::FlatArrayMessageReader official(message.words());
    EXPECT_EQ(official.getRoot<AllKinds>().which(), AllKinds::NONE);
  }
  for (int member = 0; member < 2; ++member) {
    capnp::MallocMessageBuilder official;
    auto root = official.initRoot<AllKinds>();
    if (member == 0) root.setNumber(1234567);
    if (member == 1) root.setName("from official");
    auto flat = capnp::messageToFlatArray(official);
    MessageReader reader;
    ASSERT_TRUE(reader.init(flat.begin(), flat.size() * 8).ok());
    auto ours_root = reader.getRoot<ours::AllKinds>().value();
    if (member == 0) {
      EXPECT_EQ(ours_root.which(), ours::AllKinds::Which::kNumber);
      EXPECT_EQ(ours_root.getNumber().value(), 1234567);
      EXPECT_EQ(ours_root.getPair().error().code, rt::kENODATA);
    } else {
      EXPECT_EQ(ours_root.which(), ours::AllKinds::Which::kName);
      EXPECT_EQ(str(ours_root.getName().value()), "from official");
    }
  }
}

TEST(CapnpWireCompat, SwitchingAUnionToAGroupClearsTheGroup) {
  OurMessage message;
  auto root = message.builder.initRoot<ours::AllKinds>();
  auto pair = root.initPair();
  pair.setLeft(5);
  pair.initRight().setId(6);
  root.setNumber(77);  // shares the data slot of pair.left
  auto again = root.initPair();
  EXPECT_EQ(again.getLeft(), 0);
  EXPECT_FALSE(again.hasRight());
  capnp::FlatArrayMessageReader official(message.words());
  ASSERT_EQ(official.getRoot<AllKinds>().which(), AllKinds::PAIR);
  EXPECT_EQ(official.getRoot<AllKinds>().getPair().getLeft(), 0);
  EXPECT_FALSE(official.getRoot<AllKinds>().getPair().hasRight());
}

TEST(CapnpWireCompat, DefaultsAreXorEncodedLikeTheOfficialLibrary) {
  // Nothing set: both libraries read the schema defaults.
  OurMessage empty;
  auto ours_defaults = empty.builder.initRoot<ours::Defaults>();
  EXPECT_EQ(ours_defaults.getInt32Field(), -123456);
  capnp::FlatArrayMessageReader official(empty.words());
  auto d = official.getRoot<Defaults>();
  EXPECT_TRUE(d.getBoolField());
  EXPECT_EQ(d.getInt64Field(), -1234567890123LL);
  EXPECT_EQ(d.getFloat32Field(), 1.5f);
  EXPECT_EQ(d.getEnumField(), Color::BLUE);
  EXPECT_EQ(std::string(d.getTextField().cStr()), "default text");

  MessageReader reader;
  auto flat = empty.words();
  ASSERT_TRUE(reader.init(flat.begin(), flat.size() * 8).ok());
  auto r = reader.getRoot<ours::Defaults>().value();
  EXPECT_TRUE(r.getBoolField());
  EXPECT_EQ(r.getInt8Field(), -7);
  EXPECT_EQ(r.getInt16Field(), -1234);
  EXPECT_EQ(r.getInt32Field(), -123456);
  EXPECT_EQ(r.getInt64Field(), -1234567890123LL);
  EXPECT_EQ(r.getUint8Field(), 200);
  EXPECT_EQ(r.getUint16Field(), 54321);
  EXPECT_EQ(r.getUint32Field(), 4000000000u);
  EXPECT_EQ(r.getUint64Field(), 12345678901234567890ull);
  EXPECT_EQ(r.getFloat32Field(), 1.5f);
  EXPECT_EQ(r.getFloat64Field(), -2.25);
  EXPECT_EQ(r.getEnumField(), ours::Color::kBlue);
  EXPECT_EQ(str(r.getTextField().value()), "default text");
  EXPECT_EQ(str(r.getDataField().value()), std::string("\xde\xad\xbe\xef", 4));

  // Values equal to the defaults encode as zero words, as the official library does.
  OurMessage same;
  auto s = same.builder.initRoot<ours::Defaults>();
  s.setInt32Field(-123456);
  s.setFloat64Field(-2.25);
  s.setBoolField(true);
  auto words = same.words();
  for (size_t i = 2; i < words.size(); ++i)
    EXPECT_EQ(reinterpret_cast<const uint64_t*>(words.begin())[i], 0u) << i;

  // Non-default values written by the official library read back through our masks.
  capnp::MallocMessageBuilder changed;
  auto c = changed.initRoot<Defaults>();
  c.setBoolField(false);
  c.setInt8Field(0);
  c.setUint64Field(1);
  c.setFloat32Field(0.0f);
  c.setEnumField(Color::RED);
  auto changed_flat = capnp::messageToFlatArray(changed);
  MessageReader changed_reader;
  ASSERT_TRUE(changed_reader.init(changed_flat.begin(), changed_flat.size() * 8).ok());
  auto cr = changed_reader.getRoot<ours::Defaults>().value();
  EXPECT_FALSE(cr.getBoolField());
  EXPECT_EQ(cr.getInt8Field(), 0);
  EXPECT_EQ(cr.getUint64Field(), 1u);
  EXPECT_EQ(cr.getFloat32Field(), 0.0f);
  EXPECT_EQ(cr.getEnumField(), ours::Color::kRed);
  EXPECT_EQ(cr.getInt16Field(), -1234);  // untouched
}

// Struct and list fields with schema defaults: an unset pointer reads the default in both
// libraries, whoever built the message; a set pointer reads what was set.
void expectPointerDefaults(ours::Defaults::Reader r) {
  auto inner = r.getStructField().value();
  EXPECT_EQ(inner.getId(), 77u);
  EXPECT_EQ(str(inner.getLabel().value()), "inner default");
  auto weights = inner.getWeights().value();
  ASSERT_EQ(weights.size(), 2u);
  EXPECT_EQ(weights[0], 0.5);
  EXPECT_EQ(weights[1], 1.5);
  auto numbers = r.getInt32List().value();
  ASSERT_EQ(numbers.size(), 3u);
  EXPECT_EQ(numbers[0], 3);
  EXPECT_EQ(numbers[1], -1);
  EXPECT_EQ(numbers[2], 4);
  auto texts = r.getTextList().value();
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_EQ(str(texts[0].value()), "alpha");
  EXPECT_EQ(str(texts[1].value()), "beta");
  auto structs = r.getStructList().value();
  ASSERT_EQ(structs.size(), 2u);
  EXPECT_EQ(structs[0].getId(), 1u);
  EXPECT_EQ(structs[1].getId(), 2u);
  EXPECT_EQ(str(structs[1].getLabel().value()), "two");
  auto bools = r.getBoolList().value();
  ASSERT_EQ(bools.size(), 3u);
  EXPECT_TRUE(bools[0]);
  EXPECT_FALSE(bools[1]);
  EXPECT_TRUE(bools[2]);
}

TEST(CapnpWireCompat, PointerDefaultsOfficialBuildsOursReads) {
  capnp::MallocMessageBuilder official;
  official.initRoot<Defaults>();  // nothing set
  auto flat = capnp::messageToFlatArray(official);
  MessageReader reader;
  ASSERT_TRUE(reader.init(flat.begin(), flat.size() * 8).ok());
  auto root = reader.getRoot<ours::Defaults>().value();
  expectPointerDefaults(root);
  // Read twice: the default's own reader is reset, never exhausted.
  for (int i = 0; i < 3; ++i) expectPointerDefaults(root);
}

TEST(CapnpWireCompat, PointerDefaultsOursBuildsOfficialReads) {
  OurMessage ours_message;
  ours_message.builder.initRoot<ours::Defaults>();
  capnp::FlatArrayMessageReader official(ours_message.words());
  auto d = official.getRoot<Defaults>();
  EXPECT_FALSE(d.hasStructField());
  EXPECT_EQ(d.getStructField().getId(), 77u);
  EXPECT_EQ(std::string(d.getStructField().getLabel().cStr()), "inner default");
  ASSERT_EQ(d.getInt32List().size(), 3u);
  EXPECT_EQ(d.getInt32List()[1], -1);
  ASSERT_EQ(d.getStructList().size(), 2u);
  EXPECT_EQ(std::string(d.getStructList()[1].getLabel().cStr()), "two");
}

TEST(CapnpWireCompat, PointerFieldsSetOverrideTheirDefaults) {
  capnp::MallocMessageBuilder official;
  auto root = official.initRoot<Defaults>();
  root.initStructField().setId(5);
  auto numbers = root.initInt32List(1);
  numbers.set(0, 9);
  root.initTextList(0);
  auto flat = capnp::messageToFlatArray(official);
  MessageReader reader;
  ASSERT_TRUE(reader.init(flat.begin(), flat.size() * 8).ok());
  auto r = reader.getRoot<ours::Defaults>().value();
  EXPECT_EQ(r.getStructField().value().getId(), 5u);
  EXPECT_EQ(str(r.getStructField().value().getLabel().value()), "");  // set struct, unset text
  ASSERT_EQ(r.getInt32List().value().size(), 1u);
  EXPECT_EQ(r.getInt32List().value()[0], 9);
  EXPECT_EQ(r.getTextList().value().size(), 0u);    // an empty list is not the default
  EXPECT_EQ(r.getStructList().value().size(), 2u);  // untouched: still the default
}

// The schema's own request, a bpf() call, both ways.
TEST(CapnpWireCompat, TraceBpfCallBothWays) {
  std::vector<uint8_t> insns(64 * 8);
  for (size_t i = 0; i < insns.size(); ++i) insns[i] = static_cast<uint8_t>(i * 7);
  std::vector<uint8_t> attr(144, 0);
  attr[0] = 2;
  OurMessage message;
  auto params = message.builder.initRoot<ours::TraceService::BpfParams>();
  auto request = params.initRequest();
  request.setCommand(5);
  request.setAttr(attr.data(), attr.size());
  request.setAttrSize(144);
  request.setAttrAddress(0x7ffff000);
  auto caller = request.initCaller();
  caller.setPid(42);
  caller.setComm("loader");
  caller.setCapBpf(true);
  auto fds = caller.initDescriptors(3);
  fds.set(0, 0), fds.set(1, -1), fds.set(2, 5);
  auto range = request.initMemory(1)[0];
  range.setAddress(0x1000);
  range.setLength(insns.size() + 8);
  range.setData(insns.data(), insns.size());
  capnp::FlatArrayMessageReader official(message.words());
  auto r = official.getRoot<TraceService::BpfParams>().getRequest();
  EXPECT_EQ(r.getCommand(), 5u);
  EXPECT_EQ(r.getAttr().size(), 144u);
  EXPECT_EQ(r.getAttrAddress(), 0x7ffff000u);
  EXPECT_EQ(r.getCaller().getPid(), 42);
  EXPECT_EQ(std::string(r.getCaller().getComm().cStr()), "loader");
  EXPECT_TRUE(r.getCaller().getCapBpf());
  EXPECT_EQ(r.getCaller().getDescriptors()[1], -1);
  EXPECT_EQ(r.getCaller().getDescriptors()[2], 5);
  EXPECT_EQ(r.getMemory()[0].getLength(), insns.size() + 8);
  EXPECT_EQ(0, std::memcmp(r.getMemory()[0].getData().begin(), insns.data(), insns.size()));

  capnp::MallocMessageBuilder back;
  auto outcome = back.initRoot<TraceService::BpfResults>().initOutcome();
  auto need = outcome.initNeedMemory();
  need.setAddress(0x2000);
  need.setLength(16);
  auto flat = capnp::messageToFlatArray(back);
  MessageReader reader;
  ASSERT_TRUE(reader.init(flat.begin(), flat.size() * 8).ok());
  auto o = reader.getRoot<ours::TraceService::BpfResults>().value().getOutcome().value();
  ASSERT_TRUE(o.isNeedMemory());
  EXPECT_EQ(o.getNeedMemory()->getAddress(), 0x2000u);
  EXPECT_EQ(o.getNeedMemory()->getLength(), 16u);
}

// Unions of groups, lists of text and structs, and a signed default in the real schemas.
TEST(CapnpWireCompat, ProbeLinkAndSupervisorStructsBothWays) {
  {
    OurMessage message;
    auto probe = message.builder.initRoot<ours::ProbeSpec>();
    EXPECT_EQ(probe.getPid(), -1);  // schema default
    probe.setKind(ours::ProbeKind::kUretprobe);
    auto file = probe.getTarget().initFile();
    file.setPath("/bin/busybox");
    file.setOffset(0x1234);
    capnp::FlatArrayMessageReader official(message.words());
    auto p = official.getRoot<ProbeSpec>();
    EXPECT_EQ(p.getKind(), ProbeKind::URETPROBE);
    EXPECT_EQ(p.getPid(), -1);
    ASSERT_EQ(p.getTarget().which(), ProbeSpec::Target::FILE);
    EXPECT_EQ(std::string(p.getTarget().getFile().getPath().cStr()), "/bin/busybox");
    EXPECT_EQ(p.getTarget().getFile().getOffset(), 0x1234u);
  }
  {
    capnp::MallocMessageBuilder official;
    auto done = official.initRoot<BpfOutcome>().initDone();
    done.setResult(-28);
    auto writes = done.initWrites(2);
    writes[0].setAddress(0x1000);
    writes[1].setAddress(0x2000);
    writes[1].setData(kj::heapArray<capnp::byte>({'o', 'k'}));
    auto flat = capnp::messageToFlatArray(official);
    MessageReader reader;
    ASSERT_TRUE(reader.init(flat.begin(), flat.size() * 8).ok());
    auto o = reader.getRoot<ours::BpfOutcome>().value();
    ASSERT_EQ(o.which(), ours::BpfOutcome::Which::kDone);
    auto d = o.getDone().value();
    EXPECT_EQ(d.getResult(), -28);
    auto w = d.getWrites().value();
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(w[1].getAddress(), 0x2000u);
    EXPECT_EQ(w[1].getData().value().size, 2u);
    EXPECT_EQ(o.getNeedMemory().error().code, rt::kENODATA);
  }
  {
    OurMessage message;
    auto results = message.builder.initRoot<ours::Supervisor::HealthResults>();
    auto servers = results.initServers(2);
    servers[0].setServer(ours::ServerKind::kTrace);
    servers[0].setHealth(ours::Health::kCrashed);
    servers[0].setRestarts(3);
    servers[0].initStartedAt().setNanoseconds(123456789);
    auto fault = servers[0].getLastExit().initFault();
    fault.setVector(14);
    fault.setInstructionPointer(0xffffffff81000000ull);
    servers[1].setServer(ours::ServerKind::kPosix);
    servers[1].getLastExit().setExitCode(-2);
    capnp::FlatArrayMessageReader official(message.words());
    auto list = official.getRoot<Supervisor::HealthResults>().getServers();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].getHealth(), Health::CRASHED);
    EXPECT_EQ(list[0].getStartedAt().getNanoseconds(), 123456789u);
    ASSERT_EQ(list[0].getLastExit().which(), ServerStatus::LastExit::FAULT);
    EXPECT_EQ(list[0].getLastExit().getFault().getVector(), 14);
    EXPECT_EQ(list[0].getLastExit().getFault().getInstructionPointer(), 0xffffffff81000000ull);
    ASSERT_EQ(list[1].getLastExit().which(), ServerStatus::LastExit::EXIT_CODE);
    EXPECT_EQ(list[1].getLastExit().getExitCode(), -2);
    EXPECT_EQ(list[1].getServer(), ServerKind::POSIX);
  }
}

// The runtime writes error replies by hand; they must match common.capnp's Error.
TEST(CapnpWireCompat, ErrorLayoutMatchesCommonSchema) {
  EXPECT_EQ(sonde::capnp::ErrorLayout::kDataWords, ours::Error::kDataWords);
  EXPECT_EQ(sonde::capnp::ErrorLayout::kPointerCount, ours::Error::kPointerCount);
  OurMessage message;
  auto e = message.builder.initRoot<ours::Error>();
  e.setErrno(22);
  e.setMessage("bad");
  auto raw = e.raw();
  EXPECT_EQ(raw.getData<int32_t>(sonde::capnp::ErrorLayout::kErrnoOffset), 22);
  capnp::FlatArrayMessageReader official(message.words());
  EXPECT_EQ(official.getRoot<Error>().getErrno(), 22);
}

}  // namespace
