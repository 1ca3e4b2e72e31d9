#pragma once
// What happens to `method.options` when an override changes `method.name`.
//
// A method's options belong to that method: `--set method.name=full-finetune` on a config whose
// method is sd-lora with {"handover": "rescale"} must not carry sd-lora's options over to a method
// that has none. Rule (used by `--set` overrides in presets.h and by variants' `set` in
// experiment_variants.h):
//   - the overrides change method.name (to a different name) and set neither `method` nor
//     `method.options` nor any `method.options.*` field → the previous method's options are dropped,
//     with a note saying so;
//   - the overrides also set the options explicitly → the options are kept as set, and validation
//     checks them against the NEW method's schema (an option the new method lacks is an error).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lorica {

// The method name a config document asks for ("sequential-lora" when it has none, the default).
std::string document_method_name(const nlohmann::json& document);

// True when a dotted override key sets the method options explicitly: "method", "method.options" or
// "method.options.<anything>".
bool sets_method_options(const std::string& key);

// Applies the rule above to `document` (after its overrides were applied): `previous_name` is the
// method before the overrides, `override_keys` the dotted keys the overrides set. Returns the note to
// show ("" when nothing was dropped).
std::string drop_replaced_method_options(nlohmann::json& document, const std::string& previous_name,
                                         const std::vector<std::string>& override_keys);

}  // namespace lorica
