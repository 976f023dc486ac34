"""boto3 against Cairn's S3 bucket-level behaviour: deletion and re-creation, naming, listing
shapes (owners, multipart uploads), header limits, region checks and presigned POST."""

import os

import botocore.exceptions
import pytest


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def status(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def s3(cairn):
    return cairn.client("s3")


def part_files(cairn):
    """Every file under the data dir's object store."""
    root = os.path.join(cairn.dir.name, "objects")
    return {os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs}


def test_a_deleted_bucket_leaves_nothing_to_a_new_bucket_of_its_name(s3, cairn):
    """DeleteBucket discards open multipart uploads (and their part files) and every setting;
    a bucket re-created under the name starts empty."""
    b = "reborn-bkt"
    s3.create_bucket(Bucket=b)
    before = part_files(cairn)
    up = s3.create_multipart_upload(Bucket=b, Key="big")["UploadId"]
    etag = s3.upload_part(Bucket=b, Key="big", UploadId=up, PartNumber=1, Body=b"x" * 1024)["ETag"]
    assert part_files(cairn) != before
    s3.put_bucket_policy(Bucket=b, Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                         '"Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject",'
                         f'"Resource":"arn:aws:s3:::{b}/*"}}]}}')
    s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "p/"}, "Expiration": {"Days": 1}}]})
    s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]})
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True})

    # As on S3 (general purpose buckets), open uploads do not block the deletion.
    s3.delete_bucket(Bucket=b)
    assert part_files(cairn) == before
    s3.create_bucket(Bucket=b)
    assert s3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=b, Key="big", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert code(e) == "NoSuchUpload"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=b, Key="big")
    assert status(e) == 404
    for call, err in [(s3.get_bucket_policy, "NoSuchBucketPolicy"),
                      (s3.get_bucket_tagging, "NoSuchTagSet"),
                      (s3.get_bucket_lifecycle_configuration, "NoSuchLifecycleConfiguration"),
                      (s3.get_public_access_block, "NoSuchPublicAccessBlockConfiguration")]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(Bucket=b)
        assert code(e) == err, call
    assert "Status" not in s3.get_bucket_versioning(Bucket=b)
    # Every bucket has S3's default encryption, SSE-S3, and only that.
    rule = s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # Objects still block it.
    s3.put_object(Bucket=b, Key="k", Body=b"1")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket=b)
    assert (code(e), status(e)) == ("BucketNotEmpty", 409)


def raw(cairn, method, path, headers=None, body=None, region=None, service="s3"):
    """A request to the server as it is given: signed for `region` when one is given."""
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from conftest import ACCESS_KEY, SECRET
    import hashlib
    url = cairn.endpoint.rstrip("/") + path
    headers = dict(headers or {})
    if region:
        headers["x-amz-content-sha256"] = hashlib.sha256(body or b"").hexdigest()
        req = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(Credentials(ACCESS_KEY, SECRET), service, region).add_auth(req)
        headers = dict(req.headers.items())
    return requests.request(method, url, headers=headers, data=body)


def test_many_metadata_headers_fit_and_oversized_header_sections_get_an_s3_error(s3, cairn, monkeypatch):
    import http.client
    # Python's own client reads at most 100 response headers; HeadObject answers more here.
    monkeypatch.setattr(http.client, "_MAXHEADERS", 1000)
    s3.create_bucket(Bucket="meta-many")
    meta = {f"m{i:03}": "v" for i in range(150)}
    s3.put_object(Bucket="meta-many", Key="k", Body=b"x", Metadata=meta)
    assert s3.head_object(Bucket="meta-many", Key="k")["Metadata"] == meta
    # S3's 8 KB bound on the header section is answered in S3's words, never an empty 431.
    r = raw(cairn, "GET", "/meta-many/k", headers={"x-filler": "a" * 9000})
    assert r.status_code == 400, r.text
    assert "<Code>RequestHeaderSectionTooLarge</Code>" in r.text
    assert "<MaxSizeAllowed>8192</MaxSizeAllowed>" in r.text
    r = raw(cairn, "GET", "/meta-many/k", headers={f"x-h{i}": "v" for i in range(300)})
    assert r.status_code != 431 and "<Error>" in r.text


