// Merging task adapters: cat is exactly Σ w s B A, linear is (Σ √(ws) B)(Σ √(ws) A) with its cross
// terms; checked on ΔW (never on A and B) against hand-computed values and a dense expansion.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/methods/adapter_merge.h"
#include "engine/model/lora_linear.h"

using namespace lorica;

namespace {

AdapterFactors random_adapter(int64_t r, int64_t in, int64_t rows, double scale) {
    return {torch::randn({r, in}, torch::kFloat64), torch::randn({rows, r}, torch::kFloat64), scale};
}

}  // namespace

TEST(AdapterMerge, CatIsTheWeightedSumOfUpdates) {
    torch::manual_seed(3);
    // Different ranks are fine for cat.
    std::vector<AdapterFactors> adapters = {random_adapter(2, 6, 5, 0.5), random_adapter(3, 6, 5, 2.0),
                                            random_adapter(1, 6, 5, 1.0)};
    std::vector<double> w = {0.5, 0.3, 0.2};
    torch::Tensor expected = torch::zeros({5, 6}, torch::kFloat64);
    for (size_t t = 0; t < adapters.size(); ++t) expected += w[t] * adapters[t].scale * adapters[t].B.mm(adapters[t].A);
    EXPECT_TRUE(torch::allclose(merged_delta(adapters, w, MergeKind::cat), expected, 1e-12, 1e-12));
    AdapterFactors m = merge_adapters(adapters, w, MergeKind::cat);
    EXPECT_EQ(m.A.size(0), 6) << "cat rank is the sum of the ranks";
    EXPECT_EQ(m.scale, 1.0);
}

TEST(AdapterMerge, HandComputedCatAndLinear) {
    // Two rank-1 adapters on a 1×2 matrix: A_1 = [1, 0], B_1 = [2]; A_2 = [0, 1], B_2 = [3]; s = w = 1.
    //   cat:    2·[1, 0] + 3·[0, 1] = [2, 3]
    //   linear: (2 + 3)·([1, 0] + [0, 1]) = [5, 5]   (cross terms B_1 A_2 = [0, 2], B_2 A_1 = [3, 0])
    std::vector<AdapterFactors> adapters = {
        {torch::tensor({{1.0, 0.0}}, torch::kFloat64), torch::tensor({{2.0}}, torch::kFloat64), 1.0},
        {torch::tensor({{0.0, 1.0}}, torch::kFloat64), torch::tensor({{3.0}}, torch::kFloat64), 1.0}};
    EXPECT_TRUE(
        torch::equal(merged_delta(adapters, {1.0, 1.0}, MergeKind::cat), torch::tensor({{2.0, 3.0}}, torch::kFloat64)));
    EXPECT_TRUE(torch::equal(merged_delta(adapters, {1.0, 1.0}, MergeKind::linear),
                             torch::tensor({{5.0, 5.0}}, torch::kFloat64)));
    // Weights 0.25 and scale 4 → w s = 1, the same result; weight 0.5 each → √0.5·√0.5 = 0.5 of each product.
    adapters[0].scale = adapters[1].scale = 4.0;
    EXPECT_TRUE(torch::allclose(merged_delta(adapters, {0.25, 0.25}, MergeKind::linear),
                                torch::tensor({{5.0, 5.0}}, torch::kFloat64)));
    adapters[0].scale = adapters[1].scale = 1.0;
    EXPECT_TRUE(torch::allclose(merged_delta(adapters, {0.5, 0.5}, MergeKind::linear),
                                torch::tensor({{2.5, 2.5}}, torch::kFloat64)));
}

TEST(AdapterMerge, LinearEqualsCatPlusCrossTerms) {
    torch::manual_seed(4);
    std::vector<AdapterFactors> adapters = {random_adapter(3, 7, 4, 2.0), random_adapter(3, 7, 4, 0.5),
                                            random_adapter(3, 7, 4, 1.0)};
    std::vector<double> w = {0.4, 0.4, 0.4};
    torch::Tensor expansion = torch::zeros({4, 7}, torch::kFloat64);
    for (size_t i = 0; i < 3; ++i)
        for (size_t j = 0; j < 3; ++j)
            expansion +=
                std::sqrt(w[i] * adapters[i].scale * w[j] * adapters[j].scale) * adapters[i].B.mm(adapters[j].A);
    torch::Tensor linear = merged_delta(adapters, w, MergeKind::linear);
    EXPECT_TRUE(torch::allclose(linear, expansion, 1e-12, 1e-12));
    EXPECT_GT((linear - merged_delta(adapters, w, MergeKind::cat)).abs().max().item<double>(), 1e-3)
        << "random adapters have cross terms";
    // One adapter: both merges are w s B A.
    std::vector<AdapterFactors> one = {adapters[0]};
    EXPECT_TRUE(torch::allclose(merged_delta(one, {0.5}, MergeKind::linear), merged_delta(one, {0.5}, MergeKind::cat),
                                1e-12, 1e-12));
}

TEST(AdapterMerge, InstalledMergeTermGivesTheMergedLayer) {
    torch::manual_seed(5);
    LoRALinear layer(LoRALinearOptions(6, 12));
    layer->to(torch::kFloat64);
    std::vector<AdapterFactors> adapters = {random_adapter(2, 6, 4, 0.5), random_adapter(2, 6, 4, 1.5)};
    for (MergeKind kind : {MergeKind::cat, MergeKind::linear}) {
        layer->clear_terms();
        AdapterFactors m = merge_adapters(adapters, {0.5, 0.5}, kind);
        LowRankTerm term;
        term.A = m.A;
        term.B = m.B;
        term.row_offset = 8;  // the v rows of a fused qkv of width 4
        layer->add_term(term);
        torch::Tensor expected = layer->weight.detach().clone();
        expected.slice(0, 8, 12) += merged_delta(adapters, {0.5, 0.5}, kind);
        EXPECT_TRUE(torch::allclose(layer->merged_weight(), expected, 1e-12, 1e-12)) << to_string(kind);
    }
}

TEST(AdapterMerge, RejectsMismatchedInputs) {
    std::vector<AdapterFactors> ranks = {random_adapter(2, 5, 3, 1.0), random_adapter(3, 5, 3, 1.0)};
    EXPECT_THROW(merge_adapters(ranks, {1.0, 1.0}, MergeKind::linear), std::invalid_argument);
    EXPECT_NO_THROW(merge_adapters(ranks, {1.0, 1.0}, MergeKind::cat));
    EXPECT_THROW(merge_adapters(ranks, {1.0}, MergeKind::cat), std::invalid_argument);
    EXPECT_THROW(merge_adapters({}, {}, MergeKind::cat), std::invalid_argument);
    std::vector<AdapterFactors> shapes = {random_adapter(2, 5, 3, 1.0), random_adapter(2, 4, 3, 1.0)};
    EXPECT_THROW(merge_adapters(shapes, {1.0, 1.0}, MergeKind::cat), std::invalid_argument);
    EXPECT_THROW(merge_kind_from_string("ties"), std::invalid_argument);
}

TEST(AdapterMerge, DefaultWeights) {
    EXPECT_EQ(merge_weights(4, 0.0), std::vector<double>(4, 0.25));
    EXPECT_EQ(merge_weights(3, 0.5), std::vector<double>(3, 0.5));
}
