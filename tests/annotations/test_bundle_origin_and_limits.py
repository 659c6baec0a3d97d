"""`annotator verify`: origin (the manifest signed with the server's Ed25519 key, checked with
`--key`) as well as integrity, and a bounded appetite: members are hashed as they stream, and a
bundle over the limits (declared or inflated size, compression ratio, members) is refused with
one line. The zip bombs here are real zips, written byte by byte; peak memory is measured in a
child process (its own ru_maxrss), never time."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import stat
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from annotations.newsroom.bundle import (
    FIGURE,
    GEOJSON,
    MANIFEST,
    MANIFEST_HASH,
    PUBLIC_KEY,
    SIGNATURE,
    evidence_bundle,
    verify_bundle,
)
from annotations.newsroom.evidence import Evidence
from annotations.newsroom.signing import SigningKey, read_public_key, stored_key
from annotator.cli import main
from tests.story import in_folder, ingest_scene, make_evidence

ROOT = Path(__file__).resolve().parents[2]
MiB = 1 << 20
GiB = 1 << 30
#: peak memory a verify may take, whatever the bundle: a wide margin over the interpreter and
#: its imports (~150 MB); reading a 1 GiB member whole, as verify once did, is far over it
RSS_LIMIT_MB = 500


# ---- signatures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    tmp = tmp_path_factory.mktemp("signed")
    return make_evidence([ingest_scene(functools.partial(in_folder, tmp), tmp / "store")])


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[SigningKey, Path]]:
    """The server's key and another's, each with its public key saved as PEM."""
    folder = tmp_path_factory.mktemp("keys")
    made = {}
    for who in ("server", "other"):
        key = stored_key(folder / who / "signing_key")
        public = folder / f"{who}.pem"
        public.write_text(key.public_pem())
        made[who] = (key, public)
    return made


@pytest.fixture(scope="module")
def signed(evidence: Evidence, keys: dict[str, tuple[SigningKey, Path]]) -> bytes:
    return evidence_bundle(evidence, keys["server"][0])


def cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["verify", *map(str, args)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_signed_bundle_passes_with_the_servers_key(
    signed: bytes, keys: dict[str, tuple[SigningKey, Path]], tmp_path: Path
) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(signed)
    with zipfile.ZipFile(path) as archive:
        assert {SIGNATURE, PUBLIC_KEY} <= set(archive.namelist())
        listed = {entry["name"] for entry in json.loads(archive.read(MANIFEST))["files"]}
    assert PUBLIC_KEY in listed, "the key's copy is covered by the manifest's hashes"
    key, public = keys["server"]
    assert verify_bundle(path, public_key=key.public) == []
    code, out, err = cli(path, "--key", public)
    assert (code, err) == (0, ""), err
    assert (
        out.startswith("OK") and f"signed by the key given (sha256:{key.fingerprint()[:16]}" in out
    )
    # without --key: integrity only, and it says so
    code, out, err = cli(path)
    assert code == 0 and err == ""
    assert "origin not checked" in out and "--key" in out
    code, out, _ = cli(path, "--key", public, "--json")
    assert json.loads(out) == {
        "bundle": str(path),
        "ok": True,
        "problems": [],
        "origin_checked": True,
    }


def test_the_same_evidence_and_key_give_the_same_bytes(
    signed: bytes, evidence: Evidence, keys: dict[str, tuple[SigningKey, Path]]
) -> None:
    assert evidence_bundle(evidence, keys["server"][0]) == signed


def test_an_altered_manifest_with_its_hash_redone_fails_only_with_the_key(
    signed: bytes, keys: dict[str, tuple[SigningKey, Path]], tmp_path: Path
) -> None:
    """A tamperer who edits the manifest and redoes `manifest.json.sha256` passes integrity:
    only the signature catches it."""
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(signed)).read(MANIFEST))
    manifest["annotations"][0]["approved_by"] = "someone else"
    path = tmp_path / "tampered.zip"
    _rezip(signed, path, {MANIFEST: _json(manifest)}, rehash=True)
    assert verify_bundle(path) == [], "integrity alone cannot see it"
    code, _, err = cli(path, "--key", keys["server"][1])
    assert code == 1
    assert err.strip().splitlines() == [
        f"{SIGNATURE}: the signature does not match: changed after it was signed, "
        "or not signed by this key"
    ]


def test_an_altered_member_fails(
    signed: bytes, keys: dict[str, tuple[SigningKey, Path]], tmp_path: Path
) -> None:
    public = keys["server"][1]
    original = zipfile.ZipFile(io.BytesIO(signed))
    geojson = json.loads(original.read(GEOJSON))
    geojson["features"][0]["properties"]["label"] = "something else"
    changed = _json(geojson)
    # the member alone: its sha256 no longer matches the manifest
    path = tmp_path / "member.zip"
    _rezip(signed, path, {GEOJSON: changed})
    code, _, err = cli(path, "--key", public)
    assert code == 1 and err.strip().splitlines() == [
        f"{GEOJSON}: sha256 {hashlib.sha256(changed).hexdigest()} differs from {MANIFEST}"
    ]
    # the member, the manifest's entry for it and the manifest's hash: only the signature is left
    manifest = json.loads(original.read(MANIFEST))
    for entry in manifest["files"]:
        if entry["name"] == GEOJSON:
            entry["sha256"] = hashlib.sha256(changed).hexdigest()
    path = tmp_path / "all.zip"
    _rezip(signed, path, {GEOJSON: changed, MANIFEST: _json(manifest)}, rehash=True)
    assert verify_bundle(path) == []
    code, _, err = cli(path, "--key", public)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"{SIGNATURE}: the signature does not match")


def test_the_wrong_key_fails(
    signed: bytes, keys: dict[str, tuple[SigningKey, Path]], tmp_path: Path
) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(signed)
    server, other = keys["server"][0], keys["other"][0]
    code, out, err = cli(path, "--key", keys["other"][1])
    assert code == 1 and "OK" not in out
    assert err.strip().splitlines() == [
        f"{SIGNATURE}: signed by key sha256:{server.fingerprint()[:16]}\u2026, "
        f"not by the key given (sha256:{other.fingerprint()[:16]}\u2026)"
    ]


def test_a_bundle_resigned_by_someone_else_fails_against_the_servers_key(
    signed: bytes, evidence: Evidence, keys: dict[str, tuple[SigningKey, Path]], tmp_path: Path
) -> None:
    """Whoever changes a bundle can sign it again and put their own key in it; the copy of the
    key in the bundle proves nothing, the server's own key does."""
    forged = evidence_bundle(evidence, SigningKey(Ed25519PrivateKey.generate()))
    path = tmp_path / "forged.zip"
    path.write_bytes(forged)
    assert verify_bundle(path) == [], "self-consistent"
    code, _, err = cli(path, "--key", keys["server"][1])
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "not by the key given" in err
    # checked against the key it carries, it "passes": which is why that copy proves nothing
    carried = tmp_path / "carried.pem"
    with zipfile.ZipFile(path) as archive:
        carried.write_bytes(archive.read(PUBLIC_KEY))
    assert cli(path, "--key", carried)[0] == 0


