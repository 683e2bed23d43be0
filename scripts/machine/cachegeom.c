/* cachegeom: cache geometry of this CPU from cpuid and from sysfs.
 *
 * cpuid (x86 only):
 *   Intel (and any vendor that fills it): leaf 4, "deterministic cache
 *     parameters", one subleaf per cache until type 0: level, type, ways
 *     (EBX[31:22]+1), partitions (EBX[21:12]+1), line (EBX[11:0]+1), sets
 *     (ECX+1), threads sharing the cache (EAX[25:14]+1), fully associative
 *     (EAX bit 9).  size = ways * partitions * line * sets.
 *   AMD: leaf 0x8000001D, the same layout, when the CPU advertises TOPOEXT
 *     (0x80000001 ECX bit 22); and always the legacy leaves 0x80000005 (L1d
 *     in ECX, L1i in EDX: size KiB [31:24], ways [23:16] with 0xFF = fully
 *     associative, line [7:0]) and 0x80000006 (L2 in ECX: size KiB [31:16],
 *     associativity code [15:12], line [7:0]; L3 in EDX: size in 512 KiB
 *     units [31:18], code [15:12], line [7:0]).  The 4-bit associativity
 *     codes are decoded with the table of AMD's PPR (code 9 means "see
 *     0x8000001D"; the legacy leaves do not give sharing).
 *   Intel's 0x80000006 gives L2 only (size KiB [31:16], code [15:12], line).
 * sysfs: /sys/devices/system/cpu/cpu0/cache/index* (level, type, size,
 *   ways_of_associativity, coherency_line_size, number_of_sets,
 *   shared_cpu_list), when the kernel exposes it.
 *
 * usage: cachegeom [--sysfs DIR] [--cpuid LEAF.SUB=EAX,EBX,ECX,EDX ...]
 *   --cpuid replaces the cpuid instruction by the given register values
 *   (hex; leaves not given read as zeros), to test the decoding;
 *   --sysfs reads another directory instead of /sys/devices/system/cpu/cpu0/cache
 *   ("none": skip sysfs).
 * prints one JSON object: {"vendor", "family", "model", "hypervisor",
 *   "cpuid": {"source", "caches": [...]}, "legacy": [...], "sysfs": {...}}
 * each cache: {"level", "type": "data"|"instruction"|"unified", "size_bytes",
 *   "ways" (null = fully associative or unknown), "line_bytes", "sets"
 *   (null when unknown), "sharing_threads" (null when the leaf does not say),
 *   "source"}.
 * exit: 0, 2 usage or bad --cpuid value.
 * Build: cc -O2 -o cachegeom cachegeom.c */
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define HAVE_CPUID 1
#endif

#define MAX_FAKE 64
static struct {
  uint32_t leaf, sub, r[4];
} fake[MAX_FAKE];
static int nfake = -1; /* -1: use the real instruction */

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
  r[0] = r[1] = r[2] = r[3] = 0;
  if (nfake >= 0) {
    for (int i = 0; i < nfake; ++i)
      if (fake[i].leaf == leaf && fake[i].sub == sub) memcpy(r, fake[i].r, sizeof fake[i].r);
    return;
  }
#ifdef HAVE_CPUID
  /* Hypervisor leaves (0x4000xxxx) have no maximum in leaf 0. */
  if ((leaf & 0xf0000000u) != 0x40000000u) {
    uint32_t max = __get_cpuid_max(leaf & 0x80000000u, NULL);
    if (leaf > max) return;
  }
  __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

static const char* type_name(unsigned t) {
  return t == 1 ? "data" : t == 2 ? "instruction" : t == 3 ? "unified" : "unknown";
}

