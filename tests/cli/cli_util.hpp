// Running the tunsim binary from a test: one private temporary directory per
// test process (removed at exit) and the command's status, stdout, stderr.
#pragma once
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "sim/io/files.hpp"

namespace testutil {

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

inline std::string tmpdir() {
  static TmpDir dir;
  if (dir.path.empty()) {
    char t[] = "/tmp/tunsim-test-XXXXXX";
    REQUIRE(::mkdtemp(t) != nullptr);
    dir.path = t;
  }
  return dir.path;
}

// TUNSIM_BIN ARGS, with stderr captured.
inline Run run_cli(const std::string& args) {
  std::string err = tmpdir() + "/stderr";
  std::string cmd = std::string(TUNSIM_BIN) + " " + args + " 2>" + err;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  Run r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = tunsim::read_file(err);
  return r;
}

}  // namespace testutil
