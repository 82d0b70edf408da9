// SPDX-License-Identifier: MIT
// BTF_LOAD: Linux 6.1's btf_parse rules (header, sections, strings, every kind, references,
// loops, sizes), each refusal with its errno and the line Linux logs, and the log's rules.
#include <functional>

#include "btf_test_support.hpp"

namespace trace::testing {
namespace {

using Blob = std::vector<uint8_t>;

class BtfLoad : public BtfTestBase {
 public:
  using BtfTestBase::load_btf;
};

// The header fields as little-endian words (magic and version share the first).
void set_header_word(Blob& blob, uint32_t offset, uint32_t value) {
  std::memcpy(blob.data() + offset, &value, 4);
}

Blob with_header(const BtfBuilder& b, const std::function<void(BtfHeader&)>& change) {
  BtfHeader header = b.header();
  change(header);
  return b.build(&header);
}

// A builder with an int (id 1, "int") and whatever `more` adds.
Blob with_int(const std::function<void(BtfBuilder&)>& more) {
  BtfBuilder b;
  b.add_int("int", 4, 32, kBtfIntSigned);
  more(b);
  return b.build();
}

TEST_F(BtfLoad, AcceptsEveryKindAndLogsEachType) {
  Loaded loaded = load_btf(every_kind().build());
  ASSERT_GT(loaded.status, 0) << loaded.log;
  EXPECT_NE(loaded.log.find("magic: 0xeb9f\nversion: 1\nflags: 0x0\nhdr_len: 24\n"),
            std::string::npos)
      << loaded.log;
  for (const char* line :
       {"[1] INT int size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n",
        "[2] PTR (anon) type_id=3\n", "[3] STRUCT node size=16 vlen=2\n",
        "\tvalue type_id=1 bits_offset=0\n\tnext type_id=2 bits_offset=64\n",
        "[4] ARRAY (anon) type_id=1 index_type_id=1 nr_elems=4\n", "\tB val=4294967295\n",
        "[7] ENUM64 e64 size=8 vlen=1\n\tC val=1099511627776\n", "[8] FWD later struct\n",
        "[13] FUNC_PROTO (anon) return=1 args=(2 ctx)\n", "[14] FUNC main type_id=13\n",
        "[15] VAR counter type_id=1 linkage=1\n", "\t type_id=15 offset=0 size=4\n",
        "[18] DECL_TAG tag type=14 component_idx=0\n", "[19] TYPE_TAG user type_id=1\n",
        "[21] FUNC_PROTO (anon) return=0 args=(1 x, vararg)\n",
        "\ta type_id=1 bitfield_size=3 bits_offset=0\n"}) {
    EXPECT_NE(loaded.log.find(line), std::string::npos) << line << "\nin:\n" << loaded.log;
  }
  EXPECT_EQ(loaded.true_size, loaded.log.size() + 1);
}

TEST_F(BtfLoad, LoadsWithoutALog) { EXPECT_GT(load_btf(every_kind().build(), 0).status, 0); }

TEST_F(BtfLoad, LongerHeadersNeedZerosAndMayLeaveTypesUnaligned) {
  BtfBuilder b = every_kind();
  for (uint32_t extra : {4u, 1u, 3u}) {
    Blob blob = b.build();
    blob.insert(blob.begin() + sizeof(BtfHeader), extra, 0);
    set_header_word(blob, 4, sizeof(BtfHeader) + extra);
    EXPECT_GT(load_btf(blob).status, 0) << "hdr_len " << sizeof(BtfHeader) + extra;
    blob[sizeof(BtfHeader)] = 1;
    Loaded loaded = load_btf(blob);
    EXPECT_EQ(loaded.status, -rt::kE2BIG);
    EXPECT_NE(loaded.log.find("Unsupported btf_header"), std::string::npos);
  }
}

struct Case {
  const char* what;
  std::function<Blob()> blob;
  int error;
  const char* log;  // a piece of Linux's log for it; "" for a refusal Linux does not log
};

void check_cases(BtfLoad& test, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    auto loaded = test.load_btf(c.blob());
    EXPECT_EQ(loaded.status, -c.error) << c.what << "\n" << loaded.log;
    if (*c.log != 0) {
      EXPECT_NE(loaded.log.find(c.log), std::string::npos)
          << c.what << ": no \"" << c.log << "\" in\n"
          << loaded.log;
    } else {
      // Nothing logged for the refused type: the log ends with the last good type's line.
      EXPECT_EQ(loaded.log.back(), '\n') << c.what << "\n" << loaded.log;
    }
  }
}

TEST_F(BtfLoad, HeaderAndSections) {
  BtfBuilder b = every_kind();
  uint32_t types = b.type_bytes(), strings = b.string_bytes();
  check_cases(
      *this,
      {
          {"shorter than hdr_len", [] { return Blob(6, 0); }, rt::kEINVAL, "hdr_len not found"},
          {"hdr_len past the end",
           [&] {
             Blob blob = b.build();
             set_header_word(blob, 4, static_cast<uint32_t>(blob.size() + 1));
             return blob;
           },
           rt::kEINVAL, "btf_header not found"},
          {"magic", [&] { return with_header(b, [](BtfHeader& h) { h.magic = 0x9feb; }); },
           rt::kEINVAL, "Invalid magic"},
          {"version", [&] { return with_header(b, [](BtfHeader& h) { h.version = 2; }); },
           rt::kENOTSUPP, "Unsupported version"},
          {"flags", [&] { return with_header(b, [](BtfHeader& h) { h.flags = 1; }); },
           rt::kENOTSUPP, "Unsupported flags"},
          {"nothing after the header",
           [&] {
             Blob blob = b.build();
             blob.resize(sizeof(BtfHeader));
             return blob;
           },
           rt::kEINVAL, "No data"},
          {"sections overlap", [&] { return with_header(b, [](BtfHeader& h) { h.str_off = 4; }); },
           rt::kEINVAL, "Section overlap found"},
          {"bytes after the sections",
           [&] {
             Blob blob = b.build();
             blob.push_back(0);
             return blob;
           },
           rt::kEINVAL, "Unsupported section found"},
          {"type section too long",
           [&] {
             return with_header(b, [&](BtfHeader& h) {
               h.type_len = types + strings + 8;
               h.str_off = 1u << 20;
             });
           },
           rt::kEINVAL, "Total section length too long"},
          {"string section past the end",
           [&] { return with_header(b, [&](BtfHeader& h) { h.str_off = 1u << 30; }); }, rt::kEINVAL,
           "Invalid section offset"},
          {"strings before types",
           [&] {
             // Strings padded to 4 bytes first, then the types: valid sections, wrong order.
             Blob built = b.build();
             uint32_t padded = (strings + 3) & ~3u;
             Blob blob(built.begin(), built.begin() + sizeof(BtfHeader));
             blob.insert(blob.end(), built.begin() + sizeof(BtfHeader) + types, built.end());
             blob.resize(sizeof(BtfHeader) + padded, 0);
             blob.insert(blob.end(), built.begin() + sizeof(BtfHeader),
                         built.begin() + sizeof(BtfHeader) + types);
             set_header_word(blob, 8, padded);
             set_header_word(blob, 16, 0);
             set_header_word(blob, 20, padded);
             return blob;
           },
           rt::kEINVAL, "String section is not at the end"},
          {"strings not starting with NUL",
           [&] {
             Blob blob = b.build();
             blob[sizeof(BtfHeader) + types] = 'x';
             return blob;
           },
           rt::kEINVAL, "Invalid string section"},
          {"strings not ending with NUL",
           [&] {
             Blob blob = b.build();
             blob.back() = 'x';
             return blob;
           },
           rt::kEINVAL, "Invalid string section"},
          {"no types",
           [&] {
             BtfBuilder empty;
             empty.name("x");
             return empty.build();
           },
           rt::kEINVAL, "No type found"},
      });
}

TEST_F(BtfLoad, TypeHeadersAndScalars) {
  check_cases(
      *this,
      {
          {"truncated btf_type",
           [] {
             BtfBuilder b;
             b.append_words({0, BtfBuilder::info(kBtfKindInt)});
             return b.build();
           },
           rt::kEINVAL, "[1] meta_left:8 meta_needed:12"},
          {"info bits", [] { return with_int([](BtfBuilder& b) { b.raw(0, 0x02010000, 1); }); },
           rt::kEINVAL, "[2] Invalid btf_info:2010000"},
          {"kind 20", [] { return with_int([](BtfBuilder& b) { b.raw(0, 20u << 24, 1); }); },
           rt::kEINVAL, "[2] Invalid kind:20"},
          {"kind 0", [] { return with_int([](BtfBuilder& b) { b.raw(0, 0, 0); }); }, rt::kEINVAL,
           "[2] Invalid kind:0"},
          {"name offset",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_ptr(1);
               b.raw(999, BtfBuilder::info(kBtfKindPtr), 1);
             });
           },
           rt::kEINVAL, "[3] Invalid name_offset:999"},
          {"int without its data",
           [] {
             BtfBuilder b;
             b.raw(b.name("int"), BtfBuilder::info(kBtfKindInt), 4);
             return b.build();
           },
           rt::kEINVAL, "[1] INT int meta_left:0 meta_needed:4\n"},
          {"int vlen",
           [] {
             BtfBuilder b;
             b.raw(b.name("int"), BtfBuilder::info(kBtfKindInt, 1), 4, {32});
             return b.build();
           },
           rt::kEINVAL, "[1] INT int size=4 bits_offset=0 nr_bits=32 encoding=(none) vlen != 0\n"},
          {"int kind_flag",
           [] {
             BtfBuilder b;
             b.raw(b.name("int"), BtfBuilder::info(kBtfKindInt, 0, true), 4, {32});
             return b.build();
           },
           rt::kEINVAL, "Invalid btf_info kind_flag"},
          {"int data high bits",
           [] {
             BtfBuilder b;
             b.raw(b.name("int"), BtfBuilder::info(kBtfKindInt), 4, {0x10000020});
             return b.build();
           },
           rt::kEINVAL, "[1] INT int Invalid int_data:10000020\n"},
          {"int of 129 bits",
           [] {
             BtfBuilder b;
             b.add_int("int", 32, 129);
             return b.build();
           },
           rt::kEINVAL, "nr_bits exceeds 128"},
          {"int bits past its size",
           [] {
             BtfBuilder b;
             b.add_int("int", 4, 40);
             return b.build();
           },
           rt::kEINVAL, "nr_bits exceeds type_size"},
          {"int encoding",
           [] {
             BtfBuilder b;
             b.add_int("int", 4, 32, 3);
             return b.build();
           },
           rt::kENOTSUPP, "encoding=UNKN Unsupported encoding"},
          {"enum of 3 bytes",
           [] { return with_int([](BtfBuilder& b) {
                  b.add_enum("e", 3, {{"A", 1}});
                }); },
           rt::kEINVAL, "[2] ENUM e size=3 vlen=1 Unexpected size"},
          {"enum value without name",
           [] { return with_int([](BtfBuilder& b) {
                  b.add_enum("e", 4, {{"", 1}});
                }); },
           rt::kEINVAL, ""},
          {"enum value name offset",
           [] {
             return with_int([](BtfBuilder& b) {
               b.raw(0, BtfBuilder::info(kBtfKindEnum, 1), 4, {999, 1});
             });
           },
           rt::kEINVAL, "\tInvalid name_offset:999"},
          {"float of 3 bytes", [] { return with_int([](BtfBuilder& b) { b.add_float("f", 3); }); },
           rt::kEINVAL, "[2] FLOAT f size=3 Invalid type_size"},
          {"struct claiming 65535 members",
           [] {
             return with_int(
                 [](BtfBuilder& b) { b.raw(0, BtfBuilder::info(kBtfKindStruct, 0xffff), 4); });
           },
           rt::kEINVAL, "[2] STRUCT (anon) meta_left:0 meta_needed:786420\n"},
          {"typedef without a name",
           [] { return with_int([](BtfBuilder& b) { b.add_typedef("", 1); }); }, rt::kEINVAL, ""},
          {"typedef name not an identifier",
           [] { return with_int([](BtfBuilder& b) { b.add_typedef("1x", 1); }); }, rt::kEINVAL, ""},
          {"typedef name of 129 bytes",
           [] { return with_int([](BtfBuilder& b) { b.add_typedef(std::string(129, 'a'), 1); }); },
           rt::kEINVAL, ""},
          {"const with a name",
           [] { return with_int([](BtfBuilder& b) { b.add_ref(kBtfKindConst, 1, "c"); }); },
           rt::kEINVAL, ""},
          {"type tag without a value",
           [] { return with_int([](BtfBuilder& b) { b.add_type_tag("", 1); }); }, rt::kEINVAL, ""},
          {"pointer past BTF_MAX_TYPE",
           [] { return with_int([](BtfBuilder& b) { b.add_ptr(kBtfMaxType + 1); }); }, rt::kEINVAL,
           "[2] PTR (anon) type_id=1048576 Invalid type_id\n"},
          {"fwd with a type",
           [] { return with_int([](BtfBuilder& b) { b.add_ref(kBtfKindFwd, 1, "f"); }); },
           rt::kEINVAL, "type != 0"},
          {"decl tag without a value",
           [] { return with_int([](BtfBuilder& b) { b.add_decl_tag("", 1); }); }, rt::kEINVAL,
           "Invalid value"},
          {"decl tag component -2",
           [] { return with_int([](BtfBuilder& b) { b.add_decl_tag("t", 1, -2); }); }, rt::kEINVAL,
           "Invalid component_idx"},
      });
  BtfBuilder longest;
  longest.add_int("int", 4, 32);
  longest.add_typedef(std::string(128, 'a'), 1);
  EXPECT_GT(load_btf(longest.build()).status, 0) << "a 128-byte name is fine";
}

