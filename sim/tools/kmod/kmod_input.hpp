// Reading the kernel module's output (kmod/tunsim_calib.c, docs/kmod.md):
// every value checked, every error one line naming the file, the JSON path,
// what was expected and what was found.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"

namespace tunsim::kmod {

using nlohmann::json;


inline std::string describe(const json* v) {
  if (!v) return "nothing";
  return std::string(v->type_name()) + " " + printable(dump_json(*v, -1), 40);
}

// Reads and checks the module's file.  Every error names the file, the JSON
// path, what was expected and what was found.
class Reader {
 public:
  Reader(std::string file, const json& root) : file_(std::move(file)), root_(root) {}

  [[noreturn]] void fail(const std::string& path, const std::string& expected,
                         const json* found) const {
    // The path holds the file's own keys: shown escaped and shortened, as
    // every echoed input is (a key may hold a newline or a megabyte).
    throw InputError(file_ + ": " + printable(path, 200) + ": expected " + expected + ", found " +
                     describe(found));
  }

  const json* find(const std::string& path) const {
    const json* cur = &root_;
    std::stringstream ss(path);
    std::string part;
    while (std::getline(ss, part, '.')) {
      if (!cur->is_object()) return nullptr;
      auto it = cur->find(part);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    }
    return cur;
  }

  const json& object(const std::string& path) const {
    const json* v = find(path);
    if (!v || !v->is_object()) fail(path, "an object", v);
    return *v;
  }

  double number(const std::string& path) const {
    const json* v = find(path);
    if (!v || !v->is_number() || !std::isfinite(v->get<double>())) fail(path, "a number", v);
    return v->get<double>();
  }

  std::vector<double> numbers(const std::string& path, size_t n, const std::string& why) const {
    const json* v = find(path);
    std::string expected = "an array of " + std::to_string(n) + " numbers" + why;
    if (!v || !v->is_array()) fail(path, expected, v);
    if (v->size() != n) {
      json count = v->size();
      throw InputError(file_ + ": " + path + ": expected " + expected + ", found an array of " +
                       count.dump() + " elements");
    }
    std::vector<double> out;
    for (size_t i = 0; i < n; ++i) {
      const json& e = (*v)[i];
      if (!e.is_number() || !std::isfinite(e.get<double>()) || e.get<double>() < 0)
        fail(path + "[" + std::to_string(i) + "]", "a non-negative number", &e);
      out.push_back(e.get<double>());
    }
    return out;
  }

  std::vector<double> batch_sizes(const std::string& path) const {
    const json* v = find(path);
    const std::string expected = "an array of at least 3 increasing batch sizes in 1..64";
    if (!v || !v->is_array() || v->size() < 3) fail(path, expected, v);
    std::vector<double> out;
    for (size_t i = 0; i < v->size(); ++i) {
      const json& e = (*v)[i];
      if (!e.is_number_integer() || e.get<long>() < 1 || e.get<long>() > 64 ||
          (i && e.get<double>() <= out.back()))
        fail(path + "[" + std::to_string(i) + "]", "an integer batch size in 1..64 above the previous one", &e);
      out.push_back(e.get<double>());
    }
    return out;
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  const json& root_;
};

// One measured series: per-packet ns for each batch size, warm and after the
// cache was polluted.
struct Series {
  std::vector<double> batch, warm, polluted;
};

Series read_series(const Reader& r, const std::string& name);

}  // namespace tunsim::kmod
