#include "widgets/curve_decimation.h"

#include <algorithm>
#include <cmath>

namespace lorica::widgets {

CurvePoints decimate_min_max(const double* x, const double* y, std::size_t n, double x_lower, double x_upper,
                             int columns) {
    CurvePoints out;
    if (n == 0) return out;
    columns = std::max(columns, 1);
    // Visible points: [begin, end).
    const std::size_t begin = static_cast<std::size_t>(std::lower_bound(x, x + n, x_lower) - x);
    const std::size_t end = static_cast<std::size_t>(std::upper_bound(x, x + n, x_upper) - x);
    auto keep = [&](std::size_t i) {
        out.x.push_back(x[i]);
        out.y.push_back(y[i]);
    };
    if (begin > 0) keep(begin - 1);  // the line runs on to the left edge
    if (end - begin <= static_cast<std::size_t>(kPointsPerColumn) * static_cast<std::size_t>(columns) ||
        !(x_upper > x_lower)) {
        for (std::size_t i = begin; i < end; ++i) keep(i);
    } else {
        out.x.reserve(out.x.size() + kPointsPerColumn * static_cast<std::size_t>(columns) + 1);
        out.y.reserve(out.x.capacity());
        std::size_t i = begin;
        for (int column = 0; column < columns && i < end; ++column) {
            // The column's points: [i, j).
            const std::size_t j =
                column == columns - 1
                    ? end
                    : static_cast<std::size_t>(
                          std::lower_bound(x + i, x + end, column_end(x_lower, x_upper, columns, column)) - x);
            if (j == i) continue;
            std::size_t low = i, high = i, nan = end;
            bool has_nan = false;
            for (std::size_t k = i; k < j; ++k) {
                const double v = y[k];
                if (v < y[low]) low = k;
                if (v > y[high]) high = k;
                has_nan |= std::isnan(v);
            }
            if (has_nan) {  // min and max over the numbers; the first NaN kept as the gap
                low = high = end;
                for (std::size_t k = i; k < j; ++k) {
                    if (std::isnan(y[k])) {
                        if (nan == end) nan = k;
                    } else {
                        if (low == end || y[k] < y[low]) low = k;
                        if (high == end || y[k] > y[high]) high = k;
                    }
                }
            }
            std::size_t picks[5] = {i, low, high, j - 1, nan};
            std::sort(picks, picks + 5);
            std::size_t last = end;
            for (std::size_t p : picks)
                if (p != end && p != last) {
                    keep(p);
                    last = p;
                }
            i = j;
        }
    }
    if (end < n) keep(end);  // ... and to the right edge
    return out;
}

}  // namespace lorica::widgets