TEST_F(BtfLoad, ReferencesAndLoops) {
  check_cases(*this, {
                         {"pointer to a missing type",
                          [] { return with_int([](BtfBuilder& b) { b.add_ptr(7); }); }, rt::kEINVAL,
                          "[2] PTR (anon) type_id=7 Invalid type_id\n"},
                         {"const to a var",
                          [] {
                            return with_int([](BtfBuilder& b) {
                              b.add_var("v", 1);
                              b.add_const(2);
                            });
                          },
                          rt::kEINVAL, "[3] CONST (anon) type_id=2 Invalid type_id\n"},
                         {"modifier loop",
                          [] {
                            return with_int([](BtfBuilder& b) {
                              b.add_const(3);
                              b.add_volatile(2);
                            });
                          },
                          rt::kEEXIST, "[2] CONST (anon) type_id=3 Loop detected\n"},
                         {"struct loop",
                          [] {
                            return with_int([](BtfBuilder& b) {
                              b.add_struct("a", 4, {{"b", 3, 0}});
                              b.add_struct("b", 4, {{"a", 2, 0}});
                            });
                          },
                          rt::kEEXIST, "[2] STRUCT a size=4 vlen=1 Loop detected\n"},
                         {"pointer loop through modifiers",
                          [] {
                            return with_int([](BtfBuilder& b) {
                              b.add_const(3);
                              b.add_ptr(4);
                              b.add_volatile(3);
                            });
                          },
                          rt::kEEXIST, "Loop detected"},
                         {"33 typedefs deep",
                          [] {
                            return with_int([](BtfBuilder& b) {
                              for (uint32_t i = 0; i < 33; ++i)
                                b.add_typedef("t" + std::to_string(i), i + 3);
                              b.add_const(1);
                            });
                          },
                          rt::kE2BIG, "[2] TYPEDEF t0 type_id=3 Exceeded max resolving depth:32\n"},
                         {"type tag after const",
                          [] {
                            return with_int([](BtfBuilder& b) {
                              b.add_const(3);
                              b.add_type_tag("user", 1);
                            });
                          },
                          rt::kEINVAL, "Type tags don't precede modifiers"},
                         {"decl tag on an int",
                          [] { return with_int([](BtfBuilder& b) { b.add_decl_tag("t", 1); }); },
                          rt::kEINVAL, "[2] DECL_TAG t type=1 component_idx=-1 Invalid type_id\n"},
                         {"decl tag past the members",
                          [] {
                            return with_int([](BtfBuilder& b) {
                              b.add_struct("s", 4, {{"a", 1, 0}});
                              b.add_decl_tag("t", 2, 1);
                            });
                          },
                          rt::kEINVAL, "Invalid component_idx"},
                     });
}

