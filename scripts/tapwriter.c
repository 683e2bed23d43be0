/* tapwriter: the writer helper of scripts/capture-trace.
 *
 * Creates a tap device (IFF_TAP|IFF_NO_PI, plus IFF_NAPI with --napi) and
 * optionally attaches a second tap (--peer, the far side of a bridge; it is
 * opened only so that it has carrier, nobody reads it, unless --drain-every
 * B: then the one writer thread, after every B of its writes, read()s every
 * frame queued on the peer, which frees the skbs it built, on its own CPU).  Starts N writer
 * threads, each pinned to its CPU, that share the one tap fd (one queue) and
 * write() Ethernet frames of EtherType 0x88B5 (IEEE 802 local experimental),
 * so that no IP traffic exists.
 *
 * Protocol with the controlling script (stdin/stdout, one line each):
 *   out: READY <tid>,<tid>,...      threads are pinned and parked on a barrier
 *   in:  GO                         start writing
 *   out: DONE <frames> <elapsed_ns> <errors>
 *   in:  GO                         another round of the same writes (the
 *                                   frame numbers start again at 0), DONE ...
 *   in:  EXIT (or EOF)              close the devices and exit
 * The script sets its tracing filters on the reported tids between READY and
 * GO, so the trace holds every write() of the writers and no other syscall.
 *
 * Exit statuses: 0 ok, 2 usage, 20 cannot open /dev/net/tun, 21 TUNSETIFF
 * failed (e.g. IFF_NAPI unsupported), 22 cannot pin a thread to its CPU,
 * 23 a write() failed, 24 protocol error on stdin.
 *
 * Built by capture-trace with: cc -O2 -pthread -o tapwriter tapwriter.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

static int tap_fd = -1;
static int nthreads = 1;
static int cpus[MAX_THREADS];
static int frame_bytes = 60;
static long count = 0;          /* frames per thread, 0 = use duration */
static double duration_s = 0;   /* seconds, used when count == 0 */
static unsigned char dst[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static unsigned char src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

static pthread_barrier_t ready_barrier, go_barrier, done_barrier;
static volatile int quit; /* set before the go barrier: the threads leave */
static pid_t tids[MAX_THREADS];
static long written[MAX_THREADS];
static int werr[MAX_THREADS];
static int pin_failed;
static int peer_fd = -1;
static long drain_every = 0;    /* --drain-every B: read the peer after B writes */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_mac(const char* s, unsigned char* m) {
  unsigned v[6];
  if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return -1;
  for (int i = 0; i < 6; i++) {
    if (v[i] > 255) return -1;
    m[i] = (unsigned char)v[i];
  }
  return 0;
}

static int open_tap(const char* name, short flags) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "tapwriter: cannot open /dev/net/tun: %s\n", strerror(errno));
    exit(20);
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = flags;
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    fprintf(stderr, "tapwriter: TUNSETIFF %s flags 0x%x failed: %s\n", name, flags, strerror(errno));
    exit(21);
  }
  return fd;
}

static void* writer(void* arg) {
  int i = (int)(intptr_t)arg;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpus[i], &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) pin_failed = 1;
  tids[i] = (pid_t)syscall(SYS_gettid);
  unsigned char* frame = calloc(1, (size_t)frame_bytes);
  memcpy(frame, dst, 6);
  memcpy(frame + 6, src, 6);
  frame[12] = 0x88;
  frame[13] = 0xB5;
  frame[14] = (unsigned char)i; /* writer index, then a sequence number */
  pthread_barrier_wait(&ready_barrier);
  for (;;) {
    pthread_barrier_wait(&go_barrier);
    if (quit) break;
    uint64_t end = duration_s > 0 ? now_ns() + (uint64_t)(duration_s * 1e9) : 0;
    long n = 0;
    werr[i] = 0;
    for (;;) {
      if (count > 0 ? n >= count : now_ns() >= end) break;
      memcpy(frame + 15, &n, sizeof n);
      ssize_t r = write(tap_fd, frame, (size_t)frame_bytes);
      if (r != frame_bytes) {
        werr[i] = r < 0 ? errno : EIO;
        break;
      }
      n++;
      if (drain_every > 0 && n % drain_every == 0) {
        /* The bridge forwarded each frame to the peer's queue inside its
         * write(): read them all back (non-blocking, until EAGAIN). */
        unsigned char buf[2048];
        while (read(peer_fd, buf, sizeof buf) > 0) {
        }
        if (errno != EAGAIN) {
          werr[i] = errno;
          break;
        }
      }
    }
    written[i] = n;
    pthread_barrier_wait(&done_barrier);
  }
  free(frame);
  return NULL;
}

static void usage(void) {
  fprintf(stderr,
          "usage: tapwriter --dev NAME [--napi] [--peer NAME [--drain-every B]] [--threads N] [--cpus 0,1]\n"
          "                 [--frame-bytes B] (--count N | --duration S) [--dst MAC] [--src MAC]\n");
  exit(2);
}

