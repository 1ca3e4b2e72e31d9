#pragma once
// The error every data-set reader throws: a missing, unreadable or malformed file (or record). The
// message starts with, or names, the file; front ends show it as is.

#include <stdexcept>

namespace lorica {

class DataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace lorica
