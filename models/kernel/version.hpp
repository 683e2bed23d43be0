// The kernel versions whose behaviour tunsim replays, and the table of the
// parameters whose default depends on the version (versions.cpp).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tunsim {

// In release order; a version stands for itself and the releases after it up
// to the next one modelled (docs/kernel-mechanisms.md says which trees were
// read for each: 4.9.0, 4.11.0, 4.15.0, 5.15.0, 6.1.20, 6.4.4, 6.5.0, 6.6.9,
// 6.18.8).
enum class KernelVersion { V4_9, V4_11, V4_15, V5_15, V6_1, V6_4, V6_5, V6_6, V6_18 };

const std::vector<KernelVersion>& modelled_versions();
const char* version_name(KernelVersion v);  // "4.11"
// An exact modelled name ("4.11").
bool parse_version(std::string_view s, KernelVersion& out);
// A released kernel ("6.18.44-fc", "4.19.0-8-amd64", "5.4"): the newest
// modelled version not after it.  False when it is not a version or older
// than every modelled one.
bool version_of_release(std::string_view release, KernelVersion& out);
// Whether `release` starts as one (MAJOR.MINOR), modelled or not.
bool is_release(std::string_view release);

// One version-dependent default: from `since` on (until a later entry) the
// parameter's default is `value`.
struct VersionStep {
  KernelVersion since;
  nlohmann::json value;
};
struct VersionedDefault {
  std::string path;                // the parameter ("kernel.napi_missed_bit")
  std::vector<VersionStep> steps;  // in version order, the first at V4_9
  std::string follows;             // kernel function / constant and where it was read
  std::string behaviour;           // what it decides, in words (docs/model.md's versions table)
  // true: the row is not a default but whether the version has the mechanism
  // at all (values true/false, "yes"/"no" in the table); the parameter keeps
  // its own fixed default, and a scenario may turn it on only where true.
  bool availability = false;
};
const std::vector<VersionedDefault>& versioned_defaults();
// The default of `path` for version v (null when the table has no entry).
nlohmann::json versioned_default(const std::string& path, KernelVersion v);
// docs/model.md's table of version-dependent behaviours, generated from
// versioned_defaults(): one row per behaviour, one column per modelled
// version, and the kernel function it follows.
std::string versions_markdown();

}  // namespace tunsim
