// Package compat drives the real cairn binary with the AWS SDK for Go v2 (Debian's
// golang-github-aws-aws-sdk-go-v2-dev, built offline in GOPATH mode by ./run): each test
// starts its own server on port 0 with its own data dir, points unmodified SDK clients at it
// with nothing but an endpoint resolver, and checks the store with `cairn verify-store`
// when it stops.
package compat

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
)

const (
	accessKey = "AKIDCOMPATGO"
	secretKey = "compat-go-secret"
	account   = "123456789012"
	region    = "us-east-1"
	listening = "cairn listening on "
)

// cairnBinary is CAIRN_BIN, else target/debug/cairn of this checkout.
func cairnBinary(t *testing.T) string {
	if bin := os.Getenv("CAIRN_BIN"); bin != "" {
		return bin
	}
	bin, err := filepath.Abs(filepath.Join("..", "..", "target", "debug", "cairn"))
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// server is one running `cairn serve` with its data dir.
type server struct {
	t        *testing.T
	bin      string
	dir      string
	endpoint string
	args     []string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// lineWatch is the server's stdout: it hands over the listen address once it is printed.
type lineWatch struct {
	mu    sync.Mutex
	buf   []byte
	found chan string
	once  sync.Once
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if strings.HasPrefix(line, listening) {
			endpoint := strings.TrimSpace(strings.TrimPrefix(line, listening))
			w.once.Do(func() { w.found <- endpoint })
		}
	}
}

// startCairn starts a server for this test with `serve`'s extra `args`; it is stopped (and its
// store verified) at cleanup.
func startCairn(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{t: t, bin: cairnBinary(t), dir: t.TempDir(), args: args}
	s.spawn("127.0.0.1:0")
	t.Cleanup(s.stop)
	return s
}

func (s *server) spawn(listen string) {
	s.t.Helper()
	args := append([]string{"serve", "--listen", listen, "--data-dir", s.dir}, s.args...)
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append(os.Environ(),
		"CAIRN_ROOT_ACCESS_KEY_ID="+accessKey,
		"CAIRN_ROOT_SECRET_ACCESS_KEY="+secretKey,
		"CAIRN_LOG=warn")
	watch := &lineWatch{found: make(chan string, 1)}
	cmd.Stdout = watch
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting %s: %v", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	select {
	case endpoint := <-watch.found:
		s.endpoint = endpoint
	case <-exited:
		s.t.Fatalf("cairn exited (%v) before listening", cmd.ProcessState)
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// stop kills the server and checks that the workload left an intact store.
func (s *server) stop() {
	s.kill()
	out, err := exec.Command(s.bin, "verify-store", "--data-dir", s.dir).CombinedOutput()
	if err != nil {
		s.t.Errorf("verify-store after the test: %v\n%s", err, out)
	}
}

// flush stops the server (flush refuses a data dir a server holds), runs `cairn flush` and
// starts the server again on the same address; it returns flush's JSON report. Clients made
// before it hold dead pooled connections: make new ones.
func (s *server) flush() map[string]any {
	s.t.Helper()
	s.kill()
	out, err := exec.Command(s.bin, "flush", "--data-dir", s.dir).Output()
	var stderr string
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		stderr = string(exitErr.Stderr)
	}
	var report map[string]any
	if jsonErr := json.Unmarshal(out, &report); jsonErr != nil {
		s.t.Fatalf("cairn flush printed no JSON report (%v): %s %s", err, out, stderr)
	}
	if err != nil {
		s.t.Fatalf("cairn flush failed (%v): %s %s", err, out, stderr)
	}
	s.spawn(strings.TrimSuffix(strings.TrimPrefix(s.endpoint, "http://"), "/"))
	return report
}

// config is an SDK configuration for this server: static credentials (the root's unless
// others are given), us-east-1, no retries, and an endpoint resolver naming the server for
// every service, as a user would write it for v1.17 of the SDK (BaseEndpoint came later).
// It is built directly rather than by config.LoadDefaultConfig so that no AWS_* variable or
// shared config file of the machine (a CA bundle, a profile) changes what the tests send.
func (s *server) config(t *testing.T, creds ...string) aws.Config {
	t.Helper()
	key, secret := accessKey, secretKey
	if len(creds) == 2 {
		key, secret = creds[0], creds[1]
	}
	endpoint := s.endpoint
	resolver := aws.EndpointResolverWithOptionsFunc(
		func(service, region string, _ ...interface{}) (aws.Endpoint, error) {
			return aws.Endpoint{URL: endpoint, SigningRegion: region, HostnameImmutable: true}, nil
		})
	return aws.Config{
		Region:                      region,
		Credentials:                 aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, "")),
		EndpointResolverWithOptions: resolver,
		Retryer:                     func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:                  awshttp.NewBuildableClient().WithTimeout(time.Minute),
	}
}

// cloudtrailPolicy is the bucket policy of the README's quick start for `bucket`.
func cloudtrailPolicy(bucket string) string {
	policy := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid":       "AWSCloudTrailAclCheck20150319",
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
				"Action":    "s3:GetBucketAcl",
				"Resource":  "arn:aws:s3:::" + bucket,
			},
			map[string]any{
				"Sid":       "AWSCloudTrailWrite20150319",
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
				"Action":    "s3:PutObject",
				"Resource":  "arn:aws:s3:::" + bucket + "/AWSLogs/" + account + "/*",
				"Condition": map[string]any{
					"StringEquals": map[string]any{"s3:x-amz-acl": "bucket-owner-full-control"},
				},
			},
		},
	}
	out, err := json.Marshal(policy)
	if err != nil {
		panic(err)
	}
	return string(out)
}

// apiErrorCode is the error code of a modeled or unmodeled service error, or fails the test.
func apiErrorCode(t *testing.T, err error) string {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want a service error, got %T: %v", err, err)
	}
	return apiErr.ErrorCode()
}

// httpStatus is the HTTP status of a service error, or fails the test.
func httpStatus(t *testing.T, err error) int {
	t.Helper()
	var responseErr *awshttp.ResponseError
	if !errors.As(err, &responseErr) {
		t.Fatalf("want an HTTP response error, got %T: %v", err, err)
	}
	return responseErr.HTTPStatusCode()
}

// must fails the test on an error from a step that has to succeed.
func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
