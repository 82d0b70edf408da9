// SPDX-License-Identifier: MIT
// elf::demangle: readable names for the symbols panic reports print.
#include "elf/demangle.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

std::string demangled(const char* name, size_t capacity = 128) {
  char buffer[256];
  return elf::demangle(name, buffer, capacity);
}

TEST(Demangle, NestedFunctionNamesLoseTheirParameterTypes) {
  EXPECT_EQ(demangled("_ZN6kernel5panicEPKcz"), "kernel::panic");
  EXPECT_EQ(demangled("_ZN4arch9return_toEPKNS_9TrapFrameE"), "arch::return_to");
  EXPECT_EQ(demangled("_ZNK6kernel8BootInfo11find_moduleEPKc"), "kernel::BootInfo::find_module");
}

TEST(Demangle, AnonymousNamespacesAreNamed) {
  EXPECT_EQ(demangled("_ZN6kernel12_GLOBAL__N_125trigger_kernel_page_faultEv"),
            "kernel::(anonymous namespace)::trigger_kernel_page_fault");
}

TEST(Demangle, PlainAndStaticFunctions) {
  EXPECT_EQ(demangled("_Z5printPKcz"), "print");
  EXPECT_EQ(demangled("_ZL6helperv"), "helper");
}

TEST(Demangle, ConstructorsAndDestructors) {
  EXPECT_EQ(demangled("_ZN2rt9AllocatorC2Ev"), "rt::Allocator::Allocator");
  EXPECT_EQ(demangled("_ZN2rt9AllocatorD0Ev"), "rt::Allocator::~Allocator");
}

TEST(Demangle, UnmangledAndUnknownFormsAreCopied) {
  EXPECT_EQ(demangled("kernel_main"), "kernel_main");
  EXPECT_EQ(demangled(""), "");
  EXPECT_EQ(demangled("_ZTVN2rt9AllocatorE"), "_ZTVN2rt9AllocatorE");        // vtable
  EXPECT_EQ(demangled("_ZN2rt3maxIiEET_S0_S0_"), "_ZN2rt3maxIiEET_S0_S0_");  // template
  EXPECT_EQ(demangled("_ZN3fooC1Ev"), "foo::foo");
  EXPECT_EQ(demangled("_ZNC1Ev"), "_ZNC1Ev");  // constructor with no class
}

TEST(Demangle, MalformedNamesAreCopiedNotOverread) {
  EXPECT_EQ(demangled("_ZN6kern"), "_ZN6kern");      // length past the end
  EXPECT_EQ(demangled("_ZN6kernel"), "_ZN6kernel");  // no closing E
  EXPECT_EQ(demangled("_ZN0E"), "_ZN0E");            // zero length
  EXPECT_EQ(demangled("_ZNE"), "_ZNE");              // empty nested name
  EXPECT_EQ(demangled("_ZN99999999999999999999999aE"), "_ZN99999999999999999999999aE");
  EXPECT_EQ(demangled("_Z"), "_Z");
}

TEST(Demangle, LongResultsAreCutWithAnEllipsis) {
  EXPECT_EQ(demangled("_ZN6kernel5panicEPKcz", 10), "kernel...");
  EXPECT_EQ(demangled("kernel_main", 4), "...");
  EXPECT_EQ(demangled("kernel_main", 2), "k");
  EXPECT_EQ(demangled("abc", 4), "abc");
  char one[1] = {'x'};
  EXPECT_STREQ(elf::demangle("abc", one, 1), "");
  EXPECT_EQ(elf::demangle("abc", nullptr, 0), nullptr);
}

}  // namespace
