// The services around CloudTrail with the AWS SDK for Go v2: STS and IAM (a new user's key
// signs as that user and is denied what no policy allows), CloudWatch metrics, CloudWatch
// Logs, KMS and SNS, each with a typed error.
package compat

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestSTSAndIAMUserIsDenied(t *testing.T) {
	srv := startCairn(t)
	ctx := context.Background()
	cfg := srv.config(t)

	root, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(t, err, "GetCallerIdentity")
	if aws.ToString(root.Account) != account || aws.ToString(root.Arn) != "arn:aws:iam::"+account+":root" {
		t.Fatalf("GetCallerIdentity as root: %s %s", aws.ToString(root.Account), aws.ToString(root.Arn))
	}

	iamc := iam.NewFromConfig(cfg)
	user, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("go-sdk-user")})
	must(t, err, "CreateUser")
	userARN := "arn:aws:iam::" + account + ":user/go-sdk-user"
	if aws.ToString(user.User.Arn) != userARN || aws.ToString(user.User.UserId) == "" {
		t.Fatalf("CreateUser: %+v", user.User)
	}
	_, err = iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("go-sdk-user")})
	var exists *iamtypes.EntityAlreadyExistsException
	if !errors.As(err, &exists) || httpStatus(t, err) != 409 {
		t.Fatalf("CreateUser again: want *EntityAlreadyExistsException (409), got %T: %v", err, err)
	}
	_, err = iamc.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	var noSuchEntity *iamtypes.NoSuchEntityException
	if !errors.As(err, &noSuchEntity) || !strings.Contains(noSuchEntity.ErrorMessage(), "nobody") {
		t.Fatalf("GetUser of a missing user: want *NoSuchEntityException naming it, got %T: %v", err, err)
	}
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("go-sdk-user")})
	must(t, err, "CreateAccessKey")
	id, secret := aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
	if !strings.HasPrefix(id, "AKIA") || secret == "" || key.AccessKey.Status != iamtypes.StatusTypeActive {
		t.Fatalf("CreateAccessKey: %s, status %s", id, key.AccessKey.Status)
	}

	// The new key signs as the user, and the user has no policy: everything but STS's
	// GetCallerIdentity is denied.
	userCfg := srv.config(t, id, secret)
	me, err := sts.NewFromConfig(userCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must(t, err, "GetCallerIdentity as the user")
	if aws.ToString(me.Arn) != userARN || aws.ToString(me.UserId) != aws.ToString(user.User.UserId) {
		t.Fatalf("GetCallerIdentity as the user: %s %s", aws.ToString(me.Arn), aws.ToString(me.UserId))
	}
	_, err = iam.NewFromConfig(userCfg).ListUsers(ctx, &iam.ListUsersInput{})
	if code := apiErrorCode(t, err); code != "AccessDenied" || httpStatus(t, err) != 403 {
		t.Fatalf("ListUsers as the user: %q (%d), want AccessDenied (403)", code, httpStatus(t, err))
	}
	_, err = s3.NewFromConfig(userCfg, func(o *s3.Options) { o.UsePathStyle = true }).
		ListBuckets(ctx, &s3.ListBucketsInput{})
	if code := apiErrorCode(t, err); code != "AccessDenied" || httpStatus(t, err) != 403 {
		t.Fatalf("ListBuckets as the user: %q (%d), want AccessDenied (403)", code, httpStatus(t, err))
	}
	_, err = cloudtrail.NewFromConfig(userCfg).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if code := apiErrorCode(t, err); code != "AccessDeniedException" ||
		!strings.Contains(err.Error(), "cloudtrail:DescribeTrails") {
		t.Fatalf("DescribeTrails as the user: %q: %v", code, err)
	}
}

