/* ctxswitch: what a wake-up of a thread on the waker's own CPU costs the
 * waker, and what one context switch costs: costs.wakeup_local_ns and
 * costs.context_switch_ns, the two costs of a writer that wakes a NAPI
 * kthread on its own CPU (threaded NAPI) and of every switch the model makes.
 *
 * Two threads A and B pinned to one CPU hand control to each other through
 * two futex words, both under SCHED_BATCH.  Linux 6.18
 * kernel/sched/fair.c check_preempt_wakeup_fair(): "Batch and idle tasks do
 * not preempt non-idle tasks" (p->policy != SCHED_NORMAL: return), so a
 * wake-up never preempts the waker and every switch happens where the
 * running thread blocks.  One sample, on A:
 *   t0; store B's word, FUTEX_WAKE(B's word) -> t1: the system call and
 *       try_to_wake_up of a sleeper on this CPU (ttwu_do_activate:
 *       enqueue_task_fair, wakeup_preempt that does not preempt);
 *   FUTEX_WAIT(A's word): A blocks, __schedule picks B, context_switch;
 *   B reads the clock as its FUTEX_WAIT returns (t2).
 * Then B wakes A and blocks the same way (not timed), and the next sample
 * begins when A runs again.  Also, on the same CPU with no partner:
 * FUTEX_WAKE on a word nobody waits on (the system call and the futex hash
 * lookup) and FUTEX_WAIT on a word whose value differs (the system call,
 * the lookup, the compare, -EAGAIN).  Reported, each value the p10 under
 * rule "ctxswitch" of robust.h:
 *   wakeup_local_ns    = p10(t1 - t0) - p10(FUTEX_WAKE, nobody waiting)
 *   context_switch_ns  = p10(t2 - t1) - p10(FUTEX_WAIT, value differs):
 *       futex_wait_queue, __schedule (dequeue A, pick B) and
 *       context_switch to B, plus the few instructions of B's futex_wait
 *       between its wake-up and its return (both threads share one mm: no
 *       address-space switch, as for a kthread that borrows the mm).
 * A sample in which B's clock read precedes A's t1 (B ran inside A's
 * FUTEX_WAKE: a preemption the policy should prevent) or whose FUTEX_WAKE
 * woke nobody is dropped and counted.
 *
 * On the 2-vCPU AMD EPYC Firecracker VM (kernel 6.18.44, HZ 250, EEVDF),
 * 2026-12-03 11:11 UTC, load average 0.5, a first version of this loop,
 * 20000 samples, CPU 0 and CPU 1 three times each: FUTEX_WAKE of the
 * sleeper p10 811-951 ns, nobody waiting 230-301 ns; t2 - t1 p10
 * 1672-1912 ns, FUTEX_WAIT with a differing value 310-401 ns.
 *
 * usage: ctxswitch [--cpu C] [--samples S]
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

static volatile int word_a __attribute__((aligned(64)));
static volatile int word_b __attribute__((aligned(64)));
static volatile int nobody __attribute__((aligned(64)));
static long nsamples = 4000, cpu = 0;
static double* b_ran; /* B's clock as its FUTEX_WAIT returned, per sample */

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

static void* partner(void* arg) {
  (void)arg;
  if (setup_thread()) exit(RB_EXIT_ENV);
  for (long i = 0; i < nsamples; ++i) {
    while (__atomic_load_n(&word_b, __ATOMIC_ACQUIRE) == 0) futex(&word_b, FUTEX_WAIT_PRIVATE, 0);
    b_ran[i] = rb_now_ns();
    __atomic_store_n(&word_b, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&word_a, 1, __ATOMIC_RELEASE);
    futex(&word_a, FUTEX_WAKE_PRIVATE, 1);
  }
  return NULL;
}

