// SPDX-License-Identifier: MIT
// COM1 driven through IoPorts caps, with a Linux n_tty-like line discipline.
#include "tty/console.hpp"

#include <stdarg.h>

#include "rt/format.hpp"
#include "sys/ipc.hpp"
#include "sys/syscall.hpp"

namespace posix::tty {

namespace {

namespace abi = sonde::abi;
using abi::Label;

constexpr uint64_t kCom1 = 0x3f8;
constexpr uint64_t kCom2 = 0x2f8;

// termios bits (asm-generic/termbits.h).
constexpr uint32_t kICRNL = 0000400;
constexpr uint32_t kOPOST = 0000001;
constexpr uint32_t kONLCR = 0000004;
constexpr uint32_t kISIG = 0000001;
constexpr uint32_t kICANON = 0000002;
constexpr uint32_t kECHO = 0000010;
constexpr uint32_t kECHOE = 0000020;
constexpr uint32_t kECHOK = 0000040;
constexpr uint32_t kECHOCTL = 0001000;
constexpr uint32_t kECHOKE = 0004000;
constexpr uint32_t kIEXTEN = 0100000;
enum ControlChar {
  kVINTR = 0,
  kVQUIT = 1,
  kVERASE = 2,
  kVKILL = 3,
  kVEOF = 4,
  kVTIME = 5,
  kVMIN = 6,
  kVSUSP = 10
};

uint64_t com1 = 0;
uint64_t com2 = 0;
Termios settings;
WindowSize window{24, 80, 0, 0};
int foreground = 1;

// Input: the line being edited, and bytes ready for readers (a ring).
char line[4096];
size_t line_length = 0;
char ready[8192];
size_t ready_head = 0, ready_count = 0;
size_t eof_marks = 0;  // ^D in canonical mode: a read returns what is there, or 0

uint64_t port_in(uint64_t ports, uint64_t port) {
  sys::MessageRegisters out;
  uint64_t words[] = {port};
  if (sys::invoke(ports, Label::kIoPortsIn8, words, 1, &out) != abi::Error::kNone) return 0;
  return out.word[0];
}
void port_out(uint64_t ports, uint64_t port, uint64_t value) {
  uint64_t words[] = {port, value};
  (void)sys::invoke(ports, Label::kIoPortsOut8, words);
}

void put_raw(uint64_t ports, uint64_t base, char c) {
  if (ports == 0) return;
  for (int spin = 0; spin < 100000 && (port_in(ports, base + 5) & 0x20) == 0; ++spin) {
  }
  port_out(ports, base, static_cast<uint8_t>(c));
}

void put(char c) {
  if (c == '\n' && (settings.c_oflag & kOPOST) != 0 && (settings.c_oflag & kONLCR) != 0) {
    put_raw(com1, kCom1, '\r');
  }
  put_raw(com1, kCom1, c);
}

void echo(char c) {
  if ((settings.c_lflag & kECHO) == 0) return;
  auto byte = static_cast<uint8_t>(c);
  if ((settings.c_lflag & kECHOCTL) != 0 && byte < 32 && c != '\n' && c != '\t') {
    put('^');
    put(static_cast<char>(byte + 64));
    return;
  }
  put(c);
}

void push_ready(char c) {
  if (ready_count == sizeof(ready)) return;  // a full queue drops input, as Linux does
  ready[(ready_head + ready_count) % sizeof(ready)] = c;
  ++ready_count;
}

// One input byte through the line discipline; returns a signal number or 0.
int discipline(char c) {
  if (c == '\r' && (settings.c_iflag & kICRNL) != 0) c = '\n';
  const uint8_t* cc = settings.c_cc;
  if ((settings.c_lflag & kISIG) != 0) {
    if (c == static_cast<char>(cc[kVINTR])) {
      echo(c);
      line_length = 0;
      return 2;  // SIGINT
    }
    if (c == static_cast<char>(cc[kVQUIT])) {
      echo(c);
      line_length = 0;
      return 3;  // SIGQUIT
    }
    if (c == static_cast<char>(cc[kVSUSP])) {
      echo(c);
      return 20;  // SIGTSTP
    }
  }
  if ((settings.c_lflag & kICANON) == 0) {
    push_ready(c);
    echo(c);
    return 0;
  }
  if (c == static_cast<char>(cc[kVERASE]) || c == '\b') {
    if (line_length > 0) {
      --line_length;
      if ((settings.c_lflag & kECHO) != 0 && (settings.c_lflag & kECHOE) != 0) {
        put('\b');
        put(' ');
        put('\b');
      }
    }
    return 0;
  }
  if (c == static_cast<char>(cc[kVKILL])) {
    while (line_length > 0) {
      --line_length;
      if ((settings.c_lflag & kECHO) != 0 && (settings.c_lflag & (kECHOK | kECHOKE)) != 0) {
        put('\b');
        put(' ');
        put('\b');
      }
    }
    return 0;
  }
  if (c == static_cast<char>(cc[kVEOF])) {
    for (size_t i = 0; i < line_length; ++i) push_ready(line[i]);
    line_length = 0;
    ++eof_marks;
    return 0;
  }
  if (line_length < sizeof(line)) line[line_length++] = c;
  echo(c);
  if (c == '\n') {
    for (size_t i = 0; i < line_length; ++i) push_ready(line[i]);
    line_length = 0;
  }
  return 0;
}

struct LogBuffer {
  char data[256];
  size_t used;
};
void log_flush(LogBuffer& b) {
  for (size_t i = 0; i < b.used; ++i) {
    if (com2 != 0) {
      if (b.data[i] == '\n') put_raw(com2, kCom2, '\r');
      put_raw(com2, kCom2, b.data[i]);
    }
  }
  if (com2 == 0) sys::debug_write(b.data, b.used);
  b.used = 0;
}
void log_sink(void* state, char c) {
  auto* b = static_cast<LogBuffer*>(state);
  if (b->used == sizeof(b->data)) log_flush(*b);
  b->data[b->used++] = c;
}

}  // namespace

void init(uint64_t com1_ports, uint64_t com2_ports) {
  com1 = com1_ports;
  // A missing UART reads as all ones: keep COM2 only if its scratch register holds a byte.
  if (com2_ports != 0) {
    port_out(com2_ports, kCom2 + 7, 0x5a);
    if (port_in(com2_ports, kCom2 + 7) == 0x5a) com2 = com2_ports;
  }
  // Debian's defaults for a serial console: icrnl ixon, opost onlcr, cs8 cread,
  // isig icanon echo echoe echok echoctl echoke iexten.
  settings.c_iflag = kICRNL | 02000;
  settings.c_oflag = kOPOST | kONLCR;
  settings.c_cflag = 0000060 | 0000200 | 0000015;  // CS8 | CREAD | B38400
  settings.c_lflag = kISIG | kICANON | kECHO | kECHOE | kECHOK | kECHOCTL | kECHOKE | kIEXTEN;
  const uint8_t cc[19] = {3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0};
  for (int i = 0; i < 19; ++i) settings.c_cc[i] = cc[i];
  // Receive interrupts on, with OUT2 so the line reaches the interrupt controller.
  port_out(com1, kCom1 + 1, 0x01);
  port_out(com1, kCom1 + 4, port_in(com1, kCom1 + 4) | 0x08);
}

void write(const char* bytes, size_t length) {
  for (size_t i = 0; i < length; ++i) put(bytes[i]);
}

void log(const char* format, ...) {
  LogBuffer buffer;
  buffer.used = 0;
  va_list arguments;
  va_start(arguments, format);
  rt::vformat(log_sink, &buffer, format, arguments);
  va_end(arguments);
  log_flush(buffer);
}

int receive() {
  int signal = 0;
  for (int i = 0; i < 4096 && (port_in(com1, kCom1 + 5) & 0x01) != 0; ++i) {
    int raised = discipline(static_cast<char>(port_in(com1, kCom1)));
    if (raised != 0) signal = raised;
  }
  return signal;
}

size_t readable(bool& eof) {
  eof = false;
  if ((settings.c_lflag & kICANON) == 0) return ready_count;
  // Canonical: a whole line (or what ^D pushed) must be there.
  for (size_t i = 0; i < ready_count; ++i) {
    if (ready[(ready_head + i) % sizeof(ready)] == '\n') return i + 1;
  }
  if (eof_marks > 0) {
    eof = ready_count == 0;
    return ready_count;
  }
  return 0;
}

size_t read(char* out, size_t length) {
  bool eof = false;
  size_t available = readable(eof);
  if (eof) {
    --eof_marks;
    return 0;
  }
  if (available > length) available = length;
  for (size_t i = 0; i < available; ++i) {
    out[i] = ready[ready_head];
    ready_head = (ready_head + 1) % sizeof(ready);
    --ready_count;
  }
  if ((settings.c_lflag & kICANON) != 0 && eof_marks > 0 && ready_count == 0) --eof_marks;
  return available;
}

Termios& termios() { return settings; }
WindowSize& window_size() { return window; }
int& foreground_group() { return foreground; }

}  // namespace posix::tty
