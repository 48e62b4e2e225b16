package io.qaforge.spark;

import io.qaforge.llm.DryRunClient;
import io.qaforge.llm.LlamaCppClient;
import io.qaforge.llm.LlmClient;
import io.qaforge.llm.LlmSettings;
import io.qaforge.llm.ModelSpec;
import io.qaforge.llm.OpenAiHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkFiles;

/** The backend client of this executor JVM for an alias (built lazily, shared by tasks). */
final class LlmClients {
  private LlmClients() {}

  static LlmClient shared(String backend, LlmSettings llm, String alias) {
    switch (backend) {
      case "dry-run":
        return new DryRunClient(llm::spec);
      case "openai":
        return OpenAiHttpClient.shared(
            llm.baseUrl(), llm.apiKey().reveal(), llm.requestTimeout(), llm.models().values());
      case "llama-cpp":
        return LlamaCppClient.shared(localModel(llm.spec(alias)), llm.llamaCpp());
      default:
        throw new IllegalArgumentException("Unknown backend " + backend);
    }
  }

  /**
   * The GGUF file on this machine: the configured path when it exists here (local mode, shared
   * disks), else the copy the driver shipped with {@code SparkContext.addFile}.
   */
  static ModelSpec localModel(ModelSpec spec) {
    String configured = spec.modelPath().replaceFirst("^file:", "");
    if (Files.isRegularFile(Path.of(configured))) {
      return spec;
    }
    String name = configured.substring(configured.lastIndexOf('/') + 1);
    return withPath(spec, SparkFiles.get(name));
  }

  private static ModelSpec withPath(ModelSpec s, String path) {
    return new ModelSpec(
        s.alias(),
        s.backend(),
        s.model(),
        s.style(),
        s.baseUrl(),
        s.inputUsdPerMillion(),
        s.outputUsdPerMillion(),
        s.contextWindow(),
        s.tokenizer(),
        s.requestsPerMinute(),
        s.tokensPerMinute(),
        path);
  }
}
