// SPDX-License-Identifier: Apache-2.0
// Writing result files so that nothing is lost: the content goes to a hidden temporary file in
// the same directory, is flushed to disk, and is then hard-linked to its final name, which fails
// if that name exists. A reader never sees a partial file and an existing file is never replaced.
#pragma once

#include <filesystem>
#include <string_view>

namespace cobench {

/// Writes `content` to `path` atomically. Throws cobench::Error if `path` exists or on any I/O
/// error; the temporary file is removed in every case.
void write_file_atomic_no_overwrite(const std::filesystem::path& path, std::string_view content);

/// Reads a whole file; throws cobench::Error naming the path when it cannot.
std::string read_file(const std::filesystem::path& path);

}  // namespace cobench
