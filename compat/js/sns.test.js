// SNS with the AWS SDK for JavaScript v3 (@aws-sdk/client-sns, AWS Query with XML answers): a
// topic with attributes, an HTTP subscriber served by a local node server that confirms its
// subscription from the SubscriptionConfirmation it receives, a published Notification seen
// arriving, listing, a typed NotFoundException, deletion.

import assert from "node:assert/strict";
import { X509Certificate, createVerify } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

import {
  ConfirmSubscriptionCommand,
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  NotFoundException,
  PublishCommand,
  SNSClient,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SubscribeCommand,
  UnsubscribeCommand,
} from "@aws-sdk/client-sns";

import { ACCOUNT, clientConfig, startCairn } from "./cairn.js";

const TOPIC = "js-sdk-alerts";
const TOPIC_ARN = `arn:aws:sns:us-east-1:${ACCOUNT}:${TOPIC}`;

/**
 * A local HTTP endpoint that answers 200 to every POST and queues each SNS message it gets;
 * `next(type)` resolves with the next message of that `Type` (waiting for it if need be).
 */
class Subscriber {
  constructor() {
    this.messages = [];
    this.waiters = [];
    this.server = createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        res.writeHead(200).end();
        const body = Buffer.concat(chunks).toString("utf8");
        const raw = req.headers["x-amz-sns-rawdelivery"] === "true";
        const message = raw ? { Type: "Raw", body } : JSON.parse(body);
        message.headerType = req.headers["x-amz-sns-message-type"];
        message.path = req.url;
        this.messages.push(message);
        this.waiters = this.waiters.filter((w) => !w(message));
      });
    });
  }

  async listen() {
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    return `http://127.0.0.1:${this.server.address().port}/sns-hook`;
  }

  next(type) {
    const seen = this.messages.findIndex((m) => m.Type === type);
    if (seen >= 0) return Promise.resolve(this.messages.splice(seen, 1)[0]);
    return new Promise((resolve) => {
      this.waiters.push((m) => {
        if (m.Type !== type) return false;
        this.messages.splice(this.messages.indexOf(m), 1);
        resolve(m);
        return true;
      });
    });
  }

  close() {
    this.server.closeAllConnections?.();
    this.server.close();
  }
}

/** The string SNS signs for `message`, as AWS documents it for each message type. */
function stringToSign(message) {
  const keys =
    message.Type === "Notification"
      ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  return keys
    .filter((k) => message[k] !== undefined)
    .map((k) => `${k}\n${message[k]}\n`)
    .join("");
}

/** Checks `message`'s signature with the certificate its SigningCertURL serves. */
async function assertSigned(message) {
  const response = await fetch(message.SigningCertURL);
  assert.equal(response.status, 200, "the signing certificate is served");
  const certificate = new X509Certificate(await response.text());
  const algorithm = message.SignatureVersion === "2" ? "RSA-SHA256" : "RSA-SHA1";
  const verifier = createVerify(algorithm);
  verifier.update(stringToSign(message), "utf8");
  assert.ok(
    verifier.verify(certificate.publicKey, message.Signature, "base64"),
    `the ${message.Type} signature verifies`,
  );
}

let cairn;
let sns;
let subscriber;
let endpoint;
let subscriptionArn;

before(async () => {
  cairn = await startCairn();
  sns = new SNSClient(clientConfig(cairn.endpoint));
  subscriber = new Subscriber();
  endpoint = await subscriber.listen();
});

after(() => {
  sns?.destroy();
  subscriber?.close();
  cairn?.stop();
});

test("CreateTopic with attributes; Get and SetTopicAttributes", async () => {
  const created = await sns.send(
    new CreateTopicCommand({
      Name: TOPIC,
      Attributes: { DisplayName: "JS alerts" },
      Tags: [{ Key: "team", Value: "js" }],
    }),
  );
  assert.equal(created.TopicArn, TOPIC_ARN);
  const again = await sns.send(
    new CreateTopicCommand({ Name: TOPIC, Attributes: { DisplayName: "JS alerts" } }),
  );
  assert.equal(again.TopicArn, TOPIC_ARN, "CreateTopic with the same attributes is idempotent");

  const attrs = (await sns.send(new GetTopicAttributesCommand({ TopicArn: TOPIC_ARN }))).Attributes;
  assert.equal(attrs.TopicArn, TOPIC_ARN);
  assert.equal(attrs.DisplayName, "JS alerts");
  assert.equal(attrs.Owner, ACCOUNT);
  assert.equal(attrs.SubscriptionsConfirmed, "0");
  assert.equal(JSON.parse(attrs.Policy).Statement[0].Effect, "Allow");

  await sns.send(
    new SetTopicAttributesCommand({
      TopicArn: TOPIC_ARN,
      AttributeName: "DisplayName",
      AttributeValue: "JS alerts, renamed",
    }),
  );
  await sns.send(
    new SetTopicAttributesCommand({
      TopicArn: TOPIC_ARN,
      AttributeName: "SignatureVersion",
      AttributeValue: "2",
    }),
  );
  const after = (await sns.send(new GetTopicAttributesCommand({ TopicArn: TOPIC_ARN }))).Attributes;
  assert.equal(after.DisplayName, "JS alerts, renamed");
  assert.equal(after.SignatureVersion, "2");

  const topics = await sns.send(new ListTopicsCommand({}));
  assert.deepEqual(
    topics.Topics.map((t) => t.TopicArn),
    [TOPIC_ARN],
  );
});

