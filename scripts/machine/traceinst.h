/* traceinst: capture-trace's task events in a tracefs instance the caller
 * made, for a microbenchmark whose cost the model compares with traced
 * kernels (ctxswitch.c, wakeup.c --trace-instance DIR).
 *
 * The model's costs describe a kernel with capture-trace's events on: its
 * paths are fitted to captures, and it is compared with them.  A capture
 * records, for its tasks, raw_syscalls:sys_enter and sys_exit (filtered by
 * common_pid), sched:sched_switch (by prev_pid and next_pid) and
 * sched:sched_wakeup (by pid), each filter naming the capture's tasks
 * (scripts/capture-trace, "filt").  ti_start() sets the same four events and
 * filter shapes, naming the benchmark's two threads, and turns tracing on;
 * the caller (scripts/calibrate-machine) made the instance, with
 * capture-trace's clock and a buffer that is not overwritten, and removes it.
 * Header-only, like robust.h. */
#ifndef TUNSIM_TRACEINST_H
#define TUNSIM_TRACEINST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Writes VAL to DIR/REL of the instance: 0, or 1 after saying why, as
 * "PROG: cannot write 'VAL' to PATH: REASON". */
static inline int ti_write(const char* prog, const char* dir, const char* rel, const char* val) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  int fd = open(path, O_WRONLY | O_TRUNC);
  size_t len = strlen(val);
  if (fd < 0 || write(fd, val, len) != (ssize_t)len) {
    fprintf(stderr, "%s: cannot write '%s' to %s: %s\n", prog, val, path, strerror(errno));
    if (fd >= 0) close(fd);
    return 1;
  }
  close(fd);
  return 0;
}

/* capture-trace's four task events, filtered to threads A and B, then
 * tracing on: 0, or 1 after saying why. */
static inline int ti_start(const char* prog, const char* dir, int a, int b) {
  char f[256];
  snprintf(f, sizeof f, "common_pid == %d || common_pid == %d", a, b);
  if (ti_write(prog, dir, "events/raw_syscalls/sys_enter/filter", f) ||
      ti_write(prog, dir, "events/raw_syscalls/sys_exit/filter", f))
    return 1;
  snprintf(f, sizeof f, "prev_pid == %d || next_pid == %d || prev_pid == %d || next_pid == %d", a, a, b, b);
  if (ti_write(prog, dir, "events/sched/sched_switch/filter", f)) return 1;
  snprintf(f, sizeof f, "pid == %d || pid == %d", a, b);
  if (ti_write(prog, dir, "events/sched/sched_wakeup/filter", f)) return 1;
  const char* ev[] = {"raw_syscalls/sys_enter", "raw_syscalls/sys_exit", "sched/sched_switch", "sched/sched_wakeup"};
  for (int i = 0; i < 4; ++i) {
    snprintf(f, sizeof f, "events/%s/enable", ev[i]);
    if (ti_write(prog, dir, f, "1")) return 1;
  }
  return ti_write(prog, dir, "tracing_on", "1");
}

/* Takes "--trace-instance DIR" out of argv[1..*argc): DIR (the empty string
 * when the option has no value), or NULL without it; *argc becomes the
 * number of the arguments left, in order. */
static inline const char* ti_take_option(int* argc, char** argv) {
  const char* dir = NULL;
  int n = 1;
  for (int i = 1; i < *argc; ++i) {
    if (!strcmp(argv[i], "--trace-instance"))
      dir = i + 1 < *argc ? argv[++i] : "";
    else
      argv[n++] = argv[i];
  }
  *argc = n;
  return dir;
}

#endif
