#pragma once
// Plain-text tables for terminal reports: columns padded to their widest cell (UTF-8 aware, every
// code point one column wide), the first `left_aligned` columns left-aligned, the others
// right-aligned, two spaces between columns, a header line and a rule of '-' under it.

#include <string>
#include <vector>

namespace lorica {

// rows: each row holds at most header.size() cells (missing cells print empty).
std::string format_text_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                              size_t left_aligned = 1);

// A value with two decimals ("-0.00" printed as "0.00").
std::string fixed_2(double value);

}  // namespace lorica
