// The scenario loader: a config file and --set assignments.
// Input: the config's text, then NUL-separated --set strings.
#include "fuzz/fuzz_util.hpp"
#include "sim/config/loader.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> parts = fuzzutil::split(data, size, 9);
  for (auto& p : parts)
    if (fuzzutil::names_system_files(p)) return 0;
  std::string path = fuzzutil::file("config.json", parts[0]);
  std::vector<std::string> sets(parts.begin() + 1, parts.end());
  try {
    tunsim::LoadedConfig cfg = tunsim::load_config(path, sets);
    tunsim::version_behaviours(cfg);
    tunsim::dump_json(cfg.full);
  } catch (const tunsim::InputError& e) {
    fuzzutil::check_message(e.what());
  }
  return 0;
}