test("an HTTP subscriber confirms from its SubscriptionConfirmation", async () => {
  const subscribed = await sns.send(
    new SubscribeCommand({ TopicArn: TOPIC_ARN, Protocol: "http", Endpoint: endpoint }),
  );
  assert.equal(subscribed.SubscriptionArn, "pending confirmation");

  const confirmation = await subscriber.next("SubscriptionConfirmation");
  assert.equal(confirmation.headerType, "SubscriptionConfirmation");
  assert.equal(confirmation.path, "/sns-hook");
  assert.equal(confirmation.TopicArn, TOPIC_ARN);
  assert.equal(confirmation.SignatureVersion, "2");
  assert.ok(confirmation.Token, "the confirmation carries a token");
  assert.match(confirmation.SubscribeURL, /Action=ConfirmSubscription/);
  await assertSigned(confirmation);

  const pending = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: TOPIC_ARN }));
  assert.deepEqual(
    pending.Subscriptions.map((s) => s.SubscriptionArn),
    ["PendingConfirmation"],
  );

  const confirmed = await sns.send(
    new ConfirmSubscriptionCommand({ TopicArn: TOPIC_ARN, Token: confirmation.Token }),
  );
  subscriptionArn = confirmed.SubscriptionArn;
  assert.match(subscriptionArn, new RegExp(`^${TOPIC_ARN}:[0-9a-f-]{36}$`));

  const listed = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: TOPIC_ARN }));
  assert.equal(listed.Subscriptions.length, 1);
  const [subscription] = listed.Subscriptions;
  assert.equal(subscription.SubscriptionArn, subscriptionArn);
  assert.equal(subscription.Protocol, "http");
  assert.equal(subscription.Endpoint, endpoint);
  assert.equal(subscription.Owner, ACCOUNT);
  assert.equal(subscription.TopicArn, TOPIC_ARN);

  const attrs = await sns.send(
    new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }),
  );
  assert.equal(attrs.Attributes.PendingConfirmation, "false");
});

test("Publish reaches the confirmed subscriber as a Notification", async () => {
  const published = await sns.send(
    new PublishCommand({
      TopicArn: TOPIC_ARN,
      Subject: "deploy",
      Message: "release 1.2.3 is out",
      MessageAttributes: { stage: { DataType: "String", StringValue: "prod" } },
    }),
  );
  assert.match(published.MessageId, /^[0-9a-f-]{36}$/);

  const notification = await subscriber.next("Notification");
  assert.equal(notification.headerType, "Notification");
  assert.equal(notification.MessageId, published.MessageId);
  assert.equal(notification.TopicArn, TOPIC_ARN);
  assert.equal(notification.Subject, "deploy");
  assert.equal(notification.Message, "release 1.2.3 is out");
  assert.deepEqual(notification.MessageAttributes, { stage: { Type: "String", Value: "prod" } });
  assert.equal(notification.SignatureVersion, "2");
  await assertSigned(notification);
  assert.match(notification.UnsubscribeURL, /Action=Unsubscribe/);
});

test("raw delivery and a per-protocol message; Unsubscribe stops delivery", async () => {
  await sns.send(
    new SetSubscriptionAttributesCommand({
      SubscriptionArn: subscriptionArn,
      AttributeName: "RawMessageDelivery",
      AttributeValue: "true",
    }),
  );
  await sns.send(
    new PublishCommand({
      TopicArn: TOPIC_ARN,
      MessageStructure: "json",
      Message: JSON.stringify({ default: "for everyone", http: "for http endpoints" }),
    }),
  );
  const raw = await subscriber.next("Raw");
  assert.equal(raw.body, "for http endpoints");
  assert.equal(raw.headerType, "Notification");

  await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }));
  const listed = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: TOPIC_ARN }));
  assert.deepEqual(listed.Subscriptions, []);
  const attrs = (await sns.send(new GetTopicAttributesCommand({ TopicArn: TOPIC_ARN }))).Attributes;
  assert.equal(attrs.SubscriptionsConfirmed, "0");
});

test("a missing topic is a typed NotFoundException; DeleteTopic removes the topic", async () => {
  const missing = `arn:aws:sns:us-east-1:${ACCOUNT}:js-sdk-none`;
  const isNotFound = (err) => {
    assert.ok(err instanceof NotFoundException, `${err.name}: ${err.message}`);
    assert.equal(err.name, "NotFoundException");
    assert.equal(err.$fault, "client");
    assert.equal(err.$metadata.httpStatusCode, 404);
    assert.ok(err.$metadata.requestId, "the error carries the request id");
    return true;
  };
  await assert.rejects(
    sns.send(new GetTopicAttributesCommand({ TopicArn: missing })),
    isNotFound,
  );
  await assert.rejects(
    sns.send(new PublishCommand({ TopicArn: missing, Message: "x" })),
    isNotFound,
  );

  await sns.send(new DeleteTopicCommand({ TopicArn: TOPIC_ARN }));
  const topics = await sns.send(new ListTopicsCommand({}));
  assert.deepEqual(topics.Topics, []);
  await assert.rejects(
    sns.send(new GetTopicAttributesCommand({ TopicArn: TOPIC_ARN })),
    isNotFound,
  );
  await assert.rejects(
    sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn })),
    isNotFound,
  );
});
