// CloudTrail with the AWS SDK for Go v2, which sends the short
// `X-Amz-Target: CloudTrail_20131101.<Op>`: a bucket with the quick start's policy, a trail,
// logging on and off, event history through the SDK's paginator, a typed error, deletion,
// and the log files `cairn flush` delivers, read back with the S3 client.
package compat

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	trailBucket = "go-sdk-trail-bucket"
	trailName   = "go-sdk-trail"
	trailARN    = "arn:aws:cloudtrail:us-east-1:" + account + ":trail/" + trailName
)

// lookupAll is every event named `name`, through the SDK's paginator, and the page count.
func lookupAll(t *testing.T, ct *cloudtrail.Client, name string, pageSize int32) ([]cttypes.Event, int) {
	t.Helper()
	paginator := cloudtrail.NewLookupEventsPaginator(ct, &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{
			AttributeKey:   cttypes.LookupAttributeKeyEventName,
			AttributeValue: aws.String(name),
		}},
		MaxResults: aws.Int32(pageSize),
	})
	var events []cttypes.Event
	pages := 0
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(context.Background())
		must(t, err, "LookupEvents page")
		pages++
		if len(page.Events) > int(pageSize) {
			t.Fatalf("a page holds at most MaxResults (%d) events, got %d", pageSize, len(page.Events))
		}
		events = append(events, page.Events...)
	}
	return events, pages
}

func TestCloudTrailWorkflow(t *testing.T) {
	srv := startCairn(t, "--delivery-interval", "86400")
	ctx := context.Background()
	cfg := srv.config(t)
	ct := cloudtrail.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })

	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(trailBucket)})
	must(t, err, "CreateBucket")
	_, err = s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
		Bucket: aws.String(trailBucket),
		Policy: aws.String(cloudtrailPolicy(trailBucket)),
	})
	must(t, err, "PutBucketPolicy")
	policy, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(trailBucket)})
	must(t, err, "GetBucketPolicy")
	if !jsonEqual(t, aws.ToString(policy.Policy), cloudtrailPolicy(trailBucket)) {
		t.Fatalf("GetBucketPolicy gave %s", aws.ToString(policy.Policy))
	}

	created, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name:                    aws.String(trailName),
		S3BucketName:            aws.String(trailBucket),
		IsMultiRegionTrail:      aws.Bool(true),
		EnableLogFileValidation: aws.Bool(true),
		TagsList:                []cttypes.Tag{{Key: aws.String("createdBy"), Value: aws.String("go-sdk")}},
	})
	must(t, err, "CreateTrail")
	if aws.ToString(created.Name) != trailName || aws.ToString(created.TrailARN) != trailARN ||
		aws.ToString(created.S3BucketName) != trailBucket || !aws.ToBool(created.IsMultiRegionTrail) ||
		!aws.ToBool(created.LogFileValidationEnabled) {
		t.Fatalf("CreateTrail answered %+v", created)
	}

	described, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{trailName}})
	must(t, err, "DescribeTrails")
	if len(described.TrailList) != 1 {
		t.Fatalf("DescribeTrails gave %d trails", len(described.TrailList))
	}
	trail := described.TrailList[0]
	if aws.ToString(trail.TrailARN) != trailARN || aws.ToString(trail.HomeRegion) != region ||
		!aws.ToBool(trail.IsMultiRegionTrail) || aws.ToString(trail.S3BucketName) != trailBucket {
		t.Fatalf("DescribeTrails gave %+v", trail)
	}

	_, err = ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(trailName)})
	must(t, err, "StartLogging")
	const statusCalls = 7
	var statusRequestIDs []string
	for i := 0; i < statusCalls; i++ {
		status, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(trailARN)})
		must(t, err, "GetTrailStatus")
		if !aws.ToBool(status.IsLogging) || status.StartLoggingTime == nil || status.StartLoggingTime.IsZero() {
			t.Fatalf("GetTrailStatus after StartLogging: IsLogging %v, StartLoggingTime %v",
				aws.ToBool(status.IsLogging), status.StartLoggingTime)
		}
		id, ok := awsmiddleware.GetRequestIDMetadata(status.ResultMetadata)
		if !ok || id == "" {
			t.Fatal("GetTrailStatus has no request id")
		}
		statusRequestIDs = append(statusRequestIDs, id)
	}

	// Event history, newest first, in pages of 3: 7 calls take 3 pages.
	statuses, pages := lookupAll(t, ct, "GetTrailStatus", 3)
	if len(statuses) != statusCalls || pages != 3 {
		t.Fatalf("LookupEvents found %d GetTrailStatus events in %d pages, want %d in 3",
			len(statuses), pages, statusCalls)
	}
	seen := map[string]bool{}
	for i, event := range statuses {
		seen[aws.ToString(event.EventId)] = true
		if i > 0 && event.EventTime.After(*statuses[i-1].EventTime) {
			t.Fatalf("events not newest first: %v after %v", event.EventTime, statuses[i-1].EventTime)
		}
	}
	if len(seen) != statusCalls {
		t.Fatalf("the paginator repeated events: %d distinct of %d", len(seen), statusCalls)
	}
	creates, _ := lookupAll(t, ct, "CreateTrail", 50)
	if len(creates) != 1 {
		t.Fatalf("LookupEvents found %d CreateTrail events, want 1", len(creates))
	}
	create := creates[0]
	if aws.ToString(create.Username) != "root" || aws.ToString(create.AccessKeyId) != accessKey ||
		aws.ToString(create.EventSource) != "cloudtrail.amazonaws.com" ||
		aws.ToString(create.ReadOnly) != "false" {
		t.Fatalf("CreateTrail event %+v", create)
	}
	var detail map[string]any
	must(t, json.Unmarshal([]byte(aws.ToString(create.CloudTrailEvent)), &detail), "CloudTrailEvent JSON")
	if detail["eventName"] != "CreateTrail" || !strings.Contains(detail["userAgent"].(string), "aws-sdk-go-v2") {
		t.Fatalf("CloudTrailEvent %v", detail)
	}

	_, err = ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("no-such-trail")})
	var notFound *cttypes.TrailNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("GetTrailStatus of a missing trail: want *TrailNotFoundException, got %T: %v", err, err)
	}
	if apiErrorCode(t, err) != "TrailNotFoundException" || !strings.Contains(notFound.ErrorMessage(), "no-such-trail") {
		t.Fatalf("TrailNotFoundException: %q %q", notFound.ErrorCode(), notFound.ErrorMessage())
	}

	_, err = ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(trailName)})
	must(t, err, "StopLogging")
	stopped, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(trailName)})
	must(t, err, "GetTrailStatus")
	if aws.ToBool(stopped.IsLogging) || stopped.StopLoggingTime == nil {
		t.Fatalf("after StopLogging: IsLogging %v, StopLoggingTime %v", aws.ToBool(stopped.IsLogging), stopped.StopLoggingTime)
	}
	_, err = ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String(trailName)})
	must(t, err, "DeleteTrail")
	left, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	must(t, err, "DescribeTrails")
	if len(left.TrailList) != 0 {
		t.Fatalf("DescribeTrails after DeleteTrail gave %d trails", len(left.TrailList))
	}

	// What the trail logged is delivered by `cairn flush`, as gzipped JSON in the bucket.
	srv.flush()
	s3c = s3.NewFromConfig(srv.config(t), func(o *s3.Options) { o.UsePathStyle = true })
	records := deliveredRecords(t, s3c, trailBucket)
	delivered := map[string]map[string]any{}
	for _, record := range records {
		if record["recipientAccountId"] != account || record["awsRegion"] != region {
			t.Fatalf("delivered record of another account or region: %v", record)
		}
		id, _ := record["requestID"].(string)
		delivered[id] = record
	}
	for _, id := range statusRequestIDs {
		record, ok := delivered[id]
		if !ok {
			t.Fatalf("GetTrailStatus request %s is not in the %d delivered records", id, len(records))
		}
		identity := record["userIdentity"].(map[string]any)
		if record["eventName"] != "GetTrailStatus" || identity["accessKeyId"] != accessKey ||
			!strings.Contains(record["userAgent"].(string), "aws-sdk-go-v2") {
			t.Fatalf("delivered GetTrailStatus record %v", record)
		}
	}
}

