package io.qaforge.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Files and Batch API of {@link OpenAiStub}, in memory.
 *
 * <ul>
 *   <li>{@code POST /v1/files} (multipart: purpose, file) → file object; {@code GET /v1/files/{id}}
 *       → file object; {@code GET /v1/files/{id}/content} → the bytes.
 *   <li>{@code POST /v1/batches} ({input_file_id, endpoint, completion_window}) → batch object in
 *       status {@code validating}. Each {@code GET /v1/batches/{id}} is a poll: the first moves it
 *       to {@code in_progress}; once it has been polled {@code polls} times and {@code delayMs}
 *       have passed it becomes {@code completed} (or {@code expired} in expire mode) and gets its
 *       files.
 *   <li>Output file: one line per answered input line, in shuffled (seeded) order: {@code {"id",
 *       "custom_id", "response": {"status_code": 200, "request_id", "body": <completion>}, "error":
 *       null}}. Lines whose body contains {@code [[fault:batchfail]]} go to the error file as
 *       {@code {"id", "custom_id", "response": {"status_code": 500, "request_id", "body": {"error":
 *       ...}}, "error": {"code", "message"}}}. In expire mode only the first half of the other
 *       lines are answered; the rest go to the error file with {@code "response": null, "error":
 *       {"code": "batch_expired", ...}} like OpenAI does.
 *   <li>{@code POST /v1/batches/{id}/cancel} → {@code cancelling}, then {@code cancelled} at the
 *       next poll (no output file).
 * </ul>
 */
final class StubBatches {
  record Response(int status, byte[] body, String contentType) {}

  private record StoredFile(
      String id, String filename, String purpose, byte[] bytes, long createdAt) {}

  private static final class Batch {
    final String id;
    final String inputFileId;
    final String endpoint;
    final String completionWindow;
    final long createdAt;
    final long createdNanos = System.nanoTime();
    final JsonNode metadata;
    String status = "validating";
    int polls;
    long total;
    long completed;
    long failed;
    String model;
    String outputFileId;
    String errorFileId;
    Long inProgressAt;
    Long finalizingAt;
    Long completedAt;
    Long expiredAt;
    Long cancellingAt;
    Long cancelledAt;

    Batch(String id, String inputFileId, String endpoint, String window, JsonNode metadata) {
      this.id = id;
      this.inputFileId = inputFileId;
      this.endpoint = endpoint;
      this.completionWindow = window;
      this.metadata = metadata;
      this.createdAt = now();
    }
  }

  private final OpenAiStub stub;
  private final Map<String, StoredFile> files = new ConcurrentHashMap<>();
  private final Map<String, Batch> batches = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private volatile int pollsToComplete = 2;
  private volatile long delayMs;
  private volatile boolean expire;
  private volatile long seed = 42;

  StubBatches(OpenAiStub stub) {
    this.stub = stub;
  }

  void completion(int polls, long delayMs) {
    this.pollsToComplete = Math.max(1, polls);
    this.delayMs = Math.max(0, delayMs);
  }

  void expire(boolean expire) {
    this.expire = expire;
  }

  void seed(long seed) {
    this.seed = seed;
  }