TEST_F(BtfLoad, StructsAndArrays) {
  check_cases(
      *this,
      {
          {"member past the struct",
           [] { return with_int([](BtfBuilder& b) {
                  b.add_struct("s", 2, {{"x", 1, 0}});
                }); },
           rt::kEINVAL,
           "[2] STRUCT s size=2 vlen=1\n\tx type_id=1 bits_offset=0 Member exceeds struct_size\n"},
          {"member of void",
           [] { return with_int([](BtfBuilder& b) {
                  b.add_struct("s", 4, {{"x", 0, 0}});
                }); },
           rt::kEINVAL, "\tx type_id=0 bits_offset=0 Invalid type_id\n"},
          {"members out of order",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_struct("s", 8, {{"x", 1, 32}, {"y", 1, 0}});
             });
           },
           rt::kEINVAL, "\ty type_id=1 bits_offset=0 Invalid member bits_offset\n"},
          {"union member with an offset",
           [] {
             return with_int([](BtfBuilder& b) { b.add_struct("u", 8, {{"x", 1, 32}}, true); });
           },
           rt::kEINVAL, "Invalid member bits_offset"},
          {"member offset past the size",
           [] { return with_int([](BtfBuilder& b) {
                  b.add_struct("s", 4, {{"x", 1, 40}});
                }); },
           rt::kEINVAL, "Member bits_offset exceeds its struct size"},
          {"member name offset",
           [] {
             return with_int([](BtfBuilder& b) {
               b.raw(0, BtfBuilder::info(kBtfKindStruct, 1), 4, {999, 1, 0});
             });
           },
           rt::kEINVAL,
           "\t(invalid-name-offset) type_id=1 bits_offset=0 Invalid member "
           "name_offset:999\n"},
          {"member of a function type",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_func_proto(1, {});
               b.add_struct("s", 4, {{"x", 2, 0}});
             });
           },
           rt::kEINVAL, "[3] STRUCT s size=4 vlen=1\n\tx type_id=2 bits_offset=0 Invalid member\n"},
          {"struct member not byte aligned",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_struct("in", 4, {{"x", 1, 0}});
               b.add_struct("s", 8, {{"y", 2, 4}});
             });
           },
           rt::kEINVAL, "Member is not byte aligned"},
          {"bitfield wider than its int",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_struct("s", 8, {{"x", 1, 33u << 24}}, false, true);
             });
           },
           rt::kEINVAL,
           "\tx type_id=1 bitfield_size=33 bits_offset=0 Invalid member "
           "bitfield_size\n"},
          {"bitfield on an odd int",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_int("odd", 4, 31);
               b.add_struct("s", 8, {{"x", 2, 3u << 24}}, false, true);
             });
           },
           rt::kEINVAL, "Invalid member base type"},
          {"array with a size",
           [] {
             return with_int([](BtfBuilder& b) {
               b.raw(0, BtfBuilder::info(kBtfKindArray), 4, {1, 1, 2});
             });
           },
           rt::kEINVAL, "size != 0"},
          {"array of void", [] { return with_int([](BtfBuilder& b) { b.add_array(0, 1, 2); }); },
           rt::kEINVAL, "[2] ARRAY (anon) type_id=0 index_type_id=1 nr_elems=2 Invalid elem\n"},
          {"array indexed by a struct",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_struct("s", 4, {{"x", 1, 0}});
               b.add_array(1, 2, 2);
             });
           },
           rt::kEINVAL, "Invalid index"},
          {"array of bitfield ints",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_int("odd", 4, 3);
               b.add_array(2, 1, 2);
             });
           },
           rt::kEINVAL, "Invalid array of int"},
          {"array of 4 GiB",
           [] { return with_int([](BtfBuilder& b) { b.add_array(1, 1, 0x40000000); }); },
           rt::kEINVAL, "Array size overflows U32_MAX"},
      });
}

