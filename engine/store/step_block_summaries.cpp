// The store's per-block loss summaries (table step_blocks, schema v6; step_curve.h): each block holds
// the steps s with s >> 6 == block (kStepBlockSize = 64 steps) of one run, with first/last step, the
// number of stored steps (`points`, NaN losses included) and min/max/sum/count of the non-NaN losses
// (all NULL and count 0 when every loss of the block is NaN). Kept equal to an aggregate over
// step_metrics: every batch of steps is folded into the blocks it touches in the batch's transaction.

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/store/run_store_impl.h"

namespace lorica {

// Folds the steps' losses into their 64-step blocks (schema v6, step_curve.h): one upsert per block
// touched by the batch.
void RunStore::Impl::write_step_blocks(int64_t run_id, const std::vector<StepMetrics>& steps) {
    struct Block {
        int64_t first = 0, last = 0, points = 0, n = 0;
        double min = 0, max = 0, sum = 0;
    };
    std::map<int64_t, Block> blocks;
    for (const auto& s : steps) {
        auto [it, fresh] = blocks.try_emplace(s.step >> 6);
        Block& b = it->second;
        if (fresh) b.first = b.last = s.step;
        b.first = std::min(b.first, s.step);
        b.last = std::max(b.last, s.step);
        ++b.points;
        if (std::isnan(s.loss)) continue;
        if (b.n == 0) b.min = b.max = s.loss;
        b.min = std::min(b.min, s.loss);
        b.max = std::max(b.max, s.loss);
        b.sum += s.loss;
        ++b.n;
    }
    Statement& st = prepared(
        "INSERT INTO step_blocks(run_id, block, first_step, last_step, points, loss_min, loss_max, loss_sum, loss_n) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, block) DO UPDATE SET "
        "first_step = min(first_step, excluded.first_step), last_step = max(last_step, excluded.last_step), "
        "points = points + excluded.points, "
        "loss_min = min(coalesce(loss_min, excluded.loss_min), coalesce(excluded.loss_min, loss_min)), "
        "loss_max = max(coalesce(loss_max, excluded.loss_max), coalesce(excluded.loss_max, loss_max)), "
        "loss_sum = CASE WHEN loss_sum IS NULL THEN excluded.loss_sum WHEN excluded.loss_sum IS NULL THEN loss_sum "
        "ELSE loss_sum + excluded.loss_sum END, loss_n = loss_n + excluded.loss_n");
    for (const auto& [block, b] : blocks) {
        st.bind_int64(1, run_id).bind_int64(2, block).bind_int64(3, b.first).bind_int64(4, b.last);
        st.bind_int64(5, b.points);
        if (b.n > 0)
            st.bind_double(6, b.min).bind_double(7, b.max).bind_double(8, b.sum);
        else
            st.bind_null(6).bind_null(7).bind_null(8);
        st.bind_int64(9, b.n);
        st.execute();
    }
}

}  // namespace lorica
