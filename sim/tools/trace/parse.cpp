#include "sim/tools/trace/parse.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <algorithm>

#include "sim/io/errors.hpp"
#include "sim/io/files.hpp"

namespace tunsim::trace {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

// Quotes what was found, shortened and escaped so that the message stays one
// readable line.
std::string found(std::string_view s) { return "'" + printable(std::string(s.substr(0, 200)), 80) + "'"; }

template <class T>
bool to_int(std::string_view s, T& v, int base = 10) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// "00000000a8b134be", "0xffff88814a9e7700" or "(nil)".
bool to_addr(std::string_view s, uint64_t& v) {
  if (s == "(nil)") {
    v = 0;
    return true;
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  return to_int(s, v, 16);
}

// Seconds with any number of decimals ("1049.304160162") -> ns; `decimals`
// receives the number of digits after the point.  False when `s` is not of
// that form; ParseFailure when it is but the time does not fit an int64 of ns.
bool to_ns(std::string_view s, int64_t& ns, int& decimals) {
  size_t dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == s.size()) return false;
  std::string_view sec = s.substr(0, dot), frac = s.substr(dot + 1);
  if (!all_digits(sec) || !all_digits(frac)) return false;
  // secs * 1e9 + 999999999 stays below 2^63 up to kMaxTraceSeconds.
  uint64_t secs = 0;
  if (sec.size() > 19 || !to_int(sec, secs) || secs > static_cast<uint64_t>(kMaxTraceSeconds))
    throw ParseFailure("expected a timestamp of at most " + std::to_string(kMaxTraceSeconds) + " seconds, found " +
                       found(s));
  int64_t f = 0;
  for (size_t i = 0; i < 9; ++i) f = f * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  ns = static_cast<int64_t>(secs) * 1000000000LL + f;
  decimals = static_cast<int>(std::min<size_t>(frac.size(), 99));
  return true;
}

// Splits "k1=v1 k2=v2 ..." and returns the value of `key` (empty view if absent).
std::string_view kv(std::string_view fields, std::string_view key) {
  size_t pos = 0;
  while (pos < fields.size()) {
    while (pos < fields.size() && is_space(fields[pos])) ++pos;
    size_t end = pos;
    while (end < fields.size() && !is_space(fields[end])) ++end;
    std::string_view tok = fields.substr(pos, end - pos);
    if (tok.size() > key.size() && tok.substr(0, key.size()) == key && tok[key.size()] == '=')
      return tok.substr(key.size() + 1);
    pos = end;
  }
  return {};
}

// The word after `marker` (up to the next space).
std::string_view word_after(std::string_view s, std::string_view marker) {
  size_t p = s.find(marker);
  if (p == std::string_view::npos) return {};
  s.remove_prefix(p + marker.size());
  size_t e = 0;
  while (e < s.size() && !is_space(s[e])) ++e;
  return s.substr(0, e);
}

// The pid of the task a scheduler event's fields begin with: "COMM:PID [PRIO]
// ..." (the tracefs `trace` file) or "[next_]comm=COMM [next_]pid=PID ..."
// (raw format fields); 0 when neither is there.
int task_pid_in(std::string_view f) {
  int pid = 0;
  size_t at = f.find("pid=");
  if (at != std::string_view::npos && (at == 0 || f[at - 1] == ' ' || f[at - 1] == '_'))
    return to_int(word_after(f, "pid="), pid) ? pid : 0;
  size_t prio = f.find(" [");
  size_t colon = f.substr(0, prio).rfind(':');
  if (prio == std::string_view::npos || colon == std::string_view::npos) return 0;
  return to_int(f.substr(colon + 1, prio - colon - 1), pid) ? pid : 0;
}

EventType type_of(std::string_view name) {
  if (name == "softirq_raise") return EventType::SoftirqRaise;
  if (name == "softirq_entry") return EventType::SoftirqEntry;
  if (name == "softirq_exit") return EventType::SoftirqExit;
  if (name == "napi_poll") return EventType::NapiPoll;
  if (name == "netif_receive_skb") return EventType::NetifReceiveSkb;
  if (name == "napi_gro_receive_entry") return EventType::GroReceiveEntry;
  if (name == "napi_gro_receive_exit") return EventType::GroReceiveExit;
  if (name == "kfree_skb") return EventType::KfreeSkb;
  if (name == "sys_enter") return EventType::SysEnter;
  if (name == "sys_exit") return EventType::SysExit;
  return EventType::Other;
}

[[noreturn]] void fail(const std::string& expected, std::string_view what) {
  throw ParseFailure("expected " + expected + ", found " + found(what));
}

void fields_of(TraceEvent& ev, std::string_view f) {
  const std::string n(ev.name);
  switch (ev.type) {
    case EventType::SoftirqRaise:
    case EventType::SoftirqEntry:
    case EventType::SoftirqExit: {
      std::string_view v = word_after(f, "vec=");
      if (f.substr(0, 4) != "vec=" || !to_int(v, ev.vec)) fail("'vec=N [action=NAME]' in " + n, f);
      break;
    }
    case EventType::NapiPoll: {
      std::string_view dev = word_after(f, " for device ");
      std::string_view work = word_after(f, " work ");
      std::string_view budget = word_after(f, " budget ");
      if (f.substr(0, 14) != "napi poll on n" || dev.empty() || !to_int(work, ev.work) ||
          !to_int(budget, ev.budget))
        fail("'napi poll on napi struct PTR for device DEV work N budget N' in napi_poll", f);
      ev.dev = dev;
      break;
    }
    case EventType::NetifReceiveSkb:
    case EventType::GroReceiveEntry: {
      std::string_view dev = kv(f, "dev"), skb = kv(f, "skbaddr"), len = kv(f, "len");
      if (dev.empty() || !to_addr(skb, ev.skbaddr) || !to_int(len, ev.len))
        fail("'dev=DEV ... skbaddr=PTR ... len=N' in " + n, f);
      ev.dev = dev;
      break;
    }
    case EventType::GroReceiveExit:
      break;
    case EventType::KfreeSkb: {
      std::string_view skb = kv(f, "skbaddr"), proto = kv(f, "protocol");
      if (!to_addr(skb, ev.skbaddr) || !to_int(proto, ev.protocol))
        fail("'skbaddr=PTR ... protocol=N ... reason: REASON' in kfree_skb", f);
      std::string_view reason = word_after(f, "reason: ");
      if (f.find("reason:") != std::string_view::npos && reason.empty())
        fail("a drop reason after 'reason: ' in kfree_skb", f);
      ev.reason = reason.empty() ? std::string_view("NOT_SPECIFIED") : reason;
      break;
    }
    case EventType::SysEnter: {
      std::string_view nr = word_after(f, "NR ");
      if (f.substr(0, 3) != "NR " || !to_int(nr, ev.nr)) fail("'NR N (ARGS)' in sys_enter", f);
      // The third argument (hex), write()'s count; left 0 when not printed.
      size_t open = f.find('(');
      std::string_view args = open == std::string_view::npos ? std::string_view() : f.substr(open + 1);
      for (int i = 0; i < 2 && !args.empty(); ++i) {
        size_t comma = args.find(',');
        args = comma == std::string_view::npos ? std::string_view() : args.substr(comma + 1);
      }
      size_t end = args.find_first_of(",)");
      uint64_t count = 0;
      if (end != std::string_view::npos && to_addr(trim(args.substr(0, end)), count) && count <= UINT32_MAX)
        ev.len = static_cast<uint32_t>(count);
      break;
    }
    case EventType::SysExit: {
      std::string_view nr = word_after(f, "NR ");
      std::string_view ret = word_after(f, " = ");
      if (f.substr(0, 3) != "NR " || !to_int(nr, ev.nr) || !to_int(ret, ev.ret))
        fail("'NR N = RET' in sys_exit", f);
      break;
    }
    case EventType::SchedWakeup:  // never classified so (type_of): the parser leaves them Other
    case EventType::SchedSwitch:
    case EventType::Other:
      // The task a scheduler event names (sched_wakeup's woken task,
      // sched_switch's next one) in other_pid, when it can be read; these
      // events are otherwise not interpreted, so nothing is refused here.
      if (ev.name == "sched_wakeup") ev.other_pid = task_pid_in(f);
      if (ev.name == "sched_switch") {
        size_t arrow = f.find("==> ");
        if (arrow != std::string_view::npos) ev.other_pid = task_pid_in(f.substr(arrow + 4));
      }
      break;
  }
}

// Parses the part before the CPU field: [INSTANCE:] COMM-PID [(TGID)] (ftrace,
// trace-cmd) or COMM PID[/TID] (perf script).
void parse_task(std::string_view head, TraceEvent& ev, std::string_view line) {
  // trace-cmd report prefixes events of an instance with "NAME:".
  if (!head.empty() && !is_space(head.front())) {
    size_t sp = head.find_first_of(" \t");
    if (sp != std::string_view::npos && sp > 0 && head[sp - 1] == ':' &&
        !trim(head.substr(sp)).empty())
      head.remove_prefix(sp);
  }
  head = trim(head);
  if (!head.empty() && head.back() == ')') {  // ftrace record-tgid "(  123)"
    size_t open = head.rfind('(');
    if (open != std::string_view::npos) head = trim(head.substr(0, open));
  }
  size_t sp = head.find_last_of(" \t");
  std::string_view last = sp == std::string_view::npos ? head : head.substr(sp + 1);
  size_t slash = last.find('/');
  std::string_view tid = slash == std::string_view::npos ? last : last.substr(slash + 1);
  if (sp != std::string_view::npos && all_digits(tid) &&
      (slash == std::string_view::npos || all_digits(last.substr(0, slash)))) {
    ev.comm = trim(head.substr(0, sp));  // perf: COMM PID
    to_int(tid, ev.pid);
    return;
  }
  size_t dash = head.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || !all_digits(head.substr(dash + 1)) ||
      !to_int(head.substr(dash + 1), ev.pid))
    fail("'TASK-PID' (ftrace) or 'TASK PID' (perf) before the CPU field", line);
  ev.comm = head.substr(0, dash);
}

}  // namespace

