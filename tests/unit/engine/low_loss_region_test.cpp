// The low-loss-region analysis (engine/train/low_loss_region.h) on a tiny 3-task stream: its stored
// distances equal the Frobenius norms computed by hand from the kept weights, the ratio is the distance
// over the mean distance to W₀, the optima are retrained bit for bit (what a resume relies on), the
// analysis leaves the continual run's rows untouched and is off by default, a full-finetune run's first
// task lands on its own optimum, and a resumed run emits the points of the run left alone.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <tuple>

#include <torch/torch.h>

#include "engine/data/stream_data.h"
#include "engine/model/backbone_factory.h"
#include "engine/train/low_loss_region.h"
#include "engine/train/resume_point.h"
#include "engine/train/stream_trainer.h"
#include "tests/support/temp_dir.h"

using namespace lorica;

namespace {

constexpr int kLowLossTasks = 3;

ExperimentConfig low_loss_config(const std::string& cache_dir) {
    ExperimentConfig config;
    config.device = "cpu";
    config.threads = 1;
    config.cache_dir = cache_dir;
    config.backbone.image_size = 8;
    config.backbone.patch_size = 4;
    config.backbone.dim = 16;
    config.backbone.depth = 1;
    config.backbone.heads = 2;
    config.foundation.enabled = false;
    config.eval.random_init = false;
    config.stream.tasks = kLowLossTasks;
    config.stream.classes_per_task = 2;
    config.data.train_per_class = 8;
    config.data.test_per_class = 2;
    config.train.batch_size = 8;
    config.train.epochs = 2;
    config.train.optimizer.lr = 1e-2;
    config.method.name = "merged-lora";
    config.method.rank = 2;
    config.method.alpha = 2.0;
    config.analysis.low_loss_region = true;
    return config;
}

RawDataset low_loss_raw() {
    RawDataset raw;
    raw.name = "synthetic";
    raw.num_classes = 2 * kLowLossTasks;
    raw.channels = 1;
    torch::manual_seed(5);
    const int64_t n = 8 * raw.num_classes, m = 2 * raw.num_classes;
    raw.train_images = torch::randint(0, 256, {n, 1, 8, 8}, torch::kUInt8);
    raw.train_labels = torch::arange(n, torch::kInt64).remainder(raw.num_classes);
    raw.test_images = torch::randint(0, 256, {m, 1, 8, 8}, torch::kUInt8);
    raw.test_labels = torch::arange(m, torch::kInt64).remainder(raw.num_classes);
    for (int c = 0; c < raw.num_classes; ++c) raw.class_names.push_back("c" + std::to_string(c));
    return raw;
}

// ‖cat(a) − cat(b)‖ by hand: one flat vector each, torch's 2-norm in float64.
double by_hand(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    const torch::Tensor x = torch::cat(a).to(torch::kFloat64);
    return b.empty() ? x.norm().item<double>() : (x - torch::cat(b).to(torch::kFloat64)).norm().item<double>();
}

using PointKey = std::tuple<AnalysisKey, SeriesKey, double>;
std::map<PointKey, double> by_key(const std::vector<AnalysisPoint>& points) {
    std::map<PointKey, double> out;
    for (const auto& p : points) out[{p.analysis, p.series, p.x}] = p.y;
    return out;
}

struct RecordedRun : EventListener {
    std::vector<EvalRow> rows;
    std::vector<double> losses;
    std::vector<AnalysisPoint> low_loss;  // in emission order
    std::vector<std::string> checkpoints;
    void on_event(const Event& event) override {
        if (const auto* e = std::get_if<EvaluationDone>(&event))
            rows.insert(rows.end(), e->rows.begin(), e->rows.end());
        if (const auto* s = std::get_if<StepMetrics>(&event)) losses.push_back(s->loss);
        if (const auto* a = std::get_if<AnalysisDone>(&event))
            for (const auto& p : a->points)
                if (p.analysis == AnalysisKey::low_loss_region || p.analysis == AnalysisKey::low_loss_ratio ||
                    p.analysis == AnalysisKey::low_loss_continual)
                    low_loss.push_back(p);
        if (const auto* w = std::get_if<ArtifactWritten>(&event); w && w->kind == "run_checkpoint")
            checkpoints.push_back(w->path);
    }
};

bool same_rows(const std::vector<EvalRow>& a, const std::vector<EvalRow>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tie(a[i].after_task, a[i].eval_task, a[i].step, a[i].phase, a[i].head_mode, a[i].correct,
                     a[i].total) !=
            std::tie(b[i].after_task, b[i].eval_task, b[i].step, b[i].phase, b[i].head_mode, b[i].correct, b[i].total))
            return false;
    return true;
}

}  // namespace

