#!/usr/bin/env python3
"""Lorica's Wu-Palmer similarity (engine/eval/wordnet.h) against NLTK's wup_similarity on the installed
WordNet 3.0 (/usr/share/wordnet, Debian package wordnet-base), read by NLTK's own reader:

  * 60 pairs of ImageNet-1k classes drawn with a fixed seed from Lorica's table (synset_tables.h),
    which must equal timm's imagenet_synsets.txt where timm is installed;
  * every pair of the Fashion-MNIST class synsets (10 x 10, both orders: the LCS choice is asymmetric).

Equality is exact up to 1e-12. Exit 77 ("SKIP: ...") without nltk or the WordNet files.
Usage: check_wordnet_nltk.py --tool PATH/lorica_wordnet_wup [--wordnet DIR]
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

SKIP = 77

# WordNet 3.0's lexicographer files, by number (lexnames(5WN)).
LEXNAMES = ["adj.all", "adj.pert", "adv.all"] + ["noun." + n for n in (
    "Tops act animal artifact attribute body cognition communication event feeling food group location "
    "motive object person phenomenon plant possession process quantity relation shape state substance "
    "time").split()] + ["verb." + n for n in (
        "body change cognition communication competition consumption contact creation emotion motion "
        "perception possession social stative weather").split()] + ["adj.ppl"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--wordnet", default="/usr/share/wordnet")
    args = parser.parse_args()
    try:
        from nltk.corpus.reader.wordnet import WordNetCorpusReader
    except ImportError as e:
        print(f"SKIP: nltk is missing ({e}); run scripts/setup.sh")
        return SKIP
    if not os.path.exists(os.path.join(args.wordnet, "data.noun")):
        print(f"SKIP: no WordNet database in {args.wordnet} (Debian package wordnet-base)")
        return SKIP
    # NLTK's reader also wants the lexicographer file list `lexnames`, which the Debian package leaves
    # out: a copy of the database with the standard list (the names play no part in the similarity).
    tmp = tempfile.TemporaryDirectory(prefix="lorica-wordnet-")
    for name in os.listdir(args.wordnet):
        if os.path.isfile(os.path.join(args.wordnet, name)):
            shutil.copy(os.path.join(args.wordnet, name), tmp.name)
    if not os.path.exists(os.path.join(tmp.name, "lexnames")):
        with open(os.path.join(tmp.name, "lexnames"), "w") as f:
            f.writelines(f"{i:02d} {name} 0\n" for i, name in enumerate(LEXNAMES))
    import nltk
    nltk.data.path.append(tmp.name)  # NLTK reads only below its data paths
    # Without NLTK's own 'wordnet' corpus the reader cannot build its map to it (used for the
    # multilingual data only): none is needed for the database read as it is.
    WordNetCorpusReader.map_wn = lambda self, version="wordnet": None
    wn = WordNetCorpusReader(tmp.name, None)

    def table(flag):
        out = subprocess.run([args.tool, flag], check=True, capture_output=True, text=True).stdout
        return out.split()

    imagenet = table("--imagenet1k")
    fashion = table("--fashion-mnist")
    assert len(imagenet) == 1000 and len(fashion) == 10, (len(imagenet), len(fashion))
    try:
        import timm.data
        path = os.path.join(os.path.dirname(timm.data.__file__), "_info", "imagenet_synsets.txt")
        with open(path) as f:
            timm_ids = f.read().split()
        if timm_ids != imagenet:
            print(f"FAIL: Lorica's ImageNet-1k table differs from {path}")
            return 1
        print(f"ImageNet-1k table equals {path}")
    except ImportError:
        print("timm not installed: the ImageNet-1k table is not compared with timm's")

    rng = random.Random(19)
    pairs = [tuple(rng.sample(imagenet, 2)) for _ in range(60)]
    pairs += [(a, b) for a in fashion for b in fashion]
    result = subprocess.run([args.tool, args.wordnet], input="".join(f"{a} {b}\n" for a, b in pairs),
                            check=True, capture_output=True, text=True).stdout.splitlines()
    assert len(result) == len(pairs), (len(result), len(pairs))
    failures = 0
    for (a, b), line in zip(pairs, result):
        la, lb, value = line.split()
        assert (la, lb) == (a, b), line
        sa = wn.synset_from_pos_and_offset("n", int(a[1:]))
        sb = wn.synset_from_pos_and_offset("n", int(b[1:]))
        expected = sa.wup_similarity(sb)
        if value == "none" or abs(float(value) - expected) > 1e-12:
            failures += 1
            print(f"FAIL {a} {sa.name()} / {b} {sb.name()}: Lorica {value}, NLTK {expected!r}")
    print(f"{len(pairs) - failures}/{len(pairs)} pairs equal NLTK's wup_similarity")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
