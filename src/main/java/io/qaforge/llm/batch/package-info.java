/**
 * The OpenAI Batch API without Spark: write input files ({@link io.qaforge.llm.batch.BatchFiles}),
 * upload them, create and poll batches, download results ({@link io.qaforge.llm.batch.BatchApi}),
 * and turn output and error files into the same {@link io.qaforge.llm.Result}s the online path
 * gives ({@link io.qaforge.llm.batch.BatchResults}).
 *
 * <p>The whole cycle:
 *
 * <pre>{@code
 * BatchFiles.Written w =
 *     new BatchFiles(dir, settings.models()::get, BatchFiles.Options.forBaseUrl(baseUrl))
 *         .write(requests);                           // Iterator<ChatRequest>, streaming
 * // w.rejected(): requests that cannot be sent (failed Results, like the online path)
 * try (BatchApi api = new BatchApi(baseUrl, apiKey)) {
 *   for (BatchInput in : w.files()) {
 *     BatchApi.Submitted sub = api.submit(in, Map.of("qaforge_run", runId, "part", "1"));
 *     BatchStatus s = api.await(sub.batchId(), Duration.ofMinutes(1), Duration.ofHours(25),
 *         st -> log.info(st.describe()));          // "finalizing" shows as its own phase
 *     BatchResults results = new BatchResults(lookup);   // custom_id -> Submitted; 0.5 discount
 *     if (s.outputFileId() != null) {
 *       api.download(s.outputFileId(), out);             // streamed to disk
 *       results.read(out, sink);                         // Consumer<Result>
 *     }
 *     if (s.errorFileId() != null) {
 *       api.download(s.errorFileId(), err);
 *       results.read(err, sink);
 *     }
 *     for (String id : results.missing(BatchFiles.customIds(in.path()))) {
 *       sink.accept(results.expired(id));            // never ran: failed, resubmit
 *     }
 *     // results.retryable() + missing: the ids worth submitting again
 *   }
 * }
 * }</pre>
 */
package io.qaforge.llm.batch;
