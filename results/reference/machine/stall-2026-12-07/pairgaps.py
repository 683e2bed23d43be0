#!/usr/bin/python3
"""pairgaps.py GAPS.txt: per CPU the gaps' quantiles and those over 60 us;
per window of one period (1000.07 us) the time each CPU lost (windows with
a switch to another task left out) and how far apart the two CPUs' losses
are; per CPU the windows' quantiles."""
import sys, collections
g=[[],[]]
for l in open(sys.argv[1]):
    c,a,n,s=l.split(); g[int(c)].append((float(a),float(n),int(s)))
P=1000070.0
for c in (0,1):
    L=sorted(x[1] for x in g[c]); n=len(L)
    q=lambda p: L[min(n-1,int(p*n))]
    print("cpu",c,"gaps",n,"switched",sum(x[2] for x in g[c]),"p50 %.0f p90 %.0f p99 %.0f p999 %.0f max %.0f"%(q(.5),q(.9),q(.99),q(.999),L[-1]))
    big=[x for x in g[c] if x[1]>60000]
    print("  gaps >60us:",len(big), [(round(x[0]/1e6,3), round(x[1]/1e3,1), x[2]) for x in big[:15]])
# per-window (1 ms) lost time per cpu, and difference
W=collections.defaultdict(lambda:[0.0,0.0])
for c in (0,1):
    for a,n,s in g[c]:
        if s: continue
        W[int(a//P)][c]+=n
ks=sorted(W); d=sorted(abs(W[k][0]-W[k][1]) for k in ks)
m=len(d)
print("windows",m,"|lost0-lost1| p50 %.0f p90 %.0f p99 %.0f max %.0f"%(d[m//2],d[int(.9*m)],d[int(.99*m)],d[-1]))
for th in (20e3,46e3,92e3,180e3):
    print("  windows with |diff| > %.0f us: %d"%(th/1e3, sum(1 for x in d if x>th)))
# per cpu per-window quantiles
for c in (0,1):
    v=sorted(W[k][c] for k in ks)
    print("cpu",c,"per-window p50 %.0f p90 %.0f p97 %.0f p99 %.0f p999 %.0f max %.0f"%(v[m//2],v[int(.9*m)],v[int(.97*m)],v[int(.99*m)],v[int(.999*m)],v[-1]))
