// SPDX-License-Identifier: MIT
// capnpc-sonde: a `capnp compile` plugin writing NAME.capnp.hpp (freestanding C++) for each
// requested schema.
#include <capnp/schema.capnp.h>
#include <capnp/serialize.h>

#include <cstdio>
#include <exception>
#include <fstream>

#include "generator.hpp"

int main() {
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = 1ull << 32;
    capnp::StreamFdMessageReader message(0, options);
    auto request = message.getRoot<capnp::schema::CodeGeneratorRequest>();
    capnpc_sonde::Generator generator(request);
    for (auto file : request.getRequestedFiles()) {
      std::string text = generator.generateFile(file);
      // capnp runs plugins inside the output directory; the name keeps its source folders.
      std::string path = std::string(file.getFilename().cStr()) + ".hpp";
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out) {
        std::fprintf(stderr, "capnpc-sonde: cannot write %s\n", path.c_str());
        return 1;
      }
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
  return 0;
}
