#pragma once
// Contextual forgetting (Soutif-Cormerais et al., CoLLAs 2024; methods.md): do the foundation classes
// that a stream task lost lie semantically close to that task?
//
// 1. Similarities, once per run before the stream (class_similarity_points, called by the experiment
//    runner): for stream task t and foundation class c
//        sim[t][c] = max over s in S_t of WuPalmer(synset(c), s)                       ∈ [0, 1]
//    S_t = the synsets of task t's classes and of its domain word (the task's domain when it is not
//    "identity" and WordNet has a noun of that name; image transforms such as "rot90" have none).
//    Synsets per class: synset_tables.h; Wu–Palmer: wordnet.h. Stored as AnalysisKey::class_similarity
//    (series task(t), x = foundation class id, y = sim[t][c]). A foundation class without a synset has
//    no points and is named in a Warning; a task class without one is left out of S_t, also named.
//    A missing WordNet database: one Warning naming the directory and the package, no points.
//
// 2. The analysis (contextual_forgetting, one function for the CLI, the export and the GUI), per task t
//    that has similarity points, from the end-of-task per-class rows after task t (ClassEvalRow,
//    eval_task = kFoundationTask, after_task = t; the later row wins):
//        lost[c]    = lost_since_start: samples of c correct before the stream, wrong after task t
//        samples[c] = test samples of c
//    scatter    (c, sim[t][c], lost[c], samples[c]) for every class with both (by class id)
//    top        the `top_k` classes that lost samples, most first (ties: higher similarity first, then
//               lower class id)
//    densities  over `bins` equal bins of [0, 1] (bin b = [b/B, (b+1)/B), the last one closed):
//               lost_density[b]  = Σ_{c in b} lost[c]    / (Σ_c lost[c]    · 1/B)
//               class_density[b] = Σ_{c in b} samples[c] / (Σ_c samples[c] · 1/B)
//               each integrates to 1 over [0, 1] (all zeros when its weights sum to 0)
//    means      lost_mean = Σ lost[c]·sim / Σ lost[c], class_mean = Σ samples[c]·sim / Σ samples[c]
//               (NaN when the weights sum to 0)
//    A lost_mean above class_mean: the lost samples concentrate in classes close to the task.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/config/experiment_config.h"
#include "engine/eval/wordnet.h"
#include "engine/vocabulary/event_listener.h"
#include "engine/vocabulary/events.h"

namespace lorica {

// ---- 1. similarities ----------------------------------------------------------------------------

// A class to find in WordNet: its data-set label, its name (for messages) and its WordNet key
// (a wnid or a lemma, synset_tables.h).
struct ClassSynsetKey {
    int class_id = 0;
    std::string name;
    std::string key;
};

struct SimilarityTask {
    std::vector<ClassSynsetKey> classes;
    std::string domain;  // a domain word, or "" / "identity" for none
};

struct ClassSimilarities {
    std::vector<AnalysisPoint> points;    // AnalysisKey::class_similarity, by task then foundation class
    std::vector<std::string> unresolved;  // one line per class without a synset: "foundation class 3 'Dress' (dress)"
};

// sim[t][c] for every task and every foundation class that has a synset (formula above).
ClassSimilarities class_similarities(const WordNet& wordnet, const std::vector<ClassSynsetKey>& foundation,
                                     const std::vector<SimilarityTask>& tasks);

// The class names of a run's data, by label (RawDataset::class_names): data.*'s (the catalogue's
// names when empty) and, for foundation.source = weights, foundation.data's.
struct RunClassNames {
    std::vector<std::string> data;
    std::vector<std::string> foundation;
    // stream.type = datasets: the class names of each entry's data set, by its own label ([] = unknown).
    std::vector<std::vector<std::string>> tasks;
};

// The keys of a described stream under `config`:
//   foundation  foundation.source = weights: class id k = output k of the weights' head; its
//               foundation.data name when that is a wnid (ImageNet folders), else ImageNet-1k's
//               imagenet1k_wnids()[k]; otherwise data.dataset's class (class_synset_key)
//   tasks       stream.type = datasets: the classes of the entry's own data set (names.tasks[t],
//               class_synset_key of the entry's dataset: an image folder's "001.Black_footed_Albatross"
//               is looked up as "Black_footed_Albatross"; names WordNet lacks, such as car models, are
//               reported as unresolved) and its domain word (stream.datasets[t].domain); otherwise the
//               task's classes (class_synset_key of data.dataset) and its domain
std::vector<ClassSynsetKey> foundation_synset_keys(const ExperimentConfig& config, const StreamDescribed& stream,
                                                   const RunClassNames& names);
std::vector<SimilarityTask> task_synset_keys(const ExperimentConfig& config, const StreamDescribed& stream,
                                             const RunClassNames& names);

// What the experiment runner stores with a run (once, after StreamDescribed): the class_similarity
// points of `stream`, or none when it has no foundation classes. Problems go to `warnings` as Warning
// events, never as exceptions: a missing or malformed WordNet (the message names the directory and the
// package wordnet-base), classes without a synset.
std::vector<AnalysisPoint> class_similarity_points(const ExperimentConfig& config, const StreamDescribed& stream,
                                                   const RunClassNames& names, EventListener& warnings,
                                                   const std::filesystem::path& wordnet_dir = default_wordnet_dir());

// ---- 2. the analysis ----------------------------------------------------------------------------

struct ForgettingClassPoint {
    int class_id = 0;
    std::string class_name;
    double similarity = 0.0;  // sim[t][c] ∈ [0, 1]
    int64_t lost = 0;         // samples lost since the start (the paper's "newly wrong")
    int64_t samples = 0;      // test samples of the class
};

struct ContextualForgettingTask {
    int task = 0;
    std::vector<ForgettingClassPoint> classes;  // the scatter, by class id
    std::vector<ForgettingClassPoint> top;      // at most top_k classes with lost > 0, most lost first
    std::vector<double> lost_density;           // [bins], integrates to 1 (or all 0)
    std::vector<double> class_density;          // [bins], integrates to 1 (or all 0)
    double lost_mean = 0.0;                     // NaN when nothing was lost
    double class_mean = 0.0;                    // NaN when no class has samples
    int64_t lost_total = 0;
    int64_t samples_total = 0;
};

struct ContextualForgetting {
    int bins = 20;
    std::vector<ContextualForgettingTask> tasks;  // every task with similarity points, in task order
    std::vector<int> without_similarity;          // foundation classes with rows but no similarity point

    bool empty() const { return tasks.empty(); }
    double bin_low(int b) const { return double(b) / bins; }
    double bin_high(int b) const { return double(b + 1) / bins; }
};

// The analysis of one run from its stored analysis points (only class_similarity ones are read) and
// per-class rows; `class_names[c]` names class c (the id as text otherwise).
ContextualForgetting contextual_forgetting(const std::vector<AnalysisPoint>& points,
                                           const std::vector<ClassEvalRow>& rows,
                                           const std::vector<std::string>& class_names = {}, int bins = 20,
                                           int top_k = 10);

// Text for `lorica-cli show RUN --analysis contextual-forgetting`: per task the lost samples and the
// two means, the top classes with their similarity, and the two densities (bins where either is > 0).
std::string format_contextual_forgetting(const ContextualForgetting& analysis);

}  // namespace lorica
