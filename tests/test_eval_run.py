"""python -m vton_zoo.eval end to end: tps-baseline on a synthetic VITON-HD dataset and on the shared VITON-HD
samples, with random metric networks saved as weight files (offline): outputs, metrics.json, resume, the report, and
the errors for a missing dataset, missing images and missing metric weights."""

import csv
import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from vton_zoo.data import make_synthetic
from vton_zoo.eval.__main__ import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, main
from vton_zoo.eval.inception import FIDInceptionV3
from vton_zoo.eval.lpips import LPIPS
from vton_zoo.eval.report import build_report, find_report
from vton_zoo.eval.ssim import ssim


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A synthetic VITON-HD test set (4 people, 256x192) and random Inception / LPIPS weight files."""
    base = tmp_path_factory.mktemp("eval")
    make_synthetic("viton-hd", base / "data", n=4, size=(256, 192), seed=2)
    torch.manual_seed(0)
    torch.save(FIDInceptionV3().state_dict(), base / "inception.pth")
    net = LPIPS("alex")
    torch.save({f"features.{k}": v for k, v in net.features.state_dict().items()}, base / "alexnet.pth")
    torch.save({k: v.abs() for k, v in net.state_dict().items() if k.startswith("lin")}, base / "alex.pth")
    return base


def _args(files, out, pairs, *extra):
    return ["--model", "tps-baseline", "--dataset", str(files / "data"), "--layout", "viton-hd", "--pairs", pairs,
            "--out", str(out), "--resolution", "256x192", "--batch-size", "3", "--fid-dims", "64",
            "--inception-weights", str(files / "inception.pth"), *extra]


def _lpips(files):
    return ["--lpips-weights", str(files / "alex.pth"), "--lpips-backbone", str(files / "alexnet.pth")]


def _read(path):
    return np.asarray(Image.open(path).convert("RGB"))


def test_paired_unpaired_resume_and_report(files, tmp_path, capsys, monkeypatch):
    paired, unpaired = tmp_path / "paired", tmp_path / "unpaired"
    assert main(_args(files, paired, "paired", *_lpips(files))) == EXIT_OK
    metrics = json.loads((paired / "metrics.json").read_text())
    outputs = sorted((paired / "outputs").glob("*.png"))
    # Paired: each person with the garment they wear (VITON-HD names the garment like the person).
    assert [p.name for p in outputs] == [f"{i:05d}_00__{i:05d}_00.png" for i in range(4)]
    assert sorted(p.name for p in (paired / "real").glob("*.png")) == [f"{i:05d}_00.png" for i in range(4)]
    assert metrics["num_pairs"] == 4 and metrics["resolution"] == [256, 192] and metrics["images_generated"] == 4
    assert metrics["fid_dims"] == 64 and metrics["inception_weights"] == "inception.pth"
    assert np.isfinite(metrics["fid"]) and metrics["fid"] >= 0 and np.isfinite(metrics["kid"])
    assert 0.3 < metrics["ssim"] < 1.0 and metrics["lpips"] > 0
    assert metrics["runtime_ms_per_image"] > 0 and metrics["peak_memory_mb"] > 0
    # The try-on differs from the person (a garment was put on) and per-image SSIM matches the saved files.
    with open(paired / "per_image.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    for row in rows:
        generated = _read(paired / "outputs" / row["output"])
        real = _read(paired / "real" / f"{row['person'][:-4]}.png")
        assert generated.shape == real.shape == (256, 192, 3)
        assert np.abs(generated.astype(int) - real).mean() > 0.5
        assert float(row["ssim"]) == pytest.approx(float(ssim(generated, real)[0]), abs=1e-9)
    assert float(np.mean([float(r["ssim"]) for r in rows])) == pytest.approx(metrics["ssim"])
    table = capsys.readouterr().out
    assert "| tps-baseline | built-in | viton-hd | paired | 4 | 256×192 |" in table
    assert (paired / "row.md").read_text() == table

    # Resume: only a deleted output is made again; the others are not rewritten.
    removed = paired / "outputs" / "00002_00__00002_00.png"
    removed.unlink()
    times = {p.name: p.stat().st_mtime_ns for p in (paired / "outputs").glob("*.png")}
    assert main(_args(files, paired, "paired", *_lpips(files))) == EXIT_OK
    again = json.loads((paired / "metrics.json").read_text())
    assert again["images_generated"] == 1 and removed.is_file()
    assert {p.name: p.stat().st_mtime_ns for p in (paired / "outputs").glob("*.png") if p != removed} == times
    assert again["ssim"] == pytest.approx(metrics["ssim"], abs=1e-9)
    # Nothing left to do: the speed figures of the earlier run are kept.
    assert main(_args(files, paired, "paired", *_lpips(files))) == EXIT_OK
    kept = json.loads((paired / "metrics.json").read_text())
    assert kept["images_generated"] == 0 and kept["runtime_ms_per_image"] == again["runtime_ms_per_image"]

    # Unpaired: the published pairs (another person's garment), FID / KID only.
    assert main(_args(files, unpaired, "unpaired")) == EXIT_OK
    metrics_u = json.loads((unpaired / "metrics.json").read_text())
    pairs = (files / "data" / "test_pairs.txt").read_text().split()
    assert sorted(p.name for p in (unpaired / "outputs").glob("*.png")) == sorted(
        f"{pairs[i][:-4]}__{pairs[i + 1][:-4]}.png" for i in range(0, len(pairs), 2))
    assert metrics_u["ssim"] is None and metrics_u["lpips"] is None and np.isfinite(metrics_u["fid"])
    capsys.readouterr()

    # The report: one row for the method, both runs merged; plots readable.
    report_dir = tmp_path / "report"
    assert main(["report", str(paired), str(unpaired / "metrics.json"), "--out", str(report_dir)]) == EXIT_OK
    text = (report_dir / "report.md").read_text()
    lines = [line for line in text.splitlines() if line.startswith("| tps-baseline")]
    assert len(lines) == 1
    cells = [c.strip() for c in lines[0].strip("|").split("|")]
    assert cells[4] == f"{metrics['ssim']:.4f}" and cells[8] == f"{metrics_u['fid']:.2f}"
    assert cells[12] == "4/4"
    for name in ("quality_vs_latency.png", "hist_ssim.png", "hist_lpips.png"):
        assert f"]({name})" in text
        with Image.open(report_dir / name) as image:
            assert image.size[0] > 300 and image.size[1] > 200
    rows_json = json.loads((report_dir / "report.json").read_text())
    assert rows_json[0]["model"] == "tps-baseline" and rows_json[0]["p_lpips"] == pytest.approx(metrics["lpips"])

    # Default folder: $VTON_ZOO_HOME/reports, where the app looks.
    monkeypatch.setenv("VTON_ZOO_HOME", str(tmp_path / "home"))
    assert find_report() is None
    result = build_report([paired, unpaired])
    assert result["out"] == tmp_path / "home" / "reports"
    found = find_report()
    assert "tps-baseline" in found["markdown"] and len(found["plots"]) == 3


def test_shared_viton_hd_samples(shared_dir, files, tmp_path, capsys):
    """Real VITON-HD photos: the published unpaired pairs run; paired fails because the samples lack the persons'
    own garments, and the error names the missing file."""
    root = shared_dir / "samples" / "viton_hd"
    args = ["--model", "tps-baseline", "--dataset", str(root), "--layout", "viton-hd", "--resolution", "256x192",
            "--fid-dims", "64", "--inception-weights", str(files / "inception.pth"), "--skip-lpips"]
    assert main([*args, "--pairs", "unpaired", "--out", str(tmp_path / "u")]) == EXIT_OK
    metrics = json.loads((tmp_path / "u" / "metrics.json").read_text())
    assert metrics["num_pairs"] == 2 and np.isfinite(metrics["fid"])
    assert (tmp_path / "u" / "outputs" / "00000_00__00205_00.png").is_file()
    real = _read(tmp_path / "u" / "real" / "00000_00.png")
    photo = np.asarray(Image.open(root / "test" / "image" / "00000_00.jpg").convert("RGB").resize((192, 256),
                                                                                                     Image.BICUBIC))
    np.testing.assert_array_equal(real, photo)
    capsys.readouterr()
    assert main([*args, "--pairs", "paired", "--out", str(tmp_path / "p")]) == EXIT_BAD_INPUT
    assert "cloth/00000_00.jpg" in capsys.readouterr().err


def test_errors(files, tmp_path, capsys):
    # Missing dataset folder.
    args = _args(files, tmp_path / "run", "unpaired")
    args[args.index("--dataset") + 1] = str(tmp_path / "no-such-dataset")
    assert main(args) == EXIT_BAD_INPUT
    assert "dataset folder not found" in capsys.readouterr().err

    # A pairs file naming a missing image.
    broken = tmp_path / "broken"
    shutil.copytree(files / "data", broken)
    garment = (broken / "test_pairs.txt").read_text().split()[1]
    (broken / "test" / "cloth" / garment).unlink()
    args = _args(files, tmp_path / "run", "unpaired")
    args[args.index("--dataset") + 1] = str(broken)
    assert main(args) == EXIT_BAD_INPUT
    assert f"cloth/{garment}" in capsys.readouterr().err

    # Metric weights missing offline: which file, and where to put it; nothing is generated first.
    args = _args(files, tmp_path / "run2", "unpaired")
    args[args.index("--inception-weights") + 1] = str(tmp_path / "pt_inception.pth")
    assert main(args) == EXIT_FAILURE
    assert "pt_inception-2015-12-05-6726825d.pth" in capsys.readouterr().err
    assert not (tmp_path / "run2" / "outputs").exists()
    assert main(_args(files, tmp_path / "run3", "paired", "--lpips-weights", str(tmp_path / "alex.pth"),
                      "--lpips-backbone", str(files / "alexnet.pth"))) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert "alex.pth" in err and "lpips/weights/v0.1" in err

    # Report over a folder that is not a run.
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r")]) == EXIT_BAD_INPUT
    assert "no metrics.json" in capsys.readouterr().err
