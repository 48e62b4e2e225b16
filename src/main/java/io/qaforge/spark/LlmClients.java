package io.qaforge.spark;

import io.qaforge.llm.DryRunClient;
import io.qaforge.llm.LlmClient;
import io.qaforge.llm.LlmSettings;

/** The backend client of this executor JVM for a run's settings (built lazily, shared by tasks). */
final class LlmClients {
  private LlmClients() {}

  static LlmClient shared(String backend, LlmSettings llm) {
    switch (backend) {
      case "dry-run":
        return new DryRunClient(llm::spec);
      default:
        throw new IllegalStateException("backend " + backend + " is not wired yet");
    }
  }
}
