// SPDX-License-Identifier: Apache-2.0
// Text from inputs (benchmark names, file names, model and cluster names, notes) placed into
// Markdown that a renderer such as GitHub turns into HTML: escaped so that it shows as the same
// text and can make no HTML element, link, image or table cell of its own.
#pragma once

#include <string>
#include <string_view>

namespace cobench {

/// Plain text for Markdown, in a paragraph, a list item, a heading or a table cell: '<', '>' and
/// '&' become HTML entities (no raw HTML, no autolink, no entity of the input's own); '\', '`',
/// '*', '[', ']', '|' and '~' are escaped with a backslash (no code span, emphasis, link, image or
/// cell boundary; '_' is left alone: within a word, as in BM_Fp8Gemm, it is no emphasis); a line
/// break becomes a space (the text stays in its paragraph or row).
std::string markdown_text(std::string_view s);

/// Inline code (`s`) outside a table: shown verbatim, no HTML or link inside; a backtick in `s`
/// becomes ' (it would end the span) and a line break a space (a blank line would end it).
std::string markdown_code(std::string_view s);

}  // namespace cobench
