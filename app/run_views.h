#pragma once
// RunViews: every plot of one experiment (a live run, or a reopened one with all its seeds).
//
// The views are drawn from ExperimentData only (run_data.h), so live and stored runs look the same.
// `show` redraws everything; the main window calls it from a single-shot timer, so bursts of training
// events cost one redraw. With several seeds the curves show the mean with a shaded ± std band and
// the metrics table "mean ± std". A view of method-specific state (magnitudes, direction residual,
// merge interpolation, LoRI merge, rank sweep, contextual forgetting, low-loss region) declares the typed keys it draws
// (drawn_keys, view_id.h) and is offered only while a shown run's method record declares one of them
// or the run has recorded one (run_offers_view); never chosen by a method's name. Drawn without data,
// it shows an explanatory empty state.

#include <optional>
#include <set>
#include <vector>

#include <QObject>
#include <QString>

#include "app/view_id.h"
#include <QWidget>

#include "app/run_data.h"

class QHBoxLayout;
class QGridLayout;
class QLabel;

namespace lorica::widgets {
class PlotWidget;
class ContextualForgettingView;
class LowLossRegionView;
class MatrixHeatmap;
class MetricsTable;
struct HeatmapVariant;
}  // namespace lorica::widgets

namespace lorica::app {

// Merge interpolation for several runs side by side (SD-LoRA next to LoRA): one chart per run that
// recorded AnalysisKey::merge_interpolation.
class InterpolationView : public QWidget {
    Q_OBJECT
public:
    explicit InterpolationView(QWidget* parent = nullptr);
    void show_runs(const std::vector<const RunData*>& runs);
    int chart_count() const { return static_cast<int>(charts_.size()); }
    widgets::PlotWidget* chart(int i) const { return charts_[i]; }

private:
    QGridLayout* grid_ = nullptr;  // charts, kInterpolationColumns per row, inside a scroll area
    QLabel* empty_ = nullptr;
    std::vector<widgets::PlotWidget*> charts_;
};

// LoRI: accuracy of each task alone vs. after merging (cat, linear), and the adapters' overlaps.
class LoRIView : public QWidget {
    Q_OBJECT
public:
    explicit LoRIView(QWidget* parent = nullptr);
    void show_run(const RunData* run);
    widgets::PlotWidget* merge_chart() const { return merge_; }

private:
    widgets::PlotWidget* merge_ = nullptr;
    widgets::MatrixHeatmap* overlap_ = nullptr;
};

class RunViews : public QObject {
    Q_OBJECT
public:
    explicit RunViews(QWidget* parent_widget);

    // Shows `data` (which must outlive the views or be replaced by another show call): draws the
    // views on screen — the first now, each further one in a later event-loop turn (after the
    // previous one's replot), so no single turn draws them all; visible_drawn when the last is
    // drawn. Hidden ones (tabs behind others, closed docks) are drawn when they appear (view_shown)
    // or on draw_pending, so a redraw costs only what is visible.
    void show(const ExperimentData& data);
    // `data` is the experiment shown before (the same object), grown by live events: a view whose
    // series only gained points appends them (the loss curve of a single run: its new steps and task
    // boundaries, QCPGraph::addData), the others redraw as in show.
    void show_grown(const ExperimentData& data);
    // A view became visible: draws it if it missed updates.
    void view_shown(ViewId id);
    // Draws every view that missed updates (before exporting or grabbing all of them).
    void draw_pending();
    // True while visible views of the last show wait for their turn.
    bool drawing_visible() const { return step_queued_; }

Q_SIGNALS:
    // Every view on screen shows the data of the last show / show_grown.
    void visible_drawn();
    // The views offered for the shown data changed (offers): the window shows the docks of those
    // offered and hides the others. Emitted by the first show and whenever the set changes.
    void offered_views_changed();

public:
    // The views, for docks (their object names are stable: the window state refers to them).
    struct View {
        ViewId id;
        QString title;             // dock title
        QWidget* widget;           // the chart, table or heatmap
        QString caption;           // one line: what the view shows and how it was computed
        QWidget* panel = nullptr;  // widget above its caption: what a dock holds
    };
    const std::vector<View>& views() const { return views_; }