func TestCloudWatchMetrics(t *testing.T) {
	srv := startCairn(t)
	ctx := context.Background()
	cw := cloudwatch.NewFromConfig(srv.config(t))
	minute := time.Now().UTC().Truncate(time.Minute)
	dims := []cwtypes.Dimension{{Name: aws.String("Host"), Value: aws.String("go-1")}}
	var data []cwtypes.MetricDatum
	for _, v := range []float64{1, 2, 3} {
		data = append(data, cwtypes.MetricDatum{
			MetricName: aws.String("Latency"), Dimensions: dims, Timestamp: aws.Time(minute),
			Value: aws.Float64(v), Unit: cwtypes.StandardUnitMilliseconds,
		})
	}
	_, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("GoSDK/Test"), MetricData: data})
	must(t, err, "PutMetricData")

	stats, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("GoSDK/Test"), MetricName: aws.String("Latency"), Dimensions: dims,
		StartTime: aws.Time(minute.Add(-5 * time.Minute)), EndTime: aws.Time(minute.Add(5 * time.Minute)),
		Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticSampleCount,
			cwtypes.StatisticMinimum, cwtypes.StatisticMaximum, cwtypes.StatisticAverage},
	})
	must(t, err, "GetMetricStatistics")
	if aws.ToString(stats.Label) != "Latency" || len(stats.Datapoints) != 1 {
		t.Fatalf("GetMetricStatistics: label %q, %d datapoints", aws.ToString(stats.Label), len(stats.Datapoints))
	}
	p := stats.Datapoints[0]
	if !p.Timestamp.Equal(minute) || aws.ToFloat64(p.Sum) != 6 || aws.ToFloat64(p.SampleCount) != 3 ||
		aws.ToFloat64(p.Minimum) != 1 || aws.ToFloat64(p.Maximum) != 3 || aws.ToFloat64(p.Average) != 2 ||
		p.Unit != cwtypes.StandardUnitMilliseconds {
		t.Fatalf("datapoint %v: sum %v count %v min %v max %v avg %v unit %s", p.Timestamp,
			aws.ToFloat64(p.Sum), aws.ToFloat64(p.SampleCount), aws.ToFloat64(p.Minimum),
			aws.ToFloat64(p.Maximum), aws.ToFloat64(p.Average), p.Unit)
	}

	_, err = cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("GoSDK/Test"), MetricName: aws.String("Latency"),
		StartTime: aws.Time(minute), EndTime: aws.Time(minute.Add(time.Minute)), Period: aws.Int32(45),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	var invalid *cwtypes.InvalidParameterValueException
	if !errors.As(err, &invalid) || invalid.ErrorMessage() == "" {
		t.Fatalf("a period that is not a multiple of 60: want *InvalidParameterValueException, got %T: %v", err, err)
	}
}

func TestCloudWatchLogs(t *testing.T) {
	srv := startCairn(t)
	ctx := context.Background()
	logs := cloudwatchlogs.NewFromConfig(srv.config(t))
	group, stream := aws.String("/go-sdk/app"), aws.String("instance-1")
	_, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: group})
	must(t, err, "CreateLogGroup")
	_, err = logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: group})
	var exists *logstypes.ResourceAlreadyExistsException
	if !errors.As(err, &exists) || exists.ErrorMessage() == "" {
		t.Fatalf("CreateLogGroup again: want *ResourceAlreadyExistsException, got %T: %v", err, err)
	}
	_, err = logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: group, LogStreamName: stream})
	must(t, err, "CreateLogStream")

	now := time.Now().UnixMilli()
	messages := []string{"first line", "second line", "third line"}
	var events []logstypes.InputLogEvent
	for i, m := range messages {
		events = append(events, logstypes.InputLogEvent{Message: aws.String(m), Timestamp: aws.Int64(now + int64(i))})
	}
	put, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: group, LogStreamName: stream, LogEvents: events,
	})
	must(t, err, "PutLogEvents")
	if put.RejectedLogEventsInfo != nil {
		t.Fatalf("PutLogEvents rejected events: %+v", put.RejectedLogEventsInfo)
	}

	got, err := logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: group, LogStreamName: stream, StartFromHead: aws.Bool(true),
	})
	must(t, err, "GetLogEvents")
	var read []string
	for i, e := range got.Events {
		read = append(read, aws.ToString(e.Message))
		if aws.ToInt64(e.Timestamp) != now+int64(i) || aws.ToInt64(e.IngestionTime) == 0 {
			t.Fatalf("event %d: timestamp %d (want %d), ingestion %d", i, aws.ToInt64(e.Timestamp), now+int64(i),
				aws.ToInt64(e.IngestionTime))
		}
	}
	if strings.Join(read, "|") != strings.Join(messages, "|") || got.NextForwardToken == nil {
		t.Fatalf("GetLogEvents: %q, forward token %v", read, got.NextForwardToken)
	}

	_, err = logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String("/go-sdk/missing"), LogStreamName: stream,
	})
	var notFound *logstypes.ResourceNotFoundException
	if !errors.As(err, &notFound) || notFound.ErrorMessage() == "" {
		t.Fatalf("GetLogEvents of a missing group: want *ResourceNotFoundException, got %T: %v", err, err)
	}
}

