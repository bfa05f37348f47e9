// SPDX-License-Identifier: Apache-2.0
// Whether this test binary is built with AddressSanitizer (the asan preset). A test that repeats
// a slow path whose code another test already runs under the sanitizers takes a smaller size
// here; the Release presets run it whole (README, "Tests").
#pragma once

namespace cobench::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace cobench::test
