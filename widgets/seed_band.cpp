#include "widgets/seed_band.h"

#include <algorithm>
#include <cmath>

namespace lorica::widgets {

SeedBand seed_band(const std::vector<std::vector<double>>& series) {
    std::size_t points = 0;
    for (const auto& s : series) points = std::max(points, s.size());
    SeedBand band;
    band.mean.assign(points, 0.0);
    band.std.assign(points, 0.0);
    band.count.assign(points, 0);
    for (std::size_t i = 0; i < points; ++i) {
        double sum = 0.0;
        int n = 0;
        for (const auto& s : series)
            if (i < s.size()) {
                sum += s[i];
                ++n;
            }
        const double mean = sum / n;
        double squares = 0.0;
        for (const auto& s : series)
            if (i < s.size()) squares += (s[i] - mean) * (s[i] - mean);
        band.mean[i] = mean;
        band.std[i] = n > 1 ? std::sqrt(squares / (n - 1)) : 0.0;
        band.count[i] = n;
    }
    return band;
}

}  // namespace lorica::widgets
