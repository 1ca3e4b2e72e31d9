#include "app/config_editor.h"

#include <fstream>
#include <functional>

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QScrollArea>
#include <QVBoxLayout>

#include "app/run_data.h"
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
        {"stream.domains", "Domain per task (cycled): identity, rot90, rot180, rot270, invert, hflip, vflip, patch_permute."},
        {"backbone.weights", "timm-layout safetensors file loaded instead of the foundation step."},
        {"method.rank", "LoRA rank r."},
        {"method.alpha", "LoRA alpha; scale s = alpha / rank."},
        {"method.targets", "Adapted layers: q, k, v, qkv, proj, fc1, fc2, all-linear, or a pattern like blocks.*.attn.qkv."},
        {"train.max_steps_per_task", "Stop a task after this many steps (0 = no limit)."},
        {"train.grad_clip", "Clip the global gradient norm (0 = off)."},
        {"train.precision", "fp32, bf16 (autocast) or fp16 (autocast + loss scaling); weights stay fp32."},
        {"train.loss_readback_steps", "Read step losses back from the GPU every N steps (0 = auto: 1 on CPU, 50 on GPU)."},
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
        range = QStringLiteral("[%1, %2]%3").arg(o.min).arg(o.max).arg(o.unit.empty() ? QString()
                                                                                      : QStringLiteral(" ") + QString::fromStdString(o.unit));
    }
    QString text = QStringLiteral("<b>%1</b> (%2%3)<br>%4").arg(QString::fromStdString(o.name),
                                                               QString::fromStdString(type_name(o.type)),
                                                               range.isEmpty() ? QString() : QStringLiteral(": ") + range.toHtmlEscaped(),
                                                               QString::fromStdString(o.doc).toHtmlEscaped());
    text += QStringLiteral("<br>default: %1").arg(o.default_value.is_null() ? QStringLiteral("derived (see above)")
                                                                           : QString::fromStdString(o.default_value.dump()));
    if (!o.paper_value.is_null()) text += QStringLiteral("; paper: %1").arg(QString::fromStdString(o.paper_value.dump()));
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
    updating_ = true;  // editors emit change signals while they are built
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    status_ = new QLabel(this);
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(status_);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    auto* body = new QWidget(scroll);
    auto* body_layout = new QVBoxLayout(body);
    body_layout->setContentsMargins(0, 0, 0, 0);
    scroll->setWidget(body);
    layout->addWidget(scroll, 1);

    auto* general = new QGroupBox(tr("General"), body);
    auto* general_form = new QFormLayout(general);
    body_layout->addWidget(general);
    for (auto it = defaults_.begin(); it != defaults_.end(); ++it)
        if (!it.value().is_object()) add_field(general_form, it.key(), it.value());
    for (auto it = defaults_.begin(); it != defaults_.end(); ++it) {
        if (!it.value().is_object()) continue;
        auto* group = new QGroupBox(QString::fromStdString(it.key()), body);
        auto* form = new QFormLayout(group);
        body_layout->addWidget(group);
        // Depth-first over the section: nested objects (optimizer, schedule, augment) become
        // "optimizer.lr" rows; method.options gets the selected method's typed option rows.
        std::function<void(const std::string&, const nlohmann::json&)> walk = [&](const std::string& prefix,
                                                                                 const nlohmann::json& node) {
            for (auto field = node.begin(); field != node.end(); ++field) {
                const std::string path = prefix + "." + field.key();
                if (path == "method.options") {
                    auto* options = new QGroupBox(tr("options of the method"), group);
                    options->setObjectName(QStringLiteral("method.options"));
                    method_options_form_ = new QFormLayout(options);
                    form->addRow(options);
                } else if (field.value().is_object()) {
                    walk(path, field.value());
                } else {
                    add_field(form, path, field.value());
                }
            }
        };
        walk(it.key(), it.value());
        if (it.key() == "stream") {
            auto* label = new QLabel(tr("Resulting tasks (seed of the first run):"), group);
            tasks_ = new QListWidget(group);
            tasks_->setMaximumHeight(140);
            tasks_->setToolTip(tr("Classes of each task (data-set labels and names) and its domain transform"));
            form->addRow(label);
            form->addRow(tasks_);
        }
    }
    body_layout->addStretch();
    updating_ = false;
    set_document(nlohmann::json::object());
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
    cell_layout->addWidget(field.editor);
    cell_layout->addWidget(field.error);
    const std::size_t section_dot = path.find('.');
    const std::string label = section_dot == std::string::npos ? path : path.substr(section_dot + 1);
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
        line->setPlaceholderText(o.default_value.is_null() ? tr("default: derived")
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
    for (auto it = fields_.begin(); it != fields_.end();) it = it->second.method_option ? fields_.erase(it) : std::next(it);
    while (method_options_form_->rowCount() > 0) method_options_form_->removeRow(0);
    const auto catalog = method_catalog();
    const MethodSummary* summary = nullptr;
    for (const auto& m : catalog)
        if (m.name == method) summary = &m;
    if (!summary)
        method_options_form_->addRow(new QLabel(tr("(choose a registered method)"), method_options_form_->parentWidget()));
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
    set_json_path(document_, "method.options", get_json_path(document, "method.options").is_object()
                                                   ? get_json_path(document, "method.options")
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
        if (field.method_option && value.is_null() && !qobject_cast<QLineEdit*>(field.editor)) value = field.default_value;
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
        }
        status_->setText(tr("✖ %1").arg(message));
        status_->setStyleSheet(QStringLiteral("color: #d04040;"));
    }
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
        const int64_t seed = config_.stream.class_order_seed.value_or(config_.seeds.empty() ? 0 : config_.seeds.front());
        const StreamSpec spec = make_stream_spec(config_, seed, num_classes);
        auto names = [this](const std::vector<int>& classes) {
            QStringList out;
            for (int c : classes)
                out << QStringLiteral("%1 %2").arg(c).arg(QString::fromStdString(class_name(config_.data.dataset, c)));
            return out.join(QStringLiteral(", "));
        };
        if (!spec.foundation_classes.empty())
            tasks_->addItem(tr("foundation: %1").arg(names(spec.foundation_classes)));
        for (const TaskSpec& task : spec.tasks)
            tasks_->addItem(QStringLiteral("t%1 [%2]: %3").arg(task.index).arg(QString::fromStdString(task.domain),
                                                                                names(task.classes)));
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

void ConfigEditor::load_preset(const QString& name) {
    set_document(read_json_file(find_preset(name.toStdString())));
}

bool ConfigEditor::save_file(const QString& path) const {
    std::ofstream out(path.toStdString());
    if (!out) return false;
    out << document_.dump(2) << '\n';
    return static_cast<bool>(out);
}

}  // namespace lorica::app
