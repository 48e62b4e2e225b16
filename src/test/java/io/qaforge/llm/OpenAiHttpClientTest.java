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
}
