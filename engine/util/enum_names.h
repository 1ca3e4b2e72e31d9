#pragma once
// Spellings of enumerations (the config's and the shared vocabulary's): one table per enum, read by
// the parsers (the config's, OptionReader::read in option_schema.h) and written back by describe()
// and to_json, so a value and its spelling are declared once.
//
//   enum class Handover { rescale, literal };
//   inline constexpr EnumNames<Handover, 2> kHandoverNames{{{Handover::rescale, "rescale"}, {Handover::literal, "literal"}}};
//   name_of(kHandoverNames, Handover::literal) == "literal"; value_of(kHandoverNames, "rescale") == Handover::rescale

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace lorica {

template <class E, std::size_t N>
using EnumNames = std::array<std::pair<E, std::string_view>, N>;

template <class E, std::size_t N>
std::string name_of(const EnumNames<E, N>& names, E value) {
    for (const auto& [v, name] : names)
        if (v == value) return std::string(name);
    return "?";
}

template <class E, std::size_t N>
constexpr std::optional<E> value_of(const EnumNames<E, N>& names, std::string_view name) {
    for (const auto& [v, n] : names)
        if (n == name) return v;
    return std::nullopt;
}

// "a, b, c": the allowed spellings, for error messages.
template <class E, std::size_t N>
std::string allowed_names(const EnumNames<E, N>& names) {
    std::string out;
    for (const auto& [v, name] : names) out += (out.empty() ? "" : ", ") + std::string(name);
    return out;
}

}  // namespace lorica
