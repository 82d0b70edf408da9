// SPDX-License-Identifier: MIT
// Kernel tests of programs from boot modules, loaded from user mode.
#include "suite.hpp"
#include "sys/loader.hpp"

namespace kernel_tests {

DEFINE_TEST(program_from_boot_module,
            "the ELF boot module `hello` runs in its own VSpace and CSpace") {
  Check t("boot_module_program_runs_in_its_own_vspace_and_cspace");
  const abi::ModuleDescription* module = nullptr;
  for (uint64_t i = 0; i < boot->module_count; ++i) {
    const char* n = boot->modules[i].name;
    if (n[0] == 'h' && n[1] == 'e' && n[2] == 'l' && n[3] == 'l' && n[4] == 'o' && n[5] == '\0') {
      module = &boot->modules[i];
    }
  }
  t.that(module != nullptr, "no boot module named hello");
  if (module == nullptr) return;
  t.that(module->frame_count * 4096 >= module->size + module->offset, "module frames too few");
  constexpr uint64_t kModuleWindow = 0x30000000;
  for (uint64_t i = 0; i < module->frame_count; ++i) {
    t.error(map_anywhere(module->first_slot + i, kVSpace, kModuleWindow + i * 4096, 0),
            Error::kNone, "map a module frame");
  }
  const auto* image = reinterpret_cast<const uint8_t*>(kModuleWindow + module->offset);
  t.that(image[0] == 0x7f && image[1] == 'E', "module is not an ELF file");
  sys::LoaderResources resources{untyped, kRoot, &next_slot, kVSpace, kWindow + 0x30000};
  sys::LoadedProgram program;
  t.error(sys::load_program(image, module->size, 4, resources, program), Error::kNone, "load");
  // A malformed image is refused before anything is made.
  t.error(sys::load_program(image, 64, 4, resources, program), Error::kInvalidArgument,
          "truncated ELF");
  uint64_t endpoint = make(ObjectType::kEndpoint);
  uint64_t cnode = make(ObjectType::kCNode, 4);
  uint64_t mint[] = {1, 4, kRoot, endpoint, 64, abi::kRightWrite, 0x77};
  t.error(sys::invoke(cnode, Label::kCNodeMint, mint), Error::kNone, "endpoint into its CNode");
  uint64_t console[] = {abi::kSlotDebugConsole, 4, kRoot, abi::kSlotDebugConsole, 64};
  t.error(sys::invoke(cnode, Label::kCNodeCopy, console), Error::kNone, "console into its CNode");
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t configure[] = {cnode, abi::cnode_guard_data(0, 60), program.vspace, 0, 0, 0};
  t.error(sys::invoke(tcb, Label::kTcbConfigure, configure), Error::kNone, "configure");
  uint64_t priority[] = {kRootPriority};
  must(sys::invoke(tcb, Label::kTcbSetPriority, priority), "priority");
  abi::UserRegisters registers{};
  registers.rip = program.entry;
  registers.rsp = program.stack_top;
  registers.rflags = 0x202;
  t.that(write_registers(tcb, registers, true) == 0, "start failed");
  sys::MessageRegisters mr;
  auto r = sys::recv(endpoint, 0, mr);
  t.error(r.error, Error::kNone, "no message from the program");
  t.that(r.badge == 0x77 && mr.word[0] == 0x4e110, "wrong message from the program");
  kill(tcb);
}

}  // namespace kernel_tests
