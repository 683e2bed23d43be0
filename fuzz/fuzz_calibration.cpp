// Calibration files, capture sidecars and the kernel module's output.
// Input: a selector byte (mod 3: calibration, sidecar, kmod), then the file.
#include <ostream>
#include <sstream>

#include "fuzz/fuzz_util.hpp"
#include "sim/config/calibration_file.hpp"
#include "sim/io/errors.hpp"
#include "sim/io/json.hpp"
#include "sim/tools/calibrate/scenario.hpp"
#include "sim/tools/calibrate/sidecar.hpp"
#include "sim/tools/kmod/kmod_fit.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (fuzzutil::names_system_files(text)) return 0;
  std::string path = fuzzutil::file("input.json", text);
  try {
    switch (data[0] % 3) {
      case 0: {
        tunsim::Calibration c = tunsim::read_calibration(path, "fuzz scenario");
        (void)c;
        break;
      }
      case 1: {
        tunsim::calib::Workload w = tunsim::calib::read_sidecar(path);
        tunsim::dump_json(tunsim::calib::scenario_for(w, ""));
        (void)w.label();
        break;
      }
      default: {
        std::ostringstream report;
        tunsim::calibrate_from_kmod(path, fuzzutil::dir() + "/out.json", report);
        // What it wrote must load as a calibration.
        tunsim::read_calibration(fuzzutil::dir() + "/out.json", "fuzz: the kmod calibration");
        break;
      }
    }
  } catch (const tunsim::InputError& e) {
    fuzzutil::check_message(e.what());
  }
  return 0;
}
