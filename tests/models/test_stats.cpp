// The streaming distribution (models/stats/dist.hpp).
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "models/stats/dist.hpp"
#include "models/stats/error.hpp"

using namespace tunsim;

TEST_CASE("Dist: exact integer quantiles, log bins holding their values, KS and Wasserstein") {
  Dist d(Dist::Kind::Integer);
  for (int i = 1; i <= 100; ++i) d.add(i);
  CHECK(d.quantile(0.5) == 50);
  CHECK(d.quantile(0.99) == 99);
  CHECK(d.mean() == doctest::Approx(50.5));
  CHECK(ks_statistic(d, d) == 0);
  Dist ten(Dist::Kind::Integer), twenty(Dist::Kind::Integer);
  ten.add(10, 5);
  twenty.add(20, 5);
  CHECK(ks_statistic(ten, twenty) == 1.0);
  // Moving all mass by 10 costs 10.
  CHECK(wasserstein(ten, twenty) == doctest::Approx(10));
  Dist l(Dist::Kind::Log);
  for (double v : {0.3, 1.0, 1.02, 999.0, 1e9, 12345.678}) {
    l.add(v);
    const auto bins = l.bins();
    auto it = bins.begin();
    for (auto jt = bins.begin(); jt != bins.end(); ++jt)
      if (l.bin_lo(jt->first) <= v && v < l.bin_hi(jt->first)) it = jt;
    CHECK(l.bin_lo(it->first) <= v);
    CHECK(v < l.bin_hi(it->first));
    // 32 bins per octave: relative width 2^(1/32) - 1 = 2.19%.
    CHECK(l.bin_hi(it->first) / l.bin_lo(it->first) == doctest::Approx(std::exp2(1.0 / 32)));
  }
  // JSON round trip keeps every bin and count.
  Dist back = Dist::from_json(l.to_json(), "test");
  CHECK(back.count() == l.count());
  CHECK(back.bins() == l.bins());
  CHECK(back.quantile(0.5) == l.quantile(0.5));
}

TEST_CASE("Dist: flat bins give the same quantiles, CDF and JSON as a map of bins would") {
  // Integers beyond the flat array (kSmallInts) and negative ones go to the
  // ordered map; the bins come out in value order either way.
  Dist d(Dist::Kind::Integer);
  for (int64_t v : {-3, 0, 5, 5, 4095, 4096, 1000000}) d.add(static_cast<double>(v));
  CHECK(d.bins() == std::map<int64_t, uint64_t>{{-3, 1}, {0, 1}, {5, 2}, {4095, 1}, {4096, 1}, {1000000, 1}});
  // 7 samples: the median is the 4th (rank ceil(3.5)) = 5; p90 the 7th.
  CHECK(d.quantile(0.5) == 5);
  CHECK(d.quantile(0.9) == 1000000);
  // CDF at 5: the bins -3, 0 count fully, bin 5 ([4.5, 5.5)) half: (2 + 1) / 7.
  CHECK(d.cdf(5) == doctest::Approx(3.0 / 7));
  Dist back = Dist::from_json(d.to_json(), "t");
  CHECK(back.bins() == d.bins());
  // Log bins below the first one in use grow the array at its front.
  Dist l(Dist::Kind::Log);
  l.add(1000);
  l.add(1);
  l.add(0);
  CHECK(l.bin_count() == 3);
  CHECK(l.quantile(0) == 0);
  // The top bin holds 1000; its representative (geometric middle) is within
  // 1.1% of it.
  CHECK(l.quantile(1) == doctest::Approx(1000).epsilon(0.011));
}

