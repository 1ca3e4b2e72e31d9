// libFuzzer target for the experiment config (engine/config/): the input is a JSON document, then a
// NUL byte, then `--set` overrides, one `key=value` a line. The document is written to a file and
// assembled as lorica-cli does (assemble_config_document: read the file, apply the overrides in
// order), then parsed and validated (parse_experiment_config, variants and sweeps expanded).
//
// Every input must either give a config, or throw ConfigError (the one documented error type). For a
// config: its effective JSON (to_json) dumps and hashes without error, parses again to the same
// effective JSON, and its variants expand. Anything else (another exception type, a sanitizer
// report, a stack overflow) is a bug.

#include <cstdint>

#include "bench/fuzz_support.h"
#include "engine/config/experiment_config.h"
#include "engine/config/experiment_variants.h"
#include "engine/config/presets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lorica;
    const auto [document, rest] = fuzz::split_at_nul(data, size);
    std::vector<std::string> overrides;
    std::string_view lines(reinterpret_cast<const char*>(rest.data()), rest.size());
    while (!lines.empty()) {
        const std::size_t end = lines.find('\n');
        if (end != 0) overrides.emplace_back(lines.substr(0, end));
        lines.remove_prefix(end == std::string_view::npos ? lines.size() : end + 1);
    }
    const std::string path = fuzz::write_scratch_file("config.json", document);
    try {
        const nlohmann::json doc = assemble_config_document(path, "", overrides);
        const ExperimentConfig config = parse_experiment_config(doc);
        const nlohmann::json effective = to_json(config);
        (void)effective.dump(2);
        const std::string hash = config_hash(effective);
        ExperimentConfig again;
        try {
            again = parse_experiment_config(effective);
        } catch (const ConfigError& e) {
            fuzz::unexpected_exception((std::string("the effective config does not parse again: ") + e.what()).c_str());
        }
        fuzz::check(to_json(again) == effective && config_hash(to_json(again)) == hash);
        const std::vector<ExperimentVariant> variants = expand_variants(config);
        fuzz::check(!variants.empty());
        for (const ExperimentVariant& v : variants) {
            fuzz::check(!has_variants(v.config));
            (void)config_hash(to_json(v.config));
        }
    } catch (const ConfigError&) {
    } catch (const std::exception& e) {
        fuzz::unexpected_exception(e.what());
    }
    return 0;
}
