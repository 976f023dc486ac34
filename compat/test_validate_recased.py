"""digest7 G4: a digest copied onto itself with its `x-amz-meta-signature` upper-cased (the
same hex, the same signature) had `cairn validate-logs` report the next, untouched digest's
`previousDigestSignature` as not matching. The same signature in either case matches, as
the stock tool reads it."""

from test_validate_logs import assert_identical, server, tampered  # noqa: F401


def test_a_recased_signature_is_the_same_signature(server):
    def recase(s3, bucket, logs, digests):
        head = s3.head_object(Bucket=bucket, Key=digests[0])
        meta = dict(head["Metadata"], signature=head["Metadata"]["signature"].upper())
        s3.copy_object(Bucket=bucket, Key=digests[0], CopySource={"Bucket": bucket, "Key": digests[0]},
                       Metadata=meta, MetadataDirective="REPLACE")
    stock, ours = tampered(server, "recased", recase)
    assert stock.returncode == 0, stock.stdout + stock.stderr
    assert_identical(stock, ours)
