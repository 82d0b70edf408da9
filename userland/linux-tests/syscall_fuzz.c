// SPDX-License-Identifier: MIT
// A hostile program: system calls with random numbers and arguments from a fixed seed. It must
// end normally or by a signal, and the system must go on (the script after it checks that).
// Calls that would block for ever, end the process on purpose or touch other processes are
// left out; everything else, with bad pointers, fds and flags, is fair game.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t state = 0x5eed5eed12345678ull;

static uint64_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static int skipped(long number) {
  switch (number) {
    case 0:
    case 1:
    case 7:
    case 17:
    case 18:
    case 19:
    case 20:
    case 23:
    case 34:
    case 40:
    case 35:
    case 15:
    case 56:
    case 57:
    case 58:
    case 59:
    case 60:
    case 61:
    case 62:
    case 101:
    case 130:
    case 169:
    case 200:
    case 202:
    case 230:
    case 231:
    case 234:
    case 247:
    case 270:
    case 271:
    case 322:
    case 435:
    case 128:
    case 129:
    case 297:
    case 24:
    case 158: return 1;  // blocking, ending, signalling or tracing calls; arch_prctl (TLS)
    case 9:
    case 10:
    case 11:
    case 12:
    case 25:
    case 28:
      return 1;  // memory calls could unmap this program's own text (a fine way to die, but
                 // then the rest goes untested); tests/qemu covers them separately
    default: return 0;
  }
}

// epoll_wait, epoll_pwait and epoll_pwait2 on a random epoll fd could wait for ever: they are
// made with a zero timeout instead of being left out.
static const struct { long seconds, nanoseconds; } no_wait;
static void without_waiting(long number, uint64_t a[6]) {
  if (number == 232 || number == 281) a[3] = 0;
  if (number == 441) a[3] = (uint64_t)(uintptr_t)&no_wait;
}

static uint64_t argument(void) {
  switch (next() % 8) {
    case 0: return 0;
    case 1: return next() % 64;                            // small numbers: fds, flags, signals
    case 2: return (uint64_t)-1 - next() % 16;             // small negatives
    case 3: return 0xffff800000000000ull + next() % 4096;  // kernel addresses
    case 4: return 0x400000 + next() % 0x100000;           // inside the program's image
    case 5: return next();
    case 6: return (uint64_t)(uintptr_t) "/tmp";  // a valid string
    default: return next() & 0x7fffffffffffull;   // user addresses, mostly unmapped
  }
}

int main(int argc, char** argv) {
  long count = argc > 1 ? atol(argv[1]) : 20000;
  long made = 0;
  // The report goes out through a descriptor the random calls do not reach (they use < 64).
  int out = dup2(1, 250);
  for (long i = 0; i < count; ++i) {
    long number = (long)(next() % 460);
    if (skipped(number)) continue;
    uint64_t a[6];
    for (int j = 0; j < 6; ++j) a[j] = argument();
    without_waiting(number, a);
    syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
    ++made;
  }
  dprintf(out, "fuzz: %ld system calls made\n", made);
  return 0;
}
