// Every registered method on the tiny ResNet: a two-task stream runs end to end (foundation step,
// 24 stream steps, evaluations) or the preflight refuses the method naming it and the backbone; bad
// ResNet input (ViT targets, ResNet targets on a ViT, a rank above a conv's channels) is a preflight
// problem naming the field.
#include <gtest/gtest.h>

#include <string>

#include "engine/config/experiment_config.h"
#include "engine/methods/method_registry.h"
#include "engine/services/experiment_runner.h"
#include "engine/services/preflight.h"
#include "engine/vocabulary/event_listener.h"
#include "tests/support/temp_dir.h"
#include "tests/support/two_task_experiment.h"

using namespace lorica;
using lorica::testing::TempDir;

namespace {

class ResNetRunCounter final : public EventListener {
public:
    void on_event(const Event& event) override {
        if (std::holds_alternative<StepMetrics>(event)) ++steps;
        if (const auto* e = std::get_if<EvaluationDone>(&event)) rows += static_cast<int64_t>(e->rows.size());
    }
    int64_t steps = 0, rows = 0;
};

nlohmann::json tiny_resnet_experiment(const TempDir& dir, const std::string& method) {
    nlohmann::json doc = lorica::testing::two_task_experiment_config(dir.path, method, "tiny-resnet-" + method);
    doc["backbone"] = {{"preset", "tiny-resnet"}};
    doc["method"]["targets"] = {"conv1", "conv2"};
    return doc;
}

// The problems preflight reports for `doc` (empty when it passes).
std::vector<PreflightProblem> resnet_preflight_problems(const nlohmann::json& doc) {
    try {
        (void)preflight_experiment(doc);
    } catch (const PreflightError& e) {
        return e.problems();
    }
    return {};
}

bool has_problem(const std::vector<PreflightProblem>& problems, const std::string& subject, const std::string& words) {
    for (const auto& p : problems)
        if (p.subject == subject && p.message.find(words) != std::string::npos) return true;
    return false;
}

std::string listed(const std::vector<PreflightProblem>& problems) {
    std::string s;
    for (const auto& p : problems) s += p.subject + ": " + p.message + "\n";
    return s;
}

}  // namespace

TEST(ResNetMethods, EveryMethodRunsATinyResnetStreamOrIsRefusedByName) {
    TempDir dir("resnet-methods");  // one foundation cache for every method
    for (const auto& info : registered_methods()) {
        SCOPED_TRACE(info.declaration->name);
        const nlohmann::json doc = tiny_resnet_experiment(dir, info.declaration->name);
        const auto problems = resnet_preflight_problems(doc);
        if (!problems.empty()) {
            EXPECT_TRUE(has_problem(problems, "method.name", info.declaration->name) &&
                        has_problem(problems, "method.name", "resnet"))
                << listed(problems);
            continue;
        }
        ResNetRunCounter counter;
        CancelToken cancel;
        EXPECT_EQ(run_experiment(parse_experiment_config(doc), counter, cancel), RunStatus::finished);
        // 24 stream steps a pass (LoRI-S: a dense calibration pass, then the sparse pass)
        EXPECT_TRUE(counter.steps == 24 || (info.declaration->name == "lori-s" && counter.steps == 48))
            << counter.steps;
        EXPECT_GT(counter.rows, 0);
    }
}

TEST(ResNetMethods, PreflightNamesTheFieldOfBadResnetInput) {
    TempDir dir("resnet-bad-input");
    nlohmann::json vit_targets = tiny_resnet_experiment(dir, "sequential-lora");
    vit_targets["method"]["targets"] = {"q", "v"};
    auto problems = resnet_preflight_problems(vit_targets);
    EXPECT_TRUE(has_problem(problems, "method.targets", "'q'")) << listed(problems);

    nlohmann::json resnet_targets_on_vit = tiny_resnet_experiment(dir, "sequential-lora");
    resnet_targets_on_vit.erase("backbone");
    resnet_targets_on_vit["method"]["targets"] = {"conv3"};
    problems = resnet_preflight_problems(resnet_targets_on_vit);
    EXPECT_TRUE(has_problem(problems, "method.targets", "'conv3'")) << listed(problems);

    nlohmann::json head_target = tiny_resnet_experiment(dir, "sequential-lora");
    head_target["method"]["targets"] = {"fc"};
    problems = resnet_preflight_problems(head_target);
    EXPECT_TRUE(has_problem(problems, "method.targets", "foundation")) << listed(problems);

    nlohmann::json high_rank = tiny_resnet_experiment(dir, "sequential-lora");
    high_rank["method"]["rank"] = 20;  // tiny-resnet's layer1 convs have 16 channels
    high_rank["method"]["alpha"] = 20.0;
    problems = resnet_preflight_problems(high_rank);
    EXPECT_TRUE(has_problem(problems, "method.rank", "layer1.0.conv1")) << listed(problems);
}
