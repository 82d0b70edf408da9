// SPDX-License-Identifier: MIT
// The root task: loaded from its boot module, given the boot caps and all free memory.
#include "kernel/task.hpp"

#include "arch/x86_64/cpu.hpp"
#include "elf/elf64.hpp"
#include "kernel/cdt.hpp"
#include "kernel/clock.hpp"
#include "kernel/config.hpp"
#include "kernel/console.hpp"
#include "kernel/device_caps.hpp"
#include "kernel/loader.hpp"
#include "kernel/memory.hpp"
#include "kernel/message.hpp"
#include "kernel/page_table.hpp"
#include "kernel/panic.hpp"
#include "kernel/scheduler.hpp"
#include "kernel/smp.hpp"
#include "kernel/tcb.hpp"
#include "kernel/vspace.hpp"
#include "sonde/abi/clock.hpp"
#include "sonde/abi/invocations.hpp"
#include "sonde/abi/ipc.hpp"
#include "sonde/abi/objects.hpp"
#include "sonde/abi/rights.hpp"
#include "sonde/abi/syscalls.hpp"

namespace kernel {
namespace {

namespace abi = sonde::abi;

uint64_t allocate_page(const char* what) {
  uint64_t frame = frames().allocate();
  if (frame == 0) fatal("boot: out of memory for the root task's %s", what);
  auto* bytes = static_cast<uint64_t*>(physical_to_virtual(frame));
  for (size_t i = 0; i < page::kSize / 8; ++i) bytes[i] = 0;
  return frame;
}

void map_page(PageTable& table, uint64_t address, uint64_t frame, uint64_t flags,
              const char* what) {
  if (table.map(address, frame, flags | page::kPresent | page::kUser | page::kNoExecute) !=
      MapError::kNone) {
    fatal("boot: cannot map the root task's %s at 0x%lx", what, address);
  }
}

// Every free frame becomes untyped memory in consecutive slots from `first`.
uint64_t hand_out_memory(Slot* slots, uint64_t first, uint64_t slot_count, abi::BootInfo& info) {
  uint64_t count = 0;
  uint64_t kept_back = 0;
  uint64_t physical = 0;
  unsigned size_bits = 0;
  while (frames().take_free_block(physical, size_bits)) {
    if (count == abi::kBootInfoMaxUntyped || first + count == slot_count) {
      kept_back += uint64_t{1} << size_bits;
      continue;
    }
    cdt_insert(
        nullptr, &slots[first + count],
        make_cap(ObjectType::kUntyped, reinterpret_cast<uintptr_t>(physical_to_virtual(physical)),
                 static_cast<uint8_t>(size_bits)));
    info.untyped[count] = abi::UntypedDescription{physical, static_cast<uint8_t>(size_bits), {}};
    ++count;
  }
  if (kept_back != 0) {
    printk("kernel: warning: %lu KiB of RAM not handed out (more pieces than untyped slots)\n",
           kept_back / 1024);
  }
  return count;
}

// Every boot module's pages become Frame caps from slot `first`; returns the next free slot.
uint64_t hand_out_modules(const BootInfo& boot, Slot* slots, uint64_t first, uint64_t slot_count,
                          abi::BootInfo& info) {
  uint64_t slot = first;
  for (size_t m = 0; m < boot.module_count && info.module_count < abi::kBootInfoMaxModules; ++m) {
    const BootModule& module = boot.modules[m];
    uint64_t start = module.start & ~(page::kSize - 1);
    uint64_t end = (module.end + page::kSize - 1) & ~(page::kSize - 1);
    uint64_t frames_needed = (end - start) / page::kSize;
    if (slot + frames_needed > slot_count) {
      printk("kernel: warning: no root CNode slots left for boot module %zu\n", m);
      break;
    }
    abi::ModuleDescription& d = info.modules[info.module_count++];
    size_t i = 0;
    for (const char* c = module.command_line; *c != '\0' && *c != ' ' && i + 1 < sizeof(d.name);
         ++c) {
      d.name[i++] = *c;
    }
    d.name[i] = '\0';
    d.physical = module.start;
    d.size = module.end - module.start;
    d.first_slot = slot;
    d.frame_count = frames_needed;
    d.offset = module.start - start;
    for (uint64_t p = start; p < end; p += page::kSize) {
      cdt_insert(nullptr, &slots[slot++],
                 make_cap(ObjectType::kFrame, reinterpret_cast<uintptr_t>(physical_to_virtual(p)),
                          static_cast<uint8_t>(abi::kFrameSmallBits)));
    }
  }
  return slot;
}

// The root CNode's radix: kRootCNodeRadix, larger when the boot modules' pages would take more
// than half of it (a large initramfs), up to kMaxRootCNodeRadix.
unsigned root_cnode_radix(const BootInfo& boot) {
  uint64_t pages = 0;
  for (size_t m = 0; m < boot.module_count; ++m) {
    const BootModule& module = boot.modules[m];
    pages += ((module.end + page::kSize - 1) - (module.start & ~(page::kSize - 1))) / page::kSize;
  }
  unsigned radix = kRootCNodeRadix;
  while (radix < kMaxRootCNodeRadix && pages >= (uint64_t{1} << radix) / 2) ++radix;
  return radix;
}

}  // namespace

void start_root_task(const BootModule& module, const char* name, const BootInfo& boot) {
  const auto* image = static_cast<const uint8_t*>(physical_to_virtual(module.start));
  size_t size = module.end - module.start;
  elf::Executable executable;
  elf::Limits limits{kUserLowest, kRootBootInfo};
  if (elf::ElfError error = elf::parse_executable(image, size, limits, executable);
      error != elf::ElfError::kNone) {
    fatal("boot: root task module '%s' is not a valid ELF executable: %s", name,
          elf::error_message(error));
  }

  uint64_t vspace_frame = frames().allocate_block(static_cast<unsigned>(abi::kVSpaceBits));
  if (vspace_frame == 0) fatal("boot: out of memory creating the root task's address space");
  auto vspace = reinterpret_cast<uintptr_t>(physical_to_virtual(vspace_frame));
  for (uint64_t i = 0; i < (uint64_t{1} << abi::kVSpaceBits) / 8; ++i) {
    reinterpret_cast<uint64_t*>(vspace)[i] = 0;
  }
  vspace_created(vspace);
  uint64_t root = vspace_root(vspace);
  PageTable table(frame_source(), root);
  uint64_t failed_address = 0;
  if (LoadError error = load_executable(table, executable, image, kUserStackTop, kUserStackPages,
                                        &failed_address);
      error != LoadError::kNone) {
    fatal("boot: cannot load root task module '%s' at 0x%lx: %s", name, failed_address,
          load_error_message(error));
  }
  uint64_t info_frame = allocate_page("boot information");
  uint64_t buffer_frame = allocate_page("IPC buffer");
  map_page(table, kRootBootInfo, info_frame, 0, "boot information");
  map_page(table, kRootIpcBuffer, buffer_frame, page::kWritable, "IPC buffer");
  map_page(table, abi::kRootClockPage, clock_page_physical(), 0, "clock page");

  // The root CNode, its TCB, and their caps.
  const unsigned radix = root_cnode_radix(boot);
  uint64_t cnode_bits = radix + abi::kCNodeSlotBits;
  uint64_t cnode_frame = frames().allocate_block(static_cast<unsigned>(cnode_bits));
  if (cnode_frame == 0) fatal("boot: out of memory for the root CNode");
  auto* slots = static_cast<Slot*>(physical_to_virtual(cnode_frame));
  for (uint64_t i = 0; i < (uint64_t{1} << radix); ++i) slots[i] = Slot{};
  auto* tcb = static_cast<Tcb*>(physical_to_virtual(allocate_page("TCB")));

  Capability cnode_cap =
      make_cnode_cap(reinterpret_cast<uintptr_t>(slots), radix, 0, abi::kCptrBits - radix);
  cdt_insert(nullptr, &slots[abi::kSlotRootCNode], cnode_cap);
  cdt_insert(nullptr, &slots[abi::kSlotRootTcb],
             make_cap(ObjectType::kTcb, reinterpret_cast<uintptr_t>(tcb), 0));
  cdt_insert(nullptr, &slots[abi::kSlotRootVSpace], make_cap(ObjectType::kVSpace, vspace, 0));

  cdt_insert(nullptr, &slots[abi::kSlotIrqControl], irq_control_cap());
  cdt_insert(nullptr, &slots[abi::kSlotIoPorts], io_ports_cap(0, 0xffff));
  cdt_insert(nullptr, &slots[abi::kSlotKernelProbes], make_cap(ObjectType::kKernelProbes, 1, 0));
  cdt_insert(nullptr, &slots[abi::kSlotDebugConsole], make_cap(ObjectType::kDebugConsole, 1, 0));
  Capability clock = make_cap(
      ObjectType::kFrame, reinterpret_cast<uintptr_t>(physical_to_virtual(clock_page_physical())),
      static_cast<uint8_t>(abi::kFrameSmallBits));
  clock.rights = abi::kRightRead;  // anyone may read the clock; nobody may change it
  cdt_insert(nullptr, &slots[abi::kSlotClock], clock);

  thread_created(tcb);
  thread_set_name(tcb, name);
  cdt_insert(&slots[abi::kSlotRootCNode], &tcb->cspace_root, cnode_cap);
  cdt_insert(&slots[abi::kSlotRootVSpace], &tcb->vspace, slots[abi::kSlotRootVSpace].cap);
  tcb->ipc_buffer = kRootIpcBuffer;
  tcb->priority = static_cast<uint8_t>(abi::kMaxPriority);
  tcb->max_priority = static_cast<uint8_t>(abi::kMaxPriority);
  tcb->root = true;
  tcb->regs.rip = executable.entry;
  tcb->regs.rsp = kUserStackTop - 8;  // as after a call: rsp + 8 is 16-byte aligned
  tcb->regs.rdi = kRootBootInfo;

  auto* info = static_cast<abi::BootInfo*>(physical_to_virtual(info_frame));
  info->magic = abi::kBootInfoMagic;
  info->root_cnode_radix = radix;
  info->ipc_buffer = kRootIpcBuffer;
  info->cpu_count = cpus_online();
  info->timer_hz = abi::kTimerHz;
  uint64_t slot_count = uint64_t{1} << radix;
  uint64_t next = hand_out_modules(boot, slots, abi::kSlotFirstFree, slot_count, *info);
  info->untyped_first = next;
  info->untyped_count = hand_out_memory(slots, next, slot_count, *info);
  info->first_free_slot = next + info->untyped_count;
  uint64_t total = 0;
  for (uint64_t i = 0; i < info->untyped_count; ++i)
    total += uint64_t{1} << info->untyped[i].size_bits;
  printk("kernel: root task gets %lu untyped caps (%lu KiB)\n", info->untyped_count, total / 1024);
  thread_make_runnable(tcb);
}

bool copy_from_user(void* buffer, uint64_t user_address, size_t length) {
  Tcb* tcb = current_thread();
  return tcb != nullptr && read_thread_memory(tcb, user_address, buffer, length);
}

}  // namespace kernel
