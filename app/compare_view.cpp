#include "app/compare_view.h"

#include <QHBoxLayout>
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

CompareView::CompareView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* tabs = new QTabWidget(this);
    layout->addWidget(tabs);

    auto* curves = new QSplitter(Qt::Vertical, tabs);
    loss_ = new PlotWidget(tr("Training loss"), tr("step"), tr("loss"), curves);
    loss_->set_empty_message(tr("Select two or more runs in the run browser and press Compare"));
    acc_ = new PlotWidget(tr("Accuracy after each task, Acc(t) (class-IL)"), tr("after task"), tr("accuracy (%)"), curves);
    acc_->set_integer_x_ticks();
    acc_->set_y_range(0, 100);
    curves->addWidget(loss_);
    curves->addWidget(acc_);
    tabs->addTab(curves, tr("Curves"));

    auto* scroll = new QScrollArea(tabs);
    scroll->setWidgetResizable(true);
    auto* matrices = new QWidget(scroll);
    matrix_row_ = new QHBoxLayout(matrices);
    scroll->setWidget(matrices);
    tabs->addTab(scroll, tr("Matrices"));

    metrics_ = new widgets::MetricsTable(tabs);
    tabs->addTab(metrics_, tr("Metrics"));

    interpolation_ = new InterpolationView(tabs);
    tabs->addTab(interpolation_, tr("Interpolation"));
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
        columns.push_back(std::move(c));
    }
    metrics_->set_columns(columns);
    interpolation_->show_runs(pointers);
}

}  // namespace lorica::app
