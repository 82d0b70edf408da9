// Verifier: each rule accepted when kept and rejected, with Linux's message, when broken.
#include "ebpf/verifier.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ebpf/assembler.hpp"
#include "ebpf/maps.hpp"
#include "rt/errno.hpp"
#include "support/ebpf_fixture.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;


using Outcome = test_support::VerifierRun;

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    array_ = test_support::create_test_map(map_allocator_, MapType::kArray, 4, 8, 4);
    big_array_ = test_support::create_test_map(map_allocator_, MapType::kArray, 4, 64, 4);
    queue_ = test_support::create_test_map(map_allocator_, MapType::kQueue, 0, 8, 4);
    ring_ = test_support::create_test_map(map_allocator_, MapType::kRingbuf, 0, 0, 4096);
  }
  void TearDown() override {
    destroy_map(array_, map_allocator_);
    destroy_map(big_array_, map_allocator_);
    destroy_map(queue_, map_allocator_);
    destroy_map(ring_, map_allocator_);
    EXPECT_EQ(allocator_.in_use(), 0u) << "verifier leaked memory";
  }

  // Assembles `text`; `MAP` and `BIGMAP` stand for map references (BPF_PSEUDO_MAP_FD,
  // already resolved to the Map* as the loader leaves them).
  std::vector<Insn> program(std::string text) {
    auto replace = [&](const std::string& name, Map* map) {
      for (size_t at; (at = text.find(name)) != std::string::npos;) {
        text.replace(at, name.size(), std::to_string(reinterpret_cast<uint64_t>(map)));
      }
    };
    replace("QUEUE", queue_);
    replace("RING", ring_);
    replace("BIGMAP", big_array_);
    replace("MAP", array_);
    AssemblyResult assembled = assemble(text);
    EXPECT_TRUE(assembled.ok()) << assembled.error;
    for (size_t i = 0; i + 1 < assembled.insns.size(); ++i) {
      Insn& insn = assembled.insns[i];
      if (insn.opcode != kOpLdImm64) continue;
      uint64_t value = static_cast<uint32_t>(insn.imm) | (uint64_t{static_cast<uint32_t>(assembled.insns[i + 1].imm)} << 32);
      if (value == reinterpret_cast<uint64_t>(array_) || value == reinterpret_cast<uint64_t>(big_array_) ||
          value == reinterpret_cast<uint64_t>(queue_) || value == reinterpret_cast<uint64_t>(ring_)) {
        insn.src = kPseudoMapFd;
      }
    }
    return assembled.insns;
  }

  Outcome check(const std::string& text, uint32_t level = kLogLevel2, ProgramType type = ProgramType::kKprobe,
                uint32_t log_size = 1 << 20, uint32_t limit = kMaxInsns) {
    VerifierOptions options;
    options.type = type;
    options.tracepoint_record_size = 24;
    options.log_level = level;
    options.allocator = &allocator_;
    options.instruction_limit = limit;
    return test_support::verify_program(program(text), options, log_size);
  }

  void expect_accepted(const std::string& text, ProgramType type = ProgramType::kKprobe) {
    Outcome o = check(text, kLogLevel2, type);
    EXPECT_EQ(o.error, 0) << o.log;
  }
  void expect_rejected(const std::string& text, const std::string& message, int error = -rt::kEACCES,
                       ProgramType type = ProgramType::kKprobe) {
    Outcome o = check(text, kLogLevel2, type);
    EXPECT_EQ(o.error, error) << o.log;
    EXPECT_NE(o.log.find(message), std::string::npos) << "log lacks '" << message << "':\n" << o.log;
  }

  test_support::MallocAllocator allocator_, map_allocator_;
  Map* array_ = nullptr;
  Map* big_array_ = nullptr;
  Map* queue_ = nullptr;
  Map* ring_ = nullptr;
};

constexpr const char* kLookup =  // r0 = lookup(MAP, &key) with key 0 at fp-4
    "stw [%r10-4], 0\nlddw %r1, MAP\nmov %r2, %r10\nadd %r2, -4\ncall 1\n";

