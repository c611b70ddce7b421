"""wallboard.files: what the output rule and the input rule mean, file by file (the commands' tests show them at
work on the command line)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from wallboard.files import (
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
