#pragma once
// HeadMode: how predictions are made when accuracy is measured; its names are written by the store
// (eval_rows.head_mode) and read back, so they are part of the database format.
//
//  class_il: argmax over the logits of every class seen so far (no task id).
//  task_il:  argmax within the evaluated task's own classes (task id given).

#include <stdexcept>
#include <string>

namespace lorica {

enum class HeadMode { class_il, task_il };

inline const char* to_string(HeadMode mode) { return mode == HeadMode::class_il ? "class_il" : "task_il"; }

inline HeadMode head_mode_from_string(const std::string& text) {
    if (text == "class_il") return HeadMode::class_il;
    if (text == "task_il") return HeadMode::task_il;
    throw std::invalid_argument("unknown head mode '" + text + "' (allowed: class_il, task_il)");
}

}  // namespace lorica