TEST_F(VerifierTest, AcceptsMinimalProgram) { expect_accepted("mov %r0, 0\nexit"); }

TEST_F(VerifierTest, ReadsOfUninitialisedRegistersAreRejected) {
  expect_rejected("mov %r0, %r2\nexit", "R2 !read_ok");
  expect_rejected("exit", "R0 !read_ok");
  expect_rejected("add %r3, 1\nmov %r0, 0\nexit", "R3 !read_ok");
}

TEST_F(VerifierTest, StackMustBeWrittenBeforeRead) {
  expect_accepted("stdw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit");
  expect_rejected("ldxdw %r0, [%r10-8]\nexit", "invalid read from stack R10 off -8+0 size 8");
  expect_rejected("stw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit", "invalid read from stack R10 off -8+4 size 8");
  expect_rejected("stdw [%r10-520], 1\nmov %r0, 0\nexit", "invalid write to stack R10 off=-520 size=8");
  expect_rejected("stdw [%r10+0], 1\nmov %r0, 0\nexit", "invalid write to stack R10 off=0 size=8");
}

TEST_F(VerifierTest, SpilledRegistersKeepTheirType) {
  // Spill the context pointer, fill it, and read pt_regs through it.
  expect_accepted("stxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nldxdw %r0, [%r2+112]\nexit");
  // A partial overwrite turns the slot into plain bytes: no longer a pointer.
  expect_rejected("stxdw [%r10-8], %r1\nstb [%r10-8], 0\nldxdw %r2, [%r10-8]\nldxdw %r0, [%r2+0]\nexit",
                  "R2 invalid mem access 'scalar'");
}

TEST_F(VerifierTest, KprobeContextIsReadOnlyPtRegs) {
  expect_accepted("ldxdw %r0, [%r1+112]\nexit");      // pt_regs->di
  expect_accepted("ldxw %r0, [%r1+160]\nexit");
  expect_rejected("ldxdw %r0, [%r1+168]\nexit", "invalid bpf_context access off=168 size=8");
  expect_rejected("stdw [%r1+0], 1\nmov %r0, 0\nexit", "invalid bpf_context access off=0 size=8");
  expect_rejected("ldxdw %r0, [%r1+4]\nexit", "invalid bpf_context access off=4 size=8");
  expect_rejected("add %r1, 8\nldxdw %r0, [%r1+0]\nexit", "dereference of modified ctx ptr R1 off=8 disallowed");
}

TEST_F(VerifierTest, TracepointAndRawTracepointContexts) {
  expect_accepted("ldxdw %r0, [%r1+16]\nexit", ProgramType::kTracepoint);
  expect_rejected("ldxdw %r0, [%r1+24]\nexit", "invalid bpf_context access off=24", -rt::kEACCES, ProgramType::kTracepoint);
  expect_accepted("ldxdw %r0, [%r1+88]\nexit", ProgramType::kRawTracepoint);
  expect_rejected("ldxdw %r0, [%r1+96]\nexit", "invalid bpf_context access off=96", -rt::kEACCES, ProgramType::kRawTracepoint);
}

TEST_F(VerifierTest, MapLookupNeedsNullCheck) {
  expect_accepted(std::string(kLookup) + "jeq %r0, 0, out\nldxdw %r0, [%r0+0]\nout:\nexit");
  expect_rejected(std::string(kLookup) + "ldxdw %r0, [%r0+0]\nexit", "R0 invalid mem access 'map_value_or_null'");
  expect_rejected(std::string(kLookup) + "add %r0, 8\nmov %r0, 0\nexit",
                  "R0 pointer arithmetic on map_value_or_null prohibited, null-check it first");
  // The null check applies to copies of the pointer too.
  expect_accepted(std::string(kLookup) + "mov %r6, %r0\njne %r0, 0, ok\nmov %r0, 0\nexit\nok:\nldxdw %r0, [%r6+0]\nexit");
}

