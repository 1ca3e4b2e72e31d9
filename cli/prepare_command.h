#pragma once
// `lorica-cli prepare [--preset NAME | --config FILE] [--set key=value]... --out DIR [--workers N]
// [--verify]`: decodes every image of the config's streamed data once into DIR as memory-mapped 8-bit
// shards at the transform's resize size (engine/services/data_preparation.h, docs/streaming.md),
// then prints how to use it: `--set data.prepared=DIR`. The config is assembled as `run` assembles
// it (preset, file, --set overrides) and its fields are checked before anything is read.
//
// Progress lines with ETA on stderr (at most one a second, and the last):
//   prepare  imagenet-r train (/data/imagenet-r)  12000/30000 images  40%  310 img/s  ETA 0:58
// Ctrl-C / SIGTERM stops between images; the shards written so far stay and the same command
// continues. `--verify` reads every stored image back and checks its CRC-32 (also of a folder that
// is already complete).
//
// Exit codes: 0 prepared (or already complete); 1 a failure while writing (disk full: the message
// names the file) or cancelled; 2 bad input: a config field, a missing data set or image, data held
// in memory (nothing to prepare), a folder made from other data or at another resize size, a folder
// that is not empty and not a prepared one.

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace lorica::cli {

class PrepareCommand {
public:
    // Adds the `prepare` subcommand and its options to `app`.
    explicit PrepareCommand(CLI::App& app);

    bool selected() const;
    // Runs it; returns the exit code.
    int run() const;

private:
    CLI::App* command_ = nullptr;
    std::string config_path_, preset_;
    std::vector<std::string> overrides_;
    std::string out_dir_;
    int workers_ = 0;  // 0 = data.workers, else hardware threads − 1
    bool verify_ = false;
};

}  // namespace lorica::cli
