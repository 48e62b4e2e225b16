/**
 * Job-wide admission control for LLM calls: request and token rates per model alias enforced for
 * the whole Spark job (not per task or per executor), adapted to what the provider accepts, with
 * the run's budget and a circuit breaker. Plain Java, no Spark: everything runs on an injectable
 * clock, so the tests drive it in simulated time.
 *
 * <h2>Pieces</h2>
 *
 * <ul>
 *   <li>{@link io.qaforge.pacing.RateController}: one per alias; the rate (configured, learned from
 *       {@code x-ratelimit-*} headers, or found by AIMD), evenly spaced admission slots, the
 *       token-per-minute bucket, Retry-After pauses.
 *   <li>{@link io.qaforge.pacing.Budget}: {@code llm.budget.max-cost-usd} and {@code max-requests}
 *       for the run, reserved at admission and settled by each attempt's real cost.
 *   <li>{@link io.qaforge.pacing.CircuitBreaker}: one per alias; stops a run whose provider keeps
 *       refusing instead of stalling.
 *   <li>{@link io.qaforge.pacing.Coordinator}: all of the above for every alias, plus live counters
 *       ({@link io.qaforge.pacing.Coordinator#progress()}). One per job, on the driver.
 *   <li>{@link io.qaforge.pacing.LocalPacer}: the {@link io.qaforge.llm.Pacer} for tasks in the
 *       driver's JVM (Spark local mode).
 *   <li>{@link io.qaforge.pacing.CoordinatorServer} + {@link io.qaforge.pacing.RemotePacer}: the
 *       coordinator over HTTP (JDK server and client, small binary messages, a random secret token)
 *       for executors in other JVMs, which lease slots in batches.
 * </ul>
 *
 * <h2>Wiring (driver and tasks)</h2>
 *
 * <pre>{@code
 * // driver
 * Coordinator coordinator = new Coordinator(llm.models(),
 *     PacingSettings.withBudget(llm.maxCostUsd(), llm.maxRequests()));
 * CoordinatorServer server = CoordinatorServer.start(coordinator, driverHost, 0);
 * String host = server.host(); int port = server.port(); String token = server.token();
 * // ... every llm.progress-interval: log coordinator.progress().line()
 * // tasks (closures capture the three strings, never the server)
 * Pacer pacer = RemotePacer.shared(host, port, token);   // or new LocalPacer(coordinator)
 * // end of job: server.close()
 * }</pre>
 */
package io.qaforge.pacing;
