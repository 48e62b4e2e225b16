package io.qaforge.pacing;

import io.qaforge.llm.Attempt;
import io.qaforge.llm.Pacer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The small binary messages between {@link RemotePacer} and {@link CoordinatorServer}: one POST
 * carries finished attempts, started counts, slots given back and at most one lease request; the
 * answer carries the lease. Times are on the coordinator's clock; the answer includes the
 * coordinator's "now" so the executor can convert them to its own clock.
 */
final class Wire {
  static final int VERSION = 0x51460002;
  static final String PATH = "/pace";
  static final String TOKEN_HEADER = "X-Qaforge-Token";
  private static final int MAX_TEXT = 300;

  private Wire() {}

  record Report(
      String alias,
      Attempt.Kind kind,
      int httpStatus,
      long retryAfterMs,
      long limitRequestsPerMinute,
      long limitTokensPerMinute,
      long promptTokens,
      long completionTokens,
      long latencyMs,
      long ageNanos,
      long estimatedTokens,
      double estimatedCostUsd,
      double costUsd,
      String error) {
    static Report of(
        String alias,
        Attempt a,
        long estimatedTokens,
        double estimatedCostUsd,
        double costUsd,
        long ageNanos) {
      return new Report(
          alias,
          a.kind(),
          a.httpStatus(),
          a.retryAfterMs(),
          a.limitRequestsPerMinute(),
          a.limitTokensPerMinute(),
          a.promptTokens(),
          a.completionTokens(),
          a.latencyMs(),
          ageNanos,
          estimatedTokens,
          estimatedCostUsd,
          costUsd,
          a.error() == null ? "" : a.error());
    }

    Report aged(long extraNanos) {
      return new Report(
          alias,
          kind,
          httpStatus,
          retryAfterMs,
          limitRequestsPerMinute,
          limitTokensPerMinute,
          promptTokens,
          completionTokens,
          latencyMs,
          ageNanos + extraNanos,
          estimatedTokens,
          estimatedCostUsd,
          costUsd,
          error);
    }

    Attempt attempt() {
      return new Attempt(
          kind,
          null,
          null,
          promptTokens,
          completionTokens,
          null,
          httpStatus,
          retryAfterMs,
          limitRequestsPerMinute,
          limitTokensPerMinute,
          null,
          error.isEmpty() ? null : error,
          latencyMs);
    }
  }

  record Started(String alias, long count) {}

  /** Unused slots (count 0: only allowances) and unused token/cost reservations. */
  record Return(
      String alias,
      int permits,
      long firstSlotNanos,
      long intervalNanos,
      long tokens,
      double cost) {}

  record Ask(
      String alias, int permits, int minPermits, int held, long tokensEach, double costEach) {}

  record Request(
      String client, List<Report> reports, List<Started> started, List<Return> returns, Ask ask) {}

  /**
   * @param tokenEstimates whether the coordinator uses token and cost estimates for the asked alias
   *     ({@link io.qaforge.llm.Pacer#usesTokenEstimates}); true without an ask
   */
  record Response(long serverNow, Coordinator.Lease lease, boolean tokenEstimates) {}