static void usage(void) {
  fprintf(stderr, "usage: ctxswitch [--cpu C] [--samples S]\n");
  exit(RB_EXIT_USAGE);
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
    if (!strcmp(a, "--cpu")) { if (rb_parse_long(v, 0, CPU_SETSIZE - 1, &cpu)) usage(); }
    else if (!strcmp(a, "--samples")) { if (rb_parse_long(v, 1, 1000000, &nsamples)) usage(); }
    else usage();
    i++;
  }
  if (setup_thread()) return RB_EXIT_ENV;
  const rb_rule* rule = rb_rule_named("ctxswitch");
  double ov = rb_clock_overhead_ns();
  double* wake = malloc((size_t)nsamples * sizeof *wake);
  double* sw = malloc((size_t)nsamples * sizeof *sw);
  double* wake0 = malloc((size_t)nsamples * sizeof *wake0);
  double* wait0 = malloc((size_t)nsamples * sizeof *wait0);
  double* t1s = malloc((size_t)nsamples * sizeof *t1s);
  double* wakes = malloc((size_t)nsamples * sizeof *wakes);
  b_ran = calloc((size_t)nsamples, sizeof *b_ran);
  if (!wake || !sw || !wake0 || !wait0 || !t1s || !wakes || !b_ran) return RB_EXIT_ENV;
  for (long i = 0; i < nsamples; ++i) {
    double t0 = rb_now_ns();
    futex(&nobody, FUTEX_WAKE_PRIVATE, 1);
    wake0[i] = rb_now_ns() - t0 - ov;
  }
  for (long i = 0; i < nsamples; ++i) {
    double t0 = rb_now_ns();
    futex(&nobody, FUTEX_WAIT_PRIVATE, 1); /* nobody is 0: -EAGAIN at once */
    wait0[i] = rb_now_ns() - t0 - ov;
  }
  pthread_t th;
  if (pthread_create(&th, NULL, partner, NULL)) return RB_EXIT_ENV;
  /* Let B reach its first FUTEX_WAIT: A sleeps, so B runs on this CPU. */
  struct timespec ms = {0, 1000000};
  nanosleep(&ms, NULL);
  long woke_nobody = 0;
  for (long i = 0; i < nsamples; ++i) {
    double t0 = rb_now_ns();
    __atomic_store_n(&word_b, 1, __ATOMIC_RELEASE);
    long woken = futex(&word_b, FUTEX_WAKE_PRIVATE, 1);
    double t1 = rb_now_ns();
    wakes[i] = woken == 1 ? t1 - t0 - ov : -1;
    t1s[i] = t1;
    if (woken != 1) woke_nobody++;
    while (__atomic_load_n(&word_a, __ATOMIC_ACQUIRE) == 0) futex(&word_a, FUTEX_WAIT_PRIVATE, 0);
    __atomic_store_n(&word_a, 0, __ATOMIC_RELEASE);
  }
  pthread_join(th, NULL);
  long n = 0, m = 0, preempted = 0;
  for (long i = 0; i < nsamples; ++i) {
    if (b_ran[i] < t1s[i]) {
      preempted++;
      continue;
    }
    if (wakes[i] >= 0) wake[n++] = wakes[i];
    sw[m++] = b_ran[i] - t1s[i] - ov;
  }
  rb_stats s_wake, s_sw, s_wake0, s_wait0;
  rb_evaluate(wake0, (int)nsamples, rule, &s_wake0);
  rb_evaluate(wait0, (int)nsamples, rule, &s_wait0);
  rb_evaluate(wake, (int)n, rule, &s_wake);
  rb_evaluate(sw, (int)m, rule, &s_sw);
  printf("{\"what\": \"ctxswitch\", \"cpu\": %ld, \"clock_overhead_ns\": %.1f, \"samples_woke_nobody\": %ld, "
         "\"samples_preempted\": %ld, \"wake_call_ns\": {\"method\": \"FUTEX_WAKE of a SCHED_BATCH sleeper on this "
         "CPU, as the waker sees it; value = p10\", ",
         cpu, ov, woke_nobody, preempted);
  rb_json_members(stdout, &s_wake, rule);
  printf("}, \"no_waiter_ns\": {\"method\": \"FUTEX_WAKE on a word nobody waits on; value = p10\", ");
  rb_json_members(stdout, &s_wake0, rule);
  printf("}, \"switch_call_ns\": {\"method\": \"the waker's FUTEX_WAIT after its wake-up (t1) to the woken "
         "thread's return from its own FUTEX_WAIT; value = p10\", ");
  rb_json_members(stdout, &s_sw, rule);
  printf("}, \"wait_eagain_ns\": {\"method\": \"FUTEX_WAIT on a word whose value differs (-EAGAIN); value = p10\", ");
  rb_json_members(stdout, &s_wait0, rule);
  printf("}, \"wakeup_local_ns\": {\"value\": ");
  rb_jnum(stdout, s_wake.value - s_wake0.value);
  printf(", \"method\": \"wake_call_ns.value - no_waiter_ns.value: try_to_wake_up of a sleeper on the waker's "
         "CPU\"}, \"context_switch_ns\": {\"value\": ");
  rb_jnum(stdout, s_sw.value - s_wait0.value);
  printf(", \"method\": \"switch_call_ns.value - wait_eagain_ns.value: futex_wait_queue, __schedule and "
         "context_switch between two threads of one process\"}}\n");
  const rb_stats* all[] = {&s_wake, &s_wake0, &s_sw, &s_wait0};
  for (int i = 0; i < 4; ++i)
    if (!all[i]->trusted) {
      fprintf(stderr, "ctxswitch: refused: %s\n", all[i]->why);
      return RB_EXIT_REFUSED;
    }
  return RB_EXIT_OK;
}
