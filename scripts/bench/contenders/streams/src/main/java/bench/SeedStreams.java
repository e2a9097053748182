package bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;

/**
 * The seed transform as a Kafka Streams app, for the side-by-side benchmark (scripts/bench/compare.ts).
 *
 *   java -cp ... bench.SeedStreams BROKERS INPUT OUTPUT DLQ APPLICATION_ID [THREADS [GUARANTEE]]
 *
 * GUARANTEE (else env STREAMS_GUARANTEE, else at_least_once): processing.guarantee, at_least_once or exactly_once_v2.
 * at_least_once: Streams commits only after the produced records are acked; commit.interval.ms 1000 like processor's
 * --commit-interval (Streams' own default for at_least_once is 30 s, which would make "all committed" 30 s late).
 * exactly_once_v2: outputs and input offsets in one transaction per commit; commit.interval.ms stays Streams' default
 * for it (100 ms). Env STREAMS_COMMIT_INTERVAL_MS overrides commit.interval.ms under either guarantee.
 * linger.ms 5 (Kafka 4's client default; Streams would raise it to 100 ms, which only adds latency here).
 * A record that fails the rule goes to the DLQ unchanged (a branch); the rest go to OUTPUT as {id,timestamp,data,status}.
 * Runs until killed.
 */
public final class SeedStreams {
  private static final long DAY_MS = 24L * 60 * 60 * 1000;
  private static final long FUTURE_SKEW_MS = 5L * 60 * 1000;
  private static final Pattern RFC3339 =
      Pattern.compile("^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?:[Zz]|[+-]\\d{2}:\\d{2})$");
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Marks a failed record in the branch; null values in Streams would mean "delete", so a sentinel array is used. */
  private static final byte[] FAILED = new byte[0];

  private SeedStreams() {}

  /** The output value, or FAILED when the record belongs in the dead-letter topic. */
  static byte[] transform(byte[] value) {
    if (value == null) return FAILED;
    try {
      String text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(value))
          .toString();
      JsonNode node = JSON.readTree(text);
      if (node == null || !node.isObject()) return FAILED;
      JsonNode id = node.get("id");
      JsonNode timestamp = node.get("timestamp");
      JsonNode data = node.get("data");
      if (id == null || !(id.isTextual() || id.isNumber())) return FAILED;
      if (timestamp == null || !timestamp.isTextual() || data == null || !data.isTextual()) return FAILED;
      String ts = timestamp.asText();
      if (!RFC3339.matcher(ts).matches()) return FAILED;
      long time = OffsetDateTime.parse(ts.replace(' ', 'T').replace('t', 'T').replace('z', 'Z')).toInstant().toEpochMilli();
      long now = System.currentTimeMillis();
      if (now - time > DAY_MS || time - now > FUTURE_SKEW_MS) return FAILED;
      String dataText = data.asText();
      ObjectNode out = JSON.createObjectNode();
      out.set("id", id);
      out.put("timestamp", ts);
      out.put("data", dataText);
      // String.length counts UTF-16 units, as JavaScript's does
      out.put("status", dataText.length() > 10 ? "valid" : "invalid");
      return JSON.writeValueAsBytes(out);
    } catch (CharacterCodingException e) {
      return FAILED;
    } catch (Exception e) {
      // unparsable JSON, an impossible date: permanent failures of the seed rule
      return FAILED;
    }
  }

  public static void main(String[] args) throws InterruptedException {
    if (args.length < 5) {
      System.err.println("usage: SeedStreams BROKERS INPUT OUTPUT DLQ APPLICATION_ID [THREADS [GUARANTEE]]");
      System.exit(2);
    }
    String input = args[1], output = args[2], dlq = args[3];
    Properties props = new Properties();
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[4]);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, args.length > 5 ? Integer.parseInt(args[5]) : 1);
    String envGuarantee = System.getenv("STREAMS_GUARANTEE");
    String guarantee = args.length > 6 ? args[6]
        : envGuarantee != null && !envGuarantee.isEmpty() ? envGuarantee : StreamsConfig.AT_LEAST_ONCE;
    if (!guarantee.equals(StreamsConfig.AT_LEAST_ONCE) && !guarantee.equals(StreamsConfig.EXACTLY_ONCE_V2)) {
      System.err.println("SeedStreams: GUARANTEE must be at_least_once or exactly_once_v2, got " + guarantee);
      System.exit(2);
    }
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    String commitInterval = System.getenv("STREAMS_COMMIT_INTERVAL_MS");
    if (commitInterval != null && !commitInterval.isEmpty())
      props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(commitInterval));
    else if (guarantee.equals(StreamsConfig.AT_LEAST_ONCE)) props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);
    // else: Streams' exactly-once default (100 ms)
    props.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("java.io.tmpdir") + "/bench-streams-" + args[4]);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
    props.put(StreamsConfig.producerPrefix(ProducerConfig.ACKS_CONFIG), "all");

    StreamsBuilder builder = new StreamsBuilder();
    KStream<byte[], byte[]> in = builder.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()));
    // keep the original value next to the result: the DLQ gets the input record unchanged
    Map<String, KStream<byte[], byte[][]>> branches = in
        .mapValues(v -> new byte[][] {v, transform(v)})
        .split(Named.as("seed-"))
        .branch((k, pair) -> pair[1] == FAILED, Branched.as("dlq"))
        .defaultBranch(Branched.as("ok"));
    Produced<byte[], byte[]> bytes = Produced.with(Serdes.ByteArray(), Serdes.ByteArray());
    branches.get("seed-dlq").mapValues(pair -> pair[0]).to(dlq, bytes);
    branches.get("seed-ok").mapValues(pair -> pair[1]).to(output, bytes);

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      stopped.countDown();
    }));
    streams.start();
    System.err.println("SeedStreams: processing.guarantee=" + guarantee + ", commit.interval.ms="
        + new StreamsConfig(props).getLong(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG));
    stopped.await();
  }
}
