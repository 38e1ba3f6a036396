"""Where installed weights live, how the authors' files get there, and how a ``weights=`` choice becomes a model.

Installed weights are zoo-format folders (``model.safetensors`` + ``config.json``) under
``$VTON_ZOO_HOME/weights/<model>/`` (default ``~/.cache/vton_zoo``). They get there by

* :func:`download_official`: every live source of the spec (``spec.weights.sources``) in order, the first that
  works; what arrives is checked (size, page-instead-of-file, sha256, archive, strict load) before it is kept;
* :func:`install_local`: files or archives a user downloaded by hand, in any order;
* :func:`install_from_hub`: a converted folder on the Hugging Face Hub (e.g. one made by :func:`publish`);
* :func:`install_official`: the authors' files in the official order (``python -m vton_zoo.convert`` does the same
  into any folder).

Every install is atomic: the new folder is complete before it replaces the old one, and leftovers of an install
that was killed (``.NAME-new-*``, ``.NAME-old-*``, ``.part`` files) are recovered or removed by
:func:`cleanup_interrupted` (run on every status check for the method concerned, and at app start).

The TryOnPipeline and the app resolve ``weights=None`` through :func:`resolve_for_pipeline`: the setting
``VTON_ZOO_WEIGHTS_<MODEL>`` (e.g. ``VTON_ZOO_WEIGHTS_DM_VTON=hub:me/dm-vton``) is tried first, then the installed
folder; a method that needs no learned weights is built as it is; otherwise a :class:`WeightsNotInstalledError` says
exactly how to get the weights. ``weights="random"`` builds a freshly initialised network on purpose (tests,
benchmarks, plumbing checks); its output is noise.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from . import hub
from .checkpoints import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    archive_kind,
    archive_members,
    check_config,
    create_model,
    extract_files,
    read_config,
    resolve_weights,
)
from .convert import convert
from .registry import WeightSource, get_spec, list_models

logger = logging.getLogger(__name__)

RANDOM = "random"
STATES = ("built-in", "installed", "missing", "broken")
Progress = Callable[[float, str], None]


class WeightsNotInstalledError(RuntimeError):
    """A method needs learned weights and none are installed or given."""

    def __init__(self, name: str):
        self.model = name
        super().__init__(how_to_get(name))


def home() -> Path:
    """The zoo's data folder: ``$VTON_ZOO_HOME`` or ``~/.cache/vton_zoo``."""
    env = os.environ.get("VTON_ZOO_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vton_zoo"


def install_dir(name: str) -> Path:
    """The folder that holds ``name``'s installed weights (it may not exist)."""
    get_spec(name)
    return home() / "weights" / name


def downloads_dir(name: str) -> Path:
    """Where ``name``'s official files are fetched to while an install runs (emptied afterwards)."""
    get_spec(name)
    return home() / "downloads" / name


# ---------------------------------------------------------------------------------------------------------------
# State of an install


_CHECKED: dict[Path, tuple[tuple[int, int], str | None]] = {}  # config.json -> ((mtime_ns, size), error or None)
_CHECKED_LOCK = threading.Lock()


def _problem(name: str) -> tuple[Path | None, str | None]:
    """``(folder, None)`` when a valid install exists; ``(None, None)`` when nothing is installed; ``(None, why)``
    when something is there but cannot be used (bad config.json, weights for another model, missing file)."""
    cleanup_interrupted(name)
    folder = install_dir(name)
    config_path, weights_path = folder / CONFIG_NAME, folder / WEIGHTS_NAME
    if not folder.exists():
        return None, None
    if not config_path.is_file() and not weights_path.is_file():
        return None, None
    if not weights_path.is_file():
        return None, f"{weights_path} is missing"
    try:
        stat = config_path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
    except OSError as exc:
        return None, f"{config_path} cannot be read: {exc}"
    with _CHECKED_LOCK:
        cached = _CHECKED.get(config_path)
    if cached is not None and cached[0] == key:
        error = cached[1]
    else:
        try:
            check_config(folder, name)
            error = None
        except ValueError as exc:
            error = str(exc)
        with _CHECKED_LOCK:
            _CHECKED[config_path] = (key, error)
    return (folder, None) if error is None else (None, error)


def installed(name: str) -> Path | None:
    """The installed weights folder of ``name``, or ``None`` when nothing valid is installed there (a broken
    install is logged as a warning, never raised: one bad folder must not stop the others)."""
    folder, problem = _problem(name)
    if problem is not None:
        logger.warning("ignoring the weights of %s: %s", name, problem)
    return folder


def status(name: str) -> str:
    """``"built-in"`` (needs no weights), ``"installed"``, ``"missing"`` or ``"broken"`` (something is installed but
    cannot be used: see :func:`verify` for why)."""
    if not get_spec(name).weights.needs_weights:
        return "built-in"
    folder, problem = _problem(name)
    if problem is not None:
        return "broken"
    return "installed" if folder is not None else "missing"


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` found: ``state`` is one of :data:`STATES`; ``ok`` is ``False`` only for ``"broken"``."""

    name: str
    state: str
    ok: bool
    message: str


def verify(name: str) -> Verification:
    """Re-check what is installed for ``name``: config.json, then a strict load of ``model.safetensors``."""
    spec = get_spec(name)
    if not spec.weights.needs_weights:
        return Verification(name, "built-in", True, "needs no weights")
    folder, problem = _problem(name)
    if problem is not None:
        return Verification(name, "broken", False, problem)
    if folder is None:
        return Verification(name, "missing", True, f"nothing installed in {install_dir(name)}")
    try:
        create_model(name, weights=folder)
    except (ValueError, RuntimeError, OSError) as exc:
        return Verification(name, "broken", False, str(exc))
    source = read_config(folder).get("source", {})
    files = ", ".join(f"{f.get('file')} (sha256 {str(f.get('sha256'))[:12]}...)"
                      for f in source.get("converted_from", []) if isinstance(f, dict))
    return Verification(name, "installed", True, f"{folder}: loads strictly" + (f"; converted from {files}" if files
                                                                                  else ""))


def how_to_get(name: str) -> str:
    """A message telling a user how to install ``name``'s weights."""
    spec = get_spec(name)
    lines = [f"{name} needs learned weights and none are installed (looked in {install_dir(name)})."]
    live = live_sources(name)
    if live:
        where = "; ".join(f"{s.kind} {s.url}" for s in live)
        lines.append(f"Download the official files: python -m vton_zoo weights download {name}  (from {where}).")
    if spec.weights.hub_repo:
        lines.append(f"Online: vton_zoo.weights.install_from_hub('{name}') downloads the converted weights from "
                     f"https://huggingface.co/{spec.weights.hub_repo}.")
    if spec.weights.official_files:
        files = " ".join(Path(f.filename).name for f in spec.weights.official_files)
        sources = "; ".join(sorted({f.source for f in spec.weights.official_files}))
        lines.append(f"From the authors' files ({sources}): python -m vton_zoo weights install {name} {files}  "
                     f"(or python -m vton_zoo.convert {name} {files} --out {install_dir(name)})")
    for source in spec.weights.sources:
        if not source.live and source.note:
            lines.append(f"Not downloadable: {source.note}.")
    if spec.weights.notes:
        lines.append(spec.weights.notes)
    lines.append(f"Or train it: python -m training {name} --help")
    return "\n".join(lines)


def live_sources(name: str) -> list[WeightSource]:
    """The sources of ``name``'s official files that a program can fetch, in try order (empty: none)."""
    return list(get_spec(name).weights.live_sources())


# ---------------------------------------------------------------------------------------------------------------
# Atomic installs and their leftovers
#
# An install writes `.NAME-new-PID-xxxx/`, moves the current folder (if any) aside into `.NAME-old-PID-xxxx/NAME`,
# renames the new one into place and deletes the old one. The PID in the names tells leftovers of a dead process
# (killed, power cut) from an install that is running right now in another process.


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _leftover_pid(entry: Path, prefix: str) -> int:
    """The PID in ``.NAME-new-PID-xxxx``-style names (0 for names without one: older versions, dead)."""
    rest = entry.name[len(prefix):]
    pid = rest.split("-", 1)[0]
    return int(pid) if pid.isdigit() else 0  # names of older versions (no PID): treat as dead


def cleanup_interrupted(name: str | None = None) -> list[str]:
    """Recover or remove what killed installs and downloads left behind (all methods when ``name`` is ``None``).

    * ``weights/NAME`` missing but ``.NAME-old-*/NAME`` there: a kill between the two renames of an install; the
      previous weights are moved back.
    * ``.NAME-new-*`` and ``.NAME-old-*`` of dead processes: removed.
    * ``downloads/NAME/.fetch-*`` of dead processes and stray ``*.part`` files there: removed.

    Returns:
        One line per action taken (also logged).
    """
    names = [name] if name is not None else list_models()
    actions: list[str] = []
    weights_root = home() / "weights"
    for model in names:
        target = weights_root / model
        if weights_root.is_dir():
            for prefix in (f".{model}-old-", f".{model}-new-"):
                for entry in sorted(weights_root.glob(prefix + "*")):
                    pid = _leftover_pid(entry, prefix)
                    if pid and _pid_alive(pid):
                        continue
                    if prefix.endswith("-old-") and not target.exists() and (entry / model).is_dir():
                        os.replace(entry / model, target)
                        actions.append(f"{model}: restored the previous weights from {entry.name} (an install "
                                       "was interrupted between its two renames)")
                    shutil.rmtree(entry, ignore_errors=True)
                    actions.append(f"{model}: removed {entry.name}, left by an interrupted install")
        downloads = home() / "downloads" / model
        if downloads.is_dir():
            for entry in sorted(downloads.glob(".fetch-*")):
                pid = _leftover_pid(entry, ".fetch-")
                if pid and _pid_alive(pid):
                    continue
                shutil.rmtree(entry, ignore_errors=True)
                actions.append(f"{model}: removed {entry.name}, left by an interrupted download")
            for entry in downloads.glob("*.part"):
                entry.unlink(missing_ok=True)
                actions.append(f"{model}: removed {entry.name}, left by an interrupted download")
    for line in actions:
        logger.warning("%s", line)
    return actions


def _staging(parent: Path, prefix: str) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))


def _replace_folder(src: Path, dst: Path) -> Path:
    """Move a finished folder into place (any previous install is replaced only once the new one is complete)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if dst.exists():
        old = _staging(dst.parent, f".{dst.name}-old-")
        os.replace(dst, old / dst.name)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    with _CHECKED_LOCK:
        _CHECKED.pop(dst / CONFIG_NAME, None)
    return dst


def install_official(name: str, files: Sequence[str | os.PathLike], **config) -> Path:
    """Convert the authors' checkpoint files (official order) into ``install_dir(name)``.

    The files are read with ``torch.load(weights_only=True)`` and loaded strictly; the conversion is written to a
    staging folder first, so a failure leaves any previous install intact.
    """
    target = install_dir(name)
    staging = _staging(target.parent, f".{name}-new-")
    try:
        convert(name, [Path(f) for f in files], staging, **config)
        return _replace_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# Official files: fetch, check, install


def _wanted(name: str, sources: Iterable[WeightSource] | None = None) -> list[list[str]]:
    """Per official part, every base name it is published under (the spec's files and each source's)."""
    spec = get_spec(name)
    names: list[list[str]] = [[] for _ in spec.official_parts]
    for index, official in enumerate(spec.weights.official_files):
        names[index].append(Path(official.filename).name)
    for source in sources if sources is not None else spec.weights.sources:
        for index, base in enumerate(source.file_names()):
            if index < len(names) and base not in names[index]:
                names[index].append(base)
    return names


def _collect(name: str, paths: Sequence[Path], into: Path, source: WeightSource | None = None) -> list[Path]:
    """The official files (official part order) among ``paths``: plain files matched by name, archives opened and
    searched at any depth. Raises ValueError saying what was found instead."""
    wanted = _wanted(name, [source] if source is not None else None)
    hints = [n for _, n in source.files] if source is not None else [f.filename for f in
                                                                      get_spec(name).weights.official_files]
    found: dict[str, Path] = {}
    seen: list[str] = []
    for path in paths:
        if archive_kind(path) is not None:
            extracted = extract_files(path, [n for names in wanted for n in names], into, hints=hints)
            found.update({k: v for k, v in extracted.items() if k not in found})
            seen.extend(f"{path.name}:{m}" for m in archive_members(path))
        else:
            seen.append(path.name)
            for names in wanted:
                match = next((n for n in names if path.name == n or path.name.endswith(n)), None)
                if match and match not in found:
                    found[match] = path
    ordered = [next((found[n] for n in names if n in found), None) for names in wanted]
    if None in ordered:
        missing = [" or ".join(names) for names, got in zip(wanted, ordered) if got is None]
        arrived = ", ".join(seen[:12]) or "nothing"
        raise ValueError(f"{name}: {', '.join(missing)} not found in what arrived ({arrived})")
    return ordered  # type: ignore[return-value]


def _check_sha256(source: WeightSource, files: Sequence[Path]) -> None:
    for path in files:
        expected = source.expected_sha256(path.name)
        if expected is not None:
            actual = hub.sha256_file(path)
            if actual != expected:
                raise ValueError(f"{path.name}: sha256 {actual} differs from the published {expected}")


def _byte_progress(progress: Progress | None, start: float, span: float, label: str, *,
                   expected: int | None = None):
    """A byte-count callback for ``progress``; without a Content-Length (Drive often sends none) the fraction is
    measured against ``expected``, the spec's approximate size, and kept below 1 until the file is done."""

    def report(done: int, total: int | None) -> None:
        if progress is None:
            return
        if total:
            fraction, of = done / total, f" / {total / 1e6:.1f}"
        elif expected:
            fraction, of = min(done / expected, 0.99), f" / ~{expected / 1e6:.1f}"
        else:
            fraction, of = 0.0, ""
        progress(start + span * min(fraction, 1.0), f"{label}: {done / 1e6:.1f}{of} MB")

    return report


def _not_a_page(path: Path) -> None:
    """``validate`` for downloads: an HTML/JSON/text page saved under a checkpoint's name is refused."""
    described = hub.describe_non_checkpoint(path)
    if described is not None:
        raise ValueError(described)


def _fetch(name: str, source: WeightSource, into: Path, progress: Progress | None, span: tuple[float, float],
           timeout: float) -> list[Path]:
    """Download what ``source`` publishes into ``into``; returns the files/archives that arrived."""
    start, width = span
    if source.kind in ("url", "modelscope", "gdrive-file"):
        filename = source.filename or source.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        report = _byte_progress(progress, start, width, f"{name}: {filename}", expected=source.size)
        download = hub.download_gdrive_file if source.kind == "gdrive-file" else hub.download_url
        return [download(source.url, into / filename, progress=report, timeout=timeout, validate=_not_a_page,
                         sha256=source.expected_sha256(filename))]
    wanted = {n for names in _wanted(name, [source]) for n in names}
    if source.kind == "github-release":
        assets = hub.github_release_assets(source.url, timeout=timeout)
        chosen = [a for a in assets if a["name"] in wanted]
        if len({a["name"] for a in chosen}) < len(source.files):  # the files may be packed: look into archives
            chosen += [a for a in assets if a["name"].endswith((".zip", ".tar", ".tar.gz", ".tgz"))]
        if not chosen:
            raise hub.DownloadError(f"release {source.url} holds no {', '.join(sorted(wanted))} (its assets: "
                                    f"{', '.join(a['name'] for a in assets) or 'none'})", url=source.url)
        items = [(a["name"], a["url"]) for a in chosen]
    elif source.kind == "gdrive-folder":
        listing = hub.list_gdrive_folder(source.url, timeout=timeout)
        items = [(Path(path).name, url) for path, url in listing if Path(path).name in wanted]
        if not items:
            raise hub.DownloadError(f"the Google Drive folder {source.url} holds no "
                                    f"{', '.join(sorted(wanted))} (it lists: "
                                    f"{', '.join(p for p, _ in listing[:12]) or 'nothing'})", url=source.url)
    else:
        raise ValueError(f"{name}: source kind {source.kind!r} cannot be fetched")
    fetched = []
    for index, (filename, url) in enumerate(items):
        report = _byte_progress(progress, start + width * index / len(items), width / len(items),
                                f"{name}: {filename}")
        download = hub.download_gdrive_file if source.kind == "gdrive-folder" else hub.download_url
        fetched.append(download(url, into / filename, progress=report, timeout=timeout, validate=_not_a_page,
                                sha256=source.expected_sha256(filename)))
        names = [p.name for p in fetched]
        if all(any(n in names for n in options) for options in _wanted(name, [source])):
            break  # every part found (do not fetch the teacher's archive too)
    return fetched


def download_official(name: str, *, progress: Progress | None = None, timeout: float = 60.0) -> Path:
    """Fetch ``name``'s official files from its live sources (in order, the first that works), check them and
    install them atomically.

    What arrives is checked before it is kept: the HTTP status, that no HTML/JSON page came instead of the file,
    the size against Content-Length, the published sha256 where known, that archives open and hold the files, and
    that every checkpoint loads with ``weights_only=True`` and strictly into the model. Anything else is deleted
    and the next source (or the next call) starts clean.

    Args:
        name: a registered method.
        progress: ``progress(fraction, text)`` (0..1) for a progress bar.
        timeout: seconds to wait for a server on connect and on each read.

    Returns:
        The installed weights folder.

    Raises:
        ValueError: the method needs no weights, or no source can be fetched (the message says where the files
            are, or why there are none).
        hub.DownloadError: every source failed; ``.offline`` is ``True`` when no host could be reached. The
            message lists what each source answered.
    """
    spec = get_spec(name)
    if not spec.weights.needs_weights:
        raise ValueError(f"{name} needs no weights")
    sources = live_sources(name)
    if not sources:
        raise ValueError(f"{name}'s official weights cannot be downloaded.\n{how_to_get(name)}")
    cleanup_interrupted(name)
    failures: list[str] = []
    offline = True
    for number, source in enumerate(sources):
        base, width = number / len(sources), 1 / len(sources)
        staging = _staging(downloads_dir(name), ".fetch-")
        try:
            if progress is not None:
                progress(base, f"{name}: fetching from {source.kind} {source.url}")
            arrived = _fetch(name, source, staging, progress, (base, width * 0.85), timeout)
            if progress is not None:
                progress(base + width * 0.87, f"{name}: verifying")
            files = _collect(name, arrived, staging, source)
            _check_sha256(source, files)
            target = install_official(name, files)
            if progress is not None:
                progress(1.0, f"{name}: installed")
            logger.info("installed %s from %s %s", name, source.kind, source.url)
            return target
        except hub.DownloadError as exc:
            offline = offline and exc.offline
            failures.append(f"{source.kind} {source.url}: {exc}")
        except ValueError as exc:  # what arrived is not the official files: deleted with the staging folder
            offline = False
            failures.append(f"{source.kind} {source.url}: what arrived was refused and deleted: {exc}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        logger.info("%s: %s", name, failures[-1])
    message = (f"Could not download the official weights of {name}:\n- " + "\n- ".join(failures)
               + f"\nDownload the files in a browser and run: python -m vton_zoo weights install {name} FILES")
    raise hub.DownloadError(message, url=sources[0].url, offline=offline)


def install_local(name: str, paths: Sequence[str | os.PathLike]) -> Path:
    """Install ``name`` from the authors' files on this machine: checkpoint files or archives holding them, in any
    order (matched by file name; in the given order when the names differ and the count fits).

    Raises:
        ValueError: no files, files that are not the official ones, or a conversion that rejects them.
    """
    spec = get_spec(name)
    if not spec.weights.needs_weights:
        raise ValueError(f"{name} needs no weights")
    paths = [Path(p) for p in paths or []]
    wanted = [" or ".join(names) for names in _wanted(name)]
    if not paths:
        raise ValueError(f"choose the official file(s) of {name}: {', '.join(wanted) or 'see the table'}")
    for path in paths:
        if not path.is_file():
            raise ValueError(f"{path} is not a file")
    staging = _staging(downloads_dir(name), ".fetch-")
    try:
        try:
            files = _collect(name, paths, staging)
        except ValueError:
            if len(paths) != len(spec.official_parts) or any(archive_kind(p) for p in paths):
                raise
            files = paths  # names differ (renamed by a browser or a server): trust the order the user gave
        return install_official(name, files)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install_from_hub(name: str, repo_id: str | None = None, *, revision: str | None = None) -> Path:
    """Download a converted weights folder from the Hub (default: the spec's ``hub_repo``) and install it."""
    spec = get_spec(name)
    repo_id = repo_id or spec.weights.hub_repo
    if not repo_id:
        raise ValueError(f"{name} has no Hub repo of converted weights; {how_to_get(name)}")
    folder = hub.download_weights(repo_id, revision=revision or spec.weights.hub_revision)
    check_config(folder, name)
    target = install_dir(name)
    staging = _staging(target.parent, f".{name}-new-")
    try:
        for item in (WEIGHTS_NAME, CONFIG_NAME, "README.md"):
            if (folder / item).is_file():
                shutil.copyfile(folder / item, staging / item)
        return _replace_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# Choosing the weights of a pipeline


def setting_name(name: str) -> str:
    """The environment setting that points ``name`` at a mirror: ``VTON_ZOO_WEIGHTS_DM_VTON`` for ``dm-vton``."""
    return "VTON_ZOO_WEIGHTS_" + name.upper().replace("-", "_")


def resolve_for_pipeline(name: str, weights: str | os.PathLike | None) -> str | Path | None:
    """Turn a pipeline/app ``weights=`` choice into what :func:`vton_zoo.create_model` takes.

    ``weights=None`` tries, in order: the setting ``VTON_ZOO_WEIGHTS_<MODEL>`` (``hub:OWNER/REPO[@REV]`` or a
    folder; a mirror that cannot be reached is logged and skipped), then the installed folder.

    Returns ``None`` for a freshly initialised network (weight-free methods, or ``weights="random"``).

    Raises:
        WeightsNotInstalledError: ``weights`` is ``None``, the method needs weights and none are available.
    """
    spec = get_spec(name)
    if weights is None:
        if not spec.weights.needs_weights:
            return None
        mirror = os.environ.get(setting_name(name), "").strip()
        if mirror:
            try:
                folder = resolve_weights(mirror)
                check_config(folder, name)
                return folder
            except (ValueError, RuntimeError, OSError) as exc:
                logger.warning("%s=%s cannot be used (%s); falling back to the installed weights",
                               setting_name(name), mirror, exc)
        folder = installed(name)
        if folder is None:
            raise WeightsNotInstalledError(name)
        return folder
    if str(weights) == RANDOM:
        if spec.weights.needs_weights:
            logger.warning("%s runs with random weights: its output is noise (use it only to test the plumbing)", name)
        return None
    return weights


# ---------------------------------------------------------------------------------------------------------------
# Publishing a mirror (the Space owner's way around Drive quotas)


def model_card(name: str, folder: Path) -> str:
    """A model card for the converted official weights in ``folder``: licence, sources, sha256s, parity."""
    spec = get_spec(name)
    config = read_config(folder)
    converted = config.get("source", {}).get("converted_from", [])
    licence = "; ".join(sorted({s.license for s in spec.weights.sources if s.license})) or spec.license
    lines = [
        "---",
        "library_name: vton-zoo",
        "license: other",
        f"license_name: {json.dumps(licence)}",
        "tags: [virtual-try-on, vton-zoo]",
        "---",
        "",
        f"# {spec.title} (`{name}`): the authors' weights converted for vton-zoo",
        "",
        f"{spec.paper} ({spec.paper_url}). Official code: {spec.code_url} @ {spec.commit}.",
        "",
        f"**Licence of these weights: {licence}.** They are the authors' released checkpoints, converted without "
        "change to `model.safetensors` + `config.json` (a mirror; the authors' terms apply).",
        "",
        "## Sources",
        "",
    ]
    lines += [f"- {s.kind}: {s.url}" + (f" ({s.note})" if s.note else "") for s in spec.weights.sources]
    lines += ["", "## Converted from", ""]
    lines += [f"- `{f.get('file')}`: sha256 `{f.get('sha256')}`" for f in converted if isinstance(f, dict)]
    lines += [
        "",
        "## Parity",
        "",
        f"vton-zoo's `{name}` network reproduces the official implementation's outputs on the project's parity "
        f"fixture (`tests/test_parity.py`, fixture `{name}`, official code run on fixed weights and inputs, compared "
        "within the fixture's tolerances).",
        "",
        "## Use",
        "",
        "```python",
        "import vton_zoo",
        f"model = vton_zoo.create_model({name!r}, weights='hub:OWNER/REPO')",
        "```",
        f"or set `{setting_name(name)}=hub:OWNER/REPO` for the app and the pipeline.",
        "",
    ]
    return "\n".join(lines)


