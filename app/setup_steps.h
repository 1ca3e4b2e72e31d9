#pragma once
// The steps of the guided set-up, in the order a researcher decides them, and which config fields
// each step shows, in that order. A step's `fields` are its form; its `more` fields sit under the
// step's collapsible "More" group (rarely changed). A leaf field of the config listed nowhere goes to
// the "More" group of the step of its section (setup_step_of_section), so every field keeps an editor.

#include <string>
#include <vector>

#include <QString>

namespace lorica::app {

enum class SetupStep { dataset, stream, backbone, method, training, summary };
inline constexpr int kSetupSteps = 6;

struct SetupStepInfo {
    SetupStep step;
    QString title;                    // the step list's entry ("Data set")
    QString description;              // one sentence at the top of its page
    std::vector<std::string> fields;  // dotted config paths, in display order
    std::vector<std::string> more;    // under "More", in display order
};

// The six steps, in order.
const std::vector<SetupStepInfo>& setup_steps();
const SetupStepInfo& setup_step(SetupStep step);
// The step whose "More" group takes an unlisted field of `section` ("data", "train", "" for top level).
SetupStep setup_step_of_section(const std::string& section);
// The step listing `field` (in fields or more); falls back to the section's step.
SetupStep setup_step_of_field(const std::string& field);

}  // namespace lorica::app
