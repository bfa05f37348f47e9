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

/// Writes `content` atomically under `path`, or, when that name is taken (another run in the same
/// second, a race), under "<stem>-<pid>-<random>.<ext>" beside it: the content is never lost to a
/// name clash and nothing is overwritten. Returns the path written. Throws cobench::Error on any
/// other I/O error; the temporary file is removed in every case.
std::filesystem::path write_file_atomic_unique(const std::filesystem::path& path,
                                               std::string_view content);

/// Throws cobench::Error unless a new file can be created in `dir`: it exists, is a directory,
/// and takes a file (tried: a temporary file is created and removed), so that a run can refuse
/// an unusable output directory before it measures anything. `what` starts the message, e.g.
/// "--out 'results/x'": "--out 'results/x': no such directory".
void check_writable_directory(const std::filesystem::path& dir, std::string_view what);

/// The most bytes read_file reads (a results file of a million records is a few hundred MB).
inline constexpr std::uintmax_t kMaxReadFileBytes = std::uintmax_t{1} << 30;

/// Reads a whole regular file of at most kMaxReadFileBytes; throws cobench::Error naming the path
/// when it cannot, when the path is not a regular file (a directory; /dev/zero or a FIFO, which
/// would be read without end) or when the file is larger.
std::string read_file(const std::filesystem::path& path);

}  // namespace cobench
