#pragma once
// Mean and spread of one curve measured over several seeds (runs), point by point.
//
// Each input series is one seed's y values at shared x positions (index i = the i-th point of every
// seed). Seeds may have different lengths (a cancelled run is shorter): point i is averaged over the
// seeds that have it, and `count[i]` says how many did. The standard deviation is the sample one
// (divisor n − 1), 0 where only one seed has the point; the plots draw mean ± std as a shaded band.

#include <vector>

namespace lorica::widgets {

struct SeedBand {
    std::vector<double> mean;  // [points]
    std::vector<double> std;   // [points], sample standard deviation (0 where count = 1)
    std::vector<int> count;    // [points], seeds that have point i
};

// series: [seeds][points_of_that_seed]. The result has max_seed(points) entries.
SeedBand seed_band(const std::vector<std::vector<double>>& series);

}  // namespace lorica::widgets
