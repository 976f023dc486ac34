// A CloudTrail-centric CDK app, as a developer testing infrastructure as code locally would
// write it: a bucket for the trail with the policy CloudTrail needs (the Trail construct adds
// it), a KMS key whose policy lets CloudTrail encrypt, a log group and role for CloudTrail →
// CloudWatch Logs delivery (made by the Trail construct), the trail, a metric filter on its
// log group and an alarm that notifies an SNS topic.
//
// It uses the legacy synthesizer, so deploying needs no bootstrap stack and no assets, and no
// construct that adds a Lambda-backed custom resource (Cairn runs no Lambda). The context
// value `revision=2` is the "second deploy after a change": a stricter alarm threshold, a
// shorter log retention and a tag on every resource.

const cdk = require("aws-cdk-lib");
const cloudtrail = require("aws-cdk-lib/aws-cloudtrail");
const cloudwatch = require("aws-cdk-lib/aws-cloudwatch");
const actions = require("aws-cdk-lib/aws-cloudwatch-actions");
const iam = require("aws-cdk-lib/aws-iam");
const kms = require("aws-cdk-lib/aws-kms");
const logs = require("aws-cdk-lib/aws-logs");
const s3 = require("aws-cdk-lib/aws-s3");
const sns = require("aws-cdk-lib/aws-sns");

class TrailStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const revision = Number(this.node.tryGetContext("revision") ?? "1");
    const trailName = `${id}-trail`;
    const trailArn = `arn:${this.partition}:cloudtrail:${this.region}:${this.account}:trail/${trailName}`;

    // The bucket outlives the stack: CloudTrail keeps writing to it, and emptying it on delete
    // would take autoDeleteObjects' Lambda-backed custom resource.
    const bucket = new s3.Bucket(this, "TrailBucket", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: false,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });

    const key = new kms.Key(this, "TrailKey", {
      description: "Encrypts the trail's log files",
      enableKeyRotation: true,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
      pendingWindow: cdk.Duration.days(7),
    });
    const cloudtrailPrincipal = new iam.ServicePrincipal("cloudtrail.amazonaws.com");
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AllowCloudTrailToEncryptLogs",
        principals: [cloudtrailPrincipal],
        actions: ["kms:GenerateDataKey*"],
        resources: ["*"],
        conditions: {
          StringEquals: { "aws:SourceArn": trailArn },
          StringLike: {
            "kms:EncryptionContext:aws:cloudtrail:arn": `arn:${this.partition}:cloudtrail:*:${this.account}:trail/*`,
          },
        },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AllowCloudTrailToDescribeKey",
        principals: [cloudtrailPrincipal],
        actions: ["kms:DescribeKey"],
        resources: ["*"],
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AllowAccountToDecryptLogFiles",
        principals: [new iam.AnyPrincipal()],
        actions: ["kms:Decrypt", "kms:ReEncryptFrom"],
        resources: ["*"],
        conditions: {
          StringEquals: { "kms:CallerAccount": this.account },
          StringLike: {
            "kms:EncryptionContext:aws:cloudtrail:arn": `arn:${this.partition}:cloudtrail:*:${this.account}:trail/*`,
          },
        },
      }),
    );

    const logGroup = new logs.LogGroup(this, "TrailLogs", {
      retention: revision >= 2 ? logs.RetentionDays.ONE_MONTH : logs.RetentionDays.ONE_YEAR,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });

    const trail = new cloudtrail.Trail(this, "Trail", {
      trailName,
      bucket,
      encryptionKey: key,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: logGroup,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
      managementEvents: cloudtrail.ReadWriteType.ALL,
    });
    // The key policy names the trail: the trail is created after it.
    trail.node.addDependency(key);

    const topic = new sns.Topic(this, "AlarmTopic", { displayName: "CloudTrail alarms" });

    const filter = new logs.MetricFilter(this, "UnauthorizedCalls", {
      logGroup: trail.logGroup,
      metricNamespace: "CloudTrailMetrics",
      metricName: "UnauthorizedAttemptCount",
      metricValue: "1",
      filterPattern: logs.FilterPattern.literal(
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
      ),
    });
    const alarm = new cloudwatch.Alarm(this, "UnauthorizedCallsAlarm", {
      alarmDescription: "Unauthorized API calls seen by the trail",
      metric: filter.metric({ statistic: "Sum", period: cdk.Duration.minutes(5) }),
      threshold: revision >= 2 ? 1 : 3,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(topic));

    if (revision >= 2) cdk.Tags.of(this).add("revision", String(revision));

    new cdk.CfnOutput(this, "BucketName", { value: bucket.bucketName });
    new cdk.CfnOutput(this, "TrailArn", { value: trail.trailArn });
    new cdk.CfnOutput(this, "LogGroupName", { value: trail.logGroup.logGroupName });
    new cdk.CfnOutput(this, "KeyArn", { value: key.keyArn });
    new cdk.CfnOutput(this, "TopicArn", { value: topic.topicArn });
    new cdk.CfnOutput(this, "AlarmName", { value: alarm.alarmName });
  }
}

const app = new cdk.App();
new TrailStack(app, app.node.tryGetContext("stackName") ?? "CairnTrail", {
  synthesizer: new cdk.LegacyStackSynthesizer(),
});
app.synth();