  static byte[] encode(Request r) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(VERSION);
      out.writeUTF(r.client());
      out.writeInt(r.reports().size());
      for (Report p : r.reports()) {
        out.writeUTF(p.alias());
        out.writeByte(p.kind().ordinal());
        out.writeInt(p.httpStatus());
        out.writeLong(p.retryAfterMs());
        out.writeLong(p.limitRequestsPerMinute());
        out.writeLong(p.limitTokensPerMinute());
        out.writeLong(p.promptTokens());
        out.writeLong(p.completionTokens());
        out.writeLong(p.latencyMs());
        out.writeLong(p.ageNanos());
        out.writeLong(p.estimatedTokens());
        out.writeDouble(p.estimatedCostUsd());
        out.writeDouble(p.costUsd());
        out.writeUTF(clip(p.error()));
      }
      out.writeInt(r.started().size());
      for (Started st : r.started()) {
        out.writeUTF(st.alias());
        out.writeLong(st.count());
      }
      out.writeInt(r.returns().size());
      for (Return g : r.returns()) {
        out.writeUTF(g.alias());
        out.writeInt(g.permits());
        out.writeLong(g.firstSlotNanos());
        out.writeLong(g.intervalNanos());
        out.writeLong(g.tokens());
        out.writeDouble(g.cost());
      }
      out.writeBoolean(r.ask() != null);
      if (r.ask() != null) {
        out.writeUTF(r.ask().alias());
        out.writeInt(r.ask().permits());
        out.writeInt(r.ask().minPermits());
        out.writeInt(r.ask().held());
        out.writeLong(r.ask().tokensEach());
        out.writeDouble(r.ask().costEach());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static Request decodeRequest(byte[] body) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(body));
    checkVersion(in.readInt());
    String client = in.readUTF();
    Attempt.Kind[] kinds = Attempt.Kind.values();
    int n = count(in.readInt());
    List<Report> reports = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String alias = in.readUTF();
      int kind = in.readUnsignedByte();
      if (kind >= kinds.length) {
        throw new IOException("unknown attempt kind " + kind);
      }
      reports.add(
          new Report(
              alias,
              kinds[kind],
              in.readInt(),
              in.readLong(),
              in.readLong(),
              in.readLong(),
              in.readLong(),
              in.readLong(),
              in.readLong(),
              in.readLong(),
              in.readLong(),
              in.readDouble(),
              in.readDouble(),
              in.readUTF()));
    }
    n = count(in.readInt());
    List<Started> started = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      started.add(new Started(in.readUTF(), in.readLong()));
    }
    n = count(in.readInt());
    List<Return> returns = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      returns.add(
          new Return(
              in.readUTF(),
              in.readInt(),
              in.readLong(),
              in.readLong(),
              in.readLong(),
              in.readDouble()));
    }
    Ask ask = null;
    if (in.readBoolean()) {
      ask =
          new Ask(
              in.readUTF(),
              in.readInt(),
              in.readInt(),
              in.readInt(),
              in.readLong(),
              in.readDouble());
    }
    return new Request(client, reports, started, returns, ask);
  }

  static byte[] encode(Response r) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(VERSION);
      out.writeLong(r.serverNow());
      Coordinator.Lease l = r.lease();
      if (l == null) {
        out.writeByte(0);
      } else {
        switch (l.status()) {
          case GRANTED -> {
            out.writeByte(1);
            out.writeInt(l.count());
            out.writeLong(l.firstSlotNanos());
            out.writeLong(l.intervalNanos());
            out.writeLong(l.tokens());
            out.writeDouble(l.costUsd());
            out.writeDouble(l.rate());
            out.writeInt(l.share());
          }
          case WAIT -> {
            out.writeByte(2);
            out.writeLong(l.retryAtNanos());
            out.writeBoolean(l.budgetPending());
            out.writeDouble(l.rate());
            out.writeInt(l.share());
          }
          case REFUSED -> {
            out.writeByte(3);
            out.writeByte(l.refusal().ordinal());
            out.writeUTF(l.reason());
          }
        }
      }
      out.writeBoolean(r.tokenEstimates());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static Response decodeResponse(byte[] body) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(body));
    checkVersion(in.readInt());
    long now = in.readLong();
    int status = in.readUnsignedByte();
    Coordinator.Lease lease =
        switch (status) {
          case 0 -> null;
          case 1 ->
              Coordinator.Lease.granted(
                  in.readInt(),
                  in.readLong(),
                  in.readLong(),
                  in.readLong(),
                  in.readDouble(),
                  in.readDouble(),
                  in.readInt());
          case 2 ->
              Coordinator.Lease.waitUntil(
                  in.readLong(), in.readBoolean(), in.readDouble(), in.readInt());
          case 3 ->
              Coordinator.Lease.refused(
                  Pacer.Refusal.values()[in.readUnsignedByte()], in.readUTF());
          default -> throw new IOException("unknown lease status " + status);
        };
    return new Response(now, lease, in.readBoolean());
  }

  private static void checkVersion(int v) throws IOException {
    if (v != VERSION) {
      throw new IOException(
          "pacing protocol mismatch (got 0x"
              + Integer.toHexString(v)
              + ", expected 0x"
              + Integer.toHexString(VERSION)
              + "): driver and executors run different qaforge jars");
    }
  }

  private static int count(int n) throws IOException {
    if (n < 0 || n > 1_000_000) {
      throw new IOException("bad element count " + n);
    }
    return n;
  }

  private static String clip(String s) {
    return s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT);
  }
}