TEST_F(BtfLoad, FunctionsVariablesAndSections) {
  check_cases(
      *this,
      {
          {"func linkage 2",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_func_proto(1, {});
               b.add_func("f", 2, 2);
             });
           },
           rt::kEINVAL, "[3] FUNC f type_id=2 Invalid func linkage\n"},
          {"func of an int", [] { return with_int([](BtfBuilder& b) { b.add_func("f", 1); }); },
           rt::kEINVAL, "[2] FUNC f type_id=1 Invalid type_id\n"},
          {"func with an unnamed argument",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_func_proto(1, {{"", 1}});
               b.add_func("f", 2);
             });
           },
           rt::kEINVAL, "[3] FUNC f type_id=2 Invalid arg#1\n"},
          {"proto with a name",
           [] {
             return with_int(
                 [](BtfBuilder& b) { b.raw(b.name("p"), BtfBuilder::info(kBtfKindFuncProto), 1); });
           },
           rt::kEINVAL, ""},
          {"void argument before the last",
           [] {
             return with_int([](BtfBuilder& b) { b.add_func_proto(1, {{"a", 0}, {"b", 1}}); });
           },
           rt::kEINVAL, "[2] FUNC_PROTO (anon) return=1 args=(0 a, 1 b) Invalid arg#1\n"},
          {"named vararg",
           [] {
             return with_int([](BtfBuilder& b) { b.add_func_proto(1, {{"a", 1}, {"b", 0}}); });
           },
           rt::kEINVAL, "Invalid arg#2"},
          {"proto returning a proto",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_func_proto(1, {});
               b.add_func_proto(2, {});
             });
           },
           rt::kEINVAL, "[3] FUNC_PROTO (anon) return=2 args=(void) Invalid return type\n"},
          {"var linkage 2", [] { return with_int([](BtfBuilder& b) { b.add_var("v", 1, 2); }); },
           rt::kEINVAL, "Linkage not supported"},
          {"var of a proto",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_func_proto(1, {});
               b.add_var("v", 2);
             });
           },
           rt::kEINVAL, "[3] VAR v type_id=2 linkage=1 Invalid type_id\n"},
          {"datasec of size 0",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_var("v", 1);
               b.add_datasec(".data", 0, {});
             });
           },
           rt::kEINVAL, "size == 0"},
          {"datasec entries overlapping",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_var("v", 1);
               b.add_datasec(".data", 8, {{2, 0, 4}, {2, 2, 4}});
             });
           },
           rt::kEINVAL, "\t type_id=2 offset=2 size=4 Invalid offset\n"},
          {"datasec entry not a var",
           [] { return with_int([](BtfBuilder& b) {
                  b.add_datasec(".data", 4, {{1, 0, 4}});
                }); },
           rt::kEINVAL,
           "[2] DATASEC .data size=4 vlen=1\n\t type_id=1 offset=0 size=4 Not a VAR "
           "kind member\n"},
          {"datasec entry smaller than its var",
           [] {
             return with_int([](BtfBuilder& b) {
               b.add_var("v", 1);
               b.add_datasec(".data", 4, {{2, 0, 2}});
             });
           },
           rt::kEINVAL, "Invalid size"},
      });
}