def publish(name: str, repo_id: str, *, token: str | None = None, private: bool = False,
            endpoint: str | None = None) -> str:
    """Push ``name``'s installed weights (safetensors + config + a model card) to the Hub repo ``repo_id``.

    Returns:
        The commit URL.

    Raises:
        ValueError: nothing valid is installed for ``name``, or a malformed ``repo_id``.
        hub.PushError: no token, offline, or the Hub refused.
    """
    folder = installed(name)
    if folder is None:
        raise ValueError(f"{name}: nothing valid is installed to publish (status {status(name)}); run "
                         f"`python -m vton_zoo weights download {name}` first")
    hub.check_push(repo_id, token=token)
    with tempfile.TemporaryDirectory(prefix="vton-zoo-publish-") as tmp:
        for item in (WEIGHTS_NAME, CONFIG_NAME):
            shutil.copyfile(folder / item, Path(tmp) / item)
        (Path(tmp) / "README.md").write_text(model_card(name, folder), encoding="utf-8")
        return hub.push_folder(tmp, repo_id, token=token, private=private, endpoint=endpoint,
                               commit_message=f"Upload the official {name} weights (converted by vton-zoo)")


# ---------------------------------------------------------------------------------------------------------------
# Background fetching (the app on a Space: methods turn ready as their files land)