void parse_event_fields(TraceEvent& ev, std::string_view fields) {
  ev.type = type_of(ev.name);
  fields_of(ev, trim(fields));
}

LineKind parse_line(std::string_view line, TraceEvent& ev, uint64_t& lost, int* decimals) {
  std::string_view t = trim(line);
  if (t.empty() || t.front() == '#') return LineKind::Header;
  // trace-cmd report header lines.
  if (t.substr(0, 5) == "cpus=" && all_digits(t.substr(5))) return LineKind::Header;
  if (t.substr(0, 10) == "version = ") return LineKind::Header;
  if (t.substr(0, 4) == "CPU " && t.size() > 9 && t.substr(t.size() - 9) == " is empty")
    return LineKind::Header;
  // "CPU:1 [LOST 123 EVENTS]" (ftrace) and "[INSTANCE: ]CPU:1 [123 EVENTS DROPPED]"
  // (trace-cmd report).
  {
    std::string_view c = t;
    if (size_t sp = c.find(": CPU:"); sp != std::string_view::npos && c.find(' ') == sp + 1)
      c.remove_prefix(sp + 2);
    if (c.substr(0, 4) == "CPU:") {
      if (to_int(word_after(c, "[LOST "), lost)) return LineKind::Lost;
      if (c.find(" EVENTS DROPPED]") != std::string_view::npos &&
          to_int(word_after(c, " ["), lost))
        return LineKind::Lost;
    }
  }

  // Find the CPU field "[NNN]": the first bracketed number preceded by a
  // space and followed by an optional flags word and a timestamp "S.F:".
  for (size_t p = line.find('['); p != std::string_view::npos; p = line.find('[', p + 1)) {
    if (p == 0 || !is_space(line[p - 1])) continue;
    size_t q = p + 1;
    while (q < line.size() && is_digit(line[q])) ++q;
    if (q == p + 1 || q >= line.size() || line[q] != ']') continue;
    std::string_view rest = line.substr(q + 1);
    if (rest.empty() || !is_space(rest.front())) continue;
    // Next words: [flags] timestamp:
    auto next_word = [](std::string_view& s) {
      while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
      size_t e = 0;
      while (e < s.size() && !is_space(s[e])) ++e;
      std::string_view w = s.substr(0, e);
      s.remove_prefix(e);
      return w;
    };
    std::string_view after = rest;
    std::string_view w = next_word(after);
    int64_t ns = 0;
    int dec = 0;
    if (w.empty() || w.back() != ':' || !to_ns(w.substr(0, w.size() - 1), ns, dec)) {
      std::string_view w2 = next_word(after);  // w was the flags column
      if (w2.empty() || w2.back() != ':' || !to_ns(w2.substr(0, w2.size() - 1), ns, dec)) {
        if (!w2.empty() && w2.back() == ':' && all_digits(w2.substr(0, w2.size() - 1)))
          fail("a timestamp in seconds 'SECONDS.FRACTION:' (trace_clock counter/x86-tsc is "
               "not supported)",
               w2);
        continue;
      }
    }
    ev = TraceEvent{};
    ev.ts_ns = ns;
    if (decimals) *decimals = dec;
    if (q - p - 1 > 5 || !to_int(line.substr(p + 1, q - p - 1), ev.cpu) || ev.cpu >= 65536)
      fail("a CPU number below 65536 in '[CPU]'", line.substr(p, q - p + 1));
    if (after.data() > line.data() + q + 1) {
      // The flags column, when there is one ("d..1.").
      std::string_view between = trim(line.substr(q + 1, static_cast<size_t>(after.data() - line.data()) - q - 1));
      size_t sp = between.find_first_of(" \t");
      if (sp != std::string_view::npos) ev.flags = between.substr(0, sp);
    }
    parse_task(line.substr(0, p), ev, line);
    // Event name: up to the first ':' followed by a space or the end.
    while (!after.empty() && is_space(after.front())) after.remove_prefix(1);
    size_t c = 0;
    while (c < after.size() && !(after[c] == ':' && (c + 1 == after.size() || is_space(after[c + 1]))))
      ++c;
    if (c == 0 || c == after.size() || after.substr(0, c).find_first_of(" \t") != std::string_view::npos)
      fail("'EVENT: FIELDS' after the timestamp", after);
    std::string_view name = after.substr(0, c);
    size_t colon = name.rfind(':');  // perf prints "subsystem:event"
    if (colon != std::string_view::npos) name.remove_prefix(colon + 1);
    ev.name = name;
    ev.type = type_of(name);
    fields_of(ev, trim(after.substr(c + 1)));
    return LineKind::Event;
  }
  fail("'TASK-PID [CPU] TIMESTAMP: EVENT: FIELDS'", t);
}

}  // namespace tunsim::trace