TEST_F(BtfLoad, SizeLimitFaultAndLogAttributes) {
  Blob blob = every_kind().build();
  memory_.allow(blob.data(), blob.size(), false);
  BpfAttr attr = {};
  attr.btf_load.btf = address(blob.data());
  attr.btf_load.btf_size = kBtfMaxSize + 1;
  EXPECT_EQ(bpf(kBtfLoad, attr), -rt::kE2BIG) << "BTF_MAX_SIZE, before anything is read";
  attr.btf_load.btf_size = static_cast<uint32_t>(blob.size());
  attr.btf_load.btf = 16;
  EXPECT_EQ(bpf(kBtfLoad, attr), -rt::kEFAULT);
  attr.btf_load.btf = address(blob.data());
  char log[256];
  memory_.allow(log, sizeof(log));
  struct LogCase {
    uint64_t buffer;
    uint32_t size, level;
  };
  for (LogCase c :
       {LogCase{address(log), 256, 0}, LogCase{0, 256, 1}, LogCase{address(log), 127, 1},
        LogCase{address(log), 256, 8}, LogCase{address(log), 0, 1}}) {
    attr.btf_load.btf_log_buf = c.buffer;
    attr.btf_load.btf_log_size = c.size;
    attr.btf_load.btf_log_level = c.level;
    EXPECT_EQ(bpf(kBtfLoad, attr), -rt::kEINVAL) << c.size << " " << c.level;
  }
  attr.btf_load.btf_log_buf = 16;
  attr.btf_load.btf_log_size = 256;
  attr.btf_load.btf_log_level = 1;
  EXPECT_EQ(bpf(kBtfLoad, attr), -rt::kEFAULT) << "a log it cannot write";
  BpfAttr tail = {};
  tail.bytes[40] = 1;
  EXPECT_EQ(bpf(kBtfLoad, tail), -rt::kEINVAL) << "CHECK_ATTR";
}

TEST_F(BtfLoad, ATruncatedLogIsENOSPCOnlyWhenTheBlobIsGood) {
  Loaded loaded = load_btf(every_kind().build(), 128);
  EXPECT_EQ(loaded.status, -rt::kENOSPC);
  EXPECT_EQ(loaded.log.size(), 127u);
  EXPECT_GT(loaded.true_size, 128u);
  Loaded full = load_btf(every_kind().build());
  ASSERT_GT(full.status, 0);
  EXPECT_EQ(full.log.substr(0, 127), loaded.log);
  EXPECT_EQ(loaded.true_size, full.true_size);
  // A refused blob keeps its own errno however short the log.
  Loaded refused = load_btf(with_int([](BtfBuilder& b) { b.add_ptr(9); }), 128);
  EXPECT_EQ(refused.status, -rt::kEINVAL);
}

}  // namespace
}  // namespace trace::testing