func TestKMSEncryptDecrypt(t *testing.T) {
	srv := startCairn(t)
	ctx := context.Background()
	kc := kms.NewFromConfig(srv.config(t))
	created, err := kc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("go-sdk key")})
	must(t, err, "CreateKey")
	meta := created.KeyMetadata
	if aws.ToString(meta.KeyId) == "" || !strings.HasPrefix(aws.ToString(meta.Arn), "arn:aws:kms:us-east-1:"+account+":key/") ||
		meta.KeyState != kmstypes.KeyStateEnabled || meta.KeyUsage != kmstypes.KeyUsageTypeEncryptDecrypt {
		t.Fatalf("CreateKey: %+v", meta)
	}

	plaintext := []byte("a secret from the Go SDK")
	encryptionContext := map[string]string{"purpose": "compat"}
	enc, err := kc.Encrypt(ctx, &kms.EncryptInput{KeyId: meta.KeyId, Plaintext: plaintext, EncryptionContext: encryptionContext})
	must(t, err, "Encrypt")
	if aws.ToString(enc.KeyId) != aws.ToString(meta.Arn) || len(enc.CiphertextBlob) == 0 ||
		bytes.Contains(enc.CiphertextBlob, plaintext) {
		t.Fatalf("Encrypt: key %s, %d ciphertext bytes", aws.ToString(enc.KeyId), len(enc.CiphertextBlob))
	}
	dec, err := kc.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: encryptionContext})
	must(t, err, "Decrypt")
	if !bytes.Equal(dec.Plaintext, plaintext) || aws.ToString(dec.KeyId) != aws.ToString(meta.Arn) ||
		dec.EncryptionAlgorithm != kmstypes.EncryptionAlgorithmSpecSymmetricDefault {
		t.Fatalf("Decrypt: %q with %s (%s)", dec.Plaintext, aws.ToString(dec.KeyId), dec.EncryptionAlgorithm)
	}

	_, err = kc.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	var invalid *kmstypes.InvalidCiphertextException
	if !errors.As(err, &invalid) {
		t.Fatalf("Decrypt without the encryption context: want *InvalidCiphertextException, got %T: %v", err, err)
	}
	_, err = kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/go-sdk-missing")})
	var notFound *kmstypes.NotFoundException
	if !errors.As(err, &notFound) || !strings.Contains(notFound.ErrorMessage(), "alias/go-sdk-missing") {
		t.Fatalf("DescribeKey of a missing alias: want *NotFoundException naming it, got %T: %v", err, err)
	}
}

func TestSNSTopics(t *testing.T) {
	srv := startCairn(t)
	ctx := context.Background()
	sc := sns.NewFromConfig(srv.config(t))
	var arns []string
	for _, name := range []string{"go-sdk-alerts", "go-sdk-audit"} {
		created, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		must(t, err, "CreateTopic "+name)
		want := "arn:aws:sns:us-east-1:" + account + ":" + name
		if aws.ToString(created.TopicArn) != want {
			t.Fatalf("CreateTopic %s: %s, want %s", name, aws.ToString(created.TopicArn), want)
		}
		arns = append(arns, want)
	}
	again, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("go-sdk-alerts")})
	must(t, err, "CreateTopic again")
	if aws.ToString(again.TopicArn) != arns[0] {
		t.Fatalf("CreateTopic is idempotent: got %s", aws.ToString(again.TopicArn))
	}

	var listed []string
	paginator := sns.NewListTopicsPaginator(sc, &sns.ListTopicsInput{})
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(ctx)
		must(t, err, "ListTopics")
		for _, topic := range page.Topics {
			listed = append(listed, aws.ToString(topic.TopicArn))
		}
	}
	if strings.Join(listed, ",") != strings.Join(arns, ",") {
		t.Fatalf("ListTopics: %v, want %v", listed, arns)
	}

	attrs, err := sc.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arns[1])})
	must(t, err, "GetTopicAttributes")
	if attrs.Attributes["TopicArn"] != arns[1] || attrs.Attributes["Owner"] != account {
		t.Fatalf("GetTopicAttributes: %v", attrs.Attributes)
	}
	_, err = sc.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{
		TopicArn: aws.String("arn:aws:sns:us-east-1:" + account + ":go-sdk-missing"),
	})
	var notFound *snstypes.NotFoundException
	if !errors.As(err, &notFound) || notFound.ErrorMessage() == "" || httpStatus(t, err) != 404 {
		t.Fatalf("GetTopicAttributes of a missing topic: want *NotFoundException (404), got %T: %v", err, err)
	}
}