def test_a_missing_signature_fails_with_the_key(
    signed: bytes, evidence: Evidence, keys: dict[str, tuple[SigningKey, Path]], tmp_path: Path
) -> None:
    expected = [f"{SIGNATURE}: missing: the bundle is not signed, so its origin cannot be checked"]
    stripped = tmp_path / "stripped.zip"
    _rezip(signed, stripped, {}, drop=SIGNATURE)
    unsigned = tmp_path / "unsigned.zip"
    unsigned.write_bytes(evidence_bundle(evidence))
    for path in (stripped, unsigned):
        assert verify_bundle(path) == []
        code, _, err = cli(path, "--key", keys["server"][1])
        assert code == 1 and err.strip().splitlines() == expected


@pytest.mark.parametrize("what", ["missing", "not a key", "a private key", "another algorithm"])
def test_a_bad_key_file_is_one_line(signed: bytes, tmp_path: Path, what: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "bundle.zip"
    path.write_bytes(signed)
    key = tmp_path / "key.pem"
    if what == "not a key":
        key.write_text("hello\n")
    elif what == "a private key":
        key.write_bytes(_private_pem())
    elif what == "another algorithm":
        other = ec.generate_private_key(ec.SECP256R1()).public_key()
        key.write_bytes(
            other.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    code, out, err = cli(path, "--key", key)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(key) in lines[0], err
    assert "Traceback" not in err


def test_the_key_is_made_once_mode_600_and_raced_to_one(tmp_path: Path) -> None:
    path = tmp_path / "data" / "signing_key"
    script = textwrap.dedent(f"""
        from pathlib import Path
        from annotations.newsroom.signing import stored_key
        print(stored_key(Path({str(path)!r})).fingerprint())
    """)
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    prints = {racer.communicate()[0].strip() for racer in racers}
    assert len(prints) == 1 and len(next(iter(prints))) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stored_key(path).fingerprint() in prints
    assert sorted(p.name for p in path.parent.iterdir()) == ["signing_key"], "no temp files"
    public = tmp_path / "public.pem"
    public.write_text(stored_key(path).public_pem())
    assert read_public_key(public) == stored_key(path).public


# ---- limits -------------------------------------------------------------------------------


@dataclass
class Member:
    """A member written as given: raw deflate `segments` (repeated `repeat` times, then a final
    empty block), with the sizes and CRC its headers declare (which may lie)."""

    name: str
    segment: bytes
    repeat: int
    declared_size: int
    crc: int
    method: int = zipfile.ZIP_DEFLATED

    @property
    def stream(self) -> Iterable[bytes]:
        for _ in range(self.repeat):
            yield self.segment
        if self.method == zipfile.ZIP_DEFLATED:
            yield b"\x03\x00"  # a final, empty, fixed-Huffman block

    @property
    def compressed_size(self) -> int:
        return len(self.segment) * self.repeat + (2 if self.method == zipfile.ZIP_DEFLATED else 0)


@functools.cache
def zeros_segment() -> bytes:
    """1 MiB of zeros as raw deflate blocks that stand alone (full flush): repeated N times they
    inflate to N MiB of zeros, so a GiB costs a MiB to write."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)


@functools.cache
def zeros_facts(mib: int) -> tuple[int, str]:
    """(crc32, sha256) of `mib` MiB of zeros."""
    block, crc, digest = bytes(MiB), 0, hashlib.sha256()
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
        digest.update(block)
    return crc, digest.hexdigest()


def zeros(name: str, mib: int, declared: int | None = None) -> Member:
    crc, _ = zeros_facts(mib)
    return Member(name, zeros_segment(), mib, mib * MiB if declared is None else declared, crc)


def text_member(name: str, data: bytes) -> Member:
    return Member(name, data, 1, len(data), zlib.crc32(data), method=zipfile.ZIP_STORED)


def manifest_members(hashes: dict[str, str]) -> list[Member]:
    manifest = _json({"files": [{"name": n, "sha256": h} for n, h in sorted(hashes.items())]})
    digest = hashlib.sha256(manifest).hexdigest()
    return [
        text_member(MANIFEST, manifest),
        text_member(MANIFEST_HASH, f"{digest}  {MANIFEST}\n".encode()),
    ]


def write_zip(path: Path, members: list[Member]) -> None:
    """A zip (ZIP64 sizes, so members may pass 4 GiB) written byte by byte."""
    directory = []
    with path.open("wb") as out:
        for member in members:
            offset = out.tell()
            name = member.name.encode()
            extra = struct.pack("<HHQQ", 1, 16, member.declared_size, member.compressed_size)
            # flags, method, time, date, crc, sizes (in the ZIP64 extra), name and extra lengths:
            # the same in the local header and in the central directory's entry
            common = (
                0,
                member.method,
                0,
                0x21,
                member.crc,
                0xFFFFFFFF,
                0xFFFFFFFF,
                len(name),
                len(extra),
            )
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, *common))
            out.write(name + extra)
            for part in member.stream:
                out.write(part)
            entry = struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, *common, 0, 0, 0, 0, offset
            )
            directory.append(entry + name + extra)
        start = out.tell()
        body = b"".join(directory)
        out.write(body)
        out.write(
            struct.pack(
                "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(body), start, 0
            )
        )


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The review's bundle: two members of 1 GiB of zeros each (2 MiB on disk), and a manifest
    that lists them with their true sha256."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    members = [zeros("zeros-1.bin", 1024), zeros("zeros-2.bin", 1024)]
    sha = zeros_facts(1024)[1]
    write_zip(path, [*members, *manifest_members({m.name: sha for m in members})])
    assert path.stat().st_size < 4 * MiB
    return path


#: the child's peak resident memory: its own high-water mark (VmHWM), which, unlike
#: getrusage's ru_maxrss, does not carry over the forking parent's (this pytest process's)
PEAK = """
import atexit, sys
def peak_mb():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024
"""


def run_measured(code: str) -> tuple[object, int]:
    """Run `code` in a child Python that calls report(result); return the result and the
    child's peak resident memory in MB."""
    script = (
        PEAK
        + textwrap.dedent("""
        import json
        def report(result):
            print(json.dumps({"result": result, "peak_mb": peak_mb()}))
    """)
        + textwrap.dedent(code)
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return answer["result"], int(answer["peak_mb"])


def cli_measured(*args: str | Path) -> tuple[int, str, str, int]:
    """`annotator verify ARGS` in a child process: (exit code, stdout, stderr, peak MB)."""
    script = PEAK + textwrap.dedent("""
        atexit.register(lambda: print(f"PEAK {peak_mb()}", file=sys.stderr))
        from annotator.cli import main
        main(sys.argv[1:], prog_name="annotator")
    """)
    done = subprocess.run(
        [sys.executable, "-c", script, "verify", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("PEAK "), done.stderr[-2000:]
    return done.returncode, done.stdout, "\n".join(lines[:-1]), int(lines[-1].split()[1])


def test_the_two_gib_bomb_is_refused_in_one_line_unread(bomb: Path) -> None:
    code, out, err, peak = cli_measured(bomb)
    print(f"annotator verify on the 2 GiB bomb: exit {code}, peak {peak} MB")
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and "zeros-1.bin" in lines[0] and "refused" in lines[0], err
    assert "Traceback" not in err
    assert peak < RSS_LIMIT_MB


def test_members_are_hashed_as_they_stream(bomb: Path) -> None:
    """With the limits lifted, the same 2 GiB bundle is read through and checks out, in
    constant memory: verify once held each member whole (the review measured 3.4 GB)."""
    result, peak = run_measured(f"""
        from pathlib import Path
        from annotations.newsroom.bundle import Limits, verify_bundle
        lifted = Limits(member_bytes=4 << 30, total_bytes=8 << 30, ratio=None)
        report(verify_bundle(Path({str(bomb)!r}), limits=lifted))
    """)
    print(f"verify_bundle streaming 2 GiB of zeros: peak {peak} MB")
    assert result == []
    assert peak < RSS_LIMIT_MB


def test_a_bomb_under_the_size_limits_is_refused_by_its_ratio(tmp_path: Path) -> None:
    path = tmp_path / "ratio.zip"
    member = zeros(FIGURE, 64)
    write_zip(path, [member, *manifest_members({FIGURE: zeros_facts(64)[1]})])
    code, out, err, peak = cli_measured(path)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{FIGURE}: declares") and "to 1" in lines[0]
    assert peak < RSS_LIMIT_MB


@pytest.mark.parametrize("honest_crc", [True, False])
def test_a_lying_header_does_not_get_past_the_limits(tmp_path: Path, honest_crc: bool) -> None:
    """Headers that declare 1 KiB for a stream of 1 GiB of zeros (a ratio that looks tame): no
    more than the declared bytes are ever inflated, so memory stays flat and verify ends with
    one line about that member."""
    path = tmp_path / "liar.zip"
    member = zeros(FIGURE, 1024, declared=1024)
    if honest_crc:  # the CRC of what the header claims, so the zip's own check passes
        member.crc = zlib.crc32(bytes(1024))
    write_zip(path, [member, *manifest_members({FIGURE: zeros_facts(1024)[1]})])
    code, out, err, peak = cli_measured(path)
    print(f"lying header (honest CRC {honest_crc}): exit {code}, peak {peak} MB: {err}")
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{FIGURE}: "), err
    assert peak < RSS_LIMIT_MB


def test_the_inflated_bytes_are_counted_as_well_as_the_declared() -> None:
    """Whatever the headers said, each chunk read counts against the member's declared size and
    the limits (zipfile itself stops at the declared size, as the test above shows; this is the
    second line)."""
    from annotations.newsroom.bundle import Limits, _Budget, _Refused

    info = zipfile.ZipInfo("a.bin")
    info.file_size, info.compress_size = 8 * MiB, 4 * MiB
    budget = _Budget(Limits(member_bytes=6 * MiB, total_bytes=10 * MiB, ratio=None))
    budget.take(info, 0, 5 * MiB)
    with pytest.raises(_Refused, match=r"a\.bin: over 6 MiB uncompressed"):
        budget.take(info, 5 * MiB, 2 * MiB)
    budget = _Budget(Limits(member_bytes=8 * MiB, total_bytes=10 * MiB, ratio=None))
    budget.take(info, 0, 8 * MiB)
    with pytest.raises(_Refused, match="inflates past the 8388608 bytes its header declares"):
        budget.take(info, 8 * MiB, 1)
    with pytest.raises(_Refused, match="the bundle inflates past 10 MiB in all"):
        budget.take(info, 0, 3 * MiB)
    budget = _Budget(Limits(ratio=1.5))  # 8 MiB from 4: 2 to 1
    with pytest.raises(_Refused, match=r"compressed over 1\.5 to 1"):
        budget.take(info, 0, 8 * MiB)


def test_too_many_members_are_refused_before_the_directory_is_read(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(5000):
            archive.writestr(f"m{number}.txt", b"")
    code, out, err, _ = cli_measured(path)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}: 5000 members in a "), err
    assert lines[0].endswith("not a bundle (at most 64 members); refused")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_other_compression_methods_are_refused(tmp_path: Path, method: int) -> None:
    """bzip2 and lzma inflate a whole read at once, unbounded: a bundle uses neither."""
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        archive.writestr(GEOJSON, b"{}")
        archive.writestr(MANIFEST, _json({"files": []}))
    problems = verify_bundle(path)
    assert problems and all("refused" in line for line in problems), problems
    assert problems[0].startswith(f"{GEOJSON}: compression method {method}")


def test_a_real_bundle_is_far_inside_the_limits(signed: bytes, tmp_path: Path) -> None:
    from annotations.newsroom.bundle import LIMITS, RATIO_FLOOR

    archive = zipfile.ZipFile(io.BytesIO(signed))
    for info in archive.infolist():
        assert info.file_size < LIMITS.member_bytes / 10
        if info.file_size > RATIO_FLOOR:
            assert LIMITS.ratio is not None
            assert info.file_size / info.compress_size < LIMITS.ratio / 4


# ---- helpers ------------------------------------------------------------------------------


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def _private_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization

    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _rezip(
    source: bytes,
    path: Path,
    replace: dict[str, bytes],
    *,
    rehash: bool = False,
    drop: str | None = None,
) -> None:
    """`source` re-zipped with members replaced (and `manifest.json.sha256` redone if asked)."""
    with zipfile.ZipFile(io.BytesIO(source)) as original:
        contents = {i.filename: original.read(i) for i in original.infolist() if i.filename != drop}
    contents.update(replace)
    if rehash:
        digest = hashlib.sha256(contents[MANIFEST]).hexdigest()
        contents[MANIFEST_HASH] = f"{digest}  {MANIFEST}\n".encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in contents.items():
            out.writestr(name, data)


def test_no_temporary_files_are_left_by_verify(bomb: Path) -> None:
    before = set(os.listdir(bomb.parent))
    verify_bundle(bomb)
    assert set(os.listdir(bomb.parent)) == before
