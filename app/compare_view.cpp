#include "app/compare_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QScrollArea>
#include <QSplitter>
#include <QTabWidget>
#include <QVBoxLayout>

#include "app/run_views.h"
#include "widgets/matrix_heatmap.h"
#include "widgets/metrics_table.h"
#include "widgets/plot_widget.h"

namespace lorica::app {

using widgets::PlotWidget;

namespace {

// `content` above a one-line caption saying what the tab shows and how it was computed (as the run
// views' panels do).
QWidget* captioned(QWidget* content, const QString& caption, QWidget* parent) {
    auto* panel = new QWidget(parent);
    auto* layout = new QVBoxLayout(panel);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    content->setParent(panel);
    layout->addWidget(content, 1);
    auto* label = new QLabel(caption, panel);
    label->setWordWrap(true);
    label->setObjectName(QStringLiteral("caption"));
    label->setForegroundRole(QPalette::PlaceholderText);
    QFont small = label->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    label->setFont(small);
    label->setContentsMargins(6, 0, 6, 2);
    layout->addWidget(label);
    return panel;
}

}  // namespace

CompareView::CompareView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* tabs = new QTabWidget(this);
    layout->addWidget(tabs);

    auto* curves = new QSplitter(Qt::Vertical, tabs);
    loss_ = new PlotWidget(tr("Training loss"), tr("step"), tr("loss"), curves);
    loss_->set_empty_message(tr("Select two or more runs in the run browser and press Compare"));
    acc_ =
        new PlotWidget(tr("Accuracy after each task, Acc(t) (class-IL)"), tr("after task"), tr("accuracy (%)"), curves);
    acc_->set_integer_x_ticks();
    acc_->set_empty_message(tr("Select two or more runs in the run browser and press Compare"));
    acc_->set_y_range(0, 100);
    curves->addWidget(loss_);
    curves->addWidget(acc_);
    tabs->addTab(captioned(curves,
                           tr("Loss of each training batch per optimizer step, one line per run (long curves: each "
                              "pixel column's min and max); Acc(t): mean class-IL accuracy over the tasks seen, after "
                              "each task t."),
                           tabs),
                 tr("Curves"));

    auto* scroll = new QScrollArea(tabs);
    scroll->setWidgetResizable(true);
    auto* matrices = new QWidget(scroll);
    matrix_row_ = new QHBoxLayout(matrices);
    scroll->setWidget(matrices);
    tabs->addTab(captioned(scroll,
                           tr("Each run's R[i][j]: accuracy on task j after training task i; switch head mode and "
                              "accuracy/forgetting above each matrix."),
                           tabs),
                 tr("Matrices"));

    metrics_ = new widgets::MetricsTable(tabs);
    tabs->addTab(captioned(metrics_,
                           tr("Acc, AAA, BWT, FWT and forgetting of each run, computed from its class-IL accuracy "
                              "matrix (hover a row for its formula), then its cost after the last task (SD-LoRA's "
                              "Table 5): inference GFLOPs per image, learnable, stored parameters and stored "
                              "features; one column per run."),
                           tabs),
                 tr("Metrics"));

    interpolation_ = new InterpolationView(tabs);
    tabs->addTab(captioned(interpolation_,
                           tr("Accuracy on tasks 0 and 1 along W(λ) = (1 − λ) W₀ + λ W₁ between the merged weights "
                              "after tasks 0 and 1, for each run that recorded it (SD-LoRA next to LoRA)."),
                           tabs),
                 tr("Interpolation"));
}

void CompareView::show_runs(std::vector<RunData> runs) {
    runs_ = std::move(runs);
    std::vector<const RunData*> pointers;
    for (const RunData& r : runs_) pointers.push_back(&r);

    draw_loss(loss_, pointers, false);
    acc_->clear();
    for (std::size_t i = 0; i < runs_.size(); ++i) {
        const MetricSet m = runs_[i].metrics(HeadMode::class_il);
        QVector<double> x, y;
        for (std::size_t t = 0; t < m.acc_after_task.size(); ++t)
            if (m.acc_after_task[t]) {
                x << static_cast<double>(t);
                y << *m.acc_after_task[t];
            }
        acc_->add_line(QString::fromStdString(runs_[i].label()), x, y, widgets::series_color(static_cast<int>(i)),
                       Qt::SolidLine, true);
    }
    acc_->finish();

    for (auto* m : matrices_) delete m;
    matrices_.clear();
    for (const RunData* run : pointers) {
        auto* heatmap = new widgets::MatrixHeatmap(QString::fromStdString(run->label()), tr("after task t"),
                                                   tr("evaluated task j"), matrix_row_->parentWidget());
        heatmap->setMinimumWidth(320);
        heatmap->set_variants(matrix_variants({run}));
        matrix_row_->addWidget(heatmap);
        matrices_.push_back(heatmap);
    }

    std::vector<widgets::MetricsColumn> columns;
    for (const RunData* run : pointers) {
        widgets::MetricsColumn c{QString::fromStdString(run->label()), {}};
        for (const QString& v : metric_values({run}, HeadMode::class_il)) c.values.push_back(v);
        c.cost = cost_values({run});
        columns.push_back(std::move(c));
    }
    metrics_->set_columns(columns);
    interpolation_->show_runs(pointers);
}

}  // namespace lorica::app
