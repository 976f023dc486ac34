// The README quick start through the AWS SDK for Java (v1): a bucket with CloudTrail's
// policy, a trail with log file validation, logging, paged LookupEvents, typed errors, and a
// delivered log file read back through S3 whose records name the calls just made.

import com.amazonaws.services.cloudtrail.AWSCloudTrail;
import com.amazonaws.services.cloudtrail.AWSCloudTrailClientBuilder;
import com.amazonaws.services.cloudtrail.model.CreateTrailRequest;
import com.amazonaws.services.cloudtrail.model.DeleteTrailRequest;
import com.amazonaws.services.cloudtrail.model.DescribeTrailsRequest;
import com.amazonaws.services.cloudtrail.model.EventSelector;
import com.amazonaws.services.cloudtrail.model.GetEventSelectorsRequest;
import com.amazonaws.services.cloudtrail.model.GetTrailStatusRequest;
import com.amazonaws.services.cloudtrail.model.GetTrailStatusResult;
import com.amazonaws.services.cloudtrail.model.LookupAttribute;
import com.amazonaws.services.cloudtrail.model.LookupEventsRequest;
import com.amazonaws.services.cloudtrail.model.LookupEventsResult;
import com.amazonaws.services.cloudtrail.model.PutEventSelectorsRequest;
import com.amazonaws.services.cloudtrail.model.StartLoggingRequest;
import com.amazonaws.services.cloudtrail.model.StopLoggingRequest;
import com.amazonaws.services.cloudtrail.model.Tag;
import com.amazonaws.services.cloudtrail.model.Trail;
import com.amazonaws.services.cloudtrail.model.TrailNotFoundException;
import com.amazonaws.services.cloudtrail.model.ListTagsRequest;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;
import com.amazonaws.services.s3.model.S3ObjectSummary;
import com.amazonaws.thirdparty.jackson.databind.JsonNode;
import com.amazonaws.util.json.Jackson;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;

final class CloudTrailChecks {
    private CloudTrailChecks() {}

    static void quickStart() throws Exception {
        try (Cairn c = Cairn.start()) {
            AmazonS3 s3 = c.client(AmazonS3ClientBuilder.standard().withPathStyleAccessEnabled(true));
            AWSCloudTrail ct = c.client(AWSCloudTrailClientBuilder.standard());
            String bucket = "java-trail-bucket";
            s3.createBucket(bucket);
            s3.setBucketPolicy(bucket, Cairn.cloudTrailPolicy(bucket));
            String arn = ct.createTrail(new CreateTrailRequest().withName("java-trail").withS3BucketName(bucket)
                    .withIsMultiRegionTrail(true).withEnableLogFileValidation(true)
                    .withTagsList(new Tag().withKey("createdBy").withValue("java"))).getTrailARN();
            Check.equal("arn:aws:cloudtrail:us-east-1:" + Cairn.ACCOUNT + ":trail/java-trail", arn, "TrailARN");
            ct.startLogging(new StartLoggingRequest().withName("java-trail"));
            List<Trail> trails = ct.describeTrails(new DescribeTrailsRequest()).getTrailList();
            Check.equal(1, trails.size(), "trails");
            Check.equal(true, trails.get(0).getLogFileValidationEnabled(), "LogFileValidationEnabled");
            Check.equal(true, trails.get(0).getIsMultiRegionTrail(), "IsMultiRegionTrail");
            GetTrailStatusResult status = ct.getTrailStatus(new GetTrailStatusRequest().withName(arn));
            Check.equal(true, status.getIsLogging(), "IsLogging");
            Check.that(status.getStartLoggingTime() != null, "StartLoggingTime is a date");
            Check.equal("java", ct.listTags(new ListTagsRequest().withResourceIdList(arn))
                    .getResourceTagList().get(0).getTagsList().get(0).getValue(), "tag");
            ct.putEventSelectors(new PutEventSelectorsRequest().withTrailName("java-trail").withEventSelectors(
                    new EventSelector().withReadWriteType("WriteOnly").withIncludeManagementEvents(true)));
            Check.equal("WriteOnly", ct.getEventSelectors(new GetEventSelectorsRequest().withTrailName("java-trail"))
                    .getEventSelectors().get(0).getReadWriteType(), "ReadWriteType");

            TrailNotFoundException missing = (TrailNotFoundException) Check.fails(
                    () -> ct.getTrailStatus(new GetTrailStatusRequest().withName("no-such-trail")));
            Check.equal("TrailNotFoundException", missing.getErrorCode(), "typed error code");
            Check.that(missing.getErrorMessage().contains("no-such-trail"), "message names the trail: " + missing.getErrorMessage());

            // Paged LookupEvents: three of the calls above, one per page, never repeated.
            Set<String> ids = new HashSet<>();
            List<String> names = new ArrayList<>();
            String token = null;
            do {
                LookupEventsResult page = ct.lookupEvents(new LookupEventsRequest().withMaxResults(1).withNextToken(token)
                        .withLookupAttributes(new LookupAttribute().withAttributeKey("ResourceType")
                                .withAttributeValue("AWS::CloudTrail::Trail")));
                page.getEvents().forEach(e -> {
                    Check.that(ids.add(e.getEventId()), "event repeated across pages: " + e.getEventId());
                    names.add(e.getEventName());
                });
                token = page.getNextToken();
            } while (token != null);
            Check.that(names.containsAll(List.of("CreateTrail", "StartLogging", "PutEventSelectors")), "events: " + names);

            // The delivered log file, read back through S3, holds the records of the calls made
            // while the trail logged.
            // Pooled connections died with the server: clients made after the flush.
            c.flush();
            afterFlush(c, bucket);
        }
    }

    private static void afterFlush(Cairn c, String bucket) throws Exception {
        {
            AmazonS3 s3 = c.client(AmazonS3ClientBuilder.standard().withPathStyleAccessEnabled(true));
            AWSCloudTrail ct = c.client(AWSCloudTrailClientBuilder.standard());
            List<S3ObjectSummary> files = s3.listObjectsV2(bucket, "AWSLogs/" + Cairn.ACCOUNT + "/CloudTrail/").getObjectSummaries();
            Check.that(!files.isEmpty(), "no log file delivered");
            Set<String> recorded = new HashSet<>();
            for (S3ObjectSummary f : files) {
                try (InputStream in = new GZIPInputStream(s3.getObject(bucket, f.getKey()).getObjectContent())) {
                    JsonNode file = Jackson.getObjectMapper().readTree(in);
                    file.get("Records").forEach(r -> recorded.add(r.get("eventName").asText()));
                }
            }
            Check.that(recorded.containsAll(List.of("StartLogging", "PutEventSelectors")), "records: " + recorded);
            Check.that(!s3.listObjectsV2(bucket, "AWSLogs/" + Cairn.ACCOUNT + "/CloudTrail-Digest/").getObjectSummaries().isEmpty(),
                    "no digest delivered");

            ct.stopLogging(new StopLoggingRequest().withName("java-trail"));
            Check.equal(false, ct.getTrailStatus(new GetTrailStatusRequest().withName("java-trail")).getIsLogging(), "stopped");
            ct.deleteTrail(new DeleteTrailRequest().withName("java-trail"));
            Check.equal(0, ct.describeTrails(new DescribeTrailsRequest()).getTrailList().size(), "deleted");
        }
    }
}