// The points after each task against norms computed by hand from the kept ΔW*_i, W₀ and the continual
// weights (here W₀ with a known change to the adapted rows).
TEST(LowLossRegion, StoredDistancesAreTheFrobeniusNormsOfTheKeptWeights) {
    lorica::testing::TempDir dir("low-loss");
    const ExperimentConfig config = low_loss_config(dir.path.string());
    const RawDataset raw = low_loss_raw();
    const int64_t seed = 4;
    const StreamData data = build_stream_data(config, raw, seed);
    torch::manual_seed(9);
    Backbone start = make_backbone(config.backbone, 0);
    CancelToken cancel;
    LowLossRegion region({config, data, seed, torch::kCPU, cancel}, start);
    const std::vector<torch::Tensor> w0 = region.start_weights();
    ASSERT_EQ(w0.size(), 2u) << "q and v of the one block";
    EXPECT_EQ(w0[0].numel(), 16 * 16);

    for (int t = 0; t < kLowLossTasks; ++t) {
        Backbone continual = backbone_from_description(start->description());
        {
            torch::NoGradGuard no_grad;
            const auto params = start->named_parameters(true);
            for (auto& p : continual->named_parameters(true)) p.value().copy_(params[p.key()]);
            for (auto& [name, layer] : continual->lora_layers())
                if (name == "blocks.0.attn.qkv") layer->weight.slice(0, 0, 16).add_(0.01 * (t + 1));  // q rows
        }
        const auto points = by_key(region.after_task(t, continual));
        const auto& d = region.optimum_deltas();
        ASSERT_EQ(d.size(), static_cast<size_t>(t + 1));
        std::vector<torch::Tensor> current = region.compared_weights(continual);
        for (size_t k = 0; k < current.size(); ++k) current[k] = current[k] - w0[k];
        for (int j = 0; j <= t; ++j) {
            const double expected = by_hand(d[t], d[j]);
            EXPECT_NEAR(points.at({AnalysisKey::low_loss_region, SeriesKey::of_task(t), j}), expected, 1e-9);
            EXPECT_NEAR(points.at({AnalysisKey::low_loss_region, SeriesKey::of_task(j), t}), expected, 1e-9);
            const double mean = (by_hand(d[t], {}) + by_hand(d[j], {})) / 2;
            EXPECT_NEAR(points.at({AnalysisKey::low_loss_ratio, SeriesKey::of_task(t), j}), expected / mean,
                        1e-12 * (1 + expected / mean));
            if (j < t) EXPECT_GT(expected, 0.0) << "tasks " << j << " and " << t << " have the same optimum";
            EXPECT_NEAR(points.at({AnalysisKey::low_loss_continual, SeriesKey::of_task(j), t}), by_hand(current, d[j]),
                        1e-9);
        }
        EXPECT_NEAR(points.at({AnalysisKey::low_loss_region, SeriesKey::named(SeriesKey::Kind::from_start), t}),
                    by_hand(d[t], {}), 1e-9);
        EXPECT_GT(by_hand(d[t], {}), 0.0);
        // ‖W_t − W₀‖ is the change made by hand: 0.01 (t + 1) on 16 × 16 entries.
        EXPECT_NEAR(points.at({AnalysisKey::low_loss_continual, SeriesKey::named(SeriesKey::Kind::from_start), t}),
                    0.01 * (t + 1) * 16, 1e-5);
        EXPECT_EQ(points.size(), static_cast<size_t>(2 * (2 * t + 1) + 1 + (t + 1) + 1));
    }

    // Retrained from W₀ alone (as on resume), each optimum comes out bit for bit the same.
    LowLossRegion again({config, data, seed, torch::kCPU, cancel}, start);
    again.recompute_optima(kLowLossTasks - 1);
    for (int t = 0; t < kLowLossTasks; ++t)
        for (size_t k = 0; k < w0.size(); ++k)
            EXPECT_TRUE(torch::equal(again.optimum_deltas()[t][k], region.optimum_deltas()[t][k])) << "task " << t;
}

