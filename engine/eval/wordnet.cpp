#include "engine/eval/wordnet.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>

namespace lorica {

namespace fs = std::filesystem;

namespace {

// Whitespace-separated fields of one database line, up to the gloss ('|').
class LineFields {
public:
    LineFields(std::string_view line, const fs::path& file, int64_t line_number)
        : line_(line), file_(file), line_number_(line_number) {
        if (const auto bar = line_.find('|'); bar != std::string_view::npos) line_ = line_.substr(0, bar);
    }

    std::string_view next(const char* what) {
        while (pos_ < line_.size() && line_[pos_] == ' ') ++pos_;
        if (pos_ >= line_.size()) fail(std::string("ends before its ") + what);
        const size_t start = pos_;
        while (pos_ < line_.size() && line_[pos_] != ' ') ++pos_;
        return line_.substr(start, pos_ - start);
    }

    uint64_t number(const char* what, int base = 10) {
        const std::string_view text = next(what);
        uint64_t value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
        if (ec != std::errc() || end != text.data() + text.size())
            fail(std::string("has '") + std::string(text) + "' where its " + what + " should be");
        return value;
    }

    [[noreturn]] void fail(const std::string& problem) const {
        throw WordNetError("malformed WordNet file '" + file_.string() + "', line " + std::to_string(line_number_) +
                           ": the line " + problem);
    }

private:
    std::string_view line_;
    size_t pos_ = 0;
    const fs::path& file_;
    int64_t line_number_;
};

std::ifstream open_database_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw WordNetError("cannot read the WordNet file '" + file.string() +
                           "' (install the Debian package wordnet-base, or set LORICA_WORDNET_DIR to a WordNet 3.0 "
                           "dict directory)");
    return in;
}

std::string lower_lemma(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

fs::path default_wordnet_dir() {
    if (const char* dir = std::getenv("LORICA_WORDNET_DIR"); dir && *dir) return dir;
    return "/usr/share/wordnet";
}

WordNet WordNet::open(const fs::path& dir) {
    if (!fs::is_directory(dir))
        throw WordNetError("no WordNet database at '" + dir.string() +
                           "' (install the Debian package wordnet-base, or set LORICA_WORDNET_DIR to a WordNet 3.0 "
                           "dict directory)");
    WordNet wn;
    wn.dir_ = dir;

    const fs::path data_file = dir / "data.noun";
    std::ifstream data = open_database_file(data_file);
    std::vector<std::vector<uint32_t>> hypernym_offsets;  // [synsets]: @ first, then @i
    std::vector<int64_t> line_of;                         // [synsets]: for errors about their pointers
    std::string line;
    int64_t line_number = 0;
    while (std::getline(data, line)) {
        ++line_number;
        if (line.empty() || line.front() == ' ') continue;  // licence header
        LineFields f(line, data_file, line_number);
        const uint64_t offset = f.number("synset offset");
        f.number("lexicographer file number");
        if (f.next("synset type") != "n") f.fail("is not a noun synset (synset type 'n')");
        const uint64_t words = f.number("word count", 16);
        if (words == 0) f.fail("has no words");
        std::string first;
        for (uint64_t w = 0; w < words; ++w) {
            const std::string_view word = f.next("words");
            if (w == 0) first = std::string(word);
            f.next("lex_id");
        }
        const uint64_t pointers = f.number("pointer count");
        std::vector<uint32_t> hyper, instance;
        for (uint64_t p = 0; p < pointers; ++p) {
            const std::string_view symbol = f.next("pointers");
            const uint64_t target = f.number("pointer offset");
            const std::string_view pos = f.next("pointer part of speech");
            f.next("pointer source/target");
            if (pos != "n") continue;
            if (symbol == "@") hyper.push_back(static_cast<uint32_t>(target));
            if (symbol == "@i") instance.push_back(static_cast<uint32_t>(target));
        }
        if (line.find('|') == std::string::npos) f.fail("has no gloss separator '|' (a truncated file?)");
        hyper.insert(hyper.end(), instance.begin(), instance.end());
        if (!wn.index_of_offset_.emplace(static_cast<uint32_t>(offset), static_cast<int32_t>(wn.offsets_.size()))
                 .second)
            f.fail("repeats synset offset " + std::to_string(offset));
        wn.offsets_.push_back(static_cast<uint32_t>(offset));
        wn.first_lemmas_.push_back(std::move(first));
        hypernym_offsets.push_back(std::move(hyper));
        line_of.push_back(line_number);
    }
    if (data.bad()) throw WordNetError("error reading the WordNet file '" + data_file.string() + "'");
    if (wn.offsets_.empty()) throw WordNetError("the WordNet file '" + data_file.string() + "' holds no noun synsets");

    wn.edge_begin_.reserve(wn.offsets_.size() + 1);
    wn.edge_begin_.push_back(0);
    for (size_t i = 0; i < hypernym_offsets.size(); ++i) {
        for (uint32_t target : hypernym_offsets[i]) {
            auto it = wn.index_of_offset_.find(target);
            if (it == wn.index_of_offset_.end())
                throw WordNetError("malformed WordNet file '" + data_file.string() + "', line " +
                                   std::to_string(line_of[i]) + ": its hypernym " + std::to_string(target) +
                                   " is no synset of the file (a truncated file?)");
            wn.edges_.push_back(Synset{it->second});
        }
        wn.edge_begin_.push_back(static_cast<int32_t>(wn.edges_.size()));
    }

    const fs::path index_file = dir / "index.noun";
    std::ifstream index = open_database_file(index_file);
    line_number = 0;
    while (std::getline(index, line)) {
        ++line_number;
        if (line.empty() || line.front() == ' ') continue;
        LineFields f(line, index_file, line_number);
        std::string lemma = lower_lemma(f.next("lemma"));
        if (f.next("part of speech") != "n") f.fail("is not a noun entry (part of speech 'n')");
        const uint64_t synsets = f.number("synset count");
        const uint64_t pointer_kinds = f.number("pointer count");
        for (uint64_t p = 0; p < pointer_kinds; ++p) f.next("pointer symbols");
        f.number("sense count");
        f.number("tagged sense count");
        std::vector<uint32_t> offsets;
        for (uint64_t s = 0; s < synsets; ++s) {
            const uint64_t offset = f.number("synset offsets");
            if (!wn.index_of_offset_.count(static_cast<uint32_t>(offset)))
                f.fail("names synset " + std::to_string(offset) + ", which data.noun does not hold");
            offsets.push_back(static_cast<uint32_t>(offset));
        }
        wn.senses_[std::move(lemma)] = std::move(offsets);
    }
    if (index.bad()) throw WordNetError("error reading the WordNet file '" + index_file.string() + "'");
    if (wn.senses_.empty()) throw WordNetError("the WordNet file '" + index_file.string() + "' holds no noun lemmas");

    wn.compute_depths();
    return wn;
}

std::shared_ptr<const WordNet> WordNet::shared(const fs::path& dir) {
    static std::mutex mutex;
    static std::map<fs::path, std::shared_ptr<const WordNet>> instances;
    std::lock_guard lock(mutex);
    auto& slot = instances[dir];
    if (!slot) slot = std::make_shared<const WordNet>(open(dir));  // a failure leaves the slot empty
    return slot;
}

void WordNet::compute_depths() {
    const size_t n = offsets_.size();
    min_depth_.assign(n, -1);
    max_depth_.assign(n, -1);
    std::vector<uint8_t> state(n, 0);  // 0 = not visited, 1 = on the stack, 2 = done
    // Iterative post-order walk up the hypernym edges (the taxonomy is ~20 levels deep).
    for (size_t root = 0; root < n; ++root) {
        if (state[root] == 2) continue;
        std::vector<std::pair<int32_t, int32_t>> stack{{static_cast<int32_t>(root), 0}};
        state[root] = 1;
        while (!stack.empty()) {
            auto& [s, next] = stack.back();
            const int32_t end = edge_begin_[s + 1];
            if (edge_begin_[s] + next < end) {
                const int32_t h = edges_[edge_begin_[s] + next].index;
                ++next;
                if (state[h] == 1)
                    throw WordNetError("malformed WordNet file '" + (dir_ / "data.noun").string() +
                                       "': the hypernyms of synset " + std::to_string(offsets_[h]) + " form a cycle");
                if (state[h] == 0) {
                    state[h] = 1;
                    stack.push_back({h, 0});
                }
                continue;
            }
            int lo = 0, hi = 0;
            if (edge_begin_[s] < end) {
                lo = INT32_MAX;
                hi = 0;
                for (int32_t e = edge_begin_[s]; e < end; ++e) {
                    lo = std::min<int>(lo, min_depth_[edges_[e].index] + 1);
                    hi = std::max<int>(hi, max_depth_[edges_[e].index] + 1);
                }
            }
            min_depth_[s] = static_cast<int16_t>(lo);
            max_depth_[s] = static_cast<int16_t>(hi);
            state[s] = 2;
            stack.pop_back();
        }
    }
}

std::optional<Synset> WordNet::by_offset(uint32_t offset) const {
    auto it = index_of_offset_.find(offset);
    if (it == index_of_offset_.end()) return std::nullopt;
    return Synset{it->second};
}

std::optional<Synset> WordNet::by_imagenet_id(std::string_view wnid) const {
    if (wnid.size() != 9 || wnid.front() != 'n') return std::nullopt;
    uint32_t offset = 0;
    auto [end, ec] = std::from_chars(wnid.data() + 1, wnid.data() + wnid.size(), offset);
    if (ec != std::errc() || end != wnid.data() + wnid.size()) return std::nullopt;
    return by_offset(offset);
}

std::optional<Synset> WordNet::by_lemma(std::string_view lemma) const {
    auto it = senses_.find(lower_lemma(lemma));
    if (it == senses_.end() || it->second.empty()) return std::nullopt;
    return by_offset(it->second.front());
}

std::optional<Synset> WordNet::resolve(std::string_view key) const {
    if (auto s = by_imagenet_id(key)) return s;
    return by_lemma(key);
}

std::string WordNet::imagenet_id(Synset s) const {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "n%08u", static_cast<unsigned>(offset(s)));
    return buffer;
}

std::string WordNet::name(Synset s) const {
    const std::string lemma = lower_lemma(first_lemma(s));
    int sense = 0;
    if (auto it = senses_.find(lemma); it != senses_.end()) {
        auto pos = std::find(it->second.begin(), it->second.end(), offset(s));
        if (pos != it->second.end()) sense = static_cast<int>(pos - it->second.begin()) + 1;
    }
    char number[16];
    std::snprintf(number, sizeof number, "%02d", sense);
    return lemma + ".n." + number;
}

std::span<const Synset> WordNet::hypernyms(Synset s) const {
    const int32_t begin = edge_begin_.at(s.index), end = edge_begin_.at(s.index + 1);
    return std::span<const Synset>(edges_.data() + begin, static_cast<size_t>(end - begin));
}

std::vector<std::vector<Synset>> WordNet::hypernym_paths(Synset s) const {
    std::vector<std::vector<Synset>> paths;
    const auto up = hypernyms(s);
    if (up.empty()) paths.push_back({s});
    for (Synset h : up)
        for (auto& path : hypernym_paths(h)) {
            path.push_back(s);
            paths.push_back(std::move(path));
        }
    return paths;
}

std::vector<std::pair<Synset, int>> WordNet::ancestor_distances(Synset s) const {
    std::vector<std::pair<Synset, int>> out;
    std::deque<std::pair<Synset, int>> queue{{s, 0}};
    while (!queue.empty()) {
        auto [x, d] = queue.front();
        queue.pop_front();
        bool seen = false;
        for (const auto& [y, _] : out) seen = seen || y == x;
        if (seen) continue;  // breadth first: the first visit has the fewest edges
        out.push_back({x, d});
        for (Synset h : hypernyms(x)) queue.push_back({h, d + 1});
    }
    std::sort(out.begin(), out.end());
    return out;
}

namespace {

// NLTK's shortest_path_distance over two sorted ancestor lists: min over common y of dx(y) + ds(y).
std::optional<int> shortest_distance(const std::vector<std::pair<Synset, int>>& x,
                                     const std::vector<std::pair<Synset, int>>& s) {
    std::optional<int> best;
    auto i = x.begin();
    auto j = s.begin();
    while (i != x.end() && j != s.end()) {
        if (i->first < j->first) {
            ++i;
        } else if (j->first < i->first) {
            ++j;
        } else {
            const int d = i->second + j->second;
            if (!best || d < *best) best = d;
            ++i;
            ++j;
        }
    }
    return best;
}

}  // namespace

double WordNet::wu_palmer(Synset a, Synset b) const {
    const auto up_a = ancestor_distances(a);
    const auto up_b = ancestor_distances(b);
    std::vector<Synset> candidates;
    int deepest = -1;
    auto i = up_a.begin();
    auto j = up_b.begin();
    while (i != up_a.end() && j != up_b.end()) {
        if (i->first < j->first) {
            ++i;
        } else if (j->first < i->first) {
            ++j;
        } else {
            const Synset c = i->first;
            const int depth = min_depth(c);
            if (depth > deepest) {
                deepest = depth;
                candidates.clear();
            }
            if (depth == deepest) candidates.push_back(c);
            ++i;
            ++j;
        }
    }
    if (candidates.empty()) return 0.0;
    Synset lcs = candidates.front();
    if (std::find(candidates.begin(), candidates.end(), a) != candidates.end()) {
        lcs = a;
    } else if (candidates.size() > 1) {
        std::string best = name(lcs);
        for (size_t k = 1; k < candidates.size(); ++k)
            if (std::string n = name(candidates[k]); n < best) {
                best = std::move(n);
                lcs = candidates[k];
            }
    }
    const int depth = max_depth(lcs) + 1;
    const auto up_lcs = ancestor_distances(lcs);
    const auto da = a == lcs ? std::optional<int>(0) : shortest_distance(up_a, up_lcs);
    const auto db = b == lcs ? std::optional<int>(0) : shortest_distance(up_b, up_lcs);
    if (!da || !db) return 0.0;
    return 2.0 * depth / double(*da + depth + *db + depth);
}

}  // namespace lorica
