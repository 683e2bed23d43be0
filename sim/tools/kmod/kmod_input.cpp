#include "sim/tools/kmod/kmod_input.hpp"

#include <cmath>
#include <sstream>

#include "sim/io/errors.hpp"

namespace tunsim::kmod {

Series read_series(const Reader& r, const std::string& name) {
  const std::string base = "measurements." + name;
  r.object(base);
  Series s;
  s.batch = r.batch_sizes(base + ".batch");
  const size_t n = s.batch.size();
  s.warm = r.numbers(base + ".warm_median_ns", n, " (one per batch size)");
  s.polluted = r.numbers(base + ".polluted_median_ns", n,
                         " (one per batch size; the module was loaded with pollute_bytes=0?)");
  return s;
}



}  // namespace tunsim::kmod
