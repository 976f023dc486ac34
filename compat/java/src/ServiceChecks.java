// The services around a trail through the AWS SDK for Java (v1): IAM and STS (a limited user
// denied StopLogging, a role assumed), KMS, SNS, CloudWatch, CloudWatch Logs and
// CloudFormation, each with a typed error.

import com.amazonaws.services.cloudformation.AmazonCloudFormation;
import com.amazonaws.services.cloudformation.AmazonCloudFormationClientBuilder;
import com.amazonaws.services.cloudformation.model.CreateStackRequest;
import com.amazonaws.services.cloudformation.model.DeleteStackRequest;
import com.amazonaws.services.cloudformation.model.DescribeStackResourcesRequest;
import com.amazonaws.services.cloudformation.model.DescribeStacksRequest;
import com.amazonaws.services.cloudformation.model.Parameter;
import com.amazonaws.services.cloudformation.model.Stack;
import com.amazonaws.services.cloudtrail.AWSCloudTrail;
import com.amazonaws.services.cloudtrail.AWSCloudTrailClientBuilder;
import com.amazonaws.services.cloudtrail.model.CreateTrailRequest;
import com.amazonaws.services.cloudtrail.model.StopLoggingRequest;
import com.amazonaws.services.cloudwatch.AmazonCloudWatch;
import com.amazonaws.services.cloudwatch.AmazonCloudWatchClientBuilder;
import com.amazonaws.services.cloudwatch.model.ComparisonOperator;
import com.amazonaws.services.cloudwatch.model.DescribeAlarmsRequest;
import com.amazonaws.services.cloudwatch.model.GetMetricStatisticsRequest;
import com.amazonaws.services.cloudwatch.model.MetricAlarm;
import com.amazonaws.services.cloudwatch.model.MetricDatum;
import com.amazonaws.services.cloudwatch.model.PutMetricAlarmRequest;
import com.amazonaws.services.cloudwatch.model.PutMetricDataRequest;
import com.amazonaws.services.cloudwatch.model.StandardUnit;
import com.amazonaws.services.cloudwatch.model.Statistic;
import com.amazonaws.services.identitymanagement.AmazonIdentityManagement;
import com.amazonaws.services.identitymanagement.AmazonIdentityManagementClientBuilder;
import com.amazonaws.services.identitymanagement.model.AccessKey;
import com.amazonaws.services.identitymanagement.model.CreateAccessKeyRequest;
import com.amazonaws.services.identitymanagement.model.CreateRoleRequest;
import com.amazonaws.services.identitymanagement.model.CreateUserRequest;
import com.amazonaws.services.identitymanagement.model.NoSuchEntityException;
import com.amazonaws.services.identitymanagement.model.PutUserPolicyRequest;
import com.amazonaws.services.kms.AWSKMS;
import com.amazonaws.services.kms.AWSKMSClientBuilder;
import com.amazonaws.services.kms.model.DecryptRequest;
import com.amazonaws.services.kms.model.EncryptRequest;
import com.amazonaws.services.kms.model.GenerateDataKeyRequest;
import com.amazonaws.services.kms.model.GenerateDataKeyResult;
import com.amazonaws.services.kms.model.NotFoundException;
import com.amazonaws.services.logs.AWSLogs;
import com.amazonaws.services.logs.AWSLogsClientBuilder;
import com.amazonaws.services.logs.model.CreateLogGroupRequest;
import com.amazonaws.services.logs.model.CreateLogStreamRequest;
import com.amazonaws.services.logs.model.FilterLogEventsRequest;
import com.amazonaws.services.logs.model.InputLogEvent;
import com.amazonaws.services.logs.model.PutLogEventsRequest;
import com.amazonaws.services.logs.model.ResourceAlreadyExistsException;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;
import com.amazonaws.services.securitytoken.AWSSecurityTokenService;
import com.amazonaws.services.securitytoken.AWSSecurityTokenServiceClientBuilder;
import com.amazonaws.services.securitytoken.model.AssumeRoleRequest;
import com.amazonaws.services.securitytoken.model.Credentials;
import com.amazonaws.services.securitytoken.model.GetCallerIdentityRequest;
import com.amazonaws.services.sns.AmazonSNS;
import com.amazonaws.services.sns.AmazonSNSClientBuilder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;

