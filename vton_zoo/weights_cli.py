"""``python -m vton_zoo weights list|download|install|verify|publish``: the official weights from the command line.

Examples::

    python -m vton_zoo weights list
    python -m vton_zoo weights download dm-vton          # every live source in order, the first that works
    python -m vton_zoo weights download --all
    python -m vton_zoo weights install pf-afn ~/Downloads/PFAFN.zip
    python -m vton_zoo weights verify
    python -m vton_zoo weights publish dm-vton --repo-id me/dm-vton-official   # then VTON_ZOO_WEIGHTS_DM_VTON=hub:...

Exit status: 0 on success; 1 when a download or a check failed; 2 for bad input (unknown model, files that are not
the official ones).
"""

from __future__ import annotations

import argparse
import sys

from . import hub, weights
from .registry import get_spec, list_models

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


def add_parser(commands) -> argparse.ArgumentParser:
    """Add the ``weights`` sub-command (and its own sub-commands) to ``python -m vton_zoo``'s parser."""
    parser = commands.add_parser("weights", help="list, download, install, verify or publish official weights",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="weights_command", required=True)
    actions.add_parser("list", help="per method: sources, licence, size and state")
    download = actions.add_parser("download", help="fetch the official files from their sources and install them")
    download.add_argument("name", nargs="?", help="model name")
    download.add_argument("--all", action="store_true", help="every method that is missing and downloadable")
    install = actions.add_parser("install", help="install files downloaded by hand (checkpoints or archives)")
    install.add_argument("name", help="model name")
    install.add_argument("files", nargs="+", help="the official files or an archive holding them, any order")
    verify = actions.add_parser("verify", help="re-check what is installed (config and a strict load)")
    verify.add_argument("names", nargs="*", help="model names (default: all)")
    publish = actions.add_parser("publish", help="push the installed weights + a model card to your Hub repo")
    publish.add_argument("name", help="model name")
    publish.add_argument("--repo-id", required=True, help="OWNER/NAME on the Hugging Face Hub (created if needed)")
    publish.add_argument("--private", action="store_true", help="create the repo as private")
    return parser


def _size(source) -> str:
    return f"~{source.size / 1e6:.0f} MB" if source.size else "size unknown"


def _list(out) -> int:
    weights.cleanup_interrupted()
    for name in list_models():
        spec = get_spec(name)
        out.write(f"{name}: {weights.status(name)}\n")
        if not spec.weights.needs_weights:
            out.write("    needs no learned weights\n")
            continue
        if not spec.weights.sources:
            out.write("    no published source\n")
        for number, source in enumerate(spec.weights.sources, 1):
            if source.live:
                out.write(f"    {number}. {source.kind}: {source.url} ({_size(source)})\n")
                out.write(f"       licence: {source.license or spec.license}\n")
            else:
                out.write(f"    not downloadable: {source.note} ({source.url})\n")
    return EXIT_OK


class _Bar:
    """``progress(fraction, text)`` drawn as a tqdm bar on stderr."""

    def __init__(self, name: str):
        from tqdm import tqdm

        self.name = name
        self.bar = tqdm(total=1000, desc=name, bar_format="{desc} {percentage:3.0f}%|{bar:30}|", file=sys.stderr)

    def __call__(self, fraction: float, text: str) -> None:
        self.bar.n = int(max(0.0, min(1.0, fraction)) * 1000)
        self.bar.set_description_str(f"{self.name}: {text.split(': ', 1)[-1][:70]}", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def _download(names: list[str], out, err) -> int:
    worst = EXIT_OK
    for name in names:
        spec = get_spec(name)
        for source in weights.live_sources(name)[:1]:
            err.write(f"{name}: by downloading you accept the licence: {source.license or spec.license}\n")
        bar = _Bar(name)
        try:
            folder = weights.download_official(name, progress=bar)
        except hub.DownloadError as exc:
            bar.close()
            err.write(f"error: {exc}\n")
            worst = max(worst, EXIT_FAILURE)
            continue
        except ValueError as exc:
            bar.close()
            err.write(f"error: {exc}\n")
            worst = max(worst, EXIT_BAD_INPUT)
            continue
        bar.close()
        out.write(f"{name}: installed in {folder}\n")
    return worst


def main(args: argparse.Namespace, out=None, err=None) -> int:
    """Run ``python -m vton_zoo weights ...`` (``args`` from :func:`add_parser`); returns the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    command = args.weights_command
    try:
        if command == "list":
            return _list(out)
        if command == "download":
            if args.all == bool(args.name):
                raise ValueError("give one model name or --all")
            if args.all:
                names = [n for n in list_models() if weights.live_sources(n) and weights.status(n) != "installed"]
                if not names:
                    out.write("nothing to download: every downloadable method is installed\n")
                    return EXIT_OK
            else:
                names = [args.name]
                get_spec(args.name)
            return _download(names, out, err)
        if command == "install":
            folder = weights.install_local(args.name, args.files)
            out.write(f"{args.name}: installed in {folder}\n")
            return EXIT_OK
        if command == "verify":
            names = args.names or list_models()
            results = [weights.verify(name) for name in names]
            for result in results:
                out.write(f"{result.name}: {result.state}: {result.message}\n")
            return EXIT_OK if all(r.ok for r in results) else EXIT_FAILURE
        if command == "publish":
            url = weights.publish(args.name, args.repo_id, private=args.private)
            out.write(f"{args.name}: pushed to {args.repo_id} ({url}); load it with "
                      f"create_model({args.name!r}, weights='hub:{args.repo_id}') or "
                      f"{weights.setting_name(args.name)}=hub:{args.repo_id}\n")
            return EXIT_OK
    except ValueError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    except (hub.PushError, hub.DownloadError, RuntimeError) as exc:
        err.write(f"error: {exc}\n")
        return EXIT_FAILURE
    raise AssertionError(command)
