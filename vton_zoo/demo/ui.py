"""The Gradio page: inputs with example galleries, methods, one result column per method, Weights and About tabs.

:func:`build_demo` builds the ``gr.Blocks`` (queue included) without launching it and without loading any model;
``app.py`` launches it. Every handler here is a thin mapping of :mod:`vton_zoo.demo.core` and
:mod:`vton_zoo.demo.weights_tab` onto components.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import gradio as gr

from .. import hub
from .. import weights as zoo_weights
from ..registry import get_spec
from . import core, weights_tab
from .about import about_markdown, report_plots
from .examples import examples

logger = logging.getLogger(__name__)

CONCURRENCY_ENV = "VTON_ZOO_DEMO_CONCURRENCY"
QUEUE_SIZE = 64
FULL_SIZE, MODEL_SIZE = "original photo size", "model resolution"

INTRO = """# vton-zoo: virtual try-on, side by side
Pick or upload a **person** photo (one person, head to at least the hips) and a **garment** product shot, tick the
methods, press **Try on**. Every method's result appears in its own column with its latency and device."""


def weights_notice() -> str:
    """One paragraph saying which methods run here and what the others need."""
    statuses = [core.method_status(n) for n in core.method_order()]
    ready = [s.name for s in statuses if s.state == "ready"]
    random = [s.name for s in statuses if s.state == "random"]
    missing = [s.name for s in statuses if s.state == "missing"]
    gpu = [s.name for s in statuses if s.state == "needs-gpu"]
    lines = [f"**Ready here:** {', '.join(f'`{n}`' for n in ready) or 'none'}."]
    if random:
        lines.append(f"**Plumbing test** ({core.RANDOM_WEIGHTS_ENV}=1): {', '.join(f'`{n}`' for n in random)} run "
                     "on random weights; their output is noise.")
    if missing:
        lines.append(f"**Need weights:** {', '.join(f'`{n}`' for n in missing)}: install them in the **Weights** "
                     "tab (download, or the authors' files from disk).")
    if gpu:
        lines.append(f"**Need a GPU:** {', '.join(f'`{n}`' for n in gpu)}.")
    return "  \n".join(lines)


def _resolution_choices(name: str) -> list[str]:
    return [f"{h}x{w}" for h, w in get_spec(name).supported_resolutions()]