  Response handle(String method, String path, HttpExchange ex) throws IOException {
    String[] parts = path.substring(1).split("/"); // v1, files|batches, id, content|cancel
    if (parts.length < 2) {
      return notFound(method, path);
    }
    if ("files".equals(parts[1])) {
      if ("POST".equals(method) && parts.length == 2) {
        return upload(ex);
      }
      if ("GET".equals(method) && parts.length >= 3) {
        StoredFile f = files.get(parts[2]);
        if (f == null) {
          return error(404, "No such File object: " + parts[2]);
        }
        if (parts.length == 4 && "content".equals(parts[3])) {
          return new Response(200, f.bytes(), "application/octet-stream");
        }
        if (parts.length == 3) {
          return json(200, fileJson(f));
        }
      }
      return notFound(method, path);
    }
    if ("POST".equals(method) && parts.length == 2) {
      return create(ex.getRequestBody().readAllBytes());
    }
    if (parts.length >= 3) {
      Batch b = batches.get(parts[2]);
      if (b == null) {
        return error(404, "No batch found with id '" + parts[2] + "'.");
      }
      synchronized (b) {
        if ("GET".equals(method) && parts.length == 3) {
          poll(b);
          return json(200, batchJson(b));
        }
        if ("POST".equals(method) && parts.length == 4 && "cancel".equals(parts[3])) {
          if ("validating".equals(b.status) || "in_progress".equals(b.status)) {
            b.status = "cancelling";
            b.cancellingAt = now();
          }
          return json(200, batchJson(b));
        }
      }
    }
    return notFound(method, path);
  }

  // ------------------------------------------------------------------------------------- files

  private Response upload(HttpExchange ex) throws IOException {
    String type = ex.getRequestHeaders().getFirst("Content-Type");
    byte[] body = ex.getRequestBody().readAllBytes();
    if (type == null || !type.startsWith("multipart/form-data") || !type.contains("boundary=")) {
      return error(400, "Expected multipart/form-data with a file and a purpose.");
    }
    String boundary = type.substring(type.indexOf("boundary=") + 9).trim();
    if (boundary.startsWith("\"") && boundary.endsWith("\"")) {
      boundary = boundary.substring(1, boundary.length() - 1);
    }
    // ISO-8859-1 maps bytes 1:1 to chars, so indexes are byte offsets
    String text = new String(body, StandardCharsets.ISO_8859_1);
    String delimiter = "--" + boundary;
    String purpose = null;
    String filename = null;
    byte[] content = null;
    int pos = text.indexOf(delimiter);
    while (pos >= 0) {
      int start = pos + delimiter.length();
      if (text.startsWith("--", start)) {
        break;
      }
      int headersEnd = text.indexOf("\r\n\r\n", start);
      int next = text.indexOf("\r\n" + delimiter, headersEnd < 0 ? start : headersEnd);
      if (headersEnd < 0 || next < 0) {
        break;
      }
      String headers = text.substring(start, headersEnd);
      String name = param(headers, "name");
      int dataStart = headersEnd + 4;
      if ("purpose".equals(name)) {
        purpose = text.substring(dataStart, next);
      } else if ("file".equals(name)) {
        filename = param(headers, "filename");
        content = new byte[next - dataStart];
        System.arraycopy(body, dataStart, content, 0, content.length);
      }
      pos = next + 2;
    }
    if (content == null) {
      return error(400, "Missing file.");
    }
    StoredFile f =
        new StoredFile(
            "file-stub" + ids.incrementAndGet(),
            filename == null ? "upload.jsonl" : filename,
            purpose == null ? "batch" : purpose,
            content,
            now());
    files.put(f.id(), f);
    return json(200, fileJson(f));
  }

  private static String param(String headers, String name) {
    String key = " " + name + "=\"";
    int i = headers.indexOf(key);
    if (i < 0) {
      key = ";" + name + "=\"";
      i = headers.indexOf(key);
    }
    if (i < 0) {
      return null;
    }
    int end = headers.indexOf('"', i + key.length());
    return end < 0 ? null : headers.substring(i + key.length(), end);
  }

  private ObjectNode fileJson(StoredFile f) {
    ObjectNode o = OpenAiStub.JSON.createObjectNode();
    o.put("id", f.id());
    o.put("object", "file");
    o.put("bytes", f.bytes().length);
    o.put("created_at", f.createdAt());
    o.putNull("expires_at");
    o.put("filename", f.filename());
    o.put("purpose", f.purpose());
    o.put("status", "processed");
    o.putNull("status_details");
    return o;
  }

  // ----------------------------------------------------------------------------------- batches

