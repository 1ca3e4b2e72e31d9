// RunStore::step_curve: a per-step series downsampled to min/max/mean buckets (step_curve.h): for a
// long run's loss one GROUP BY over its 64-step blocks (step_blocks), otherwise one aggregate query
// per bucket over an index range (loss: the covering index step_metrics_curve).

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "engine/store/run_store.h"
#include "engine/store/sqlite_db.h"

namespace lorica {

namespace {

const char* column_of(StepSeries series) {
    switch (series) {
        case StepSeries::loss:
            return "loss";
        case StepSeries::lr:
            return "lr";
        case StepSeries::step_ms:
            return "step_ms";
    }
    return "loss";
}

// One bucket from a row whose columns from `first` on are (first_step, last_step, points, min, max,
// mean); an all-NaN bucket (SQL NULL aggregates) reads as NaN.
CurveBucket bucket_from(const Statement& st, int first) {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    CurveBucket c;
    c.first_step = st.column_int64(first);
    c.last_step = st.column_int64(first + 1);
    c.points = st.column_int64(first + 2);
    const bool all_nan = st.column_is_null(first + 3);
    c.min = all_nan ? kNaN : st.column_double(first + 3);
    c.max = all_nan ? kNaN : st.column_double(first + 4);
    c.mean = all_nan ? kNaN : st.column_double(first + 5);
    return c;
}

}  // namespace

std::vector<CurveBucket> RunStore::step_curve(int64_t run_id, StepSeries series, int max_buckets) const {
    if (max_buckets < 1)
        throw std::invalid_argument("step curve of run " + std::to_string(run_id) + ": max_buckets must be >= 1, got " +
                                    std::to_string(max_buckets));
    std::vector<CurveBucket> out;
    with_database([&](Database& db) {
        // Two subqueries: each min/max alone is one index seek; together in one SELECT they scan the run.
        Statement range(db,
                        "SELECT (SELECT min(step) FROM step_metrics WHERE run_id = ?1), "
                        "(SELECT max(step) FROM step_metrics WHERE run_id = ?1)");
        range.bind_int64(1, run_id);
        if (!range.step() || range.column_is_null(0)) return;
        const int64_t lo = range.column_int64(0);
        const int64_t hi = range.column_int64(1);
        range.reset();
        const int64_t width = hi - lo + 1;  // steps spanned
        const int64_t buckets = std::min<int64_t>(max_buckets, width);
        if (series == StepSeries::loss && width >= kBlockCurveMinBlocksPerBucket * kStepBlockSize * buckets) {
            const int64_t k_lo = lo >> 6, k_count = (hi >> 6) - k_lo + 1;
            Statement st(db,
                         "SELECT ((block - ?2) * ?3) / ?4 AS b, min(first_step), max(last_step), sum(points), "
                         "min(loss_min), max(loss_max), sum(loss_sum) / sum(loss_n) "
                         "FROM step_blocks WHERE run_id = ?1 GROUP BY b ORDER BY b");
            st.bind_int64(1, run_id).bind_int64(2, k_lo).bind_int64(3, buckets).bind_int64(4, k_count);
            while (st.step()) out.push_back(bucket_from(st, 1));
            return;
        }
        const std::string col = column_of(series);
        Statement bucket(db, "SELECT min(step), max(step), count(*), min(" + col + "), max(" + col + "), avg(" + col +
                                 ") FROM step_metrics WHERE run_id = ?1 AND step >= ?2 AND step < ?3");
        out.reserve(static_cast<std::size_t>(buckets));
        for (int64_t b = 0; b < buckets; ++b) {
            // Bucket b holds the steps s with floor((s - lo) * buckets / width) == b.
            const int64_t begin = lo + (b * width + buckets - 1) / buckets;
            const int64_t end = lo + ((b + 1) * width + buckets - 1) / buckets;
            bucket.bind_int64(1, run_id).bind_int64(2, begin).bind_int64(3, end);
            if (bucket.step() && bucket.column_int64(2) > 0) out.push_back(bucket_from(bucket, 0));
            bucket.reset();
        }
    });
    return out;
}

}  // namespace lorica
