import json
import os
import stat

import pytest

from pairzoo import atomic


def test_write_json_replaces_whole_file_with_usual_permissions(tmp_path):
    target = tmp_path / "sub" / "m.json"
    atomic.write_json(target, {"a": 1})
    atomic.write_json(target, {"b": 2})
    assert json.loads(target.read_text()) == {"b": 2}
    mode = stat.S_IMODE(os.stat(target).st_mode)
    assert mode == 0o666 & ~_umask()
    assert [p.name for p in target.parent.iterdir()] == ["m.json"]


def test_failed_write_keeps_previous_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "c.json"
    atomic.write_text(target, "old")
    with pytest.raises(RuntimeError), atomic.atomic_open(target, "w") as fh:
        fh.write("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
