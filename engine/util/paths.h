#pragma once
// Where Lorica keeps its files by default (the GUI uses the same places as the CLI):
//   data:  $XDG_DATA_HOME/lorica, else ~/.local/share/lorica   (lorica.db, logs)
//   cache: $XDG_CACHE_HOME/lorica, else ~/.cache/lorica         (measured kernel tables: engine/model/kernel_choice.h)

#include <string>

namespace lorica {

std::string default_data_dir();
std::string default_database_path();  // <data>/lorica.db
// $XDG_CACHE_HOME/lorica, else ~/.cache/lorica, else <tmp>/lorica-cache: foundation checkpoints
// (unless cache_dir is set) and the measured kernel tables.
std::string default_cache_dir();

}  // namespace lorica
