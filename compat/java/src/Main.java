// The AWS SDK for Java (v1) suite: each check starts its own Cairn, drives it with unmodified
// SDK clients, and verifies the store when it stops. Checks run two at a time; the exit code
// is the number of failures.

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        // The SDK's notes on this JVM (no JAXB on Java 9+) are not test output.
        java.util.logging.Logger.getLogger("com.amazonaws").setLevel(java.util.logging.Level.SEVERE);
        Map<String, Check.Body> checks = new LinkedHashMap<>();
        checks.put("cloudtrail quick start", CloudTrailChecks::quickStart);
        checks.put("s3 objects", S3Checks::objects);
        checks.put("s3 multipart", S3Checks::multipart);
        checks.put("iam and sts", ServiceChecks::identity);
        checks.put("kms and sns", ServiceChecks::kmsAndSns);
        checks.put("cloudwatch and logs", ServiceChecks::monitoring);
        checks.put("cloudformation", ServiceChecks::cloudFormation);
        String only = args.length > 0 ? args[0] : "";
        ExecutorService pool = Executors.newFixedThreadPool(2);
        Map<String, Future<Throwable>> running = new LinkedHashMap<>();
        checks.forEach((name, body) -> {
            if (name.contains(only)) {
                running.put(name, pool.submit(() -> {
                    try {
                        body.run();
                        return null;
                    } catch (Throwable t) {
                        return t;
                    }
                }));
            }
        });
        int failed = 0;
        for (Map.Entry<String, Future<Throwable>> e : running.entrySet()) {
            Throwable t = e.getValue().get();
            if (t == null) {
                System.out.println("ok   " + e.getKey());
            } else {
                failed++;
                System.out.println("FAIL " + e.getKey());
                t.printStackTrace(System.out);
            }
        }
        pool.shutdown();
        System.out.println(running.size() - failed + " passed, " + failed + " failed");
        System.exit(Math.min(failed, 100));
    }
}
