// S3 with the AWS SDK for Go v2 (path-style): objects with metadata and a flexible checksum,
// ranged reads, HeadObject, a multipart upload, DeleteObjects (the SDK adds Content-MD5) and
// the typed NoSuchKey and NoSuchBucket errors.
package compat

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// readBody reads and closes an object body.
func readBody(t *testing.T, body io.ReadCloser) []byte {
	t.Helper()
	defer body.Close()
	out, err := io.ReadAll(body)
	must(t, err, "reading the body")
	return out
}

func quotedMD5(data []byte) string {
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func TestS3Objects(t *testing.T) {
	srv := startCairn(t)
	ctx := context.Background()
	s3c := s3.NewFromConfig(srv.config(t), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := aws.String("go-sdk-objects")
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
	must(t, err, "CreateBucket")

	body := []byte(strings.Repeat("hello from the Go SDK\n", 200))
	put, err := s3c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:            bucket,
		Key:               aws.String("notes/hello.txt"),
		Body:              bytes.NewReader(body),
		ContentType:       aws.String("text/plain"),
		Metadata:          map[string]string{"origin": "go-sdk"},
		ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32,
	})
	must(t, err, "PutObject")
	if aws.ToString(put.ETag) != quotedMD5(body) || aws.ToString(put.ChecksumCRC32) == "" {
		t.Fatalf("PutObject: ETag %s (want %s), ChecksumCRC32 %q",
			aws.ToString(put.ETag), quotedMD5(body), aws.ToString(put.ChecksumCRC32))
	}

	got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("notes/hello.txt")})
	must(t, err, "GetObject")
	if data := readBody(t, got.Body); !bytes.Equal(data, body) {
		t.Fatalf("GetObject gave %d bytes, want %d", len(data), len(body))
	}
	if aws.ToString(got.ContentType) != "text/plain" || got.Metadata["origin"] != "go-sdk" ||
		got.ContentLength != int64(len(body)) || aws.ToString(got.ETag) != quotedMD5(body) {
		t.Fatalf("GetObject: type %q, metadata %v, length %d, ETag %s", aws.ToString(got.ContentType),
			got.Metadata, got.ContentLength, aws.ToString(got.ETag))
	}

	ranged, err := s3c.GetObject(ctx, &s3.GetObjectInput{
		Bucket: bucket, Key: aws.String("notes/hello.txt"), Range: aws.String("bytes=6-12"),
	})
	must(t, err, "ranged GetObject")
	if data := string(readBody(t, ranged.Body)); data != "from th" ||
		aws.ToString(ranged.ContentRange) != fmt.Sprintf("bytes 6-12/%d", len(body)) {
		t.Fatalf("ranged GetObject: %q, Content-Range %q", data, aws.ToString(ranged.ContentRange))
	}

	head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("notes/hello.txt")})
	must(t, err, "HeadObject")
	if head.ContentLength != int64(len(body)) || head.Metadata["origin"] != "go-sdk" ||
		head.LastModified == nil || aws.ToString(head.ETag) != quotedMD5(body) {
		t.Fatalf("HeadObject: length %d, metadata %v, LastModified %v, ETag %s",
			head.ContentLength, head.Metadata, head.LastModified, aws.ToString(head.ETag))
	}

	_, err = s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("notes/missing.txt")})
	var noSuchKey *s3types.NoSuchKey
	if !errors.As(err, &noSuchKey) {
		t.Fatalf("GetObject of a missing key: want *types.NoSuchKey, got %T: %v", err, err)
	}
	// This SDK version fills no Message into S3's typed errors: the code, status and request
	// id are what it shows.
	if noSuchKey.ErrorCode() != "NoSuchKey" || httpStatus(t, err) != 404 {
		t.Fatalf("NoSuchKey: %q, status %d", noSuchKey.ErrorCode(), httpStatus(t, err))
	}
	var responseErr *awshttp.ResponseError
	if !errors.As(err, &responseErr) || responseErr.ServiceRequestID() == "" {
		t.Fatalf("NoSuchKey carries no request id: %v", err)
	}
	_, err = s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("notes/missing.txt")})
	// HeadObject's errors are not modeled in this SDK version (types.NotFound came later):
	// the code comes from the status of the bodiless 404.
	if code := apiErrorCode(t, err); code != "NotFound" || httpStatus(t, err) != 404 {
		t.Fatalf("HeadObject of a missing key: %q, status %d", code, httpStatus(t, err))
	}
	_, err = s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("no-such-bucket-go")})
	var noSuchBucket *s3types.NoSuchBucket
	if !errors.As(err, &noSuchBucket) {
		t.Fatalf("ListObjectsV2 of a missing bucket: want *types.NoSuchBucket, got %T: %v", err, err)
	}
}

