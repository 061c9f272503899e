"""Progress on long work: drawn on a terminal only, silent with --quiet; har train checks --out first."""

from __future__ import annotations

import io
from importlib import resources

import numpy as np
import pytest

from har.model import cli
from har.runtime.tools import progress
from har.runtime.tools.progress import Progress, progress_enabled


class FakeTty(io.StringIO):
    def isatty(self):
        return True


def test_a_bar_is_drawn_on_a_terminal_and_ends_its_line():
    out = FakeTty()
    t = iter(range(100))
    with Progress("work", 4, unit="files", stream=out, min_interval_s=0, clock=lambda: next(t)) as bar:
        for _ in range(4):
            bar.advance()
    text = out.getvalue()
    assert text.startswith("\rwork [") and text.endswith("\n")
    assert "100% 4 files of 4 files" in text.splitlines()[-1]


def test_bytes_are_shown_in_binary_units():
    bar = Progress("download", 20 << 20, unit="B", enabled=True, stream=FakeTty())
    bar.done = 5 << 20
    assert "25% 5.0 MiB of 20.0 MiB" in bar.text()


def test_nothing_is_drawn_off_a_terminal_or_when_quiet(monkeypatch):
    log = io.StringIO()
    with Progress("work", 3, stream=log) as bar:
        bar.advance(3)
    assert log.getvalue() == ""
    tty = FakeTty()
    with Progress("work", 3, stream=tty, quiet=True) as bar:
        bar.advance(3)
    assert tty.getvalue() == ""
    assert progress_enabled(stream=FakeTty()) and not progress_enabled(True, FakeTty())
    monkeypatch.setenv("TERM", "dumb")
    assert not progress_enabled(stream=FakeTty())


def test_a_message_does_not_break_the_bar():
    tty = FakeTty()
    with Progress("work", 2, stream=tty, min_interval_s=0) as bar:
        bar.advance()
        bar.message("work: bad.csv skipped")
        bar.advance()
    lines = tty.getvalue().split("\n")
    assert any(line.endswith("work: bad.csv skipped") for line in lines)
    assert "100%" in lines[-2]
    log = io.StringIO()
    with Progress("work", 2, stream=log) as bar:
        bar.message("plain line")
    assert log.getvalue() == "plain line\n"


@pytest.fixture
def terminal(monkeypatch):
    """Pretend stderr is a terminal: bars draw on the captured stderr."""
    monkeypatch.setattr(progress, "progress_enabled", lambda quiet=False, stream=None: not quiet)


def _engine_csv(path, acc, gyro):
    rows = ["t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z"] + [
        ",".join([f"{i / 50:.2f}", *(f"{v:.5f}" for v in acc[i]), *(f"{v:.5f}" for v in gyro[i])])
        for i in range(len(acc))]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def sample():
    with np.load(str(resources.files("har.runtime").joinpath("data/sample_recording.npz"))) as d:
        return {k: d[k] for k in d.files}


def test_har_predict_over_many_files_shows_progress_unless_quiet(tmp_path, sample, terminal, capsys):
    files = [str(_engine_csv(tmp_path / f"r{k}.csv", sample["acc"][k * 300:k * 300 + 300],
                             sample["gyro"][k * 300:k * 300 + 300])) for k in range(3)]
    assert cli.main(["predict", *files, "--out", str(tmp_path / "p.csv")]) == 0
    err = capsys.readouterr().err
    assert "har predict [" in err and "3 files of 3 files" in err
    assert cli.main(["predict", *files, "--out", str(tmp_path / "p.csv"), "--quiet"]) == 0
    assert "har predict [" not in capsys.readouterr().err


def test_feature_extraction_shows_progress(tmp_path, terminal, capsys, sample):
    from har.model.windows import build_windows
    from har.runtime.tools.hapt import Recording

    recs = [Recording(k + 1, 1, sample["acc"][:400], sample["gyro"][:400], sample["labels"][:400])
            for k in range(3)]
    build_windows(recs, quiet=False)
    assert "extracting features [" in capsys.readouterr().err
    build_windows(recs, quiet=True)
    assert capsys.readouterr().err == ""


def test_tuning_folds_show_progress(terminal, capsys, sample):
    from har.features import extract_recording, to_official_scale
    from har.model.train import GRID, tune_and_fit
    from har.model.windows import WindowSet
    from har.runtime.tools.labels import window_labels

    starts, X = extract_recording(sample["acc"], sample["gyro"])
    y = window_labels(sample["labels"], starts)
    keep = y > 0
    n = int(keep.sum())
    subject = np.arange(n) % 4 + 1
    ws = WindowSet(to_official_scale(X[keep]), y[keep], subject, np.zeros(n, int), starts[keep])
    tune_and_fit(ws, ws, n_jobs=1, grid=GRID[1:2], log=lambda *_: None)
    err = capsys.readouterr().err
    assert "tuning [" in err and "4 fits of 4 fits" in err


# --------------------------------------------------------------------------- har train --out, before training

@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if training data is read at all: --out must be refused first."""
    def boom(*a, **k):
        raise AssertionError("training started before --out was checked")
    monkeypatch.setattr(cli, "read_uci_split", boom)
    monkeypatch.setattr(cli, "load_windows", boom)


def _train_refused(capsys, argv, fragment):
    assert cli.main(["train", "--quick", *argv]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and fragment in err, err


def test_har_train_refuses_a_folder_out_before_training(tmp_path, no_training, capsys):
    (tmp_path / "models").mkdir()
    _train_refused(capsys, ["--uci-features", str(tmp_path), "--out", str(tmp_path / "models")], "is a folder")


def test_har_train_refuses_a_read_only_out_before_training(tmp_path, no_training, capsys):
    out = tmp_path / "model.onnx"
    out.write_bytes(b"old model")
    out.chmod(0o444)
    _train_refused(capsys, ["--uci-features", str(tmp_path / "UCI"), "--out", str(out)], "is read-only")
    assert out.read_bytes() == b"old model"


def test_har_train_refuses_an_out_that_is_an_input(tmp_path, no_training, capsys):
    sdist = tmp_path / "dataset.tar.gz"
    sdist.write_bytes(b"recordings")
    _train_refused(capsys, ["--source", str(sdist), "--out", str(sdist)], "is the input")
    uci = tmp_path / "UCI"
    (uci / "train").mkdir(parents=True)
    _train_refused(capsys, ["--uci-features", str(uci), "--out", str(uci / "train" / "model.onnx")],
                   "inside the input folder")
    assert sdist.read_bytes() == b"recordings"


def test_har_train_refuses_an_out_under_a_file(tmp_path, no_training, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _train_refused(capsys, ["--uci-features", str(tmp_path / "UCI"), "--out", str(blocker / "sub" / "m.onnx")],
                   "cannot create its folder")


def test_har_data_fetch_passes_quiet(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HAR_CACHE_DIR", str(tmp_path))
    seen = []
    monkeypatch.setattr(cli, "fetch_sdist", lambda quiet=True: seen.append(quiet) or tmp_path / "x")
    assert cli.main(["data", "fetch", "--quiet"]) == 0
    assert cli.main(["data", "fetch"]) == 0
    assert seen == [True, False]
