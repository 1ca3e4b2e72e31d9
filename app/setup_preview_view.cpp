#include "app/setup_preview_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPixmap>
#include <QVBoxLayout>

namespace lorica::app {

QImage preview_image(const TaskPreview& task, int sample) {
    if (sample < 0 || sample >= task.samples() || task.width <= 0 || task.height <= 0) return {};
    const int64_t stride = int64_t(task.height) * task.width * 3;
    const uchar* data = task.display_rgb.data() + stride * sample;
    return QImage(data, task.width, task.height, task.width * 3, QImage::Format_RGB888).copy();
}

SetupPreviewView::SetupPreviewView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    caption_ = new QLabel(tr("Sample training images of each task as the model sees them: the task's domain transform "
                             "and the normalisation applied, shown un-normalised (x · std + mean, clamped to [0, 1])."),
                          this);
    caption_->setWordWrap(true);
    caption_->setObjectName(QStringLiteral("caption"));
    layout->addWidget(caption_);
    message_ = new QLabel(this);
    message_->setWordWrap(true);
    layout->addWidget(message_);
    rows_ = new QVBoxLayout;
    rows_->setSpacing(6);
    layout->addLayout(rows_);
}

void SetupPreviewView::clear_rows() {
    while (QLayoutItem* item = rows_->takeAt(0)) {
        if (QWidget* w = item->widget()) w->deleteLater();
        delete item;
    }
    lines_.clear();
    images_.clear();
}

void SetupPreviewView::show_message(const QString& message) {
    message_->setText(message);
    message_->setVisible(!message.isEmpty());
}

void SetupPreviewView::show_preview(const StreamPreview& preview) {
    clear_rows();
    show_message({});
    for (const TaskPreview& task : preview.tasks) {
        QStringList classes;
        for (size_t i = 0; i < task.classes.size(); ++i)
            classes << QStringLiteral("%1 %2").arg(task.classes[i]).arg(QString::fromStdString(task.class_names[i]));
        const QString line = QStringLiteral("t%1 %2 — %3")
                                 .arg(task.task)
                                 .arg(QString::fromStdString(task.domain), classes.join(QStringLiteral(", ")));
        lines_ << line;
        std::vector<QImage> images;
        for (int s = 0; s < task.samples(); ++s) images.push_back(preview_image(task, s));

        auto* row = new QWidget(this);
        auto* row_layout = new QVBoxLayout(row);
        row_layout->setContentsMargins(0, 0, 0, 0);
        row_layout->setSpacing(2);
        auto* label = new QLabel(line, row);
        label->setToolTip(
            tr("%1 training images; samples at positions spread over the task's set").arg(task.train_size));
        row_layout->addWidget(label);
        // The strip: every sample side by side, each enlarged to about 56 px with whole-pixel scaling.
        if (!images.empty()) {
            const int scale = std::max(1, 56 / std::max(task.width, task.height));
            const int w = task.width * scale, h = task.height * scale, gap = 4;
            QPixmap strip(int(images.size()) * (w + gap) - gap, h);
            strip.fill(Qt::transparent);
            QPainter painter(&strip);
            for (size_t i = 0; i < images.size(); ++i) painter.drawImage(QRect(int(i) * (w + gap), 0, w, h), images[i]);
            painter.end();
            auto* picture = new QLabel(row);
            picture->setPixmap(strip);
            picture->setObjectName(QStringLiteral("strip_t%1").arg(task.task));
            QStringList labels;
            for (int l : task.sample_labels) labels << QString::number(l);
            picture->setToolTip(tr("labels: %1").arg(labels.join(QStringLiteral(" "))));
            row_layout->addWidget(picture);
        }
        rows_->addWidget(row);
        images_.push_back(std::move(images));
    }
    if (preview.tasks.empty()) show_message(tr("(the stream has no tasks)"));
}

QStringList SetupPreviewView::task_lines() const { return lines_; }

QImage SetupPreviewView::sample_image(int task, int sample) const {
    if (task < 0 || task >= int(images_.size()) || sample < 0 || sample >= int(images_[task].size())) return {};
    return images_[task][sample];
}

QString SetupPreviewView::message() const { return message_->text(); }

}  // namespace lorica::app