final class ServiceChecks {
    private ServiceChecks() {}

    static void identity() throws Exception {
        try (Cairn c = Cairn.start()) {
            AmazonIdentityManagement iam = c.client(AmazonIdentityManagementClientBuilder.standard());
            AWSSecurityTokenService sts = c.client(AWSSecurityTokenServiceClientBuilder.standard());
            Check.equal(Cairn.ACCOUNT, sts.getCallerIdentity(new GetCallerIdentityRequest()).getAccount(), "Account");
            iam.createUser(new CreateUserRequest("auditor"));
            iam.putUserPolicy(new PutUserPolicyRequest("auditor", "read-only",
                    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                            + "\"Action\":[\"cloudtrail:Describe*\",\"cloudtrail:Get*\",\"sts:AssumeRole\"],\"Resource\":\"*\"}]}"));
            AccessKey key = iam.createAccessKey(new CreateAccessKeyRequest("auditor")).getAccessKey();
            NoSuchEntityException noUser = (NoSuchEntityException) Check.fails(
                    () -> iam.getUser(new com.amazonaws.services.identitymanagement.model.GetUserRequest().withUserName("nobody")));
            Check.equal("NoSuchEntity", noUser.getErrorCode(), "NoSuchEntity");

            AmazonS3 s3 = c.client(AmazonS3ClientBuilder.standard().withPathStyleAccessEnabled(true));
            s3.createBucket("java-identity");
            s3.setBucketPolicy("java-identity", Cairn.cloudTrailPolicy("java-identity"));
            c.client(AWSCloudTrailClientBuilder.standard())
                    .createTrail(new CreateTrailRequest().withName("guarded").withS3BucketName("java-identity"));
            AWSCloudTrail asAuditor = c.client(AWSCloudTrailClientBuilder.standard(), key.getAccessKeyId(), key.getSecretAccessKey());
            Check.equal(1, asAuditor.describeTrails(new com.amazonaws.services.cloudtrail.model.DescribeTrailsRequest())
                    .getTrailList().size(), "the auditor reads trails");
            var denied = Check.fails(() -> asAuditor.stopLogging(new StopLoggingRequest().withName("guarded")));
            Check.equal("AccessDeniedException", denied.getErrorCode(), "the auditor may not stop logging");
            Check.equal(400, denied.getStatusCode(), "400");

            iam.createRole(new CreateRoleRequest().withRoleName("java-role").withAssumeRolePolicyDocument(
                    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::"
                            + Cairn.ACCOUNT + ":root\"},\"Action\":\"sts:AssumeRole\"}]}"));
            // Roles are assumed by users, never by the root user (AccessDenied, as on AWS).
            Check.equal("AccessDenied", Check.fails(() -> sts.assumeRole(new AssumeRoleRequest()
                    .withRoleArn("arn:aws:iam::" + Cairn.ACCOUNT + ":role/java-role").withRoleSessionName("root")))
                    .getErrorCode(), "root may not assume a role");
            AWSSecurityTokenService stsAuditor = c.client(AWSSecurityTokenServiceClientBuilder.standard(),
                    key.getAccessKeyId(), key.getSecretAccessKey());
            Credentials session = stsAuditor.assumeRole(new AssumeRoleRequest()
                    .withRoleArn("arn:aws:iam::" + Cairn.ACCOUNT + ":role/java-role").withRoleSessionName("java-session"))
                    .getCredentials();
            Check.that(session.getExpiration().after(new Date()), "the session expires later");
            AWSSecurityTokenService asRole = AWSSecurityTokenServiceClientBuilder.standard()
                    .withEndpointConfiguration(new com.amazonaws.client.builder.AwsClientBuilder.EndpointConfiguration(c.endpoint, Cairn.REGION))
                    .withCredentials(new com.amazonaws.auth.AWSStaticCredentialsProvider(new com.amazonaws.auth.BasicSessionCredentials(
                            session.getAccessKeyId(), session.getSecretAccessKey(), session.getSessionToken())))
                    .build();
            Check.equal("arn:aws:sts::" + Cairn.ACCOUNT + ":assumed-role/java-role/java-session",
                    asRole.getCallerIdentity(new GetCallerIdentityRequest()).getArn(), "assumed-role ARN");
        }
    }