static void jstr(const char* s) {
  putchar('"');
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static void jnum_or_null(long long v) {
  if (v < 0)
    printf("null");
  else
    printf("%lld", v);
}

static int first;
static void cache_json(int level, const char* type, long long size, long long ways, long long line, long long sets,
                       long long sharing, const char* source) {
  printf("%s\n    {\"level\": %d, \"type\": \"%s\", \"size_bytes\": ", first ? "" : ",", level, type);
  first = 0;
  jnum_or_null(size);
  printf(", \"ways\": ");
  jnum_or_null(ways);
  printf(", \"line_bytes\": ");
  jnum_or_null(line);
  printf(", \"sets\": ");
  jnum_or_null(sets);
  printf(", \"sharing_threads\": ");
  jnum_or_null(sharing);
  printf(", \"source\": ");
  jstr(source);
  printf("}");
}

/* Leaf 4 / 0x8000001D layout.  Returns the number of caches printed. */
static int deterministic_leaf(uint32_t leaf, const char* source) {
  int count = 0;
  for (uint32_t sub = 0; sub < 32; ++sub) {
    uint32_t r[4];
    cpuid(leaf, sub, r);
    unsigned type = r[0] & 0x1f;
    if (type == 0) break;
    int level = (r[0] >> 5) & 7;
    int fully = (r[0] >> 9) & 1;
    long long sharing = ((r[0] >> 14) & 0xfff) + 1;
    long long ways = ((r[1] >> 22) & 0x3ff) + 1;
    long long parts = ((r[1] >> 12) & 0x3ff) + 1;
    long long line = (r[1] & 0xfff) + 1;
    long long sets = (long long)r[2] + 1;
    long long size = ways * parts * line * sets;
    cache_json(level, type_name(type), size, fully ? -1 : ways, line, sets, sharing, source);
    count++;
  }
  return count;
}

/* AMD's 4-bit associativity code (0x80000006 L2/L3); -1 fully, -2 unknown. */
static long long amd_assoc(unsigned code) {
  static const long long t[16] = {0, 1, 2, 3, 4, 6, 8, -2, 16, -2, 32, 48, 64, 96, 128, -1};
  return t[code & 0xf];
}
/* Intel's code for 0x80000006 ECX[15:12]. */
static long long intel_assoc(unsigned code) {
  static const long long t[16] = {0, 1, 2, -2, 4, -2, 8, -2, 16, -2, -2, -2, -2, -2, -2, -1};
  return t[code & 0xf];
}

static void legacy_cache(int level, const char* type, long long size, long long ways, long long line,
                         const char* source) {
  long long sets = ways > 0 && line > 0 ? size / (ways * line) : -1;
  cache_json(level, type, size, ways, line, sets, -1, source);
}

static void read_trim(const char* dir, const char* file, char* out, size_t len) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, file);
  out[0] = 0;
  FILE* f = fopen(p, "r");
  if (!f) return;
  if (fgets(out, (int)len, f)) out[strcspn(out, "\n")] = 0;
  fclose(f);
}

static long long sysfs_size(const char* s) {
  char* end;
  long long v = strtoll(s, &end, 10);
  if (end == s) return -1;
  if (*end == 'K') v *= 1024;
  else if (*end == 'M') v *= 1024 * 1024;
  else if (*end == 'G') v *= 1024LL * 1024 * 1024;
  return v;
}

/* Threads in a cpulist like "0-3,8-11". */
static long long cpulist_count(const char* s) {
  long long n = 0;
  while (*s) {
    char* end;
    long a = strtol(s, &end, 10);
    if (end == s) return -1;
    long b = a;
    s = end;
    if (*s == '-') {
      b = strtol(s + 1, &end, 10);
      if (end == s + 1) return -1;
      s = end;
    }
    n += b - a + 1;
    if (*s == ',') s++;
    else if (*s) return -1;
  }
  return n;
}

