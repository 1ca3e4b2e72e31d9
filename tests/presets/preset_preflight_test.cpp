// A benchmark preset whose data root or weights file is missing fails before the experiment starts:
// `lorica-cli run --preset ...` exits 2, creates no results database, and the message names the path
// and what the preset expected there — checked for each data set kind the presets use (pre-split
// image folders, the DomainNet file lists, CIFAR-100 binary files) and for the weights. And
// `lorica-cli presets` lists every preset with its one-line description.
#include <gtest/gtest.h>

#include "tests/presets/preset_fixtures.h"
#include "tests/support/cli_fixtures.h"

using namespace lorica;
using namespace lorica::testing;

namespace {

struct Case {
    const char* preset;
    const char* layout;  // how the preset's data.root expectation begins
    const char* detail;  // a file or folder name the expectation must mention
};

// One preset per data set kind, and what the message must say was expected at the data root.
const Case kCases[] = {
    {"sd-lora-vitb-imagenet-r-10", "the ImageNet-R layout", "<root>/train/<class>/*.jpg and <root>/test/<class>/*.jpg"},
    {"sd-lora-vitb-imagenet-a-10", "the ImageNet-A layout", "<root>/train/<class>/*.jpg and <root>/test/<class>/*.jpg"},
    {"sd-lora-vitb-cub200-10", "the CUB-200 layout", "001.Black_footed_Albatross"},
    {"sd-lora-vitb-domainnet-5", "the DomainNet layout", "<root>/domainnet_train.txt and <root>/domainnet_test.txt"},
    {"sd-lora-vitb-cifar100-10", "the CIFAR-100 binary version", "<root>/train.bin and <root>/test.bin"},
    {"lori-s-vitb-imagenet-r-10", "the ImageNet-R layout", "<root>/train/<class>/*.jpg"},
    {"merged-lora-vitb-cub200-rank-sweep", "the CUB-200 layout", "<root>/train/<class>/*.jpg"},
};

const char* kWeightsExpectation = "a timm-layout vit_base_patch16_224 safetensors file";

struct Cli {
    TempDir dir{"preset-preflight"};
    CliResult run(const std::vector<std::string>& sets, const std::string& preset) {
        std::vector<std::string> args = {"run", "--preset", preset, "--db", db().string()};
        for (const auto& s : sets) args.insert(args.end(), {"--set", s});
        for (const auto& s : small_vit_overrides()) args.insert(args.end(), {"--set", s});
        return run_cli_to(args, dir.path / "cli.log");
    }
    fs::path db() const { return dir.path / "results.db"; }
};

}  // namespace

TEST(PresetPreflight, AMissingDataRootFailsBeforeTheRunNamingThePathAndTheLayout) {
    Cli cli;
    const fs::path weights = cli.dir.path / "w.safetensors";
    write_small_vit_weights(weights);
    for (const Case& c : kCases) {
        SCOPED_TRACE(c.preset);
        const std::string missing = (cli.dir.path / "no-such-data").string();
        const CliResult r = cli.run({"data.root=" + missing, "backbone.weights=" + weights.string()}, c.preset);
        EXPECT_EQ(r.exit_code, 2) << r.output;
        EXPECT_NE(r.output.find("nothing was run or stored"), std::string::npos) << r.output;
        EXPECT_NE(r.output.find(missing), std::string::npos) << r.output;
        EXPECT_NE(r.output.find("expected there: " + std::string(c.layout)), std::string::npos) << r.output;
        EXPECT_NE(r.output.find(c.detail), std::string::npos) << r.output;
        EXPECT_FALSE(fs::exists(cli.db())) << "the database must not be created";
    }
}

TEST(PresetPreflight, AMissingWeightsFileFailsBeforeTheRunNamingThePathAndWhatBelongsThere) {
    Cli cli;
    const fs::path root = cli.dir.path / "cub";
    write_presplit_folders(root, cub_classes(), 1, 1);
    const std::string missing = (cli.dir.path / "no-such-weights.safetensors").string();
    const CliResult r =
        cli.run({"data.root=" + root.string(), "backbone.weights=" + missing}, "sd-lora-vitb-cub200-10");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("backbone.weights: '" + missing + "': no such file"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(std::string("expected there: ") + kWeightsExpectation), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("data.root"), std::string::npos) << "the data root is fine: " << r.output;
    EXPECT_FALSE(fs::exists(cli.db()));
}

TEST(PresetPreflight, AsShippedEveryBenchmarkPresetAsksForBothPaths) {
    Cli cli;
    for (const Case& c : kCases) {
        SCOPED_TRACE(c.preset);
        const CliResult r = cli.run({}, c.preset);
        EXPECT_EQ(r.exit_code, 2) << r.output;
        EXPECT_NE(r.output.find("2 problems"), std::string::npos) << r.output;
        EXPECT_NE(r.output.find("expected there: " + std::string(c.layout)), std::string::npos) << r.output;
        EXPECT_NE(r.output.find(c.detail), std::string::npos) << r.output;
        EXPECT_NE(r.output.find("backbone.weights: not set; this preset needs " + std::string(kWeightsExpectation)),
                  std::string::npos)
            << r.output;
        EXPECT_NE(r.output.find("--set backbone.weights=PATH"), std::string::npos) << r.output;
        EXPECT_FALSE(fs::exists(cli.db()));
    }
}

TEST(PresetPreflight, AWrongLayoutUnderTheRootIsNamedWithTheExpectedOne) {
    // A CUB-200 archive unpacked as published (images/<class>/*.jpg) is not the pre-split layout the
    // preset reads: the root exists, so the message must say what was found and what was expected.
    Cli cli;
    const fs::path root = cli.dir.path / "CUB_200_2011";
    write_jpeg(root / "images" / "001.Bird_001" / "a.jpg", 0, 0);
    const fs::path weights = cli.dir.path / "w.safetensors";
    write_small_vit_weights(weights);
    const CliResult r =
        cli.run({"data.root=" + root.string(), "backbone.weights=" + weights.string()}, "sd-lora-vitb-cub200-10");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(root.string()), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("expected there: the CUB-200 layout"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(cli.db()));
}

TEST(PresetPreflight, PresetsCommandListsEachBenchmarkWithItsDescription) {
    TempDir dir("presets-list");
    const CliResult r = run_cli_to({"presets"}, dir.path / "cli.log");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    for (const Case& c : kCases) {
        const std::string description = preset_description(c.preset);
        ASSERT_FALSE(description.empty()) << c.preset;
        // One line per preset: its name, then its description (the name at a line's start: other
        // presets' descriptions may name it too).
        const std::string listed = "\n" + r.output;
        const auto at = listed.find("\n" + std::string(c.preset) + " ");
        ASSERT_NE(at, std::string::npos) << c.preset << "\n" << r.output;
        const auto line = at;  // `listed` is one character longer: `at` is the line's start in r.output
        const auto end = r.output.find('\n', line);
        EXPECT_NE(r.output.substr(line, end - line).find(description), std::string::npos) << c.preset;
    }
}
