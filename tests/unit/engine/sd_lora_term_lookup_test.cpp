// SD-LoRA finds its terms by LowRankTerm::task, not by their tag string: with every tag rewritten,
// the hand-over still scales the right terms and a KD drop removes exactly the dropped task's terms.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include <torch/torch.h>

#include "engine/methods/sd_lora.h"
#include "tests/support/method_bench.h"

using namespace lorica;
using lorica::testing::MethodBench;

TEST(SDLoRATermLookup, FindsAndRemovesTermsByTaskWhateverTheirTag) {
    ExperimentConfig config;
    config.method.name = "sd-lora";
    config.method.options = {{"interpolation_points", 0}, {"state_every", 0}};
    MethodBench b(config, 2, 3);
    SDLoRA m(b.config, SDLoRAVariant::plain);
    m.begin_run(*b.ctx);
    for (int t = 0; t < 2; ++t) {
        b.start_task(m, t);
        for (auto& [name, layer] : b.model->lora_layers())
            for (auto& term : layer->terms()) term.tag = "renamed";  // the tag is a label only
        b.train(m, 2);
        m.end_task(*b.ctx);
    }
    std::map<std::string, size_t> terms_before;
    for (auto& [name, layer] : b.model->lora_layers()) terms_before[name] = layer->terms().size();
    const StateSnapshot saved = m.save_state(*b.ctx);  // reads each term's scale (term_of)
    // restore_state replaces the live terms of every recorded task: none is left twice, none is lost
    m.restore_state(*b.ctx, saved);
    int adapted = 0;
    for (auto& [name, layer] : b.model->lora_layers()) {
        EXPECT_EQ(layer->terms().size(), terms_before[name]) << name;
        if (terms_before[name] == 0) continue;  // not adapted (fc1, fc2)
        ++adapted;
        int per_task[2] = {0, 0};
        for (const auto& term : layer->terms()) {
            ASSERT_GE(term.task, 0);
            ASSERT_LT(term.task, 2);
            ++per_task[term.task];
        }
        EXPECT_EQ(per_task[0], per_task[1]) << name;
        EXPECT_GT(per_task[0], 0) << name;
    }
    EXPECT_EQ(adapted, 2) << "the qkv layer of each of the 2 blocks";
}
