#include "sim/config/schema.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"
#include "sim/io/json.hpp"

namespace tunsim {

using nlohmann::json;

namespace {

const std::map<std::string, const ParamDecl*>& index() {
  static const std::map<std::string, const ParamDecl*> m = [] {
    std::map<std::string, const ParamDecl*> x;
    for (auto& d : param_table().decls()) x[d.path] = &d;
    return x;
  }();
  return m;
}

const ParamDecl* find_generic(const std::string& gpath) {
  auto it = index().find(gpath);
  return it == index().end() ? nullptr : it->second;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string generic_of(const std::string& concrete) {
  std::string out;
  std::stringstream ss(concrete);
  std::string part;
  while (std::getline(ss, part, '.')) out += (out.empty() ? "" : ".") + (all_digits(part) ? std::string("*") : part);
  return out;
}

// Below 2^53 a double holds every integer exactly.
constexpr double kExactIntegers = 9007199254740992.0;

// A bound as a user writes it: integers in full (the seed's 4294967295 was
// "4.29497e+09", flows' 1048576 "1.04858e+06"), others as iostreams do.
std::string num(double v) {
  if (std::floor(v) == v && std::fabs(v) < kExactIntegers) return std::to_string(static_cast<long long>(v));
  std::ostringstream r;
  r << v;
  return r.str();
}

std::string type_name(const ParamDecl& p) {
  std::string t;
  switch (p.type) {
    case PType::Int: t = "an integer"; break;
    case PType::Num: t = "a number"; break;
    case PType::Bool: t = "true or false"; break;
    case PType::Str: t = "a string"; break;
    case PType::Enum: {
      t = "one of";
      for (auto& c : p.choices) t += " \"" + c + "\"";
      break;
    }
    case PType::Array: t = "an array of objects"; break;
    case PType::IntList: t = "an array of integers in [" + num(p.min) + ", " + num(p.max) + "]"; break;
    case PType::NumList: t = "an array of numbers in [" + num(p.min) + ", " + num(p.max) + "]"; break;
  }
  if ((p.type == PType::Int || p.type == PType::Num) && p.min < p.max) t += " in [" + num(p.min) + ", " + num(p.max) + "]";
  if (p.nullable) t += " or null";
  return t;
}

// Names valid directly under `gprefix` ("" for the top level).
const std::set<std::string>& children(const std::string& gprefix) {
  static std::map<std::string, std::set<std::string>> cache;
  auto it = cache.find(gprefix);
  if (it != cache.end()) return it->second;
  std::set<std::string> out;
  for (auto& p : param_table().decls()) {
    if (!gprefix.empty() && p.path.compare(0, gprefix.size() + 1, gprefix + ".") != 0) continue;
    std::string rest = gprefix.empty() ? p.path : p.path.substr(gprefix.size() + 1);
    std::string name = rest.substr(0, rest.find('.'));
    if (name != "*") out.insert(name);
  }
  return cache[gprefix] = out;
}

bool has_children(const std::string& gprefix) { return !children(gprefix).empty() || find_generic(gprefix + ".*"); }

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw ConfigIssue(path, what);
}

std::string found(const json& v) {
  std::string d = dump_json(v, -1);
  if (d.size() > 60) d = d.substr(0, 57) + "...";
  return "found " + printable(d, 80);
}

void check_value(const ParamDecl& p, const json& v, const std::string& path) {
  if (v.is_null()) {
    if (p.nullable) return;
    fail(path, "expected " + type_name(p) + ", " + found(v));
  }
  switch (p.type) {
    case PType::Int:
      if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
        fail(path, "expected " + type_name(p) + ", " + found(v));
      [[fallthrough]];
    case PType::Num:
      if (!v.is_number() || std::isnan(v.get<double>())) fail(path, "expected " + type_name(p) + ", " + found(v));
      if (p.min < p.max && (v.get<double>() < p.min || v.get<double>() > p.max))
        fail(path, "expected " + type_name(p) + ", " + found(v));
      break;
    case PType::Bool:
      if (!v.is_boolean()) fail(path, "expected " + type_name(p) + ", " + found(v));
      break;
    case PType::Str:
      if (!v.is_string()) fail(path, "expected " + type_name(p) + ", " + found(v));
      break;
    case PType::Enum:
      if (!v.is_string() || std::find(p.choices.begin(), p.choices.end(), v.get<std::string>()) == p.choices.end())
        fail(path, "expected " + type_name(p) + ", " + found(v));
      break;
    case PType::Array:
      if (!v.is_array()) fail(path, "expected " + type_name(p) + ", " + found(v));
      break;
    case PType::IntList:
      if (!v.is_array()) fail(path, "expected " + type_name(p) + ", " + found(v));
      for (size_t i = 0; i < v.size(); ++i)
        if (!v[i].is_number_integer() || v[i].get<double>() < p.min || v[i].get<double>() > p.max)
          fail(path + "." + std::to_string(i),
               "expected an integer in [" + num(p.min) + ", " + num(p.max) + "], " + found(v[i]));
      break;
    case PType::NumList:
      if (!v.is_array()) fail(path, "expected " + type_name(p) + ", " + found(v));
      for (size_t i = 0; i < v.size(); ++i)
        if (!v[i].is_number() || !(v[i].get<double>() >= p.min) || v[i].get<double>() > p.max)
          fail(path + "." + std::to_string(i),
               "expected a number in [" + num(p.min) + ", " + num(p.max) + "], " + found(v[i]));
      break;
  }
}

void walk(const json& j, json& out, const std::string& path, const std::string& gpath);

void fill_object(const json& j, json& out, const std::string& path, const std::string& gpath) {
  if (!j.is_object()) fail(path, "expected an object, " + found(j));
  const auto& valid = children(gpath);
  for (auto& [k, v] : j.items()) {
    if (valid.count(k)) continue;
    // The nearest valid name: one the key is a prefix of (or the other way
    // round) first, then the smallest edit distance.
    std::string key = k.size() > 200 ? k.substr(0, 200) : k;
    std::string best;
    size_t bd = std::numeric_limits<size_t>::max();
    for (auto& c : valid) {
      size_t d = edit_distance(key, c);
      if (c.rfind(key, 0) == 0 || key.rfind(c, 0) == 0) d = std::min<size_t>(d, 1);
      if (d < bd) bd = d, best = c;
    }
    std::string shown = printable(k, 60);
    std::string where = path.empty() ? shown : path + "." + shown;
    std::string msg = "unknown key \"" + shown + "\"";
    if (!best.empty() && bd <= std::max<size_t>(3, key.size() / 2)) {
      msg += "; did you mean \"" + best + "\"?";
    } else {
      msg += "; valid keys here:";
      for (auto& c : valid) msg += " " + c;
    }
    fail(where, msg);
  }
  for (auto& name : valid) {
    std::string p = path.empty() ? name : path + "." + name;
    std::string g = gpath.empty() ? name : gpath + "." + name;
    if (j.contains(name)) {
      walk(j.at(name), out[name], p, g);
    } else if (const ParamDecl* spec = find_generic(g)) {
      if (spec->type == PType::Array)
        walk(spec->def, out[name], p, g);
      else
        out[name] = spec->def;
    } else {
      walk(json::object(), out[name], p, g);
    }
  }
}

void walk(const json& j, json& out, const std::string& path, const std::string& gpath) {
  const ParamDecl* spec = find_generic(gpath);
  if (spec && spec->type == PType::Array) {
    check_value(*spec, j, path);
    if (j.empty()) fail(path, "expected at least one element, found []");
    if (j.size() > 4096) fail(path, "expected at most 4096 elements, found " + std::to_string(j.size()));
    out = json::array();
    for (size_t i = 0; i < j.size(); ++i) {
      json elem = json::object();
      fill_object(j[i], elem, path + "." + std::to_string(i), gpath + ".*");
      out.push_back(elem);
    }
    return;
  }
  if (spec) {
    check_value(*spec, j, path);
    // An integer written as an integral number ("seed": 1e3, --set seed=1e3)
    // is that integer in the resolved config, as --seed 1000 gives it.
    if (spec->type == PType::Int && j.is_number_float() && std::fabs(j.get<double>()) < kExactIntegers)
      out = static_cast<int64_t>(j.get<double>());
    else
      out = j;
    return;
  }
  if (has_children(gpath) || gpath.empty()) {
    out = json::object();
    fill_object(j, out, path, gpath);
    return;
  }
  fail(path, "unknown key");
}

}  // namespace

const ParamDecl* find_param(const std::string& concrete_path) { return find_generic(generic_of(concrete_path)); }

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

json validate_and_fill(const json& j) {
  json out = json::object();
  walk(j, out, "", "");
  return out;
}

std::string apply_set(json& j, const std::string& assignment) {
  std::string shown = "--set " + printable(assignment, 120);
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw InputError(shown + ": expected path.to.key=VALUE");
  std::string path = assignment.substr(0, eq);
  std::string raw = assignment.substr(eq + 1);
  // White space at an end is most likely a quoting mistake, refused for
  // every type: "5 " was taken as 5 (JSON allows it) while " 5" was refused
  // as the string " 5", and "4.11 " was taken as a kernel release.  A
  // string with spaces of its own is given as JSON: --set 'name=" x "'.
  if (has_edge_space(raw))
    throw InputError(shown + ": expected a value without white space at either end (a string's own: as JSON, "
                     "\"...\"), found \"" + printable(raw, 60) + "\"");
  json value;
  const ParamDecl* decl = find_param(path);
  if (decl && (decl->type == PType::Str || decl->type == PType::Enum)) {
    // A string parameter takes the text as it is ("6.4" stays "6.4"), or a
    // JSON string or null.
    if (raw == "null")
      value = nullptr;
    else if (raw.size() >= 2 && raw.front() == '"')
      value = parse_json(raw, shown);
    else
      value = raw;
  } else {
    bool looks_json = !raw.empty() && (raw.front() == '{' || raw.front() == '[' || raw.front() == '"' ||
                                       raw == "true" || raw == "false" || raw == "null" || raw.front() == '-' ||
                                       (raw.front() >= '0' && raw.front() <= '9'));
    if (looks_json) {
      try {
        value = parse_json(raw, shown);
      } catch (const InputError&) {
        if (raw.front() == '{' || raw.front() == '[') throw;
        value = raw;  // not JSON: the text; validation says what was expected
      }
    } else {
      value = raw;
    }
  }
  json* cur = &j;
  std::vector<std::string> parts;
  {
    std::stringstream ss(path);
    std::string part;
    while (std::getline(ss, part, '.')) parts.push_back(part);
    if (!path.empty() && path.back() == '.') parts.push_back("");
  }
  if (parts.size() > 16) throw InputError(shown + ": expected a path of at most 16 components");
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& k = parts[i];
    if (k.empty()) throw InputError(shown + ": empty component in path");
    bool last = i + 1 == parts.size();
    if (all_digits(k) && (cur->is_array() || cur->is_null())) {
      if (k.size() > 6) throw InputError(shown + ": index " + k.substr(0, 24) + " is out of range");
      size_t idx = std::stoul(k);
      if (cur->is_null()) *cur = json::array();
      if (idx > cur->size())
        throw InputError(shown + ": index " + k + " skips elements (array has " + std::to_string(cur->size()) + ")");
      if (idx == cur->size()) cur->push_back(json::object());
      cur = &(*cur)[idx];
    } else {
      if (cur->is_null()) *cur = json::object();
      if (cur->is_array()) {
        // ("-1 is not inside an object" named neither the array nor what an
        // index is.)
        std::string at;
        for (size_t q = 0; q < i; ++q) at += (q ? "." : "") + parts[q];
        throw InputError(shown + ": " + printable(at, 80) + " is an array: expected an index 0.." +
                         std::to_string(cur->size()) + ", found " + printable(k, 40));
      }
      if (!cur->is_object()) throw InputError(shown + ": " + printable(k, 40) + " is not inside an object");
      cur = &(*cur)[k];
    }
    if (last) *cur = value;
  }
  return path;
}

