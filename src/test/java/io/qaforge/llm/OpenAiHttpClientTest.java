package io.qaforge.llm;

import static org.assertj.core.api.Assertions.assertThat;

import io.qaforge.bench.OpenAiStub;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link OpenAiHttpClientCases} on the transport plain-http URLs get: Netty. */
class OpenAiHttpClientTest extends OpenAiHttpClientCases {
  @Override
  OpenAiHttpClient newClient(String baseUrl, String key, Duration timeout, List<ModelSpec> models) {
    return new OpenAiHttpClient(baseUrl, key, timeout, models);
  }

  @Override
  String transportName() {
    return "netty";
  }

  @Test
  void plainHttpWithoutAProxyGoesOnNettyEverythingElseOnOkHttp() {
    assertThat(HttpTransport.direct(URI.create("http://127.0.0.1:8000/v1/"))).isTrue();
    assertThat(HttpTransport.direct(URI.create("https://api.openai.com/v1/"))).isFalse();
    String before = System.getProperty("http.proxyHost");
    System.setProperty("http.proxyHost", "proxy.example");
    try {
      assertThat(HttpTransport.direct(URI.create("http://gpu-box:8000/v1/"))).isFalse();
    } finally {
      if (before == null) {
        System.clearProperty("http.proxyHost");
      } else {
        System.setProperty("http.proxyHost", before);
      }
    }
  }

  /**
   * okhttp, with its own retries off (retries belong to the caller), may send on a pooled
   * connection whose close it has not read yet (an IO_ERROR the caller retries); the event loop
   * sees the close and opens a new connection.
   */
  @Test
  void connectionsTheServerClosedWhileIdleAreNotReused() throws Exception {
    OpenAiStub first = new OpenAiStub().start();
    int port = first.port();
    try (OpenAiHttpClient c =
        newClient(first.baseUrl(), "", Duration.ofSeconds(10), List.of(CHAT))) {
      sendAll(c, 8, "before "); // a few pooled keep-alive connections
      first.close(); // closes them
      OpenAiStub second = new OpenAiStub(port).start();
      try {
        Thread.sleep(200); // the closes reach the client
        Attempt after = send(c, request("chat-alias", "after a restart"));
        assertThat(after.kind()).isEqualTo(Attempt.Kind.OK);
        assertThat(second.totalRequests()).isEqualTo(1);
      } finally {
        second.close();
      }
    }
  }

  /**
   * A keep-alive HTTP/1.1 server that answers every chat call at once and, like uvicorn (vLLM) or
   * llama.cpp's server, closes a connection that stays idle for {@code idleMs}. Counts the
   * connections it accepted.
   */
  private static final class IdleClosingServer implements AutoCloseable {
    private static final byte[] ANSWER =
        ("{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"
                + "\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}")
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    final ServerSocket socket;
    final java.util.concurrent.atomic.AtomicInteger connections =
        new java.util.concurrent.atomic.AtomicInteger();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    IdleClosingServer(int idleMs) throws java.io.IOException {
      socket = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
      threads.execute(
          () -> {
            while (!socket.isClosed()) {
              try {
                java.net.Socket c = socket.accept();
                connections.incrementAndGet();
                threads.execute(() -> serve(c, idleMs));
              } catch (java.io.IOException e) {
                return; // closed
              }
            }
          });
    }

    String baseUrl() {
      return "http://127.0.0.1:" + socket.getLocalPort() + "/v1";
    }

    private static void serve(java.net.Socket c, int idleMs) {
      try (c) {
        c.setSoTimeout(idleMs);
        java.io.InputStream in = c.getInputStream();
        while (true) {
          StringBuilder head = new StringBuilder();
          int b;
          while (!head.toString().endsWith("\r\n\r\n") && (b = in.read()) >= 0) {
            head.append((char) b);
          }
          if (!head.toString().endsWith("\r\n\r\n")) {
            return; // the client closed it
          }
          java.util.regex.Matcher m =
              java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
          in.readNBytes(m.find() ? Integer.parseInt(m.group(1)) : 0);
          String status =
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                  + ANSWER.length
                  + "\r\n\r\n";
          c.getOutputStream().write(status.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          c.getOutputStream().write(ANSWER);
          c.getOutputStream().flush();
        }
      } catch (java.net.SocketTimeoutException e) {
        // idle too long: closed, as the servers do
      } catch (java.io.IOException e) {
        // the client went away
      }
    }

    @Override
    public void close() throws java.io.IOException {
      socket.close();
      threads.shutdownNow();
    }
  }

  @Test
  void aConnectionIdleForFiveSecondsIsNotReusedAfterTheServerClosedIt() throws Exception {
    // a pause of 5 s between two calls (a job boundary between steps) against a server that
    // closes connections idle for 4.5 s: the second call must open a new connection, not fail on
    // the closed one (okhttp only checks pooled connections idle for 10 s or more)
    try (IdleClosingServer server =
            new IdleClosingServer((int) OpenAiHttpClient.IDLE_KEEP_ALIVE.toMillis() + 500);
        OpenAiHttpClient c =
            new OpenAiHttpClient(server.baseUrl(), KEY, Duration.ofSeconds(10), List.of(CHAT))) {
      assertThat(send(c, request("chat-alias", "before the pause")).kind())
          .isEqualTo(Attempt.Kind.OK);
      Thread.sleep(OpenAiHttpClient.IDLE_KEEP_ALIVE.toMillis() + 1000);
      Attempt after = send(c, request("chat-alias", "after the pause"));
      assertThat(after.kind()).as(String.valueOf(after.error())).isEqualTo(Attempt.Kind.OK);
      assertThat(server.connections.get()).isEqualTo(2);
    }
  }
}
