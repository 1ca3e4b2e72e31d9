#include "engine/util/paths.h"

#include <cstdlib>
#include <filesystem>

namespace lorica {

std::string default_data_dir() {
    namespace fs = std::filesystem;
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return (fs::path(xdg) / "lorica").string();
    if (const char* home = std::getenv("HOME"); home && *home)
        return (fs::path(home) / ".local" / "share" / "lorica").string();
    return (fs::temp_directory_path() / "lorica").string();
}

std::string default_cache_dir() {
    namespace fs = std::filesystem;
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return (fs::path(xdg) / "lorica").string();
    if (const char* home = std::getenv("HOME"); home && *home) return (fs::path(home) / ".cache" / "lorica").string();
    return (fs::temp_directory_path() / "lorica-cache").string();
}

std::string default_database_path() { return (std::filesystem::path(default_data_dir()) / "lorica.db").string(); }

}  // namespace lorica
