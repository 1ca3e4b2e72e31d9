#pragma once
// SetupPreviewView: the stream step's preview. One row per task: "t1 invert — 2 Pullover, 7 Sneaker"
// and a strip of the task's sample images exactly as the model sees them (domain transform and
// normalisation applied, engine/data/task_preview.h), drawn un-normalised (x · std + mean, i.e. the
// transformed pixels in [0, 1]) and enlarged with nearest-neighbour pixels so small images stay sharp.
// The view only draws what it is given; the preview is computed off the GUI thread (SetupWorker).

#include <QImage>
#include <QStringList>
#include <QWidget>

#include "engine/data/task_preview.h"

class QLabel;
class QVBoxLayout;

namespace lorica::app {

class SetupPreviewView : public QWidget {
    Q_OBJECT
public:
    explicit SetupPreviewView(QWidget* parent = nullptr);

    void show_preview(const StreamPreview& preview);
    // A line instead of the strips: "loading…", or why there is no preview.
    void show_message(const QString& message);

    // One line per task row shown (tests, screenshots).
    QStringList task_lines() const;
    // Sample `sample` of task row `task` at its own size (RGB888), or a null image.
    QImage sample_image(int task, int sample) const;
    QString message() const;

private:
    void clear_rows();

    QLabel* caption_ = nullptr;
    QLabel* message_ = nullptr;
    QVBoxLayout* rows_ = nullptr;
    QStringList lines_;
    std::vector<std::vector<QImage>> images_;
};

// The display pixels of sample `sample` of `task` as an RGB888 image (a deep copy).
QImage preview_image(const TaskPreview& task, int sample);

}  // namespace lorica::app
