// KMS with the AWS SDK for JavaScript v3 (@aws-sdk/client-kms, AWS JSON 1.1): a key and its
// alias, DescribeKey by alias, an Encrypt/Decrypt round trip bound to an encryption context,
// a data key, the key policy read and replaced, typed errors for a missing and a disabled key,
// and the key scheduled for deletion.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisabledException,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  InvalidCiphertextException,
  KMSClient,
  KMSInvalidStateException,
  KMSServiceException,
  NotFoundException,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  paginateListAliases,
} from "@aws-sdk/client-kms";

import { ACCOUNT, clientConfig, startCairn } from "./cairn.js";

const ALIAS = "alias/js-sdk-app";
const CONTEXT = { app: "js-sdk", purpose: "compat" };

let cairn;
let kms;
let keyId;
let keyArn;

before(async () => {
  cairn = await startCairn();
  kms = new KMSClient(clientConfig(cairn.endpoint));
});

after(() => {
  kms?.destroy();
  cairn?.stop();
});

/**
 * An assertion for `assert.rejects`: `err` is an instance of `type`, a client fault, with
 * `status` (KMS answers 409 for the key-state errors, as its API reference documents).
 */
function typed(type, status = 400) {
  return (err) => {
    assert.ok(err instanceof type, `${type.name} expected, got ${err.name}: ${err.message}`);
    assert.equal(err.name, type.name);
    assert.equal(err.$fault, "client");
    assert.equal(err.$metadata.httpStatusCode, status);
    return true;
  };
}

test("CreateKey and CreateAlias; DescribeKey by alias names the key", async () => {
  const created = await kms.send(
    new CreateKeyCommand({
      Description: "JavaScript SDK compat key",
      Tags: [{ TagKey: "team", TagValue: "js" }],
    }),
  );
  const meta = created.KeyMetadata;
  keyId = meta.KeyId;
  keyArn = meta.Arn;
  assert.equal(keyArn, `arn:aws:kms:us-east-1:${ACCOUNT}:key/${keyId}`);
  assert.equal(meta.KeyState, "Enabled");
  assert.equal(meta.Enabled, true);
  assert.equal(meta.KeySpec, "SYMMETRIC_DEFAULT");
  assert.equal(meta.KeyUsage, "ENCRYPT_DECRYPT");
  assert.equal(meta.KeyManager, "CUSTOMER");
  assert.ok(meta.CreationDate instanceof Date, "CreationDate parses as a timestamp");

  await kms.send(new CreateAliasCommand({ AliasName: ALIAS, TargetKeyId: keyId }));
  for (const name of [ALIAS, `arn:aws:kms:us-east-1:${ACCOUNT}:${ALIAS}`, keyArn]) {
    const described = await kms.send(new DescribeKeyCommand({ KeyId: name }));
    assert.equal(described.KeyMetadata.KeyId, keyId, `DescribeKey(${name})`);
    assert.equal(described.KeyMetadata.Description, "JavaScript SDK compat key");
  }
  const aliases = [];
  for await (const page of paginateListAliases({ client: kms, pageSize: 1 }, { KeyId: keyId })) {
    aliases.push(...page.Aliases);
  }
  assert.deepEqual(
    aliases.map((a) => [a.AliasName, a.AliasArn, a.TargetKeyId]),
    [[ALIAS, `arn:aws:kms:us-east-1:${ACCOUNT}:${ALIAS}`, keyId]],
  );
});

test("Encrypt and Decrypt round trip, bound to the encryption context", async () => {
  const plaintext = new TextEncoder().encode("attack at dawn \u{1F305}");
  const encrypted = await kms.send(
    new EncryptCommand({ KeyId: ALIAS, Plaintext: plaintext, EncryptionContext: CONTEXT }),
  );
  assert.equal(encrypted.KeyId, keyArn, "Encrypt names the key ARN, not the alias");
  assert.ok(encrypted.CiphertextBlob instanceof Uint8Array);
  assert.ok(encrypted.CiphertextBlob.length > plaintext.length);

  const decrypted = await kms.send(
    new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: CONTEXT }),
  );
  assert.equal(decrypted.KeyId, keyArn);
  assert.deepEqual(Buffer.from(decrypted.Plaintext), Buffer.from(plaintext));
  assert.equal(decrypted.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");

  await assert.rejects(
    kms.send(
      new DecryptCommand({
        CiphertextBlob: encrypted.CiphertextBlob,
        EncryptionContext: { ...CONTEXT, purpose: "other" },
      }),
    ),
    typed(InvalidCiphertextException),
  );
  await assert.rejects(
    kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob })),
    typed(InvalidCiphertextException),
  );

  const second = await kms.send(new CreateKeyCommand({ Description: "second" }));
  const moved = await kms.send(
    new ReEncryptCommand({
      CiphertextBlob: encrypted.CiphertextBlob,
      SourceEncryptionContext: CONTEXT,
      DestinationKeyId: second.KeyMetadata.KeyId,
      DestinationEncryptionContext: { app: "js-sdk", purpose: "moved" },
    }),
  );
  assert.equal(moved.SourceKeyId, keyArn);
  assert.equal(moved.KeyId, second.KeyMetadata.Arn);
  const reopened = await kms.send(
    new DecryptCommand({
      CiphertextBlob: moved.CiphertextBlob,
      EncryptionContext: { app: "js-sdk", purpose: "moved" },
    }),
  );
  assert.equal(reopened.KeyId, second.KeyMetadata.Arn);
  assert.deepEqual(Buffer.from(reopened.Plaintext), Buffer.from(plaintext));
});

