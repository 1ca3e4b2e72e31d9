#include "app/config_json_dialog.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

#include "app/config_editor.h"

namespace lorica::app {

ConfigJsonDialog::ConfigJsonDialog(ConfigEditor* editor, QWidget* parent) : QDialog(parent), editor_(editor) {
    setWindowTitle(tr("Config as JSON"));
    resize(640, 720);
    auto* layout = new QVBoxLayout(this);
    auto* hint = new QLabel(tr("The experiment's config as the form holds it. Edit and Apply: the form shows the "
                               "result and validates it field by field."),
                            this);
    hint->setWordWrap(true);
    layout->addWidget(hint);
    text_ = new QPlainTextEdit(this);
    text_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    text_->setLineWrapMode(QPlainTextEdit::NoWrap);
    layout->addWidget(text_, 1);
    message_ = new QLabel(this);
    message_->setWordWrap(true);
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(message_);
    auto* buttons =
        new QDialogButtonBox(QDialogButtonBox::Apply | QDialogButtonBox::Reset | QDialogButtonBox::Close, this);
    buttons->button(QDialogButtonBox::Reset)->setToolTip(tr("Show the form's config again, dropping edits here"));
    layout->addWidget(buttons);
    connect(buttons->button(QDialogButtonBox::Apply), &QPushButton::clicked, this, [this] { apply(); });
    connect(buttons->button(QDialogButtonBox::Reset), &QPushButton::clicked, this, [this] { reload(); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    reload();
}

void ConfigJsonDialog::reload() {
    text_->setPlainText(QString::fromStdString(editor_->document().dump(2)));
    message_->setText(editor_->valid() ? tr("✓ valid config") : editor_->error_message());
}

QString ConfigJsonDialog::text() const { return text_->toPlainText(); }
void ConfigJsonDialog::set_text(const QString& text) { text_->setPlainText(text); }
QString ConfigJsonDialog::message() const { return message_->text(); }

bool ConfigJsonDialog::apply() {
    nlohmann::json document;
    try {
        document = nlohmann::json::parse(text_->toPlainText().toStdString());
    } catch (const nlohmann::json::parse_error& e) {
        message_->setText(tr("not JSON (the form is unchanged): %1").arg(QString::fromUtf8(e.what())));
        return false;
    }
    if (!document.is_object()) {
        message_->setText(tr("the config must be a JSON object {…} (the form is unchanged)"));
        return false;
    }
    editor_->set_document(document);
    message_->setText(editor_->valid() ? tr("✓ applied: valid config")
                                       : tr("applied; %1").arg(editor_->error_message()));
    return true;
}

}  // namespace lorica::app
