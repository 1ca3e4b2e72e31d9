#include "app/run_views.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <tuple>
#include <set>

#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QScrollArea>
#include <QLabel>
#include <QTimer>
#include <QVBoxLayout>

#include "engine/eval/class_forgetting.h"
#include "engine/eval/contextual_forgetting.h"
#include "engine/eval/low_loss_table.h"
#include "engine/eval/cost_table.h"
#include "engine/methods/catalog/method_catalog.h"
#include "engine/store/sweep_summary.h"
#include "engine/vocabulary/analysis_keys.h"
#include "widgets/contextual_forgetting_view.h"
#include "widgets/low_loss_region_view.h"
#include "widgets/matrix_heatmap.h"
#include "widgets/metrics_table.h"
#include "widgets/plot_widget.h"
#include "widgets/seed_band.h"

namespace lorica::app {

using widgets::HeatmapVariant;
using widgets::MatrixHeatmap;
using widgets::MetricsTable;
using widgets::PlotWidget;
using widgets::series_color;

namespace {

QVector<double> to_qvector(const std::vector<double>& v) { return QVector<double>(v.begin(), v.end()); }

QString qstr(const std::string& s) { return QString::fromStdString(s); }

// Global step at which each task after the first starts (for the boundary markers), times `scale`.
std::vector<std::pair<int, double>> task_starts(const RunData& run, double scale) {
    std::vector<std::pair<int, double>> starts;
    int last_task = -1;
    for (const StepMetrics& s : run.steps)
        if (s.task != last_task) {
            last_task = s.task;
            starts.emplace_back(s.task, (static_cast<double>(s.step) - 0.5) * scale);
        }
    return starts;
}

void add_task_markers(PlotWidget* plot, const RunData& run, double scale = 1.0) {
    for (const auto& [task, x] : task_starts(run, scale))
        plot->add_vertical_marker(x, QStringLiteral(" t%1").arg(task));
}

// A shared step axis for runs of different methods: a run that plans more steps than the chart's
// shortest one (LoRI-S trains each task in two passes) is drawn with its steps scaled by
// shortest / its own, so one task spans the same width for every run. 1 for the shortest runs.
int64_t shortest_planned_steps(const std::vector<const RunData*>& runs) {
    int64_t shortest = 0;
    for (const RunData* run : runs)
        if (run->record.total_steps > 0 && (shortest == 0 || run->record.total_steps < shortest))
            shortest = run->record.total_steps;
    return shortest;
}

std::vector<const RunData*> runs_of(const std::vector<VariantRuns>& variants) {
    std::vector<const RunData*> runs;
    for (const VariantRuns& v : variants) runs.insert(runs.end(), v.runs.begin(), v.runs.end());
    return runs;
}

double step_scale(const RunData& run, int64_t shortest) {
    return shortest > 0 && run.record.total_steps > shortest
               ? static_cast<double>(shortest) / static_cast<double>(run.record.total_steps)
               : 1.0;
}

// The x label of a step axis, saying when some runs' steps are scaled.
QString step_axis_label(const std::vector<const RunData*>& runs, int64_t shortest) {
    for (const RunData* run : runs)
        if (step_scale(*run, shortest) != 1.0)
            return QObject::tr("step (multi-pass runs scaled: each task as wide as one pass)");
    return QObject::tr("step");
}

// Draws one curve per key over the runs: a line for one run, mean ± std band for several.
void draw_series(PlotWidget* plot, const QString& name, const std::vector<std::vector<double>>& xs,
                 const std::vector<std::vector<double>>& ys, const QColor& color, bool as_band,
                 Qt::PenStyle style = Qt::SolidLine, bool points = false) {
    if (ys.empty()) return;
    if (!as_band || ys.size() == 1) {
        for (std::size_t r = 0; r < ys.size(); ++r)
            plot->add_line(ys.size() == 1 ? name : QStringLiteral("%1 (%2)").arg(name).arg(r), to_qvector(xs[r]),
                           to_qvector(ys[r]), color, style, points);
        return;
    }
    const widgets::SeedBand band = widgets::seed_band(ys);
    std::vector<double> x;
    for (const auto& candidate : xs)
        if (candidate.size() > x.size()) x = candidate;
    x.resize(band.mean.size());
    plot->add_band(name + QStringLiteral(" (mean ± std)"), to_qvector(x), to_qvector(band.mean), to_qvector(band.std),
                   color);
}

QString percent(std::optional<double> v) { return v ? QString::number(*v, 'f', 2) : QString(); }

// Per run: its steps (x, scaled by step_scale against `shortest`; 0 = unscaled) and losses (y).
void step_losses(const std::vector<const RunData*>& runs, std::vector<std::vector<double>>& xs,
                 std::vector<std::vector<double>>& ys, int64_t shortest = 0) {
    for (const RunData* run : runs) {
        xs.emplace_back();
        ys.emplace_back();
        const double scale = step_scale(*run, shortest);
        for (const StepMetrics& s : run->steps) {
            xs.back().push_back(static_cast<double>(s.step) * scale);
            ys.back().push_back(s.loss);
        }
    }
}

// One line per analysis series (points sorted by x), with markers: interpolation, LoRI merge.
void add_analysis_lines(PlotWidget* plot, const std::vector<AnalysisPoint>& points) {
    std::map<SeriesKey, std::vector<std::pair<double, double>>> series;
    for (const AnalysisPoint& p : points) series[p.series].emplace_back(p.x, p.y);
    int c = 0;
    for (auto& [key, xy] : series) {
        std::sort(xy.begin(), xy.end());
        QVector<double> x, y;
        for (const auto& [px, py] : xy) {
            x << px;
            y << py;
        }
        plot->add_line(qstr(name_of(key)), x, y, series_color(c++), Qt::SolidLine, true);
    }
}

}  // namespace

// ---- helpers --------------------------------------------------------------------------------------

void draw_loss(PlotWidget* plot, const std::vector<const RunData*>& runs, bool as_band) {
    plot->clear();
    // Runs of different methods (Compare: LoRI-S next to LoRI-D) share the step axis scaled.
    const int64_t shortest = shortest_planned_steps(runs);
    plot->set_x_label(step_axis_label(runs, shortest));
    if (as_band) {
        std::vector<std::vector<double>> xs, ys;
        step_losses(runs, xs, ys, shortest);
        draw_series(plot, QObject::tr("loss"), xs, ys, series_color(0), true);
    } else {
        for (std::size_t r = 0; r < runs.size(); ++r) {
            QVector<double> x, y;
            const double scale = step_scale(*runs[r], shortest);
            for (const StepMetrics& s : runs[r]->steps) {
                x.push_back(static_cast<double>(s.step) * scale);
                y.push_back(s.loss);
            }
            plot->add_line(qstr(runs[r]->label()), x, y, series_color(static_cast<int>(r)));
        }
    }
    if (!runs.empty()) add_task_markers(plot, *runs.front(), step_scale(*runs.front(), shortest));
    plot->finish();
}

void draw_task_accuracy(PlotWidget* plot, const std::vector<const RunData*>& runs, bool as_band) {
    plot->clear();
    plot->set_x_label(QObject::tr("step"));
    if (runs.empty()) {
        plot->finish();
        return;
    }
    // task j → per run: (step, accuracy) of its end-of-task and in-task class-IL evaluations.
    std::map<int, std::vector<std::vector<double>>> xs, ys;
    for (std::size_t r = 0; r < runs.size(); ++r) {
        std::map<int, std::vector<std::pair<double, double>>> points;
        for (const EvalRow& row : runs[r]->evals) {
            if (row.total <= 0 || row.head_mode != HeadMode::class_il) continue;
            if (row.phase != EvalPhase::end_of_task && row.phase != EvalPhase::in_task) continue;
            points[row.eval_task].emplace_back(static_cast<double>(row.step), 100.0 * row.correct / row.total);
        }
        for (auto& [task, p] : points) {
            std::stable_sort(p.begin(), p.end(), [](auto& a, auto& b) { return a.first < b.first; });
            xs[task].resize(runs.size());
            ys[task].resize(runs.size());
            for (auto& [x, y] : p) {
                xs[task][r].push_back(x);
                ys[task][r].push_back(y);
            }
        }
    }
    for (auto& [task, y] : ys) {
        std::vector<std::vector<double>> xs_present, ys_present;
        for (std::size_t r = 0; r < y.size(); ++r)
            if (!y[r].empty()) {
                xs_present.push_back(xs[task][r]);
                ys_present.push_back(y[r]);
            }
        const bool foundation = task == kFoundationTask;
        const QString name = foundation ? QObject::tr("foundation") : QStringLiteral("task %1").arg(task);
        draw_series(plot, name, xs_present, ys_present, foundation ? QColor(Qt::gray) : series_color(task), as_band,
                    foundation ? Qt::DashLine : Qt::SolidLine, true);
    }
    add_task_markers(plot, *runs.front());
    plot->finish();
}

QString variant_series_name(const VariantRuns& v) {
    return v.runs.size() > 1 ? QObject::tr("%1, %2 seeds").arg(qstr(v.label)).arg(v.runs.size()) : qstr(v.label);
}

void draw_loss_by_variant(PlotWidget* plot, const std::vector<VariantRuns>& variants) {
    plot->clear();
    const int64_t shortest = shortest_planned_steps(runs_of(variants));
    plot->set_x_label(step_axis_label(runs_of(variants), shortest));
    for (const VariantRuns& v : variants) {
        std::vector<std::vector<double>> xs, ys;
        step_losses(v.runs, xs, ys, shortest);
        draw_series(plot, variant_series_name(v), xs, ys, series_color(v.index), true);
    }
    if (!variants.empty() && !variants.front().runs.empty()) {
        const RunData& first = *variants.front().runs.front();
        add_task_markers(plot, first, step_scale(first, shortest));
    }
    plot->finish();
}

void draw_average_accuracy_by_variant(PlotWidget* plot, const std::vector<VariantRuns>& variants) {
    plot->clear();
    const int64_t shortest = shortest_planned_steps(runs_of(variants));
    plot->set_x_label(step_axis_label(runs_of(variants), shortest));
    for (const VariantRuns& v : variants) {
        // Per run: after each task t, the mean class-IL accuracy over the stream tasks j ≤ t (A_t), at
        // the step of that evaluation.
        std::vector<std::vector<double>> xs, ys;
        for (const RunData* run : v.runs) {
            std::map<int, std::pair<double, std::vector<double>>> after;  // t → (step, accuracies)
            for (const EvalRow& row : run->evals) {
                if (row.phase != EvalPhase::end_of_task || row.head_mode != HeadMode::class_il || row.total <= 0)
                    continue;
                if (row.eval_task < 0 || row.eval_task > row.after_task) continue;
                auto& [step, accuracies] = after[row.after_task];
                step = static_cast<double>(row.step) * step_scale(*run, shortest);
                accuracies.push_back(100.0 * static_cast<double>(row.correct) / static_cast<double>(row.total));
            }
            xs.emplace_back();
            ys.emplace_back();
            for (const auto& [t, point] : after) {
                double sum = 0.0;
                for (double a : point.second) sum += a;
                xs.back().push_back(point.first);
                ys.back().push_back(sum / static_cast<double>(point.second.size()));
            }
        }
        draw_series(plot, variant_series_name(v), xs, ys, series_color(v.index), true, Qt::SolidLine, true);
    }
    if (!variants.empty() && !variants.front().runs.empty()) {
        const RunData& first = *variants.front().runs.front();
        add_task_markers(plot, first, step_scale(first, shortest));
    }
    plot->finish();
}

std::vector<HeatmapVariant> matrix_variants(const std::vector<const RunData*>& runs) {
    std::vector<HeatmapVariant> variants;
    int tasks = 0;
    for (const RunData* run : runs) tasks = std::max(tasks, run->num_tasks());
    for (HeadMode mode : {HeadMode::class_il, HeadMode::task_il}) {
        widgets::Grid sum(tasks, std::vector<std::optional<double>>(tasks));
        std::vector<std::vector<int>> count(tasks, std::vector<int>(tasks, 0));
        for (const RunData* run : runs) {
            const AccuracyMatrix m = run->matrix(mode);
            for (int t = 0; t < m.num_tasks() && t < tasks; ++t)
                for (int j = 0; j < m.num_tasks() && j < tasks; ++j)
                    if (const auto& cell = m.at(t, j)) {
                        sum[t][j] = sum[t][j].value_or(0.0) + cell->percent;
                        ++count[t][j];
                    }
        }
        widgets::Grid accuracy = sum, forgetting(tasks, std::vector<std::optional<double>>(tasks));
        for (int t = 0; t < tasks; ++t)
            for (int j = 0; j < tasks; ++j)
                if (accuracy[t][j]) *accuracy[t][j] /= count[t][j];
        // Forgetting of task j after task t: max_{j≤t'≤t} R[t'][j] − R[t][j] (positive = forgot).
        for (int t = 0; t < tasks; ++t)
            for (int j = 0; j <= t; ++j) {
                if (!accuracy[t][j]) continue;
                double best = *accuracy[t][j];
                for (int u = j; u <= t; ++u)
                    if (accuracy[u][j]) best = std::max(best, *accuracy[u][j]);
                forgetting[t][j] = best - *accuracy[t][j];
            }
        QString suffix = mode == HeadMode::class_il ? QObject::tr("class-IL") : QObject::tr("task-IL");
        if (runs.size() > 1) suffix += QObject::tr(", mean of %1 runs").arg(runs.size());
        variants.push_back({QObject::tr("Accuracy R[t][j] %1 (%2)").arg('%').arg(suffix), accuracy, 0, 100, true, 1});
        variants.push_back(
            {QObject::tr("Forgetting max R[·][j] − R[t][j], points (%1)").arg(suffix), forgetting, 0, 100, false, 1});
    }
    return variants;
}

QStringList metric_values(const std::vector<const RunData*>& runs, HeadMode mode) {
    QStringList out;
    const auto& table = metric_table();
    if (runs.size() == 1) {
        const MetricSet m = runs.front()->metrics(mode);
        for (const MetricInfo& info : table) out << percent(m.*(info.member));
        return out;
    }
    std::vector<MetricSet> sets;
    for (const RunData* run : runs) sets.push_back(run->metrics(mode));
    const AggregatedMetrics agg = aggregate(sets);
    for (const MetricAggregate& a : agg.metrics) {
        if (a.n == 0 || !a.mean) {
            out << QString();
            continue;
        }
        QString text = QStringLiteral("%1 ± %2").arg(*a.mean, 0, 'f', 2).arg(a.std.value_or(0.0), 0, 'f', 2);
        if (a.n != agg.runs) text += QStringLiteral(" (n=%1)").arg(a.n);
        out << text;
    }
    return out;
}

std::vector<QString> cost_values(const std::vector<const RunData*>& runs) {
    std::vector<CostRow> rows;
    for (const RunData* run : runs) rows.push_back(run_cost(run->states).final_row());
    const CostRow mean = mean_cost(rows);
    std::vector<QString> out;
    for (const CostColumnInfo& info : cost_columns())
        out.push_back(QString::fromStdString(format_cost(info.column, mean[info.column])));
    return out;
}

void draw_rank_sweep(PlotWidget* plot, const std::vector<const RunData*>& runs) {
    plot->clear();
    // One curve per (group, series), the mean over the group's seeds (rank_sweep_rows: a group is the
    // variant without its "rank=" part, so a sweep crossed with variants gives a curve per variant).
    std::vector<RankSweepRun> sweep_runs;
    for (const RunData* run : runs)
        sweep_runs.push_back({run->record.variant, run->points_of(AnalysisKey::rank_sweep)});
    std::vector<std::string> groups;
    std::map<std::pair<size_t, SeriesKey>, std::pair<QVector<double>, QVector<double>>> curves;  // → (x, y)
    for (const RankSweepRow& row : rank_sweep_rows(sweep_runs)) {
        const size_t g = static_cast<size_t>(std::find(groups.begin(), groups.end(), row.group) - groups.begin());
        if (g == groups.size()) groups.push_back(row.group);
        for (const auto& [key, aggregate] : {std::pair{kSeriesFoundationForgetting, row.foundation_forgetting},
                                             std::pair{kSeriesDownstreamForgetting, row.downstream_forgetting}}) {
            if (!aggregate.mean) continue;
            auto& [x, y] = curves[{g, key}];
            x << row.rank;
            y << *aggregate.mean;
        }
    }
    int i = 0;
    for (const auto& [key, xy] : curves) {
        const std::string& group = groups[key.first];
        const std::string name = group.empty() ? name_of(key.second) : group + " · " + name_of(key.second);
        // One colour per group; foundation solid, downstream dashed.
        const Qt::PenStyle style = key.second == kSeriesFoundationForgetting ? Qt::SolidLine : Qt::DashLine;
        plot->add_line(qstr(name), xy.first, xy.second,
                       series_color(groups.size() > 1 ? static_cast<int>(key.first) : i), style, true);
        ++i;
    }
    plot->finish();
}

// ---- InterpolationView ----------------------------------------------------------------------------

InterpolationView::InterpolationView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    empty_ = new QLabel(tr("No merge interpolation in this run.\n\nSD-LoRA and sequential LoRA record it after task 1 "
                           "(the accuracy on tasks 0 and 1 of W(λ) = (1−λ)·W₁ + λ·W₂, λ = 0 … 1); compare an "
                           "SD-LoRA run with a LoRA run in the Compare view to see them side by side."),
                        this);
    empty_->setWordWrap(true);
    empty_->setAlignment(Qt::AlignCenter);
    layout->addWidget(empty_);
    // One chart per run with an interpolation, three to a row; a scroll area holds them, so that an
    // experiment of many runs does not widen the window.
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* host = new QWidget(scroll);
    grid_ = new QGridLayout(host);
    grid_->setContentsMargins(0, 0, 0, 0);
    scroll->setWidget(host);
    layout->addWidget(scroll, 1);
}

