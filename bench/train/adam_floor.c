/* Adam's floor: one fused Adam update (the same arithmetic as Model/Adam.swift) over N float32 parameters, timed
 * alone, to know how much of a training step no sgemm tuning can remove (bench/train/README.md).
 *   gcc -O3 -march=x86-64-v3 -fopenmp -fno-math-errno -o adam_floor bench/train/adam_floor.c -lm
 *   OMP_NUM_THREADS=1 ./adam_floor 3331000; OMP_NUM_THREADS=2 ./adam_floor 3331000
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <omp.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
void step(float*restrict p,float*restrict g,float*restrict m,float*restrict v,long n,float a,float rc2){
  #pragma omp parallel for schedule(static)
  for(long i=0;i<n;i++){float gi=g[i];float mi=0.9f*m[i]+0.1f*gi;float vi=0.999f*v[i]+0.001f*gi*gi;m[i]=mi;v[i]=vi;p[i]-=a*mi/(sqrtf(vi)*rc2+1e-8f);g[i]=0;}
}
int main(int c,char**v_){long n=atol(v_[1]);float*p=calloc(n,4),*g=calloc(n,4),*m=calloc(n,4),*v=calloc(n,4);
for(long i=0;i<n;i++){p[i]=1;g[i]=0.1f;}
for(int r=0;r<3;r++)step(p,g,m,v,n,1e-3f,1.f);
double t=now();int R=50;for(int r=0;r<R;r++)step(p,g,m,v,n,1e-3f,1.f);t=(now()-t)/R;
printf("n=%ld threads=%d %.3f ms/step %.1f GB/s(32B/param)\n",n,omp_get_max_threads(),t*1e3,32.0*n/t/1e9);}
