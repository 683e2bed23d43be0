/* ctxswitch: what a wake-up of a thread on the waker's own CPU costs the
 * waker, and what one context switch costs: costs.wakeup_local_ns and
 * costs.context_switch_ns, the two costs of a writer that wakes a NAPI
 * kthread on its own CPU (threaded NAPI) and of every switch the model makes.
 *
 * Two threads pinned to one CPU, both SCHED_BATCH.  Linux 6.18
 * kernel/sched/fair.c check_preempt_wakeup_fair(): "Batch and idle tasks do
 * not preempt non-idle tasks" (p->policy != SCHED_NORMAL: return), so a
 * wake-up never preempts the waker.
 *
 * The local wake-up.  A and B hand over through two futex words.  One
 * sample, on A: t0; store B's word, FUTEX_WAKE(B's word) -> t1: the system
 * call and try_to_wake_up of a sleeper on this CPU (ttwu_do_activate:
 * enqueue_task_fair, wakeup_preempt that does not preempt); then A blocks in
 * FUTEX_WAIT, B runs, wakes A and blocks in turn (not timed).  Baseline, on
 * the same CPU with nobody waiting: FUTEX_WAKE on a word nobody waits on
 * (the system call and the futex hash lookup).
 *   wakeup_local_ns = p10(t1 - t0) - p10(FUTEX_WAKE, nobody waiting)
 * A sample whose FUTEX_WAKE woke nobody is dropped and counted.
 *
 * The context switch.  A times one sched_yield() (6.18 do_sched_yield ->
 * yield_task_fair, then schedule()) while B, on the same CPU, loops on
 * sched_yield() too: A's call returns after __schedule switched to B, B's
 * sched_yield returned, B called it again and __schedule switched back: two
 * system calls, two __schedule and two context switches.  Baseline: A's
 * sched_yield with no other thread runnable on the CPU (one system call and
 * one __schedule that picks A again, no switch).
 *   context_switch_ns = (p10(yield with B) - 2 p10(yield alone)) / 2:
 *       context_switch (switch_to, finish_task_switch; both threads share
 *       one mm: no address-space switch, as for a kthread that borrows the
 *       mm) and the pick of another task.
 * A sample in which B did not run (its loop counter did not move) is dropped
 * and counted.  A first version measured the switch as a blocking
 * FUTEX_WAIT to the other thread's return minus a FUTEX_WAIT that returns
 * -EAGAIN: 1332-1763 ns on 2026-12-03 11:12 UTC, against 780-1130 ns by
 * sched_yield at 11:53; the difference is futex_wait_queue and the waiter's
 * unqueue, which a kernel-to-kernel switch does not do.  The kernel's own
 * threaded-NAPI trace on this VM agrees with the lower figure: from the
 * writer's sys_exit to the switch and on to the kthread's first event
 * 381 + 521 ns, from its last event to the writer's switch back 471 ns
 * (p50; results/reference/validation-2026-12-02-quiet/threaded-same).
 *
 * Traced (--trace-instance DIR).  Every switch of a capture writes a
 * sched_switch event and every wake-up a sched_wakeup, and their cost is in
 * the kernel's segments the model is compared with.  With DIR, a tracefs
 * instance the caller made, the program turns on capture-trace's four task
 * events filtered to its two threads (traceinst.h) before its first sample,
 * and tracing off after its last.  Every sample is then traced: the
 * baselines carry the system calls' two events as the samples do, so
 * wakeup_local_ns gains the sched_wakeup event and context_switch_ns one
 * sched_switch event, as a capture's switch does.
 *
 * usage: ctxswitch [--cpu C] [--samples S] [--trace-instance DIR]
 * prints one JSON object {"what": "ctxswitch", "wakeup_local_ns": {...}, "context_switch_ns": {...}, ...}
 * exit: 0 trusted; 4 refused (samples disturbed); 3 cannot run; 2 usage.
 * Build: cc -O2 -pthread -o ctxswitch ctxswitch.c -lm */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "robust.h"
#include "traceinst.h"

static volatile int word_a __attribute__((aligned(64)));
static volatile int word_b __attribute__((aligned(64)));
static volatile int nobody __attribute__((aligned(64)));
static long nsamples = 4000, cpu = 0;
static volatile long b_loops __attribute__((aligned(64))); /* B's sched_yield loop count */
static volatile int b_stop;
static volatile int yield_go __attribute__((aligned(64))); /* B: from wake-ups to yields */
static volatile int b_tid;

