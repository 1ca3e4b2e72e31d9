// ConfigEditor, part: binding the editors to the document: a field's editor shows the document's
// value (show_document), an edit writes the editor's value back (field_changed) and re-validates.

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>

#include "app/config_editor.h"
#include "app/config_json_path.h"

namespace lorica::app {

void ConfigEditor::show_document() {
    updating_ = true;
    for (auto& [path, field] : fields_) {
        nlohmann::json value = get_json_path(document_, path);
        if (field.method_option && value.is_null() && !qobject_cast<QLineEdit*>(field.editor))
            value = field.default_value;
        if (auto* check = qobject_cast<QCheckBox*>(field.editor)) {
            check->setChecked(value.is_boolean() && value.get<bool>());
        } else if (auto* combo = qobject_cast<QComboBox*>(field.editor)) {
            const QString text = json_value_text(value);
            if (combo->findText(text) < 0) combo->addItem(text);
            combo->setCurrentText(text);
        } else if (auto* line = qobject_cast<QLineEdit*>(field.editor)) {
            line->setText(json_value_text(value));
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

void ConfigEditor::select_method_in_list() {
    if (!method_list_) return;
    const QString name = json_value_text(get_json_path(document_, "method.name"));
    const bool was = updating_;
    updating_ = true;
    for (int i = 0; i < method_list_->count(); ++i)
        if (method_list_->item(i)->data(Qt::UserRole).toString() == name) method_list_->setCurrentRow(i);
    updating_ = was;
}

}  // namespace lorica::app
