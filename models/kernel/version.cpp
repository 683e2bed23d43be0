#include "models/kernel/version.hpp"

#include <cstdio>
#include <sstream>

namespace tunsim {

namespace {
struct Named {
  KernelVersion v;
  const char* name;
  int major, minor;
};
const Named kVersions[] = {
    {KernelVersion::V4_9, "4.9", 4, 9},    {KernelVersion::V4_11, "4.11", 4, 11},
    {KernelVersion::V4_15, "4.15", 4, 15}, {KernelVersion::V5_15, "5.15", 5, 15},
    {KernelVersion::V6_1, "6.1", 6, 1},    {KernelVersion::V6_4, "6.4", 6, 4},
    {KernelVersion::V6_5, "6.5", 6, 5},    {KernelVersion::V6_6, "6.6", 6, 6},
    {KernelVersion::V6_18, "6.18", 6, 18},
};
}  // namespace

const std::vector<KernelVersion>& modelled_versions() {
  static const std::vector<KernelVersion> v = [] {
    std::vector<KernelVersion> out;
    for (auto& n : kVersions) out.push_back(n.v);
    return out;
  }();
  return v;
}

const char* version_name(KernelVersion v) {
  for (auto& n : kVersions)
    if (n.v == v) return n.name;
  return "?";
}

bool parse_version(std::string_view s, KernelVersion& out) {
  for (auto& n : kVersions)
    if (s == n.name) {
      out = n.v;
      return true;
    }
  return false;
}

namespace {
// MAJOR.MINOR at the start of a release string.
bool parse_release(std::string_view release, int& major, int& minor) {
  std::string r(release.substr(0, 64));
  // At most three digits each: "12345.1" is not a release (and cannot overflow).
  return std::sscanf(r.c_str(), "%3d.%3d", &major, &minor) == 2;
}
}  // namespace

bool is_release(std::string_view release) {
  int major = 0, minor = 0;
  return parse_release(release, major, minor);
}

bool version_of_release(std::string_view release, KernelVersion& out) {
  int major = 0, minor = 0;
  if (!parse_release(release, major, minor)) return false;
  bool found = false;
  for (auto& n : kVersions)
    if (n.major < major || (n.major == major && n.minor <= minor)) {
      out = n.v;
      found = true;
    }
  return found;
}

nlohmann::json versioned_default(const std::string& path, KernelVersion v) {
  for (auto& d : versioned_defaults()) {
    if (d.path != path) continue;
    nlohmann::json value;
    for (auto& s : d.steps)
      if (s.since <= v) value = s.value;
    return value;
  }
  return nullptr;
}

std::string versions_markdown() {
  std::ostringstream o;
  o << "| behaviour | parameter |";
  for (KernelVersion v : modelled_versions()) o << " " << version_name(v) << " |";
  o << " kernel function it follows |\n|---|---|";
  for (size_t i = 0; i < modelled_versions().size(); ++i) o << "---|";
  o << "---|\n";
  for (auto& d : versioned_defaults()) {
    o << "| " << d.behaviour << " | `" << d.path << "` |";
    for (KernelVersion v : modelled_versions()) {
      nlohmann::json x = versioned_default(d.path, v);
      std::string s = d.availability ? (x == true ? "yes" : "no")
                      : x.is_null()  ? "none"
                      : x.is_string() ? x.get<std::string>()
                                      : x.dump();
      o << " " << s << " |";
    }
    o << " " << d.follows << " |\n";
  }
  return o.str();
}

}  // namespace tunsim
