// ConfigEditor, part: what the steps show besides their fields. The data-set check and the stream's
// task list are computed at once; the stream preview, the backbone weights check and the training
// estimate run on SetupWorkers (a newer request supersedes an older one).

#include <algorithm>

#include <QFrame>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScopeGuard>
#include <QTimer>

#include "app/config_editor.h"
#include "app/config_json_path.h"
#include "app/run_data.h"
#include "app/setup_preview_view.h"
#include "app/setup_worker.h"
#include "engine/config/dataset_catalog.h"
#include "engine/data/dataset_location.h"
#include "engine/stream/stream_spec.h"

namespace lorica::app {

void ConfigEditor::update_task_list() {
    if (!tasks_) return;
    tasks_->clear();
    // As tall as its lines (at most 12), so the preview below starts right after it.
    const auto fit = qScopeGuard([this] {
        const int rows = std::clamp(tasks_->count(), 1, 12);
        tasks_->setFixedHeight(rows * tasks_->fontMetrics().lineSpacing() + 2 * tasks_->frameWidth() + 6);
    });
    if (!valid()) {
        tasks_->addItem(tr("(fix the config to see the tasks)"));
        return;
    }
    // The catalogue's classes (dataset_catalog.h): CIFAR-100 has 100 fine or 20 coarse ones.
    const int num_classes = dataset_num_classes(config_.data.dataset, config_.data.cifar100_labels);
    if (num_classes == 0) {
        tasks_->addItem(tr("(classes of an image folder are known once it is read)"));
        return;
    }
    try {
        const int64_t seed =
            config_.stream.class_order_seed.value_or(config_.seeds.empty() ? 0 : config_.seeds.front());
        const StreamSpec spec = make_stream_spec(config_, seed, num_classes);
        const std::vector<std::string>& class_names =
            dataset_class_names(config_.data.dataset, config_.data.cifar100_labels);
        auto names = [&class_names](const std::vector<int>& classes) {
            QStringList out;
            for (int c : classes)
                out << QStringLiteral("%1 %2").arg(c).arg(QString::fromStdString(class_name(class_names, c)));
            return out.join(QStringLiteral(", "));
        };
        if (!spec.foundation_classes.empty()) tasks_->addItem(tr("foundation: %1").arg(names(spec.foundation_classes)));
        for (const TaskSpec& task : spec.tasks)
            tasks_->addItem(QStringLiteral("t%1 [%2]: %3")
                                .arg(task.index)
                                .arg(QString::fromStdString(task.domain), names(task.classes)));
    } catch (const std::exception& e) {
        tasks_->addItem(QString::fromUtf8(e.what()));
    }
}

QStringList ConfigEditor::task_list() const {
    QStringList out;
    for (int i = 0; tasks_ && i < tasks_->count(); ++i) out << tasks_->item(i)->text();
    return out;
}

void ConfigEditor::update_dataset_check() {
    if (!dataset_check_) return;
    DataConfig data;
    try {
        data = parse_experiment_config(nlohmann::json{{"data", get_json_path(document_, "data")}}).data;
    } catch (const std::exception&) {
        const QString dataset = json_value_text(get_json_path(document_, "data.dataset"));
        const std::optional<DatasetId> id = value_of(kDatasetNames, dataset.toStdString());
        if (!id) {
            dataset_check_->setText(tr("✖ missing: data.dataset '%1' is not a known data set").arg(dataset));
            dataset_check_->setStyleSheet(QStringLiteral("color: #d04040;"));
            return;
        }
        data.dataset = *id;
        data.root = json_value_text(get_json_path(document_, "data.root")).toStdString();
        data.file_list = json_value_text(get_json_path(document_, "data.file_list")).toStdString();
    }
    const DatasetLocation where = locate_dataset(data);
    const QString place = where.path.empty() ? QString()
                                             : QString::fromStdString(where.path) +
                                                   (where.is_default ? tr(" (default location)") : QString());
    if (where.present) {
        dataset_check_->setText(tr("✔ found: %1 — %2").arg(place, QString::fromStdString(where.detail)));
        dataset_check_->setStyleSheet(QStringLiteral("color: #3a9a4a;"));
    } else {
        dataset_check_->setText(tr("✖ missing: %1").arg(QString::fromStdString(where.detail)));
        dataset_check_->setStyleSheet(QStringLiteral("color: #d04040;"));
    }
}

QString ConfigEditor::dataset_check_text() const { return dataset_check_ ? dataset_check_->text() : QString(); }

void ConfigEditor::schedule_lookups() {
    if (!lookup_timer_) return;
    lookup_timer_->start();
    if (current_step() == SetupStep::summary) estimate_timer_->start();
}

namespace {

// What a preview depends on: the data set, the stream, the backbone's input size, the seeds.
std::string preview_key(const nlohmann::json& config) {
    return nlohmann::json{config["data"], config["stream"], config["backbone"], config["seeds"], config["foundation"]}
        .dump();
}

QString thousands(int64_t n) { return QLocale(QLocale::English).toString(static_cast<qlonglong>(n)); }

QString duration_text(double seconds) {
    if (seconds < 90) return QStringLiteral("%1 s").arg(seconds, 0, 'f', seconds < 10 ? 1 : 0);
    if (seconds < 5400) return QStringLiteral("%1 min").arg(seconds / 60, 0, 'f', 0);
    return QStringLiteral("%1 h").arg(seconds / 3600, 0, 'f', 1);
}

}  // namespace

void ConfigEditor::request_preview() {
    if (!preview_view_) return;
    if (!valid()) {
        preview_view_->show_message(tr("(fix the config to see the preview)"));
        return;
    }
    const nlohmann::json config = to_json(config_);
    const std::string key = preview_key(config);
    if (key == preview_key_) return;
    preview_key_ = key;
    preview_busy_ = true;
    preview_view_->show_message(tr("loading the preview…"));
    auto previewer = previewer_;
    const ExperimentConfig cfg = config_;
    lookups_->submit<StreamPreview>(
        SetupWorker::Lane::preview, [previewer, cfg] { return previewer->preview(cfg, kPreviewSamplesPerTask); },
        [this](StreamPreview preview, const QString& error) {
            preview_busy_ = false;
            if (error.isEmpty()) {
                preview_view_->show_preview(preview);
                preview_ = std::move(preview);
            } else {
                preview_view_->show_preview(StreamPreview{});
                preview_view_->show_message(tr("✖ no preview: %1").arg(error));
                preview_.reset();
            }
            Q_EMIT preview_shown(error);
        });
}

QStringList ConfigEditor::preview_lines() const { return preview_view_ ? preview_view_->task_lines() : QStringList(); }

QString ConfigEditor::preview_message() const { return preview_view_ ? preview_view_->message() : QString(); }

void ConfigEditor::stop_lookups() {
    lookup_timer_->stop();
    estimate_timer_->stop();
    lookups_->stop_and_wait();
    estimates_->stop_and_wait();
    // What was in flight is dropped: ask again next time.
    preview_key_.clear();
    weights_key_.clear();
    estimate_key_.clear();
    preview_busy_ = weights_busy_ = estimate_busy_ = false;
}

void ConfigEditor::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::EnabledChange && isEnabled() && lookup_timer_) schedule_lookups();
}

