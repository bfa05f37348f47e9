// SPDX-License-Identifier: Apache-2.0
#include "core/control_characters.h"

#include <fmt/format.h>

namespace cobench {
namespace {

bool invisible_mark(unsigned cp) {
  return cp == 0x200E || cp == 0x200F || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string first_control_character(std::string_view text, std::size_t* offset) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned b = byte(i);
    unsigned cp = 0x110000;  // none
    if (b < 0x20 || b == 0x7F) {
      cp = b;
    } else if (b == 0xC2 && i + 1 < text.size() && byte(i + 1) >= 0x80 && byte(i + 1) <= 0x9F) {
      cp = byte(i + 1);  // U+0080-U+009F: C2 80 to C2 9F
    } else if (b == 0xE2 && i + 2 < text.size() && (byte(i + 1) & 0xC0u) == 0x80 &&
               (byte(i + 2) & 0xC0u) == 0x80) {
      const unsigned c = ((b & 0x0Fu) << 12) | ((byte(i + 1) & 0x3Fu) << 6) | (byte(i + 2) & 0x3Fu);
      if (invisible_mark(c)) cp = c;
    }
    if (cp != 0x110000) {
      if (offset) *offset = i;
      return fmt::format("U+{:04X}", cp);
    }
  }
  return "";
}

}  // namespace cobench