void InterpolationView::show_runs(const std::vector<const RunData*>& runs) {
    std::vector<const RunData*> with;
    for (const RunData* run : runs)
        if (!run->points_of(AnalysisKey::merge_interpolation).empty()) with.push_back(run);
    while (charts_.size() > with.size()) {
        delete charts_.back();
        charts_.pop_back();
    }
    while (charts_.size() < with.size()) {
        charts_.push_back(new PlotWidget(QString(), tr("λ"), tr("accuracy (%)"), this));
        charts_.back()->set_y_range(0, 100);
        constexpr int kInterpolationColumns = 3;
        const int index = static_cast<int>(charts_.size()) - 1;
        grid_->addWidget(charts_.back(), index / kInterpolationColumns, index % kInterpolationColumns);
    }
    empty_->setVisible(with.empty());
    for (std::size_t i = 0; i < with.size(); ++i) {
        PlotWidget* chart = charts_[i];
        chart->set_title(QStringLiteral("%1: interpolation").arg(qstr(with[i]->label())));
        chart->clear();
        add_analysis_lines(chart, with[i]->points_of(AnalysisKey::merge_interpolation));
        chart->finish();
    }
}

// ---- LoRIView -------------------------------------------------------------------------------------

LoRIView::LoRIView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QHBoxLayout(this);
    merge_ = new PlotWidget(tr("LoRI merge: task accuracy alone vs. merged"), tr("task"), tr("accuracy (%)"), this);
    merge_->set_integer_x_ticks();
    merge_->set_y_range(0, 100);
    merge_->set_empty_message(
        tr("No LoRI merge in this run.\nLoRI-D / LoRI-S runs record each task's accuracy\n"
           "alone and after merging (cat, linear)."));
    overlap_ = new MatrixHeatmap(tr("Adapter overlap"), tr("task i"), tr("task j"), this);
    overlap_->set_empty_message(tr("No overlaps in this run.\nLoRI records ‖AᵢᵀAⱼ‖ (normalised)\nand mask overlap."));
    layout->addWidget(merge_, 1);
    overlap_->set_tick_prefixes(QStringLiteral("task "), QStringLiteral("task "));
    overlap_->set_toggle_tooltip(
        tr("‖AᵢᵀAⱼ‖: overlap of the tasks' frozen A subspaces (normalised, 1 = the same); "
           "mask overlap: Jaccard index of the tasks' sparse B masks"));
    layout->addWidget(overlap_, 1);
}