std::string config_reference_markdown() {
  std::ostringstream o;
  o << "# Scenario configuration reference\n\n"
       "Generated by `tunsim config-reference` from the parameter declarations of the models (each model's "
       "`params.cpp` in `models/`); do not edit by hand.  Keys are dotted paths (`senders.*` is any element of the "
       "`senders` array), the same syntax `tunsim run --set` takes (VALUE is read as JSON when it parses as JSON, "
       "and as the text itself for a string parameter; white space at either end is refused: give a string with "
       "spaces of its own as JSON, `--set 'name=\" x \"'`).  Unknown keys are rejected.  A default marked "
       "\"by version\" comes from the table of version-dependent defaults (docs/model.md, \"Kernel versions\").\n\n"
       "| key | type | default | unit | kernel name | meaning | default from |\n|---|---|---|---|---|---|---|\n";
  for (auto& p : param_table().decls()) {
    std::string def = p.def.is_null() ? "null" : p.def.dump();
    if (p.type == PType::Array) def = "see below";
    if (p.by_version) def = "by version";
    // A long measured table (cpus.stall.ns, 1000 quantiles): its ends and
    // its size; `tunsim config-reference --json` has every value.
    if (p.def.is_array() && p.def.size() > 32)
      def = p.def.front().dump() + ", " + p.def[1].dump() + ", ..., " + p.def[p.def.size() - 1].dump() + " (" +
            std::to_string(p.def.size()) + " values)";
    o << "| `" << p.path << "` | " << type_name(p) << " | `" << def << "` | " << p.unit << " | "
      << (p.kernel.empty() ? "" : "`" + p.kernel + "`") << " | " << p.doc << " | " << p.source << " |\n";
  }
  return o.str();
}

json config_reference_json() {
  static const char* const kType[] = {"integer", "number", "boolean", "string", "enum", "array", "integer list",
                                      "number list"};  // in PType's order
  static_assert(static_cast<int>(PType::NumList) == 7, "a type name for each PType");
  json params = json::array();
  for (auto& p : param_table().decls()) {
    json e = {{"path", p.path}, {"type", kType[static_cast<int>(p.type)]}};
    if (p.min < p.max) e.update({{"min", p.min}, {"max", p.max}});
    if (p.type == PType::Enum) e["choices"] = p.choices;
    e.update({{"default", p.def}, {"nullable", p.nullable}, {"unit", p.unit}, {"kernel", p.kernel},
              {"meaning", p.doc}, {"from", p.source}});
    params.push_back(std::move(e));
  }
  return {{"parameters", params}};
}

}  // namespace tunsim