test("GenerateDataKey gives a 256-bit key and its ciphertext, which decrypts to it", async () => {
  const dataKey = await kms.send(
    new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256", EncryptionContext: CONTEXT }),
  );
  assert.equal(dataKey.KeyId, keyArn);
  assert.equal(dataKey.Plaintext.length, 32);
  const opened = await kms.send(
    new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: CONTEXT }),
  );
  assert.deepEqual(Buffer.from(opened.Plaintext), Buffer.from(dataKey.Plaintext));
});

test("GetKeyPolicy shows the default policy; PutKeyPolicy replaces it", async () => {
  const got = await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }));
  const policy = JSON.parse(got.Policy);
  const [statement] = policy.Statement;
  assert.equal(statement.Effect, "Allow");
  assert.deepEqual(statement.Principal, { AWS: `arn:aws:iam::${ACCOUNT}:root` });
  assert.equal(statement.Action, "kms:*");

  const replacement = {
    Version: "2012-10-17",
    Id: "js-sdk-policy",
    Statement: [
      {
        Sid: "Enable IAM User Permissions",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "DenyRandomPurpose",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "kms:Encrypt",
        Resource: "*",
        Condition: { StringEquals: { "kms:EncryptionContext:purpose": "forbidden" } },
      },
    ],
  };
  await kms.send(
    new PutKeyPolicyCommand({
      KeyId: keyId,
      PolicyName: "default",
      Policy: JSON.stringify(replacement),
    }),
  );
  const again = await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }));
  assert.deepEqual(JSON.parse(again.Policy), replacement);

  // The key policy's explicit deny holds even for the account's root user, as on AWS.
  await assert.rejects(
    kms.send(
      new EncryptCommand({
        KeyId: keyId,
        Plaintext: new Uint8Array([1]),
        EncryptionContext: { purpose: "forbidden" },
      }),
    ),
    (err) => {
      // KMS's model has no AccessDeniedException shape: the SDK raises its service exception
      // with the wire code as its name.
      assert.ok(err instanceof KMSServiceException, `${err.name}: ${err.message}`);
      assert.equal(err.name, "AccessDeniedException");
      assert.equal(err.$metadata.httpStatusCode, 400);
      assert.match(err.message, /kms:Encrypt/);
      return true;
    },
  );
  await kms.send(
    new EncryptCommand({
      KeyId: keyId,
      Plaintext: new Uint8Array([1]),
      EncryptionContext: { purpose: "allowed" },
    }),
  );
});

test("a missing key is NotFoundException; a disabled key is DisabledException", async () => {
  await assert.rejects(
    kms.send(new DescribeKeyCommand({ KeyId: "alias/js-sdk-none" })),
    typed(NotFoundException),
  );
  await assert.rejects(
    kms.send(
      new EncryptCommand({
        KeyId: "11111111-2222-3333-4444-555555555555",
        Plaintext: new Uint8Array([1]),
      }),
    ),
    typed(NotFoundException),
  );

  await kms.send(new DisableKeyCommand({ KeyId: keyId }));
  const disabled = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
  assert.equal(disabled.KeyMetadata.KeyState, "Disabled");
  assert.equal(disabled.KeyMetadata.Enabled, false);
  await assert.rejects(
    kms.send(new EncryptCommand({ KeyId: ALIAS, Plaintext: new Uint8Array([1, 2, 3]) })),
    typed(DisabledException, 409),
  );
  await kms.send(new EnableKeyCommand({ KeyId: keyId }));
});

test("ScheduleKeyDeletion puts the key in PendingDeletion, where it cannot be used", async () => {
  const scheduled = await kms.send(
    new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }),
  );
  assert.equal(scheduled.KeyId, keyArn);
  assert.equal(scheduled.KeyState, "PendingDeletion");
  assert.equal(scheduled.PendingWindowInDays, 7);
  const days = (scheduled.DeletionDate.getTime() - Date.now()) / 86_400_000;
  assert.ok(days > 6.9 && days <= 7.01, `deletion in 7 days, got ${days}`);

  const described = await kms.send(new DescribeKeyCommand({ KeyId: ALIAS }));
  assert.equal(described.KeyMetadata.KeyState, "PendingDeletion");
  assert.ok(described.KeyMetadata.DeletionDate instanceof Date);
  await assert.rejects(
    kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array([1]) })),
    typed(KMSInvalidStateException, 409),
  );
});
