#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/syscall.h>
static volatile int mode = 0, stop = 0;
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e9+t.tv_nsec;}
static void pin(int c){cpu_set_t s;CPU_ZERO(&s);CPU_SET(c,&s);pthread_setaffinity_np(pthread_self(),sizeof s,&s);}
static char bufa[65536], bufb[65536];
static void *load(void *a){ pin(0); int fd=open("/dev/null",O_WRONLY); volatile double x=1.0;
  while(!stop){ switch(mode){
    case 0: usleep(100); break;                       /* idle */
    case 1: for(int i=0;i<1000;i++) __builtin_ia32_pause(); break;  /* pause spin */
    case 2: for(int i=0;i<1000;i++) x=x*1.0000001+0.5; break;        /* ALU */
    case 3: memcpy(bufa,bufb,sizeof bufa); __asm__ volatile(""::"r"(bufa):"memory"); break; /* L2 copy */
    case 4: for(int i=0;i<100;i++) write(fd,bufa,60); break;   /* syscalls */
    case 5: for(int i=0;i<100;i++) syscall(SYS_getppid); break;
  }} return 0; }
int main(void){
  pthread_t t; pthread_create(&t,0,load,0); pin(1);
  /* a private working set on CPU 1: 16 KB random chase (L1) */
  enum{N=4096}; static size_t next[N]; size_t perm[N]; for(size_t i=0;i<N;i++)perm[i]=i;
  srand(1); for(size_t i=N-1;i>0;i--){size_t j=rand()%(i+1);size_t x=perm[i];perm[i]=perm[j];perm[j]=x;}
  for(size_t i=0;i<N;i++) next[perm[i]]=perm[(i+1)%N];
  const char*names[]={"idle","pause","alu","memcpy64K","write/dev/null","getppid"};
  for(int round=0;round<3;round++) for(int m=0;m<6;m++){ mode=m; usleep(20000);
    enum{S=4000}; static double d[S]; size_t p=0;
    for(int s=0;s<S;s++){ double a=now(); for(int k=0;k<2000;k++) p=next[p]; d[s]=now()-a; }
    /* sort */ for(int i=1;i<S;i++){double v=d[i];int j=i-1;while(j>=0&&d[j]>v){d[j+1]=d[j];j--;}d[j+1]=v;}
    printf("round %d %-16s p10 %6.0f p50 %6.0f p90 %6.0f ns (%zu)\n",round,names[m],d[S/10],d[S/2],d[9*S/10],p%2);
  }
  stop=1; pthread_join(t,0); return 0; }
