// SPDX-License-Identifier: MIT
// capnpc-sonde generator: turns one schema file of a CodeGeneratorRequest into a freestanding C++
// header.
#pragma once

#include <capnp/schema.capnp.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace capnpc_sonde {

class Generator {
 public:
  explicit Generator(capnp::schema::CodeGeneratorRequest::Reader request);

  // The header text for one requested file.
  std::string generateFile(capnp::schema::CodeGeneratorRequest::RequestedFile::Reader file);

 private:
  using Node = capnp::schema::Node;
  using Field = capnp::schema::Field;
  using Type = capnp::schema::Type;

  void nameScope(uint64_t id, const std::string& qualified);
  Node::Reader node(uint64_t id) const;
  std::string cppType(Type::Reader type) const;  // the List<T> element / field type name
  std::string defaultMask(Field::Reader field) const;
  std::string clearGroup(uint64_t id) const;

  struct Accessor {
    std::string result, name, params, body;
    bool is_const;
  };
  void accessors(uint64_t id, std::vector<Accessor>& readers, std::vector<Accessor>& builders);
  void emitDeclaration(std::string& out, uint64_t id, const std::string& short_name, int indent);
  void emitStructClasses(std::string& out, uint64_t id);
  void emitStructDefinitions(std::string& out, uint64_t id);
  void emitInterfaceClasses(std::string& out, uint64_t id);
  void forEachNested(uint64_t id, void (Generator::*visit)(std::string&, uint64_t),
                     std::string& out);

  std::map<uint64_t, Node::Reader> nodes_;
  std::map<uint64_t, std::string> names_;  // fully qualified C++ names
};

std::string capitalized(std::string name);
[[noreturn]] void unsupported(capnp::schema::Field::Reader field, const char* what);

}  // namespace capnpc_sonde
