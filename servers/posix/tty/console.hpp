// SPDX-License-Identifier: MIT
// The serial console: a COM1 driver (output polled, input by interrupt) under a Linux line
// discipline (canonical mode with echo, erase and kill; raw modes for line editors).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace posix::tty {

// Linux's struct termios as TCGETS/TCSETS carry it (asm-generic/termbits.h, 36 bytes).
struct Termios {
  uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
  uint8_t c_line;
  uint8_t c_cc[19];
};
static_assert(sizeof(Termios) == 36);

struct WindowSize {
  uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

void init(uint64_t com1_ports, uint64_t com2_ports);

// Output to the console (the Linux program's view: OPOST/ONLCR apply).
void write(const char* bytes, size_t length);
// Messages of the server itself: to COM2 when there is one, else COM1.
void log(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Drains the receiver (after its interrupt) through the line discipline. Returns the signal
// the input raised for the foreground group (SIGINT for ^C, ...), or 0.
int receive();

// Bytes a read may take now; 0 when the reader must wait (end of file gives `eof`).
size_t readable(bool& eof);
size_t read(char* out, size_t length);

Termios& termios();
WindowSize& window_size();
int& foreground_group();

}  // namespace posix::tty
