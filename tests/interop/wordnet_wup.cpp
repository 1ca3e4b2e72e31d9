// Lorica's Wu–Palmer similarity for the interop check against NLTK (tests/interop/check_wordnet_nltk.py):
//   lorica_wordnet_wup DIR      reads lines "wnid_a wnid_b" on stdin, prints "wnid_a wnid_b value"
//                               (value with 17 significant digits; "none" for an unknown wnid)
//   lorica_wordnet_wup --imagenet1k   prints the 1000 ImageNet-1k wnids of engine/eval/synset_tables.h
//   lorica_wordnet_wup --fashion-mnist   prints the 10 Fashion-MNIST wnids
// Exit 2 with the error when the WordNet database cannot be read.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "engine/eval/synset_tables.h"
#include "engine/eval/wordnet.h"

int main(int argc, char** argv) {
    const std::string arg = argc > 1 ? argv[1] : "";
    if (arg == "--imagenet1k" || arg == "--fashion-mnist") {
        for (auto id : arg == "--imagenet1k" ? lorica::imagenet1k_wnids() : lorica::fashion_mnist_wnids())
            std::printf("%.*s\n", static_cast<int>(id.size()), id.data());
        return 0;
    }
    try {
        const lorica::WordNet wn =
            lorica::WordNet::open(arg.empty() ? lorica::default_wordnet_dir() : std::filesystem::path(arg));
        std::string a, b;
        while (std::cin >> a >> b) {
            const auto sa = wn.by_imagenet_id(a), sb = wn.by_imagenet_id(b);
            if (!sa || !sb)
                std::printf("%s %s none\n", a.c_str(), b.c_str());
            else
                std::printf("%s %s %.17g\n", a.c_str(), b.c_str(), wn.wu_palmer(*sa, *sb));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    return 0;
}
