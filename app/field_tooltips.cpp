#include "app/field_tooltips.h"

#include <QStringList>

namespace lorica::app {

QString field_tooltip(const ConfigFieldSpec& f) {
    QString kind = QString::fromStdString(type_name(f.type));
    if (!f.range_text().empty()) kind += QStringLiteral(" ") + QString::fromStdString(f.range_text());
    if (!f.unit.empty()) kind += QStringLiteral(" ") + QString::fromStdString(f.unit);
    if (!f.choices.empty()) {
        QStringList choices;
        for (const auto& c : f.choices) choices << QString::fromStdString(c);
        kind += (f.type == ConfigFieldType::text ? QStringLiteral(", e.g. ") : QStringLiteral(": ")) +
                choices.join(QStringLiteral(" | "));
    }
    if (f.nullable) kind += QStringLiteral(", or empty");
    return QStringLiteral("<b>%1</b> <code>%2</code><br>%3<br>%4")
        .arg(QString::fromStdString(f.label).toHtmlEscaped(), QString::fromStdString(f.path).toHtmlEscaped(),
             QString::fromStdString(f.doc).toHtmlEscaped(), kind.toHtmlEscaped());
}

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

}  // namespace lorica::app
