import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.*;
import io.netty.channel.*;
import io.netty.channel.epoll.*;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.concurrent.locks.LockSupport;

public class NettyBench {
  static final AtomicLong done = new AtomicLong(), bad = new AtomicLong();
  static final ConcurrentLinkedDeque<Channel> idle = new ConcurrentLinkedDeque<>();
  public static void main(String[] a) throws Exception {
    int port = Integer.parseInt(a[0]); double rps = Double.parseDouble(a[1]); int seconds = Integer.parseInt(a[2]); boolean epoll = a.length > 3 && a[3].equals("epoll");
    String body = "{\"messages\":[{\"content\":\"You are a helpful assistant that answers questions.\",\"role\":\"system\"},{\"content\":\"Question number 12345: what is the capital of France? Answer briefly.\",\"role\":\"user\"}],\"model\":\"gpt-4o-mini\",\"max_tokens\":16,\"temperature\":0.7}";
    byte[] bytes = body.getBytes();
    EventLoopGroup g = epoll ? new EpollEventLoopGroup(1) : new NioEventLoopGroup(1);
    Bootstrap b = new Bootstrap().group(g).channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
      .handler(new ChannelInitializer<Channel>() {
        protected void initChannel(Channel ch) {
          ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20), new SimpleChannelInboundHandler<FullHttpResponse>() {
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
              if (r.status().code() != 200) bad.incrementAndGet();
              byte[] out = new byte[r.content().readableBytes()]; r.content().readBytes(out);
              done.incrementAndGet(); idle.push(ctx.channel());
            }
          });
        }
      });
    var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    long period = (long) (1e9 / rps); long start = System.nanoTime(); long next = start;
    long warm = start + 20_000_000_000L, end = warm + seconds * 1_000_000_000L;
    long cpu0 = -1, done0 = 0;
    while (true) {
      long now = System.nanoTime();
      if (cpu0 < 0 && now >= warm) { cpu0 = os.getProcessCpuTime(); done0 = done.get(); }
      if (now >= end) break;
      if (now < next) { LockSupport.parkNanos(next - now); continue; }
      Channel c = idle.poll();
      FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chat/completions", Unpooled.wrappedBuffer(bytes));
      req.headers().set(HttpHeaderNames.HOST, "127.0.0.1:" + port).set(HttpHeaderNames.CONTENT_TYPE, "application/json").setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
      if (c == null) { b.connect("127.0.0.1", port).addListener((ChannelFutureListener) f -> f.channel().writeAndFlush(req)); }
      else c.writeAndFlush(req);
      next += period;
    }
    long cpu1 = os.getProcessCpuTime(); long n = done.get() - done0;
    System.out.printf("netty%s rps=%.0f answered=%d bad=%d cpu_ms_per_req=%.4f%n", epoll ? "-epoll" : "-nio", n / (double) seconds, n, bad.get(), (cpu1 - cpu0) / 1e6 / n);
    System.exit(0);
  }
}
