// The kernel's state and parameters (models/kernel/): sk_buff_head splices
// (skb_queue_splice_tail_init, skb_queue_splice as in include/linux/skbuff.h),
// the skb pool, the parameter declarations and the version table.
#include <doctest/doctest.h>

#include <set>

#include "models/kernel/param.hpp"
#include "models/kernel/version.hpp"
#include "tests/models/rig.hpp"

using namespace tunsim;

namespace {
std::vector<uint64_t> addrs(const SkbQueue& q) {
  std::vector<uint64_t> v;
  for (Skb* s = q.head; s; s = s->next) v.push_back(s->addr);
  return v;
}
}  // namespace

TEST_CASE("SkbQueue: splices move whole lists in order, the source left empty") {
  SkbPool pool;
  SkbQueue a, b;
  std::vector<Skb*> s;
  for (int i = 0; i < 5; ++i) s.push_back(pool.alloc());
  a.push_back(s[0]);
  a.push_back(s[1]);
  b.push_back(s[2]);
  // skb_queue_splice_tail_init(a, b): b = [2, 0, 1], a empty.
  a.splice_tail_into(b);
  CHECK(a.empty());
  CHECK(a.head == nullptr);
  CHECK(addrs(b) == std::vector<uint64_t>{s[2]->addr, s[0]->addr, s[1]->addr});
  CHECK(b.size() == 3);
  CHECK(b.peak == 3);
  // skb_queue_splice(c, b): c goes to b's head: [3, 4, 2, 0, 1].
  SkbQueue c;
  c.push_back(s[3]);
  c.push_back(s[4]);
  b.splice_head_from(c);
  CHECK(c.empty());
  CHECK(addrs(b) == std::vector<uint64_t>{s[3]->addr, s[4]->addr, s[2]->addr, s[0]->addr, s[1]->addr});
  CHECK(b.pop_front() == s[3]);
  CHECK(b.size() == 4);
  // Into an empty queue, and from an empty one.
  SkbQueue d;
  b.splice_tail_into(d);
  CHECK(d.size() == 4);
  CHECK(d.tail == s[1]);
  SkbQueue e;
  e.splice_tail_into(d);
  CHECK(d.size() == 4);
}

TEST_CASE("SkbPool: a freed skb's address is the next one handed out, as slab memory is reused") {
  SkbPool pool;
  Skb* a = pool.alloc();
  Skb* b = pool.alloc();
  CHECK(a->addr != b->addr);
  uint64_t addr = a->addr;
  a->len = 99;
  pool.free(a);
  Skb* c = pool.alloc();
  CHECK(c->addr == addr);
  CHECK(c->len == 0);  // handed out clean
  CHECK(pool.live() == 2);
}

TEST_CASE("every parameter declares its doc, its source and a field it sets") {
  std::set<std::string> paths;
  for (auto& d : param_table().decls()) {
    CAPTURE(d.path);
    CHECK(paths.insert(d.path).second);  // declared once
    CHECK_FALSE(d.doc.empty());
    CHECK_FALSE(d.source.empty());
    if (d.path != "senders" && d.path != "calibration") CHECK(d.set);
    if (d.path.rfind("costs.", 0) == 0) {
      CHECK(d.calibratable);
      CHECK((d.unit == "ns" || d.unit == "ns/byte"));
    }
    if (d.by_version) CHECK(d.def.is_null());
  }
  // Every version-dependent default is a declared, versioned parameter.
  for (auto& v : versioned_defaults()) {
    CAPTURE(v.path);
    const ParamDecl* d = param_table().find(v.path);
    REQUIRE(d);
    CHECK(d->by_version);
    CHECK(v.steps.front().since == KernelVersion::V4_9);
  }
}

TEST_CASE("kernel versions: a release maps to the newest modelled version not after it") {
  KernelVersion v;
  CHECK(version_of_release("6.18.44-fc-v782", v));
  CHECK(v == KernelVersion::V6_4);
  CHECK(version_of_release("4.10.0", v));
  CHECK(v == KernelVersion::V4_9);
  CHECK(version_of_release("4.11", v));
  CHECK(v == KernelVersion::V4_11);
  CHECK_FALSE(version_of_release("3.10.0", v));  // older than every modelled one
  CHECK_FALSE(version_of_release("linux", v));
  // The table: napi_missed_bit is false for 4.9 and true from 4.11.
  CHECK(versioned_default("kernel.napi_missed_bit", KernelVersion::V4_9) == false);
  CHECK(versioned_default("kernel.napi_missed_bit", KernelVersion::V4_15) == true);
}
