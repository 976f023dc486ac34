// S3 through the AWS SDK for Java (v1), with its defaults: chunked payload signing
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) on plain HTTP, the client's MD5 check of every PutObject
// ETag and GetObject body, TransferManager's parallel multipart upload, presigned URLs, and
// typed S3 errors.

import com.amazonaws.HttpMethod;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;
import com.amazonaws.services.s3.model.AmazonS3Exception;
import com.amazonaws.services.s3.model.CopyObjectRequest;
import com.amazonaws.services.s3.model.DeleteObjectsRequest;
import com.amazonaws.services.s3.model.DeleteObjectsResult;
import com.amazonaws.services.s3.model.GetObjectRequest;
import com.amazonaws.services.s3.model.ListObjectsV2Request;
import com.amazonaws.services.s3.model.ListObjectsV2Result;
import com.amazonaws.services.s3.model.ObjectMetadata;
import com.amazonaws.services.s3.model.PutObjectRequest;
import com.amazonaws.services.s3.model.S3Object;
import com.amazonaws.services.s3.transfer.TransferManager;
import com.amazonaws.services.s3.transfer.TransferManagerBuilder;
import com.amazonaws.services.s3.transfer.Upload;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

final class S3Checks {
    private S3Checks() {}

    private static AmazonS3 s3(Cairn c) {
        return c.client(AmazonS3ClientBuilder.standard().withPathStyleAccessEnabled(true));
    }

    static void objects() throws Exception {
        try (Cairn c = Cairn.start()) {
            AmazonS3 s3 = s3(c);
            String bucket = "java-objects";
            s3.createBucket(bucket);
            Check.that(s3.doesBucketExistV2(bucket), "doesBucketExistV2");
            s3.putObject(bucket, "hello.txt", "hello from java");
            Check.equal("hello from java", s3.getObjectAsString(bucket, "hello.txt"), "body");

            // A stream of unknown length with user metadata: chunk-signed, MD5-checked.
            byte[] body = new byte[300_000];
            new Random(7).nextBytes(body);
            ObjectMetadata meta = new ObjectMetadata();
            meta.addUserMetadata("origin", "java");
            meta.setContentType("application/octet-stream");
            s3.putObject(new PutObjectRequest(bucket, "dir/blob.bin", new ByteArrayInputStream(body), meta));
            ObjectMetadata head = s3.getObjectMetadata(bucket, "dir/blob.bin");
            Check.equal((long) body.length, head.getContentLength(), "Content-Length");
            Check.equal("java", head.getUserMetaDataOf("origin"), "user metadata");
            Check.equal(HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(body)), head.getETag(), "ETag");
            try (S3Object o = s3.getObject(new GetObjectRequest(bucket, "dir/blob.bin").withRange(10, 19));
                 InputStream in = o.getObjectContent()) {
                Check.that(Arrays.equals(Arrays.copyOfRange(body, 10, 20), in.readAllBytes()), "ranged GET");
            }

            s3.copyObject(new CopyObjectRequest(bucket, "dir/blob.bin", bucket, "copy/blob.bin"));
            Check.equal(head.getETag(), s3.getObjectMetadata(bucket, "copy/blob.bin").getETag(), "copied ETag");

            // ListObjectsV2 in pages of two, with a delimiter.
            for (int i = 0; i < 5; i++) {
                s3.putObject(bucket, "many/" + i, "x" + i);
            }
            List<String> keys = new ArrayList<>();
            ListObjectsV2Request list = new ListObjectsV2Request().withBucketName(bucket).withPrefix("many/").withMaxKeys(2);
            ListObjectsV2Result page;
            do {
                page = s3.listObjectsV2(list);
                page.getObjectSummaries().forEach(o -> keys.add(o.getKey()));
                list.setContinuationToken(page.getNextContinuationToken());
            } while (page.isTruncated());
            Check.equal(List.of("many/0", "many/1", "many/2", "many/3", "many/4"), keys, "paged keys");
            List<String> prefixes = s3.listObjectsV2(new ListObjectsV2Request().withBucketName(bucket).withDelimiter("/"))
                    .getCommonPrefixes();
            Check.equal(List.of("copy/", "dir/", "many/"), prefixes, "common prefixes");

            // A presigned GET works for anyone holding it, and only until it expires.
            URL url = s3.generatePresignedUrl(bucket, "hello.txt", new Date(System.currentTimeMillis() + 60_000), HttpMethod.GET);
            HttpURLConnection get = (HttpURLConnection) url.openConnection();
            Check.equal(200, get.getResponseCode(), "presigned GET");
            Check.equal("hello from java", new String(get.getInputStream().readAllBytes(), StandardCharsets.UTF_8), "presigned body");

            AmazonS3Exception missing = (AmazonS3Exception) Check.fails(() -> s3.getObject(bucket, "no/such/key"));
            Check.equal("NoSuchKey", missing.getErrorCode(), "NoSuchKey");
            Check.equal(404, missing.getStatusCode(), "404");
            Check.that(missing.getRequestId() != null && !missing.getRequestId().isEmpty(), "request id");
            AmazonS3Exception noBucket = (AmazonS3Exception) Check.fails(() -> s3.listObjectsV2("no-such-bucket-java"));
            Check.equal("NoSuchBucket", noBucket.getErrorCode(), "NoSuchBucket");

            DeleteObjectsResult deleted = s3.deleteObjects(new DeleteObjectsRequest(bucket).withKeys(
                    "many/0", "many/1", "many/2", "many/3", "many/4", "never-existed"));
            Check.equal(6, deleted.getDeletedObjects().size(), "deleted (a missing key counts as deleted)");
            Check.equal(0, s3.listObjectsV2(bucket, "many/").getKeyCount(), "nothing left");
        }
    }

    static void multipart() throws Exception {
        try (Cairn c = Cairn.start()) {
            AmazonS3 s3 = s3(c);
            String bucket = "java-multipart";
            s3.createBucket(bucket);
            byte[] body = new byte[17 * 1024 * 1024 + 123];
            new Random(11).nextBytes(body);
            // From a file, TransferManager uploads its parts in parallel (a stream goes one part
            // at a time).
            java.nio.file.Path file = java.nio.file.Files.createTempFile("cairn-java-", ".bin");
            java.nio.file.Files.write(file, body);
            TransferManager tm = TransferManagerBuilder.standard().withS3Client(s3)
                    .withMultipartUploadThreshold(5L * 1024 * 1024).withMinimumUploadPartSize(5L * 1024 * 1024).build();
            try {
                Upload up = tm.upload(bucket, "big.bin", file.toFile());
                String etag = up.waitForUploadResult().getETag();
                Check.that(etag.endsWith("-4"), "a four-part ETag: " + etag);
            } finally {
                tm.shutdownNow(false);
                java.nio.file.Files.deleteIfExists(file);
            }
            try (S3Object o = s3.getObject(bucket, "big.bin"); InputStream in = o.getObjectContent()) {
                Check.that(Arrays.equals(body, in.readAllBytes()), "multipart body round trip");
            }
            Check.equal(0, s3.listMultipartUploads(new com.amazonaws.services.s3.model.ListMultipartUploadsRequest(bucket))
                    .getMultipartUploads().size(), "no upload left in progress");
        }
    }
}