void LoRIView::show_run(const RunData* run) {
    merge_->clear();
    std::vector<HeatmapVariant> variants;
    if (run) {
        add_analysis_lines(merge_, run->points_of(AnalysisKey::lori_merge));
        for (const auto& [analysis, title] : {std::pair{AnalysisKey::lori_overlap_a, tr("‖AᵢᵀAⱼ‖ overlap")},
                                              std::pair{AnalysisKey::lori_overlap_mask, tr("mask overlap")}}) {
            // Series task(i), x = j: cell (i, j). Points of another shape are skipped.
            std::vector<std::tuple<int, int, double>> cells;
            for (const auto& p : run->points_of(analysis)) {
                if (!p.series.is_task() || p.x < 0) continue;
                const int i = p.series.task;
                if (i >= 0 && i < 1000 && p.x < 1000) cells.emplace_back(i, static_cast<int>(p.x), p.y);
            }
            if (cells.empty()) continue;
            int n = 0;
            for (const auto& [i, j, v] : cells) n = std::max({n, i + 1, j + 1});
            widgets::Grid grid(n, std::vector<std::optional<double>>(n));
            for (const auto& [i, j, v] : cells) grid[i][j] = v;
            variants.push_back({title, grid, 0.0, 1.0, false, 2});
        }
    }
    merge_->finish();
    overlap_->set_variants(variants);
}

