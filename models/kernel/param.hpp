// Declaring a scenario parameter once, next to the model that uses it.
//
// Each model folder declares its parameters in its params.cpp: the dotted
// path the scenario JSON and --set use, the type, the default, the unit, the
// range, the kernel's name for it, what it means, where the default comes
// from, and the field of Params it sets.  Validation, --set, the generated
// config reference (docs/config.md), the calibration defaults and the models
// all read these declarations (param_table()); nothing else states a default.
#pragma once
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tunsim {

struct Params;
struct SenderParams;

enum class PType { Int, Num, Bool, Str, Enum, Array, IntList, NumList };

// A parameter value the models reject (a cross-parameter constraint): the
// config loader reports it on one line with the file it came from.
struct ParamError : std::runtime_error {
  std::string path;
  ParamError(std::string p, const std::string& what) : std::runtime_error(what), path(std::move(p)) {}
};

struct ParamDecl {
  std::string path;  // dotted; "senders.*.cpu" for every element of senders
  PType type = PType::Num;
  nlohmann::json def;  // the default; null with nullable: see doc (derived or by version)
  double min = 0, max = 0;  // inclusive range when min < max
  std::vector<std::string> choices;  // Enum
  std::string unit;     // "ns", "ns/byte", "bytes", "cycles", "Hz", "us", "ms", "" (none)
  std::string kernel;   // the kernel's name (sysctl, constant, field)
  std::string doc;      // meaning
  std::string source;   // where the default comes from
  bool nullable = false;
  bool by_version = false;    // null = the value of the scenario's kernel version (models/kernel/versions.cpp)
  bool derived = false;       // null = computed by the model from other parameters (finalize)
  bool calibratable = false;  // a calibration file may set it
  // Sets the field from a validated JSON value (elem: index into senders for
  // senders.* paths); gets it back (for the resolved configuration).
  std::function<void(Params&, size_t elem, const nlohmann::json&)> set;
  std::function<nlohmann::json(const Params&, size_t elem)> get;

  bool per_sender() const { return path.rfind("senders.*.", 0) == 0; }

  // Fluent declaration.
  ParamDecl& range(double lo, double hi) { min = lo; max = hi; return *this; }
  ParamDecl& in(std::vector<std::string> c) { choices = std::move(c); return *this; }
  ParamDecl& units(std::string u) { unit = std::move(u); return *this; }
  ParamDecl& kname(std::string k) { kernel = std::move(k); return *this; }
  ParamDecl& means(std::string d) { doc = std::move(d); return *this; }
  ParamDecl& from(std::string s) { source = std::move(s); return *this; }
  ParamDecl& or_null() { nullable = true; return *this; }
  ParamDecl& versioned() { nullable = by_version = true; return *this; }
  ParamDecl& computed() { nullable = derived = true; return *this; }
  ParamDecl& calibrated() { calibratable = true; return *this; }

  // Binds to a field of Params reached through a chain of member pointers:
  // bind(&Params::softirq, &SoftirqParams::netdev_budget).
  template <class... M>
  ParamDecl& bind(M... m) {
    set = [m...](Params& p, size_t, const nlohmann::json& v) { assign(chain(p, m...), v); };
    get = [m...](const Params& p, size_t) { return value_of(chain(const_cast<Params&>(p), m...)); };
    return *this;
  }
  // The same for a field of each sender (senders.*.X).
  template <class... M>
  ParamDecl& bind_sender(M... m);
  // An enum field whose enumerators are in the order of `choices`.
  template <class... M>
  ParamDecl& bind_choice(M... m) {
    auto names = choices;
    set = [m..., names](Params& p, size_t, const nlohmann::json& v) {
      auto& f = chain(p, m...);
      f = static_cast<std::decay_t<decltype(f)>>(index_of(names, v.get<std::string>()));
    };
    get = [m..., names](const Params& p, size_t) {
      return nlohmann::json(names[static_cast<size_t>(chain(const_cast<Params&>(p), m...))]);
    };
    return *this;
  }
  template <class... M>
  ParamDecl& bind_sender_choice(M... m);

  template <class O, class M, class... R>
  static auto& chain(O& o, M m, R... r) {
    if constexpr (sizeof...(R) == 0)
      return o.*m;
    else
      return chain(o.*m, r...);
  }
  template <class T>
  static void assign(T& f, const nlohmann::json& v) {
    if (v.is_null()) {
      // nullable: NaN (floating point) or zero means derived later, or absent
      if constexpr (std::is_floating_point_v<T>)
        f = std::numeric_limits<T>::quiet_NaN();
      else
        f = T{};
      return;
    }
    f = v.get<T>();
  }
  template <class T>
  static nlohmann::json value_of(const T& f) { return nlohmann::json(f); }
  static size_t index_of(const std::vector<std::string>& names, const std::string& s) {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == s) return i;
    return 0;  // validated before
  }
};

class ParamTable {
 public:
  // Declares a parameter; returns the declaration for the fluent calls.
  ParamDecl& add(std::string path, PType type, nlohmann::json def) {
    decls_.emplace_back();
    ParamDecl& d = decls_.back();
    d.path = std::move(path);
    d.type = type;
    // An integer parameter's default is written as an integer.
    if (type == PType::Int && def.is_number_float() && def.get<double>() == static_cast<double>(def.get<long long>()))
      def = def.get<long long>();
    d.def = std::move(def);
    return d;
  }
  // A check or derivation run once every parameter is set (in declaration
  // order of the models); throws ParamError; may append notes for the user.
  using Finalize = std::function<void(Params&, std::vector<std::string>& notes)>;
  void finalize(Finalize f) { finalizers_.push_back(std::move(f)); }

  const std::vector<ParamDecl>& decls() const { return decls_; }
  const std::vector<Finalize>& finalizers() const { return finalizers_; }
  const ParamDecl* find(const std::string& generic_path) const;

 private:
  std::vector<ParamDecl> decls_;
  std::vector<Finalize> finalizers_;
};

// Every parameter of a scenario, from every model (models/kernel/param_table.cpp).
const ParamTable& param_table();

}  // namespace tunsim
