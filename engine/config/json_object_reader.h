#pragma once
// Field-by-field reading of one JSON object with errors that name the field path.
//
// Every `read*` call both reads a key (if present) and declares it allowed; `finish()` then reports
// the first key nobody asked for, listing the allowed names. Used by the experiment config and by
// each adapter method for its `method.options`.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config/experiment_config.h"

namespace lorica {

using json = nlohmann::json;

inline std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

// Reads one JSON object field by field, remembering which keys were consumed, so that every key
// left over is reported as unknown together with the allowed names.
class ObjectReader {
public:
    ObjectReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {
        if (!object_.is_object())
            throw ConfigError(path_, "must be an object, got " + std::string(object_.type_name()));
    }

    std::string field(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

    const json* find(const std::string& key) {
        allowed_.push_back(key);
        auto it = object_.find(key);
        return it == object_.end() ? nullptr : &*it;
    }

    void read(const std::string& key, std::string& out, const std::vector<std::string>& choices = {}) {
        const json* v = find(key);
        if (!v) return;
        if (!v->is_string()) throw ConfigError(field(key), "must be a string, got " + v->dump());
        std::string s = v->get<std::string>();
        if (!choices.empty() && std::find(choices.begin(), choices.end(), s) == choices.end())
            throw ConfigError(field(key), "'" + s + "' is not allowed (allowed: " + join(choices) + ")");
        out = s;
    }

    void read(const std::string& key, bool& out) {
        const json* v = find(key);
        if (!v) return;
        if (!v->is_boolean()) throw ConfigError(field(key), "must be true or false, got " + v->dump());
        out = v->get<bool>();
    }

    template <typename Int>
    void read_int(const std::string& key, Int& out, int64_t min, int64_t max = INT64_MAX) {
        const json* v = find(key);
        if (!v) return;
        if (!v->is_number_integer()) throw ConfigError(field(key), "must be an integer, got " + v->dump());
        // The range never exceeds what `Int` holds (a value past it would wrap when stored).
        max = std::min<int64_t>(max, std::numeric_limits<Int>::max());
        min = std::max<int64_t>(min, std::numeric_limits<Int>::min());
        if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
            throw ConfigError(field(key), "must be in [" + std::to_string(min) + ", " +
                                              (max == INT64_MAX ? "∞" : std::to_string(max)) + "], got " + v->dump());
        int64_t x = v->get<int64_t>();
        if (x < min || x > max)
            throw ConfigError(field(key), "must be in [" + std::to_string(min) + ", " +
                                              (max == INT64_MAX ? "∞" : std::to_string(max)) + "], got " +
                                              std::to_string(x));
        out = static_cast<Int>(x);
    }

    void read(const std::string& key, double& out, double min, double max) {
        const json* v = find(key);
        if (!v) return;
        if (!v->is_number()) throw ConfigError(field(key), "must be a number, got " + v->dump());
        double x = v->get<double>();
        if (!std::isfinite(x) || x < min || x > max) {
            std::ostringstream os;
            os << "must be a finite number in [" << min << ", " << max << "], got " << v->dump();
            throw ConfigError(field(key), os.str());
        }
        out = x;
    }

    void read(const std::string& key, std::vector<std::string>& out) {
        const json* v = find(key);
        if (!v) return;
        if (!v->is_array()) throw ConfigError(field(key), "must be a list of strings, got " + v->dump());
        std::vector<std::string> items;
        for (size_t i = 0; i < v->size(); ++i) {
            if (!(*v)[i].is_string())
                throw ConfigError(field(key) + "[" + std::to_string(i) + "]",
                                  "must be a string, got " + (*v)[i].dump());
            items.push_back((*v)[i].get<std::string>());
        }
        out = items;
    }

    void read(const std::string& key, std::vector<double>& out, double min, double max) {
        const json* v = find(key);
        if (!v) return;
        if (!v->is_array()) throw ConfigError(field(key), "must be a list of numbers, got " + v->dump());
        std::vector<double> items;
        for (size_t i = 0; i < v->size(); ++i) {
            const json& x = (*v)[i];
            if (!x.is_number() || x.get<double>() < min || x.get<double>() > max)
                throw ConfigError(field(key) + "[" + std::to_string(i) + "]", "must be a number in the allowed range");
            items.push_back(x.get<double>());
        }
        out = items;
    }

    // Sub-object: returns nullptr if absent.
    const json* object(const std::string& key) {
        const json* v = find(key);
        if (v && !v->is_object()) throw ConfigError(field(key), "must be an object, got " + v->dump());
        return v;
    }

    // Throws on the first key that no read() asked for.
    void finish() const {
        for (auto it = object_.begin(); it != object_.end(); ++it) {
            if (std::find(allowed_.begin(), allowed_.end(), it.key()) == allowed_.end())
                throw ConfigError(field(it.key()), "unknown field (allowed here: " + join(allowed_) + ")");
        }
    }

private:
    const json& object_;
    std::string path_;
    std::vector<std::string> allowed_;
};

}  // namespace lorica
