package io.qaforge.llm;

import java.io.IOException;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * How {@link OpenAiHttpClient} puts a JSON body on the wire: one POST, one reply, no retries. The
 * future completes with the server's {@link Reply} (any status), or exceptionally with an {@link
 * IOException} when there is none: {@link java.net.SocketTimeoutException} (or another {@link
 * java.io.InterruptedIOException}) when the call timeout passed, {@link Closed} after {@link
 * #close}, any other IOException for refused, reset or broken connections.
 *
 * <p>Two implementations: {@link NettyTransport} (two event-loop threads for all connections) for
 * plain {@code http://} servers reached without a proxy, the usual case for vLLM, llama.cpp server
 * and Ollama, and {@link OkHttpTransport} (one thread per call in flight; TLS, HTTP/2 and proxies)
 * for everything else. {@link #forUrl} picks one.
 */
interface HttpTransport extends AutoCloseable {

  /** POSTs {@code body} (JSON) to {@code url}; {@code authorization} is the header, or null. */
  CompletableFuture<Reply> post(URI url, byte[] body, String authorization);

  /**
   * Calls allowed in flight at once; more wait in a queue (their timeout starts when they leave).
   */
  int maxInFlight();

  /**
   * Runs this transport's request and answer paths in-process, without the network, so the first
   * real calls do not wait for class loading (called once on a daemon thread).
   */
  default void warmUp() {}

  /** Fails calls in flight with {@link Closed} and releases threads and connections. */
  @Override
  void close();

  /** A server's answer: status, a case-insensitive header lookup (first value), the whole body. */
  record Reply(int status, Function<String, String> header, byte[] body) {}

  /** The transport was closed while the call waited or ran. */
  final class Closed extends IOException {
    private static final long serialVersionUID = 1L;

    Closed() {
      super("the client was closed");
    }
  }

  /** Connect alone may take at most this long (the call timeout if shorter). */
  Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  /** The connect timeout for a call timeout: the shorter of the two. */
  static Duration connectTimeout(Duration callTimeout) {
    return callTimeout.compareTo(MAX_CONNECT_TIMEOUT) < 0 ? callTimeout : MAX_CONNECT_TIMEOUT;
  }

  /**
   * {@link NettyTransport} for an {@code http://} base URL the default {@link ProxySelector} sends
   * directly, else {@link OkHttpTransport}.
   */
  static HttpTransport forUrl(URI base, Duration timeout, int maxInFlight) {
    return direct(base)
        ? new NettyTransport(base, timeout, maxInFlight)
        : new OkHttpTransport(timeout, maxInFlight);
  }

  /** True for a plain-http URL with no proxy configured for it. */
  static boolean direct(URI base) {
    if (!"http".equalsIgnoreCase(base.getScheme())) {
      return false;
    }
    ProxySelector selector = ProxySelector.getDefault();
    if (selector == null) {
      return true;
    }
    // okhttp (and the JDK) use the first proxy the selector offers
    List<Proxy> proxies = selector.select(base);
    return proxies == null || proxies.isEmpty() || proxies.get(0).type() == Proxy.Type.DIRECT;
  }
}
