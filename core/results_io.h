// SPDX-License-Identifier: Apache-2.0
// Results files on disk: written atomically and never overwritten, read with validation.
#pragma once

#include <filesystem>
#include <string>

#include "core/results.h"

namespace cobench::results {

/// Writes `r` as pretty JSON to `path` (atomic; throws if `path` exists).
void write(const std::filesystem::path& path, const Results& r);

/// Reads and validates a results file; errors name the path and the JSON path inside it.
Results read(const std::filesystem::path& path);

/// A file name for a new run that sorts by time: "<utc>_<host>_<tag>.json", with the UTC time
/// "20261129T053000Z"; characters outside [A-Za-z0-9._-] in host and tag become '-'.
std::string default_file_name(const RunHeader& header, std::string_view tag);

}  // namespace cobench::results