// ---- RunViews -------------------------------------------------------------------------------------

RunViews::RunViews(QWidget* parent_widget) : QObject(parent_widget) {
    loss_ = new PlotWidget(tr("Training loss"), tr("step"), tr("loss"), parent_widget);
    loss_->set_empty_message(tr("Start a run (Ctrl+R) or open one from the run browser"));
    accuracy_ = new PlotWidget(tr("Per-task accuracy (class-IL)"), tr("step"), tr("accuracy (%)"), parent_widget);
    accuracy_->set_y_range(0, 100);
    accuracy_->set_empty_message(tr("Accuracies appear after each task's evaluation"));
    matrix_ = new MatrixHeatmap(tr("Accuracy matrix"), tr("after task t"), tr("evaluated task j"), parent_widget);
    metrics_ = new MetricsTable(parent_widget);
    magnitudes_ = new PlotWidget(tr("Magnitudes α_k"), tr("step"), tr("α"), parent_widget);
    magnitudes_->set_empty_message(
        tr("No magnitudes in this run.\nSD-LoRA records every α_k after each task\n"
           "and during training; other methods have none."));
    residual_ = new PlotWidget(tr("Direction residual ‖D_t − Σβ_k D_k‖_F"), tr("step"), tr("residual"), parent_widget);
    residual_->set_empty_message(
        tr("No direction residual in this run.\nSD-LoRA records the least-squares residual of\n"
           "the current direction against the old ones."));
    interpolation_ = new InterpolationView(parent_widget);
    rank_sweep_ =
        new PlotWidget(tr("Rank sweep: forgetting vs. rank"), tr("rank"), tr("forgetting (%)"), parent_widget);
    rank_sweep_->set_empty_message(
        tr("No rank sweep in this run.\nA merged-LoRA rank sweep stores foundation and\n"
           "downstream forgetting for each rank."));
    lori_ = new LoRIView(parent_widget);
    foundation_classes_ =
        new PlotWidget(tr("Foundation task: accuracy per class"), tr("after task"), tr("accuracy (%)"), parent_widget);
    foundation_classes_->set_y_range(0, 100);
    // after_task −1 is the evaluation before the first stream task.
    foundation_classes_->set_integer_x_ticks({{-1.0, tr("before the stream")}});
    foundation_classes_->set_empty_message(
        tr("No per-class foundation evaluations.\nThey appear when the run has a "
           "foundation task\n(foundation.enabled) after each stream task."));
    contextual_ = new widgets::ContextualForgettingView(parent_widget);
    low_loss_ = new widgets::LowLossRegionView(parent_widget);
    views_ = {
        {ViewId::loss, tr("Loss"), loss_,
         tr("Cross-entropy of each training batch, per optimizer step; with several seeds the mean ± std band "
            "(one per variant). Dashed lines: task boundaries. Long curves: each pixel column's min and max.")},
        {ViewId::accuracy, tr("Accuracy"), accuracy_,
         tr("Class-IL accuracy on each task's test split at every task end (and every eval.every_steps steps); "
            "the foundation task dashed. With variants: the average over the tasks seen so far.")},
        {ViewId::matrix, tr("Matrix"), matrix_,
         tr("R[i][j] = accuracy on task j after training task i; forgetting F[i][j] = max over l < i of R[l][j] − "
            "R[i][j]. Mean over seeds; switch head mode, accuracy/forgetting and variant above.")},
        {ViewId::metrics, tr("Metrics"), metrics_,
         tr("Acc, AAA, BWT, FWT and forgetting computed from the accuracy matrix (hover a row for its formula); "
            "mean ± std over seeds, one column per variant.")},
        {ViewId::magnitudes, tr("Magnitudes"), magnitudes_,
         tr("SD-LoRA: the magnitude α_k of each task's unit-norm direction, recorded during training; dashed lines "
            "at the task boundaries where a new direction starts.")},
        {ViewId::residual, tr("Residual"), residual_,
         tr("SD-LoRA: ‖D_t − Σ β_k D_k‖_F, the part of the current direction outside the span of the earlier "
            "ones (β by least squares); small = the new task reuses old directions.")},
        {ViewId::interpolation, tr("Interpolation"), interpolation_,
         tr("Accuracy on tasks 0 and 1 along W(λ) = (1 − λ) W₀ + λ W₁, between the merged weights after task 0 and "
            "after task 1 (SD-LoRA: its magnitudes; LoRA: the products B A), evaluated after task 1.")},
        {ViewId::rank_sweep, tr("Rank sweep"), rank_sweep_,
         tr("Merged incremental LoRA: forgetting of the foundation task and of the stream tasks after the last "
            "task, one point per adapter rank of the sweep.")},
        {ViewId::lori, tr("LoRI merge"), lori_,
         tr("LoRI: each task's accuracy with its adapter alone vs. with all adapters merged; overlaps between "
            "tasks: ‖AᵢᵀAⱼ‖ (normalised, frozen random A) and the Jaccard overlap of their sparse masks.")},
        {ViewId::foundation_classes, tr("Foundation classes"), foundation_classes_,
         tr("Accuracy on each foundation (pre-training) class after each stream task, with the foundation's own "
            "frozen head: which pre-trained classes are forgotten.")},
        {ViewId::contextual_forgetting, tr("Contextual forgetting"), contextual_,
         tr("Per foundation class: test samples right before the stream and wrong after the task, against the "
            "class's Wu–Palmer WordNet similarity to the task (max over its classes and domain word); densities of "
            "the similarity over the lost samples and over all samples. First run of the experiment.")},
        {ViewId::low_loss_region, tr("Low-loss region"), low_loss_,
         tr("SD-LoRA's Finding 1 (analysis.low_loss_region): each task also fine-tuned alone from W₀ to its optimum "
            "W*_i; ‖W*_i − W*_j‖_F between optima, its ratio to their mean distance from W₀ (below 1: an overlapping "
            "low-loss region), and the continual weights W_t after each task against each optimum. First run.")}};
    for (auto& v : views_) {
        auto* panel = new QWidget(parent_widget);
        auto* layout = new QVBoxLayout(panel);
        layout->setContentsMargins(0, 0, 0, 0);
        layout->setSpacing(2);
        layout->addWidget(v.widget, 1);
        auto* caption = new QLabel(v.caption, panel);
        caption->setWordWrap(true);
        caption->setObjectName(QStringLiteral("caption"));
        caption->setForegroundRole(QPalette::PlaceholderText);
        QFont small = caption->font();
        small.setPointSizeF(small.pointSizeF() * 0.9);
        caption->setFont(small);
        caption->setContentsMargins(6, 0, 6, 2);
        layout->addWidget(caption);
        v.panel = panel;
        panel->setObjectName(QStringLiteral("panel_") + view_name(v.id));
    }
    for (auto& v : views_) v.widget->setObjectName(QStringLiteral("view_") + view_name(v.id));
}