def test_list_multipart_uploads_pages_with_markers_delimiters_and_url_encoding(s3):
    b = "lmu-bkt"
    s3.create_bucket(Bucket=b)
    keys = ["lmu/a/1", "lmu/a/2", "lmu/b", "lmu/c", "lmu/c", "lmu/d e"]
    ids = [s3.create_multipart_upload(Bucket=b, Key=k)["UploadId"] for k in keys]
    page = s3.list_multipart_uploads(Bucket=b, Prefix="lmu/", MaxUploads=1, Delimiter="/")
    assert page["IsTruncated"] is True
    assert page["MaxUploads"] == 1
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["lmu/a/"]
    assert page.get("Uploads", []) == []
    assert page["NextKeyMarker"] == "lmu/a/"
    page = s3.list_multipart_uploads(Bucket=b, Prefix="lmu/", MaxUploads=2, Delimiter="/",
                                     KeyMarker=page["NextKeyMarker"])
    assert "CommonPrefixes" not in page or page["CommonPrefixes"] == []
    assert [u["Key"] for u in page["Uploads"]] == ["lmu/b", "lmu/c"]
    assert page["IsTruncated"] is True
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == ("lmu/c", ids[3])
    page = s3.list_multipart_uploads(Bucket=b, Prefix="lmu/", Delimiter="/",
                                     KeyMarker=page["NextKeyMarker"],
                                     UploadIdMarker=page["NextUploadIdMarker"])
    assert [(u["Key"], u["UploadId"]) for u in page["Uploads"]] == [("lmu/c", ids[4]), ("lmu/d e", ids[5])]
    assert page["IsTruncated"] is False
    # One upload per page, in key then initiation order, through the paginator.
    seen = [(u["Key"], u["UploadId"])
            for p in s3.get_paginator("list_multipart_uploads").paginate(
                Bucket=b, PaginationConfig={"PageSize": 1})
            for u in p.get("Uploads", [])]
    assert seen == list(zip(keys, ids))
    enc = s3.list_multipart_uploads(Bucket=b, Prefix="lmu/d ", EncodingType="url")
    assert [u["Key"] for u in enc["Uploads"]] == ["lmu/d%20e"]
    assert enc["Prefix"] == "lmu/d%20"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_multipart_uploads(Bucket=b, MaxUploads=-1)
    assert code(e) == "InvalidArgument"


