// The cache model's geometry, penalties and path footprints.
#include "models/kernel/params.hpp"

namespace tunsim {

void declare_cache_params(ParamTable& t) {
  auto level = [&t](const char* name, double size, double miss, const char* what, const char* size_src,
                    const char* miss_doc, const char* miss_src) {
    std::string base = std::string("cache.") + name;
    CacheLevel CacheParams::*lv = name[1] == '2' ? &CacheParams::l2
                                  : name[2] == 'i' ? &CacheParams::l1i
                                                   : &CacheParams::l1d;
    t.add(base + ".size_bytes", PType::Int, size)
        .range(1024, name[1] == '2' ? 1e10 : 1e9)
        .units("bytes")
        .means(what)
        .from(size_src)
        .calibrated()
        .bind(&Params::cache, lv, &CacheLevel::size_bytes);
    t.add(base + ".line_bytes", PType::Int, 64)
        .range(8, 4096)
        .units("bytes")
        .means("Cache line.")
        .from("x86-64")
        .calibrated()
        .bind(&Params::cache, lv, &CacheLevel::line_bytes);
    t.add(base + ".miss_penalty_cycles", PType::Num, miss)
        .range(0, 1e6)
        .units("cycles")
        .means(miss_doc)
        .from(miss_src)
        .calibrated()
        .bind(&Params::cache, lv, &CacheLevel::miss_penalty_cycles);
  };
  t.add("cache.enabled", PType::Bool, true)
      .means("Cache cost model on/off; off: every path costs its base cost.")
      .from("-")
      .bind(&Params::cache, &CacheParams::enabled);
  level("l1i", 32768, 8, "L1 instruction cache capacity.", "32 KiB, Intel since Nehalem",
        "L1i miss served by L2, effective cycles (next-line prefetch hides part of the ~14-cycle L2 latency).",
        "estimate: about half the L2 hit latency of ~14 cycles (Skylake)");
  level("l1d", 32768, 14, "L1 data cache capacity.", "32 KiB (Skylake)", "L1d miss served by L2, cycles.",
        "L2 hit ~14 cycles (Skylake)");
  level("l2", 1048576, 60, "Unified L2 capacity.", "1 MiB (Skylake-SP)", "L2 miss served by the LLC, cycles.",
        "LLC hit ~50-70 cycles (Skylake-SP)");
  t.add("cache.skb_bytes", PType::Int, 512)
      .range(0, 1e6)
      .units("bytes")
      .kname("sizeof(struct sk_buff) + skb_shared_info")
      .means("skb metadata bytes touched at allocation and by netif_receive_skb; the stack also reads min(frame, "
             "128) bytes of headers.")
      .from("232 + 320 bytes on x86-64 6.1, rounded to cache lines")
      .calibrated()
      .bind(&Params::cache, &CacheParams::skb_bytes);
  struct Fp {
    Path path;
    int i, d;
  };
  for (Fp f : {Fp{Path::Syscall, 3072, 512}, Fp{Path::Vhost, 6144, 1024}, Fp{Path::TunGetUser, 8192, 512},
               Fp{Path::Softirq, 4096, 512}, Fp{Path::NetifReceiveSkb, 6144, 512}, Fp{Path::Stack, 10240, 1024},
               Fp{Path::Receiver, 8192, 1024}}) {
    const char* name = path_name(f.path);
    size_t k = static_cast<size_t>(f.path);
    std::string base = std::string("cache.footprints.") + name;
    ParamDecl& di = t.add(base + ".icache_bytes", PType::Int, f.i)
                        .range(0, 1e9)
                        .units("bytes")
                        .means(std::string("Instruction bytes one run of the ") + name + " path touches.")
                        .from(kCostEstimate)
                        .calibrated();
    di.set = [k](Params& p, size_t, const nlohmann::json& v) { p.cache.icache_bytes[k] = v.get<double>(); };
    di.get = [k](const Params& p, size_t) { return nlohmann::json(p.cache.icache_bytes[k]); };
    ParamDecl& dd = t.add(base + ".dcache_bytes", PType::Int, f.d)
                        .range(0, 1e9)
                        .units("bytes")
                        .means(std::string("Non-skb data bytes one run of the ") + name + " path touches.")
                        .from(kCostEstimate)
                        .calibrated();
    dd.set = [k](Params& p, size_t, const nlohmann::json& v) { p.cache.dcache_bytes[k] = v.get<double>(); };
    dd.get = [k](const Params& p, size_t) { return nlohmann::json(p.cache.dcache_bytes[k]); };
  }
}

}  // namespace tunsim
