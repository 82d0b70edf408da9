// SPDX-License-Identifier: MIT
// Terminal ioctls on the console: termios, window size, the foreground process group.
#include "kernel/syscalls.hpp"
#include "tty/console.hpp"
#include "vfs/vfs.hpp"

namespace posix {

int64_t tty_ioctl(SyscallContext& c, uint64_t request, uint64_t argument) {
  constexpr uint64_t kTcgets = 0x5401, kTcsets = 0x5402, kTcsetsw = 0x5403, kTcsetsf = 0x5404;
  constexpr uint64_t kTiocsctty = 0x540e, kTiocgpgrp = 0x540f, kTiocspgrp = 0x5410;
  constexpr uint64_t kTiocgwinsz = 0x5413, kTiocswinsz = 0x5414, kFionread = 0x541b;
  constexpr uint64_t kTiocnotty = 0x5422, kTiocgsid = 0x5429;
  mm::AddressSpace& memory = user(c);
  switch (request) {
    case kTcgets: return to_rax(memory.copy_out(argument, &tty::termios(), sizeof(tty::Termios)));
    case kTcsets:
    case kTcsetsw:
    case kTcsetsf: {
      tty::Termios settings;
      if (auto r = memory.copy_in(&settings, argument, sizeof(settings)); !r.ok()) {
        return -rt::kEFAULT;
      }
      tty::termios() = settings;
      return 0;
    }
    case kTiocgwinsz:
      return to_rax(memory.copy_out(argument, &tty::window_size(), sizeof(tty::WindowSize)));
    case kTiocswinsz: {
      tty::WindowSize size;
      if (auto r = memory.copy_in(&size, argument, sizeof(size)); !r.ok()) return -rt::kEFAULT;
      tty::window_size() = size;
      return 0;
    }
    case kTiocgpgrp: {
      int group = tty::foreground_group();
      return to_rax(memory.copy_out(argument, &group, 4));
    }
    case kTiocspgrp: {
      int group;
      if (auto r = memory.copy_in(&group, argument, 4); !r.ok()) return -rt::kEFAULT;
      if (group <= 0) return -rt::kEINVAL;
      tty::foreground_group() = group;
      return 0;
    }
    case kTiocgsid: {
      int session = c.process->sid;
      return to_rax(memory.copy_out(argument, &session, 4));
    }
    case kFionread: {
      bool eof = false;
      int available = static_cast<int>(tty::readable(eof));
      return to_rax(memory.copy_out(argument, &available, 4));
    }
    case kTiocsctty:
    case kTiocnotty: return 0;
    default: return -rt::kEINVAL;  // GAP: other terminal ioctls (Linux: ENOTTY or EINVAL by driver)
  }
}

}  // namespace posix
