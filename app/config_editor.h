#pragma once
// ConfigEditor: the experiment set-up panel, a guided set-up. It edits every field an
// ExperimentConfig holds.
//
// Steps in the order a researcher decides them (setup_steps.h): Data set → Stream → Backbone →
// Method → Training → Summary, listed on the left, one page each on the right. A page shows its
// step's fields in a fixed order, the rarely changed ones under a collapsible "More" group. Besides
// the fields:
//   Data set  whether the data set is at its location ("found" / "missing", engine/data/dataset_location.h)
//   Stream    the task list and a preview of every task: its classes by name and a strip of sample
//             images as the model sees them (engine/data/task_preview.h), computed off the GUI thread
//   Backbone  for a weights file: its inspect summary and whether it loads into the configured
//             backbone (engine/io/backbone_weights_check.h), off the GUI thread
//   Method    every registered method with its one-line summary; the chosen one's typed options
//   Summary   trainable parameters per task, steps, and the time estimated from measured training
//             steps of the configured model (engine/services/training_estimate.h), off the GUI thread;
//             Start (start_requested)
// The slow look-ups run on a SetupWorker (setup_worker.h): a newer request supersedes an older one.
//
// The form is generated from the config's field declaration (engine/config/config_schema.h), one row
// per declared field, labelled with its readable label (the JSON key, doc, range and unit are in the
// tooltip): booleans as check boxes, closed sets as combo boxes of the declared choices, everything
// else as a line edit read like `--set key=value` (JSON when it parses: numbers, lists; text otherwise).
// The values start from full_config_json(ExperimentConfig{}).
// The method's options are typed editors generated from the selected method's option declaration
// (engine/config/option_schema.h, via method_catalog): check boxes, combo boxes of the choices, line
// edits showing the default; tooltips are the declaration's doc, range and the paper's value. An
// option left empty takes its default (it is not written to the document). Choosing another method
// drops the previous method's options.
//
// Validation as you type: every edit re-runs the engine's own validator (parse_experiment_config and
// validate_method_config, the same calls as lorica-cli); a ConfigError is shown under the field it
// names (its row turns red, its step is marked in the step list and its "More" group opens) and in
// the status line. The stream step shows the resulting task list (classes per task with class names,
// domain). View → Config as JSON (config_json_dialog.h) edits the same document.
//
// The class is defined in parts, one file per job: config_editor.cpp (the document, validation and
// errors, the step list), config_editor_pages.cpp (pages and editors from the declarations),
// config_editor_binding.cpp (editors ↔ document), config_editor_lookups.cpp (data-set check, task
// list, preview, weights check, estimate), config_editor_screenshots.cpp. Dotted paths:
// config_json_path.h; tooltips: field_tooltips.h.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <QString>
#include <QWidget>
#include <nlohmann/json.hpp>

#include "app/config_json_path.h"
#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"
#include "engine/data/task_preview.h"
#include "engine/io/backbone_weights_check.h"
#include "engine/services/training_estimate.h"
#include "app/setup_steps.h"

class QFormLayout;
class QLabel;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QStackedWidget;
class QTimer;
class QToolButton;

namespace lorica::app {

class SetupPreviewView;
class SetupWorker;

class ConfigEditor : public QWidget {
    Q_OBJECT
public:
    // Sample images per task in the stream preview.
    static constexpr int kPreviewSamplesPerTask = 8;

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

