#pragma once
// Tooltips of the set-up panel's fields, from their declarations: a config field's label, JSON key,
// doc, type with range or choices and unit (engine/config/config_schema.h); a method option's name,
// doc, type with range or choices, default and the paper's value (engine/config/option_schema.h).
// Rich text (Qt's tooltip HTML subset).

#include <QString>

#include "engine/config/config_schema.h"
#include "engine/config/option_schema.h"

namespace lorica::app {

QString field_tooltip(const ConfigFieldSpec& field);
QString option_tooltip(const OptionSpec& option);

}  // namespace lorica::app