TEST_F(VerifierTest, SeededOutOfBoundsMapValueAccessIsRejectedNamingTheInstruction) {
  Outcome o = check(std::string(kLookup) + "jeq %r0, 0, out\nldxdw %r0, [%r0+8]\nout:\nexit");
  EXPECT_EQ(o.error, -rt::kEACCES);
  EXPECT_NE(o.log.find("7: (79) r0 = *(u64 *)(r0 +8)\ninvalid access to map value, value_size=8 off=8 size=8"),
            std::string::npos) << o.log;
}

TEST_F(VerifierTest, VariableMapIndexMustBeBounded) {
  std::string prefix = std::string(kLookup) + "jeq %r0, 0, out\nmov %r6, %r0\ncall 7\n";
  expect_accepted(prefix + "and %r0, 7\nadd %r6, %r0\nldxb %r0, [%r6+0]\nexit\nout:\nexit");
  expect_rejected(prefix + "and %r0, 15\nadd %r6, %r0\nldxb %r0, [%r6+0]\nexit\nout:\nexit",
                  "invalid access to map value, value_size=8 off=15 size=1");
  expect_accepted(std::string("stw [%r10-4], 0\nlddw %r1, BIGMAP\nmov %r2, %r10\nadd %r2, -4\ncall 1\n") +
                  "jeq %r0, 0, out\nmov %r6, %r0\ncall 7\njge %r0, 64, out\nadd %r6, %r0\nldxb %r0, [%r6+0]\nexit\nout:\nmov %r0, 0\nexit");
  expect_rejected(std::string("stw [%r10-4], 0\nlddw %r1, BIGMAP\nmov %r2, %r10\nadd %r2, -4\ncall 1\n") +
                      "jeq %r0, 0, out\nmov %r6, %r0\ncall 7\njge %r0, 64, out\nadd %r6, %r0\nldxdw %r0, [%r6+0]\nexit\nout:\nmov %r0, 0\nexit",
                  "invalid access to map value, value_size=64 off=63 size=8");
  expect_rejected(prefix + "add %r6, %r0\nldxb %r0, [%r6+0]\nexit\nout:\nexit", "min value is negative");
  expect_rejected(prefix + "rsh %r0, 1\nadd %r6, %r0\nldxb %r0, [%r6+0]\nexit\nout:\nexit", "unbounded memory access");
}

TEST_F(VerifierTest, BoundedLoopsAreAcceptedAndTerminate) {
  Outcome o = check("mov %r0, 0\nmov %r1, 0\nl:\nadd %r0, %r1\nadd %r1, 1\njlt %r1, 100, l\nexit");
  EXPECT_EQ(o.error, 0) << o.log;
  EXPECT_GT(o.result.instructions_processed, 300u);  // the loop was walked, not assumed
}

TEST_F(VerifierTest, LoopsWithoutProgressAreRejected) {
  expect_rejected("l:\ncall 7\njeq %r0, 0, l\nmov %r0, 0\nexit", "infinite loop detected", -rt::kEINVAL);
  expect_rejected("call 7\nmov %r1, %r0\nl:\nor %r1, 1\njne %r1, 0, l\nmov %r0, 0\nexit", "infinite loop detected", -rt::kEINVAL);
}

TEST_F(VerifierTest, InstructionBudgetIsEnforced) {
  Outcome o = check("mov %r0, 0\nmov %r1, 0\nl:\nadd %r1, 1\njlt %r1, 100000, l\nexit", kLogLevel1,
                    ProgramType::kKprobe, 1 << 20, 10000);
  EXPECT_EQ(o.error, -rt::kE2BIG);
  EXPECT_NE(o.log.find("BPF program is too large. Processed 10001 insn"), std::string::npos) << o.log.substr(o.log.size() - 300);
}