    widgets::PlotWidget* loss() const { return loss_; }
    widgets::PlotWidget* accuracy() const { return accuracy_; }
    widgets::MatrixHeatmap* matrix() const { return matrix_; }
    widgets::MetricsTable* metrics() const { return metrics_; }
    widgets::PlotWidget* magnitudes() const { return magnitudes_; }
    widgets::PlotWidget* residual() const { return residual_; }
    InterpolationView* interpolation() const { return interpolation_; }
    widgets::PlotWidget* rank_sweep() const { return rank_sweep_; }
    LoRIView* lori() const { return lori_; }
    widgets::PlotWidget* foundation_classes() const { return foundation_classes_; }
    widgets::ContextualForgettingView* contextual_forgetting() const { return contextual_; }
    widgets::LowLossRegionView* low_loss_region() const { return low_loss_; }
    // Whether view `id` is offered for the data of the last show: a view without drawn keys always;
    // a keyed one when run_offers_view holds for one of its runs. Every view before the first show.
    bool offers(ViewId id) const;

private:
    void draw(ViewId id);
    // Draws the first visible view that missed the last show; queues the next one (1 ms timer: the
    // replot this draw queued runs first, in its own turn) or emits visible_drawn.
    void draw_visible_step();
    void show_data(const ExperimentData& data);
    // The loss view of one run, drawn as one line: appends its steps past those drawn; false when the
    // view must be redrawn instead.
    bool append_loss(const std::vector<const RunData*>& runs, bool by_variant);
    void remember_loss(const std::vector<const RunData*>& runs, bool by_variant);
    void draw_metrics(const std::vector<const RunData*>& runs);
    void draw_metrics_by_variant(const std::vector<VariantRuns>& variants);
    // The magnitudes α_k (StateKey::magnitudes) and the direction residual (StateKey::direction_residual):
    // the seeds of a plain experiment overlaid (first solid, others dotted); for an experiment with
    // variants, the first seed of each variant that records them (line style per variant, colour per
    // α_k), so 11 variants × 3 seeds stay readable.
    void draw_magnitude_state(const std::vector<const RunData*>& runs, const std::vector<VariantRuns>& variants);
    void draw_foundation_classes(const std::vector<const RunData*>& runs);
    // The first run's contextual forgetting (engine/eval/contextual_forgetting.h).
    void draw_contextual_forgetting(const std::vector<const RunData*>& runs);
    // The first run's low-loss region (engine/eval/low_loss_table.h).
    void draw_low_loss_region(const std::vector<const RunData*>& runs);

    const ExperimentData* data_ = nullptr;
    bool grown_ = false;        // the last show was a show_grown (views drawn for it may append)
    bool step_queued_ = false;  // draw_visible_step is queued
    // What the loss view holds when it is one line of one run (appendable), else empty.
    struct LossDrawn {
        bool appendable = false;
        int64_t seed = 0;
        std::string method;
        std::size_t steps = 0;  // steps drawn
        int last_task = -1;     // task of the last drawn step (a new one starts a boundary marker)
    } loss_drawn_;
    std::set<ViewId> dirty_;
    std::vector<View> views_;
    widgets::PlotWidget* loss_;
    widgets::PlotWidget* accuracy_;
    widgets::MatrixHeatmap* matrix_;
    widgets::MetricsTable* metrics_;
    widgets::PlotWidget* magnitudes_;
    widgets::PlotWidget* residual_;
    InterpolationView* interpolation_;
    widgets::PlotWidget* rank_sweep_;
    LoRIView* lori_;
    widgets::PlotWidget* foundation_classes_;
    widgets::ContextualForgettingView* contextual_;
    widgets::LowLossRegionView* low_loss_;
    std::optional<std::set<ViewId>> offered_;  // the keyed views offered for the shown data; unset before a show
};

// Whether view `id` is offered for `run`: always for a view without drawn keys (drawn_keys,
// view_id.h); else when the method record of run.record.facts.method declares one of its keys, or
// when the run has recorded one (state or analysis points: old runs, methods not registered here).
bool run_offers_view(const RunData& run, ViewId id);

// ---- drawing helpers shared with the compare view ------------------------------------------------

// Loss over steps: one line per run, or (as_band) the mean ± std over the runs; task boundaries of
// the first run as markers.
void draw_loss(widgets::PlotWidget* plot, const std::vector<const RunData*>& runs, bool as_band);
// Accuracy R[·][j] of every task j over steps (end-of-task and in-task evaluations), class-IL.
void draw_task_accuracy(widgets::PlotWidget* plot, const std::vector<const RunData*>& runs, bool as_band);
// The accuracy/forgetting variants (class-IL, task-IL) of the mean matrix over `runs`.
std::vector<widgets::HeatmapVariant> matrix_variants(const std::vector<const RunData*>& runs);
// Metric column of one run (class-IL) or of the mean ± std over runs.
QStringList metric_values(const std::vector<const RunData*>& runs, HeadMode mode);
// The cost rows of the metrics table (cost_columns() order): each run's final cost, mean over `runs`.
std::vector<QString> cost_values(const std::vector<const RunData*>& runs);
void draw_rank_sweep(widgets::PlotWidget* plot, const std::vector<const RunData*>& runs);
// An experiment with variants: one loss curve per variant (a mean ± std band over its seeds, named
// "<label>, N seeds"), coloured series_color(variant index) in every view.
void draw_loss_by_variant(widgets::PlotWidget* plot, const std::vector<VariantRuns>& variants);
// Per variant: the average class-IL accuracy over the tasks seen so far after each task (A_t).
void draw_average_accuracy_by_variant(widgets::PlotWidget* plot, const std::vector<VariantRuns>& variants);
// "<label>, N seeds" (just the label for one seed): the series name of a variant.
QString variant_series_name(const VariantRuns& variants);

}  // namespace lorica::app
