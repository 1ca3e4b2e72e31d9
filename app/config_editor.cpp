#include "app/config_editor.h"

#include <algorithm>
#include <fstream>

#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QStackedWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "app/config_json_path.h"
#include "app/run_data.h"
#include "app/setup_worker.h"
#include "engine/config/config_schema.h"
#include "engine/methods/catalog/method_catalog.h"
#include "engine/config/presets.h"
#include "engine/data/task_preview.h"

namespace lorica::app {

ConfigEditor::ConfigEditor(QWidget* parent) : QWidget(parent) {
    defaults_ = full_config_json(ExperimentConfig{});  // every declared field (config_schema.h)
    previewer_ = std::make_shared<TaskPreviewer>();
    lookups_ = new SetupWorker(this);
    estimates_ = new SetupWorker(this);
    lookup_timer_ = new QTimer(this);
    lookup_timer_->setSingleShot(true);
    lookup_timer_->setInterval(150);
    connect(lookup_timer_, &QTimer::timeout, this, [this] {
        request_preview();
        request_weights_check();
    });
    estimate_timer_ = new QTimer(this);
    estimate_timer_->setSingleShot(true);
    estimate_timer_->setInterval(400);
    connect(estimate_timer_, &QTimer::timeout, this, &ConfigEditor::request_estimate);

    updating_ = true;  // editors emit change signals while they are built
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    status_ = new QLabel(this);
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(status_);
    auto* body = new QHBoxLayout;
    layout->addLayout(body, 1);
    steps_ = new QListWidget(this);
    steps_->setObjectName(QStringLiteral("setup_steps"));
    steps_->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Expanding);
    pages_stack_ = new QStackedWidget(this);
    body->addWidget(steps_);
    body->addWidget(pages_stack_, 1);
    build_pages();
    int widest = 0;
    for (int i = 0; i < steps_->count(); ++i)
        widest =
            std::max(widest, steps_->fontMetrics().horizontalAdvance(steps_->item(i)->text() + QStringLiteral(" ✖")));
    steps_->setFixedWidth(widest + 36);
    connect(steps_, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0) return;
        pages_stack_->setCurrentIndex(row);
        if (static_cast<SetupStep>(row) == SetupStep::summary) estimate_timer_->start(0);
    });
    steps_->setCurrentRow(0);
    updating_ = false;
    set_document(nlohmann::json::object());
}

void ConfigEditor::set_document(const nlohmann::json& document) {
    document_ = defaults_;
    document_.merge_patch(document.is_object() ? document : nlohmann::json::object());
    // merge_patch drops keys set to null; keep the nullable defaults (class_order_seed) present.
    for (const auto& [path, field] : fields_)
        if (get_json_path(document_, path).is_null()) set_json_path(document_, path, field.default_value);
    // method.options holds exactly the options the document sets (absent ones take their defaults).
    set_json_path(document_, "method.options",
                  get_json_path(document, "method.options").is_object() ? get_json_path(document, "method.options")
                                                                        : nlohmann::json::object());
    for (auto it = fields_.begin(); it != fields_.end(); ++it)
        if (it->second.method_option && get_json_path(document, it->first).is_null())
            document_["method"]["options"].erase(it->first.substr(std::string("method.options.").size()));
    rebuild_method_options();
    show_document();
    validate();
}

void ConfigEditor::validate() {
    try {
        config_ = parse_experiment_config(document_);
        validate_method_config(config_);
        show_error({}, {});
    } catch (const ConfigError& e) {
        show_error(e.field(), QString::fromUtf8(e.what()));
    } catch (const std::exception& e) {
        show_error({}, QString::fromUtf8(e.what()));
    }
    update_task_list();
    update_dataset_check();
    select_method_in_list();
    schedule_lookups();
    Q_EMIT validated();
}

