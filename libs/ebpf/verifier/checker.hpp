// SPDX-License-Identifier: MIT
// Checker: the path-sensitive simulation at the heart of the verifier (private to it).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ebpf/verifier.hpp"
#include "verifier/helper_prototypes.hpp"
#include "verifier/log.hpp"
#include "verifier/state.hpp"
#include "verifier/structure.hpp"

namespace ebpf::verifier {

// A state stored at a prune point. `branches` counts the paths still being explored below
// it; at zero the state is proven safe and later states it subsumes can stop there.
struct Checkpoint {
  Checkpoint* next_at_pc;
  Checkpoint* parent;
  uint32_t branches;
  uint32_t pc;
  uint32_t hits;      // later states this one pruned
  uint32_t misses;    // later states it failed to prune (many misses: evicted, as in Linux)
  PackedState state;  // only `state.bytes` bytes are allocated
};

struct PendingBranch {
  uint32_t pc;
  Checkpoint* parent;
  PackedState* state;
};

// What a helper's earlier arguments tell its later ones and the call itself.
struct HelperCallArgs {
  const Map* map = nullptr;  // from the map pointer argument
  int memory_reg = -1;       // the buffer the next size argument measures (-1: none or NULL)
  bool memory_read = false;  // whether the helper reads that buffer (else it fills it)
  uint32_t callback = 0;     // first instruction of the callback argument
  bool has_callback = false;
};

// Builds the entry frame from caller-stated assumptions (assumptions.cpp); false when they
// describe no state at all.
bool apply_assumptions(const EntryAssumptions& assumptions, FrameState& entry);

class Checker {
 public:
  Checker(const Insn* insns, uint32_t count, const VerifierOptions& options, VerifierLog& log,
          Structure& structure)
      : insns_(insns), count_(count), options_(options), log_(log), structure_(structure) {}
  ~Checker();

  int run(VerifierResult& result);

 private:
  enum class Step { kNext, kJumped, kPathDone, kError };
  enum : uint8_t { kLoadPlain = 1, kLoadProbe = 2 };

  // Simulation of one instruction (checker.cpp).
  Step step(uint32_t& pc);
  Step alu(const Insn& insn);
  Step jump(const Insn& insn, uint32_t& pc);
  Step call(const Insn& insn, uint32_t& pc);
  Step exit(uint32_t& pc);
  Step load_imm64(const Insn& insn);
  bool pointer_in_bounds_for_unprivileged(const RegState& ptr, int regno);

  // Memory (checker_memory.cpp).
  bool check_memory(int regno, int32_t insn_off, int size, bool write, int value_regno,
                    RegState* loaded);
  bool check_stack(const RegState& reg, int regno, int32_t off, int size, bool write,
                   int value_regno, RegState* loaded);
  bool check_stack_variable(const RegState& reg, int regno, int32_t off, int size, bool write,
                            int value_regno, RegState* loaded);
  bool check_helper_memory(int regno, uint64_t size, bool writes, bool zero_ok);
  bool check_tracing_context(int32_t insn_off, int size, bool write, RegState* loaded);
  bool check_btf_pointer(const RegState& reg, int regno, int32_t insn_off, int size, bool write,
                         RegState* loaded);
  bool stack_byte_readable(const StackSlot& slot, uint8_t byte) const;

  // Helper calls (checker_helpers.cpp).
  bool check_helper_call(int32_t id, uint32_t& pc, bool& entered_callback);
  bool check_helper_argument(const HelperPrototype& proto, int32_t id, int arg,
                             HelperCallArgs& args);
  bool check_map_func_compatibility(const Map& map, int32_t id, const char* name);
  bool release_reference(uint32_t ref);

  // Pruning (checker_prune.cpp).
  int visit_prune_point(uint32_t pc, bool& prune);
  bool states_equal(const PackedState& old_state, const State& cur, bool exact, uint32_t pc);
  int visit_callback_call(uint32_t pc, bool& prune);
  int store_checkpoint(uint32_t pc);
  void widen(const PackedState& old_state, State& cur, bool to_unknown);
  // Queues `state` to be explored from `pc` later; false (error_ set) at Linux's limit of
  // pending branches or when memory runs out.
  bool push_branch(uint32_t pc, const State& state);
  // A copy of the current state in scratch_, for the side of a branch that is pushed.
  State& branch_copy();
  void finish_path();
  // Ends the current path and resumes the next pending branch; false when none is left.
  bool next_branch(uint32_t& pc);

  // Errors and logging.
  bool reject(const char* format, ...) __attribute__((format(printf, 2, 3)));
  bool read_ok(int regno);
  void print_state(uint32_t pc);
  void print_reg(const RegState& reg);
  void print_insn(uint32_t pc);
  uint32_t new_id() { return ++last_id_; }
  void mark_edge(uint32_t pc, uint8_t facts) {
    if (options_.insn_facts != nullptr) options_.insn_facts[pc] |= facts;
  }

  PackedState* pack(const State& state);
  void free_packed(PackedState* state);

  const Insn* insns_;
  uint32_t count_;
  const VerifierOptions& options_;
  VerifierLog& log_;
  Structure& structure_;
  rt::Allocator* allocator_ = nullptr;

  State* current_ = nullptr;
  State* scratch_ = nullptr;  // the other side of a branch, before it is packed and queued
  Checkpoint* parent_ = nullptr;
  Checkpoint** checkpoints_ = nullptr;  // per instruction
  uint16_t* checkpoint_counts_ = nullptr;
  uint16_t* live_ = nullptr;
  // Per instruction: what its loads went through (kLoadPlain, kLoadProbe), for Linux's "same
  // insn cannot be used with different pointers".
  uint8_t* load_kinds_ = nullptr;
  Checkpoint* retired_ = nullptr;  // evicted while still explored: freed at the end
  uint32_t jumps_ = 0;             // jump-class instructions simulated (Linux's jmps_processed)
  uint32_t jumps_at_store_ = 0;
  uint32_t processed_at_store_ =
      0;  // per instruction: registers read before written (liveness.cpp)
  PendingBranch* pending_ = nullptr;
  uint32_t pending_count_ = 0;
  uint32_t pending_capacity_ = 0;
  uint32_t processed_ = 0;
  uint32_t states_stored_ = 0;
  uint32_t states_live_ = 0;  // stored states still allocated
  uint32_t peak_states_ = 0;
  uint32_t max_states_per_insn_ = 0;  // longest list met at a prune point
  uint32_t last_id_ = 0;
  int error_ = 0;
  uint16_t subprog_stack_[kMaxSubprograms] = {};
};

}  // namespace ebpf::verifier
