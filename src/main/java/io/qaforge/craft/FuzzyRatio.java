package io.qaforge.craft;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * thefuzz 0.22.1 {@code fuzz.token_set_ratio(a, b)} with its default processing, as CRAFT's clean
 * step uses it (pipeline doc, section 7). Plain Java, no Spark.
 *
 * <p><b>Why a hand-written port.</b> The maintained Java port {@code me.xdrop:fuzzywuzzy:1.4.0} was
 * checked against the reference table of {@code FuzzyRatioTest} and differs in 8 of 46 pairs, and
 * at the threshold itself: it keeps Latin-1 letters ({@code "café crème"} vs {@code "caf crme"}:
 * 89, thefuzz 100), keeps {@code _} (53 vs 100), counts UTF-16 units instead of code points, and
 * rounds half up (a raw 84.5 becomes 85, thefuzz 84). No other Maven Central library offers
 * token-set ratio; commons-text's {@code LongestCommonSubsequence} is O(n·m) on UTF-16 units. The
 * port is small: processing, the token-set decomposition of rapidfuzz 3.x ({@code
 * fuzz_detail::token_set_ratio}) and the Indel distance by the bit-parallel LCS of Hyyrö (2004), as
 * rapidfuzz computes it.
 *
 * <p><b>Semantics</b> (thefuzz 0.22.1 on rapidfuzz 3.x, C++ implementation):
 *
 * <ol>
 *   <li>Processing ({@code utils.full_process(s, force_ascii=True)}): drop code points 128..255
 *       (only those: Greek, Cyrillic, CJK stay), then every code point that is not alphanumeric in
 *       Python's sense ({@code str.isalnum}: letters, decimal digits, other numerics such as {@code
 *       Ⅻ}; not {@code _}) becomes a space, letters are lower-cased (simple case mapping), and the
 *       result is trimmed.
 *   <li>Tokens: split on spaces, deduplicated. Either side without tokens scores 0 (so empty and
 *       punctuation-only strings score 0, even against themselves).
 *   <li>With intersection {@code I} and differences {@code A-B}, {@code B-A} (each sorted by code
 *       points and joined by one space): 100 if {@code I} is non-empty and a difference is empty;
 *       otherwise the maximum of {@code ratio(I, I+" "+(A-B))}, {@code ratio(I, I+" "+(B-A))} and
 *       {@code ratio(I+" "+(A-B), I+" "+(B-A))}, where {@code ratio(x, y) = 100 - 100 * indel(x, y)
 *       / (|x| + |y|)} on code points and {@code indel} is the insert/delete distance.
 *   <li>The result is rounded half to even (Python's {@code round}): a raw 84.5 is 84.
 * </ol>
 *
 * <p>For many comparisons of the same strings, {@link #prepare} once and use {@link
 * #tokenSetRatio(Prepared, Prepared, int)}: the cut-off skips the LCS when a bound already rules
 * the pair out. Instances of this class hold no state; all methods are thread-safe.
 */
public final class FuzzyRatio {
  private static final int SPACE = ' ';
  private static final int HISTOGRAM = 64;

  private FuzzyRatio() {}

  /** A processed string: its distinct tokens as code points, ready for comparisons. */
  public static final class Prepared implements Serializable {
    private static final long serialVersionUID = 1L;
    // In (hash, code points) order: merging two token lists compares longs, mostly.
    private final int[][] tokens;
    private final long[] hashes;
    private final int[] codePointOrder; // token indices in code point order
    // Code point counts of the tokens (no spaces), folded into HISTOGRAM buckets, and the length of
    // the tokens joined by spaces: enough to bound the third ratio without comparing tokens.
    private final int[] histogram;
    private final int length;

    /** {@code distinct}: distinct tokens in code point order. */
    private Prepared(List<int[]> distinct) {
      int[][] t = distinct.toArray(new int[0][]);
      long[] h = new long[t.length];
      Integer[] order = new Integer[t.length];
      for (int k = 0; k < t.length; k++) {
        h[k] = hash(t[k]);
        order[k] = k;
      }
      Arrays.sort(order, (x, y) -> compare(h[x], t[x], h[y], t[y]));
      this.tokens = new int[t.length][];
      this.hashes = new long[t.length];
      this.codePointOrder = new int[t.length];
      this.histogram = new int[HISTOGRAM];
      int n = Math.max(0, t.length - 1);
      for (int k = 0; k < t.length; k++) {
        tokens[k] = t[order[k]];
        hashes[k] = h[order[k]];
        codePointOrder[order[k]] = k;
        n += tokens[k].length;
        for (int cp : tokens[k]) {
          histogram[bucket(cp)]++;
        }
      }
      this.length = n;
    }

    /** Whether processing left no token (then every ratio with this string is 0). */
    public boolean isEmpty() {
      return tokens.length == 0;
    }

    /** The distinct processed tokens in code point order (what MinHash blocking hashes). */
    public List<String> tokens() {
      List<String> out = new ArrayList<>(tokens.length);
      for (int k : codePointOrder) {
        out.add(new String(tokens[k], 0, tokens[k].length));
      }
      return out;
    }
  }

  /** {@code fuzz.token_set_ratio(a, b)}: 0..100; null counts as no tokens (thefuzz returns 0). */
  public static int tokenSetRatio(String a, String b) {
    return tokenSetRatio(prepare(a), prepare(b), 0);
  }

  /**
   * The ratio of two prepared strings when it is at least {@code cutoff}, else some value below
   * {@code cutoff} (0 when a bound rules the pair out without the LCS). {@code cutoff = 0} always
   * gives the exact ratio.
   */
  public static int tokenSetRatio(Prepared a, Prepared b, int cutoff) {
    int[][] ta = a.tokens;
    int[][] tb = b.tokens;
    if (ta.length == 0 || tb.length == 0) {
      return 0;
    }
    // Merge the token lists: sizes of the intersection I and the differences A-B and B-A.
    int sect = 0;
    int common = 0;
    int onlyA = 0;
    int ab = 0;
    int i = 0;
    int j = 0;
    while (i < ta.length && j < tb.length) {
      int c = compare(a.hashes[i], ta[i], b.hashes[j], tb[j]);
      if (c == 0) {
        sect += ta[i].length;
        common++;
        i++;
        j++;
      } else if (c < 0) {
        ab += ta[i++].length;
        onlyA++;
      } else {
        j++;
      }
    }
    for (; i < ta.length; i++) {
      ab += ta[i].length;
      onlyA++;
    }
    int onlyB = tb.length - common;
    if (common > 0 && (onlyA == 0 || onlyB == 0)) {
      return 100;
    }
    int sep = common > 0 ? 1 : 0;
    sect += Math.max(0, common - 1); // the joining spaces
    ab += Math.max(0, onlyA - 1);
    int ba = b.length - sect - sep; // |TB| = |I| + 1 + |B-A|
    int sectAb = sect + sep + ab;
    int sectBa = sect + sep + ba;
    double best = 0;
    if (common > 0) {
      best = Math.max(score(sep + ab, sect + sectAb), score(sep + ba, sect + sectBa));
    }
    // Third ratio: skip the LCS when a lower bound of the Indel distance (length difference,
    // histogram distance) already keeps it below the cutoff or below the best so far.
    double bound = score(Math.abs(ab - ba), sectAb + sectBa);
    if (bound > best
        && Math.rint(bound) >= cutoff
        && (cutoff <= 0 || thirdRatioCanReach(a, b, cutoff))) {
      // The LCS only matters if the ratio can beat both `best` and the cutoff.
      double target = Math.max(best, cutoff - 0.5);
      int atLeast = (int) Math.ceil((ab + ba - (100 - target) * (sectAb + sectBa) / 100) / 2) - 1;
      int lcs = lcs(difference(a, b, ab), difference(b, a, ba), Math.max(0, atLeast));
      int indel = ab + ba - 2 * lcs;
      best = Math.max(best, score(indel, sectAb + sectBa));
    }
    int rounded = (int) Math.rint(best);
    return rounded >= cutoff ? rounded : 0;
  }

  /**
   * Whether {@code ratio(I+" "+(A-B), I+" "+(B-A))} can reach {@code cutoff}, from histograms: with
   * {@code T} the joined token set, {@code h(TA) - h(TB) = h(A-B) - h(B-A)} outside spaces, so the
   * L1 distance of the histograms is a lower bound of {@code indel(A-B, B-A)}, and the ratio's
   * denominator is {@code |TA| + |TB|}. Folding code points into buckets only loosens the bound.
   */
  private static boolean thirdRatioCanReach(Prepared a, Prepared b, int cutoff) {
    int l1 = 0;
    for (int k = 0; k < HISTOGRAM; k++) {
      l1 += Math.abs(a.histogram[k] - b.histogram[k]);
    }
    double lowest = cutoff - 0.5; // the smallest raw score that can round to the cutoff
    return 100 - 100.0 * l1 / (a.length + b.length) >= lowest;
  }

  /** The tokens of {@code a} missing in {@code b}, in code point order, joined by spaces. */
  private static int[] difference(Prepared a, Prepared b, int length) {
    boolean[] shared = new boolean[a.tokens.length];
    int j = 0;
    for (int i = 0; i < a.tokens.length && j < b.tokens.length; i++) {
      int c;
      while ((c = compare(b.hashes[j], b.tokens[j], a.hashes[i], a.tokens[i])) < 0
          && ++j < b.tokens.length) {}
      shared[i] = j < b.tokens.length && c == 0;
    }
    int[] out = new int[length];
    int n = 0;
    for (int i : a.codePointOrder) {
      if (!shared[i]) {
        if (n > 0) {
          out[n++] = SPACE;
        }
        System.arraycopy(a.tokens[i], 0, out, n, a.tokens[i].length);
        n += a.tokens[i].length;
      }
    }
    return out;
  }

  /**
   * Processes {@code s} as thefuzz's {@code full_process(s, force_ascii=True)} and tokenizes it.
   */
  public static Prepared prepare(String s) {
    List<int[]> distinct = new ArrayList<>();
    if (s == null) {
      return new Prepared(distinct);
    }
    int[] cps = codePoints(s);
    List<int[]> tokens = new ArrayList<>();
    int start = -1;
    for (int k = 0; k <= cps.length; k++) {
      boolean space = k == cps.length || cps[k] == SPACE;
      if (!space && start < 0) {
        start = k;
      } else if (space && start >= 0) {
        tokens.add(Arrays.copyOfRange(cps, start, k));
        start = -1;
      }
    }
    tokens.sort(Arrays::compare);
    for (int[] t : tokens) {
      if (distinct.isEmpty() || !Arrays.equals(distinct.get(distinct.size() - 1), t)) {
        distinct.add(t);
      }
    }
    return new Prepared(distinct);
  }

  /** thefuzz's {@code full_process(s, force_ascii=True)} as a string. */
  public static String process(String s) {
    int[] cps = codePoints(s);
    return new String(cps, 0, cps.length);
  }

  private static int[] codePoints(String s) {
    int[] out = new int[s.length()];
    int n = 0;
    for (int k = 0; k < s.length(); ) {
      int cp = s.codePointAt(k);
      k += Character.charCount(cp);
      if (cp >= 128 && cp <= 255) {
        continue; // thefuzz's ascii_only: only this range is removed
      }
      out[n++] = isAlnum(cp) ? Character.toLowerCase(cp) : SPACE;
    }
    int from = 0;
    while (from < n && out[from] == SPACE) {
      from++;
    }
    while (n > from && out[n - 1] == SPACE) {
      n--;
    }
    return Arrays.copyOfRange(out, from, n);
  }

  /** Python's {@code str.isalnum} for one code point: letters and all numeric categories. */
  private static boolean isAlnum(int cp) {
    if (cp < 128) {
      return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
    }
    if (Character.isLetter(cp)) {
      return true;
    }
    int type = Character.getType(cp);
    return type == Character.DECIMAL_DIGIT_NUMBER
        || type == Character.LETTER_NUMBER
        || type == Character.OTHER_NUMBER;
  }

  private static double score(int dist, int lensum) {
    return lensum == 0 ? 100 : 100 - 100.0 * dist / lensum;
  }

  private static int compare(long hx, int[] x, long hy, int[] y) {
    int c = Long.compare(hx, hy);
    return c != 0 ? c : Arrays.compare(x, y);
  }

  /** 64-bit FNV-1a over the code points with a murmur3 finalizer. */
  private static long hash(int[] token) {
    long h = 0xcbf29ce484222325L;
    for (int cp : token) {
      h = (h ^ cp) * 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h;
  }

  private static int bucket(int cp) {
    if (cp >= 'a' && cp <= 'z') {
      return cp - 'a';
    }
    if (cp >= '0' && cp <= '9') {
      return 26 + cp - '0';
    }
    return 36 + Math.floorMod(cp, HISTOGRAM - 36);
  }

  /**
   * Length of the longest common subsequence, bit-parallel (Hyyrö 2004, as in rapidfuzz's {@code
   * lcs_seq}): one 64-bit word per 64 code points of the shorter string, one pass over the longer.
   */
  static int lcs(int[] x, int[] y) {
    return lcs(x, y, 0);
  }

  /**
   * The LCS length when it is at least {@code atLeast}; otherwise possibly a smaller value than the
   * true length: the scan stops once the rest of the longer string cannot make up the difference.
   */
  static int lcs(int[] x, int[] y, int atLeast) {
    if (x.length > y.length) {
      int[] t = x;
      x = y;
      y = t;
    }
    int lo = 0;
    int xEnd = x.length;
    int yEnd = y.length;
    while (lo < xEnd && x[lo] == y[lo]) {
      lo++;
    }
    while (xEnd > lo && x[xEnd - 1] == y[yEnd - 1]) {
      xEnd--;
      yEnd--;
    }
    int affix = lo + (x.length - xEnd);
    int m = xEnd - lo;
    if (m == 0) {
      return affix;
    }
    int words = (m + 63) >>> 6;
    // Pattern-match vectors: one slot of `words` longs per distinct code point of x.
    int[] asciiSlot = new int[128];
    Map<Integer, Integer> otherSlot = null;
    long[] pm = new long[Math.min(m, 64) * words];
    int slots = 0;
    for (int k = 0; k < m; k++) {
      int cp = x[lo + k];
      int slot;
      if (cp < 128) {
        slot = asciiSlot[cp] - 1;
        if (slot < 0) {
          slot = slots++;
          asciiSlot[cp] = slot + 1;
        }
      } else {
        if (otherSlot == null) {
          otherSlot = new HashMap<>();
        }
        Integer s = otherSlot.get(cp);
        if (s == null) {
          s = slots++;
          otherSlot.put(cp, s);
        }
        slot = s;
      }
      if ((slot + 1) * words > pm.length) {
        pm = Arrays.copyOf(pm, Math.max(pm.length * 2, (slot + 1) * words));
      }
      pm[slot * words + (k >>> 6)] |= 1L << (k & 63);
    }
    long[] s = new long[words];
    Arrays.fill(s, -1L);
    int need = atLeast - affix;
    for (int k = lo; k < yEnd; k++) {
      if (need > 0 && ((k - lo) & 63) == 63 && zeros(s, m) + (yEnd - k) < need) {
        return affix + zeros(s, m); // each remaining code point adds at most 1
      }
      int cp = y[k];
      int slot;
      if (cp < 128) {
        slot = asciiSlot[cp] - 1;
      } else {
        Integer o = otherSlot == null ? null : otherSlot.get(cp);
        slot = o == null ? -1 : o;
      }
      if (slot < 0) {
        continue; // no match anywhere: S is unchanged
      }
      int base = slot * words;
      long carry = 0;
      for (int w = 0; w < words; w++) {
        long sw = s[w];
        long u = sw & pm[base + w];
        long sum = sw + carry;
        long c1 = Long.compareUnsigned(sum, sw) < 0 ? 1 : 0;
        sum += u;
        long c2 = Long.compareUnsigned(sum, u) < 0 ? 1 : 0;
        carry = c1 | c2;
        s[w] = sum | (sw - u);
      }
    }
    return affix + zeros(s, m);
  }

  /** The LCS so far: zero bits among the first {@code m} bits of {@code s}. */
  private static int zeros(long[] s, int m) {
    int zeros = 0;
    for (int w = 0; w < s.length; w++) {
      long valid = (w == s.length - 1 && (m & 63) != 0) ? (1L << (m & 63)) - 1 : -1L;
      zeros += Long.bitCount(~s[w] & valid);
    }
    return zeros;
  }
}