void ConfigEditor::request_weights_check() {
    if (!weights_status_ || !isEnabled()) return;
    const QString weights = json_value_text(get_json_path(document_, "backbone.weights"));
    if (weights.isEmpty()) {
        weights_key_.clear();
        weights_status_->setText(
            tr("No weights file: the backbone starts from its seeded random initialisation (then the "
               "foundation step, when enabled). Choose a timm-layout .safetensors file to start from "
               "pre-trained weights."));
        weights_status_->setStyleSheet(QString());
        weights_summary_->clear();
        weights_summary_->hide();
        return;
    }
    if (!valid() && error_field_.rfind("backbone", 0) == 0 && error_field_ != "backbone.weights") {
        weights_status_->setText(tr("(fix the backbone fields to check the weights file)"));
        return;
    }
    ExperimentConfig cfg = valid() ? config_ : ExperimentConfig{};
    if (!valid()) {
        try {
            nlohmann::json partial{{"backbone", get_json_path(document_, "backbone")},
                                   {"foundation", get_json_path(document_, "foundation")}};
            cfg = parse_experiment_config(partial);
        } catch (const std::exception&) {
            weights_status_->setText(tr("(fix the backbone fields to check the weights file)"));
            return;
        }
    }
    const std::string key =
        nlohmann::json{to_json(cfg)["backbone"], cfg.foundation.enabled, cfg.foundation.classes}.dump();
    if (key == weights_key_) return;
    weights_key_ = key;
    weights_busy_ = true;
    weights_status_->setText(tr("checking %1…").arg(weights));
    weights_status_->setStyleSheet(QString());
    lookups_->submit<BackboneWeightsCheck>(
        SetupWorker::Lane::weights, [cfg] { return check_backbone_weights(cfg); },
        [this](BackboneWeightsCheck check, const QString& error) {
            weights_busy_ = false;
            QString status;
            if (!error.isEmpty()) {
                status = tr("✖ %1").arg(error);
            } else if (check.loads) {
                status = tr("✔ loads into the configured backbone");
                if (!check.implied.empty())
                    status += tr(" (the file looks like %1)").arg(QString::fromStdString(check.implied));
                for (const auto& note : check.notes) status += QStringLiteral("\n• ") + QString::fromStdString(note);
            } else {
                status =
                    tr("✖ does not load into the configured backbone: %1").arg(QString::fromStdString(check.error));
            }
            const bool ok = error.isEmpty() && check.loads;
            weights_status_->setText(status);
            weights_status_->setStyleSheet(ok ? QStringLiteral("color: #3a9a4a;") : QStringLiteral("color: #d04040;"));
            weights_summary_->setPlainText(QString::fromStdString(check.summary));
            weights_summary_->setVisible(check.readable);
            Q_EMIT weights_checked();
        });
}

