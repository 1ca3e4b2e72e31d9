#include "engine/util/log.h"

#include <filesystem>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace lorica::log {

void debug(const std::string& message) { spdlog::debug("{}", message); }
void info(const std::string& message) { spdlog::info("{}", message); }
void warn(const std::string& message) { spdlog::warn("{}", message); }
void error(const std::string& message) { spdlog::error("{}", message); }

}  // namespace lorica::log

namespace lorica::log {

void setup(bool verbose, const std::string& log_file) {
    std::vector<spdlog::sink_ptr> sinks;
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console->set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
    sinks.push_back(console);
    if (!log_file.empty()) {
        try {
            std::filesystem::create_directories(std::filesystem::path(log_file).parent_path());
            auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file);
            file->set_level(spdlog::level::debug);
            sinks.push_back(file);
        } catch (const std::exception&) {
            // Not writable: console only.
        }
    }
    auto logger = std::make_shared<spdlog::logger>("lorica", sinks.begin(), sinks.end());
    logger->set_level(spdlog::level::debug);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
}

}  // namespace lorica::log