void ConfigEditor::show_error(const std::string& field, const QString& message) {
    for (auto& [path, f] : fields_) {
        f.error->hide();
        f.error->clear();
        f.editor->setStyleSheet(QString());
    }
    error_field_ = message.isEmpty() ? std::string() : field;
    error_message_ = message;
    if (message.isEmpty()) {
        status_->setText(tr("✔ valid config"));
        status_->setStyleSheet(QStringLiteral("color: #3a9a4a;"));
    } else {
        // The row of the field, or of the nearest enclosing field ("stream.domains[2]" → stream.domains,
        // "method.options.handover" → method.options).
        std::string key = field.substr(0, field.find('['));
        while (!key.empty() && !fields_.count(key)) {
            const std::size_t dot = key.rfind('.');
            key = dot == std::string::npos ? std::string() : key.substr(0, dot);
        }
        if (!key.empty()) {
            Field& f = fields_[key];
            f.error->setText(message);
            f.error->show();
            f.editor->setStyleSheet(QStringLiteral("border: 1px solid #d04040;"));
            if (f.in_more) set_more_open(f.step, true);  // the row that names the error stays in sight
        }
        status_->setText(tr("✖ %1").arg(message));
        status_->setStyleSheet(QStringLiteral("color: #d04040;"));
    }
    update_step_titles();
    if (start_button_) start_button_->setEnabled(valid());
    const bool now_valid = valid();
    if (now_valid != last_valid_) {
        last_valid_ = now_valid;
        Q_EMIT validity_changed(now_valid);
    }
}

void ConfigEditor::load_file(const QString& path) { set_document(read_json_file(path.toStdString())); }

void ConfigEditor::load_preset(const QString& name) { set_document(read_json_file(find_preset(name.toStdString()))); }

bool ConfigEditor::save_file(const QString& path) const {
    std::ofstream out(path.toStdString());
    if (!out) return false;
    out << document_.dump(2) << '\n';
    return static_cast<bool>(out);
}

// ---- the guided steps -----------------------------------------------------------------------------

SetupStep ConfigEditor::current_step() const { return static_cast<SetupStep>(std::max(0, steps_->currentRow())); }

void ConfigEditor::set_current_step(SetupStep step) { steps_->setCurrentRow(static_cast<int>(step)); }

QStringList ConfigEditor::step_titles() const {
    QStringList out;
    for (int i = 0; i < steps_->count(); ++i) out << steps_->item(i)->text();
    return out;
}

std::vector<std::string> ConfigEditor::step_fields(SetupStep step, bool more) const {
    const Page& page = pages_.at(static_cast<size_t>(step));
    return more ? page.more : page.fields;
}

QWidget* ConfigEditor::step_page(SetupStep step) const { return pages_.at(static_cast<size_t>(step)).page; }

bool ConfigEditor::more_open(SetupStep step) const {
    return !pages_.at(static_cast<size_t>(step)).more_body->isHidden();
}

void ConfigEditor::set_more_open(SetupStep step, bool open) {
    Page& page = pages_.at(static_cast<size_t>(step));
    page.more_body->setVisible(open);
    page.more_button->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
    if (page.more_button->isChecked() != open) {
        const QSignalBlocker block(page.more_button);
        page.more_button->setChecked(open);
    }
}

void ConfigEditor::update_step_titles() {
    if (!steps_) return;
    std::optional<SetupStep> error_step;
    if (!valid()) {
        std::string key = error_field_.substr(0, error_field_.find('['));
        error_step = key.empty() ? SetupStep::summary : setup_step_of_field(key);
    }
    for (const SetupStepInfo& info : setup_steps()) {
        QListWidgetItem* item = steps_->item(static_cast<int>(info.step));
        const bool bad = error_step && *error_step == info.step;
        item->setText(bad ? info.title + QStringLiteral(" ✖") : info.title);
        item->setForeground(bad ? QBrush(QColor(0xd0, 0x40, 0x40)) : QBrush());
    }
}

}  // namespace lorica::app