TEST_F(VerifierTest, StructuralErrors) {
  expect_rejected("ja +5\nmov %r0, 0\nexit", "jump out of range from insn 0 to 6", -rt::kEINVAL);
  expect_rejected("mov %r0, 0\nexit\nmov %r0, 1\nexit", "unreachable insn 2", -rt::kEINVAL);
  expect_rejected("mov %r0, 1\ndiv %r0, 0\nexit", "div by zero", -rt::kEINVAL);
  expect_rejected("mov %r0, 1\nlsh %r0, 64\nexit", "invalid shift 64", -rt::kEINVAL);
  expect_rejected("mov %r10, 1\nmov %r0, 0\nexit", "frame pointer is read only", -rt::kEINVAL);
  expect_rejected("mov %r0, 0", "last insn is not an exit or jmp", -rt::kEINVAL);
  expect_rejected("ja +1\nlddw %r0, 1\nexit", "jump into the middle of ldimm64 insn 1", -rt::kEINVAL);
  std::vector<Insn> bad = program("mov %r0, 0\nexit");
  bad[0].opcode = 0xff;
  std::string log(4096, '\0');
  VerifierOptions options;
  options.allocator = &allocator_;
  options.log = log.data();
  options.log_size = 4096;
  options.log_level = 1;
  EXPECT_EQ(verify(bad.data(), 2, options).error, -rt::kEINVAL);
  EXPECT_NE(log.find("invalid BPF_ALU opcode f0"), std::string::npos) << log.c_str();
  bad[0].opcode = 0x20;  // LD_ABS: packet access, not for tracing programs
  EXPECT_EQ(verify(bad.data(), 2, options).error, -rt::kEINVAL);
  EXPECT_NE(std::string(log.c_str()).find("BPF_LD_[ABS|IND] instructions not allowed"), std::string::npos);
  bad = program("mov %r0, 0\nexit");
  bad[0].src = 3;  // reserved field of a K-form ALU
  EXPECT_EQ(verify(bad.data(), 2, options).error, -rt::kEINVAL);
}

TEST_F(VerifierTest, HelperCallsAreCheckedAgainstPrototypes) {
  expect_rejected("call 999\nexit", "invalid func unknown#999", -rt::kEINVAL);
  expect_rejected("mov %r1, 0\nmov %r2, 0\ncall 1\nmov %r0, 0\nexit", "R1 type=scalar expected=map_ptr");
  expect_rejected("lddw %r1, MAP\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r0, 0\nexit",
                  "invalid indirect read from stack R2 off -4+0 size 4");
  expect_rejected("mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\nmov %r3, 0\ncall 113\nmov %r0, %r1\nexit", "R1 !read_ok");
  // Helper-filled memory becomes readable.
  expect_accepted("mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\nmov %r3, 0\ncall 113\nldxdw %r0, [%r10-16]\nexit");
  expect_accepted("mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\ncall 16\nldxb %r0, [%r10-1]\nexit");
  expect_rejected("mov %r1, %r10\nadd %r1, -8\nmov %r2, 16\ncall 16\nmov %r0, 0\nexit", "invalid indirect access to stack R1 off=-8 size=16");
  expect_rejected("mov %r1, %r10\nadd %r1, -8\ncall 7\nmov %r2, %r0\ncall 16\nmov %r0, 0\nexit", "R1 !read_ok");
  expect_rejected("lddw %r2, MAP\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit", "cannot pass map_type 2 into func tail_call#12");
}

TEST_F(VerifierTest, QueueHelpersNeedQueueMapsAndFillTheirBuffer) {
  expect_accepted("lddw %r1, QUEUE\nmov %r2, %r10\nadd %r2, -8\ncall 88\nldxdw %r0, [%r10-8]\nexit");
  expect_rejected("stdw [%r10-8], 1\nlddw %r1, QUEUE\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 0\ncall 2\nmov %r0, 0\nexit",
                  "cannot pass map_type 22 into func map_update_elem#2");
  expect_rejected("lddw %r1, MAP\nmov %r2, %r10\nadd %r2, -8\ncall 88\nmov %r0, 0\nexit",
                  "cannot pass map_type 2 into func map_pop_elem#88");
  expect_rejected("lddw %r1, QUEUE\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 0\ncall 87\nmov %r0, 0\nexit",
                  "invalid indirect read from stack R2 off -8+0 size 8");
}