static int cmp_str(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

static void sysfs(const char* dir) {
  printf("  \"sysfs\": {\"dir\": ");
  jstr(dir);
  DIR* d = strcmp(dir, "none") ? opendir(dir) : NULL;
  if (!d) {
    printf(", \"present\": false, \"caches\": []}");
    return;
  }
  char* names[64];
  int n = 0;
  struct dirent* e;
  while ((e = readdir(d)) && n < 64)
    if (!strncmp(e->d_name, "index", 5)) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], cmp_str);
  printf(", \"present\": true, \"caches\": [");
  first = 1;
  for (int i = 0; i < n; ++i) {
    char sub[512], v[256];
    snprintf(sub, sizeof sub, "%s/%s", dir, names[i]);
    read_trim(sub, "level", v, sizeof v);
    int level = atoi(v);
    char type[32];
    read_trim(sub, "type", v, sizeof v);
    snprintf(type, sizeof type, "%s", !strcmp(v, "Data") ? "data" : !strcmp(v, "Instruction") ? "instruction"
                                      : !strcmp(v, "Unified")                                   ? "unified"
                                                                                                : "unknown");
    read_trim(sub, "size", v, sizeof v);
    long long size = sysfs_size(v);
    read_trim(sub, "ways_of_associativity", v, sizeof v);
    long long ways = v[0] ? atoll(v) : -1;
    if (ways == 0) ways = -1;
    read_trim(sub, "coherency_line_size", v, sizeof v);
    long long line = v[0] ? atoll(v) : -1;
    read_trim(sub, "number_of_sets", v, sizeof v);
    long long sets = v[0] ? atoll(v) : -1;
    read_trim(sub, "shared_cpu_list", v, sizeof v);
    long long sharing = v[0] ? cpulist_count(v) : -1;
    char src[600];
    snprintf(src, sizeof src, "sysfs %s", sub);
    cache_json(level, type, size, ways, line, sets, sharing, src);
    free(names[i]);
  }
  printf("\n  ]}");
}

static int parse_fake(const char* s) {
  if (nfake < 0) nfake = 0;
  if (nfake == MAX_FAKE) return -1;
  unsigned long leaf, sub, r0, r1, r2, r3;
  char tail;
  if (sscanf(s, "%lx.%lx=%lx,%lx,%lx,%lx%c", &leaf, &sub, &r0, &r1, &r2, &r3, &tail) != 6) return -1;
  if (leaf > 0xffffffffUL || sub > 0xffffffffUL || r0 > 0xffffffffUL || r1 > 0xffffffffUL ||
      r2 > 0xffffffffUL || r3 > 0xffffffffUL)
    return -1;
  fake[nfake].leaf = (uint32_t)leaf;
  fake[nfake].sub = (uint32_t)sub;
  fake[nfake].r[0] = (uint32_t)r0;
  fake[nfake].r[1] = (uint32_t)r1;
  fake[nfake].r[2] = (uint32_t)r2;
  fake[nfake].r[3] = (uint32_t)r3;
  nfake++;
  return 0;
}

