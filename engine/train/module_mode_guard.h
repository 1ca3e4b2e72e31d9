#pragma once
// ModuleModeGuard: puts a module (and its children) in training or evaluation mode for a scope and
// gives it back the mode it had, also when the scope is left by an exception (a cancelled evaluation).
//
//   { ModuleModeGuard eval_mode(*model, false); ... }   // model is in its previous mode again
//
// The previous mode is the module's own flag (Module::is_training); restoring sets it on every child,
// as Module::train does: children whose mode differed from their parent's are not restored one by one.

#include <torch/nn/module.h>

namespace lorica {

class ModuleModeGuard {
public:
    ModuleModeGuard(torch::nn::Module& module, bool training) : module_(module), was_training_(module.is_training()) {
        module_.train(training);
    }
    ~ModuleModeGuard() { module_.train(was_training_); }
    ModuleModeGuard(const ModuleModeGuard&) = delete;
    ModuleModeGuard& operator=(const ModuleModeGuard&) = delete;

private:
    torch::nn::Module& module_;
    bool was_training_;
};

}  // namespace lorica
