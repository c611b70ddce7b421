"""wallboard.files: what the output rule and the input rule mean, file by file (the commands' tests show them at
work on the command line)."""

from __future__ import annotations

import logging
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wallboard import files
from wallboard.files import (
    LEFTOVER_AGE_S,
    AtomicOutput,
    UnsafePathError,
    check_output,
    is_recording,
    is_snapshot_image,
    is_wallboard_log,
    open_regular,
    read_regular,
)

HEADER = b'{"format": "wallboard-feed", "version": 1, "tz": "Asia/Makassar", "polda_id": null, "source": "x"}\n'


def test_what_counts_as_ours() -> None:
    assert is_recording(HEADER + b'{"t": ...}\n')
    assert not is_recording(b'{"t": "2026-11-22T13:00:00+08:00", "stream": "calls", "record": {}}\n')
    assert not is_recording(b"root:x:0:0:root:/root:/bin/bash\n")
    assert not is_recording(b'{"format": "wallboard-feed"')  # a first line cut at the sniff limit
    assert is_snapshot_image(b"\x89PNG\r\n\x1a\n....tEXtSoftware\x00wallboard snapshot....")
    assert not is_snapshot_image(b"\x89PNG\r\n\x1a\n....IDAT")  # someone else's PNG
    assert not is_snapshot_image(b"tEXtSoftware\x00wallboard snapshot")  # not an image at all
    assert is_wallboard_log(b"2026-12-02 03:12:50,666 wallboard-snapshot[4703] INFO    wallboard.ui: x\n")
    assert is_wallboard_log(b"2026-11-24 10:00:00,123 INFO    wallboard.cli: x\n")  # the format before PIDs
    assert not is_wallboard_log(b"2026-11-24 10:00:00,123 INFO    django.request: x\n")
    assert not is_wallboard_log(b"Dec  2 03:12:50 host sshd[1]: Accepted\n")


def test_an_atomic_output_replaces_only_at_commit_and_keeps_the_files_permissions(tmp_path: Path) -> None:
    out = tmp_path / "rec.ndjson"
    out.write_bytes(HEADER)
    out.chmod(0o640)
    twin = tmp_path / "twin.ndjson"
    twin.hardlink_to(out)
    output = AtomicOutput(out, is_recording, "--out", encoding=None)
    output.file.write(HEADER + b"new\n")
    assert out.read_bytes() == HEADER and output.temp.parent == tmp_path
    assert stat.S_IMODE(output.temp.stat().st_mode) == 0o666 & ~_umask()
    assert output.commit() == out
    assert out.read_bytes() == HEADER + b"new\n" and stat.S_IMODE(out.stat().st_mode) == 0o640
    assert twin.read_bytes() == HEADER  # a rename replaces the name only: a hard link keeps the old content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.ndjson", "twin.ndjson"]


def test_an_aborted_output_leaves_the_target_and_nothing_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "rec.ndjson"
    out.write_bytes(HEADER)
    output = AtomicOutput(out, is_recording, "--out")
    output.file.write("half a recording")
    output.abort()
    assert out.read_bytes() == HEADER and sorted(p.name for p in tmp_path.iterdir()) == ["rec.ndjson"]


def test_a_target_that_changed_while_writing_is_not_replaced_and_the_work_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "rec.ndjson"
    output = AtomicOutput(out, is_recording, "--out")
    output.file.write("an hour of recording\n")
    out.symlink_to(tmp_path / "elsewhere")  # planted while we wrote
    with pytest.raises(UnsafePathError, match=r"is a symbolic link.*what was written is kept in"):
        output.commit()
    assert out.is_symlink() and not (tmp_path / "elsewhere").exists()
    assert output.temp.read_text(encoding="utf-8") == "an hour of recording\n"
    output.abort()  # what a caller's clean-up does next (the snapshot's did): the file the message names stays
    assert output.temp.read_text(encoding="utf-8") == "an hour of recording\n"


def test_a_kept_output_stays_beside_an_untouched_target(tmp_path: Path) -> None:
    out = tmp_path / "rec.ndjson"
    out.write_bytes(HEADER)
    output = AtomicOutput(out, is_recording, "--out")
    output.file.write("a recording stopped by a defect\n")
    output.keep()
    output.abort()
    assert out.read_bytes() == HEADER and output.temp.read_text(encoding="utf-8") == "a recording stopped by a defect\n"


def test_an_empty_file_is_not_ours_but_may_be_our_log_and_a_missing_directory_is_no_refusal(tmp_path: Path) -> None:
    (tmp_path / "empty.png").touch()
    with pytest.raises(UnsafePathError, match="exists and was not written by wallboard"):
        check_output(tmp_path / "empty.png", is_snapshot_image, "--out")
    assert check_output(tmp_path / "empty.png", is_wallboard_log, "log file", empty_ok=True) is not None
    assert check_output(tmp_path / "new" / "x.png", is_snapshot_image, "--out") is None


