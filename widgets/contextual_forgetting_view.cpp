#include "widgets/contextual_forgetting_view.h"

#include <algorithm>
#include <cmath>

#include <QComboBox>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QVBoxLayout>

#include "widgets/plot_widget.h"
#include "widgets/qcustomplot_include.h"

namespace lorica::widgets {

namespace {

QString similarity_text(double value) {
    return std::isfinite(value) ? QString::number(value, 'f', 3) : QStringLiteral("–");
}

}  // namespace

ContextualForgettingView::ContextualForgettingView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    auto* header = new QHBoxLayout;
    header->setContentsMargins(6, 2, 6, 0);
    header->addWidget(new QLabel(tr("After task"), this));
    tasks_ = new QComboBox(this);
    tasks_->setObjectName(QStringLiteral("contextual_task"));
    tasks_->setToolTip(tr("The stream task whose lost foundation samples are shown"));
    header->addWidget(tasks_);
    summary_ = new QLabel(this);
    summary_->setObjectName(QStringLiteral("contextual_summary"));
    summary_->setWordWrap(true);
    header->addWidget(summary_, 1);
    layout->addLayout(header);
    auto* charts = new QHBoxLayout;
    charts->setContentsMargins(0, 0, 0, 0);
    scatter_ = new PlotWidget(tr("Lost samples per foundation class"), tr("WordNet similarity to the task"),
                              tr("samples lost since the start"), this);
    scatter_->setObjectName(QStringLiteral("contextual_scatter"));
    density_ = new PlotWidget(tr("Similarity density"), tr("WordNet similarity to the task"), tr("density"), this);
    density_->setObjectName(QStringLiteral("contextual_density"));
    for (PlotWidget* plot : {scatter_, density_}) {
        plot->set_empty_message(
            tr("No class similarities in this run.\nThey are stored when the run has a foundation task\n"
               "and WordNet (package wordnet-base) is installed."));
        charts->addWidget(plot, 1);
    }
    layout->addLayout(charts, 1);
    connect(tasks_, &QComboBox::currentIndexChanged, this, [this](int) { draw(); });
    draw();
}

void ContextualForgettingView::set_analysis(ContextualForgetting analysis) {
    const int previous = selected_task() >= 0 ? analysis_.tasks[selected_task()].task : -1;
    analysis_ = std::move(analysis);
    const QSignalBlocker block(tasks_);
    tasks_->clear();
    int keep = 0;
    for (int i = 0; i < task_count(); ++i) {
        tasks_->addItem(tr("task %1").arg(analysis_.tasks[i].task));
        if (analysis_.tasks[i].task == previous) keep = i;
    }
    tasks_->setCurrentIndex(task_count() > 0 ? keep : -1);
    tasks_->setEnabled(task_count() > 1);
    draw();
}

void ContextualForgettingView::select_task(int index) { tasks_->setCurrentIndex(index); }

int ContextualForgettingView::selected_task() const {
    const int i = tasks_->currentIndex();
    return i >= 0 && i < task_count() ? i : -1;
}

QString ContextualForgettingView::summary() const { return summary_->text(); }

void ContextualForgettingView::draw() {
    scatter_->clear();
    density_->clear();
    labelled_.clear();
    const int selected = selected_task();
    if (selected < 0) {
        summary_->setText(task_count() == 0 && analysis_.tasks.empty() ? QString() : tr("no task selected"));
        scatter_->finish();
        density_->finish();
        return;
    }
    const ContextualForgettingTask& t = analysis_.tasks[selected];
    if (t.classes.empty()) {
        summary_->setText(tr("No per-class evaluation after task %1 yet.").arg(t.task));
    } else {
        summary_->setText(tr("%1 of %2 samples lost · mean similarity: lost %3, all classes %4")
                              .arg(t.lost_total)
                              .arg(t.samples_total)
                              .arg(similarity_text(t.lost_mean), similarity_text(t.class_mean)));
    }
    QVector<double> x, y;
    for (const ForgettingClassPoint& c : t.classes) {
        x << c.similarity;
        y << static_cast<double>(c.lost);
    }
    if (!x.isEmpty()) {
        scatter_->add_line(tr("foundation classes"), x, y, series_color(0), Qt::NoPen, true);
        QVector<double> tx, ty;
        for (int i = 0; i < static_cast<int>(t.top.size()) && i < kLabelled; ++i) {
            const ForgettingClassPoint& c = t.top[i];
            if (c.lost <= 0) break;  // nothing lost: nothing to name
            tx << c.similarity;
            ty << static_cast<double>(c.lost);
            const QString name = QStringLiteral("%1 %2").arg(c.class_id).arg(QString::fromStdString(c.class_name));
            labelled_ << name;
            auto* label = new QCPItemText(scatter_->plot());
            label->position->setType(QCPItemPosition::ptPlotCoords);
            label->position->setCoords(c.similarity, static_cast<double>(c.lost));
            // Right of the point, or left of it near the right edge (similarity 1), inside the chart.
            const bool left = c.similarity > 0.7;
            // Names of points close together stack upwards, one text line each.
            int below = 0;
            for (int k = 0; k + 1 < tx.size(); ++k)
                below += std::abs(tx[k] - c.similarity) < 0.1 && std::abs(ty[k] - ty.back()) <= 0.08 * ty.front();
            const int lift = 2 + below * (QFontMetrics(label->font()).height() + 1);
            label->setPositionAlignment((left ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignBottom);
            label->setPadding(left ? QMargins(0, 0, 4, lift) : QMargins(4, 0, 0, lift));
            label->setText(name);
            label->setColor(palette().color(QPalette::WindowText));
        }
        if (!tx.isEmpty())
            scatter_->add_line(tr("top %1 lost").arg(tx.size()), tx, ty, series_color(1), Qt::NoPen, true);
        QVector<double> centres, lost, all;
        for (int b = 0; b < analysis_.bins; ++b) {
            centres << (analysis_.bin_low(b) + analysis_.bin_high(b)) / 2;
            lost << t.lost_density[b];
            all << t.class_density[b];
        }
        if (t.lost_total > 0) density_->add_line(tr("lost samples"), centres, lost, series_color(1), Qt::SolidLine);
        density_->add_line(tr("all classes' samples"), centres, all, series_color(0), Qt::DashLine);
        // A histogram: each bin's value held over its width.
        for (int g = 0; g < density_->plot()->graphCount(); ++g)
            density_->plot()->graph(g)->setLineStyle(QCPGraph::lsStepCenter);
    }
    scatter_->finish();
    density_->finish();
    // Similarity is in [0, 1] whatever the points; the lost counts get room above for the names.
    for (PlotWidget* plot : {scatter_, density_}) plot->plot()->xAxis->setRange(-0.02, 1.02);
    if (!x.isEmpty()) {
        double top = 1.0;
        for (double v : y) top = std::max(top, v);
        scatter_->plot()->yAxis->setRange(-0.05 * top, 1.2 * top);
    }
}

}  // namespace lorica::widgets
