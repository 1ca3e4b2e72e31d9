#include "app/prepare_dialog.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "engine/util/paths.h"

namespace lorica::app {

namespace {

// "45 s", "3 min 20 s", "2 h 05 min".
QString prepare_duration_text(double seconds) {
    const qint64 s = static_cast<qint64>(std::llround(std::max(0.0, seconds)));
    if (s < 60) return QObject::tr("%1 s").arg(s);
    if (s < 3600) return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return QObject::tr("%1 h %2 min").arg(s / 3600).arg(s % 3600 / 60, 2, 10, QLatin1Char('0'));
}

QString prepare_megabytes_text(qint64 bytes) {
    return QObject::tr("%1 MB").arg(static_cast<double>(bytes) / 1e6, 0, 'f', 1);
}

}  // namespace

QString default_prepared_folder(const ExperimentConfig& config) {
    if (!config.data.prepared.empty()) return QString::fromStdString(config.data.prepared);
    const QString size = QString::number(prepare_resize_size(config));
    QString root = QString::fromStdString(config.data.root);
    if (root.isEmpty() && !config.stream.datasets.empty())
        root = QString::fromStdString(config.stream.datasets.front().root);
    QString name = QString::fromStdString(config.name);
    if (!root.isEmpty()) {
        const QFileInfo info(QDir::cleanPath(root));
        name = info.fileName();
        const QFileInfo parent(info.absolutePath());
        if (!name.isEmpty() && parent.isDir() && parent.isWritable())
            return QDir(info.absolutePath()).filePath(name + QStringLiteral("-prepared-") + size);
    }
    if (name.isEmpty()) name = QStringLiteral("data");
    return QDir(QString::fromStdString(default_data_dir()))
        .filePath(QStringLiteral("prepared/") + name + QStringLiteral("-") + size);
}

PrepareDialog::PrepareDialog(const ExperimentConfig& config, QWidget* parent) : QDialog(parent), config_(config) {
    setWindowTitle(tr("Prepare data set"));
    setObjectName(QStringLiteral("prepare_dialog"));
    worker_ = new PrepareWorker(this);

    auto* about = new QLabel(
        tr("Decodes every image of this config's data once, resized to %1 px (shorter side), into 8-bit shards in "
           "the folder. Runs with <i>data.prepared</i> set to it read those instead of decoding the files every "
           "epoch. An interrupted preparation continues where it stopped.")
            .arg(prepare_resize_size(config)),
        this);
    about->setWordWrap(true);

    folder_ = new QLineEdit(default_prepared_folder(config), this);
    folder_->setObjectName(QStringLiteral("prepare_folder"));
    folder_->setToolTip(tr("Where the prepared images go (created when missing; nothing outside it is written)"));
    browse_ = new QToolButton(this);
    browse_->setText(tr("Browse…"));
    connect(browse_, &QToolButton::clicked, this, [this] {
        const QString chosen = QFileDialog::getExistingDirectory(this, tr("Folder of the prepared images"), folder());
        if (!chosen.isEmpty()) set_folder(chosen);
    });
    auto* folder_row = new QHBoxLayout;
    folder_row->addWidget(new QLabel(tr("Folder"), this));
    folder_row->addWidget(folder_, 1);
    folder_row->addWidget(browse_);

    bar_ = new QProgressBar(this);
    bar_->setObjectName(QStringLiteral("prepare_progress"));
    bar_->setRange(0, 1);
    bar_->setValue(0);
    bar_->setTextVisible(true);
    bar_->setFormat(QStringLiteral("%p%"));
    progress_ = new QLabel(tr("not started"), this);
    progress_->setObjectName(QStringLiteral("prepare_progress_text"));
    set_ = new QLabel(this);
    set_->setWordWrap(true);
    set_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* progress_row = new QHBoxLayout;
    progress_row->addWidget(bar_, 1);
    progress_row->addWidget(progress_);

    outcome_ = new QLabel(this);
    outcome_->setObjectName(QStringLiteral("prepare_outcome"));
    outcome_->setWordWrap(true);
    outcome_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    outcome_->hide();

    prepare_button_ = new QPushButton(tr("Prepare"), this);
    prepare_button_->setDefault(true);
    cancel_button_ = new QPushButton(tr("Close"), this);
    connect(prepare_button_, &QPushButton::clicked, this, [this] { start(); });
    connect(cancel_button_, &QPushButton::clicked, this, &PrepareDialog::reject);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(prepare_button_);
    buttons->addWidget(cancel_button_);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(about);
    layout->addLayout(folder_row);
    layout->addLayout(progress_row);
    layout->addWidget(set_);
    layout->addWidget(outcome_);
    layout->addStretch();
    layout->addLayout(buttons);
    resize(640, sizeHint().height());

    connect(worker_, &PrepareWorker::progress, this, &PrepareDialog::show_progress);
    connect(worker_, &PrepareWorker::finished, this, &PrepareDialog::show_outcome);
}

QString PrepareDialog::folder() const { return folder_->text().trimmed(); }

void PrepareDialog::set_folder(const QString& dir) { folder_->setText(dir); }

QString PrepareDialog::progress_text() const { return progress_->text(); }

QString PrepareDialog::outcome_text() const { return outcome_->isHidden() ? QString() : outcome_->text(); }

bool PrepareDialog::start() {
    if (worker_->running()) return false;
    if (folder().isEmpty()) {
        outcome_->setText(tr("Choose a folder for the prepared images first."));
        outcome_->show();
        return false;
    }
    outcome_->hide();
    bar_->setRange(0, 1);
    bar_->setValue(0);
    progress_->setText(tr("reading the data sets…"));
    set_->clear();
    if (!worker_->start(config_, folder())) return false;
    set_running(true);
    return true;
}

void PrepareDialog::cancel() {
    if (!worker_->running()) return;
    worker_->cancel();
    progress_->setText(tr("cancelling… (after the image in progress)"));
    cancel_button_->setEnabled(false);
}

void PrepareDialog::reject() {
    if (worker_->running())
        cancel();
    else
        QDialog::reject();
}

void PrepareDialog::set_running(bool running) {
    folder_->setEnabled(!running);
    browse_->setEnabled(!running);
    prepare_button_->setEnabled(!running);
    cancel_button_->setEnabled(true);
    cancel_button_->setText(running ? tr("Cancel") : tr("Close"));
    (running ? prepare_button_ : cancel_button_)->setDefault(true);
}

void PrepareDialog::show_progress(const PrepareUpdate& u) {
    // The bar counts images; a set of more than INT_MAX images is beyond any data set prepared here.
    bar_->setRange(0, static_cast<int>(std::max<qint64>(1, u.total)));
    bar_->setValue(static_cast<int>(u.done));
    QString text = tr("%1 / %2 images").arg(u.done).arg(u.total);
    if (u.done < u.total && u.eta_seconds >= 0) text += tr(" · %1 left").arg(prepare_duration_text(u.eta_seconds));
    if (u.done >= u.total) text += tr(" · %1").arg(prepare_duration_text(u.seconds));
    if (worker_->running() && cancel_button_->isEnabled()) progress_->setText(text);
    set_->setText(u.set.isEmpty() ? QString() : tr("writing: %1").arg(u.set));
}

void PrepareDialog::show_outcome(const PrepareOutcome& o) {
    set_running(false);
    switch (o.status) {
        case PrepareOutcome::Status::finished:
            bar_->setRange(0, static_cast<int>(std::max<qint64>(1, o.images)));
            bar_->setValue(static_cast<int>(o.images));
            progress_->setText(tr("%1 / %1 images · %2").arg(o.images).arg(prepare_duration_text(o.seconds)));
            set_->clear();
            outcome_->setText(
                o.images_written == 0
                    ? tr("The folder already held every image (%1, %2); data.prepared is set to it.")
                          .arg(o.images)
                          .arg(prepare_megabytes_text(o.bytes))
                    : tr("Prepared %1 images (%2 decoded now, %3 in all) in %4; data.prepared is set to the folder.")
                          .arg(o.images)
                          .arg(o.images_written)
                          .arg(prepare_megabytes_text(o.bytes))
                          .arg(prepare_duration_text(o.seconds)));
            outcome_->setStyleSheet(QString());
            break;
        case PrepareOutcome::Status::cancelled:
            progress_->setText(tr("cancelled at %1 / %2 images").arg(o.images_written).arg(o.images));
            outcome_->setText(
                tr("Cancelled. The images written so far stay in the folder: Prepare into the same "
                   "folder again and it continues where this stopped."));
            outcome_->setStyleSheet(QString());
            break;
        case PrepareOutcome::Status::failed:
            progress_->setText(tr("failed"));
            outcome_->setText(tr("Cannot prepare: %1").arg(o.message));
            outcome_->setStyleSheet(QStringLiteral("color: #d04040;"));
            break;
    }
    outcome_->show();
    if (o.status == PrepareOutcome::Status::finished) Q_EMIT prepared(o.dir, o);
    Q_EMIT ended(o);
}

}  // namespace lorica::app
