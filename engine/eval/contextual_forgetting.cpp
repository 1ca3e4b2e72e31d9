#include "engine/eval/contextual_forgetting.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>

#include "engine/eval/synset_tables.h"
#include "engine/eval/text_table.h"

namespace lorica {

namespace {

std::string label_of(const std::vector<std::string>& class_names, int class_id) {
    return class_id >= 0 && class_id < int(class_names.size()) ? class_names[class_id] : std::to_string(class_id);
}

ClassSynsetKey synset_key_of(int class_id, const ExperimentConfig& config,
                             const std::vector<std::string>& class_names) {
    const std::vector<std::string>& names =
        class_names.empty() ? dataset_info(config.data.dataset).classes_of(config.data.cifar100_labels).names
                            : class_names;
    const std::string name = label_of(names, class_id);
    return {class_id, name, class_synset_key(config.data.dataset, class_id, name)};
}

std::string describe(const char* what, const ClassSynsetKey& c) {
    return std::string(what) + " " + std::to_string(c.class_id) + " '" + c.name + "' (" +
           (c.key.empty() ? std::string("no WordNet key") : c.key) + ")";
}

std::string three_decimals(double value) {
    if (!std::isfinite(value)) return "-";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3f", value);
    return buffer;
}

}  // namespace

ClassSimilarities class_similarities(const WordNet& wordnet, const std::vector<ClassSynsetKey>& foundation,
                                     const std::vector<SimilarityTask>& tasks) {
    ClassSimilarities out;
    auto resolve = [&](const ClassSynsetKey& c) { return c.key.empty() ? std::nullopt : wordnet.resolve(c.key); };
    std::vector<std::pair<int, Synset>> found;  // (class id, synset) of the foundation classes with one
    for (const auto& c : foundation) {
        if (auto s = resolve(c))
            found.push_back({c.class_id, *s});
        else
            out.unresolved.push_back(describe("foundation class", c));
    }
    std::map<std::pair<Synset, Synset>, double> memo;  // tasks share classes and synsets
    for (size_t t = 0; t < tasks.size(); ++t) {
        std::vector<Synset> targets;
        for (const auto& c : tasks[t].classes) {
            if (auto s = resolve(c))
                targets.push_back(*s);
            else
                out.unresolved.push_back(describe(("task " + std::to_string(t) + " class").c_str(), c));
        }
        const std::string& domain = tasks[t].domain;
        if (!domain.empty() && domain != "identity")
            if (auto s = wordnet.by_lemma(domain)) targets.push_back(*s);
        if (targets.empty()) continue;
        for (const auto& [class_id, synset] : found) {
            double best = 0.0;
            for (Synset target : targets) {
                auto [it, inserted] = memo.try_emplace({synset, target}, 0.0);
                if (inserted) it->second = wordnet.wu_palmer(synset, target);
                best = std::max(best, it->second);
            }
            out.points.push_back(
                {AnalysisKey::class_similarity, SeriesKey::of_task(static_cast<int>(t)), double(class_id), best});
        }
    }
    return out;
}

std::vector<ClassSynsetKey> foundation_synset_keys(const ExperimentConfig& config, const StreamDescribed& stream,
                                                   const RunClassNames& names) {
    std::vector<ClassSynsetKey> out;
    const auto imagenet = imagenet1k_wnids();
    auto is_wnid = [](const std::string& s) {
        return s.size() == 9 && s[0] == 'n' &&
               std::all_of(s.begin() + 1, s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    };
    for (int c : stream.foundation.classes) {
        if (config.foundation.source == FoundationSource::weights) {
            const std::string named = c >= 0 && c < int(names.foundation.size()) ? names.foundation[c] : "";
            std::string key = is_wnid(named)                       ? named
                              : c >= 0 && c < int(imagenet.size()) ? std::string(imagenet[c])
                                                                   : std::string();
            out.push_back({c, named.empty() ? (key.empty() ? std::to_string(c) : key) : named, key});
        } else {
            out.push_back(synset_key_of(c, config, names.data));
        }
    }
    return out;
}

std::vector<SimilarityTask> task_synset_keys(const ExperimentConfig& config, const StreamDescribed& stream,
                                             const RunClassNames& names) {
    std::vector<SimilarityTask> out;
    for (size_t t = 0; t < stream.tasks.size(); ++t) {
        SimilarityTask task;
        if (config.stream.type == StreamType::datasets) {
            if (t < config.stream.datasets.size()) {
                const DatasetTaskConfig& entry = config.stream.datasets[t];
                task.domain = entry.domain;
                const std::vector<std::string>* task_names = t < names.tasks.size() ? &names.tasks[t] : nullptr;
                for (int c : stream.tasks[t].classes) {
                    const std::string name =
                        task_names && c >= 0 && c < static_cast<int>(task_names->size()) ? (*task_names)[c] : "";
                    if (name.empty()) continue;  // the class's name is unknown: its domain word still counts
                    task.classes.push_back({c, name, class_synset_key(entry.dataset, c, name)});
                }
            }
        } else {
            for (int c : stream.tasks[t].classes) task.classes.push_back(synset_key_of(c, config, names.data));
            task.domain = stream.tasks[t].domain;
        }
        out.push_back(std::move(task));
    }
    return out;
}

std::vector<AnalysisPoint> class_similarity_points(const ExperimentConfig& config, const StreamDescribed& stream,
                                                   const RunClassNames& names, EventListener& warnings,
                                                   const std::filesystem::path& wordnet_dir) {
    if (stream.foundation.classes.empty() || stream.tasks.empty()) return {};
    std::shared_ptr<const WordNet> wordnet;
    try {
        wordnet = WordNet::shared(wordnet_dir);
    } catch (const std::exception& e) {
        warnings.on_event(
            Warning{"contextual forgetting: no class similarities for this run: " + std::string(e.what())});
        return {};
    }
    ClassSimilarities sims;
    try {
        sims = class_similarities(*wordnet, foundation_synset_keys(config, stream, names),
                                  task_synset_keys(config, stream, names));
    } catch (const std::exception& e) {  // never the run's failure
        warnings.on_event(
            Warning{"contextual forgetting: no class similarities for this run: " + std::string(e.what())});
        return {};
    }
    if (!sims.unresolved.empty()) {
        // At most 10 named (a data set of car models has none in WordNet), then how many in all.
        std::string list;
        for (size_t i = 0; i < sims.unresolved.size() && i < 10; ++i) list += (i ? "; " : "") + sims.unresolved[i];
        if (sims.unresolved.size() > 10) list += "; ... (" + std::to_string(sims.unresolved.size()) + " in all)";
        warnings.on_event(
            Warning{"contextual forgetting: no WordNet synset in '" + wordnet->dir().string() + "' for " + list});
    }
    return std::move(sims.points);
}

ContextualForgetting contextual_forgetting(const std::vector<AnalysisPoint>& points,
                                           const std::vector<ClassEvalRow>& rows,
                                           const std::vector<std::string>& class_names, int bins, int top_k) {
    ContextualForgetting out;
    out.bins = std::max(1, bins);
    std::map<int, std::map<int, double>> similarity;  // task → class → sim
    for (const auto& p : points)
        if (p.analysis == AnalysisKey::class_similarity && p.series.is_task())
            similarity[p.series.task][static_cast<int>(p.x)] = p.y;
    if (similarity.empty()) return out;

    std::map<int, std::map<int, const ClassEvalRow*>> after;  // task → class → its latest end-of-task row
    std::map<int, bool> has_row;                              // foundation classes seen in any row
    for (const auto& r : rows) {
        if (r.eval_task != kFoundationTask) continue;
        has_row[r.class_id] = true;
        if (r.after_task >= 0) after[r.after_task][r.class_id] = &r;
    }
    for (const auto& [class_id, _] : has_row) {
        bool any = false;
        for (const auto& [task, sims] : similarity) any = any || sims.count(class_id);
        if (!any) out.without_similarity.push_back(class_id);
    }

    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double width = 1.0 / out.bins;
    auto bin_of = [&](double sim) { return std::clamp(static_cast<int>(sim * out.bins), 0, out.bins - 1); };
    for (const auto& [task, sims] : similarity) {
        ContextualForgettingTask t;
        t.task = task;
        t.lost_density.assign(out.bins, 0.0);
        t.class_density.assign(out.bins, 0.0);
        double lost_weighted = 0.0, class_weighted = 0.0;
        const auto rows_of_task = after.find(task);
        for (const auto& [class_id, sim] : sims) {
            if (rows_of_task == after.end()) break;
            auto row = rows_of_task->second.find(class_id);
            if (row == rows_of_task->second.end() || row->second->lost_since_start < 0) continue;
            const ForgettingClassPoint point{class_id, label_of(class_names, class_id), std::clamp(sim, 0.0, 1.0),
                                             row->second->lost_since_start, row->second->total};
            t.classes.push_back(point);
            t.lost_density[bin_of(point.similarity)] += double(point.lost);
            t.class_density[bin_of(point.similarity)] += double(point.samples);
            t.lost_total += point.lost;
            t.samples_total += point.samples;
            lost_weighted += double(point.lost) * point.similarity;
            class_weighted += double(point.samples) * point.similarity;
        }
        for (double& d : t.lost_density) d = t.lost_total > 0 ? d / (double(t.lost_total) * width) : 0.0;
        for (double& d : t.class_density) d = t.samples_total > 0 ? d / (double(t.samples_total) * width) : 0.0;
        t.lost_mean = t.lost_total > 0 ? lost_weighted / double(t.lost_total) : nan;
        t.class_mean = t.samples_total > 0 ? class_weighted / double(t.samples_total) : nan;
        for (const auto& c : t.classes)
            if (c.lost > 0) t.top.push_back(c);
        std::stable_sort(t.top.begin(), t.top.end(), [](const ForgettingClassPoint& a, const ForgettingClassPoint& b) {
            if (a.lost != b.lost) return a.lost > b.lost;
            if (a.similarity != b.similarity) return a.similarity > b.similarity;
            return a.class_id < b.class_id;
        });
        if (int(t.top.size()) > top_k) t.top.resize(std::max(0, top_k));
        out.tasks.push_back(std::move(t));
    }
    return out;
}

std::string format_contextual_forgetting(const ContextualForgetting& analysis) {
    if (analysis.empty())
        return "(no class similarities stored with this run: it has no foundation task, or WordNet was missing "
               "when it ran)\n";
    std::string text =
        "contextual forgetting: Wu-Palmer WordNet similarity of each foundation class to the task (its classes and "
        "domain word); lost = test samples correct before the stream and wrong after the task\n";
    if (!analysis.without_similarity.empty()) {
        text += "foundation classes without a WordNet synset (left out):";
        for (int c : analysis.without_similarity) text += " " + std::to_string(c);
        text += "\n";
    }
    for (const auto& t : analysis.tasks) {
        text += "\ntask " + std::to_string(t.task) + ": ";
        if (t.classes.empty()) {
            text += "no per-class rows after this task\n";
            continue;
        }
        text += std::to_string(t.lost_total) + " of " + std::to_string(t.samples_total) +
                " samples lost; mean similarity of the lost samples " + three_decimals(t.lost_mean) +
                ", of all classes' samples " + three_decimals(t.class_mean) + "\n";
        std::vector<std::vector<std::string>> top;
        for (const auto& c : t.top)
            top.push_back({std::to_string(c.class_id) + " " + c.class_name, three_decimals(c.similarity),
                           std::to_string(c.lost), std::to_string(c.samples)});
        if (!top.empty()) text += format_text_table({"top lost class", "similarity", "lost", "samples"}, top);
        std::vector<std::vector<std::string>> density;
        for (int b = 0; b < analysis.bins; ++b) {
            if (t.lost_density[b] == 0.0 && t.class_density[b] == 0.0) continue;
            std::string bin = "[";
            bin += fixed_2(analysis.bin_low(b));
            bin += ", ";
            bin += fixed_2(analysis.bin_high(b));
            bin += b + 1 == analysis.bins ? "]" : ")";
            density.push_back({bin, three_decimals(t.lost_density[b]), three_decimals(t.class_density[b])});
        }
        text += format_text_table({"similarity", "density lost", "density all"}, density);
    }
    return text;
}

}  // namespace lorica