@dataclass(frozen=True)
class FetchState:
    """One method's place in a :class:`BackgroundFetch`.

    ``state``: ``"queued"``, ``"downloading"``, ``"verifying"``, ``"installed"``, ``"failed"`` or ``"skipped"``
    (already installed, nothing downloadable, or offline); ``fraction`` in 0..1; ``message`` in a user's words.
    """

    name: str
    state: str
    fraction: float = 0.0
    message: str = ""


class BackgroundFetch:
    """Fetch every missing method's official weights in one daemon thread, one method after another.

    Args:
        names: the methods to consider (default: every registered method); those that need no weights, are
            installed already or have no live source are ``"skipped"``.
        on_installed: called as ``on_installed(name, folder)`` from the worker thread after each install.
    """

    def __init__(self, names: Sequence[str] | None = None,
                 on_installed: Callable[[str, Path], None] | None = None) -> None:
        self.names = list(names) if names is not None else list_models()
        for name in self.names:
            get_spec(name)
        self.on_installed = on_installed
        self._lock = threading.Lock()
        self._states: dict[str, FetchState] = {}
        self._thread: threading.Thread | None = None

    def _set(self, name: str, state: str, fraction: float, message: str) -> None:
        with self._lock:
            self._states[name] = FetchState(name, state, fraction, message)

    def start(self) -> BackgroundFetch:
        """Start the worker (idempotent: a second call while it runs, or after it ran, does nothing)."""
        with self._lock:
            if self._thread is not None:
                return self
            todo = []
            for name in self.names:
                spec = get_spec(name)
                if not spec.weights.needs_weights:
                    self._states[name] = FetchState(name, "skipped", 1.0, "needs no weights")
                elif not spec.weights.live_sources():
                    note = next((s.note for s in spec.weights.sources if s.note), "no downloadable source")
                    self._states[name] = FetchState(name, "skipped", 0.0, note)
                else:
                    self._states[name] = FetchState(name, "queued", 0.0, "waiting")
                    todo.append(name)
            self._thread = threading.Thread(target=self._run, args=(todo,), name="vton-zoo-weights", daemon=True)
            self._thread.start()
        return self

    def _run(self, todo: list[str]) -> None:
        cleanup_interrupted()
        for name in todo:
            if installed(name) is not None:
                self._set(name, "skipped", 1.0, "already installed")
                continue

            def report(fraction: float, text: str, name=name) -> None:
                state = "verifying" if "verifying" in text else "downloading"
                self._set(name, state, fraction, text)

            self._set(name, "downloading", 0.0, "starting")
            try:
                folder = download_official(name, progress=report)
            except hub.DownloadError as exc:
                state = "skipped" if exc.offline else "failed"
                self._set(name, state, 0.0, "offline: " + str(exc).splitlines()[0] if exc.offline else str(exc))
                continue
            except (ValueError, RuntimeError, OSError) as exc:  # one method failing never stops the others
                self._set(name, "failed", 0.0, str(exc))
                continue
            self._set(name, "installed", 1.0, f"installed in {folder}")
            if self.on_installed is not None:
                try:
                    self.on_installed(name, folder)
                except Exception:  # noqa: BLE001 - a callback's bug must not stop the other downloads
                    logger.exception("on_installed(%s) failed", name)

    def snapshot(self) -> dict[str, FetchState]:
        """A copy of every method's current state."""
        with self._lock:
            return {name: replace(state) for name, state in self._states.items()}

    @property
    def running(self) -> bool:
        """``True`` while the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the worker (tests, command line)."""
        if self._thread is not None:
            self._thread.join(timeout)
