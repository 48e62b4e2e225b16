import java.net.URI;
import java.net.http.*;
import java.time.Duration;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.concurrent.locks.LockSupport;
import okhttp3.*;

public class TransportBench {
  static final AtomicLong done = new AtomicLong(), bad = new AtomicLong();
  public static void main(String[] a) throws Exception {
    String mode = a[0]; String url = a[1]; double rps = Double.parseDouble(a[2]); int seconds = Integer.parseInt(a[3]);
    String body = "{\"messages\":[{\"content\":\"You are a helpful assistant that answers questions.\",\"role\":\"system\"},{\"content\":\"Question number 12345: what is the capital of France? Answer briefly.\",\"role\":\"user\"}],\"model\":\"gpt-4o-mini\",\"max_tokens\":16,\"temperature\":0.7}";
    byte[] bytes = body.getBytes();
    java.util.function.Consumer<Integer> sender;
    if (mode.equals("okhttp")) {
      ThreadPoolExecutor ex = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> { Thread t = new Thread(r); t.setDaemon(true); return t; });
      Dispatcher d = new Dispatcher(ex); d.setMaxRequests(1024); d.setMaxRequestsPerHost(1024);
      OkHttpClient c = new OkHttpClient.Builder().dispatcher(d).connectionPool(new ConnectionPool(1024, 5, TimeUnit.MINUTES)).readTimeout(Duration.ZERO).writeTimeout(Duration.ZERO).callTimeout(Duration.ofSeconds(60)).retryOnConnectionFailure(false).build();
      MediaType json = MediaType.get("application/json");
      HttpUrl u = HttpUrl.get(url);
      sender = i -> c.newCall(new Request.Builder().url(u).post(RequestBody.create(bytes, json)).build()).enqueue(new Callback() {
        public void onFailure(Call call, java.io.IOException e) { bad.incrementAndGet(); done.incrementAndGet(); }
        public void onResponse(Call call, Response r) { try (r) { r.body().bytes(); if (r.code()!=200) bad.incrementAndGet(); } catch (Exception e) { bad.incrementAndGet(); } done.incrementAndGet(); }
      });
    } else {
      HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10));
      if (mode.equals("jdkdirect")) b.executor(Runnable::run);
      HttpClient c = b.build();
      URI u = URI.create(url);
      sender = i -> c.sendAsync(HttpRequest.newBuilder(u).timeout(Duration.ofSeconds(60)).header("Content-Type","application/json").POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(), HttpResponse.BodyHandlers.ofByteArray())
          .whenComplete((r, t) -> { if (t != null || r.statusCode() != 200) bad.incrementAndGet(); done.incrementAndGet(); });
    }
    var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    long period = (long) (1e9 / rps); long start = System.nanoTime(); long next = start;
    long warm = start + 20_000_000_000L, end = warm + seconds * 1_000_000_000L;
    long cpu0 = -1, done0 = 0; int i = 0;
    while (true) {
      long now = System.nanoTime();
      if (cpu0 < 0 && now >= warm) { cpu0 = os.getProcessCpuTime(); done0 = done.get(); }
      if (now >= end) break;
      if (now < next) { LockSupport.parkNanos(next - now); continue; }
      sender.accept(i++); next += period;
    }
    long cpu1 = os.getProcessCpuTime(); long n = done.get() - done0;
    System.out.printf("%s rps=%.0f answered=%d bad=%d cpu_ms_per_req=%.4f%n", mode, n / (double) seconds, n, bad.get(), (cpu1 - cpu0) / 1e6 / n);
    System.exit(0);
  }
}
