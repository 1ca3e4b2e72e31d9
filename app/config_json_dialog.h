#pragma once
// ConfigJsonDialog: View → Config as JSON. The experiment editor's document as indented JSON text,
// editable; Apply hands the text back to the same ConfigEditor (set_document), so the form and the
// JSON are two views of one config: the form's validation then names the offending field, as it
// does for edits in the form. Text that is not JSON is refused with the parser's line and column,
// and the form is left as it was.

#include <QDialog>

class QLabel;
class QPlainTextEdit;

namespace lorica::app {

class ConfigEditor;

class ConfigJsonDialog : public QDialog {
    Q_OBJECT
public:
    ConfigJsonDialog(ConfigEditor* editor, QWidget* parent = nullptr);

    QString text() const;
    void set_text(const QString& text);
    // Parses the text and sets it as the editor's document; false (message shown) when it is not a
    // JSON object. Validation problems of a well-formed document show in the form and here.
    bool apply();
    QString message() const;

private:
    void reload();  // the editor's document → text

    ConfigEditor* editor_ = nullptr;
    QPlainTextEdit* text_ = nullptr;
    QLabel* message_ = nullptr;
};

}  // namespace lorica::app
