// Running the tunsim binary from a test: one private temporary directory per
// test case (under one per test process, removed at exit) and the command's
// status, stdout, stderr.
#pragma once
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/io/files.hpp"

namespace testutil {

// Under ASan (the sanitized build, docs/fuzzing.md) every tunsim process
// that switches fibers prints ASan's notes about swapcontext on standard
// error; they are ASan's, not tunsim's, and are left out of what the tests
// read.  Any other ASan or UBSan report stays (and fails the test).
inline std::string without_sanitizer_notes(const std::string& err) {
#if defined(TUNSIM_SANITIZED)
  std::string out;
  size_t pos = 0;
  while (pos < err.size()) {
    size_t nl = err.find('\n', pos);
    size_t end = nl == std::string::npos ? err.size() : nl + 1;
    std::string line = err.substr(pos, end - pos);
    bool note = (line.rfind("==", 0) == 0 &&
                 (line.find("WARNING: ASan doesn't fully support makecontext/swapcontext") != std::string::npos ||
                  line.find("WARNING: ASan is ignoring requested __asan_handle_no_return") != std::string::npos)) ||
                line.rfind("False positive error reports may follow", 0) == 0 ||
                line.rfind("For details see https://github.com/google/sanitizers/issues/189", 0) == 0;
    if (!note) out += line;
    pos = end;
  }
  return out;
#else
  return err;
#endif
}

struct Run {
  int status = -1;
  std::string out, err;
};

struct TmpDir {
  std::string path;
  ~TmpDir() {
    if (!path.empty()) std::filesystem::remove_all(path);
  }
};

// The test cases begun in this process (tests/main.cpp counts them).
inline int& test_case_serial() {
  static int n = 0;
  return n;
}

// This test case's own directory: ctest runs each case in a process of its
// own, but `tunsim_tests` alone runs them all in one, where a case that
// checks a file is absent must not see what an earlier case wrote.
inline std::string tmpdir() {
  static TmpDir dir;
  static int made_for = -1;
  static std::string sub;
  if (dir.path.empty()) {
    char t[] = "/tmp/tunsim-test-XXXXXX";
    REQUIRE(::mkdtemp(t) != nullptr);
    dir.path = t;
  }
  if (made_for != test_case_serial()) {
    made_for = test_case_serial();
    sub = dir.path + "/case-" + std::to_string(made_for);
    std::filesystem::create_directories(sub);
  }
  return sub;
}

// `cmd` run by the shell with stderr to `err`: its status, stdout and stderr.
inline Run popen_run(const std::string& cmd, const std::string& err) {
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  Run r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = without_sanitizer_notes(tunsim::read_file(err));
  return r;
}

// TUNSIM_BIN ARGS, with stderr captured.
inline Run run_cli(const std::string& args) {
  std::string err = tmpdir() + "/stderr";
  return popen_run(std::string(TUNSIM_BIN) + " " + args + " 2>" + err, err);
}

// A shell script run with $TUNSIM set to the binary, stderr captured (the
// script's redirections apply: "$TUNSIM run ... > /dev/full").
inline Run run_sh(const std::string& script) {
  std::string err = tmpdir() + "/stderr";
  return popen_run("TUNSIM='" + std::string(TUNSIM_BIN) + "'; { " + script + "\n} 2>" + err, err);
}

// `text` written to NAME in this test case's directory; its path.
inline std::string write_tmp(const std::string& name, const std::string& text) {
  std::string path = tmpdir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The JSON document in `path` (the file must open).
inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

// The bytes of `path` ("" when it cannot be read: a test may look for a
// file that must not exist).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The lines of stderr.
inline int lines_of(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// tunsim ARGS with standard input and output from/to files, its peak
// resident memory and wall time measured (wait4).
struct Measured {
  int status = -1;  // exit status, or -SIGNAL
  long max_rss_kb = 0;
  double wall_s = 0;
  std::string err;
};
inline Measured run_measured(const std::vector<std::string>& args, const std::string& in = "/dev/null",
                             const std::string& out = "/dev/null") {
  std::string err = tmpdir() + "/stderr-measured";
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int i = ::open(in.c_str(), O_RDONLY), o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600),
        e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (i < 0 || o < 0 || e < 0) ::_exit(126);
    ::dup2(i, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv{const_cast<char*>(TUNSIM_BIN)};
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(TUNSIM_BIN, argv.data());
    ::_exit(127);
  }
  int st = 0;
  struct rusage ru {};
  while (::wait4(pid, &st, 0, &ru) < 0) {
  }
  Measured m;
  m.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m.status = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
  m.max_rss_kb = ru.ru_maxrss;
  m.err = without_sanitizer_notes(tunsim::read_file(err));
  return m;
}

}  // namespace testutil