@pytest.mark.timeout(30)
def test_inputs_are_regular_files_of_bounded_size(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UnsafePathError, match="is a FIFO"):
        open_regular(fifo, "the source")  # refused at once, not waiting for a writer
    with pytest.raises(UnsafePathError, match="is a device"):
        read_regular(Path("/dev/zero"), "the mapping", 1024)
    with pytest.raises(UnsafePathError, match="is a directory"):
        read_regular(tmp_path, "the mapping", 1024)
    big = tmp_path / "big.toml"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(UnsafePathError, match="larger than 1 KiB"):
        read_regular(big, "the mapping", 1024)
    link = tmp_path / "link.toml"
    link.symlink_to(big)
    assert read_regular(link, "the mapping", 4096) == b"x" * 2048  # reading through a link touches nothing


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- leftovers of killed writers ---------------------------------------------------------------------------------

OLD = time.time() - files.LEFTOVER_AGE_S - 60  # a leftover's mtime: just past the age


def _leftover(directory: Path, name: str, content: bytes = HEADER + b'{"t": "cut sh', *, mtime: float = OLD) -> Path:
    path = directory / name
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


def _record(out: Path) -> None:
    output = AtomicOutput(out, is_recording, "--out", encoding=None)
    output.file.write(HEADER)
    output.commit()


def test_a_killed_writers_old_leftover_goes_at_the_next_write_to_the_same_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wallboard.files")
    out = tmp_path / "rec.ndjson"
    recording = _leftover(tmp_path, "rec.ndjson.0a1b2c3d.partial")
    empty = _leftover(tmp_path, "rec.ndjson.00000000.partial", b"")  # killed before its first flush: nothing to lose
    problems = _leftover(tmp_path, "rec.ndjson.ffffffff.partial", b"# wallboard import problems of a.csv\n")
    _record(out)
    assert out.read_bytes() == HEADER and sorted(p.name for p in tmp_path.iterdir()) == ["rec.ndjson"]
    assert f"{recording}: removed, {len(HEADER) + 13} bytes" in caplog.text
    assert f"{empty}: removed, 0 bytes" in caplog.text and f"{problems}: removed" in caplog.text


def test_a_young_leftover_or_one_a_live_writer_holds_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "rec.ndjson"
    young = _leftover(tmp_path, "rec.ndjson.0a1b2c3d.partial", mtime=time.time())
    first = AtomicOutput(out, is_recording, "--out", encoding=None)
    first.file.write(HEADER)
    first.file.flush()
    os.utime(first.temp, (OLD, OLD))  # a recorder waiting for an API that is down: no write for over an hour
    _record(out)  # a second writer of the same target
    assert young.exists() and first.temp.exists()
    if sys.platform == "win32":
        return
    first.file.close()  # the first writer dies: its lock goes with it
    _record(out)
    assert young.exists() and not first.temp.exists()


def test_a_leftover_that_is_not_ours_is_kept_with_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "rec.ndjson"
    foreign = _leftover(tmp_path, "rec.ndjson.0a1b2c3d.partial", b"root:x:0:0:root:/root:/bin/bash\n")
    other = _leftover(tmp_path, "rec.ndjson.0a1b2c3e.partial", b"\x89PNG\r\n\x1a\n....IDAT")  # someone else's PNG
    _record(out)
    assert foreign.read_bytes() == b"root:x:0:0:root:/root:/bin/bash\n" and other.exists()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "kept 2 file(s)" in warnings[0] and foreign.name in warnings[0]
    assert "not written by wallboard" in warnings[0]


def test_a_leftover_of_another_user_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(os, "geteuid"):
        pytest.skip("no user ids")
    leftover = _leftover(tmp_path, "rec.ndjson.0a1b2c3d.partial")
    uid = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: uid + 1)  # as if another user ran this write
    _record(tmp_path / "rec.ndjson")
    assert leftover.exists()


