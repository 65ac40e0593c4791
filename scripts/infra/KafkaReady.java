// Readiness probe for the local broker, run by up.sh with the source launcher:
//   java -cp "<kafka libs>/*" KafkaReady.java <bootstrap> <timeout-ms>
// Ready means: DescribeCluster and Metadata (listTopics) requests succeed, and
// the group coordinator answers (OffsetFetch for a dummy group, which makes the
// broker create __consumer_offsets now rather than in the first test).
// Exit 0 when ready, 1 on timeout (last error on stderr).
import java.util.Collection;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.time.Duration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.common.Node;

public class KafkaReady {
  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: KafkaReady <bootstrap> <timeout-ms>");
      System.exit(2);
    }
    String bootstrap = args[0];
    long deadline = System.currentTimeMillis() + Long.parseLong(args[1]);
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "authority-infra-ready");
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
    p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 100);
    p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
    Throwable last = null;
    try (Admin admin = Admin.create(p)) {
      while (System.currentTimeMillis() < deadline) {
        long left = Math.max(500, deadline - System.currentTimeMillis());
        try {
          String clusterId = admin.describeCluster().clusterId().get(left, TimeUnit.MILLISECONDS);
          Collection<Node> nodes = admin.describeCluster().nodes().get(left, TimeUnit.MILLISECONDS);
          Set<String> topics = admin.listTopics(new ListTopicsOptions().listInternal(true))
              .names().get(left, TimeUnit.MILLISECONDS);
          admin.listConsumerGroupOffsets("authority-infra-readiness")
              .partitionsToOffsetAndMetadata().get(left, TimeUnit.MILLISECONDS);
          System.out.println("kafka ready: clusterId=" + clusterId + " nodes=" + nodes.size()
              + " topics=" + topics.size());
          admin.close(Duration.ofSeconds(2));
          System.exit(0);
        } catch (ExecutionException e) {
          last = e.getCause();
        } catch (TimeoutException e) {
          last = e;
        }
        Thread.sleep(200);
      }
      admin.close(Duration.ofSeconds(1));
    }
    System.err.println("kafka not ready at " + bootstrap + ": " + last);
    System.exit(1);
  }
}
