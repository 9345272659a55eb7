#include "platform/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace procview {

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, const std::string& file,
                                            const std::string& level, const std::string& pattern_prefix) {
    std::shared_ptr<spdlog::logger> logger;
    if (!file.empty()) {
        try {
            logger = std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
        } catch (const spdlog::spdlog_ex&) {
            logger.reset();  // an unwritable log file must not stop the program: fall back to stderr
        }
    }
    if (!logger) logger = std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %n[%P] %l: " + pattern_prefix + "%v");
    logger->set_level(spdlog::level::from_str(level));
    if (level != "off" && logger->level() == spdlog::level::off) logger->set_level(spdlog::level::info);
    logger->flush_on(spdlog::level::info);
    return logger;
}

}  // namespace procview