    static void kmsAndSns() throws Exception {
        try (Cairn c = Cairn.start()) {
            AWSKMS kms = c.client(AWSKMSClientBuilder.standard());
            String keyId = kms.createKey().getKeyMetadata().getKeyId();
            ByteBuffer blob = kms.encrypt(new EncryptRequest().withKeyId(keyId)
                    .withPlaintext(ByteBuffer.wrap("secret".getBytes(StandardCharsets.UTF_8)))).getCiphertextBlob();
            ByteBuffer plain = kms.decrypt(new DecryptRequest().withCiphertextBlob(blob)).getPlaintext();
            Check.equal("secret", StandardCharsets.UTF_8.decode(plain).toString(), "decrypted");
            GenerateDataKeyResult dk = kms.generateDataKey(new GenerateDataKeyRequest().withKeyId(keyId).withKeySpec("AES_256"));
            Check.equal(32, dk.getPlaintext().remaining(), "data key length");
            NotFoundException missing = (NotFoundException) Check.fails(() -> kms.describeKey(
                    new com.amazonaws.services.kms.model.DescribeKeyRequest().withKeyId("alias/none")));
            Check.equal("NotFoundException", missing.getErrorCode(), "KMS NotFoundException");

            AmazonSNS sns = c.client(AmazonSNSClientBuilder.standard());
            String topic = sns.createTopic("java-topic").getTopicArn();
            Check.that(sns.publish(topic, "hello").getMessageId() != null, "MessageId");
            Check.equal(topic, sns.listTopics().getTopics().get(0).getTopicArn(), "listed");
            com.amazonaws.services.sns.model.NotFoundException gone =
                    (com.amazonaws.services.sns.model.NotFoundException) Check.fails(
                            () -> sns.publish("arn:aws:sns:us-east-1:" + Cairn.ACCOUNT + ":none", "x"));
            Check.equal("NotFound", gone.getErrorCode(), "SNS NotFound");
        }
    }

