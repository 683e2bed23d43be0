/* taprx: a tap device whose frames are read and discarded, so that a bridge
 * forwarding into it reaches a steady state (every skb freed after its
 * read) instead of filling the tap's ring.  Used by footprint.py as the
 * second port of the bridged workload.
 *
 * Protocol on stdin/stdout, one line each:
 *   out: READY                the tap exists (IFF_TAP|IFF_NO_PI) and is read
 *   in:  EXIT (or EOF)        stop reading, close the tap, print the count
 *   out: READ <frames>
 * usage: taprx --dev NAME [--cpu N]
 * exit: 0; 2 usage; 20 cannot open /dev/net/tun; 21 TUNSETIFF failed;
 *       22 cannot pin to the CPU.
 * Build: cc -O2 -pthread -o taprx taprx.c */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int fd = -1;
static atomic_long frames;
static atomic_int stop;

static void* reader(void* arg) {
  (void)arg;
  char buf[2048];
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (!atomic_load(&stop)) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r > 0) {
      atomic_fetch_add(&frames, 1);
    } else if (r < 0 && errno == EAGAIN) {
      poll(&p, 1, 50);
    } else if (r < 0 && errno != EINTR) {
      break;
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  const char* dev = NULL;
  int cpu = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--dev")) dev = argv[i + 1];
    else if (!strcmp(argv[i], "--cpu")) cpu = atoi(argv[i + 1]);
    else dev = NULL, i = argc;
  }
  if (!dev || argc % 2 == 0) {
    fprintf(stderr, "usage: taprx --dev NAME [--cpu N]\n");
    return 2;
  }
  if (cpu >= 0) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    if (sched_setaffinity(0, sizeof s, &s)) {
      fprintf(stderr, "taprx: cannot run on CPU %d: %s\n", cpu, strerror(errno));
      return 22;
    }
  }
  fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    fprintf(stderr, "taprx: cannot open /dev/net/tun: %s\n", strerror(errno));
    return 20;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    fprintf(stderr, "taprx: TUNSETIFF %s failed: %s\n", dev, strerror(errno));
    return 21;
  }
  pthread_t t;
  pthread_create(&t, NULL, reader, NULL);
  printf("READY\n");
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin) && strncmp(line, "EXIT", 4) != 0) {
  }
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  printf("READ %ld\n", atomic_load(&frames));
  close(fd);
  return 0;
}