TEST_F(VerifierTest, TracePrintkNeedsAnInitialisedFormatOfKnownSize) {
  expect_accepted("stdw [%r10-8], 0x0a6968\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 6\nexit");
  expect_rejected("mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 6\nexit", "invalid indirect read from stack R1 off -8+0 size 8");
  expect_rejected("stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 6\nexit", "R2 invalid zero-sized read");
  expect_rejected("stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\ncall 7\nmov %r2, %r0\ncall 6\nexit", "R1 !read_ok");
  expect_rejected("stdw [%r10-8], 0\nmov %r6, %r10\nadd %r6, -8\ncall 7\nmov %r1, %r6\nmov %r2, %r0\ncall 6\nexit",
                  "R2 min value is negative");
  expect_rejected("stdw [%r10-8], 0\nmov %r6, %r10\nadd %r6, -8\ncall 5\nrsh %r0, 1\nmov %r1, %r6\nmov %r2, %r0\ncall 6\nexit",
                  "R2 unbounded memory access");
  expect_rejected("stdw [%r10-8], 0\nmov %r6, %r10\nadd %r6, -8\ncall 5\nand %r0, 15\nadd %r0, 1\nmov %r1, %r6\nmov %r2, %r0\ncall 6\nexit",
                  "invalid indirect access to stack R1 off=-8 size=16");
}

TEST_F(VerifierTest, StackAndFunctionIpHelpersTakeTheContext) {
  expect_accepted("mov %r6, %r1\ncall 173\nmov %r1, %r6\nmov %r2, %r10\nadd %r2, -64\nmov %r3, 64\nmov %r4, 0\ncall 67\n"
                  "ldxdw %r0, [%r10-64]\nexit");
  expect_rejected("mov %r1, %r10\ncall 173\nexit", "R1 type=fp expected=ctx");
  expect_rejected("mov %r2, %r10\nadd %r2, -8\nmov %r3, 16\nmov %r4, 0\ncall 67\nexit", "invalid indirect access to stack R2 off=-8 size=16");
}

TEST_F(VerifierTest, RingbufReservationsMustBeCheckedBoundedAndReleased) {
  std::string reserve = "lddw %r1, RING\nmov %r2, 16\nmov %r3, 0\ncall 131\n";
  expect_accepted(reserve + "jeq %r0, 0, out\nstdw [%r0+8], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit");
  expect_accepted(reserve + "jeq %r0, 0, out\nmov %r1, %r0\nmov %r2, 0\ncall 133\nout:\nmov %r0, 0\nexit");
  expect_rejected(reserve + "stdw [%r0+0], 1\nmov %r0, 0\nexit", "R0 invalid mem access 'ringbuf_mem_or_null'");
  expect_rejected(reserve + "jeq %r0, 0, out\nstdw [%r0+16], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit",
                  "invalid access to memory, mem_size=16 off=16 size=8");
  expect_rejected(reserve + "jeq %r0, 0, out\nstdw [%r0+0], 1\nout:\nmov %r0, 0\nexit", "Unreleased reference id=");
  // A huge variable offset is rejected, not wrapped into range.
  expect_rejected(reserve + "jeq %r0, 0, out\nmov %r6, %r0\ncall 7\nrsh %r0, 1\nadd %r6, 8\nadd %r6, %r0\n"
                            "stb [%r6+0], 1\nmov %r1, %r6\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit",
                  "invalid access to memory, mem_size=16");
  expect_rejected(reserve + "jeq %r0, 0, out\nmov %r6, %r0\nmov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r1, %r6\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit",
                  "R1 type=scalar expected=ringbuf_mem");
  expect_rejected(reserve + "jeq %r0, 0, out\nadd %r0, 8\nmov %r1, %r0\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit",
                  "R1 must have zero offset when passed to release func");
  expect_rejected("call 7\nmov %r2, %r0\nlddw %r1, RING\nmov %r3, 0\ncall 131\nmov %r0, 0\nexit", "R2 is not a known constant");
  expect_rejected("lddw %r1, MAP\nmov %r2, 16\nmov %r3, 0\ncall 131\nmov %r0, 0\nexit", "cannot pass map_type 2 into func ringbuf_reserve#131");
  expect_rejected(std::string("stw [%r10-4], 0\nlddw %r1, MAP\nmov %r2, %r10\nadd %r2, -4\nmov %r3, 0\ncall 195\nmov %r0, 0\nexit"),
                  "cannot pass map_type 2 into func map_lookup_percpu_elem#195");
  expect_accepted("stdw [%r10-8], 5\nlddw %r1, RING\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 8\nmov %r4, 0\ncall 130\nexit");
}

