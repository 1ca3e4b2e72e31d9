#pragma once
// ContextualForgettingView: one stream task's contextual forgetting (engine/eval/contextual_forgetting.h).
//
//   task selector   the tasks that have class similarities ("task 0", ...)
//   summary line    lost samples, mean similarity of the lost samples and of all classes' samples
//   scatter         x = Wu–Palmer similarity of each foundation class to the task ∈ [0, 1],
//                   y = its samples lost since before the stream (count); the `kLabelled` classes that
//                   lost most are named next to their points
//   densities       over the similarity bins: of the lost samples and of all classes' test samples
//                   (each integrates to 1 over [0, 1]), drawn at the bin centres
// It draws the numbers it is given; the CLI and the export print the same ones. GUI thread only.

#include <QStringList>
#include <QWidget>

#include "engine/eval/contextual_forgetting.h"

class QComboBox;
class QLabel;

namespace lorica::widgets {

class PlotWidget;

class ContextualForgettingView : public QWidget {
    Q_OBJECT
public:
    static constexpr int kLabelled = 5;  // classes named on the scatter

    explicit ContextualForgettingView(QWidget* parent = nullptr);

    // Shows `analysis`; the selected task stays selected when it is still there, else the first one.
    void set_analysis(ContextualForgetting analysis);
    // Selects analysis.tasks[index] (the selector follows).
    void select_task(int index);

    int task_count() const { return static_cast<int>(analysis_.tasks.size()); }
    int selected_task() const;  // index into the tasks; -1 when there are none
    QComboBox* task_selector() const { return tasks_; }
    PlotWidget* scatter() const { return scatter_; }
    PlotWidget* density() const { return density_; }
    QString summary() const;
    // The class names written next to scatter points ("3 Dress"), most lost first.
    const QStringList& labelled_classes() const { return labelled_; }

private:
    void draw();

    ContextualForgetting analysis_;
    QComboBox* tasks_ = nullptr;
    QLabel* summary_ = nullptr;
    PlotWidget* scatter_ = nullptr;
    PlotWidget* density_ = nullptr;
    QStringList labelled_;
};

}  // namespace lorica::widgets
