// SPDX-License-Identifier: MIT
// sonde-bpf-asm: assemble eBPF text to raw instructions and back.
//   sonde-bpf-asm INPUT OUTPUT.bin          assemble (INPUT: text as in the conformance data,
//                                           or a conformance .data file: its `-- asm` part)
//   sonde-bpf-asm --disassemble INPUT.bin   bpftool-style listing (`0: (b7) r0 = 1`)
//   sonde-bpf-asm --assembly INPUT.bin      the assembler's own syntax (round-trips)
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"

namespace {

bool read_file(const char* path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  out = text.str();
  return true;
}

// A conformance test file holds sections (`-- asm`, `-- mem`, `-- result`); keep the program.
std::string assembly_of(const std::string& path, const std::string& text) {
  if (path.size() < 5 || path.compare(path.size() - 5, 5, ".data") != 0) return text;
  std::istringstream in(text);
  std::string line, program;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("-- ", 0) == 0) {
      inside = line.rfind("-- asm", 0) == 0;
      continue;
    }
    if (inside) program += line + "\n";
  }
  return program;
}

int from_binary(const char* mode, const char* path) {
  std::string bytes;
  if (!read_file(path, bytes)) {
    std::fprintf(stderr, "sonde-bpf-asm: cannot read %s\n", path);
    return 1;
  }
  if (bytes.size() % sizeof(ebpf::Insn) != 0) {
    std::fprintf(stderr,
                 "sonde-bpf-asm: %s is %zu bytes, not a whole number of 8-byte instructions\n",
                 path, bytes.size());
    return 1;
  }
  std::vector<ebpf::Insn> insns(bytes.size() / sizeof(ebpf::Insn));
  std::memcpy(insns.data(), bytes.data(), bytes.size());
  if (std::strcmp(mode, "--disassemble") == 0) {
    std::cout << ebpf::disassemble(insns);
    return 0;
  }
  std::string error;
  std::string text = ebpf::to_assembly(insns, &error);
  if (!error.empty()) {
    std::fprintf(stderr, "sonde-bpf-asm: %s: %s\n", path, error.c_str());
    return 1;
  }
  std::cout << text;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 &&
      (std::strcmp(argv[1], "--disassemble") == 0 || std::strcmp(argv[1], "--assembly") == 0)) {
    return from_binary(argv[1], argv[2]);
  }
  if (argc != 3 || argv[1][0] == '-') {
    std::fprintf(stderr,
                 "usage: %s INPUT OUTPUT.bin | --disassemble INPUT.bin | --assembly INPUT.bin\n",
                 argv[0]);
    return 2;
  }
  std::string text;
  if (!read_file(argv[1], text)) {
    std::fprintf(stderr, "sonde-bpf-asm: cannot read %s\n", argv[1]);
    return 1;
  }
  ebpf::AssemblyResult result = ebpf::assemble(assembly_of(argv[1], text));
  if (!result.ok()) {
    std::fprintf(stderr, "%s:%s\n", argv[1], result.error.c_str());
    return 1;
  }
  std::ofstream out(argv[2], std::ios::binary);
  out.write(reinterpret_cast<const char*>(result.insns.data()),
            static_cast<std::streamsize>(result.insns.size() * sizeof(ebpf::Insn)));
  if (!out) {
    std::fprintf(stderr, "sonde-bpf-asm: cannot write %s\n", argv[2]);
    return 1;
  }
  return 0;
}
