/* pairgaps: the gaps above 1 us in a CLOCK_MONOTONIC spin loop on CPUs 0
 * and 1 at once (one thread each, pinned), for S seconds: one line per gap,
 * "CPU START_NS LENGTH_NS SWITCHED" (SWITCHED 1: getrusage's ru_nivcsw
 * moved, another task of this kernel ran).  stall.c's loop on two CPUs with
 * the gaps' times kept, so that pairgaps.py can tell gaps both vCPUs have at
 * the same instant (the hypervisor's tick) from those of one vCPU alone.
 * cc -O2 -pthread -o pairgaps pairgaps.c; ./pairgaps 5 > gaps.txt
 * (the experiment of docs/validation.md, "A vCPU held by the host"). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>
#define MAXG 2000000
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e9+t.tv_nsec;}
static double T0, DUR;
struct th { int cpu; int n; double *at,*len; char *sw; };
static void* run(void* p){ struct th* t=p; cpu_set_t s; CPU_ZERO(&s); CPU_SET(t->cpu,&s);
  if (pthread_setaffinity_np(pthread_self(),sizeof s,&s)) {perror("pin"); exit(3);}
  struct rusage u; getrusage(RUSAGE_THREAD,&u); long seen=u.ru_nivcsw;
  double last=now(); while (now()<T0) last=now();
  for(;;){ double x=now(); if (x-last>1000 && t->n<MAXG){ getrusage(RUSAGE_THREAD,&u); t->at[t->n]=last-T0; t->len[t->n]=x-last; t->sw[t->n]=u.ru_nivcsw!=seen; seen=u.ru_nivcsw; t->n++; x=now(); }
    last=x; if (x-T0>DUR) break; }
  return 0; }
int main(int c,char**v){ DUR=atof(v[1])*1e9; struct th t[2]; pthread_t p[2]; T0=now()+2e8;
  for(int i=0;i<2;i++){t[i].cpu=i;t[i].n=0;t[i].at=malloc(MAXG*8);t[i].len=malloc(MAXG*8);t[i].sw=malloc(MAXG);pthread_create(&p[i],0,run,&t[i]);}
  for(int i=0;i<2;i++) pthread_join(p[i],0);
  for(int i=0;i<2;i++) for(int k=0;k<t[i].n;k++) printf("%d %.0f %.0f %d\n",i,t[i].at[k],t[i].len[k],t[i].sw[k]);
  return 0; }
