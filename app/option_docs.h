#pragma once
// What the method options of /work/shared/methods.md mean, for the config editor's tooltips.
// Keyed by option name (`method.options.<name>`); methods validate their own options, so an option
// missing here still works, it only lacks a tooltip.

#include <string>
#include <vector>

namespace lorica::app {

struct OptionDoc {
    std::string name;     // e.g. "handover"
    std::string meaning;  // one sentence, with the allowed values
};

const std::vector<OptionDoc>& method_option_docs();
// The meaning of `name`, or "" when unknown.
std::string option_meaning(const std::string& name);

}  // namespace lorica::app