static long futex(volatile int* w, int op, int val) { return syscall(SYS_futex, w, op, val, NULL, NULL, 0); }

/* Pinned to `cpu`, SCHED_BATCH (nice 0): 0, or 1 after saying why not. */
static int setup_thread(void) {
  if (rb_pin_cpu("ctxswitch", cpu)) return 1;
  struct sched_param sp = {0};
  if (sched_setscheduler(0, SCHED_BATCH, &sp)) {
    perror("ctxswitch: sched_setscheduler(SCHED_BATCH)");
    return 1;
  }
  return 0;
}

/* B: the partner of the wake-ups, then the yielder of the switches.  Made
 * before the first sample (and so named in the trace filters from the start),
 * it sleeps in FUTEX_WAIT until the wake-ups begin: A's baselines still have
 * no other runnable thread on the CPU. */
static void* helper(void* arg) {
  (void)arg;
  if (setup_thread()) exit(RB_EXIT_ENV);
  __atomic_store_n(&b_tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
  for (long i = 0; i < nsamples; ++i) {
    while (__atomic_load_n(&word_b, __ATOMIC_ACQUIRE) == 0) futex(&word_b, FUTEX_WAIT_PRIVATE, 0);
    __atomic_store_n(&word_b, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&word_a, 1, __ATOMIC_RELEASE);
    futex(&word_a, FUTEX_WAKE_PRIVATE, 1);
  }
  while (__atomic_load_n(&yield_go, __ATOMIC_ACQUIRE) == 0) futex(&yield_go, FUTEX_WAIT_PRIVATE, 0);
  while (!__atomic_load_n(&b_stop, __ATOMIC_ACQUIRE)) {
    __atomic_store_n(&b_loops, b_loops + 1, __ATOMIC_RELEASE);
    sched_yield();
  }
  return NULL;
}

static void usage(void) {
  fprintf(stderr, "usage: ctxswitch [--cpu C] [--samples S] [--trace-instance DIR]\n");
  exit(RB_EXIT_USAGE);
}

int main(int argc, char** argv) {
  const rb_long_opt opts[] = {{"--cpu", 0, CPU_SETSIZE - 1, &cpu}, {"--samples", 1, 1000000, &nsamples}};
  int nargs = argc;
  const char* trace_dir = ti_take_option(&nargs, argv);
  if (trace_dir && !trace_dir[0]) usage();
  if (rb_parse_long_opts(nargs, argv, opts, sizeof opts / sizeof opts[0])) usage();
  if (setup_thread()) return RB_EXIT_ENV;
  const rb_rule* rule = rb_rule_named("ctxswitch");
  double ov = rb_clock_overhead_ns();
  double* wake = malloc((size_t)nsamples * sizeof *wake);
  double* wake0 = malloc((size_t)nsamples * sizeof *wake0);
  double* yield1 = malloc((size_t)nsamples * sizeof *yield1);
  double* yield2 = malloc((size_t)nsamples * sizeof *yield2);
  if (!wake || !wake0 || !yield1 || !yield2) return RB_EXIT_ENV;
  pthread_t th;
  if (pthread_create(&th, NULL, helper, NULL)) return RB_EXIT_ENV;
  struct timespec ms = {0, 1000000}; /* B reaches its first FUTEX_WAIT while A sleeps */
  do {
    nanosleep(&ms, NULL);
  } while (__atomic_load_n(&b_tid, __ATOMIC_ACQUIRE) == 0);
  if (trace_dir && ti_start("ctxswitch", trace_dir, (int)syscall(SYS_gettid), __atomic_load_n(&b_tid, __ATOMIC_ACQUIRE)))
    return RB_EXIT_ENV;
  /* Baselines, alone on the CPU (B sleeps). */
  for (long i = 0; i < nsamples; ++i) {
    double t0 = rb_now_ns();
    futex(&nobody, FUTEX_WAKE_PRIVATE, 1);
    wake0[i] = rb_now_ns() - t0 - ov;
  }
  for (long i = 0; i < nsamples; ++i) {
    double t0 = rb_now_ns();
    sched_yield();
    yield1[i] = rb_now_ns() - t0 - ov;
  }
  /* The local wake-up. */
  long n = 0, woke_nobody = 0;
  for (long i = 0; i < nsamples; ++i) {
    double t0 = rb_now_ns();
    __atomic_store_n(&word_b, 1, __ATOMIC_RELEASE);
    long woken = futex(&word_b, FUTEX_WAKE_PRIVATE, 1);
    double t1 = rb_now_ns();
    if (woken == 1) wake[n++] = t1 - t0 - ov;
    else woke_nobody++;
    while (__atomic_load_n(&word_a, __ATOMIC_ACQUIRE) == 0) futex(&word_a, FUTEX_WAIT_PRIVATE, 0);
    __atomic_store_n(&word_a, 0, __ATOMIC_RELEASE);
  }
  /* The context switch: A's sched_yield while B yields on the same CPU. */
  __atomic_store_n(&yield_go, 1, __ATOMIC_RELEASE);
  futex(&yield_go, FUTEX_WAKE_PRIVATE, 1);
  nanosleep(&ms, NULL);
  long m = 0, no_switch = 0;
  for (long i = 0; i < nsamples; ++i) {
    long before = __atomic_load_n(&b_loops, __ATOMIC_ACQUIRE);
    double t0 = rb_now_ns();
    sched_yield();
    double t1 = rb_now_ns();
    if (__atomic_load_n(&b_loops, __ATOMIC_ACQUIRE) != before) yield2[m++] = t1 - t0 - ov;
    else no_switch++;
  }
  __atomic_store_n(&b_stop, 1, __ATOMIC_RELEASE);
  pthread_join(th, NULL);
  if (trace_dir && ti_write("ctxswitch", trace_dir, "tracing_on", "0")) return RB_EXIT_ENV;
  rb_stats s_wake, s_wake0, s_y1, s_y2;
  rb_evaluate(wake0, (int)nsamples, rule, &s_wake0);
  rb_evaluate(wake, (int)n, rule, &s_wake);
  rb_evaluate(yield1, (int)nsamples, rule, &s_y1);
  rb_evaluate(yield2, (int)m, rule, &s_y2);
  printf("{\"what\": \"ctxswitch\", \"cpu\": %ld, \"traced\": %s, \"clock_overhead_ns\": %.1f, "
         "\"samples_woke_nobody\": %ld, \"samples_no_switch\": %ld, \"wake_call_ns\": {\"method\": \"FUTEX_WAKE of a SCHED_BATCH sleeper on "
         "this CPU, as the waker sees it; value = p10\", ",
         cpu, trace_dir ? "true" : "false", ov, woke_nobody, no_switch);
  rb_json_members(stdout, &s_wake, rule);
  printf("}, \"no_waiter_ns\": {\"method\": \"FUTEX_WAKE on a word nobody waits on; value = p10\", ");
  rb_json_members(stdout, &s_wake0, rule);
  printf("}, \"yield_pair_ns\": {\"method\": \"sched_yield while a SCHED_BATCH thread on this CPU yields too: "
         "two system calls, two __schedule, two context switches; value = p10\", ");
  rb_json_members(stdout, &s_y2, rule);
  printf("}, \"yield_alone_ns\": {\"method\": \"sched_yield with no other thread runnable on this CPU: one "
         "system call and one __schedule that picks the caller again; value = p10\", ");
  rb_json_members(stdout, &s_y1, rule);
  printf("}, \"wakeup_local_ns\": {\"value\": ");
  rb_jnum(stdout, s_wake.value - s_wake0.value);
  printf(", \"method\": \"wake_call_ns.value - no_waiter_ns.value: try_to_wake_up of a sleeper on the waker's "
         "CPU\"}, \"context_switch_ns\": {\"value\": ");
  rb_jnum(stdout, (s_y2.value - 2 * s_y1.value) / 2);
  printf(", \"method\": \"(yield_pair_ns.value - 2 yield_alone_ns.value) / 2: context_switch between two "
         "threads of one process and the pick of another task\"}}\n");
  const rb_stats* all[] = {&s_wake, &s_wake0, &s_y2, &s_y1};
  for (int i = 0; i < 4; ++i)
    if (!all[i]->trusted) {
      fprintf(stderr, "ctxswitch: refused: %s\n", all[i]->why);
      return RB_EXIT_REFUSED;
    }
  return RB_EXIT_OK;
}
