#pragma once
// Min/max decimation of a long curve to the pixel columns that show it.
//
// A 100,000-step loss curve drawn into an 800-pixel-wide chart has ~125 points per pixel column:
// drawing them all costs time and shows nothing more than each column's extremes. `decimate_min_max`
// keeps, for each of `columns` equal-width intervals of the visible x-range [x_lower, x_upper], the
// first, the lowest, the highest and the last point of the interval (in x order; one point when they
// coincide) — so a one-step spike stays visible at every zoom, and the line between columns joins the
// same points as the full curve does. One point on each side just outside the range is kept as well,
// so the line runs on to the chart's edges. A column holding a NaN keeps one NaN (the gap QCustomPlot
// draws for it).
//
// Result: at most 4 × columns + 2 points (one more per column that holds a NaN), in x order, each one a point of the input (no new values).
// A curve with at most 4 × columns visible points comes back with all of them.
// Torch- and Qt-free: usable on any thread (the reader thread pre-decimates stored curves).

#include <cstddef>
#include <vector>

namespace lorica::widgets {

struct CurvePoints {
    std::vector<double> x, y;
    std::size_t size() const { return x.size(); }
};

inline constexpr int kPointsPerColumn = 4;  // first, min, max, last

// Column c of `columns` over [lower, upper] holds the x with column_end(c − 1) ≤ x < column_end(c)
// (the last column also holds x = upper).
inline double column_end(double lower, double upper, int columns, int c) {
    return lower + (upper - lower) * static_cast<double>(c + 1) / static_cast<double>(columns);
}

// `x` ascending (ties allowed), `y` the same length; `columns` ≥ 1; x_lower < x_upper.
CurvePoints decimate_min_max(const double* x, const double* y, std::size_t n, double x_lower, double x_upper,
                             int columns);
inline CurvePoints decimate_min_max(const std::vector<double>& x, const std::vector<double>& y, double x_lower,
                                    double x_upper, int columns) {
    return decimate_min_max(x.data(), y.data(), x.size() < y.size() ? x.size() : y.size(), x_lower, x_upper, columns);
}

}  // namespace lorica::widgets