func TestS3MultipartAndDeleteObjects(t *testing.T) {
	srv := startCairn(t)
	ctx := context.Background()
	s3c := s3.NewFromConfig(srv.config(t), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := aws.String("go-sdk-multipart")
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
	must(t, err, "CreateBucket")

	key := aws.String("big/object.bin")
	created, err := s3c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: bucket, Key: key, ContentType: aws.String("application/octet-stream"),
	})
	must(t, err, "CreateMultipartUpload")
	if aws.ToString(created.UploadId) == "" || aws.ToString(created.Key) != *key {
		t.Fatalf("CreateMultipartUpload: %+v", created)
	}
	// Every part but the last is at least 5 MiB, as on AWS.
	parts := [][]byte{bytes.Repeat([]byte("a"), 5<<20), []byte("the last part")}
	var completed []s3types.CompletedPart
	var digests []byte
	for i, part := range parts {
		number := int32(i + 1)
		uploaded, err := s3c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: number,
			Body: bytes.NewReader(part),
		})
		must(t, err, fmt.Sprintf("UploadPart %d", number))
		if aws.ToString(uploaded.ETag) != quotedMD5(part) {
			t.Fatalf("UploadPart %d: ETag %s, want %s", number, aws.ToString(uploaded.ETag), quotedMD5(part))
		}
		sum := md5.Sum(part)
		digests = append(digests, sum[:]...)
		completed = append(completed, s3types.CompletedPart{ETag: uploaded.ETag, PartNumber: number})
	}
	listed, err := s3c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: key, UploadId: created.UploadId})
	must(t, err, "ListParts")
	if len(listed.Parts) != 2 || listed.Parts[0].Size != 5<<20 || listed.Parts[1].PartNumber != 2 {
		t.Fatalf("ListParts: %+v", listed.Parts)
	}
	done, err := s3c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: bucket, Key: key, UploadId: created.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: completed},
	})
	must(t, err, "CompleteMultipartUpload")
	whole := md5.Sum(digests)
	wantETag := fmt.Sprintf(`"%s-2"`, hex.EncodeToString(whole[:]))
	if aws.ToString(done.ETag) != wantETag || aws.ToString(done.Key) != *key {
		t.Fatalf("CompleteMultipartUpload: ETag %s (want %s), key %s", aws.ToString(done.ETag), wantETag,
			aws.ToString(done.Key))
	}
	got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key})
	must(t, err, "GetObject")
	if data := readBody(t, got.Body); !bytes.Equal(data, bytes.Join(parts, nil)) {
		t.Fatalf("the assembled object has %d bytes, want %d", len(data), len(parts[0])+len(parts[1]))
	}
	part2, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key, PartNumber: 2})
	must(t, err, "GetObject PartNumber 2")
	if data := string(readBody(t, part2.Body)); data != "the last part" || part2.PartsCount != 2 {
		t.Fatalf("GetObject part 2: %q, PartsCount %d", data, part2.PartsCount)
	}

	for _, name := range []string{"a.txt", "b.txt", "keep.txt"} {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: bucket, Key: aws.String(name), Body: strings.NewReader(name),
		})
		must(t, err, "PutObject "+name)
	}
	deleted, err := s3c.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: bucket,
		Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{
			{Key: aws.String("a.txt")}, {Key: aws.String("b.txt")}, {Key: key},
			{Key: aws.String("never-there.txt")},
		}},
	})
	must(t, err, "DeleteObjects")
	var names []string
	for _, d := range deleted.Deleted {
		names = append(names, aws.ToString(d.Key))
	}
	sort.Strings(names)
	// A key that was never there is reported deleted too, as on AWS.
	want := []string{"a.txt", "b.txt", "big/object.bin", "never-there.txt"}
	if strings.Join(names, ",") != strings.Join(want, ",") || len(deleted.Errors) != 0 {
		t.Fatalf("DeleteObjects: deleted %v, errors %+v", names, deleted.Errors)
	}
	left, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
	must(t, err, "ListObjectsV2")
	if len(left.Contents) != 1 || aws.ToString(left.Contents[0].Key) != "keep.txt" || left.KeyCount != 1 {
		t.Fatalf("after DeleteObjects: %+v", left.Contents)
	}
}
