# SPDX-License-Identifier: MIT
# Test schema using every field kind the generator supports; compiled by both the official
# C++ generator and capnpc-sonde so the wire-compatibility tests can cross-check them.
@0xc3661f3aff56334d;

enum Color {
  red @0;
  green @1;
  blue @2;
}

struct Inner {
  id @0 :UInt32;
  label @1 :Text;
  weights @2 :List(Float64);
}

struct AllKinds {
  boolField @0 :Bool;
  int8Field @1 :Int8;
  int16Field @2 :Int16;
  int32Field @3 :Int32;
  int64Field @4 :Int64;
  uint8Field @5 :UInt8;
  uint16Field @6 :UInt16;
  uint32Field @7 :UInt32;
  uint64Field @8 :UInt64;
  float32Field @9 :Float32;
  float64Field @10 :Float64;
  textField @11 :Text;
  dataField @12 :Data;
  enumField @13 :Color;
  structField @14 :Inner;

  boolList @15 :List(Bool);
  int8List @16 :List(Int8);
  int16List @17 :List(Int16);
  int32List @18 :List(Int32);
  int64List @19 :List(Int64);
  uint8List @20 :List(UInt8);
  uint16List @21 :List(UInt16);
  uint32List @22 :List(UInt32);
  uint64List @23 :List(UInt64);
  float32List @24 :List(Float32);
  float64List @25 :List(Float64);
  textList @26 :List(Text);
  dataList @27 :List(Data);
  enumList @28 :List(Color);
  structList @29 :List(Inner);
  listList @30 :List(List(Int32));
  structListList @31 :List(List(Inner));

  # An unnamed union with void, primitive, pointer and group members.
  union {
    none @32 :Void;
    number @33 :Int64;
    name @34 :Text;
    pair :group {
      left @35 :UInt16;
      right @36 :Inner;
    }
  }

  # A group holding a named union.
  settings :group {
    verbose @37 :Bool;
    mode :union {
      fast @38 :UInt32;
      careful @39 :Text;
    }
  }
}

struct Defaults {
  boolField @0 :Bool = true;
  int8Field @1 :Int8 = -7;
  int16Field @2 :Int16 = -1234;
  int32Field @3 :Int32 = -123456;
  int64Field @4 :Int64 = -1234567890123;
  uint8Field @5 :UInt8 = 200;
  uint16Field @6 :UInt16 = 54321;
  uint32Field @7 :UInt32 = 4000000000;
  uint64Field @8 :UInt64 = 12345678901234567890;
  float32Field @9 :Float32 = 1.5;
  float64Field @10 :Float64 = -2.25;
  textField @11 :Text = "default text";
  dataField @12 :Data = 0x"de ad be ef";
  enumField @13 :Color = blue;
  structField @14 :Inner = (id = 77, label = "inner default", weights = [0.5, 1.5]);
  int32List @15 :List(Int32) = [3, -1, 4];
  textList @16 :List(Text) = ["alpha", "beta"];
  structList @17 :List(Inner) = [(id = 1), (id = 2, label = "two")];
  boolList @18 :List(Bool) = [true, false, true];
}

# A small interface for the transport round trip.
interface Calculator {
  add @0 (a :Int64, b :Int64) -> (sum :Int64);
  echo @1 (payload :Data) -> (payload :Data, length :UInt32);
  fail @2 (code :Int32) -> ();
}