QString ConfigEditor::weights_status_text() const { return weights_status_ ? weights_status_->text() : QString(); }

QString ConfigEditor::weights_summary_text() const {
    return weights_summary_ && !weights_summary_->isHidden() ? weights_summary_->toPlainText() : QString();
}

void ConfigEditor::request_estimate() {
    if (!summary_ || !isEnabled()) return;
    if (!valid()) {
        summary_->setText(tr("(fix the config to see the summary: %1)").arg(error_message_));
        return;
    }
    nlohmann::json config = to_json(config_);
    config.erase("name");
    const std::string key = config.dump();
    if (key == estimate_key_) return;
    estimate_key_ = key;
    estimate_busy_ = true;
    summary_->setText(tr("measuring a few training steps of the configured model…"));
    const ExperimentConfig cfg = config_;
    const std::atomic<bool>* stop = estimates_->stop_flag();
    // Three measured steps; one for the ViT-S/B sizes, whose CPU steps take seconds each.
    const int steps = cfg.backbone.dim >= 384 ? 1 : 3;
    estimates_->submit<TrainingEstimate>(
        SetupWorker::Lane::estimate, [cfg, stop, steps] { return estimate_training(cfg, steps, stop); },
        [this](TrainingEstimate estimate, const QString& error) {
            estimate_busy_ = false;
            if (!error.isEmpty()) {
                estimate_.reset();
                summary_->setText(tr("✖ could not measure the configured model: %1").arg(error));
                Q_EMIT estimate_shown(error);
                return;
            }
            show_estimate(estimate);
            estimate_ = std::move(estimate);
            Q_EMIT estimate_shown({});
        });
}

void ConfigEditor::show_estimate(const TrainingEstimate& e) {
    QStringList parts;
    // Trainable parameters: one figure when every task trains the same number, else per task.
    bool same = !e.trainable_per_task.empty();
    for (size_t t = 0; t < e.trainable_per_task.size(); ++t)
        same = same && e.trainable_per_task[t] == e.trainable_per_task[0] && e.head_per_task[t] == e.head_per_task[0];
    if (same) {
        parts << tr("Trainable parameters per task: %1 (%2 method + %3 head)")
                     .arg(thousands(e.trainable_per_task[0]), thousands(e.trainable_per_task[0] - e.head_per_task[0]),
                          thousands(e.head_per_task[0]));
    } else {
        QStringList per_task;
        for (size_t t = 0; t < e.trainable_per_task.size(); ++t)
            per_task << QStringLiteral("t%1 %2").arg(t).arg(
                e.trainable_per_task[t] < 0 ? QStringLiteral("?") : thousands(e.trainable_per_task[t]));
        parts << tr("Trainable parameters: %1").arg(per_task.join(QStringLiteral(", ")));
    }
    const int tasks = static_cast<int>(e.steps_per_task.size());
    if (e.total_steps >= 0) {
        const int64_t per_run = e.total_steps / std::max(1, e.runs);
        parts << tr("%1 tasks, %2 steps per run × %3 seed%4 = %5 steps")
                     .arg(tasks)
                     .arg(thousands(per_run))
                     .arg(e.runs)
                     .arg(e.runs == 1 ? QString() : QStringLiteral("s"))
                     .arg(thousands(e.total_steps));
    } else {
        parts << tr("%1 tasks; steps unknown until the data set is read (train_per_class = 0: all images)").arg(tasks);
    }
    if (e.measured_steps > 0) {
        QString time = tr("%1 ms per step (mean of %2 measured on %3)")
                           .arg(e.seconds_per_step * 1000.0, 0, 'f', e.seconds_per_step < 0.1 ? 1 : 0)
                           .arg(e.measured_steps)
                           .arg(QString::fromStdString(e.device));
        if (e.estimated_seconds >= 0)
            time += tr(" → about %1 of training (foundation step, data loading and evaluation not included)")
                        .arg(duration_text(e.estimated_seconds));
        parts << time;
    }
    summary_->setText(parts.join(QStringLiteral("\n")));
}

QString ConfigEditor::summary_text() const { return summary_ ? summary_->text() : QString(); }

}  // namespace lorica::app
