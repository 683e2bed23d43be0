/* robust-check: apply a microbenchmark's trust rule (robust.h) to a sample
 * set read from a file, so that the rule can be tested on synthetic samples.
 *
 * usage: robust-check RULE [FILE|-]     RULE: linexfer, chase, icache, clock
 *   FILE holds the samples, numbers separated by white space ('#' starts a
 *   comment that runs to the end of the line); '-' or no FILE: stdin.
 * prints one JSON object (the same members the benchmarks print);
 * exit: 0 trusted, 4 refused (reason on stderr), 2 usage or bad input (one
 * line naming the file, the line and what was expected).
 * Build: cc -O2 -o robust-check robust-check.c */
#include <ctype.h>
#include <errno.h>

#include "robust.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: robust-check RULE [FILE|-]   (RULE: linexfer, chase, icache, clock, kcold, atomics)\n");
    return RB_EXIT_USAGE;
  }
  const rb_rule* rule = rb_rule_named(argv[1]);
  if (!rule) {
    fprintf(stderr, "robust-check: rule: expected linexfer, chase, icache, clock, kcold or atomics, found '%s'\n", argv[1]);
    return RB_EXIT_USAGE;
  }
  const char* name = argc == 3 ? argv[2] : "-";
  FILE* f = strcmp(name, "-") ? fopen(name, "r") : stdin;
  if (!f) {
    fprintf(stderr, "robust-check: %s: cannot open: %s\n", name, strerror(errno));
    return RB_EXIT_USAGE;
  }
  size_t cap = 1024, n = 0;
  double* s = malloc(cap * sizeof *s);
  char line[4096];
  long lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char* hash = strchr(line, '#');
    if (hash) *hash = 0;
    char* p = line;
    for (;;) {
      while (isspace((unsigned char)*p)) p++;
      if (!*p) break;
      char* end;
      errno = 0;
      double v = strtod(p, &end);
      if (end == p || (*end && !isspace((unsigned char)*end)) || errno == ERANGE) {
        char* tok_end = p;
        while (*tok_end && !isspace((unsigned char)*tok_end)) tok_end++;
        *tok_end = 0;
        fprintf(stderr, "robust-check: %s:%ld: expected a number, found '%s'\n", name, lineno, p);
        return RB_EXIT_USAGE;
      }
      if (n == cap) s = realloc(s, (cap *= 2) * sizeof *s);
      s[n++] = v;
      p = end;
    }
  }
  if (n > 1000000000) return RB_EXIT_USAGE;
  rb_stats st;
  rb_evaluate(s, (int)n, rule, &st);
  printf("{");
  rb_json_members(stdout, &st, rule);
  printf("}\n");
  if (!st.trusted) {
    fprintf(stderr, "robust-check: refused: %s\n", st.why);
    return RB_EXIT_REFUSED;
  }
  return RB_EXIT_OK;
}