// deliveredRecords is every record of every CloudTrail log file in `bucket`, read with
// ListObjectsV2's paginator and GetObject.
func deliveredRecords(t *testing.T, s3c *s3.Client, bucket string) []map[string]any {
	t.Helper()
	ctx := context.Background()
	var records []map[string]any
	prefix := "AWSLogs/" + account + "/CloudTrail/"
	paginator := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket),
		Prefix: aws.String(prefix),
	})
	files := 0
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(ctx)
		must(t, err, "ListObjectsV2")
		for _, object := range page.Contents {
			key := aws.ToString(object.Key)
			if !strings.HasPrefix(key, prefix+region+"/") || !strings.HasSuffix(key, ".json.gz") {
				t.Fatalf("unexpected log file key %s", key)
			}
			got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: object.Key})
			must(t, err, "GetObject "+key)
			body, err := io.ReadAll(got.Body)
			got.Body.Close()
			must(t, err, "reading "+key)
			if int64(len(body)) != object.Size {
				t.Fatalf("%s: %d bytes, listed as %d", key, len(body), object.Size)
			}
			unzipped, err := gzip.NewReader(bytes.NewReader(body))
			must(t, err, "gunzip "+key)
			var file struct{ Records []map[string]any }
			must(t, json.NewDecoder(unzipped).Decode(&file), "log file JSON "+key)
			records = append(records, file.Records...)
			files++
		}
	}
	if files == 0 {
		t.Fatalf("no log file under s3://%s/%s", bucket, prefix)
	}
	return records
}

// jsonEqual tells whether two JSON documents have the same value.
func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var va, vb any
	must(t, json.Unmarshal([]byte(a), &va), "JSON "+a)
	must(t, json.Unmarshal([]byte(b), &vb), "JSON "+b)
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}