int main(int argc, char** argv) {
  const char* dev = NULL;
  const char* peer = NULL;
  const char* cpulist = "0";
  int napi = 0;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--napi")) { napi = 1; continue; }
    if (!v) usage();
    if (!strcmp(a, "--dev")) dev = v;
    else if (!strcmp(a, "--peer")) peer = v;
    else if (!strcmp(a, "--drain-every")) drain_every = atol(v);
    else if (!strcmp(a, "--threads")) nthreads = atoi(v);
    else if (!strcmp(a, "--cpus")) cpulist = v;
    else if (!strcmp(a, "--frame-bytes")) frame_bytes = atoi(v);
    else if (!strcmp(a, "--count")) count = atol(v);
    else if (!strcmp(a, "--duration")) duration_s = atof(v);
    else if (!strcmp(a, "--dst")) { if (parse_mac(v, dst)) usage(); }
    else if (!strcmp(a, "--src")) { if (parse_mac(v, src)) usage(); }
    else usage();
    i++;
  }
  if (!dev || nthreads < 1 || nthreads > MAX_THREADS || frame_bytes < 60 || frame_bytes > 1500 ||
      (count <= 0 && duration_s <= 0) || drain_every < 0 || (drain_every > 0 && (!peer || nthreads != 1)))
    usage();
  /* CPU list: comma separated; thread i runs on entry i mod length. */
  int ncpu = 0, list[MAX_THREADS];
  char* copy = strdup(cpulist);
  for (char* tok = strtok(copy, ","); tok && ncpu < MAX_THREADS; tok = strtok(NULL, ",")) {
    char* end;
    long c = strtol(tok, &end, 10);
    if (*end || c < 0 || c >= CPU_SETSIZE) usage();
    list[ncpu++] = (int)c;
  }
  free(copy);
  if (ncpu == 0) usage();
  for (int i = 0; i < nthreads; i++) cpus[i] = list[i % ncpu];

  tap_fd = open_tap(dev, IFF_TAP | IFF_NO_PI | (napi ? IFF_NAPI : 0));
  peer_fd = peer ? open_tap(peer, IFF_TAP | IFF_NO_PI) : -1;
  if (peer_fd >= 0 && drain_every > 0 && fcntl(peer_fd, F_SETFL, O_NONBLOCK) != 0) {
    fprintf(stderr, "tapwriter: cannot make %s non-blocking: %s\n", peer, strerror(errno));
    exit(20);
  }

  pthread_barrier_init(&ready_barrier, NULL, (unsigned)nthreads + 1);
  pthread_barrier_init(&go_barrier, NULL, (unsigned)nthreads + 1);
  pthread_barrier_init(&done_barrier, NULL, (unsigned)nthreads + 1);
  pthread_t th[MAX_THREADS];
  for (int i = 0; i < nthreads; i++) pthread_create(&th[i], NULL, writer, (void*)(intptr_t)i);
  pthread_barrier_wait(&ready_barrier);
  if (pin_failed) {
    fprintf(stderr, "tapwriter: cannot pin a writer thread to CPU list %s\n", cpulist);
    exit(22);
  }
  printf("READY");
  for (int i = 0; i < nthreads; i++) printf("%c%d", i ? ',' : ' ', (int)tids[i]);
  printf("\n");
  fflush(stdout);

  char line[64];
  if (!fgets(line, sizeof line, stdin) || strncmp(line, "GO", 2) != 0) {
    fprintf(stderr, "tapwriter: expected GO on stdin\n");
    exit(24);
  }
  int errors = 0;
  do {
    if (strncmp(line, "GO", 2) != 0) continue; /* anything else but EXIT: ignored */
    uint64_t t0 = now_ns();
    pthread_barrier_wait(&go_barrier);
    pthread_barrier_wait(&done_barrier);
    uint64_t elapsed = now_ns() - t0;
    long total = 0;
    int round_errors = 0;
    for (int i = 0; i < nthreads; i++) {
      total += written[i];
      if (werr[i]) {
        round_errors++;
        fprintf(stderr, "tapwriter: thread %d write() failed: %s\n", i, strerror(werr[i]));
      }
    }
    errors += round_errors;
    printf("DONE %ld %llu %d\n", total, (unsigned long long)elapsed, round_errors);
    fflush(stdout);
    /* Keep the devices until the script has stopped tracing: closing the
     * peer frees the frames queued on it, which would add kfree_skb events. */
  } while (fgets(line, sizeof line, stdin) && strncmp(line, "EXIT", 4) != 0);
  quit = 1;
  pthread_barrier_wait(&go_barrier);
  for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
  close(tap_fd);
  if (peer_fd >= 0) close(peer_fd);
  return errors ? 23 : 0;
}