// Off by default; on, it emits its points as the tasks finish and leaves every evaluation row and step
// loss of the continual run as they are without it.
TEST(LowLossRegion, TheContinualRunIsTheSameWithTheAnalysisOnOrOff) {
    EXPECT_FALSE(ExperimentConfig{}.analysis.low_loss_region);
    lorica::testing::TempDir dir("low-loss");
    ExperimentConfig on = low_loss_config(dir.path.string());
    ExperimentConfig off = on;
    off.analysis = AnalysisConfig{};
    const RawDataset raw = low_loss_raw();
    RecordedRun with, without;
    CancelToken cancel;
    ASSERT_EQ(run_stream({on, raw, 0, 2}, with, cancel), RunStatus::finished);
    ASSERT_EQ(run_stream({off, raw, 0, 2}, without, cancel), RunStatus::finished);
    EXPECT_TRUE(without.low_loss.empty());
    EXPECT_TRUE(same_rows(with.rows, without.rows));
    EXPECT_EQ(with.losses, without.losses);
    size_t expected = 0;
    for (int t = 0; t < kLowLossTasks; ++t) expected += 2 * (2 * t + 1) + 1 + (t + 1) + 1;
    EXPECT_EQ(with.low_loss.size(), expected);
    // The ratio matrix is symmetric with a zero diagonal.
    const auto points = by_key(with.low_loss);
    for (int i = 0; i < kLowLossTasks; ++i)
        for (int j = 0; j < kLowLossTasks; ++j)
            EXPECT_EQ(points.at({AnalysisKey::low_loss_ratio, SeriesKey::of_task(i), j}),
                      points.at({AnalysisKey::low_loss_ratio, SeriesKey::of_task(j), i}));
    EXPECT_EQ(points.at({AnalysisKey::low_loss_ratio, SeriesKey::of_task(1), 1}), 0.0);
}

// full-finetune with update = full: the copy of task 0 trains exactly as the run's first task (same
// W₀, head, batches, optimizer), so after task 0 the continual weights sit on W*_0.
TEST(LowLossRegion, AFullFinetuneRunLandsOnItsFirstOptimum) {
    lorica::testing::TempDir dir("low-loss");
    ExperimentConfig config = low_loss_config(dir.path.string());
    config.method.name = "full-finetune";
    config.analysis.low_loss_update = LowLossUpdate::full;
    config.stream.tasks = 2;
    RecordedRun run;
    CancelToken cancel;
    ASSERT_EQ(run_stream({config, low_loss_raw(), 0, 1}, run, cancel), RunStatus::finished);
    const auto points = by_key(run.low_loss);
    const double moved = points.at({AnalysisKey::low_loss_region, SeriesKey::named(SeriesKey::Kind::from_start), 0});
    EXPECT_GT(moved, 0.0);
    EXPECT_NEAR(points.at({AnalysisKey::low_loss_continual, SeriesKey::named(SeriesKey::Kind::from_start), 0}), moved,
                1e-6 * moved);
    EXPECT_LE(points.at({AnalysisKey::low_loss_continual, SeriesKey::of_task(0), 0}), 1e-6 * moved);
}

// Resumed after task 0 (the optimum of task 0 retrained from the run's foundation backbone), the run
// emits exactly the points of tasks 1 and 2 of the run left alone.
TEST(LowLossRegion, AResumedRunEmitsThePointsOfTheRunLeftAlone) {
    lorica::testing::TempDir dir("low-loss");
    const ExperimentConfig config = low_loss_config(dir.path.string());
    const RawDataset raw = low_loss_raw();
    RecordedRun whole;
    CancelToken cancel;
    ASSERT_EQ(run_stream({config, raw, 0, 6}, whole, cancel), RunStatus::finished);
    ASSERT_EQ(whole.checkpoints.size(), static_cast<size_t>(kLowLossTasks));
    const ResumePoint point = read_resume_point(whole.checkpoints[0]);
    RecordedRun resumed;
    ASSERT_EQ(run_stream({config, raw, 0, 6, &point}, resumed, cancel), RunStatus::finished);
    const size_t task0_points = 2 * 1 + 1 + 1 + 1;
    ASSERT_EQ(resumed.low_loss.size() + task0_points, whole.low_loss.size());
    for (size_t k = 0; k < resumed.low_loss.size(); ++k)
        EXPECT_EQ(resumed.low_loss[k], whole.low_loss[k + task0_points]) << "point " << k;
}