TEST_F(VerifierTest, BpfToBpfCallsAndTheirLimits) {
  expect_accepted("mov %r1, 5\ncall local f\nexit\nf:\nmov %r0, %r1\nadd %r0, 1\nexit");
  expect_rejected("call local f\nexit\nf:\ncall local f\nexit", "the call stack of 9 frames is too deep");
  expect_rejected("stdw [%r10-8], 0\ncall local f\nexit\nf:\nstdw [%r10-512], 0\nmov %r0, 0\nexit",
                  "combined stack size of 2 calls is 520. Too large");
  // Callee-saved registers survive; scratch registers do not.
  expect_accepted("mov %r6, 1\ncall local f\nmov %r0, %r6\nexit\nf:\nmov %r0, 0\nexit");
  expect_rejected("mov %r1, 1\ncall local f\nmov %r0, %r1\nexit\nf:\nmov %r0, 0\nexit", "R1 !read_ok");
}

TEST_F(VerifierTest, CallbacksAreVerifiedAsFunctions) {
  // bpf_loop(10, cb, NULL, 0) with cb returning 0.
  std::string loop = "mov %r1, 10\nlddw %r2, 0\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\n";
  std::vector<Insn> ok = program("mov %r1, 10\nlddw %r2, 0\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\nmov %r0, 0\nexit");
  ok[1].src = kPseudoFunc;
  ok[1].imm = 5;  // instruction 7: the callback (1 + 5 + 1)
  std::string log(1 << 16, '\0');
  VerifierOptions options;
  options.allocator = &allocator_;
  options.log = log.data();
  options.log_size = static_cast<uint32_t>(log.size());
  options.log_level = 2;
  EXPECT_EQ(verify(ok.data(), static_cast<uint32_t>(ok.size()), options).error, 0) << log.c_str();
  std::vector<Insn> bad = program("mov %r1, 10\nlddw %r2, 0\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\nmov %r0, 5\nexit");
  bad[1].src = kPseudoFunc;
  bad[1].imm = 5;
  EXPECT_EQ(verify(bad.data(), static_cast<uint32_t>(bad.size()), options).error, -rt::kEACCES);
  EXPECT_NE(std::string(log.c_str()).find("At callback return the register R0"), std::string::npos);
  (void)loop;
}

