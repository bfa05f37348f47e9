// SPDX-License-Identifier: Apache-2.0
// A minimal kernel for the device smoke test: out[i] = 3 * i + 1 for i < n.
#pragma once

#include <cstddef>

namespace cobench::test {
/// Launches the fill kernel on the default stream and waits for it; throws cobench::Error.
void device_fill(int* out_device, std::size_t n);
}  // namespace cobench::test
