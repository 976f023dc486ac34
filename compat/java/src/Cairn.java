// One running `cairn serve` for a check, with its own data dir on port 0, and clients of the
// AWS SDK for Java (v1) pointed at it with nothing but an endpoint configuration, as a user
// would write them. Closing it kills the server and runs `cairn verify-store` on the data dir.

import com.amazonaws.ClientConfiguration;
import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.client.builder.AwsClientBuilder;
import com.amazonaws.retry.PredefinedRetryPolicies;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

final class Cairn implements AutoCloseable {
    static final String ACCESS_KEY = "AKIDCOMPATJAVA";
    static final String SECRET_KEY = "compat-java-secret";
    static final String ACCOUNT = "123456789012";
    static final String REGION = "us-east-1";
    private static final String LISTENING = "cairn listening on ";

    final Path dir;
    final String bin;
    private final List<String> extra;
    private Process process;
    String endpoint;

    private Cairn(String... extra) throws IOException {
        this.bin = System.getenv().getOrDefault("CAIRN_BIN", "../../target/debug/cairn");
        this.dir = Files.createTempDirectory("cairn-java-");
        this.extra = List.of(extra);
    }

    /** Starts a server with `serve`'s extra arguments. */
    static Cairn start(String... extra) throws Exception {
        Cairn c = new Cairn(extra);
        c.spawn("127.0.0.1:0");
        return c;
    }

    private void spawn(String listen) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(bin, "serve", "--listen", listen, "--data-dir", dir.toString()));
        cmd.addAll(extra);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("CAIRN_ROOT_ACCESS_KEY_ID", ACCESS_KEY);
        pb.environment().put("CAIRN_ROOT_SECRET_ACCESS_KEY", SECRET_KEY);
        pb.environment().put("CAIRN_LOG", "warn");
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        process = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith(LISTENING)) {
                endpoint = line.substring(LISTENING.length()).trim();
                break;
            }
        }
        if (endpoint == null) {
            throw new IllegalStateException("cairn exited before listening: " + process.waitFor());
        }
        // The rest of stdout is drained so the server never blocks on it.
        CompletableFuture.runAsync(() -> {
            try {
                while (out.readLine() != null) {
                    // discarded
                }
            } catch (IOException ignored) {
                // the server stopped
            }
        });
    }

    private void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /**
     * Stops the server (flush refuses a data dir a server holds), runs `cairn flush`, and
     * starts the server again on the same address. Clients keep working: they reconnect.
     */
    String flush() throws Exception {
        kill();
        String report = run(bin, "flush", "--data-dir", dir.toString());
        spawn(endpoint.replaceFirst("^http://", "").replaceAll("/$", ""));
        return report;
    }

    /** Runs a command to completion; its stdout, or an exception naming its output. */
    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    /** A client of this server: the root's credentials unless others are given, no retries. */
    <B extends AwsClientBuilder<B, T>, T> T client(B builder, String... creds) {
        String key = creds.length == 2 ? creds[0] : ACCESS_KEY;
        String secret = creds.length == 2 ? creds[1] : SECRET_KEY;
        return builder
                .withEndpointConfiguration(new AwsClientBuilder.EndpointConfiguration(endpoint, REGION))
                .withCredentials(new AWSStaticCredentialsProvider(new BasicAWSCredentials(key, secret)))
                .withClientConfiguration(new ClientConfiguration().withRetryPolicy(PredefinedRetryPolicies.NO_RETRY_POLICY))
                .build();
    }

    @Override
    public void close() throws Exception {
        kill();
        try {
            run(bin, "verify-store", "--data-dir", dir.toString());
        } finally {
            try (var paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            // The KMS master key the server made beside its data dir.
            Files.deleteIfExists(dir.resolveSibling(dir.getFileName() + ".kms-master-key"));
        }
    }

    /** The README quick start's bucket policy for `bucket`. */
    static String cloudTrailPolicy(String bucket) {
        return "{\"Version\":\"2012-10-17\",\"Statement\":["
                + "{\"Sid\":\"AWSCloudTrailAclCheck20150319\",\"Effect\":\"Allow\","
                + "\"Principal\":{\"Service\":\"cloudtrail.amazonaws.com\"},\"Action\":\"s3:GetBucketAcl\","
                + "\"Resource\":\"arn:aws:s3:::" + bucket + "\"},"
                + "{\"Sid\":\"AWSCloudTrailWrite20150319\",\"Effect\":\"Allow\","
                + "\"Principal\":{\"Service\":\"cloudtrail.amazonaws.com\"},\"Action\":\"s3:PutObject\","
                + "\"Resource\":\"arn:aws:s3:::" + bucket + "/AWSLogs/" + ACCOUNT + "/*\","
                + "\"Condition\":{\"StringEquals\":{\"s3:x-amz-acl\":\"bucket-owner-full-control\"}}}]}";
    }
}