TEST_CASE("Dist: a log sample lands in the bin whose edges hold it, at every edge of an octave and just below it") {
  // add() finds a positive sample's bin inline (the mantissa's top 6 bits
  // give the edge at or below, then at most one step up, because edges are
  // 2^(1/32) - 1 = 2.19% apart, more than 1/64 of the octave).  The doubles
  // where that can go wrong are the edges themselves and the double just
  // below each: for every edge of the octaves 2^-30, 2^0 and 2^40, the sample
  // must be in [bin_lo, bin_hi) of the bin that received it.  The bins are
  // in the flat array already (1e-12 and 1e15 first), so this is add()'s
  // inline path, not the first sample's.
  Dist probe(Dist::Kind::Log);
  probe.add(1e-12);
  probe.add(1e15);
  const int64_t low = probe.bins().begin()->first, high = probe.bins().rbegin()->first;
  int checked = 0;
  for (int e : {-30, 0, 40}) {
    for (int j = 0; j < Dist::kLogBinsPerOctave; ++j) {
      int64_t bin = static_cast<int64_t>(e) * Dist::kLogBinsPerOctave + j;
      double edge = probe.bin_lo(bin);
      for (double v : {edge, std::nextafter(edge, 0.0)}) {
        Dist d(Dist::Kind::Log);
        d.add(1e-12);
        d.add(1e15);
        d.add(v);
        REQUIRE(d.bin_count() == 3);  // v's bin is neither 1e-12's nor 1e15's
        int64_t where = 0;
        for (const auto& [k, c] : d.bins())
          if (k != low && k != high) where = k;
        CHECK(d.bin_lo(where) <= v);
        CHECK(v < d.bin_hi(where));
        CHECK(where == (v == edge ? bin : bin - 1));
        ++checked;
      }
    }
  }
  CHECK(checked == 3 * 32 * 2);
}

TEST_CASE("Dist: KS and Wasserstein are linear in the bins and match the definition") {
  // Two integer distributions: a uniform on 1..4, b all at 4.  F_a - F_b at
  // the bin edges 0.5..4.5 is 0, .25, .5, .75, 0: KS 0.75.  Wasserstein =
  // integral |F_a - F_b| = mean(b) - mean(a) = 4 - 2.5 = 1.5 (F_a >= F_b).
  Dist a(Dist::Kind::Integer), b(Dist::Kind::Integer);
  for (int v = 1; v <= 4; ++v) a.add(v);
  b.add(4, 4);
  CHECK(ks_statistic(a, b) == doctest::Approx(0.75));
  CHECK(wasserstein(a, b) == doctest::Approx(1.5));
  // Many bins on both sides: the statistic equals the direct evaluation of
  // |F_a - F_b| at every edge (what the quadratic version computed).
  Dist x(Dist::Kind::Log), y(Dist::Kind::Log);
  for (int i = 1; i < 3000; ++i) {
    x.add(i * 1.7);
    y.add(i * 1.9 + 3);
  }
  double direct = 0;
  for (auto& m : {x.bins(), y.bins()})
    for (auto& [i, c] : m) {
      (void)c;
      for (double e : {x.bin_lo(i), x.bin_hi(i)}) direct = std::max(direct, std::fabs(x.cdf(e) - y.cdf(e)));
    }
  CHECK(ks_statistic(x, y) == doctest::Approx(direct).epsilon(1e-12));
}

TEST_CASE("Dist::from_json: counts that do not fit or do not add up are input errors") {
  nlohmann::json j = Dist(Dist::Kind::Integer).to_json();
  j["count"] = 1e30;
  CHECK_THROWS_AS(Dist::from_json(j, "t"), InputError);
  j = Dist(Dist::Kind::Integer).to_json();
  j["bins"] = nlohmann::json::array({{0.5, 1.5, 2u}});
  j["count"] = 3u;
  CHECK_THROWS_WITH_AS(Dist::from_json(j, "t"), "t.bins: counts add up to 2, expected count 3", InputError);
}

TEST_CASE("Dist: one sample at a time adds what add(v, 1) adds, and add(v, n) what n single samples do") {
  // add(v) skips add(v, n)'s product v * n; for n = 1 that product is v
  // exactly (IEEE 754), so the two must agree bit for bit, whatever the value:
  // a first sample, -0, a subnormal, whole and fractional numbers, an
  // infinity, in both kinds of bins.
  for (Dist::Kind kind : {Dist::Kind::Log, Dist::Kind::Integer}) {
    Dist one(kind), pair(kind), many(kind), counted(kind);
    for (double v : {-0.0, 3.0, 4.9e-324, 1000.25, -2.5, 7.0, 1e300, HUGE_VAL}) {
      one.add(v);
      pair.add(v, 1);
    }
    CHECK(one.count() == 8);
    CHECK(one.to_json() == pair.to_json());
    // 3 samples of 2.5 and 2 of 6 (sums exact in binary): 19.5.
    for (int i = 0; i < 3; ++i) many.add(2.5);
    for (int i = 0; i < 2; ++i) many.add(6);
    counted.add(2.5, 3);
    counted.add(6, 2);
    counted.add(99, 0);  // no sample
    CHECK(counted.sum() == 19.5);
    CHECK(counted.to_json() == many.to_json());
  }
}