def test_links_directories_and_fifos_named_like_leftovers_are_kept(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    precious = _leftover(elsewhere, "precious.ndjson")  # ours by content and old: only the link may not lead there
    before = precious.stat().st_mtime_ns
    work = tmp_path / "work"
    work.mkdir()
    link = work / "rec.ndjson.0a1b2c3d.partial"
    link.symlink_to(precious)
    os.utime(link, (OLD, OLD), follow_symlinks=False)
    directory = work / "rec.ndjson.0a1b2c3e.partial"
    directory.mkdir()
    os.utime(directory, (OLD, OLD))
    fifo = work / "rec.ndjson.0a1b2c3f.partial"
    os.mkfifo(fifo)
    os.utime(fifo, (OLD, OLD))
    _record(work / "rec.ndjson")
    assert link.is_symlink() and directory.is_dir() and stat.S_ISFIFO(fifo.lstat().st_mode)
    assert precious.read_bytes() == HEADER + b'{"t": "cut sh' and precious.stat().st_mtime_ns == before


def test_the_writes_own_temporary_file_is_never_a_leftover(tmp_path: Path) -> None:
    out = tmp_path / "rec.ndjson"
    output = AtomicOutput(out, is_recording, "--out", encoding=None)
    output.file.write(HEADER)
    output.file.close()  # unlocked and old: only its name protects it now
    os.utime(output.temp, (OLD, OLD))
    files.remove_leftovers(out, output.temp)
    assert output.temp.exists()
    files.remove_leftovers(out)
    assert not output.temp.exists()


def test_only_exact_names_are_leftovers(tmp_path: Path) -> None:
    near = [
        "other.ndjson.0a1b2c3d.partial",  # another target
        "xrec.ndjson.0a1b2c3d.partial",
        "rec.ndjso.0a1b2c3d.partial",
        "rec.ndjson.0a1b2c3.partial",  # 7 hex digits
        "rec.ndjson.0a1b2c3d4.partial",  # 9
        "rec.ndjson.0A1B2C3D.partial",  # upper case
        "rec.ndjson.0a1b2c3g.partial",
        "rec.ndjson.0a1b2c3d.partial.bak",
        "rec.ndjson.0a1b2c3d.partial~",
        "rec.ndjson.0a1b2c3d.partia",
        "rec.ndjson.0a1b2c3d",
        "rec.ndjson..0a1b2c3d.partial",
        "rec.ndjson.0a1b2c3d.partial\n",
    ]
    for name in near:
        _leftover(tmp_path, name)
    _record(tmp_path / "rec.ndjson")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*near, "rec.ndjson"])


def test_the_clean_up_looks_at_a_bounded_number_of_leftovers_per_write(tmp_path: Path) -> None:
    for n in range(files.LEFTOVER_LIMIT + 50):
        _leftover(tmp_path, f"rec.ndjson.{n:08x}.partial")
    out = tmp_path / "rec.ndjson"
    _record(out)
    assert len(list(tmp_path.glob("*.partial"))) == 50
    _record(out)
    assert list(tmp_path.glob("*.partial")) == [] and out.read_bytes() == HEADER


def test_the_clean_up_reads_a_bounded_number_of_directory_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(30):
        (tmp_path / f"other{n}").touch()
    read = 0
    real_scandir = os.scandir

    class Counting:
        def __init__(self, path: Path) -> None:
            self.entries = real_scandir(path)

        def __enter__(self) -> Counting:
            return self

        def __exit__(self, *exc: object) -> None:
            self.entries.close()

        def __iter__(self) -> Iterator[os.DirEntry[str]]:
            nonlocal read
            for entry in self.entries:
                read += 1
                yield entry

    monkeypatch.setattr(os, "scandir", Counting)
    monkeypatch.setattr(files, "LEFTOVER_SCAN_LIMIT", 10)
    _record(tmp_path / "rec.ndjson")
    assert 0 < read <= 11


def test_a_failing_clean_up_does_not_fail_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    leftover = _leftover(tmp_path, "rec.ndjson.0a1b2c3d.partial")
    real_unlink = os.unlink

    def unlink(path: str | os.PathLike[str], *args: object, **kwargs: object) -> None:
        if Path(path) == leftover:
            raise PermissionError(13, "Permission denied")
        real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "unlink", unlink)
    out = tmp_path / "rec.ndjson"
    _record(out)
    assert out.read_bytes() == HEADER and leftover.exists()
    assert f"{leftover}: a leftover of an earlier write could not be removed: Permission denied" in caplog.text


def test_an_output_kept_on_purpose_is_set_aside_where_no_clean_up_removes_it(tmp_path: Path) -> None:
    # A message names the kept file; an hour later the next write to the same name must not remove it.
    out = tmp_path / "rec.ndjson"
    output = AtomicOutput(out, is_recording, "--out")
    output.file.write(HEADER.decode("utf-8"))
    output.keep()
    assert output.temp.name.startswith("rec.ndjson.") and output.temp.name.endswith(".kept")
    assert output.temp.read_bytes() == HEADER
    old = time.time() - 10 * LEFTOVER_AGE_S
    os.utime(output.temp, (old, old))
    AtomicOutput(out, is_recording, "--out").abort()  # the next write's clean-up
    assert output.temp.read_bytes() == HEADER
    refused = AtomicOutput(out, is_recording, "--out")
    refused.file.write("an hour of recording\n")
    out.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePathError, match=r"kept in .*\.kept"):
        refused.commit()
    assert refused.temp.name.endswith(".kept")
