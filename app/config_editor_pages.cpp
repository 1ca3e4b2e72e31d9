// ConfigEditor, part: the step pages built from the config's field declaration (config_schema.h) and
// the method's option declaration (option_schema.h): one typed editor per field, its label and tooltip.

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QFrame>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include "app/config_editor.h"
#include "app/config_json_path.h"
#include "app/field_tooltips.h"
#include "app/setup_preview_view.h"
#include "engine/config/config_schema.h"
#include "engine/methods/catalog/method_catalog.h"

namespace lorica::app {

void ConfigEditor::build_pages() {
    // Every declared field (config_schema.h) gets a row: on its step's page where setup_steps lists
    // it, else under the "More" group of its section's step. A listed name that is not declared gets
    // none (the set-up tests check the lists against the declaration).
    auto is_declared = [](const std::string& path) {
        if (find_config_field(path)) return true;
        qWarning("set-up step lists '%s', which the config does not declare", path.c_str());
        return false;
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
            if (is_declared(path)) {
                add_field(p.form, path, get_json_path(defaults_, path));
                fields_[path].step = step;
                p.fields.push_back(path);
            }
        std::vector<std::string> more;
        for (const std::string& path : info.more)
            if (is_declared(path)) more.push_back(path);
        for (const ConfigFieldSpec& spec : config_fields())
            if (!listed(spec.path) && setup_step_of_section(spec.section()) == step) more.push_back(spec.path);
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
    // The editor follows the declared type: a check box, a combo box of the choices (editable where
    // they are only suggestions: device), else a line edit read like `--set key=value`.
    const ConfigFieldSpec& spec = config_field(path);
    Field field;
    field.default_value = default_value;
    if (spec.type == ConfigFieldType::boolean) {
        auto* check = new QCheckBox(form->parentWidget());
        connect(check, &QCheckBox::toggled, this, [this, path] { field_changed(path); });
        field.editor = check;
    } else if (spec.type == ConfigFieldType::choice || (spec.type == ConfigFieldType::text && !spec.choices.empty())) {
        auto* combo = new QComboBox(form->parentWidget());
        for (const std::string& choice : spec.choices) combo->addItem(QString::fromStdString(choice));
        combo->setEditable(spec.type == ConfigFieldType::text);
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
        if (default_value.is_null())
            line->setPlaceholderText(spec.nullable ? tr("(null: the default)") : tr("(default)"));
        connect(line, &QLineEdit::textEdited, this, [this, path] { field_changed(path); });
        field.editor = line;
    }
    field.editor->setObjectName(QString::fromStdString(path));
    field.editor->setToolTip(field_tooltip(spec));
    field.error = new QLabel(form->parentWidget());
    field.error->setWordWrap(true);
    field.error->setStyleSheet(QStringLiteral("color: #d04040;"));
    field.error->hide();
    auto* cell = new QWidget(form->parentWidget());
    auto* cell_layout = new QVBoxLayout(cell);
    cell_layout->setContentsMargins(0, 0, 0, 0);
    cell_layout->setSpacing(1);
    if (path == "data.root" || path == "backbone.weights" || path == "data.prepared") {
        // The path, with a Browse… button beside it (data.prepared: and Prepare…, which the main
        // window makes its Experiment → Prepare data set… action).
        auto* row = new QHBoxLayout;
        row->setContentsMargins(0, 0, 0, 0);
        row->addWidget(field.editor, 1);
        auto* browse = new QToolButton(cell);
        browse->setText(tr("Browse…"));
        browse->setObjectName(QString::fromStdString(path) + QStringLiteral(".browse"));
        auto* line = qobject_cast<QLineEdit*>(field.editor);
        connect(browse, &QToolButton::clicked, this, [this, path, line] {
            const QString chosen =
                path != "backbone.weights"
                    ? QFileDialog::getExistingDirectory(
                          this, path == "data.root" ? tr("Data set folder") : tr("Prepared images"), line->text())
                    : QFileDialog::getOpenFileName(this, tr("Backbone weights"), line->text(),
                                                   tr("safetensors (*.safetensors);;all files (*)"));
            if (!chosen.isEmpty()) set_field_text(QString::fromStdString(path), chosen);
        });
        row->addWidget(browse);
        if (path == "data.prepared") {
            auto* prepare = new QToolButton(cell);
            prepare->setText(tr("Prepare…"));
            prepare->setObjectName(QStringLiteral("data.prepared.prepare"));
            row->addWidget(prepare);
        }
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
    // The readable label; the JSON key is in the tooltip (field_tooltip).
    auto* label_widget = new QLabel(QString::fromStdString(spec.label), form->parentWidget());
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

}  // namespace lorica::app