bool run_offers_view(const RunData& run, ViewId id) {
    const DrawnKeys keys = drawn_keys(id);
    if (keys.empty()) return true;
    const auto& methods = method_declarations();
    const auto declared = std::find_if(methods.begin(), methods.end(),
                                       [&](const MethodDeclaration& m) { return m.name == run.record.facts.method; });
    for (StateKey key : keys.state) {
        if (declared != methods.end() && declared->records(key)) return true;
        if (std::any_of(run.states.begin(), run.states.end(), [&](const MethodState& s) { return s.key == key; }))
            return true;
    }
    for (AnalysisKey key : keys.analyses) {
        if (declared != methods.end() && declared->records(key)) return true;
        if (std::any_of(run.analysis.begin(), run.analysis.end(),
                        [&](const AnalysisPoint& p) { return p.analysis == key; }))
            return true;
    }
    return false;
}

bool RunViews::offers(ViewId id) const { return !offered_ || drawn_keys(id).empty() || offered_->count(id) > 0; }

void RunViews::show_grown(const ExperimentData& data) {
    grown_ = data_ == &data;
    show_data(data);
}

void RunViews::show(const ExperimentData& data) {
    grown_ = false;
    loss_drawn_ = {};  // other data: the loss view is redrawn, not appended to
    // Other data: the charts fit it (a zoom the user made on the previous data is let go).
    for (PlotWidget* plot : {loss_, accuracy_, magnitudes_, residual_, rank_sweep_, foundation_classes_})
        plot->follow_data();
    show_data(data);
}

