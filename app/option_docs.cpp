#include "app/option_docs.h"

namespace lorica::app {

const std::vector<OptionDoc>& method_option_docs() {
    static const std::vector<OptionDoc> docs = {
        {"magnitude_init", "SD-LoRA: initial value of each task's magnitude α_k (paper 1.0, released code 0.8)."},
        {"carry_magnitudes", "SD-LoRA: true keeps learned magnitudes across tasks; false resets them every task."},
        {"direction_norm", "SD-LoRA: normalise old directions by ‖B A‖_F (product) or ‖B‖_F‖A‖_F (factors)."},
        {"handover", "SD-LoRA hand-over at a task end: rescale (default), literal, or released-code."},
        {"rank_schedule", "SD-LoRA-RR: rank per 0-based task index, e.g. [[0,10],[4,8],[8,6]]."},
        {"kd_threshold", "SD-LoRA-KD: drop the new direction when its least-squares residual is ≤ τ (9e-4)."},
        {"kd_update", "SD-LoRA-KD: α_k ← α_k + α_t β_k (function-preserving) or α_k + β_k (as the paper writes)."},
        {"kd_granularity", "SD-LoRA-KD: one global least-squares fit (default) or one per matrix."},
        {"variant", "Merged LoRA: merge (default), drop (discard the adapter), or full (fine-tune the adapted weights)."},
        {"ranks", "Rank sweep: the ranks to run, e.g. [1, 2, 4, 8, 16, 32]."},
        {"sparsity", "LoRI-S: fraction of B's entries masked to zero (default 0.9)."},
        {"mask_scope", "LoRI-S: one global magnitude threshold (default), per layer, or per matrix."},
        {"a_seed", "LoRI: seed of the frozen random A matrices."},
        {"seed_per_task", "LoRI: draw a new A per task (true) or share one seed (false)."},
        {"merge", "LoRI merging of task adapters: cat (exact Σ w s B A) or linear (PEFT's, with cross terms)."},
        {"merge_weights", "LoRI merging: weight w_t of each task adapter (published 0.5 LoRI-D, 0.4 LoRI-S)."},
        {"interpolation", "Evaluate W(λ) = (1−λ) W_1 + λ W_2 after task 1 for λ ∈ {0, 0.1, …, 1}."},
    };
    return docs;
}

std::string option_meaning(const std::string& name) {
    for (const auto& d : method_option_docs())
        if (d.name == name) return d.meaning;
    return {};
}

}  // namespace lorica::app
