/* sndbufwait: does freed send-buffer space wake a tap writer blocked in
 * write()?  The measurement behind the model's writer that sleeps for the
 * rest of the run once sock_alloc_send_pskb finds sk_wmem_alloc at the tap's
 * sk_sndbuf (docs/model.md, Limits; models/writer).
 *
 * Reading of 6.18: sock_alloc_send_pskb sets SOCK_NOSPACE in
 * sk->sk_socket->flags and SOCKWQ_ASYNC_NOSPACE, through sk_set_bit, in the
 * wait queue's flags and only with FASYNC; tun_sock_write_space wakes the
 * socket's wait queue only when it clears SOCKWQ_ASYNC_NOSPACE in
 * sk->sk_socket->flags, which only tun_chr_poll sets.  So a writer that
 * never polls sleeps until something else wakes that wait queue: a frame
 * going out through the tap (tun_net_xmit), or a signal.
 *
 * The experiment: in a network namespace of its own with IPv6 off (so that
 * nothing is ever transmitted through the tap), a tap (IFF_TAP|IFF_NO_PI|
 * IFF_NAPI, TUNSETSNDBUF B) and two threads pinned to the first two CPUs
 * this process may use, sharing its fd, write() 60-byte frames of EtherType
 * 0x88B5 (IEEE local experimental; the stack drops them) as fast as they can
 * for S seconds.  A thread whose write() finds the charge at B sleeps; the
 * other one goes on, and each of its writes found the charge below B, its
 * frames being freed (sock_wfree -> tun_sock_write_space) all along.  Then
 * SIGUSR1 (no SA_RESTART) to both threads ends any sleep.
 *
 * Output, one JSON object: per thread its CPU, writes, longest write() in
 * seconds and how many writes the other thread made during it, and the
 * write() it was still in at the end (seconds, and the other's writes
 * since), or null.
 *
 * Usage: sndbufwait [--sndbuf B] [--seconds S]   (B 16384, S 3 by default)
 * Exit: 0 measured, 2 usage, 3 not permitted (needs root: unshare, tun),
 * 5 no /dev/net/tun or the kernel refused the tap, 6 fewer than two CPUs.
 * Cleans up by itself: the tap goes with its fd, the namespace with the
 * process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define NTHR 2

static int fd = -1;
static volatile int stop;
static int cpu_of[NTHR];
static volatile long count[NTHR];
static volatile uint64_t entered[NTHR];      /* the write() in progress began (0: none) */
static volatile long other_at_entry[NTHR];   /* the other thread's writes then */
static uint64_t longest[NTHR];
static long other_during_longest[NTHR];

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void on_usr1(int s) { (void)s; }

static void* writer(void* arg) {
  long i = (long)arg;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu_of[i], &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    perror("sndbufwait: sched_setaffinity");
    exit(6);
  }
  unsigned char f[60];
  memset(f, 0, sizeof f);
  memset(f, 0xff, 6);                 /* broadcast */
  f[6] = 0x02; f[11] = (unsigned char)(i + 1);  /* locally administered source */
  f[12] = 0x88; f[13] = 0xb5;         /* EtherType 0x88B5 */
  while (!stop) {
    other_at_entry[i] = count[1 - i];
    uint64_t t0 = now_ns();
    entered[i] = t0;
    ssize_t r = write(fd, f, sizeof f);
    uint64_t t1 = now_ns();
    entered[i] = 0;
    if (r < 0) {
      if (errno == EINTR) continue;
      perror("sndbufwait: write");
      exit(5);
    }
    if (t1 - t0 > longest[i]) {
      longest[i] = t1 - t0;
      other_during_longest[i] = count[1 - i] - other_at_entry[i];
    }
    count[i] = count[i] + 1;
  }
  return NULL;
}

