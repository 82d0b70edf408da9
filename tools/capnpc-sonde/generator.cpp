// SPDX-License-Identifier: MIT
// capnpc-sonde generator: readers, builders, unions, groups, defaults, client stubs and server
// dispatchers.
#include "generator.hpp"

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace capnpc_sonde {

namespace {

constexpr const char* kRt = "::sonde::capnp";
constexpr uint16_t kNoDiscriminant = 0xffff;

std::string hex(uint64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%llxull", static_cast<unsigned long long>(value));
  return text;
}

std::string indentBy(int levels) { return std::string(static_cast<size_t>(levels) * 2, ' '); }

// Bytes as a C string literal; octal escapes cannot run into the next character.
std::string literal(const unsigned char* bytes, size_t size) {
  std::string out = "\"";
  for (size_t i = 0; i < size; ++i) {
    char escape[8];
    std::snprintf(escape, sizeof escape, "\\%03o", bytes[i]);
    out += escape;
  }
  return out + "\"";
}

std::string enumerant(const std::string& name) { return "k" + capitalized(name); }

// A pointer field's default value as statements declaring the message that holds it (the
// official library's flat-array form, one segment) and a reader for it, local to the getter.
std::string embeddedDefault(capnp::AnyPointer::Reader value) {
  capnp::MallocMessageBuilder message;
  message.getRoot<capnp::AnyPointer>().set(value);
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  std::string words;
  for (size_t i = 0; i < flat.size(); ++i) {
    uint64_t word;
    std::memcpy(&word, &flat[i], sizeof word);
    words += (i == 0 ? "" : ", ") + hex(word);
  }
  return "static constexpr uint64_t kDefault[] = {" + words + "}; static " + std::string(kRt) +
         "::MessageReader default_message; ";
}

// A qualified name as written inside namespace sonde::proto (definitions cannot start with ::
// after a return type: `T ::a::b` would parse as `T::a::b`).
std::string local(const std::string& qualified) {
  const std::string prefix = "::sonde::proto::";
  return qualified.rfind(prefix, 0) == 0 ? qualified.substr(prefix.size()) : qualified;
}

}  // namespace

// The generator refuses what it cannot express rather than emitting code that disagrees with
// the official library.
[[noreturn]] void unsupported(capnp::schema::Field::Reader field, const char* what) {
  throw std::runtime_error(std::string("capnpc-sonde: field ") + field.getName().cStr() + " has " +
                           what + ", which capnpc-sonde does not support");
}

std::string capitalized(std::string name) {
  if (!name.empty() && name[0] >= 'a' && name[0] <= 'z')
    name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name;
}

Generator::Generator(capnp::schema::CodeGeneratorRequest::Reader request) {
  for (auto n : request.getNodes()) nodes_[n.getId()] = n;
  for (auto n : request.getNodes()) {
    if (n.isFile()) nameScope(n.getId(), "::sonde::proto");
  }
}

Generator::Node::Reader Generator::node(uint64_t id) const {
  auto found = nodes_.find(id);
  if (found == nodes_.end()) throw std::runtime_error("capnpc-sonde: unknown node " + hex(id));
  return found->second;
}

// Children with their C++ names: nested declarations, groups, and the implicit parameter and
// result structs of interface methods.
static std::vector<std::pair<uint64_t, std::string>> children(
    const std::map<uint64_t, capnp::schema::Node::Reader>& nodes,
    capnp::schema::Node::Reader parent) {
  std::vector<std::pair<uint64_t, std::string>> out;
  for (auto nested : parent.getNestedNodes()) out.emplace_back(nested.getId(), nested.getName());
  if (parent.isStruct()) {
    for (auto field : parent.getStruct().getFields()) {
      if (field.isGroup())
        out.emplace_back(field.getGroup().getTypeId(), capitalized(field.getName()));
    }
  }
  if (parent.isInterface()) {
    for (auto method : parent.getInterface().getMethods()) {
      auto params = nodes.find(method.getParamStructType());
      if (params != nodes.end() && params->second.getScopeId() == 0) {
        out.emplace_back(method.getParamStructType(), capitalized(method.getName()) + "Params");
      }
      auto results = nodes.find(method.getResultStructType());
      if (results != nodes.end() && results->second.getScopeId() == 0) {
        out.emplace_back(method.getResultStructType(), capitalized(method.getName()) + "Results");
      }
    }
  }
  return out;
}

void Generator::nameScope(uint64_t id, const std::string& qualified) {
  names_[id] = qualified;
  auto found = nodes_.find(id);
  if (found == nodes_.end()) return;
  for (auto& [child, name] : children(nodes_, found->second)) {
    if (nodes_.count(child)) nameScope(child, qualified + "::" + name);
  }
}

std::string Generator::cppType(Type::Reader type) const {
  switch (type.which()) {
    case Type::BOOL: return "bool";
    case Type::INT8: return "int8_t";
    case Type::INT16: return "int16_t";
    case Type::INT32: return "int32_t";
    case Type::INT64: return "int64_t";
    case Type::UINT8: return "uint8_t";
    case Type::UINT16: return "uint16_t";
    case Type::UINT32: return "uint32_t";
    case Type::UINT64: return "uint64_t";
    case Type::FLOAT32: return "float";
    case Type::FLOAT64: return "double";
    case Type::TEXT: return std::string(kRt) + "::Text";
    case Type::DATA: return std::string(kRt) + "::Data";
    case Type::LIST:
      return std::string(kRt) + "::List<" + cppType(type.getList().getElementType()) + ">";
    case Type::ENUM: return names_.at(type.getEnum().getTypeId());
    case Type::STRUCT: return names_.at(type.getStruct().getTypeId());
    default:
      throw std::runtime_error(
          "capnpc-sonde: interfaces, AnyPointer and Void are not supported as values");
  }
}

// The XOR mask of a primitive field: its default value, as a C++ expression of the field type.
std::string Generator::defaultMask(Field::Reader field) const {
  auto value = field.getSlot().getDefaultValue();
  std::string type = cppType(field.getSlot().getType());
  switch (value.which()) {
    case capnp::schema::Value::BOOL: return value.getBool() ? "true" : "false";
    case capnp::schema::Value::INT8:
      return "static_cast<int8_t>(" + hex(static_cast<uint8_t>(value.getInt8())) + ")";
    case capnp::schema::Value::INT16:
      return "static_cast<int16_t>(" + hex(static_cast<uint16_t>(value.getInt16())) + ")";
    case capnp::schema::Value::INT32:
      return "static_cast<int32_t>(" + hex(static_cast<uint32_t>(value.getInt32())) + ")";
    case capnp::schema::Value::INT64:
      return "static_cast<int64_t>(" + hex(static_cast<uint64_t>(value.getInt64())) + ")";
    case capnp::schema::Value::UINT8: return "static_cast<uint8_t>(" + hex(value.getUint8()) + ")";
    case capnp::schema::Value::UINT16:
      return "static_cast<uint16_t>(" + hex(value.getUint16()) + ")";
    case capnp::schema::Value::UINT32:
      return "static_cast<uint32_t>(" + hex(value.getUint32()) + ")";
    case capnp::schema::Value::UINT64:
      return "static_cast<uint64_t>(" + hex(value.getUint64()) + ")";
    case capnp::schema::Value::FLOAT32: {
      float f = value.getFloat32();
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      return "__builtin_bit_cast(float, static_cast<uint32_t>(" + hex(bits) + "))";
    }
    case capnp::schema::Value::FLOAT64: {
      double d = value.getFloat64();
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      return "__builtin_bit_cast(double, static_cast<uint64_t>(" + hex(bits) + "))";
    }
    case capnp::schema::Value::ENUM:
      return "static_cast<uint16_t>(" + std::to_string(value.getEnum()) + ")";
    default: return type + "()";
  }
}

void Generator::emitDeclaration(std::string& out, uint64_t id, const std::string& short_name,
                                int indent) {
  auto n = node(id);
  std::string pad = indentBy(indent);
  if (n.isEnum()) {
    out += pad + "enum class " + short_name + " : uint16_t {\n";
    uint16_t ordinal = 0;
    for (auto e : n.getEnum().getEnumerants()) {
      out += pad + "  " + enumerant(e.getName()) + " = " + std::to_string(ordinal++) + ",\n";
    }
    out += pad + "};\n";
    return;
  }
  if (!n.isStruct() && !n.isInterface()) return;  // constants and annotations: nothing to emit
  out += pad + "struct " + short_name + " {\n";
  if (n.isStruct()) {
    auto s = n.getStruct();
    out += pad + "  static constexpr " + kRt + "::Kind kKind = " + kRt + "::Kind::kStruct;\n";
    out += pad + "  static constexpr uint64_t kTypeId = " + hex(id) + ";\n";
    out += pad +
           "  static constexpr uint16_t kDataWords = " + std::to_string(s.getDataWordCount()) +
           ";\n";
    out += pad +
           "  static constexpr uint16_t kPointerCount = " + std::to_string(s.getPointerCount()) +
           ";\n";
    if (s.getDiscriminantCount() > 0) {
      out += pad + "  enum class Which : uint16_t {\n";
      for (auto f : s.getFields()) {
        if (f.getDiscriminantValue() != kNoDiscriminant) {
          out += pad + "    " + enumerant(f.getName()) + " = " +
                 std::to_string(f.getDiscriminantValue()) + ",\n";
        }
      }
      out += pad + "  };\n";
    }
    out += pad + "  class Reader;\n" + pad + "  class Builder;\n";
  } else {
    out += pad + "  static constexpr uint64_t kInterfaceId = " + hex(id) + ";\n";
    out += pad + "  enum class Method : uint16_t {\n";
    uint16_t ordinal = 0;
    for (auto m : n.getInterface().getMethods()) {
      out += pad + "    " + enumerant(m.getName()) + " = " + std::to_string(ordinal++) + ",\n";
    }
    out += pad + "  };\n";
    out += pad + "  class Server;\n" + pad + "  class Client;\n";
  }
  for (auto& [child, name] : children(nodes_, n)) {
    if (nodes_.count(child)) emitDeclaration(out, child, name, indent + 1);
  }
  out += pad + "};\n";
}

void Generator::forEachNested(uint64_t id, void (Generator::*visit)(std::string&, uint64_t),
                              std::string& out) {
  auto n = node(id);
  if (n.isStruct() || n.isInterface()) (this->*visit)(out, id);
  for (auto& [child, name] : children(nodes_, n)) {
    if (nodes_.count(child)) forEachNested(child, visit, out);
  }
}

// Statements resetting every field of a group (nested groups included) to its default.
std::string Generator::clearGroup(uint64_t id) const {
  std::string out;
  for (auto f : node(id).getStruct().getFields()) {
    if (f.isGroup()) {
      out += clearGroup(f.getGroup().getTypeId());
      continue;
    }
    auto type = f.getSlot().getType();
    uint32_t offset = f.getSlot().getOffset();
    uint32_t width = 0;
    switch (type.which()) {
      case Type::VOID: continue;
      case Type::BOOL: width = 1; break;
      case Type::INT8:
      case Type::UINT8: width = 8; break;
      case Type::INT16:
      case Type::UINT16:
      case Type::ENUM: width = 16; break;
      case Type::INT32:
      case Type::UINT32:
      case Type::FLOAT32: width = 32; break;
      case Type::INT64:
      case Type::UINT64:
      case Type::FLOAT64: width = 64; break;
      default: out += "s_.clearPointer(" + std::to_string(offset) + ");\n  "; continue;
    }
    out += "s_.clearBits(" + std::to_string(static_cast<uint64_t>(offset) * width) + ", " +
           std::to_string(width) + ");\n  ";
  }
  return out;
}

// The accessors of one struct or group; classes declare them and definitions follow, both from
// this one list so they cannot disagree.
void Generator::accessors(uint64_t id, std::vector<Accessor>& readers,
                          std::vector<Accessor>& builders) {
  auto n = node(id);
  if (n.getIsGeneric())
    throw std::runtime_error("capnpc-sonde: generic " + names_.at(id) + " is not supported");
  auto s = n.getStruct();
  const std::string& q = names_.at(id);
  std::string disc_offset = std::to_string(s.getDiscriminantOffset() * 2);
  if (s.getDiscriminantCount() > 0) {
    readers.push_back(
        {q + "::Which", "which", "",
         "return static_cast<" + q + "::Which>(s_.getData<uint16_t>(" + disc_offset + "));", true});
    builders.push_back(
        {q + "::Which", "which", "",
         "return static_cast<" + q + "::Which>(s_.getData<uint16_t>(" + disc_offset + "));", true});
  }
  for (auto f : s.getFields()) {
    std::string name = capitalized(f.getName());
    bool in_union = f.getDiscriminantValue() != kNoDiscriminant;
    std::string which_value = q + "::Which::" + enumerant(f.getName());
    std::string check = in_union ? "if (which() != " + which_value +
                                       ") return ::rt::err(::rt::kENODATA, \"union member " +
                                       std::string(f.getName().cStr()) + " is not set\");\n  "
                                 : "";
    std::string set_disc = in_union ? "s_.setData<uint16_t>(" + disc_offset +
                                          ", static_cast<uint16_t>(" + which_value + "));\n  "
                                    : "";
    if (in_union) {
      readers.push_back({"bool", "is" + name, "", "return which() == " + which_value + ";", true});
      builders.push_back({"bool", "is" + name, "", "return which() == " + which_value + ";", true});
    }
    if (f.isGroup()) {
      std::string g = names_.at(f.getGroup().getTypeId());
      if (in_union) {
        readers.push_back({"::rt::Result<" + g + "::Reader>", "get" + name, "",
                           check + "return " + g + "::Reader(s_);", true});
        // Like the official library, switching the union to a group clears the group's fields.
        builders.push_back(
            {g + "::Builder", "init" + name, "",
             set_disc + clearGroup(f.getGroup().getTypeId()) + "return " + g + "::Builder(s_);",
             false});
      } else {
        readers.push_back(
            {g + "::Reader", "get" + name, "", "return " + g + "::Reader(s_);", true});
      }
      builders.push_back(
          {g + "::Builder", "get" + name, "", "return " + g + "::Builder(s_);", false});
      continue;
    }
    auto slot = f.getSlot();
    auto type = slot.getType();
    uint32_t offset = slot.getOffset();
    auto wrap = [&](const std::string& t) { return in_union ? "::rt::Result<" + t + ">" : t; };
    switch (type.which()) {
      case Type::VOID:
        if (in_union) builders.push_back({"void", "set" + name, "", set_disc, false});
        break;
      case Type::BOOL: {
        std::string bit = std::to_string(offset),
                    d = slot.getDefaultValue().getBool() ? "true" : "false";
        readers.push_back({wrap("bool"), "get" + name, "",
                           check + "return s_.getBool(" + bit + ", " + d + ");", true});
        builders.push_back(
            {"bool", "get" + name, "", "return s_.getBool(" + bit + ", " + d + ");", true});
        builders.push_back({"void", "set" + name, "bool value",
                            set_disc + "s_.setBool(" + bit + ", value, " + d + ");", false});
        break;
      }
      case Type::ENUM: {
        std::string e = cppType(type), at = std::to_string(offset * 2), mask = defaultMask(f);
        std::string get =
            "return static_cast<" + e + ">(s_.getData<uint16_t>(" + at + ", " + mask + "));";
        readers.push_back({wrap(e), "get" + name, "", check + get, true});
        builders.push_back({e, "get" + name, "", get, true});
        builders.push_back({"void", "set" + name, e + " value",
                            set_disc + "s_.setData<uint16_t>(" + at +
                                ", static_cast<uint16_t>(value), " + mask + ");",
                            false});
        break;
      }
      case Type::TEXT: {
        std::string index = std::to_string(offset), dflt;
        if (slot.getHadExplicitDefault()) {
          auto t = slot.getDefaultValue().getText();
          dflt = ", " + std::string(kRt) + "::Text{" +
                 literal(reinterpret_cast<const unsigned char*>(t.begin()), t.size()) + ", " +
                 std::to_string(t.size()) + "}";
        }
        readers.push_back({"::rt::Result<" + std::string(kRt) + "::Text>", "get" + name, "",
                           check + "return s_.getText(" + index + dflt + ");", true});
        builders.push_back({"void", "set" + name, "const char* chars, size_t size",
                            set_disc + "s_.setText(" + index + ", chars, size);", false});
        builders.push_back(
            {"void", "set" + name, "const char* chars",
             set_disc + "s_.setText(" + index + ", chars, " + kRt + "::textLength(chars));",
             false});
        break;
      }
      case Type::DATA: {
        std::string index = std::to_string(offset), dflt;
        if (slot.getHadExplicitDefault()) {
          auto d = slot.getDefaultValue().getData();
          dflt = ", " + std::string(kRt) + "::Data{reinterpret_cast<const uint8_t*>(" +
                 literal(d.begin(), d.size()) + "), " + std::to_string(d.size()) + "}";
        }
        readers.push_back({"::rt::Result<" + std::string(kRt) + "::Data>", "get" + name, "",
                           check + "return s_.getBlob(" + index + dflt + ");", true});
        builders.push_back({"void", "set" + name, "const void* bytes, size_t size",
                            set_disc + "s_.setBlob(" + index + ", bytes, size);", false});
        builders.push_back({std::string(kRt) + "::MutableBytes", "init" + name, "size_t size",
                            set_disc + "return s_.initBlob(" + index + ", size);", false});
        break;
      }
      case Type::STRUCT: {
        std::string t = cppType(type), index = std::to_string(offset);
        std::string read =
            slot.getHadExplicitDefault()
                ? embeddedDefault(slot.getDefaultValue().getStruct()) + "return " + kRt +
                      "::readStructFieldOr<" + t + ">(s_, " + index +
                      ", default_message, kDefault, sizeof(kDefault));"
                : "return " + std::string(kRt) + "::readStructField<" + t + ">(s_, " + index + ");";
        readers.push_back(
            {"::rt::Result<" + t + "::Reader>", "get" + name, "", check + read, true});
        builders.push_back({t + "::Builder", "init" + name, "",
                            set_disc + "return " + t + "::Builder(s_.initStruct(" + index + ", " +
                                t + "::kDataWords, " + t + "::kPointerCount));",
                            false});
        break;
      }
      case Type::LIST: {
        std::string e = cppType(type.getList().getElementType()), index = std::to_string(offset);
        std::string l = std::string(kRt) + "::List<" + e + ">";
        std::string read =
            slot.getHadExplicitDefault()
                ? embeddedDefault(slot.getDefaultValue().getList()) + "return " + kRt +
                      "::readListFieldOr<" + e + ">(s_, " + index +
                      ", default_message, kDefault, sizeof(kDefault));"
                : "return " + std::string(kRt) + "::readListField<" + e + ">(s_, " + index + ");";
        readers.push_back(
            {"::rt::Result<" + l + "::Reader>", "get" + name, "", check + read, true});
        builders.push_back(
            {l + "::Builder", "init" + name, "uint32_t count",
             set_disc + "return " + kRt + "::initListField<" + e + ">(s_, " + index + ", count);",
             false});
        break;
      }
      case Type::INTERFACE:
      case Type::ANY_POINTER: unsupported(f, "an interface or AnyPointer type");
      default: {  // numbers
        std::string t = cppType(type), mask = defaultMask(f);
        std::string at = std::to_string(
            offset * (type.which() == Type::INT8 || type.which() == Type::UINT8     ? 1
                      : type.which() == Type::INT16 || type.which() == Type::UINT16 ? 2
                      : type.which() == Type::INT32 || type.which() == Type::UINT32 ||
                              type.which() == Type::FLOAT32
                          ? 4
                          : 8));
        std::string get = "return s_.getData<" + t + ">(" + at + ", " + mask + ");";
        readers.push_back({wrap(t), "get" + name, "", check + get, true});
        builders.push_back({t, "get" + name, "", get, true});
        builders.push_back({"void", "set" + name, t + " value",
                            set_disc + "s_.setData<" + t + ">(" + at + ", value, " + mask + ");",
                            false});
        break;
      }
    }
    if (type.which() == Type::TEXT || type.which() == Type::DATA || type.which() == Type::STRUCT ||
        type.which() == Type::LIST) {
      std::string has = "return s_.hasPointer(" + std::to_string(offset) + ");";
      readers.push_back({"bool", "has" + name, "", has, true});
      builders.push_back({"bool", "has" + name, "", has, true});
    }
  }
}

// Reader and Builder classes with accessor declarations, for one struct or group.
void Generator::emitStructClasses(std::string& out, uint64_t id) {
  auto n = node(id);
  if (!n.isStruct()) return;
  const std::string& q = names_.at(id);
  std::vector<Accessor> readers, builders;
  accessors(id, readers, builders);
  for (bool reader : {true, false}) {
    std::string side = reader ? "Reader" : "Builder";
    std::string raw = std::string(kRt) + (reader ? "::StructReader" : "::StructBuilder");
    out += "class " + local(q) + "::" + side + " {\n public:\n";
    out += "  " + side + "() = default;\n";
    out += "  explicit " + side + "(" + raw + " raw) : s_(raw) {}\n";
    out += "  " + raw + " raw() const { return s_; }\n";
    if (!reader) out += "  bool isNull() const { return s_.isNull(); }\n";
    for (auto& a : reader ? readers : builders) {
      out += "  " + a.result + " " + a.name + "(" + a.params + ")" + (a.is_const ? " const" : "") +
             ";\n";
    }
    out += "\n private:\n  " + raw + " s_;\n};\n";
  }
}

// Accessor definitions, once every class is complete.
void Generator::emitStructDefinitions(std::string& out, uint64_t id) {
  auto n = node(id);
  if (!n.isStruct()) return;
  const std::string& q = names_.at(id);
  std::vector<Accessor> readers, builders;
  accessors(id, readers, builders);
  for (bool reader : {true, false}) {
    for (auto& a : reader ? readers : builders) {
      out += "inline " + a.result + " " + local(q) + "::" + (reader ? "Reader" : "Builder") +
             "::" + a.name + "(" + a.params + ")" + (a.is_const ? " const" : "") + " {\n  " +
             a.body + "\n}\n";
    }
  }
}

void Generator::emitInterfaceClasses(std::string& out, uint64_t id) {
  auto n = node(id);
  if (!n.isInterface()) return;
  const std::string& q = names_.at(id);
  if (n.getInterface().getSuperclasses().size() > 0) {
    throw std::runtime_error("capnpc-sonde: interface " + q +
                             " extends another; inheritance is not supported");
  }
  if (n.getIsGeneric())
    throw std::runtime_error("capnpc-sonde: generic " + q + " is not supported");
  auto methods = n.getInterface().getMethods();
  out += "class " + local(q) + "::Server : public " + kRt + "::Dispatcher {\n public:\n";
  out += "  uint64_t interfaceId() const override { return kInterfaceId; }\n";
  out += "  ::rt::Result<void> dispatch(uint16_t method, " + std::string(kRt) +
         "::StructReader params, " + kRt + "::MessageBuilder& reply) override {\n";
  out += "    switch (method) {\n";
  uint16_t ordinal = 0;
  std::string virtuals;
  for (auto m : methods) {
    std::string p = names_.at(m.getParamStructType()), r = names_.at(m.getResultStructType());
    out += "      case " + std::to_string(ordinal) + ": return " + m.getName().cStr() + "(" + p +
           "::Reader(params), reply.initRoot<" + r + ">());\n";
    // Methods a server does not implement answer ENOSYS, naming themselves, so gaps are visible.
    virtuals += "  virtual ::rt::Result<void> " + std::string(m.getName().cStr()) + "(" + p +
                "::Reader, " + r + "::Builder) {\n    return ::rt::err(::rt::kENOSYS, \"" +
                local(q) + "." + m.getName().cStr() + " is not implemented\");\n  }\n";
    ++ordinal;
  }
  out += "      default: return ::rt::err(::rt::kENOSYS, \"no such method\");\n    }\n  }\n";
  out += virtuals;
  out += "\n protected:\n  ~Server() = default;\n};\n";

  out += "class " + local(q) + "::Client {\n public:\n";
  out += "  explicit Client(" + std::string(kRt) +
         "::Transport& transport) : session_(transport) {}\n";
  ordinal = 0;
  for (auto m : methods) {
    std::string p = names_.at(m.getParamStructType()), r = names_.at(m.getResultStructType());
    std::string request = std::string(kRt) + "::Request<" + p + ", " + r + ">";
    out += "  " + request + " " + m.getName().cStr() + "Request() { return " + request +
           "(session_, " + kRt + "::Label{kInterfaceId, " + std::to_string(ordinal++) + "}); }\n";
  }
  out += "\n private:\n  " + std::string(kRt) + "::ClientSession session_;\n};\n";
}

std::string Generator::generateFile(
    capnp::schema::CodeGeneratorRequest::RequestedFile::Reader file) {
  std::string name = file.getFilename();
  auto slash = name.rfind('/');
  std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  std::string out = "// Generated by capnpc-sonde from " + base +
                    ": freestanding readers, builders and IPC stubs. Do not edit.\n";
  out +=
      "#pragma once\n\n#include <stddef.h>\n#include <stdint.h>\n\n#include "
      "\"sonde/capnp/list.hpp\"\n#include \"sonde/capnp/transport.hpp\"\n";
  for (auto import : file.getImports()) {
    std::string path = import.getName();
    if (path.rfind("/capnp/", 0) == 0) continue;  // the official annotation schemas
    auto s = path.rfind('/');
    out += "#include \"" + (s == std::string::npos ? path : path.substr(s + 1)) + ".hpp\"\n";
  }
  out += "\nnamespace sonde::proto {\n\n";
  auto file_node = node(file.getId());
  for (auto& [child, child_name] : children(nodes_, file_node))
    emitDeclaration(out, child, child_name, 0);
  std::string classes;
  for (auto& [child, child_name] : children(nodes_, file_node)) {
    forEachNested(child, &Generator::emitStructClasses, classes);
  }
  for (auto& [child, child_name] : children(nodes_, file_node)) {
    forEachNested(child, &Generator::emitStructDefinitions, classes);
  }
  for (auto& [child, child_name] : children(nodes_, file_node)) {
    forEachNested(child, &Generator::emitInterfaceClasses, classes);
  }
  return out + "\n" + classes + "\n}  // namespace sonde::proto\n";
}

}  // namespace capnpc_sonde