int main(int argc, char** argv) {
  const char* sysdir = "/sys/devices/system/cpu/cpu0/cache";
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--sysfs") && i + 1 < argc) {
      sysdir = argv[++i];
    } else if (!strcmp(argv[i], "--cpuid") && i + 1 < argc) {
      if (parse_fake(argv[++i])) {
        fprintf(stderr, "cachegeom: --cpuid: expected LEAF.SUB=EAX,EBX,ECX,EDX in hex, found '%s'\n", argv[i]);
        return 2;
      }
    } else {
      fprintf(stderr, "usage: cachegeom [--sysfs DIR|none] [--cpuid LEAF.SUB=EAX,EBX,ECX,EDX ...]\n");
      return 2;
    }
  }
  uint32_t r[4];
  char vendor[13] = {0};
  cpuid(0, 0, r);
  uint32_t max_basic = r[0];
  memcpy(vendor, &r[1], 4);
  memcpy(vendor + 4, &r[3], 4);
  memcpy(vendor + 8, &r[2], 4);
  for (int i = 0; i < 12; ++i)
    if (vendor[i] && !isprint((unsigned char)vendor[i])) vendor[i] = '?';
  cpuid(1, 0, r);
  unsigned fam = (r[0] >> 8) & 0xf, model = (r[0] >> 4) & 0xf;
  if (fam == 0xf) fam += (r[0] >> 20) & 0xff;
  if (fam == 0x6 || fam >= 0xf) model |= ((r[0] >> 16) & 0xf) << 4;
  int hv = (r[2] >> 31) & 1;
  char hvname[13] = {0};
  if (hv) {
    cpuid(0x40000000, 0, r);
    memcpy(hvname, &r[1], 4);
    memcpy(hvname + 4, &r[2], 4);
    memcpy(hvname + 8, &r[3], 4);
    for (int i = 0; i < 12; ++i)
      if (hvname[i] && !isprint((unsigned char)hvname[i])) hvname[i] = '?';
  }
  cpuid(0x80000000, 0, r);
  uint32_t max_ext = r[0] >= 0x80000000u ? r[0] : 0;
  int amd = !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
  int topoext = 0;
  if (max_ext >= 0x80000001u) {
    cpuid(0x80000001, 0, r);
    topoext = (r[2] >> 22) & 1;
  }

  printf("{\n  \"vendor\": ");
  jstr(vendor);
  printf(",\n  \"family\": %u,\n  \"model\": %u,\n  \"hypervisor\": ", fam, model);
  if (hv) jstr(hvname);
  else printf("null");
  printf(",\n  \"max_leaf\": \"0x%x\",\n  \"max_ext_leaf\": \"0x%x\",\n  \"topoext\": %s,\n", max_basic, max_ext,
         topoext ? "true" : "false");

  /* The deterministic leaf: complete geometry including sharing. */
  printf("  \"cpuid\": {\"caches\": [");
  first = 1;
  int n = 0;
  const char* src = "none";
  if (amd && topoext && max_ext >= 0x8000001Du) {
    n = deterministic_leaf(0x8000001D, "cpuid 0x8000001D");
    if (n) src = "cpuid 0x8000001D";
  }
  if (!n && max_basic >= 4) {
    n = deterministic_leaf(4, "cpuid 4");
    if (n) src = "cpuid 4";
  }
  printf("%s], \"source\": \"%s\"", n ? "\n  " : "", src);
  if (!n)
    printf(", \"why_empty\": \"%s\"",
           amd ? (topoext ? "leaf 0x8000001D returned no cache (type 0 at subleaf 0)"
                          : "TOPOEXT is not advertised (0x80000001 ECX bit 22 clear), so leaf 0x8000001D is "
                            "not defined; leaf 4 returned no cache")
               : "leaf 4 returned no cache (type 0 at subleaf 0)");
  printf("},\n");

  /* Legacy extended leaves: sizes, ways, lines; no sharing. */
  printf("  \"legacy\": [");
  first = 1;
  if (amd && max_ext >= 0x80000005u) {
    cpuid(0x80000005, 0, r);
    long long ways_d = (r[2] >> 16) & 0xff, ways_i = (r[3] >> 16) & 0xff;
    if ((r[2] >> 24) & 0xff)
      legacy_cache(1, "data", (long long)((r[2] >> 24) & 0xff) * 1024, ways_d == 0xff ? -1 : ways_d, r[2] & 0xff,
                   "cpuid 0x80000005 ECX");
    if ((r[3] >> 24) & 0xff)
      legacy_cache(1, "instruction", (long long)((r[3] >> 24) & 0xff) * 1024, ways_i == 0xff ? -1 : ways_i,
                   r[3] & 0xff, "cpuid 0x80000005 EDX");
  }
  if (max_ext >= 0x80000006u) {
    cpuid(0x80000006, 0, r);
    long long l2 = (long long)((r[2] >> 16) & 0xffff) * 1024;
    unsigned code2 = (r[2] >> 12) & 0xf;
    long long w2 = amd ? amd_assoc(code2) : intel_assoc(code2);
    if (l2 && code2) legacy_cache(2, "unified", l2, w2 < 0 ? -1 : w2, r[2] & 0xff, "cpuid 0x80000006 ECX");
    if (amd) {
      long long l3 = (long long)((r[3] >> 18) & 0x3fff) * 512 * 1024;
      unsigned code3 = (r[3] >> 12) & 0xf;
      long long w3 = amd_assoc(code3);
      if (l3 && code3) legacy_cache(3, "unified", l3, w3 < 0 ? -1 : w3, r[3] & 0xff, "cpuid 0x80000006 EDX");
    }
  }
  printf("%s],\n", first ? "" : "\n  ");
  if (max_ext >= 0x80000006u) {
    cpuid(0x80000006, 0, r);
    printf("  \"legacy_assoc_codes\": {\"l2\": %u, \"l3\": %u},\n", (r[2] >> 12) & 0xf, (r[3] >> 12) & 0xf);
  }
  sysfs(sysdir);
  printf("\n}\n");
  return 0;
}