static int write_file(const char* path, const char* text) {
  int f = open(path, O_WRONLY);
  if (f < 0) return -1;
  ssize_t n = write(f, text, strlen(text));
  close(f);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

int main(int argc, char** argv) {
  int sndbuf = 16384;
  double seconds = 3;
  for (int a = 1; a < argc; a++) {
    char* end = NULL;
    if (!strcmp(argv[a], "--sndbuf") && a + 1 < argc) {
      long v = strtol(argv[++a], &end, 10);
      if (*end || v < 1 || v > 0x7fffffff) { fprintf(stderr, "sndbufwait: --sndbuf: expected 1..2147483647 bytes\n"); return 2; }
      sndbuf = (int)v;
    } else if (!strcmp(argv[a], "--seconds") && a + 1 < argc) {
      seconds = strtod(argv[++a], &end);
      if (*end || !(seconds >= 0.5 && seconds <= 60)) { fprintf(stderr, "sndbufwait: --seconds: expected 0.5..60\n"); return 2; }
    } else {
      fprintf(stderr, "usage: sndbufwait [--sndbuf BYTES] [--seconds S]\n");
      return 2;
    }
  }
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) { perror("sndbufwait: sched_getaffinity"); return 6; }
  int n = 0;
  for (int c = 0; c < CPU_SETSIZE && n < NTHR; c++)
    if (CPU_ISSET(c, &allowed)) cpu_of[n++] = c;
  if (n < NTHR) { fprintf(stderr, "sndbufwait: needs two CPUs, this process may use %d\n", n); return 6; }
  if (unshare(CLONE_NEWNET) != 0) { perror("sndbufwait: unshare(CLONE_NEWNET) (needs root)"); return 3; }
  /* No IPv6 in the namespace: nothing (router or neighbour solicitations,
   * MLD reports) is transmitted through the tap, whose tun_net_xmit would
   * wake the socket's wait queue. */
  if (write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1") != 0 ||
      write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1") != 0) {
    /* A kernel without IPv6 transmits nothing either. */
    if (errno != ENOENT) { perror("sndbufwait: disable_ipv6"); return 3; }
  }
  fd = open("/dev/net/tun", O_RDWR);
  if (fd < 0) { perror("sndbufwait: /dev/net/tun"); return errno == EACCES || errno == EPERM ? 3 : 5; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_NAPI;
  snprintf(ifr.ifr_name, IFNAMSIZ, "sbw0");
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) { perror("sndbufwait: TUNSETIFF (IFF_NAPI)"); return 5; }
  if (ioctl(fd, TUNSETSNDBUF, &sndbuf) != 0) { perror("sndbufwait: TUNSETSNDBUF"); return 5; }
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq up;
  memset(&up, 0, sizeof up);
  snprintf(up.ifr_name, IFNAMSIZ, "%s", ifr.ifr_name);
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &up) != 0) { perror("sndbufwait: SIOCGIFFLAGS"); return 5; }
  up.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &up) != 0) { perror("sndbufwait: SIOCSIFFLAGS"); return 5; }
  close(s);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;  /* no SA_RESTART: a sleeping write() is interrupted */
  sigaction(SIGUSR1, &sa, NULL);
  pthread_t t[NTHR];
  for (long i = 0; i < NTHR; i++)
    if (pthread_create(&t[i], NULL, writer, (void*)i) != 0) { fprintf(stderr, "sndbufwait: pthread_create failed\n"); return 5; }
  struct timespec nap = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
  while (nanosleep(&nap, &nap) != 0 && errno == EINTR) {
  }
  /* The write() each thread is still in, before anything ends it. */
  uint64_t end = now_ns();
  double at_end[NTHR];
  long other_since[NTHR];
  for (int i = 0; i < NTHR; i++) {
    uint64_t e = entered[i];
    /* A write() that began after `end` was read (the thread read its clock
     * later than this one) has been in progress for no time yet: 0, not
     * the difference wrapped around. */
    at_end[i] = e ? (e < end ? (double)(end - e) / 1e9 : 0) : -1;
    other_since[i] = e ? count[1 - i] - other_at_entry[i] : 0;
  }
  stop = 1;
  for (int k = 0; k < 20; k++) {  /* a signal that came between the test of stop and write() */
    for (int i = 0; i < NTHR; i++) pthread_kill(t[i], SIGUSR1);
    usleep(10000);
  }
  for (int i = 0; i < NTHR; i++) pthread_join(t[i], NULL);
  struct utsname u;
  uname(&u);
  printf("{\"kernel\": \"%s\", \"sndbuf\": %d, \"seconds\": %.3f, \"threads\": [", u.release, sndbuf, seconds);
  for (int i = 0; i < NTHR; i++) {
    printf("%s{\"cpu\": %d, \"writes\": %ld, \"longest_write_s\": %.6f, \"other_wrote_during_longest\": %ld, ",
           i ? ", " : "", cpu_of[i], count[i], (double)longest[i] / 1e9, other_during_longest[i]);
    if (at_end[i] >= 0)
      printf("\"in_write_at_end\": {\"for_s\": %.6f, \"other_wrote_since\": %ld}}", at_end[i], other_since[i]);
    else
      printf("\"in_write_at_end\": null}");
  }
  printf("]}\n");
  return 0;
}
