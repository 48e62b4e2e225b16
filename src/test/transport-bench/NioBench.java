import java.net.*;
import java.nio.*;
import java.nio.channels.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.concurrent.locks.LockSupport;

/** Minimal floor: pacer thread writes requests directly on idle keep-alive connections; one selector thread reads answers. */
public class NioBench {
  static final AtomicLong done = new AtomicLong(), bad = new AtomicLong();
  static final ConcurrentLinkedDeque<SocketChannel> idle = new ConcurrentLinkedDeque<>();
  static final ConcurrentLinkedQueue<SocketChannel> toRegister = new ConcurrentLinkedQueue<>();
  public static void main(String[] a) throws Exception {
    String host = "127.0.0.1"; int port = Integer.parseInt(a[0]); double rps = Double.parseDouble(a[1]); int seconds = Integer.parseInt(a[2]);
    String body = "{\"messages\":[{\"content\":\"You are a helpful assistant that answers questions.\",\"role\":\"system\"},{\"content\":\"Question number 12345: what is the capital of France? Answer briefly.\",\"role\":\"user\"}],\"model\":\"gpt-4o-mini\",\"max_tokens\":16,\"temperature\":0.7}";
    byte[] req = ("POST /v1/chat/completions HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body).getBytes();
    Selector sel = Selector.open();
    Thread reader = new Thread(() -> {
      ByteBuffer buf = ByteBuffer.allocateDirect(65536);
      Map<SocketChannel, StringBuilder> partial = new HashMap<>();
      try {
        while (true) {
          sel.select(100);
          for (SocketChannel c; (c = toRegister.poll()) != null; ) c.register(sel, SelectionKey.OP_READ);
          Iterator<SelectionKey> it = sel.selectedKeys().iterator();
          while (it.hasNext()) {
            SelectionKey k = it.next(); it.remove();
            SocketChannel c = (SocketChannel) k.channel();
            buf.clear(); int n = c.read(buf); if (n < 0) { k.cancel(); c.close(); continue; }
            buf.flip(); byte[] b = new byte[buf.remaining()]; buf.get(b);
            StringBuilder sb = partial.computeIfAbsent(c, x -> new StringBuilder()); sb.append(new String(b, java.nio.charset.StandardCharsets.ISO_8859_1));
            int he = sb.indexOf("\r\n\r\n"); if (he < 0) continue;
            String head = sb.substring(0, he).toLowerCase(); int cl = head.indexOf("content-length: ");
            int len = Integer.parseInt(sb.substring(cl + 16, (head.indexOf("\r\n", cl) < 0 ? he : head.indexOf("\r\n", cl))).trim());
            if (sb.length() < he + 4 + len) continue;
            if (sb.indexOf("HTTP/1.1 200") != 0) bad.incrementAndGet();
            sb.setLength(0); done.incrementAndGet(); idle.push(c);
          }
        }
      } catch (Exception e) { e.printStackTrace(); }
    });
    reader.setDaemon(true); reader.start();
    var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    long period = (long) (1e9 / rps); long start = System.nanoTime(); long next = start;
    long warm = start + 20_000_000_000L, end = warm + seconds * 1_000_000_000L;
    long cpu0 = -1, done0 = 0;
    while (true) {
      long now = System.nanoTime();
      if (cpu0 < 0 && now >= warm) { cpu0 = os.getProcessCpuTime(); done0 = done.get(); }
      if (now >= end) break;
      if (now < next) { LockSupport.parkNanos(next - now); continue; }
      SocketChannel c = idle.poll();
      if (c == null) { c = SocketChannel.open(new InetSocketAddress(host, port)); c.configureBlocking(false); c.setOption(StandardSocketOptions.TCP_NODELAY, true); toRegister.add(c); sel.wakeup(); }
      c.write(ByteBuffer.wrap(req));
      next += period;
    }
    long cpu1 = os.getProcessCpuTime(); long n = done.get() - done0;
    System.out.printf("nio rps=%.0f answered=%d bad=%d cpu_ms_per_req=%.4f%n", n / (double) seconds, n, bad.get(), (cpu1 - cpu0) / 1e6 / n);
    System.exit(0);
  }
}
