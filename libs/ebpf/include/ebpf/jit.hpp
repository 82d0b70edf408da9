// SPDX-License-Identifier: MIT
// The x86-64 JIT: compiling a prepared program to machine code, and the memory it runs from.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ebpf/program.hpp"
#include "ebpf/runtime.hpp"
#include "rt/allocator.hpp"
#include "rt/result.hpp"

namespace ebpf {

// Where compiled code lives. W^X: code is written through `write_view` while the region is
// writable and not executable; `seal` then makes `execute_view` executable and takes write
// access away. The host maps one view and mprotects it; the trace server can hand out a Frame
// mapped writable for the staging view and remap it execute-only for the running view.
struct ExecutableRegion {
  uint8_t* write_view = nullptr;
  const uint8_t* execute_view = nullptr;  // the address the code runs at (fixed at allocate)
  size_t size = 0;
  void* handle = nullptr;  // private to the provider
};

class ExecutableMemory {
 public:
  // A writable region of at least `size` bytes; `near` is an address the code will call
  // (helpers), which the provider may try to place the region within rel32 reach of.
  virtual rt::Result<ExecutableRegion> allocate(size_t size, const void* near) = 0;
  [[nodiscard]] virtual rt::Result<void> seal(ExecutableRegion& region) = 0;
  virtual void release(ExecutableRegion& region) = 0;

 protected:
  ~ExecutableMemory() = default;
};

// Host provider: mmap(PROT_READ|PROT_WRITE), then mprotect(PROT_READ|PROT_EXEC). Host only.
ExecutableMemory& host_executable_memory();

// How jit_compile compiles.
struct JitOptions {
  // Linux's bpf_jit_harden: the immediate of every ALU (add, sub, and, or, xor, mul, mov, div,
  // mod), jump, store and LD_IMM64 instruction reaches the code XORed with a random value and
  // is restored at run time through a scratch register (mov r10, imm ^ key; xor r10, key), so
  // no constant a program chose appears in executable memory. Shift counts and byte-swap
  // widths (at most 6 bits) stay as they are, as in Linux.
  bool blind_constants = false;
  // Gives the random values (random_u32, one per instruction); required with blind_constants.
  Environment* random_source = nullptr;
};

// A compiled program: owns its executable region (released by the destructor or `reset`).
// `install` points a Program's engine seam (runner, jit_image, jit_image_size) at it; the
// Program must not outlive this object.
class JitProgram {
 public:
  JitProgram() = default;
  JitProgram(const JitProgram&) = delete;
  JitProgram& operator=(const JitProgram&) = delete;
  JitProgram(JitProgram&& other) noexcept { *this = static_cast<JitProgram&&>(other); }
  JitProgram& operator=(JitProgram&& other) noexcept;
  ~JitProgram() { reset(); }

  void reset();
  void install(Program& program) const;
  bool compiled() const { return memory_ != nullptr; }
  const uint8_t* code() const { return region_.execute_view; }
  size_t code_size() const { return code_size_; }

 private:
  friend rt::Result<JitProgram> jit_compile(const Program&, ExecutableMemory&, rt::Allocator&,
                                            const JitOptions&);
  ExecutableMemory* memory_ = nullptr;
  ExecutableRegion region_{};
  size_t code_size_ = 0;
};

// Compiles `program` (prepare_for_execution done: no pseudo LD_IMM64 sources). The program
// should be verified: the code checks no memory access. Errors (EINVAL with a message naming
// the instruction class, ENOMEM) mean "run it in the interpreter"; the JIT never emits code
// for an instruction it does not implement. `scratch` holds compile-time tables only. EINVAL
// also for blind_constants without a random_source.
rt::Result<JitProgram> jit_compile(const Program& program, ExecutableMemory& memory,
                                   rt::Allocator& scratch, const JitOptions& options = {});

// The ProgramRunner `install` sets: runs the program's code with r1 = context.
uint64_t jit_run(const Program& program, void* context, Environment* environment);

// Outcome of a JIT run where the caller needs more than r0 (tests, the conformance runner).
struct JitRunResult {
  uint64_t value;
  bool aborted;  // a helper requested an abort (the value is then 0)
  bool failed;   // a runtime limit was hit: call depth, unknown helper (the value is then 0)
};

// Runs with r1 and r2 set, as run_checked does, for programs whose code is installed.
JitRunResult jit_run_registers(const Program& program, uint64_t r1, uint64_t r2,
                               Environment* environment);

}  // namespace ebpf
