// WordNet noun taxonomy (engine/eval/wordnet.h): Wu–Palmer values computed by hand on a tiny database
// in the WordNet format, errors naming the file for missing and malformed databases, and the synset
// tables (engine/eval/synset_tables.h) against the installed WordNet 3.0 (skipped without it). Equality
// with NLTK on the real database: tests/interop/check_wordnet_nltk.py.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "engine/eval/synset_tables.h"
#include "engine/eval/wordnet.h"
#include "tests/support/error_of.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_wordnet.h"

namespace lorica {
namespace {

using namespace lorica::testing;

class TinyWordNetTest : public ::testing::Test {
protected:
    Synset at(uint32_t offset) const {
        auto s = wn_.by_offset(offset);
        EXPECT_TRUE(s.has_value()) << offset;
        return s.value_or(Synset{});
    }
    TempDir dir_{"wordnet"};
    WordNet wn_ = (write_tiny_wordnet(dir_.path), WordNet::open(dir_.path));
};

TEST_F(TinyWordNetTest, ReadsSynsetsLemmasAndHypernyms) {
    EXPECT_EQ(wn_.size(), 11u);
    EXPECT_EQ(wn_.by_imagenet_id("n00001004"), at(kTinyDog));
    EXPECT_EQ(wn_.imagenet_id(at(kTinyDog)), "n00001004");
    EXPECT_FALSE(wn_.by_imagenet_id("n0000100").has_value());   // 7 digits
    EXPECT_FALSE(wn_.by_imagenet_id("n00009999").has_value());  // no such offset
    EXPECT_EQ(wn_.by_lemma("DOG"), at(kTinyDog));               // first sense, case-insensitive
    EXPECT_EQ(wn_.by_lemma("toy dog"), at(kTinyToyDog));        // spaces read as '_'
    EXPECT_EQ(wn_.by_lemma("fido"), at(kTinyFido));
    EXPECT_FALSE(wn_.by_lemma("unicorn").has_value());
    EXPECT_EQ(wn_.resolve("n00001007"), at(kTinyShoe));
    EXPECT_EQ(wn_.resolve("shoe"), at(kTinyShoe));
    EXPECT_EQ(wn_.first_lemma(at(kTinyFido)), "Fido");
    EXPECT_EQ(wn_.name(at(kTinyFido)), "fido.n.01");
    EXPECT_EQ(wn_.name(at(kTinyCat)), "cat.n.01");
    // @ first, then @i; other pointers ('~') are not hypernyms
    ASSERT_EQ(wn_.hypernyms(at(kTinyRobotPet)).size(), 2u);
    EXPECT_EQ(wn_.hypernyms(at(kTinyRobotPet))[0], at(kTinyArtifact));
    EXPECT_EQ(wn_.hypernyms(at(kTinyRobotPet))[1], at(kTinyDog));
    EXPECT_EQ(wn_.hypernyms(at(kTinyFido)).size(), 1u);
}

TEST_F(TinyWordNetTest, DepthsAndHypernymPathsAsNltkCountsThem) {
    EXPECT_EQ(wn_.min_depth(at(kTinyEntity)), 0);
    EXPECT_EQ(wn_.max_depth(at(kTinyDog)), 3);
    EXPECT_EQ(wn_.min_depth(at(kTinyFido)), 4);
    EXPECT_EQ(wn_.min_depth(at(kTinyRobotPet)), 3);  // via artifact
    EXPECT_EQ(wn_.max_depth(at(kTinyRobotPet)), 4);  // via dog
    const auto paths = wn_.hypernym_paths(at(kTinyToyDog));
    ASSERT_EQ(paths.size(), 2u);
    EXPECT_EQ(paths[0], (std::vector<Synset>{at(kTinyEntity), at(kTinyObject), at(kTinyAnimal), at(kTinyToyDog)}));
    EXPECT_EQ(paths[1], (std::vector<Synset>{at(kTinyEntity), at(kTinyObject), at(kTinyArtifact), at(kTinyToyDog)}));
}

TEST_F(TinyWordNetTest, WuPalmerMatchesHandComputedValues) {
    // 2·depth(lcs) / (len1 + len2), depth = max_depth(lcs) + 1, len = distance to the lcs + depth
    EXPECT_DOUBLE_EQ(wn_.wu_palmer(at(kTinyDog), at(kTinyCat)), 2.0 * 3 / (4 + 4));          // lcs animal
    EXPECT_DOUBLE_EQ(wn_.wu_palmer(at(kTinyDog), at(kTinyShoe)), 2.0 * 2 / (4 + 4));         // lcs object
    EXPECT_DOUBLE_EQ(wn_.wu_palmer(at(kTinyDog), at(kTinyAbstraction)), 2.0 * 1 / (4 + 2));  // lcs entity
    EXPECT_DOUBLE_EQ(wn_.wu_palmer(at(kTinyFido), at(kTinyCat)), 2.0 * 3 / (5 + 4));         // via the @i edge
    EXPECT_DOUBLE_EQ(wn_.wu_palmer(at(kTinyDog), at(kTinyDog)), 1.0);
    EXPECT_DOUBLE_EQ(wn_.wu_palmer(at(kTinyToyDog), at(kTinyShoe)), 2.0 * 3 / (4 + 4));  // lcs artifact
    // animal and artifact tie (min_depth 2): NLTK takes the first by name, animal.n.01; robot_pet is 2
    // edges below animal (through dog) but 1 below artifact, so the choice shows in the value.
    EXPECT_DOUBLE_EQ(wn_.wu_palmer(at(kTinyToyDog), at(kTinyRobotPet)), 2.0 * 3 / (4 + 5));
}

TEST(WordNetErrorsTest, MissingDirectoryNamesItAndThePackage) {
    const std::string message = error_of([] { WordNet::open("/nonexistent/wordnet"); });
    EXPECT_NE(message.find("/nonexistent/wordnet"), std::string::npos) << message;
    EXPECT_NE(message.find("wordnet-base"), std::string::npos) << message;
}

TEST(WordNetErrorsTest, MissingIndexFileIsNamed) {
    TempDir dir("wordnet");
    write_tiny_wordnet(dir.path);
    std::filesystem::remove(dir.path / "index.noun");
    const std::string message = error_of([&] { WordNet::open(dir.path); });
    EXPECT_NE(message.find((dir.path / "index.noun").string()), std::string::npos) << message;
}

TEST(WordNetErrorsTest, TruncatedDataFileNamesTheFileAndLine) {
    TempDir dir("wordnet");
    write_tiny_wordnet(dir.path, "00001012 03 n 01 pup 0 001 @ 0000");  // cut in the middle of a pointer
    const std::string message = error_of([&] { WordNet::open(dir.path); });
    EXPECT_NE(message.find((dir.path / "data.noun").string()), std::string::npos) << message;
    EXPECT_NE(message.find("line 13"), std::string::npos) << message;
}

TEST(WordNetErrorsTest, DanglingHypernymIsReported) {
    TempDir dir("wordnet");
    write_tiny_wordnet(dir.path, "00001012 03 n 01 pup 0 001 @ 00009999 n 0000 | a gloss  \n");
    const std::string message = error_of([&] { WordNet::open(dir.path); });
    EXPECT_NE(message.find("data.noun"), std::string::npos) << message;
    EXPECT_NE(message.find("9999"), std::string::npos) << message;
}

// ---- the installed WordNet 3.0 (wordnet-base) --------------------------------------------------

const WordNet* installed_wordnet() {
    static std::shared_ptr<const WordNet> wn = [] {
        try {
            return WordNet::shared("/usr/share/wordnet");
        } catch (const WordNetError&) {
            return std::shared_ptr<const WordNet>();
        }
    }();
    return wn.get();
}

TEST(InstalledWordNetTest, FashionMnistTableNamesTheIntendedSynsets) {
    const WordNet* wn = installed_wordnet();
    if (!wn) GTEST_SKIP() << "no WordNet at /usr/share/wordnet (Debian package wordnet-base)";
    const std::vector<std::string> lemmas = {"tee_shirt", "trouser", "pullover", "dress", "coat",
                                             "sandal",    "shirt",   "sneaker",  "bag",   "boot"};
    ASSERT_EQ(fashion_mnist_wnids().size(), lemmas.size());
    for (size_t label = 0; label < lemmas.size(); ++label) {
        const auto s = wn->by_imagenet_id(fashion_mnist_wnids()[label]);
        ASSERT_TRUE(s.has_value()) << fashion_mnist_wnids()[label];
        EXPECT_EQ(wn->by_lemma(lemmas[label]), s) << "label " << label << ": " << wn->name(*s);
        EXPECT_EQ(class_synset_key(DatasetId::fashion_mnist, int(label), "ignored"), fashion_mnist_wnids()[label]);
    }
    EXPECT_DOUBLE_EQ(wn->wu_palmer(*wn->by_lemma("sandal"), *wn->by_lemma("sandal")), 1.0);
}

TEST(InstalledWordNetTest, EveryImageNet1kWnidIsASynsetInSortedOrder) {
    const auto wnids = imagenet1k_wnids();
    ASSERT_EQ(wnids.size(), 1000u);
    EXPECT_TRUE(std::is_sorted(wnids.begin(), wnids.end()));
    EXPECT_EQ(std::set<std::string_view>(wnids.begin(), wnids.end()).size(), 1000u);
    EXPECT_EQ(wnids.front(), "n01440764");  // tench
    const WordNet* wn = installed_wordnet();
    if (!wn) GTEST_SKIP() << "no WordNet at /usr/share/wordnet (Debian package wordnet-base)";
    EXPECT_GT(wn->size(), 82000u);
    for (auto id : wnids) EXPECT_TRUE(wn->by_imagenet_id(id).has_value()) << id;
    EXPECT_EQ(wn->name(*wn->by_imagenet_id("n01440764")), "tench.n.01");
}

TEST(SynsetTablesTest, ClassKeysPerDataSet) {
    EXPECT_EQ(class_synset_key(DatasetId::fashion_mnist, 10, "x"), "");
    EXPECT_EQ(class_synset_key(DatasetId::cifar100, 3, "bear"), "bear");
    EXPECT_EQ(class_synset_key(DatasetId::image_folder, 0, "n01443537"), "n01443537");
    EXPECT_EQ(class_synset_key(DatasetId::image_folder, 0, "001.Black_footed_Albatross"), "Black_footed_Albatross");
    EXPECT_EQ(class_synset_key(DatasetId::image_folder, 0, "2001.odyssey"), "odyssey");
    EXPECT_EQ(class_synset_key(DatasetId::image_folder, 0, "v1.5"), "v1.5");
}

}  // namespace
}  // namespace lorica
