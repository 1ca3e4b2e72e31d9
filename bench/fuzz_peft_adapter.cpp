// libFuzzer target for PEFT adapter directories (engine/io/peft_layout.cpp, the torch-free part of
// import_peft_adapter): the input is adapter_config.json, then a NUL byte, then the bytes of
// adapter_model.safetensors. The config is parsed as import_peft_adapter parses it (nlohmann::json,
// whose parse errors become "invalid JSON"), the weights are opened from memory, and the two are
// checked against each other (read_peft_layout).
//
// Every input must either give a layout, or throw a documented error (a JSON syntax or number-range
// error, SafetensorsError, PeftLayoutError). A layout has at least one module, each with A [r, in] and B [out, r] views of
// its own file (r, in, out ≥ 1), r equal to the config's rank for it and a finite scale; the views'
// float values convert. Anything else (another exception, a sanitizer report) is a bug.

#include <cmath>
#include <cstdint>
#include <optional>
#include <set>

#include "bench/fuzz_support.h"
#include "engine/io/peft_layout.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lorica;
    const auto [config_text, weights_bytes] = fuzz::split_at_nul(data, size);
    nlohmann::json config;
    try {
        config = nlohmann::json::parse(config_text);
    } catch (const nlohmann::json::exception&) {  // import_peft_adapter: "invalid JSON" (parse_error, out_of_range)
        return 0;
    }
    std::optional<SafetensorsFile> weights;
    try {
        weights = SafetensorsFile::open_from_bytes(weights_bytes, "adapter_model.safetensors");
    } catch (const SafetensorsError&) {
        return 0;
    }
    PeftLayout layout;
    try {
        layout = read_peft_layout(config, "adapter_config.json", *weights);
    } catch (const PeftLayoutError&) {
        return 0;
    } catch (const std::exception& e) {
        fuzz::unexpected_exception(e.what());
    }
    fuzz::check(!layout.modules.empty());
    std::set<std::string> seen;
    for (const PeftModuleFactors& m : layout.modules) {
        fuzz::check(seen.insert(m.module).second);
        fuzz::check(m.A && m.B && weights->contains(m.A->name) && weights->contains(m.B->name));
        fuzz::check(m.A->name == kPeftTensorPrefix + m.module + ".lora_A.weight");
        fuzz::check(m.B->name == kPeftTensorPrefix + m.module + ".lora_B.weight");
        fuzz::check(m.A->shape.size() == 2 && m.B->shape.size() == 2);
        fuzz::check(m.rank >= 1 && m.A->shape[0] == m.rank && m.B->shape[1] == m.rank);
        fuzz::check(m.A->shape[1] >= 1 && m.B->shape[0] >= 1);
        fuzz::check(std::isfinite(m.scale));
        fuzz::check(to_float(*m.A).size() == static_cast<std::size_t>(m.A->numel()));
        fuzz::check(to_float(*m.B).size() == static_cast<std::size_t>(m.B->numel()));
    }
    fuzz::check(!layout.method.empty());
    return 0;
}
