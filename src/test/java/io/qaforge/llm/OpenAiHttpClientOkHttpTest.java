package io.qaforge.llm;

import java.time.Duration;
import java.util.List;

/** {@link OpenAiHttpClientCases} on the transport https and proxied URLs get: okhttp. */
class OpenAiHttpClientOkHttpTest extends OpenAiHttpClientCases {
  @Override
  OpenAiHttpClient newClient(String baseUrl, String key, Duration timeout, List<ModelSpec> models) {
    return OpenAiHttpClient.onOkHttp(baseUrl, key, timeout, models);
  }

  @Override
  String transportName() {
    return "okhttp";
  }
}
