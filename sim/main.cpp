#include <iostream>
#include <CLI/CLI.hpp>
#include "sim/commands.hpp"
#include "sim/errors.hpp"

int main(int argc, char** argv) {
  CLI::App app{"tunsim: a SimGrid simulator of the Linux tun/tap receive path"};
  app.set_version_flag("--version", std::string("tunsim ") + TUNSIM_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  tunsim::register_trace_commands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const tunsim::InputError& e) {
    std::cerr << "tunsim: " << e.what() << "\n";
    return 2;
  }
  return exit_code;
}