void RunViews::show_data(const ExperimentData& data) {
    data_ = &data;
    std::set<ViewId> offered;
    for (const View& v : views_)
        if (!drawn_keys(v.id).empty() && std::any_of(data.runs.begin(), data.runs.end(),
                                                     [&](const RunData& run) { return run_offers_view(run, v.id); }))
            offered.insert(v.id);
    if (offered_ != offered) {
        offered_ = std::move(offered);
        Q_EMIT offered_views_changed();
    }
    for (const View& v : views_) dirty_.insert(v.id);
    // Visible views draw one per turn (a drawing that fills two views, the magnitudes and the
    // residual, clears both, so each is drawn once).
    draw_visible_step();
}

void RunViews::draw_visible_step() {
    auto next = [this] {
        return std::find_if(views_.begin(), views_.end(),
                            [this](const View& v) { return v.widget->isVisible() && dirty_.count(v.id); });
    };
    if (auto it = next(); it != views_.end()) draw(it->id);
    if (next() == views_.end()) {
        step_queued_ = false;
        Q_EMIT visible_drawn();
        return;
    }
    if (step_queued_) return;  // the queued step draws the next one
    // Grown live data grows the chart that changed; a reopened experiment's views are all redrawn: a
    // turn each, the replot of this one (queued by its finish) before the next one's drawing.
    step_queued_ = true;
    QTimer::singleShot(1, this, [this] {
        if (!step_queued_) return;  // draw_pending drew them
        step_queued_ = false;
        draw_visible_step();
    });
}

void RunViews::view_shown(ViewId id) {
    if (data_ && dirty_.count(id)) draw(id);
}

void RunViews::draw_pending() {
    if (!data_) return;
    const std::set<ViewId> pending = dirty_;
    for (ViewId id : pending) draw(id);
    if (step_queued_) {
        step_queued_ = false;
        Q_EMIT visible_drawn();
    }
}

