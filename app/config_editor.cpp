#include "app/config_editor.h"

#include <fstream>
#include <functional>

#include <algorithm>
#include <cstdio>

#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFrame>
#include <QHBoxLayout>
#include <QPainter>
#include <QScopeGuard>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QStackedWidget>
#include <QTimer>
#include <QToolButton>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLocale>
#include <QLineEdit>
#include <QListWidget>
#include <QScrollArea>
#include <QVBoxLayout>

#include "app/run_data.h"
#include "app/setup_preview_view.h"
#include "app/setup_worker.h"
#include "engine/data/dataset_location.h"
#include "engine/config/presets.h"
#include "engine/config/method_catalog.h"
#include "engine/stream/stream_spec.h"

namespace lorica::app {

namespace {

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = path.find('.', start);
        parts.push_back(path.substr(start, dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return parts;
}

// The closed value sets of fields edited with a combo box (editable where other values are legal).
struct Choices {
    QStringList values;
    bool editable = false;
};

Choices choices_of(const std::string& path) {
    auto ends_with = [&path](const std::string& suffix) {
        return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (path == "device") return {{"auto", "cpu", "cuda", "cuda:0", "cuda:1"}, true};
    if (path == "data.dataset") return {{"fashion-mnist", "cifar10", "cifar100", "image-folder"}, false};
    if (path == "stream.type") return {{"class-incremental", "domain-incremental"}, false};
    if (path == "backbone.preset")
        return {{"tiny", "vit_tiny_patch16_224", "vit_small_patch16_224", "vit_base_patch16_224"}, false};
    if (path == "train.loss") return {{"current-task", "all-seen"}, false};
    if (path == "train.precision") return {{"fp32", "bf16", "fp16"}, false};
    if (ends_with("optimizer.name")) return {{"adamw", "adam", "sgd"}, false};
    if (ends_with("schedule.name")) return {{"constant", "cosine"}, false};
    if (path == "method.name") {
        Choices c;
        for (const auto& m : method_catalog()) c.values << QString::fromStdString(m.name);
        return c;
    }
    return {};
}

// What each field means (the comments of experiment_config.h, shortened), for tooltips.
QString field_help(const std::string& path) {
    static const std::map<std::string, const char*> help = {
        {"name", "Experiment name (shown in the run browser)."},
        {"seeds", "One run per seed, e.g. [0, 1, 2]; several seeds show mean ± std."},
        {"device", "auto (GPU when present), cpu, cuda or cuda:N."},
        {"threads", "LibTorch intra-op threads; 0 = all cores."},
        {"cache_dir", "Foundation cache; empty = ~/.cache/lorica."},
        {"data.root", "Data set folder; empty = the data set's default location."},
        {"data.train_per_class", "Stream training images per class (0 = all)."},
        {"data.test_per_class", "Test images per class (0 = all)."},
        {"foundation.classes", "Pre-training classes: the first N of the class order."},
        {"stream.tasks", "Number of tasks in the stream."},
        {"stream.classes_per_task", "Classes per task (class-incremental)."},
        {"stream.class_order_seed", "Seed of numpy's RandomState(seed).permutation; empty = the run's seed."},
        {"stream.domains",
         "Domain per task (cycled): identity, rot90, rot180, rot270, invert, hflip, vflip, patch_permute."},
        {"backbone.weights", "timm-layout safetensors file loaded instead of the foundation step."},
        {"method.rank", "LoRA rank r."},
        {"method.alpha", "LoRA alpha; scale s = alpha / rank."},
        {"method.targets",
         "Adapted layers: q, k, v, qkv, proj, fc1, fc2, all-linear, or a pattern like blocks.*.attn.qkv."},
        {"train.max_steps_per_task", "Stop a task after this many steps (0 = no limit)."},
        {"train.grad_clip", "Clip the global gradient norm (0 = off)."},
        {"train.precision", "fp32, bf16 (autocast) or fp16 (autocast + loss scaling); weights stay fp32."},
        {"train.loss_readback_steps",
         "Read step losses back from the GPU every N steps (0 = auto: 1 on CPU, 50 on GPU)."},
        {"eval.every_steps", "Also evaluate every N steps inside a task (0 = only at task ends)."},
        {"eval.before_task", "Evaluate task j just before training it (forward transfer)."},
        {"eval.random_init", "Evaluate a randomly initialised backbone once (forward transfer)."},
    };
    auto it = help.find(path);
    return it == help.end() ? QString() : QString::fromUtf8(it->second);
}

// The tooltip of a method option: its doc, type with range or choices, default and the paper's value.
QString option_tooltip(const OptionSpec& o) {
    QString range;
    if (o.type == OptionType::choice) {
        QStringList c;
        for (const auto& choice : o.choices) c << QString::fromStdString(choice);
        range = c.join(QStringLiteral(" | "));
    } else if (o.type == OptionType::integer || o.type == OptionType::number) {
        range = QStringLiteral("[%1, %2]%3")
                    .arg(o.min)
                    .arg(o.max)
                    .arg(o.unit.empty() ? QString() : QStringLiteral(" ") + QString::fromStdString(o.unit));
    }
    QString text = QStringLiteral("<b>%1</b> (%2%3)<br>%4")
                       .arg(QString::fromStdString(o.name), QString::fromStdString(type_name(o.type)),
                            range.isEmpty() ? QString() : QStringLiteral(": ") + range.toHtmlEscaped(),
                            QString::fromStdString(o.doc).toHtmlEscaped());
    text += QStringLiteral("<br>default: %1")
                .arg(o.default_value.is_null() ? QStringLiteral("derived (see above)")
                                               : QString::fromStdString(o.default_value.dump()));
    if (!o.paper_value.is_null())
        text += QStringLiteral("; paper: %1").arg(QString::fromStdString(o.paper_value.dump()));
    return text;
}

QString value_text(const nlohmann::json& value) {
    if (value.is_string()) return QString::fromStdString(value.get<std::string>());
    if (value.is_null()) return {};
    return QString::fromStdString(value.dump());
}

int num_classes_of(const std::string& dataset) {
    if (dataset == "fashion-mnist" || dataset == "cifar10") return 10;
    if (dataset == "cifar100") return 100;
    return 0;
}

}  // namespace

void set_json_path(nlohmann::json& document, const std::string& path, nlohmann::json value) {
    nlohmann::json* node = &document;
    for (const std::string& part : split_path(path)) {
        if (!node->is_object()) *node = nlohmann::json::object();
        node = &(*node)[part];
    }
    *node = std::move(value);
}

nlohmann::json get_json_path(const nlohmann::json& document, const std::string& path) {
    const nlohmann::json* node = &document;
    for (const std::string& part : split_path(path)) {
        if (!node->is_object() || !node->contains(part)) return nullptr;
        node = &(*node)[part];
    }
    return *node;
}

ConfigEditor::ConfigEditor(QWidget* parent) : QWidget(parent) {
    defaults_ = to_json(ExperimentConfig{});
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

void ConfigEditor::build_pages() {
    // The leaf fields of the config, depth-first in the document's order (method.options apart).
    std::vector<std::string> leaves;
    std::function<void(const std::string&, const nlohmann::json&)> walk = [&](const std::string& prefix,
                                                                              const nlohmann::json& node) {
        for (auto field = node.begin(); field != node.end(); ++field) {
            const std::string path = prefix.empty() ? field.key() : prefix + "." + field.key();
            if (path == "method.options") continue;
            if (field.value().is_object())
                walk(path, field.value());
            else
                leaves.push_back(path);
        }
    };
    walk("", defaults_);
    auto is_leaf = [&](const std::string& path) {
        return std::find(leaves.begin(), leaves.end(), path) != leaves.end();
    };
    auto listed = [&](const std::string& path) {
        for (const auto& step : setup_steps())
            if (std::find(step.fields.begin(), step.fields.end(), path) != step.fields.end() ||
                std::find(step.more.begin(), step.more.end(), path) != step.more.end())
                return true;
        return false;
    };

    for (const SetupStepInfo& info : setup_steps()) {
        Page page;
        auto* scroll = new QScrollArea(pages_stack_);
        scroll->setWidgetResizable(true);
        scroll->setFrameShape(QFrame::NoFrame);
        auto* content = new QWidget(scroll);
        content->setObjectName(QStringLiteral("setup_page_%1").arg(static_cast<int>(info.step)));
        auto* content_layout = new QVBoxLayout(content);
        auto* title = new QLabel(QStringLiteral("<b>%1</b>").arg(info.title.toHtmlEscaped()), content);
        auto* description = new QLabel(info.description, content);
        description->setWordWrap(true);
        content_layout->addWidget(title);
        content_layout->addWidget(description);
        auto* form_box = new QWidget(content);
        page.form = new QFormLayout(form_box);
        page.form->setContentsMargins(0, 4, 0, 0);
        page.form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
        content_layout->addWidget(form_box);
        page.page = scroll;

        // What the page shows besides its fields, between the form and "More".
        QWidget* extra = new QWidget(content);
        auto* extra_layout = new QVBoxLayout(extra);
        extra_layout->setContentsMargins(0, 0, 0, 0);
        content_layout->addWidget(extra);

        // "More": the step's rare fields, collapsed.
        page.more_button = new QToolButton(content);
        page.more_button->setCheckable(true);
        page.more_button->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        page.more_button->setArrowType(Qt::RightArrow);
        page.more_button->setAutoRaise(true);
        page.more_body = new QWidget(content);
        page.more_form = new QFormLayout(page.more_body);
        page.more_form->setContentsMargins(16, 0, 0, 0);
        page.more_form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
        page.more_body->hide();
        content_layout->addWidget(page.more_button);
        content_layout->addWidget(page.more_body);
        content_layout->addStretch();
        scroll->setWidget(content);
        pages_stack_->addWidget(scroll);
        pages_.push_back(page);
        const SetupStep step = info.step;
        connect(page.more_button, &QToolButton::toggled, this, [this, step](bool open) { set_more_open(step, open); });

        Page& p = pages_.back();
        for (const std::string& path : info.fields)
            if (is_leaf(path)) {
                add_field(p.form, path, get_json_path(defaults_, path));
                fields_[path].step = step;
                p.fields.push_back(path);
            }
        std::vector<std::string> more;
        for (const std::string& path : info.more)
            if (is_leaf(path)) more.push_back(path);
        for (const std::string& path : leaves) {
            const std::size_t dot = path.find('.');
            if (!listed(path) &&
                setup_step_of_section(dot == std::string::npos ? std::string() : path.substr(0, dot)) == step)
                more.push_back(path);
        }
        for (const std::string& path : more) {
            add_field(p.more_form, path, get_json_path(defaults_, path));
            fields_[path].step = step;
            fields_[path].in_more = true;
            p.more.push_back(path);
        }
        p.more_button->setText(p.more.size() == 1 ? tr("More (1 field)") : tr("More (%1 fields)").arg(p.more.size()));
        p.more_button->setVisible(!p.more.empty());

        switch (step) {
            case SetupStep::dataset: {
                dataset_check_ = new QLabel(content);
                dataset_check_->setObjectName(QStringLiteral("dataset_check"));
                dataset_check_->setWordWrap(true);
                dataset_check_->setTextInteractionFlags(Qt::TextSelectableByMouse);
                static_cast<QVBoxLayout*>(fields_.at("data.root").cell->layout())->addWidget(dataset_check_);
                break;
            }
            case SetupStep::stream: {
                extra_layout->addWidget(new QLabel(tr("Resulting tasks (seed of the first run):"), extra));
                tasks_ = new QListWidget(extra);
                tasks_->setToolTip(tr("Classes of each task (data-set labels and names) and its domain transform"));
                extra_layout->addWidget(tasks_);
                preview_view_ = new SetupPreviewView(extra);
                preview_view_->setObjectName(QStringLiteral("stream_preview"));
                extra_layout->addWidget(preview_view_);
                break;
            }
            case SetupStep::backbone: {
                weights_status_ = new QLabel(extra);
                weights_status_->setObjectName(QStringLiteral("weights_status"));
                weights_status_->setWordWrap(true);
                weights_status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
                weights_summary_ = new QPlainTextEdit(extra);
                weights_summary_->setObjectName(QStringLiteral("weights_summary"));
                weights_summary_->setReadOnly(true);
                weights_summary_->setLineWrapMode(QPlainTextEdit::NoWrap);
                weights_summary_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
                weights_summary_->setMinimumHeight(160);
                weights_summary_->hide();
                extra_layout->addWidget(weights_status_);
                extra_layout->addWidget(weights_summary_);
                break;
            }
            case SetupStep::method: {
                auto* options = new QGroupBox(tr("Options of the method"), extra);
                options->setObjectName(QStringLiteral("method.options"));
                method_options_form_ = new QFormLayout(options);
                method_options_form_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
                extra_layout->addWidget(options);
                break;
            }
            case SetupStep::training:
                break;
            case SetupStep::summary: {
                summary_ = new QLabel(extra);
                summary_->setObjectName(QStringLiteral("summary_line"));
                summary_->setWordWrap(true);
                summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
                summary_->setFrameShape(QFrame::StyledPanel);
                summary_->setMargin(6);
                start_button_ = new QPushButton(tr("Start"), extra);
                start_button_->setObjectName(QStringLiteral("setup_start"));
                start_button_->setToolTip(tr("Start the experiment (Ctrl+R)"));
                connect(start_button_, &QPushButton::clicked, this, &ConfigEditor::start_requested);
                auto* measure = new QPushButton(tr("Measure again"), extra);
                measure->setToolTip(tr("Train a few steps of the configured model again to re-measure the step time"));
                connect(measure, &QPushButton::clicked, this, [this] {
                    estimate_key_.clear();
                    request_estimate();
                });
                auto* buttons = new QHBoxLayout;
                buttons->addWidget(start_button_);
                buttons->addWidget(measure);
                buttons->addStretch();
                extra_layout->addWidget(summary_);
                extra_layout->addLayout(buttons);
                break;
            }
        }
        steps_->addItem(info.title);
        steps_->item(steps_->count() - 1)->setToolTip(info.description);
    }
}

void ConfigEditor::add_field(QFormLayout* form, const std::string& path, const nlohmann::json& default_value) {
    Field field;
    field.default_value = default_value;
    QString tooltip = field_help(path);
    const Choices choices = choices_of(path);
    if (default_value.is_boolean()) {
        auto* check = new QCheckBox(form->parentWidget());
        connect(check, &QCheckBox::toggled, this, [this, path] { field_changed(path); });
        field.editor = check;
    } else if (!choices.values.isEmpty()) {
        auto* combo = new QComboBox(form->parentWidget());
        combo->addItems(choices.values);
        combo->setEditable(choices.editable);
        connect(combo, &QComboBox::currentTextChanged, this, [this, path] { field_changed(path); });
        if (path == "method.name") {
            for (int i = 0; i < combo->count(); ++i)
                for (const auto& m : method_catalog())
                    if (QString::fromStdString(m.name) == combo->itemText(i))
                        combo->setItemData(i, QString::fromStdString(m.summary), Qt::ToolTipRole);
        }
        field.editor = combo;
    } else {
        auto* line = new QLineEdit(form->parentWidget());
        if (default_value.is_null()) line->setPlaceholderText(tr("(default)"));
        connect(line, &QLineEdit::textEdited, this, [this, path] { field_changed(path); });
        field.editor = line;
    }
    field.editor->setObjectName(QString::fromStdString(path));
    field.editor->setToolTip(tooltip.isEmpty() ? QString::fromStdString(path) : tooltip);
    field.error = new QLabel(form->parentWidget());
    field.error->setWordWrap(true);
    field.error->setStyleSheet(QStringLiteral("color: #d04040;"));
    field.error->hide();
    auto* cell = new QWidget(form->parentWidget());
    auto* cell_layout = new QVBoxLayout(cell);
    cell_layout->setContentsMargins(0, 0, 0, 0);
    cell_layout->setSpacing(1);
    if (path == "data.root" || path == "backbone.weights") {
        // The path, with a Browse… button beside it.
        auto* row = new QHBoxLayout;
        row->setContentsMargins(0, 0, 0, 0);
        row->addWidget(field.editor, 1);
        auto* browse = new QToolButton(cell);
        browse->setText(tr("Browse…"));
        browse->setObjectName(QString::fromStdString(path) + QStringLiteral(".browse"));
        auto* line = qobject_cast<QLineEdit*>(field.editor);
        connect(browse, &QToolButton::clicked, this, [this, path, line] {
            const QString chosen = path == "data.root"
                                       ? QFileDialog::getExistingDirectory(this, tr("Data set folder"), line->text())
                                       : QFileDialog::getOpenFileName(this, tr("Backbone weights"), line->text(),
                                                                      tr("safetensors (*.safetensors);;all files (*)"));
            if (!chosen.isEmpty()) set_field_text(QString::fromStdString(path), chosen);
        });
        row->addWidget(browse);
        cell_layout->addLayout(row);
    } else {
        cell_layout->addWidget(field.editor);
    }
    if (path == "method.name") {
        // Every method with its one-line summary; the combo box stays the field's editor, hidden.
        method_list_ = new QListWidget(cell);
        method_list_->setObjectName(QStringLiteral("method_list"));
        method_list_->setWordWrap(true);
        method_list_->setAlternatingRowColors(true);
        for (const auto& m : method_catalog()) {
            auto* item = new QListWidgetItem(
                QStringLiteral("%1\n    %2").arg(QString::fromStdString(m.name), QString::fromStdString(m.summary)),
                method_list_);
            item->setData(Qt::UserRole, QString::fromStdString(m.name));
            item->setToolTip(QString::fromStdString(m.summary));
        }
        method_list_->setMinimumHeight(std::min(8, method_list_->count()) * 2 * method_list_->fontMetrics().height() +
                                       12);
        connect(method_list_, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
            if (updating_ || !item) return;
            set_field_text(QStringLiteral("method.name"), item->data(Qt::UserRole).toString());
        });
        field.editor->hide();
        cell_layout->addWidget(method_list_);
    }
    cell_layout->addWidget(field.error);
    field.cell = cell;
    const std::size_t section_dot = path.find('.');
    const std::string section = section_dot == std::string::npos ? std::string() : path.substr(0, section_dot);
    // Fields of a section that shares a page (foundation on Backbone, eval on Training) keep it.
    const std::string label = section_dot == std::string::npos || section == "foundation" || section == "eval"
                                  ? path
                                  : path.substr(section_dot + 1);
    auto* label_widget = new QLabel(QString::fromStdString(label), form->parentWidget());
    label_widget->setToolTip(field.editor->toolTip());
    form->addRow(label_widget, cell);
    fields_[path] = field;
}

void ConfigEditor::add_option_field(const OptionSpec& o) {
    const std::string path = "method.options." + o.name;
    QWidget* parent = method_options_form_->parentWidget();
    Field field;
    field.default_value = o.default_value;
    field.method_option = true;
    if (o.type == OptionType::boolean) {
        auto* check = new QCheckBox(parent);
        connect(check, &QCheckBox::toggled, this, [this, path] { field_changed(path); });
        field.editor = check;
    } else if (o.type == OptionType::choice) {
        auto* combo = new QComboBox(parent);
        for (const auto& c : o.choices) combo->addItem(QString::fromStdString(c));
        connect(combo, &QComboBox::currentTextChanged, this, [this, path] { field_changed(path); });
        field.editor = combo;
    } else {
        auto* line = new QLineEdit(parent);
        line->setPlaceholderText(o.default_value.is_null()
                                     ? tr("default: derived")
                                     : tr("default: %1").arg(QString::fromStdString(o.default_value.dump())));
        connect(line, &QLineEdit::textEdited, this, [this, path] { field_changed(path); });
        field.editor = line;
    }
    field.editor->setObjectName(QString::fromStdString(path));
    field.editor->setToolTip(option_tooltip(o));
    field.error = new QLabel(parent);
    field.error->setWordWrap(true);
    field.error->setStyleSheet(QStringLiteral("color: #d04040;"));
    field.error->hide();
    auto* cell = new QWidget(parent);
    auto* cell_layout = new QVBoxLayout(cell);
    cell_layout->setContentsMargins(0, 0, 0, 0);
    cell_layout->setSpacing(1);
    cell_layout->addWidget(field.editor);
    cell_layout->addWidget(field.error);
    auto* label = new QLabel(QString::fromStdString(o.name), parent);
    label->setToolTip(field.editor->toolTip());
    method_options_form_->addRow(label, cell);
    fields_[path] = field;
}

void ConfigEditor::rebuild_method_options() {
    if (!method_options_form_) return;
    const nlohmann::json name = get_json_path(document_, "method.name");
    const std::string method = name.is_string() ? name.get<std::string>() : std::string();
    if (method == options_method_ && method_options_form_->rowCount() > 0) return;
    options_method_ = method;
    const bool was_updating = updating_;
    updating_ = true;
    for (auto it = fields_.begin(); it != fields_.end();)
        it = it->second.method_option ? fields_.erase(it) : std::next(it);
    while (method_options_form_->rowCount() > 0) method_options_form_->removeRow(0);
    const auto catalog = method_catalog();
    const MethodSummary* summary = nullptr;
    for (const auto& m : catalog)
        if (m.name == method) summary = &m;
    if (!summary)
        method_options_form_->addRow(
            new QLabel(tr("(choose a registered method)"), method_options_form_->parentWidget()));
    else if (summary->options.options.empty())
        method_options_form_->addRow(new QLabel(tr("%1 has no options").arg(QString::fromStdString(method)),
                                                method_options_form_->parentWidget()));
    else
        for (const OptionSpec& o : summary->options.options) add_option_field(o);
    updating_ = was_updating;
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

void ConfigEditor::show_document() {
    updating_ = true;
    for (auto& [path, field] : fields_) {
        nlohmann::json value = get_json_path(document_, path);
        if (field.method_option && value.is_null() && !qobject_cast<QLineEdit*>(field.editor))
            value = field.default_value;
        if (auto* check = qobject_cast<QCheckBox*>(field.editor)) {
            check->setChecked(value.is_boolean() && value.get<bool>());
        } else if (auto* combo = qobject_cast<QComboBox*>(field.editor)) {
            const QString text = value_text(value);
            if (combo->findText(text) < 0) combo->addItem(text);
            combo->setCurrentText(text);
        } else if (auto* line = qobject_cast<QLineEdit*>(field.editor)) {
            line->setText(value_text(value));
        }
    }
    updating_ = false;
}

nlohmann::json ConfigEditor::read_field(const std::string& path) const {
    const Field& field = fields_.at(path);
    if (auto* check = qobject_cast<QCheckBox*>(field.editor)) return check->isChecked();
    if (auto* combo = qobject_cast<QComboBox*>(field.editor)) return combo->currentText().toStdString();
    const std::string text = qobject_cast<QLineEdit*>(field.editor)->text().trimmed().toStdString();
    if (field.method_option && text.empty()) return nullptr;  // unset: the declared default
    if (field.default_value.is_string()) return text;
    if (text.empty() && field.default_value.is_null()) return nullptr;
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
    return parsed.is_discarded() ? nlohmann::json(text) : parsed;
}

void ConfigEditor::field_changed(const std::string& path) {
    if (updating_ || !fields_.count(path)) return;
    try {
        const nlohmann::json before = get_json_path(document_, "method.name");
        nlohmann::json value = read_field(path);
        if (fields_.at(path).method_option && value.is_null())
            document_["method"]["options"].erase(path.substr(std::string("method.options.").size()));
        else
            set_json_path(document_, path, std::move(value));
        if (path == "method.name" && get_json_path(document_, "method.name") != before) {
            // Another method: its options start from their declared defaults.
            document_["method"]["options"] = nlohmann::json::object();
            rebuild_method_options();
            show_document();
        }
    } catch (const nlohmann::json::exception& e) {
        show_error(path, tr("not valid JSON: %1").arg(QString::fromUtf8(e.what())));
        Q_EMIT edited();
        return;
    }
    validate();
    Q_EMIT edited();
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

QString ConfigEditor::field_error_text(const QString& field) const {
    auto it = fields_.find(field.toStdString());
    return it == fields_.end() || it->second.error->isHidden() ? QString() : it->second.error->text();
}

QWidget* ConfigEditor::field_widget(const QString& field) const {
    auto it = fields_.find(field.toStdString());
    return it == fields_.end() ? nullptr : it->second.editor;
}

void ConfigEditor::set_field_text(const QString& name, const QString& text) {
    const std::string path = name.toStdString();
    auto it = fields_.find(path);
    if (it == fields_.end()) return;
    QWidget* editor = it->second.editor;
    if (auto* check = qobject_cast<QCheckBox*>(editor)) {
        check->setChecked(text == QStringLiteral("true"));
    } else if (auto* combo = qobject_cast<QComboBox*>(editor)) {
        if (combo->findText(text) < 0) combo->addItem(text);
        combo->setCurrentText(text);
    } else if (auto* line = qobject_cast<QLineEdit*>(editor)) {
        line->setText(text);
        field_changed(path);  // setText does not emit textEdited
    }
}

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
    const int num_classes = num_classes_of(config_.data.dataset);
    if (num_classes == 0) {
        tasks_->addItem(tr("(classes of an image folder are known once it is read)"));
        return;
    }
    try {
        const int64_t seed =
            config_.stream.class_order_seed.value_or(config_.seeds.empty() ? 0 : config_.seeds.front());
        const StreamSpec spec = make_stream_spec(config_, seed, num_classes);
        auto names = [this](const std::vector<int>& classes) {
            QStringList out;
            for (int c : classes)
                out << QStringLiteral("%1 %2").arg(c).arg(QString::fromStdString(class_name(config_.data.dataset, c)));
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

void ConfigEditor::update_dataset_check() {
    if (!dataset_check_) return;
    DataConfig data;
    try {
        data = parse_experiment_config(nlohmann::json{{"data", get_json_path(document_, "data")}}).data;
    } catch (const std::exception&) {
        data.dataset = value_text(get_json_path(document_, "data.dataset")).toStdString();
        data.root = value_text(get_json_path(document_, "data.root")).toStdString();
        data.file_list = value_text(get_json_path(document_, "data.file_list")).toStdString();
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

void ConfigEditor::select_method_in_list() {
    if (!method_list_) return;
    const QString name = value_text(get_json_path(document_, "method.name"));
    const bool was = updating_;
    updating_ = true;
    for (int i = 0; i < method_list_->count(); ++i)
        if (method_list_->item(i)->data(Qt::UserRole).toString() == name) method_list_->setCurrentRow(i);
    updating_ = was;
}

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
    const QString weights = value_text(get_json_path(document_, "backbone.weights"));
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

QStringList ConfigEditor::save_step_screenshots(const QString& dir, int wait_ms) {
    QDir().mkpath(dir);
    QStringList files;
    const SetupStep before = current_step();
    QElapsedTimer clock;
    clock.start();
    for (const SetupStepInfo& info : setup_steps()) {
        set_current_step(info.step);
        if (info.step == SetupStep::summary) request_estimate();
        // The step's look-ups: wait until they are drawn.
        do {
            QApplication::processEvents(QEventLoop::AllEvents, 50);
        } while ((lookup_timer_->isActive() || estimate_timer_->isActive() || preview_busy_ || weights_busy_ ||
                  (info.step == SetupStep::summary && estimate_busy_)) &&
                 clock.elapsed() < wait_ms);
        QApplication::processEvents();
        const QString name = info.title.toLower().replace(QLatin1Char(' '), QLatin1Char('_'));
        const QString path =
            QDir(dir).filePath(QStringLiteral("setup_%1_%2.png").arg(static_cast<int>(info.step) + 1).arg(name));
        // The status line, the step list and the whole page (not only the part the scroll area shows).
        auto* scroll = static_cast<QScrollArea*>(step_page(info.step));
        const QPixmap status = status_->grab(), steps = steps_->grab(), page = scroll->widget()->grab();
        QPixmap shot(std::max(status.width(), steps.width() + 6 + page.width()),
                     status.height() + 4 + std::max(steps.height(), page.height()));
        shot.fill(palette().color(QPalette::Window));
        QPainter painter(&shot);
        painter.drawPixmap(0, 0, status);
        painter.drawPixmap(0, status.height() + 4, steps);
        painter.drawPixmap(steps.width() + 6, status.height() + 4, page);
        painter.end();
        if (shot.save(path)) files << path;
    }
    set_current_step(before);
    return files;
}

}  // namespace lorica::app