  private Response create(byte[] body) {
    JsonNode req;
    try {
      req = OpenAiStub.JSON.readTree(body);
    } catch (IOException e) {
      return error(400, "We could not parse the JSON body of your request.");
    }
    String input = req.path("input_file_id").asText(null);
    String endpoint = req.path("endpoint").asText(null);
    if (input == null || endpoint == null) {
      return error(400, "input_file_id and endpoint are required.");
    }
    StoredFile f = files.get(input);
    if (f == null) {
      return error(400, "No such File object: " + input);
    }
    if (!"/v1/chat/completions".equals(endpoint) && !"/v1/completions".equals(endpoint)) {
      return error(400, "The stub supports /v1/chat/completions and /v1/completions only.");
    }
    Batch b =
        new Batch(
            "batch_stub" + ids.incrementAndGet(),
            input,
            endpoint,
            req.path("completion_window").asText("24h"),
            req.get("metadata"));
    for (String line : lines(f.bytes())) {
      b.total++;
      if (b.model == null) {
        try {
          b.model = OpenAiStub.JSON.readTree(line).path("body").path("model").asText(null);
        } catch (IOException e) {
          // reported when the batch runs
        }
      }
    }
    batches.put(b.id, b);
    synchronized (b) {
      return json(200, batchJson(b));
    }
  }

  private void poll(Batch b) {
    b.polls++;
    switch (b.status) {
      case "validating":
        b.status = "in_progress";
        b.inProgressAt = now();
        break;
      case "cancelling":
        b.status = "cancelled";
        b.cancelledAt = now();
        return;
      default:
        break;
    }
    if ("in_progress".equals(b.status)
        && b.polls >= pollsToComplete
        && (System.nanoTime() - b.createdNanos) / 1_000_000 >= delayMs) {
      run(b);
    }
  }

  private void run(Batch b) {
    boolean chat = "/v1/chat/completions".equals(b.endpoint);
    List<String> ok = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    List<String> lines = lines(files.get(b.inputFileId).bytes());
    List<JsonNode> answerable = new ArrayList<>();
    for (String line : lines) {
      JsonNode in;
      try {
        in = OpenAiStub.JSON.readTree(line);
      } catch (IOException e) {
        failed.add(errorLine(null, 400, "invalid_json", "This line is not valid JSON."));
        continue;
      }
      String customId = in.path("custom_id").asText(null);
      JsonNode body = in.path("body");
      if (line.contains("[[fault:batchfail]]")) {
        failed.add(errorLine(customId, 500, "server_error", "Scripted batch failure."));
      } else if (!body.isObject()) {
        failed.add(errorLine(customId, 400, "invalid_request", "Missing body."));
      } else {
        answerable.add(in);
      }
    }
    int answered = expire ? (answerable.size() + 1) / 2 : answerable.size();
    for (int i = 0; i < answerable.size(); i++) {
      JsonNode in = answerable.get(i);
      String customId = in.path("custom_id").asText(null);
      if (i >= answered) {
        ObjectNode o = OpenAiStub.JSON.createObjectNode();
        o.put("id", "batch_req_stub" + ids.incrementAndGet());
        o.put("custom_id", customId);
        o.putNull("response");
        ObjectNode err = o.putObject("error");
        err.put("code", "batch_expired");
        err.put(
            "message", "This request could not be executed before the completion window expired.");
        failed.add(o.toString());
        continue;
      }
      OpenAiStub.Parsed p = OpenAiStub.parse(in.path("body"), chat);
      ObjectNode o = OpenAiStub.JSON.createObjectNode();
      o.put("id", "batch_req_stub" + ids.incrementAndGet());
      o.put("custom_id", customId);
      ObjectNode response = o.putObject("response");
      response.put("status_code", 200);
      response.put("request_id", "req_stub" + ids.incrementAndGet());
      response.set("body", stub.answer(p, 1));
      o.putNull("error");
      ok.add(o.toString());
    }
    Collections.shuffle(ok, new Random(seed));
    b.completed = ok.size();
    b.failed = failed.size();
    b.finalizingAt = now();
    if (!ok.isEmpty()) {
      b.outputFileId = store(b.id + "_output.jsonl", ok);
    }
    if (!failed.isEmpty()) {
      b.errorFileId = store(b.id + "_error.jsonl", failed);
    }
    if (expire) {
      b.status = "expired";
      b.expiredAt = now();
    } else {
      b.status = "completed";
      b.completedAt = now();
    }
  }