void RunViews::draw(ViewId id) {
    dirty_.erase(id);
    static const ExperimentData nothing;
    const ExperimentData& data = data_ ? *data_ : nothing;
    std::vector<const RunData*> runs;
    for (const RunData& r : data.runs) runs.push_back(&r);
    const bool seeds = runs.size() > 1;
    // An experiment with variants: one curve (band over its seeds) per variant, coloured by variant.
    const std::vector<VariantRuns> variants = data.variants();
    const bool by_variant = variants.size() > 1;
    switch (id) {
        case ViewId::loss:
            if (grown_ && append_loss(runs, by_variant)) break;
            if (by_variant)
                draw_loss_by_variant(loss_, variants);
            else
                draw_loss(loss_, runs, seeds);
            remember_loss(runs, by_variant);
            break;
        case ViewId::accuracy:
            if (by_variant) {
                accuracy_->set_title(tr("Average accuracy over the seen tasks (class-IL), per variant"));
                draw_average_accuracy_by_variant(accuracy_, variants);
            } else {
                accuracy_->set_title(tr("Per-task accuracy (class-IL)"));
                draw_task_accuracy(accuracy_, runs, seeds);
            }
            break;
        case ViewId::matrix:
            if (runs.empty()) {
                matrix_->set_variants({});
            } else if (by_variant) {
                std::vector<widgets::HeatmapVariant> all;
                for (const VariantRuns& v : variants)
                    for (widgets::HeatmapVariant h : matrix_variants(v.runs)) {
                        h.name = qstr(v.label) + QStringLiteral(": ") + h.name;
                        all.push_back(std::move(h));
                    }
                matrix_->set_variants(all);
            } else {
                matrix_->set_variants(matrix_variants(runs));
            }
            break;
        case ViewId::metrics:
            if (by_variant)
                draw_metrics_by_variant(variants);
            else
                draw_metrics(runs);
            break;
        case ViewId::magnitudes:
        case ViewId::residual:
            draw_magnitude_state(runs, variants);
            break;
        case ViewId::interpolation:
            interpolation_->show_runs(runs);
            break;
        case ViewId::rank_sweep:
            draw_rank_sweep(rank_sweep_, runs);
            break;
        case ViewId::lori:
            lori_->show_run(runs.empty() ? nullptr : runs.front());
            break;
        case ViewId::foundation_classes:
            draw_foundation_classes(runs);
            break;
        case ViewId::contextual_forgetting:
            draw_contextual_forgetting(runs);
            break;
        case ViewId::low_loss_region:
            draw_low_loss_region(runs);
            break;
    }
}

void RunViews::remember_loss(const std::vector<const RunData*>& runs, bool by_variant) {
    loss_drawn_ = {};
    if (by_variant || runs.size() != 1 || loss_->series_count() != 1) return;
    const RunData& run = *runs.front();
    loss_drawn_ = {true, run.record.seed, run.record.method, run.steps.size(),
                   run.steps.empty() ? -1 : run.steps.back().task};
}

bool RunViews::append_loss(const std::vector<const RunData*>& runs, bool by_variant) {
    if (!loss_drawn_.appendable || by_variant || runs.size() != 1 || loss_->series_count() != 1) return false;
    const RunData& run = *runs.front();
    if (run.record.seed != loss_drawn_.seed || run.record.method != loss_drawn_.method ||
        run.steps.size() < loss_drawn_.steps)
        return false;
    QVector<double> x, y;
    x.reserve(static_cast<qsizetype>(run.steps.size() - loss_drawn_.steps));
    y.reserve(x.capacity());
    for (std::size_t i = loss_drawn_.steps; i < run.steps.size(); ++i) {
        const StepMetrics& s = run.steps[i];
        if (s.task != loss_drawn_.last_task) {
            loss_drawn_.last_task = s.task;
            loss_->add_vertical_marker(static_cast<double>(s.step) - 0.5, QStringLiteral(" t%1").arg(s.task));
        }
        x.push_back(static_cast<double>(s.step));
        y.push_back(s.loss);
    }
    loss_drawn_.steps = run.steps.size();
    if (!x.isEmpty()) loss_->append_to_line(0, x, y);
    loss_->finish();
    return true;
}

void RunViews::draw_metrics_by_variant(const std::vector<VariantRuns>& variants) {
    std::vector<widgets::MetricsColumn> columns;
    for (const VariantRuns& v : variants) {
        widgets::MetricsColumn c{qstr(v.label) + (v.runs.size() > 1 ? tr("\nmean ± std, %1 seeds").arg(v.runs.size())
                                                                    : tr("\nseed %1").arg(v.runs.front()->record.seed)),
                                 {}};
        for (const QString& value : metric_values(v.runs, HeadMode::class_il)) c.values.push_back(value);
        c.cost = cost_values(v.runs);
        columns.push_back(std::move(c));
    }
    metrics_->set_columns(columns);
}

void RunViews::draw_metrics(const std::vector<const RunData*>& runs) {
    const bool seeds = runs.size() > 1;

    std::vector<widgets::MetricsColumn> columns;
    auto column = [](const QString& name, const QStringList& values) {
        widgets::MetricsColumn c{name, {}};
        for (const QString& v : values) c.values.push_back(v);
        return c;
    };
    if (!runs.empty()) {
        const QString what = seeds ? tr("\nmean ± std, %1 seeds").arg(runs.size()) : QString();
        columns.push_back(column(tr("class-IL") + what, metric_values(runs, HeadMode::class_il)));
        columns.push_back(column(tr("task-IL") + what, metric_values(runs, HeadMode::task_il)));
        if (seeds)
            for (const RunData* r : runs)
                columns.push_back(
                    column(tr("seed %1, class-IL").arg(r->record.seed), metric_values({r}, HeadMode::class_il)));
    }
    for (size_t i = 0; i < columns.size(); ++i)  // class-IL and task-IL: every run; then one per seed
        columns[i].cost = cost_values(i < 2 ? runs : std::vector<const RunData*>{runs[i - 2]});
    metrics_->set_columns(columns);
}