    // ---- the guided steps -------------------------------------------------------------------
    SetupStep current_step() const;
    void set_current_step(SetupStep step);
    // The step list's entries, in order (an entry gets " ✖" while its step holds the error).
    QStringList step_titles() const;
    // The fields a step's page shows, in display order: its form, then (more = true) its "More" group.
    std::vector<std::string> step_fields(SetupStep step, bool more = false) const;
    // The page of a step (screenshots) and whether its "More" group is open.
    QWidget* step_page(SetupStep step) const;
    bool more_open(SetupStep step) const;
    // Data set step: "found: …" / "missing: …" for the configured location.
    QString dataset_check_text() const;
    // Stream step: the preview shown (nullopt before the first arrives) and its task lines.
    const std::optional<StreamPreview>& shown_preview() const { return preview_; }
    QStringList preview_lines() const;
    QString preview_message() const;
    // Backbone step: the weights check's status line and the file's inspect summary.
    QString weights_status_text() const;
    QString weights_summary_text() const;
    // Summary step: the summary line and the estimate it was made from (nullopt before one arrived).
    QString summary_text() const;
    const std::optional<TrainingEstimate>& shown_estimate() const { return estimate_; }
    // Asks for a new estimate now (the Summary page asks by itself when shown).
    void request_estimate();
    // Stops the look-ups (waits for the one in progress): call before a run starts, since the
    // weights check and the estimate build models from LibTorch's global generator, as the run does.
    // They resume with the next edit or when the panel is enabled again.
    void stop_lookups();
    // Saves a PNG of every step's page into `dir` as setup_<n>_<step>.png, after waiting (up to
    // `wait_ms`) for the preview, the weights check and the estimate; returns the files.
    QStringList save_step_screenshots(const QString& dir, int wait_ms = 60000);

Q_SIGNALS:
    void validity_changed(bool valid);
    // After every validation: the document changed (typed, set or loaded), valid or not.
    void validated();
    void edited();
    // The Summary page's Start button.
    void start_requested();
    // A preview, weights check or estimate was drawn (error = why there is none; "" when drawn).
    void preview_shown(const QString& error);
    void weights_checked();
    void estimate_shown(const QString& error);

protected:
    void changeEvent(QEvent* event) override;

private:
    struct Field {
        QWidget* editor = nullptr;
        QLabel* error = nullptr;
        QWidget* cell = nullptr;
        nlohmann::json default_value;
        bool method_option = false;  // a "method.options.<name>" row: unset = the declared default
        SetupStep step = SetupStep::summary;
        bool in_more = false;
    };
    struct Page {
        QWidget* page = nullptr;
        QFormLayout* form = nullptr;
        QFormLayout* more_form = nullptr;
        QWidget* more_body = nullptr;
        QToolButton* more_button = nullptr;
        std::vector<std::string> fields, more;
    };

    void build_pages();
    void add_field(QFormLayout* form, const std::string& path, const nlohmann::json& default_value);
    void set_more_open(SetupStep step, bool open);
    void update_step_titles();
    void update_dataset_check();
    void schedule_lookups();
    void request_preview();
    void request_weights_check();
    void show_estimate(const TrainingEstimate& estimate);
    void select_method_in_list();
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
    QListWidget* steps_ = nullptr;
    QStackedWidget* pages_stack_ = nullptr;
    std::vector<Page> pages_;
    QLabel* dataset_check_ = nullptr;
    SetupPreviewView* preview_view_ = nullptr;
    QLabel* weights_status_ = nullptr;
    QPlainTextEdit* weights_summary_ = nullptr;
    QListWidget* method_list_ = nullptr;
    QLabel* summary_ = nullptr;
    QPushButton* start_button_ = nullptr;
    QTimer* lookup_timer_ = nullptr;            // debounces preview and weights requests while typing
    QTimer* estimate_timer_ = nullptr;          // debounces estimates
    SetupWorker* lookups_ = nullptr;            // preview + weights check
    SetupWorker* estimates_ = nullptr;          // training estimate (seconds of training)
    std::shared_ptr<TaskPreviewer> previewer_;  // used on lookups_' thread only
    std::optional<StreamPreview> preview_;
    std::optional<TrainingEstimate> estimate_;
    std::string preview_key_, weights_key_, estimate_key_;  // what was last requested
    bool preview_busy_ = false, weights_busy_ = false, estimate_busy_ = false;
    QFormLayout* method_options_form_ = nullptr;
    std::string options_method_;  // the method whose option rows are shown
};

}  // namespace lorica::app
