package io.qaforge.pacing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Serves a {@link Coordinator} to executors in other JVMs over HTTP (JDK {@code HttpServer}): one
 * endpoint, {@code POST /pace}, with small binary bodies ({@link Wire}). Every call must carry the
 * random secret token created here in the {@code X-Qaforge-Token} header (compared in constant
 * time); anything else is answered 403 and changes nothing. The driver passes host, port and token
 * to the tasks, which build a {@link RemotePacer} from them.
 */
public final class CoordinatorServer implements AutoCloseable {
  private static final int MAX_BODY = 8 << 20;

  private final Coordinator coordinator;
  private final HttpServer server;
  private final ExecutorService pool;
  private final String token;
  private final byte[] tokenBytes;
  private final String host;
  private final java.util.concurrent.atomic.AtomicLong calls =
      new java.util.concurrent.atomic.AtomicLong();

  private CoordinatorServer(Coordinator coordinator, String host, int port) throws IOException {
    this.coordinator = coordinator;
    this.host = host;
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    this.token = HexFormat.of().formatHex(secret);
    this.tokenBytes = token.getBytes(StandardCharsets.US_ASCII);
    this.server = HttpServer.create(new InetSocketAddress(host, port), 128);
    AtomicInteger n = new AtomicInteger();
    this.pool =
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "qaforge-pacing-server-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(pool);
    server.createContext(Wire.PATH, this::handle);
    server.start();
  }

  /**
   * Starts serving on {@code host} (an address the executors can reach: the driver's host, or
   * 127.0.0.1 in tests) and {@code port} (0 = any free port).
   */
  public static CoordinatorServer start(Coordinator coordinator, String host, int port)
      throws IOException {
    return new CoordinatorServer(coordinator, host, port);
  }

  public String host() {
    return host;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** The secret every call must carry; give it only to this job's executors. */
  public String token() {
    return token;
  }

  public Coordinator coordinator() {
    return coordinator;
  }

  /** Calls served so far (accepted ones), to watch how rare the RPCs are. */
  public long calls() {
    return calls.get();
  }

  private void handle(HttpExchange ex) throws IOException {
    try {
      if (!"POST".equals(ex.getRequestMethod())) {
        send(ex, 405, "POST only".getBytes(StandardCharsets.UTF_8));
        return;
      }
      String given = ex.getRequestHeaders().getFirst(Wire.TOKEN_HEADER);
      if (given == null
          || !MessageDigest.isEqual(given.getBytes(StandardCharsets.US_ASCII), tokenBytes)) {
        send(ex, 403, "bad or missing token".getBytes(StandardCharsets.UTF_8));
        return;
      }
      byte[] body;
      try (InputStream in = ex.getRequestBody()) {
        body = in.readNBytes(MAX_BODY + 1);
      }
      if (body.length > MAX_BODY) {
        send(ex, 413, "body too large".getBytes(StandardCharsets.UTF_8));
        return;
      }
      Wire.Request req;
      try {
        req = Wire.decodeRequest(body);
      } catch (IOException | RuntimeException e) {
        send(ex, 400, ("bad request: " + e.getMessage()).getBytes(StandardCharsets.UTF_8));
        return;
      }
      calls.incrementAndGet();
      send(ex, 200, Wire.encode(process(req)));
    } finally {
      ex.close();
    }
  }

  private Wire.Response process(Wire.Request r) {
    for (Wire.Return g : r.returns()) {
      coordinator.giveBack(
          g.alias(), g.permits(), g.firstSlotNanos(), g.intervalNanos(), g.tokens(), g.cost());
    }
    for (Wire.Report p : r.reports()) {
      coordinator.report(
          p.alias(),
          p.attempt(),
          p.estimatedTokens(),
          p.estimatedCostUsd(),
          p.costUsd(),
          p.ageNanos());
    }
    for (Wire.Started st : r.started()) {
      coordinator.started(st.alias(), st.count());
    }
    Coordinator.Lease lease = null;
    boolean tokenEstimates = true;
    if (r.ask() != null) {
      tokenEstimates = coordinator.usesTokenEstimates(r.ask().alias());
      Wire.Ask a = r.ask();
      lease =
          coordinator.leaseBatch(
              r.client(),
              a.alias(),
              a.permits(),
              a.minPermits(),
              a.held(),
              a.tokensEach(),
              a.costEach());
    }
    return new Wire.Response(coordinator.now(), lease, tokenEstimates);
  }

  private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
    ex.sendResponseHeaders(status, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    pool.shutdownNow();
  }
}
