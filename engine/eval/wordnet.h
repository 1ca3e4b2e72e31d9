#pragma once
// WordNet 3.0's noun taxonomy, read from the database files of the Debian package `wordnet-base`
// (/usr/share/wordnet), for the Wu–Palmer similarity of classes (contextual_forgetting.h).
//
// Files read (the WordNet database format, wndb(5WN)); lines that start with a space are the licence
// header and are skipped:
//   data.noun   one synset a line: "offset lex_filenum ss_type w_cnt word lex_id [word lex_id ...]
//               p_cnt [pointer_symbol offset pos source/target ...] | gloss"; offset = the synset's
//               byte offset in data.noun (8 decimal digits), w_cnt hexadecimal, p_cnt decimal.
//   index.noun  one lemma a line: "lemma pos synset_cnt p_cnt [pointer_symbol ...] sense_cnt
//               tagsense_cnt offset [offset ...]"; the offsets in sense order (first = most frequent).
// Kept in memory: per synset its offset, its first lemma and its hypernym edges (pointers "@" and "@i",
// instance hypernyms, as NLTK follows them); per lemma its synsets in sense order. No glosses.
// ~82k synsets, ~118k lemmas: a few MB, ~0.3 s to read.
//
// Wu–Palmer similarity of synsets a and b, exactly as NLTK 3.x `Synset.wup_similarity` computes it for
// nouns (no simulated root: the noun taxonomy has one root, entity.n.01):
//   common  = the ancestors of a (a included, over @ and @i) that are also ancestors of b
//   lcs     = the common ancestors of largest min_depth; when several, `a` if it is one, else the
//             first by NLTK name ("dog.n.01": lower-cased first lemma, pos, 2-digit sense number)
//   depth   = max_depth(lcs) + 1
//   d(x, s) = NLTK's shortest_path_distance: min over common ancestors y of x and s of dist(x, y) +
//             dist(s, y), dist = fewest hypernym edges
//   wup     = 2 · depth / ((d(a, lcs) + depth) + (d(b, lcs) + depth))     ∈ (0, 1], 1 for a == b
// min_depth / max_depth: fewest / most hypernym edges from the synset up to a root (root = 0).
// Units: none (a ratio of path lengths counted in synsets).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lorica {

// The directory `WordNet::open` reads by default: $LORICA_WORDNET_DIR when set, else /usr/share/wordnet.
std::filesystem::path default_wordnet_dir();

// A missing or malformed database file; the message names the file (and the line when malformed).
class WordNetError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A noun synset of one WordNet instance (an index into it; not meaningful across instances).
struct Synset {
    int32_t index = -1;
    bool operator==(const Synset&) const = default;
    auto operator<=>(const Synset&) const = default;
};

class WordNet {
public:
    // Reads <dir>/data.noun and <dir>/index.noun. Throws WordNetError naming the file when one is
    // missing, unreadable or malformed (the message for a missing directory names the Debian package).
    static WordNet open(const std::filesystem::path& dir = default_wordnet_dir());
    // One instance per directory for the whole process, read on first use (thread-safe); throws as open().
    static std::shared_ptr<const WordNet> shared(const std::filesystem::path& dir = default_wordnet_dir());

    std::size_t size() const { return offsets_.size(); }  // synsets
    const std::filesystem::path& dir() const { return dir_; }

    // "n01440764" (ImageNet's wnid: 'n' + the 8-digit data.noun offset) → the synset; nullopt when the
    // text is not of that form or no synset has that offset.
    std::optional<Synset> by_imagenet_id(std::string_view wnid) const;
    std::optional<Synset> by_offset(uint32_t offset) const;
    // The first noun sense of `lemma` (case-insensitive, spaces read as '_': "Gym shoe" = gym_shoe);
    // nullopt when index.noun has no such noun.
    std::optional<Synset> by_lemma(std::string_view lemma) const;
    // A wnid ("n01440764") or else a lemma ("gym shoe"); nullopt when neither names a synset.
    std::optional<Synset> resolve(std::string_view key) const;

    uint32_t offset(Synset s) const { return offsets_.at(s.index); }
    std::string imagenet_id(Synset s) const;                                              // "n01440764"
    const std::string& first_lemma(Synset s) const { return first_lemmas_.at(s.index); }  // "tench"
    std::string name(Synset s) const;                                                     // "tench.n.01"
    // Direct hypernyms (@) followed by instance hypernyms (@i), in file order.
    std::span<const Synset> hypernyms(Synset s) const;
    int min_depth(Synset s) const { return min_depth_.at(s.index); }
    int max_depth(Synset s) const { return max_depth_.at(s.index); }
    // Every path from a root down to `s` (root first, `s` last), as NLTK's hypernym_paths.
    std::vector<std::vector<Synset>> hypernym_paths(Synset s) const;
    // Every ancestor of `s` (itself included, distance 0) with its fewest hypernym edges from `s`,
    // sorted by synset index.
    std::vector<std::pair<Synset, int>> ancestor_distances(Synset s) const;

    // Wu–Palmer similarity (formula above); 0 when a and b share no ancestor (never for WordNet 3.0 nouns).
    double wu_palmer(Synset a, Synset b) const;

private:
    WordNet() = default;
    void compute_depths();

    std::filesystem::path dir_;
    std::vector<uint32_t> offsets_;                                  // [synsets]
    std::vector<std::string> first_lemmas_;                          // [synsets], as written in data.noun
    std::vector<int32_t> edge_begin_;                                // [synsets + 1] into edges_
    std::vector<Synset> edges_;                                      // hypernyms of every synset, concatenated
    std::vector<int16_t> min_depth_, max_depth_;                     // [synsets]
    std::unordered_map<uint32_t, int32_t> index_of_offset_;          // offset → index
    std::unordered_map<std::string, std::vector<uint32_t>> senses_;  // lower-case lemma → offsets in sense order
};

}  // namespace lorica
