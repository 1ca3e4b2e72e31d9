#pragma once
// A tiny WordNet 3.0-format noun database (data.noun, index.noun) written into a directory, for tests
// of engine/eval/wordnet.h and contextual_forgetting.h with hand-computed Wu–Palmer values:
//
//   entity ─┬─ object ─┬─ animal ─┬─ dog ─┬─ fido (instance, @i)
//           │          │          │       └─ robot_pet (also under artifact)
//           │          │          ├─ cat
//           │          │          └─ toy_dog (also under artifact)
//           │          └─ artifact ─┬─ shoe
//           │                       ├─ toy_dog
//           │                       └─ robot_pet
//           └─ abstraction
//
// depth (min = max except robot_pet: min 3, max 4): entity 0, object 1, abstraction 1, animal 2,
// artifact 2, dog 3, cat 3, shoe 3, toy_dog 3, fido 4. Offsets are the kTiny* constants (wnid "n%08u").
// `dog` has a second sense (the offset of `cat`, for a lemma-order test).

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace lorica::testing {

inline constexpr uint32_t kTinyEntity = 1001, kTinyObject = 1002, kTinyAnimal = 1003, kTinyDog = 1004, kTinyCat = 1005,
                          kTinyArtifact = 1006, kTinyShoe = 1007, kTinyAbstraction = 1008, kTinyFido = 1009,
                          kTinyToyDog = 1010, kTinyRobotPet = 1011;

inline std::string tiny_offset(uint32_t offset) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%08u", offset);
    return buffer;
}

// Writes data.noun and index.noun into `dir` (created). `data_suffix` is appended to data.noun as is
// (e.g. a truncated line, for the malformed-file tests).
inline void write_tiny_wordnet(const std::filesystem::path& dir, const std::string& data_suffix = {}) {
    std::filesystem::create_directories(dir);
    struct Entry {
        uint32_t offset;
        std::string word;
        std::vector<std::pair<std::string, uint32_t>> up;  // (pointer symbol, target)
    };
    const std::vector<Entry> entries = {
        {kTinyEntity, "entity", {}},
        {kTinyObject, "object", {{"@", kTinyEntity}}},
        {kTinyAnimal, "animal", {{"@", kTinyObject}}},
        {kTinyDog, "dog", {{"@", kTinyAnimal}}},
        {kTinyCat, "cat", {{"@", kTinyAnimal}}},
        {kTinyArtifact, "artifact", {{"@", kTinyObject}}},
        {kTinyShoe, "shoe", {{"@", kTinyArtifact}}},
        {kTinyAbstraction, "abstraction", {{"@", kTinyEntity}}},
        {kTinyFido, "Fido", {{"@i", kTinyDog}}},
        {kTinyToyDog, "toy_dog", {{"@", kTinyAnimal}, {"@", kTinyArtifact}}},
        {kTinyRobotPet, "robot_pet", {{"@", kTinyArtifact}, {"~", kTinyShoe}, {"@", kTinyDog}}},
    };
    std::ofstream data(dir / "data.noun", std::ios::binary);
    data << "  1 This software and database is a tiny test copy in the WordNet 3.0 format.  \n";
    for (const auto& e : entries) {
        data << tiny_offset(e.offset) << " 03 n 01 " << e.word << " 0 ";
        char count[8];
        std::snprintf(count, sizeof count, "%03zu", e.up.size());
        data << count;
        for (const auto& [symbol, target] : e.up) data << " " << symbol << " " << tiny_offset(target) << " n 0000";
        data << " | a test gloss  \n";
    }
    data << data_suffix;
    std::ofstream index(dir / "index.noun", std::ios::binary);
    index << "  1 This software and database is a tiny test copy in the WordNet 3.0 format.  \n";
    for (const auto& e : entries) {
        std::string lemma = e.word;
        for (char& c : lemma) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::vector<uint32_t> senses = {e.offset};
        if (lemma == "dog") senses.push_back(kTinyCat);
        index << lemma << " n " << senses.size() << " 1 @ " << senses.size() << " 0";
        for (uint32_t s : senses) index << " " << tiny_offset(s);
        index << "  \n";
    }
}

}  // namespace lorica::testing