  private String errorLine(String customId, int status, String code, String message) {
    ObjectNode o = OpenAiStub.JSON.createObjectNode();
    o.put("id", "batch_req_stub" + ids.incrementAndGet());
    o.put("custom_id", customId);
    ObjectNode response = o.putObject("response");
    response.put("status_code", status);
    response.put("request_id", "req_stub" + ids.incrementAndGet());
    ObjectNode body = response.putObject("body");
    ObjectNode e = body.putObject("error");
    e.put("message", message);
    e.put("type", status >= 500 ? "server_error" : "invalid_request_error");
    e.putNull("param");
    e.put("code", code);
    ObjectNode err = o.putObject("error");
    err.put("code", code);
    err.put("message", message);
    return o.toString();
  }

  private String store(String filename, List<String> lines) {
    StringBuilder out = new StringBuilder();
    for (String line : lines) {
      out.append(line).append('\n');
    }
    StoredFile f =
        new StoredFile(
            "file-stub" + ids.incrementAndGet(),
            filename,
            "batch_output",
            out.toString().getBytes(StandardCharsets.UTF_8),
            now());
    files.put(f.id(), f);
    return f.id();
  }

  private ObjectNode batchJson(Batch b) {
    ObjectNode o = OpenAiStub.JSON.createObjectNode();
    o.put("id", b.id);
    o.put("object", "batch");
    o.put("endpoint", b.endpoint);
    o.put("model", b.model);
    o.putNull("errors");
    o.put("input_file_id", b.inputFileId);
    o.put("completion_window", b.completionWindow);
    o.put("status", b.status);
    o.put("output_file_id", b.outputFileId);
    o.put("error_file_id", b.errorFileId);
    o.put("created_at", b.createdAt);
    o.put("in_progress_at", b.inProgressAt);
    o.put("expires_at", b.createdAt + 24 * 3600);
    o.put("finalizing_at", b.finalizingAt);
    o.put("completed_at", b.completedAt);
    o.putNull("failed_at");
    o.put("expired_at", b.expiredAt);
    o.put("cancelling_at", b.cancellingAt);
    o.put("cancelled_at", b.cancelledAt);
    ObjectNode counts = o.putObject("request_counts");
    counts.put("total", b.total);
    counts.put("completed", b.completed);
    counts.put("failed", b.failed);
    if (b.metadata != null && b.metadata.isObject()) {
      o.set("metadata", b.metadata);
    } else {
      o.putNull("metadata");
    }
    return o;
  }

  // ------------------------------------------------------------------------------------ helpers

  private static List<String> lines(byte[] bytes) {
    List<String> out = new ArrayList<>();
    for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
      String l = line.strip();
      if (!l.isEmpty()) {
        out.add(l);
      }
    }
    return out;
  }

  private static long now() {
    return System.currentTimeMillis() / 1000;
  }

  private static Response json(int status, ObjectNode body) {
    try {
      return new Response(status, OpenAiStub.JSON.writeValueAsBytes(body), "application/json");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Response error(int status, String message) {
    ObjectNode o = OpenAiStub.JSON.createObjectNode();
    ObjectNode e = o.putObject("error");
    e.put("message", message);
    e.put("type", "invalid_request_error");
    e.putNull("param");
    e.putNull("code");
    return json(status, o);
  }

  private static Response notFound(String method, String path) {
    return error(404, "Unknown request URL: " + method + " " + path);
  }
}
