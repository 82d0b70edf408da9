// SPDX-License-Identifier: MIT
// execve's work: ELF executables (ET_EXEC, static-pie and PIE ET_DYN, dynamic ones with their
// PT_INTERP loader) and `#!` scripts into a new address space, with Linux's initial stack
// (argc, argv, envp, auxv).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/result.hpp"
#include "task/process.hpp"

namespace posix {

// argv and envp copied into the server (out of the caller's memory, or from the server).
struct ExecArguments {
  static constexpr size_t kMaxStrings = 4096;
  static constexpr size_t kMaxBytes = 256 * 1024;
  char* bytes = nullptr;  // argv strings, then envp strings, each NUL-terminated
  size_t used = 0;
  size_t argc = 0, envc = 0;

  rt::Result<void> set(const char* const* argv, const char* const* envp);
  rt::Result<void> from_user(mm::AddressSpace& memory, uint64_t argv, uint64_t envp);
  rt::Result<void> prepend(const char* text);  // an argument before argv[0] (scripts)
  // Replaces argv[0] with `text` (a script's path after the interpreter).
  rt::Result<void> replace_first(const char* text);
  void release();
};

// Loads `path` into a new address space for `process` (the old one is dropped only when the
// new one is complete) and sets `registers` for its first instruction.
// `interpreter` (kPathMax bytes, or nullptr) receives the file that is loaded: the path, or a
// script's interpreter (Linux's bprm->interp).
rt::Result<void> exec_image(Process* process, const char* path, ExecArguments& arguments,
                            abi::UserRegisters& registers, char* interpreter = nullptr);

}  // namespace posix
