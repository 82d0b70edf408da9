// sonde-bpf-asm / sonde-bpf-disasm: assemble text to raw instructions and back.
//   sonde-bpf-asm INPUT.s OUTPUT.bin     (text as in the conformance data)
//   sonde-bpf-asm --disassemble INPUT.bin (bpftool-style listing on stdout)
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--disassemble") == 0) {
    std::ifstream in(argv[2], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "sonde-bpf-asm: cannot read %s\n", argv[2]);
      return 1;
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() % sizeof(ebpf::Insn) != 0) {
      std::fprintf(stderr, "sonde-bpf-asm: %s is %zu bytes, not a whole number of 8-byte instructions\n", argv[2],
                   bytes.size());
      return 1;
    }
    std::vector<ebpf::Insn> insns(bytes.size() / sizeof(ebpf::Insn));
    std::memcpy(insns.data(), bytes.data(), bytes.size());
    std::cout << ebpf::disassemble(insns);
    return 0;
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s INPUT.s OUTPUT.bin | --disassemble INPUT.bin\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::fprintf(stderr, "sonde-bpf-asm: cannot read %s\n", argv[1]);
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  ebpf::AssemblyResult result = ebpf::assemble(text.str());
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
