#pragma once
// ConfigEditor: the experiment setup panel. It edits every field an ExperimentConfig holds.
//
// The form is generated from the config's own JSON (to_json of the defaults), one row per leaf
// field, grouped by section (general, data, foundation, stream, backbone, method, train, eval):
// booleans as check boxes, fields with a closed set of values as combo boxes, everything else as a
// line edit read like `--set key=value` (JSON when it parses: numbers, lists; text otherwise).
// The method's options are typed editors generated from the selected method's option declaration
// (engine/config/option_schema.h, via method_catalog): check boxes, combo boxes of the choices, line
// edits showing the default; tooltips are the declaration's doc, range and the paper's value. An
// option left empty takes its default (it is not written to the document). Choosing another method
// drops the previous method's options.
//
// Validation as you type: every edit re-runs the engine's own validator (parse_experiment_config and
// validate_method_config, the same calls as lorica-cli); a ConfigError is shown under the field it
// names (its row turns red) and in the status line. The stream section shows the resulting task list
// (classes per task with class names, domain).

#include <map>
#include <string>

#include <QString>
#include <QWidget>
#include <nlohmann/json.hpp>

#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"

class QFormLayout;
class QLabel;
class QListWidget;

namespace lorica::app {

class ConfigEditor : public QWidget {
    Q_OBJECT
public:
    explicit ConfigEditor(QWidget* parent = nullptr);

    // Shows `document` (missing fields take their defaults) and validates it.
    void set_document(const nlohmann::json& document);
    // The edited document: every field, as the form shows it (may be invalid).
    const nlohmann::json& document() const { return document_; }
    // Loads a config file or a shipped preset; throws ConfigError naming the file.
    void load_file(const QString& path);
    void load_preset(const QString& name);
    // Writes document() as indented JSON; false when the file cannot be written.
    bool save_file(const QString& path) const;

    bool valid() const { return error_field_.empty() && error_message_.isEmpty(); }
    // The validated config (call only when valid()).
    const ExperimentConfig& config() const { return config_; }
    // The field the current error names ("" for the whole document) and the message.
    QString error_field() const { return QString::fromStdString(error_field_); }
    QString error_message() const { return error_message_; }
    // The error label shown under `field`'s row ("" when none).
    QString field_error_text(const QString& field) const;
    // The editor widget of a leaf field (tests type into it), or nullptr.
    QWidget* field_widget(const QString& field) const;
    // Sets a field as if typed (line edits: the text; combos: the item; check boxes: "true"/"false").
    void set_field_text(const QString& field, const QString& text);
    // The task list shown under the stream section, one line per task.
    QStringList task_list() const;

Q_SIGNALS:
    void validity_changed(bool valid);
    void edited();

private:
    struct Field {
        QWidget* editor = nullptr;
        QLabel* error = nullptr;
        nlohmann::json default_value;
        bool method_option = false;  // a "method.options.<name>" row: unset = the declared default
    };

    void build_form();
    void add_field(QFormLayout* form, const std::string& path, const nlohmann::json& default_value);
    void add_option_field(const OptionSpec& option);
    // Replaces the option rows with those of the document's method (when it changed).
    void rebuild_method_options();
    void field_changed(const std::string& path);
    void show_document();
    void validate();
    void show_error(const std::string& field, const QString& message);
    void update_task_list();
    nlohmann::json read_field(const std::string& path) const;

    nlohmann::json defaults_;
    nlohmann::json document_;
    ExperimentConfig config_;
    std::map<std::string, Field> fields_;
    std::string error_field_;
    QString error_message_;
    bool last_valid_ = true;
    bool updating_ = false;
    QLabel* status_ = nullptr;
    QListWidget* tasks_ = nullptr;
    QFormLayout* method_options_form_ = nullptr;
    std::string options_method_;  // the method whose option rows are shown
};

// Sets the value at a dotted path ("train.optimizer.lr") inside a JSON object, creating objects on
// the way.
void set_json_path(nlohmann::json& document, const std::string& path, nlohmann::json value);
// The value at a dotted path, or null.
nlohmann::json get_json_path(const nlohmann::json& document, const std::string& path);

}  // namespace lorica::app