def build_demo(cache: core.PipelineCache | None = None) -> gr.Blocks:
    """Build the demo (nothing is loaded until a method first runs).

    Args:
        cache: the pipeline cache to use (a new one by default).
    """
    cache = cache if cache is not None else core.PipelineCache()
    names = core.method_order()
    multi_res = [n for n in names if len(get_spec(n).supported_resolutions()) > 1]
    weighted = [n for n in names if get_spec(n).weights.needs_weights]
    person_examples, garment_examples = examples()

    with gr.Blocks(title="vton-zoo: virtual try-on side by side", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            with gr.Tab("Try on", id="tryon"):
                with gr.Row():
                    with gr.Column(scale=2):
                        person = gr.Image(label="Person", type="filepath", sources=["upload", "webcam", "clipboard"],
                                          height=360, elem_id="person")
                        gr.Examples([[str(p)] for p in person_examples], inputs=person, label="Example persons",
                                    examples_per_page=12)
                    with gr.Column(scale=2):
                        garment = gr.Image(label="Garment", type="filepath", sources=["upload", "webcam", "clipboard"],
                                           height=360, elem_id="garment")
                        gr.Examples([[str(p)] for p in garment_examples], inputs=garment, label="Example garments",
                                    examples_per_page=12)
                    with gr.Column(scale=2):
                        methods = gr.CheckboxGroup(core.method_choices(), value=core.default_methods(),
                                                   label="Methods", info="status · licence", elem_id="methods")
                        notice = gr.Markdown(weights_notice(), elem_id="weights-notice")
                        with gr.Accordion("Advanced", open=False):
                            device = gr.Dropdown(core.devices(), value="auto", label="Device")
                            fp16 = gr.Checkbox(False, label="fp16 (CUDA only)")
                            size = gr.Radio([FULL_SIZE, MODEL_SIZE], value=FULL_SIZE, label="Returned image")
                            show_inter = gr.Checkbox(True, label="Show intermediates")
                            resolutions = [gr.Dropdown(_resolution_choices(n), value=_resolution_choices(n)[0],
                                                       label=f"{get_spec(n).title} ({n}) resolution, H x W")
                                           for n in multi_res]
                        run = gr.Button("Try on", variant="primary", elem_id="run")
                status = gr.Markdown(elem_id="run-status")
                with gr.Tabs():
                    with gr.Tab("Results"):
                        columns, images, infos = {}, {}, {}
                        with gr.Row(equal_height=False):
                            for name in names:
                                with gr.Column(visible=False, min_width=220, elem_id=f"col-{name}") as column:
                                    images[name] = gr.Image(label=get_spec(name).title, type="pil", interactive=False,
                                                            height=400, elem_id=f"result-{name}")
                                    infos[name] = gr.Markdown(elem_id=f"info-{name}")
                                columns[name] = column
                        download = gr.DownloadButton("Download all results (.zip)", visible=False, elem_id="download")
                    with gr.Tab("Compare"):
                        compare = gr.Dropdown([], label="Compare the person with", interactive=True)
                        slider = gr.ImageSlider(label="person | result", type="filepath", elem_id="slider")
                    with gr.Tab("Intermediates"):
                        galleries = {name: gr.Gallery(label=f"{get_spec(name).title} ({name})", visible=False,
                                                      columns=6, height=260, elem_id=f"inter-{name}")
                                     for name in names}
                state = gr.State({})

            with gr.Tab("Weights", id="weights"):
                gr.Markdown("Where each method's official weights are published and whether they are installed "
                            f"here (`{zoo_weights.home() / 'weights'}`). *One-click download* fetches and converts "
                            "the authors' release when this machine is online; otherwise download the files in a "
                            "browser and install them from disk below.")
                table = gr.Dataframe(value=weights_tab.status_rows(), headers=weights_tab.STATUS_HEADERS,
                                     interactive=False, wrap=True, elem_id="weights-table")
                with gr.Row():
                    weights_method = gr.Dropdown(weighted, value=weighted[0] if weighted else None, label="Method")
                    download_weights = gr.Button("Download and convert the official weights", elem_id="download-w")
                how_to = gr.Markdown(_how_to(weighted[0]) if weighted else "")
                local_files = gr.File(label="The authors' checkpoint files on this machine", file_count="multiple",
                                      type="filepath", elem_id="local-files")
                install = gr.Button("Install from these files", elem_id="install-local")
                weights_result = gr.Markdown(elem_id="weights-result")

            with gr.Tab("About", id="about"):
                about_text = gr.Markdown(about_markdown())
                plots = report_plots()
                about_plots = gr.Gallery(plots, label="Evaluation plots", columns=3, visible=bool(plots),
                                         elem_id="about-plots")

        # ---------------------------------------------------------------- events
        result_outputs = [status, download, compare, slider, state, *columns.values(), *images.values(),
                          *infos.values(), *galleries.values()]

        def on_run(person_path, garment_path, chosen, device_choice, fp16_on, size_choice, inter_on, *res_values,
                   progress=gr.Progress()):  # noqa: B008 - Gradio's progress idiom
            if not person_path:
                raise gr.Error("Upload or pick a person photo first")
            if not garment_path:
                raise gr.Error("Upload or pick a garment photo first")
            if not chosen:
                raise gr.Error("Tick at least one method")
            options = core.Options(device=device_choice or "auto", fp16=bool(fp16_on),
                                   full_size=size_choice != MODEL_SIZE, intermediates=bool(inter_on),
                                   resolutions={n: core.parse_resolution(v) for n, v in zip(multi_res, res_values)
                                                if v})
            first = {status: f"Running {len(chosen)} method(s)...", download: gr.update(visible=False)}
            for name in names:
                first[columns[name]] = gr.update(visible=name in chosen)
                first[images[name]] = None
                first[infos[name]] = "waiting..." if name in chosen else ""
                first[galleries[name]] = gr.update(value=None, visible=False)
            yield first

            def on_start(index, total, name):
                progress(index / total, desc=f"{name} ({index + 1}/{total})")

            runs = []
            for run_ in core.run_methods(person_path, garment_path, chosen, options, cache, on_start=on_start):
                runs.append(run_)
                update = {images[run_.name]: run_.image, infos[run_.name]: run_.summary(),
                          status: f"{len(runs)}/{len(chosen)} done"}
                if run_.ok and inter_on and run_.intermediates:
                    update[galleries[run_.name]] = gr.update(value=core.ordered_intermediates(run_), visible=True)
                yield update
            progress(1.0, desc="saving")
            paths, archive = core.save_results(runs, core.new_run_dir())
            good = [r.name for r in runs if r.ok]
            failed = [r.name for r in runs if not r.ok]
            text = f"Done: {len(good)} result(s)" + (f"; failed: {', '.join(failed)}" if failed else "") + "."
            final = {status: text, state: {"person": person_path, "results": {k: str(v) for k, v in paths.items()}}}
            if good:
                final[download] = gr.update(value=str(archive), visible=True)
                final[compare] = gr.update(choices=good, value=good[0])
                final[slider] = (person_path, str(paths[good[0]]))
            else:
                final[compare] = gr.update(choices=[], value=None)
                final[slider] = None
            yield final

        run.click(on_run, inputs=[person, garment, methods, device, fp16, size, show_inter, *resolutions],
                  outputs=result_outputs, api_name="tryon")

        def on_compare(name, saved):
            results = (saved or {}).get("results", {})
            if not name or name not in results:
                return gr.update()
            return (saved["person"], results[name])

        compare.input(on_compare, inputs=[compare, state], outputs=slider, api_name=False)

        weights_outputs = [weights_result, table, methods, notice]

        def refreshed(message: str, name: str | None = None):
            if name is not None:
                cache.clear(name)
            return message, weights_tab.status_rows(), gr.update(choices=core.method_choices()), weights_notice()

        def on_download(name, progress=gr.Progress()):  # noqa: B008 - Gradio's progress idiom
            if not name:
                raise gr.Error("Choose a method")
            try:
                folder = weights_tab.download_and_install(name, progress=lambda f, d: progress(f, desc=d))
            except hub.DownloadError as exc:
                head = "**This machine is offline**" if exc.offline else "**Download failed**"
                return refreshed(f"{head}: {exc}\n\nDownload the files in a browser and install them from disk "
                                 "below.\n\n" + _how_to(name))
            except ValueError as exc:
                return refreshed(f"**Cannot download {name} automatically**\n\n{exc}")
            except Exception as exc:  # noqa: BLE001 - e.g. a conversion error; shown, not raised
                logger.exception("installing %s failed", name)
                return refreshed(f"**Installing {name} failed**: {type(exc).__name__}: {exc}")
            return refreshed(f"**Installed {name}** in `{folder}`. It is now ready in the Try on tab.", name)

        def on_install(name, files):
            if not name:
                raise gr.Error("Choose a method")
            try:
                folder = weights_tab.install_local(name, files or [])
            except Exception as exc:  # noqa: BLE001 - the user's files may be anything; say why they fail
                return refreshed(f"**Cannot install {name} from these files**: {exc}")
            return refreshed(f"**Installed {name}** in `{folder}`. It is now ready in the Try on tab.", name)

        download_weights.click(on_download, inputs=weights_method, outputs=weights_outputs,
                               api_name="download_weights")
        install.click(on_install, inputs=[weights_method, local_files], outputs=weights_outputs,
                      api_name="install_weights")
        weights_method.change(lambda n: _how_to(n) if n else "", inputs=weights_method, outputs=how_to, api_name=False)

        def on_load():  # reports written while the app runs show up on the next page load
            fresh = report_plots()
            return about_markdown(), gr.update(value=fresh, visible=bool(fresh))

        demo.load(on_load, outputs=[about_text, about_plots], api_name=False, queue=False)

    demo.queue(default_concurrency_limit=int(os.environ.get(CONCURRENCY_ENV, 2)), max_size=QUEUE_SIZE)
    demo.vton_cache = cache  # for tests and for app.py's warm-up
    return demo


def _how_to(name: str) -> str:
    spec = get_spec(name)
    lines = [f"**{spec.title} (`{name}`)**: weights {zoo_weights.status(name)}."]
    for f in spec.weights.official_files:
        note = f" ({f.note})" if f.note else ""
        lines.append(f"- `{Path(f.filename).name}`: {f.source}{note}")
    if name not in weights_tab.OFFICIAL_DOWNLOADS:
        lines.append("\nNo direct download link: fetch the files in a browser, then install them from disk below.")
    lines.append("\n```\n" + zoo_weights.how_to_get(name) + "\n```")
    return "\n".join(lines)
