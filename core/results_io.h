// SPDX-License-Identifier: Apache-2.0
// Results files on disk: written atomically and never overwritten, read with validation.
#pragma once

#include <filesystem>
#include <string>

#include "core/results.h"

namespace cobench::results {

/// The document `r` would be written as, checked by the rules a reader applies (from_json): a
/// writer never makes a file that `results validate`, compare or history refuse. Throws an Error
/// "<source>: $.records[0].metrics.time.values[0]: -1 is negative; ...".
std::string checked_text(const Results& r, std::string_view source);

/// Writes `r` as pretty JSON to `path` (atomic; throws if `path` exists, or, before anything is
/// written, if a reader would refuse the document).
void write(const std::filesystem::path& path, const Results& r);

/// Reads and validates a results file; errors name the path and the JSON path inside it.
Results read(const std::filesystem::path& path);

/// A file name for a new run that sorts by time: "<utc>_<host>_<tag>.json", with the UTC time
/// "20261129T053000Z"; characters outside [A-Za-z0-9._-] in host and tag become '-', and each is
/// cut to 64 characters.
std::string default_file_name(const RunHeader& header, std::string_view tag);

/// Writes `r` as a new run into the existing directory `dir`: under default_file_name(r.run, tag),
/// or, when another run took that name (the same second), under a unique variant of it
/// ("<utc>_<host>_<tag>-<pid>-<random>.json"); atomic, never overwriting, never losing the run to
/// a name clash. Returns the path written.
std::filesystem::path write_new_run(const std::filesystem::path& dir, const Results& r,
                                    std::string_view tag);

}  // namespace cobench::results
