#include "engine/eval/text_table.h"

#include <algorithm>
#include <cstdio>

namespace lorica {
namespace {

size_t display_width(const std::string& text) {
    size_t width = 0;
    for (unsigned char c : text)
        if ((c & 0xC0) != 0x80) ++width;
    return width;
}

}  // namespace

std::string fixed_2(double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.2f", value);
    std::string text = buffer;
    if (text == "-0.00") text = "0.00";
    return text;
}

std::string format_text_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                              size_t left_aligned) {
    std::vector<size_t> widths(header.size(), 0);
    for (size_t c = 0; c < header.size(); ++c) widths[c] = display_width(header[c]);
    for (const auto& row : rows)
        for (size_t c = 0; c < row.size() && c < widths.size(); ++c)
            widths[c] = std::max(widths[c], display_width(row[c]));
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (size_t c = 0; c < widths.size(); ++c) {
            const std::string cell = c < cells.size() ? cells[c] : std::string();
            const std::string pad(widths[c] - std::min(widths[c], display_width(cell)), ' ');
            if (c > 0) out += "  ";
            out += c < left_aligned ? cell + pad : pad + cell;
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();
        return out + "\n";
    };
    std::string text = line(header);
    size_t total = 0;
    for (size_t c = 0; c < widths.size(); ++c) total += widths[c] + (c > 0 ? 2 : 0);
    text += std::string(total, '-') + "\n";
    for (const auto& row : rows) text += line(row);
    return text;
}

}  // namespace lorica
