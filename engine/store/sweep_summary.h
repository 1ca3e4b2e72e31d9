#pragma once
// Summaries of an experiment's variants (variant_spec.h): one row per variant with its metrics as
// mean ± std over the variant's seeds, and the rank-sweep analysis (foundation and downstream
// forgetting against the LoRA rank).
//
// Rank sweep (AnalysisKey::rank_sweep, analysis_names.h): every finished run of a sweep over
// method.rank stores two points, x = its rank:
//   series "foundation_forgetting"  y = F(−1) − F(T), the foundation task's drop over the stream (%)
//   series "downstream_forgetting"  y = forgetting (init) = mean_{j<T} (R[j][j] − R[T][j]) (%)
// computed from the run's primary head mode (RunFacts::primary_head_mode: task-IL for task-incremental
// streams, else class-IL).
// A metric that is not computable (no foundation task, one stream task) gives no point.
// The sweep table aggregates these points over the seeds of each rank.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/eval/cost_table.h"
#include "engine/eval/metrics.h"
#include "engine/store/run_store.h"
#include "engine/vocabulary/events.h"

namespace lorica {

inline constexpr SeriesKey kSeriesFoundationForgetting{SeriesKey::Kind::foundation_forgetting, -1};
inline constexpr SeriesKey kSeriesDownstreamForgetting{SeriesKey::Kind::downstream_forgetting, -1};

// The two rank-sweep points of one run (see the file comment), from its evaluation rows.
// rows: the run's EvalRows; num_tasks: its stream length; rank: its method.rank.
std::vector<AnalysisPoint> rank_sweep_points(const std::vector<EvalRow>& rows, int num_tasks, double rank,
                                             HeadMode mode);

// Metrics of one stored run in `mode` (its accuracy matrix from the stored evaluation rows).
MetricSet stored_run_metrics(const RunStore& store, int64_t run_id, HeadMode mode);

// One variant of an experiment.
struct VariantSummary {
    int index = 0;                 // RunRecord::variant_index
    std::string label;             // "" for an experiment without variants
    std::string method;            // method of its first run
    std::vector<int64_t> run_ids;  // every run of the variant, by id
    int finished = 0;              // runs with status finished (the metrics aggregate these)
    double seconds = 0.0;          // wall time of all its runs together, in seconds
    AggregatedMetrics metrics;     // over the finished runs
    CostRow cost;                  // each finished run's final cost (cost_table.h), mean over them
};

// The variants of experiment `experiment_id`, in variant order; metrics in each run's primary head mode.
std::vector<VariantSummary> summarize_variants(const RunStore& store, int64_t experiment_id);

// Text table: one row per variant with Acc, AAA, forgetting (max), BWT, foundation final and drop as
// "mean ± std" (percent, two decimals), the finished/total runs and the wall time of all its runs
// ("m:ss" or "h:mm:ss"), then the cost columns (GFLOPs/img, learnable, stored params, stored features;
// "—" where the runs recorded none).
std::string format_variant_table(const std::vector<VariantSummary>& variants);

// One rank of a rank sweep, aggregated over its seeds.
// The rank sweep a run belongs to inside its experiment: its variant label without the sweep's
// "rank=<r>" component ("tiny-resnet, rank=4" → "tiny-resnet"; "rank=4" → ""). Runs of one group
// form one curve, so a sweep crossed with variants (the `backbones` preset: tiny ViT and tiny ResNet)
// gives one curve per variant.
std::string rank_sweep_group(const std::string& variant_label);

struct RankSweepRow {
    std::string group;  // rank_sweep_group of the runs' variant; "" for a plain sweep
    double rank = 0.0;
    MetricAggregate foundation_forgetting;  // key = name_of(kSeriesFoundationForgetting)
    MetricAggregate downstream_forgetting;  // key = name_of(kSeriesDownstreamForgetting)
};

// One run's part of a rank sweep: its variant label and its analysis points (other analyses ignored).
struct RankSweepRun {
    std::string variant;
    std::vector<AnalysisPoint> points;
};

// The rank-sweep rows of `runs` (non-finite values skipped), by group (first seen first) and rank;
// empty when no run has a rank-sweep point. The table below and the GUI's Rank sweep plot both read it.
std::vector<RankSweepRow> rank_sweep_rows(const std::vector<RankSweepRun>& runs);

// The rank-sweep table of an experiment from its runs' stored AnalysisKey::rank_sweep points, by
// group (variant order) and rank; empty when no run has any.
std::vector<RankSweepRow> rank_sweep_table(const RunStore& store, int64_t experiment_id);

// Text table: [variant,] rank, foundation forgetting, downstream forgetting ("mean ± std", percentage
// points); the variant column only when some row has a group.
std::string format_rank_sweep_table(const std::vector<RankSweepRow>& rows);

// "mean ± std" with two decimals; "(n=k)" appended when k differs from `runs`; "n/a" when n = 0.
std::string format_mean_std(const MetricAggregate& aggregate, int runs);

}  // namespace lorica