TEST_F(VerifierTest, ForEachMapElemCallbacksSeeKeyAndValue) {
  auto verify_callback = [&](const std::string& callback) {
    std::vector<Insn> insns = program("lddw %r1, MAP\nlddw %r2, 0\nmov %r3, 0\nmov %r4, 0\ncall 164\nexit\n" + callback);
    insns[2].src = kPseudoFunc;
    insns[2].imm = 5;  // instruction 2 + 5 + 1 = 8: the callback
    std::string log(1 << 16, '\0');
    VerifierOptions options;
    options.allocator = &allocator_;
    options.log = log.data();
    options.log_size = static_cast<uint32_t>(log.size());
    options.log_level = 1;
    int error = verify(insns.data(), static_cast<uint32_t>(insns.size()), options).error;
    return std::make_pair(error, std::string(log.c_str()));
  };
  auto ok = verify_callback("ldxw %r0, [%r2+0]\nldxdw %r0, [%r3+0]\nmov %r0, 0\nexit");
  EXPECT_EQ(ok.first, 0) << ok.second;
  auto write_key = verify_callback("stw [%r2+0], 1\nmov %r0, 0\nexit");
  EXPECT_EQ(write_key.first, -rt::kEACCES);
  EXPECT_NE(write_key.second.find("R2 cannot write into map_key"), std::string::npos) << write_key.second;
  auto past_key = verify_callback("ldxdw %r0, [%r2+0]\nmov %r0, 0\nexit");
  EXPECT_NE(past_key.second.find("invalid access to map key, key_size=4 off=0 size=8"), std::string::npos) << past_key.second;
  // An offset of up to 2^63 - 1 past a fixed offset must not wrap around into the key.
  auto huge = verify_callback("ldxdw %r4, [%r3+0]\nrsh %r4, 1\nadd %r2, 8\nadd %r2, %r4\nldxb %r0, [%r2+0]\nmov %r0, 0\nexit");
  EXPECT_EQ(huge.first, -rt::kEACCES) << huge.second;
  EXPECT_NE(huge.second.find("invalid access to map key"), std::string::npos) << huge.second;
  auto past_value = verify_callback("ldxdw %r0, [%r3+8]\nmov %r0, 0\nexit");
  EXPECT_NE(past_value.second.find("invalid access to map value, value_size=8 off=8 size=8"), std::string::npos);
}

TEST_F(VerifierTest, PointerArithmeticRules) {
  expect_rejected("mov %r0, %r1\nmul %r0, 2\nmov %r0, 0\nexit", "R0 pointer arithmetic with *= operator prohibited");
  expect_rejected("mov %r0, %r1\nand %r0, 2\nmov %r0, 0\nexit", "R0 bitwise operator &= on pointer prohibited");
  expect_rejected("mov %r0, %r10\nadd32 %r0, 1\nmov %r0, 0\nexit", "R0 32-bit pointer arithmetic prohibited");
  expect_rejected("mov %r0, %r10\nadd %r0, %r1\nmov %r0, 0\nexit", "pointer += pointer prohibited");
  expect_accepted("mov %r0, %r10\nsub %r0, %r10\nexit");
  expect_rejected("lddw %r0, MAP\nadd %r0, 8\nmov %r0, 0\nexit", "R0 pointer arithmetic on map_ptr prohibited");
}

TEST_F(VerifierTest, LogLevelsFollowLinux) {
  // Bad log arguments.
  EXPECT_EQ(check("mov %r0, 0\nexit", 1, ProgramType::kKprobe, 64).error, -rt::kEINVAL);
  EXPECT_EQ(check("mov %r0, 0\nexit", 8, ProgramType::kKprobe, 4096).error, -rt::kEINVAL);
  EXPECT_EQ(check("mov %r0, 0\nexit", 0, ProgramType::kKprobe, 4096).error, -rt::kEINVAL);
  EXPECT_EQ(check("mov %r0, 0\nexit", 0, ProgramType::kKprobe, 0).error, 0);
  // Level 1 success keeps only the summary; level 2 shows register state.
  Outcome one = check("mov %r0, 0\nexit", 1);
  EXPECT_EQ(one.error, 0);
  EXPECT_EQ(one.log.rfind("processed 2 insns (limit 1000000)", 0), 0u) << one.log;
  Outcome two = check("mov %r0, 0\nexit", 2);
  EXPECT_NE(two.log.find("0: R1=ctx(off=0) R10=fp0\n0: (b7) r0 = 0\n1: R0=0 R1=ctx(off=0) R10=fp0\n1: (95) exit"),
            std::string::npos) << two.log;
  // A log too small for the whole trace: truncated, NUL-terminated, and ENOSPC.
  std::string many;
  for (int i = 0; i < 40; ++i) many += "mov %r0, " + std::to_string(i) + "\n";
  Outcome small = check(many + "exit", 2, ProgramType::kKprobe, 128);
  EXPECT_EQ(small.error, -rt::kENOSPC);
  EXPECT_EQ(small.log.size(), 127u);
  EXPECT_GT(small.result.log_true_size, 128u);
}

}  // namespace