    static void monitoring() throws Exception {
        try (Cairn c = Cairn.start()) {
            AmazonCloudWatch cw = c.client(AmazonCloudWatchClientBuilder.standard());
            Date now = new Date();
            cw.putMetricData(new PutMetricDataRequest().withNamespace("Java/Compat").withMetricData(
                    new MetricDatum().withMetricName("Hits").withValue(3.0).withUnit(StandardUnit.Count).withTimestamp(now),
                    new MetricDatum().withMetricName("Hits").withValue(4.0).withUnit(StandardUnit.Count).withTimestamp(now)));
            double sum = cw.getMetricStatistics(new GetMetricStatisticsRequest().withNamespace("Java/Compat").withMetricName("Hits")
                    .withStartTime(new Date(now.getTime() - 600_000)).withEndTime(new Date(now.getTime() + 600_000))
                    .withPeriod(3600).withStatistics(Statistic.Sum)).getDatapoints().stream().mapToDouble(d -> d.getSum()).sum();
            Check.equal(7.0, sum, "Sum");
            cw.putMetricAlarm(new PutMetricAlarmRequest().withAlarmName("java-alarm").withNamespace("Java/Compat")
                    .withMetricName("Hits").withStatistic(Statistic.Sum).withPeriod(60).withEvaluationPeriods(1)
                    .withThreshold(1.0).withComparisonOperator(ComparisonOperator.GreaterThanOrEqualToThreshold));
            List<MetricAlarm> alarms = cw.describeAlarms(new DescribeAlarmsRequest().withAlarmNames("java-alarm")).getMetricAlarms();
            Check.equal("INSUFFICIENT_DATA", alarms.get(0).getStateValue(), "a new alarm's state");
            var badPeriod = Check.fails(() -> cw.putMetricAlarm(new PutMetricAlarmRequest().withAlarmName("bad")
                    .withNamespace("Java/Compat").withMetricName("Hits").withStatistic(Statistic.Sum).withPeriod(7)
                    .withEvaluationPeriods(1).withThreshold(1.0)
                    .withComparisonOperator(ComparisonOperator.GreaterThanThreshold)));
            Check.that(badPeriod instanceof com.amazonaws.services.cloudwatch.model.InvalidParameterValueException,
                    "typed CloudWatch error: " + badPeriod.getClass().getName() + " " + badPeriod.getErrorCode());

            AWSLogs logs = c.client(AWSLogsClientBuilder.standard());
            logs.createLogGroup(new CreateLogGroupRequest("java-group"));
            ResourceAlreadyExistsException again = (ResourceAlreadyExistsException) Check.fails(
                    () -> logs.createLogGroup(new CreateLogGroupRequest("java-group")));
            Check.equal("ResourceAlreadyExistsException", again.getErrorCode(), "typed Logs error");
            logs.createLogStream(new CreateLogStreamRequest("java-group", "s1"));
            logs.putLogEvents(new PutLogEventsRequest("java-group", "s1", List.of(
                    new InputLogEvent().withTimestamp(now.getTime()).withMessage("{\"eventName\":\"StopLogging\"}"),
                    new InputLogEvent().withTimestamp(now.getTime() + 1).withMessage("plain line"))));
            var found = logs.filterLogEvents(new FilterLogEventsRequest().withLogGroupName("java-group")
                    .withFilterPattern("{ $.eventName = \"StopLogging\" }")).getEvents();
            Check.equal(1, found.size(), "filtered events");
        }
    }

    static void cloudFormation() throws Exception {
        try (Cairn c = Cairn.start()) {
            AmazonCloudFormation cfn = c.client(AmazonCloudFormationClientBuilder.standard());
            String template = "{\"Parameters\":{\"Name\":{\"Type\":\"String\"}},"
                    + "\"Resources\":{\"Topic\":{\"Type\":\"AWS::SNS::Topic\",\"Properties\":{\"TopicName\":{\"Ref\":\"Name\"}}}},"
                    + "\"Outputs\":{\"Arn\":{\"Value\":{\"Ref\":\"Topic\"}}}}";
            cfn.createStack(new CreateStackRequest().withStackName("java-stack").withTemplateBody(template)
                    .withParameters(new Parameter().withParameterKey("Name").withParameterValue("java-cfn-topic")));
            Stack stack = settled(cfn, "java-stack");
            Check.equal("CREATE_COMPLETE", stack.getStackStatus(), "stack status");
            Check.equal("arn:aws:sns:us-east-1:" + Cairn.ACCOUNT + ":java-cfn-topic", stack.getOutputs().get(0).getOutputValue(), "output");
            Check.equal(1, cfn.describeStackResources(new DescribeStackResourcesRequest().withStackName("java-stack"))
                    .getStackResources().size(), "resources");
            String stackId = stack.getStackId();
            cfn.deleteStack(new DeleteStackRequest().withStackName("java-stack"));
            Check.equal("DELETE_COMPLETE", settled(cfn, stackId).getStackStatus(), "deleted");
            var gone = Check.fails(() -> cfn.describeStacks(new DescribeStacksRequest().withStackName("java-stack")));
            Check.equal("ValidationError", gone.getErrorCode(), "a deleted stack's name is unknown");
        }
    }

    /** The stack once its operation ended, polled every 50 ms for at most a minute. */
    private static Stack settled(AmazonCloudFormation cfn, String nameOrId) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            Stack stack = cfn.describeStacks(new DescribeStacksRequest().withStackName(nameOrId)).getStacks().get(0);
            if (!stack.getStackStatus().endsWith("_IN_PROGRESS") || System.nanoTime() > deadline) {
                return stack;
            }
            Thread.sleep(50);
        }
    }
}
