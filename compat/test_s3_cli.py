"""`aws s3` high-level commands against Cairn's bucket store."""

import filecmp
import os


def test_s3_high_level_commands(cairn, tmp_path):
    def s3(cmd, *a, **k):
        quiet = ("--only-show-errors",) if cmd in ("cp", "sync", "rm") else ()
        return cairn.cli("s3", cmd, *a, *quiet, **k)
    s3("mb", "s3://cli-bucket")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(21 * 1024 * 1024 + 17))
    s3("cp", str(big), "s3://cli-bucket/dir/big.bin")
    back = tmp_path / "back.bin"
    s3("cp", "s3://cli-bucket/dir/big.bin", str(back))
    assert filecmp.cmp(big, back, shallow=False), "multipart round trip must be byte-exact"

    tree = tmp_path / "tree"
    (tree / "sub dir").mkdir(parents=True)
    (tree / "a+b.txt").write_text("plus")
    (tree / "sub dir" / "with space.txt").write_text("space")
    (tree / "plain.txt").write_text("plain")
    s3("sync", str(tree), "s3://cli-bucket/tree")
    listing = cairn.cli("s3", "ls", "--recursive", "s3://cli-bucket").stdout
    for key in ["dir/big.bin", "tree/a+b.txt", "tree/sub dir/with space.txt", "tree/plain.txt"]:
        assert key in listing, listing
    top = cairn.cli("s3", "ls", "s3://cli-bucket").stdout
    assert "PRE dir/" in top and "PRE tree/" in top
    mirror = tmp_path / "mirror"
    s3("sync", "s3://cli-bucket/tree", str(mirror))
    assert (mirror / "sub dir" / "with space.txt").read_text() == "space"
    assert (mirror / "a+b.txt").read_text() == "plus"

    s3("rm", "s3://cli-bucket/tree/plain.txt")
    assert "plain.txt" not in cairn.cli("s3", "ls", "--recursive", "s3://cli-bucket").stdout
    failed = cairn.cli("s3", "rb", "s3://cli-bucket", check=False)
    assert failed.returncode != 0 and "BucketNotEmpty" in failed.stderr
    s3("rb", "--force", "s3://cli-bucket")
    assert "cli-bucket" not in cairn.cli("s3", "ls").stdout
