#pragma once
// The message of the exception a call throws, for tests that check what an error says:
//   EXPECT_NE(error_of([&] { load(bad); }).find("bad.png: corrupt PNG"), std::string::npos);
// A call that throws nothing is a test failure, and gives "" (so every find on it fails too).

#include <exception>
#include <string>

#include <gtest/gtest.h>

namespace lorica::testing {

template <typename Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected an exception";
    return {};
}

}  // namespace lorica::testing