void RunViews::draw_magnitude_state(const std::vector<const RunData*>& all_runs,
                                    const std::vector<VariantRuns>& variants) {
    const bool by_variant = variants.size() > 1;
    auto has_state = [](const RunData* run) {
        return std::any_of(run->states.begin(), run->states.end(), [](const MethodState& s) {
            return s.key == StateKey::magnitudes || s.key == StateKey::direction_residual;
        });
    };
    std::vector<const RunData*> runs;
    std::vector<QString> suffixes;
    std::vector<QColor> residual_colors;  // a variant's colour in every view; else one per seed
    if (by_variant) {
        for (const VariantRuns& v : variants)
            if (!v.runs.empty() && has_state(v.runs.front())) {
                runs.push_back(v.runs.front());
                suffixes.push_back(QStringLiteral(" · ") + qstr(v.label));
                residual_colors.push_back(series_color(v.index));
            }
    } else {
        for (const RunData* run : all_runs) {
            suffixes.push_back(all_runs.size() > 1 ? QStringLiteral(" (seed %1)").arg(run->record.seed) : QString());
            residual_colors.push_back(series_color(static_cast<int>(runs.size())));
            runs.push_back(run);
        }
    }
    static const Qt::PenStyle kStyles[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine,
                                           Qt::DashDotDotLine};
    dirty_.erase(ViewId::magnitudes);
    dirty_.erase(ViewId::residual);
    // Magnitudes α_k and the direction residual over steps.
    magnitudes_->clear();
    residual_->clear();
    for (std::size_t r = 0; r < runs.size(); ++r) {
        std::map<std::size_t, std::pair<QVector<double>, QVector<double>>> alpha;
        QVector<double> rx, ry;
        for (const MethodState& s : runs[r]->states) {
            if (s.key == StateKey::magnitudes)
                for (std::size_t k = 0; k < s.values.size(); ++k) {
                    alpha[k].first << static_cast<double>(s.step);
                    alpha[k].second << s.values[k];
                }
            else if (s.key == StateKey::direction_residual && !s.values.empty()) {
                rx << static_cast<double>(s.step);
                ry << s.values[0];
            }
        }
        const Qt::PenStyle style = by_variant ? kStyles[r % 5] : (r == 0 ? Qt::SolidLine : Qt::DotLine);
        for (auto& [k, xy] : alpha)
            magnitudes_->add_line(QStringLiteral("α_%1").arg(k) + suffixes[r], xy.first, xy.second,
                                  series_color(static_cast<int>(k)), style);
        if (!rx.isEmpty()) residual_->add_line(tr("residual") + suffixes[r], rx, ry, residual_colors[r]);
    }
    if (!runs.empty()) {
        add_task_markers(magnitudes_, *runs.front());
        add_task_markers(residual_, *runs.front());
    }
    if (magnitudes_->series_count() == 0) magnitudes_->clear();  // markers alone are no data
    if (residual_->series_count() == 0) residual_->clear();
    magnitudes_->finish();
    residual_->finish();
}

void RunViews::draw_foundation_classes(const std::vector<const RunData*>& runs) {
    // Foundation task per class: accuracy of each foundation class after each stream task (first run).
    foundation_classes_->clear();
    if (!runs.empty()) {
        const RunData& run = *runs.front();
        const std::vector<std::string>& names = run.record.facts.class_names;
        std::map<int, std::map<int, double>> per_class;  // class → after_task → accuracy
        for (const ClassEvalRow& row : run.class_evals)
            if (row.eval_task == kFoundationTask && row.total > 0)
                per_class[row.class_id][row.after_task] = 100.0 * row.correct / row.total;
        int i = 0;
        for (const auto& [class_id, points] : per_class) {
            QVector<double> x, y;
            for (const auto& [after, acc] : points) {
                x << after;
                y << acc;
            }
            foundation_classes_->add_line(QStringLiteral("%1 %2").arg(class_id).arg(qstr(class_name(names, class_id))),
                                          x, y, series_color(i++), Qt::SolidLine, true);
        }
    }
    foundation_classes_->finish();
}

void RunViews::draw_contextual_forgetting(const std::vector<const RunData*>& runs) {
    if (runs.empty()) {
        contextual_->set_analysis({});
        return;
    }
    const RunData& run = *runs.front();
    contextual_->set_analysis(lorica::contextual_forgetting(run.points_of(AnalysisKey::class_similarity),
                                                            run.class_evals, run.record.facts.class_names));
}

void RunViews::draw_low_loss_region(const std::vector<const RunData*>& runs) {
    std::vector<AnalysisPoint> points;
    if (!runs.empty())
        for (AnalysisKey key : drawn_keys(ViewId::low_loss_region).analyses) {
            const std::vector<AnalysisPoint> some = runs.front()->points_of(key);
            points.insert(points.end(), some.begin(), some.end());
        }
    low_loss_->set_table(low_loss_table(points));
}

}  // namespace lorica::app
