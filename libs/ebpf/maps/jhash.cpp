// SPDX-License-Identifier: MIT
// jhash and jhash2: lookup3's mixing of three words at a time, then its final mix.
#include "maps/jhash.hpp"

namespace ebpf {
namespace {

uint32_t rotate_left(uint32_t word, unsigned shift) {
  return (word << shift) | (word >> (32 - shift));
}

void mix(uint32_t& a, uint32_t& b, uint32_t& c) {
  a -= c, a ^= rotate_left(c, 4), c += b;
  b -= a, b ^= rotate_left(a, 6), a += c;
  c -= b, c ^= rotate_left(b, 8), b += a;
  a -= c, a ^= rotate_left(c, 16), c += b;
  b -= a, b ^= rotate_left(a, 19), a += c;
  c -= b, c ^= rotate_left(b, 4), b += a;
}

void final_mix(uint32_t& a, uint32_t& b, uint32_t& c) {
  c ^= b, c -= rotate_left(b, 14);
  a ^= c, a -= rotate_left(c, 11);
  b ^= a, b -= rotate_left(a, 25);
  c ^= b, c -= rotate_left(b, 16);
  a ^= c, a -= rotate_left(c, 4);
  b ^= a, b -= rotate_left(a, 14);
  c ^= b, c -= rotate_left(b, 24);
}

uint32_t little_endian_word(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

uint32_t jhash2(const uint32_t* k, uint32_t length, uint32_t initval) {
  uint32_t a, b, c;
  a = b = c = 0xdeadbeefu + (length << 2) + initval;
  while (length > 3) {
    a += k[0];
    b += k[1];
    c += k[2];
    mix(a, b, c);
    length -= 3;
    k += 3;
  }
  if (length == 0) return c;
  if (length == 3) c += k[2];
  if (length >= 2) b += k[1];
  a += k[0];
  final_mix(a, b, c);
  return c;
}

uint32_t jhash(const uint8_t* k, uint32_t length, uint32_t initval) {
  uint32_t a, b, c;
  a = b = c = 0xdeadbeefu + length + initval;
  while (length > 12) {
    a += little_endian_word(k);
    b += little_endian_word(k + 4);
    c += little_endian_word(k + 8);
    mix(a, b, c);
    length -= 12;
    k += 12;
  }
  if (length == 0) return c;
  // The last 1..12 bytes, each at its place in a, b or c.
  uint32_t* words[3] = {&a, &b, &c};
  for (uint32_t i = 0; i < length; ++i) *words[i / 4] += uint32_t{k[i]} << (8 * (i % 4));
  final_mix(a, b, c);
  return c;
}

}  // namespace ebpf