def test_requests_signed_for_another_region_than_the_buckets_are_refused(s3, cairn):
    west = cairn.client("s3", region="us-west-2")
    west.create_bucket(Bucket="west-bkt", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    west.put_object(Bucket="west-bkt", Key="k", Body=b"1")
    import xml.etree.ElementTree as ET
    r = raw(cairn, "GET", "/west-bkt/k", region="eu-west-1")
    assert r.status_code == 400, r.text
    err = {c.tag: c.text for c in ET.fromstring(r.content)}
    assert err["Code"] == "AuthorizationHeaderMalformed"
    assert err["Message"] == ("The authorization header is malformed; the region 'eu-west-1' is "
                              "wrong; expecting 'us-west-2'")
    assert err["Region"] == "us-west-2"
    assert r.headers["x-amz-bucket-region"] == "us-west-2"
    # us-east-1 is no exception for a bucket elsewhere; bucket calls are checked too.
    r = raw(cairn, "GET", "/west-bkt?list-type=2", region="us-east-1")
    assert (r.status_code, r.headers.get("x-amz-bucket-region")) == (400, "us-west-2")
    # Presigned URLs say it in their own words.
    import requests
    import boto3
    from botocore.config import Config
    from conftest import ACCESS_KEY, SECRET
    eu = cairn.client("s3", region="eu-west-1")
    eu_v4 = boto3.client("s3", endpoint_url=cairn.endpoint, region_name="eu-west-1",
                         aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                         config=Config(signature_version="s3v4"))
    url = eu_v4.generate_presigned_url("get_object", Params={"Bucket": "west-bkt", "Key": "k"})
    r = requests.get(url)
    assert r.status_code == 400
    assert "<Code>AuthorizationQueryParametersError</Code>" in r.text
    assert "<Region>us-west-2</Region>" in r.text
    # The right region, ListBuckets, GetBucketLocation and CreateBucket work from anywhere,
    # and SDK clients follow the error to the bucket's region.
    assert raw(cairn, "GET", "/west-bkt/k", region="us-west-2").status_code == 200
    assert raw(cairn, "GET", "/", region="eu-west-1").status_code == 200
    assert eu.get_bucket_location(Bucket="west-bkt")["LocationConstraint"] == "us-west-2"
    assert eu.get_object(Bucket="west-bkt", Key="k")["Body"].read() == b"1"
    assert s3.list_objects_v2(Bucket="west-bkt")["KeyCount"] == 1


@pytest.mark.parametrize("name", ["sthree-bkt", "amzn-s3-demo-bkt", "xn--bkt", "bkt-s3alias",
                                  "bkt--ol-s3", "bkt.mrap", "bkt--x-s3", "bkt--table-s3"])
def test_reserved_bucket_names_are_refused(cairn, name):
    # Sent as it is: botocore takes `--x-s3` names for directory buckets and goes elsewhere.
    r = raw(cairn, "PUT", f"/{name}", region="us-east-1")
    assert r.status_code == 400, r.text
    assert "<Code>InvalidBucketName</Code>" in r.text


def test_listings_name_owners_as_documented(s3):
    s3.create_bucket(Bucket="owner-bkt")
    s3.put_object(Bucket="owner-bkt", Key="k", Body=b"1")
    account = s3.list_buckets()["Owner"]["ID"]
    v1 = s3.list_objects(Bucket="owner-bkt")["Contents"][0]
    assert v1["Owner"]["ID"] == account
    assert "Owner" not in s3.list_objects_v2(Bucket="owner-bkt")["Contents"][0]
    v2 = s3.list_objects_v2(Bucket="owner-bkt", FetchOwner=True)["Contents"][0]
    assert v2["Owner"]["ID"] == account


def test_presigned_post_substitutes_the_file_name_and_answers_a_post_response(s3, cairn):
    import requests
    import xml.etree.ElementTree as ET
    s3.create_bucket(Bucket="post-bkt")
    post = s3.generate_presigned_post(
        Bucket="post-bkt", Key="up/${filename}", Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}, ["starts-with", "$key", "up/"]])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("hello world.txt", b"hi there")})
    assert r.status_code == 201, r.text
    doc = ET.fromstring(r.content)
    got = {child.tag: child.text for child in doc}
    assert doc.tag == "PostResponse"
    head = s3.head_object(Bucket="post-bkt", Key="up/hello world.txt")
    assert got["Bucket"] == "post-bkt"
    assert got["Key"] == "up/hello world.txt"
    assert got["ETag"] == head["ETag"] and got["ETag"].startswith('"')
    assert got["Location"] == f"{cairn.endpoint.rstrip('/')}/post-bkt/up%2Fhello%20world.txt"
    assert s3.get_object(Bucket="post-bkt", Key="up/hello world.txt")["Body"].read() == b"hi there"


def test_listing_pages_that_end_on_a_common_prefix_continue_after_it(s3):
    s3.create_bucket(Bucket="cp-pages")
    for k in ["a/1", "a/2", "b", "c/1", "c/2", "d"]:
        s3.put_object(Bucket="cp-pages", Key=k, Body=b"")
    v2 = [(p.get("CommonPrefixes", []), p.get("Contents", []))
          for p in s3.get_paginator("list_objects_v2").paginate(
              Bucket="cp-pages", Delimiter="/", PaginationConfig={"PageSize": 1, "MaxItems": 20})]
    v1 = [(p.get("CommonPrefixes", []), p.get("Contents", []))
          for p in s3.get_paginator("list_objects").paginate(
              Bucket="cp-pages", Delimiter="/", PaginationConfig={"PageSize": 1, "MaxItems": 20})]
    for pages in (v2, v1):
        names = [x["Prefix"] for cps, _ in pages for x in cps] + \
                [x["Key"] for _, objs in pages for x in objs]
        assert sorted(names) == ["a/", "b", "c/", "d"], names
