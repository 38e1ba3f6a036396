"""The Gradio page: inputs, action and results on one screen; Weights and About tabs.

Layout (the try-on demos people know, IDM-VTON, CatVTON, Leffa, keep inputs, action and output within one screen):
on the left the person and garment photos side by side, example photos, the garment category, the methods and the
**Try on** button; on the right the run's status, one result column per method that ran, and one compact line per
ticked method that cannot run here (no weights: its download action, or "not published: train it"; not trained on
this garment category; needs a GPU). On a phone the right side follows the button.

:func:`build_demo` builds the ``gr.Blocks`` (queue included) without launching it and without loading any model;
``app.py`` launches it with :data:`CSS` and the upload limit. Every handler is a thin mapping of
:mod:`vton_zoo.demo.core` and :mod:`vton_zoo.demo.weights_tab` onto components.

Weight management (download, install) changes what every visitor gets, so it follows :class:`core.AdminPolicy`: on
a public app without an administrator token its controls are not built and its events are not registered at all;
otherwise its events are private (not in the API listing) and every call is checked on the server.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import replace

import gradio as gr

from .. import hub
from .. import weights as zoo_weights
from ..preprocess.io import probe_image
from ..registry import CATEGORIES, get_spec
from . import core, weights_tab
from .about import about_markdown, report_plots
from .components import photo_input
from .examples import ExampleSet, example_set

logger = logging.getLogger(__name__)

CONCURRENCY_ENV = "VTON_ZOO_DEMO_CONCURRENCY"
QUEUE_SIZE = 64
# Gradio's upload limit, per file. A photo is a few MB (our own limits then apply to its header, before decoding); the
# authors' checkpoint archives (up to ~400 MB) are uploaded only where weights can be installed from the page.
MAX_UPLOAD = "30mb"
MAX_UPLOAD_ADMIN = "1gb"
FULL_SIZE, MODEL_SIZE = "original photo size", "model resolution"
CATEGORY_CHOICES = [("auto", "auto"), ("upper", "upper"), ("lower", "lower"), ("dress", "dress")]
assert [c for _, c in CATEGORY_CHOICES[1:]] == list(CATEGORIES)

INTRO = ("## vton-zoo · virtual try-on, side by side\n"
         "A **person** photo (one person, head to at least the hips) and a **garment** product shot, then **Try on**: "
         "each ticked method's result appears on the right with its latency.")

CSS = """
#intro { margin-bottom: 0 !important; }
#intro h2 { margin: 0 0 2px 0 !important; }
#intro p { margin: 0 !important; font-size: 0.92em; }
#photos { flex-wrap: nowrap !important; gap: 8px !important; }
#photos > div { min-width: 0 !important; }
#example-row { gap: 8px !important; }
.example-strip { padding: 4px 6px !important; }
.example-strip .gallery { gap: 4px !important; flex-wrap: nowrap !important; overflow-x: auto !important; }
.example-strip .gallery-item { margin: 0 !important; padding: 0 !important; flex: 0 0 auto !important; }
.example-strip .gallery-item .container { width: 50px !important; height: 66px !important; max-width: none !important;
  max-height: none !important; }
.example-strip .gallery-item img { width: 100% !important; height: 100% !important; object-fit: cover !important; }
#garment-examples .gallery-item img { object-fit: contain !important; }
#examples-credit, #examples-credit p { font-size: 0.75em !important; margin: 0 !important; opacity: 0.8; }
#input-note p { margin: 0 !important; color: var(--error-text-color, #b91c1c); }
#methods label { padding: 4px 8px !important; }
#methods .wrap { gap: 6px !important; }
#category label { padding: 4px 10px !important; }
.method-line { align-items: center !important; gap: 6px !important; flex-wrap: nowrap !important;
  padding: 2px 0 !important; }
.method-line p { margin: 0 !important; font-size: 0.9em; }
.method-line button { flex-grow: 0 !important; white-space: nowrap; }
#run-status p { margin: 0 !important; }
.inter-gallery, .inter-gallery .grid-wrap, .inter-gallery .grid-container { height: auto !important;
  min-height: 0 !important; max-height: none !important; }
@media (max-width: 640px) {
  #intro p { display: none; }
  #intro h2 { font-size: 1.15em !important; }
  #person, #garment { height: 210px !important; }
  #methods .info-text { display: none; }
  #methods label, #category label { font-size: 0.85em !important; padding: 3px 6px !important; }
}
"""


def weights_notice(fetching: dict | None = None) -> str:
    """One short line under the methods: what runs here, and what the others need."""
    statuses = [core.method_status(n, fetching) for n in core.method_order()]
    ready = [s.title for s in statuses if s.state == "ready"]
    random = [s.title for s in statuses if s.state == "random"]
    others = [s for s in statuses if not s.runnable]
    parts = [f"Ready: {', '.join(ready) or 'none'}."]
    if random:
        parts.append(f"Plumbing test ({core.RANDOM_WEIGHTS_ENV}=1): {', '.join(random)} run on random weights "
                     "(noise).")
    if others:
        parts.append(f"{len(others)} more need weights or a GPU (Weights tab).")
    return " ".join(parts)


def fetch_markdown(fetching: dict | None) -> str:
    """The background download's progress, one line (empty when nothing is being fetched)."""
    if not fetching:
        return ""
    active = [f for f in fetching.values() if f.state in ("queued", "downloading", "verifying")]
    done = [f.name for f in fetching.values() if f.state == "installed"]
    failed = [f.name for f in fetching.values() if f.state == "failed"]
    offline = [f.name for f in fetching.values() if f.state == "skipped" and f.message.startswith("offline")]
    parts = []
    if active:
        parts.append("Fetching the official weights: " + ", ".join(
            f"`{f.name}` " + ("queued" if f.state == "queued" else f"{f.fraction:.0%}") for f in active))
    if done:
        parts.append("installed: " + ", ".join(f"`{n}`" for n in done))
    if failed:
        parts.append("failed: " + ", ".join(f"`{n}`" for n in failed) + " (see the Weights tab)")
    if offline:
        parts.append("this machine is offline: nothing was fetched for " + ", ".join(f"`{n}`" for n in offline))
    text = " · ".join(parts)
    return text[:1].upper() + text[1:]


def short_failure(message: str, limit: int = 110) -> str:
    """The first reason in a download failure's message, in at most ``limit`` characters (for a method's line)."""
    lines = message.splitlines()
    reason = next((line[2:] for line in lines if line.startswith("- ")), lines[0] if lines else "")
    while re.match(r"^(\S+ )?https?://\S+: ", reason):  # "KIND URL: " / "URL: " prefixes of per-source reasons
        reason = re.sub(r"^(\S+ )?https?://\S+: ", "", reason, count=1)
    reason = re.sub(r"^\*\*[^*]+\*\*: ", "", reason)  # the bold head of the Weights tab's message
    return reason if len(reason) <= limit else reason[:limit - 1].rstrip() + "…"


def _resolution_choices(name: str) -> list[str]:
    return [f"{h}x{w}" for h, w in get_spec(name).supported_resolutions()]


def build_demo(cache: core.PipelineCache | None = None, *, policy: core.AdminPolicy | None = None,
               fetch: zoo_weights.BackgroundFetch | None = None, example_photos: ExampleSet | None = None
               ) -> gr.Blocks:
    """Build the demo (nothing is loaded until a method first runs).

    Args:
        cache: the pipeline cache to use (a new one by default).
        policy: who may manage weights (default: :func:`core.admin_policy` for ``GRADIO_SERVER_NAME``).
        fetch: a started :class:`~vton_zoo.weights.BackgroundFetch` whose progress the page shows (methods turn
            ready as their files land).
        example_photos: the example galleries (default: what :func:`examples.example_set` has at hand now).
    """
    cache = cache if cache is not None else core.PipelineCache()
    policy = policy if policy is not None else core.admin_policy()
    names = core.method_order()
    multi_res = [n for n in names if len(get_spec(n).supported_resolutions()) > 1]
    fetcher = {"fetch": fetch}  # the background download shared by every session ("download all" starts one)

    def fetching() -> dict | None:
        current = fetcher["fetch"]
        return current.snapshot() if current is not None else None

    photos = example_photos if example_photos is not None else example_set(fetch=False)
    manage = policy.manageable

    with gr.Blocks(title="vton-zoo: virtual try-on side by side", fill_width=True,
                   delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO, elem_id="intro")
        with gr.Tabs():
            with gr.Tab("Try on", id="tryon"):
                with gr.Row(equal_height=False, elem_id="main-row"):
                    # ------------------------------------------------------------ inputs and the action
                    with gr.Column(scale=5, min_width=320, elem_id="input-col"):
                        with gr.Row(elem_id="photos"):
                            sources = ["upload", "webcam", "clipboard"]
                            person = photo_input(label="Person", sources=sources, height=270,
                                                elem_id="person")
                            garment = photo_input(label="Garment", sources=sources, height=270,
                                                 elem_id="garment")
                        input_note = gr.Markdown(elem_id="input-note", visible=False)
                        with gr.Row(elem_id="example-row"):
                            person_examples = gr.Dataset(
                                components=["image"], samples=[[str(p)] for p in photos.persons], type="values",
                                layout="gallery", samples_per_page=8, label="Example persons",
                                elem_id="person-examples", elem_classes="example-strip", min_width=140)
                            garment_examples = gr.Dataset(
                                components=["image"], samples=[[str(p)] for p in photos.garments], type="values",
                                layout="gallery", samples_per_page=8, label="Example garments",
                                elem_id="garment-examples", elem_classes="example-strip", min_width=140)
                        examples_credit = gr.Markdown(photos.credit, elem_id="examples-credit")
                        category = gr.Radio(CATEGORY_CHOICES, value="auto", label="Garment category",
                                            elem_id="category")
                        methods = gr.CheckboxGroup(core.method_choices(fetching()), value=core.default_methods(),
                                                   label="Methods", info=weights_notice(fetching()),
                                                   show_select_all=True, elem_id="methods")
                        run = gr.Button("Try on", variant="primary", elem_id="run")
                        with gr.Accordion("Advanced", open=False):
                            device = gr.Dropdown(core.devices(), value="auto", label="Device")
                            fp16 = gr.Checkbox(False, label="fp16 (CUDA only)")
                            size = gr.Radio([FULL_SIZE, MODEL_SIZE], value=FULL_SIZE, label="Returned image")
                            show_inter = gr.Checkbox(True, label="Show intermediates")
                            resolutions = [gr.Dropdown(_resolution_choices(n), value=_resolution_choices(n)[0],
                                                       label=f"{get_spec(n).title} ({n}) resolution, H x W")
                                           for n in multi_res]
                    # ------------------------------------------------------------ output
                    with gr.Column(scale=6, min_width=320, elem_id="output-col"):
                        status = gr.Markdown("Results appear here.", elem_id="run-status")
                        fetch_text = fetch_markdown(fetching())
                        fetch_note = gr.Markdown(fetch_text, visible=bool(fetch_text), elem_id="fetch-status")
                        lines, line_texts, line_buttons = {}, {}, {}
                        for name in names:
                            with gr.Row(visible=False, elem_id=f"line-{name}", elem_classes="method-line") as row:
                                line_texts[name] = gr.Markdown(elem_id=f"line-text-{name}")
                                line_buttons[name] = gr.Button(
                                    "Download", size="sm", scale=0, min_width=96, visible=False,
                                    elem_id=f"line-download-{name}")
                            lines[name] = row
                        with gr.Tabs():
                            with gr.Tab("Results"):
                                columns, images, infos = {}, {}, {}
                                with gr.Row(equal_height=False, elem_id="results"):
                                    for name in names:
                                        with gr.Column(visible=False, min_width=180, elem_id=f"col-{name}",
                                                       elem_classes="result-col") as column:
                                            images[name] = gr.Image(label=get_spec(name).title, type="pil",
                                                                    interactive=False, height=340,
                                                                    elem_id=f"result-{name}")
                                            infos[name] = gr.Markdown(elem_id=f"info-{name}")
                                        columns[name] = column
                                download = gr.DownloadButton("Download all results (.zip)", visible=False,
                                                             size="sm", elem_id="download")
                            with gr.Tab("Compare"):
                                compare = gr.Dropdown([], label="Compare the person with", interactive=True)
                                slider = gr.ImageSlider(label="person | result", type="filepath", elem_id="slider")
                            with gr.Tab("Intermediates"):
                                galleries = {name: gr.Gallery(label=f"{get_spec(name).title} ({name})",
                                                              visible=False, columns=5, height=None,
                                                              object_fit="contain", elem_id=f"inter-{name}",
                                                              elem_classes="inter-gallery")
                                             for name in names}
                state = gr.State({})

            with gr.Tab("Weights", id="weights"):
                where = "on the server" if policy.public else f"(`{zoo_weights.home() / 'weights'}`)"
                gr.Markdown("Each method's official weights: where the authors publish them, under which licence, "
                            f"and whether they are installed here {where}. *{core.md_text(policy.describe())}.*",
                            elem_id="weights-intro")
                table = gr.Dataframe(value=weights_tab.status_rows(fetching()), headers=weights_tab.STATUS_HEADERS,
                                     interactive=False, wrap=True, elem_id="weights-table", max_height=2000,
                                     column_widths=["19%", "11%", "22%", "40%", "8%"])
                token = gr.State(None)
                if manage:
                    if policy.needs_token:
                        token = gr.Textbox(label=f"Administrator token ({core.ADMIN_TOKEN_ENV})", type="password",
                                           elem_id="admin-token")
                    with gr.Row(equal_height=False):
                        with gr.Column(scale=0, min_width=280):
                            offline = hub.is_offline()
                            download_all = gr.Button(
                                "Download all official weights" + (" (offline)" if offline else ""),
                                variant="primary", interactive=not offline, elem_id="download-all")
                        gr.Markdown(weights_tab.licences_markdown(), elem_id="licences")
                    downloadable = weights_tab.downloadable_methods()
                    weighted = weights_tab.weighted_methods()
                    with gr.Row(equal_height=False, elem_id="weights-one"):
                        weights_method = gr.Dropdown(weighted, value=weights_tab.default_method(), label="Method",
                                                     elem_id="weights-method", scale=1)
                        with gr.Column(scale=0, min_width=280):
                            download_one = gr.Button("Download and install its weights", elem_id="download-w",
                                                     size="md",
                                                     interactive=weights_tab.default_method() in downloadable)
                    how_to = gr.Markdown(weights_tab.how_to(weights_tab.default_method()), elem_id="how-to")
                    local_files = gr.File(label="Or: the authors' checkpoint files (or their archive) from your disk",
                                          file_count="multiple", type="filepath", height=140,
                                          elem_id="local-files")
                    install = gr.Button("Install from these files", elem_id="install-local")
                    weights_result = gr.Markdown(elem_id="weights-result")
                else:
                    gr.Markdown("Weights are managed by whoever runs this app: `python -m vton_zoo weights download "
                                f"NAME` on the server, or set `{core.ADMIN_TOKEN_ENV}` to manage them here.",
                                elem_id="weights-locked")

            with gr.Tab("About", id="about"):
                about_text = gr.Markdown(about_markdown(photos.credit))
                plots = report_plots()
                about_plots = gr.Gallery(plots, label="Evaluation plots", columns=3, visible=bool(plots),
                                         elem_id="about-plots")
        timer = gr.Timer(2.0, active=bool(fetch is not None and fetch.running))

        # ---------------------------------------------------------------- helpers
        def line_updates(chosen, category_value, *, runs=None, only_chosen=True):
            """Show one line per ticked method that will not run (or, after a run, that did not run)."""
            snapshot = fetching()
            skipped = {}
            for name in names:
                if runs is not None:
                    run_ = runs.get(name)
                    outcome = run_ if run_ is not None and run_.skipped else None
                else:
                    outcome = core.not_run(name, category_value, snapshot) if name in (chosen or []) else None
                skipped[name] = outcome
            updates = {}
            for name in names:
                outcome = skipped[name]
                updates[lines[name]] = gr.update(visible=outcome is not None)
                updates[line_texts[name]] = outcome.line if outcome is not None else ""
                status_ = core.method_status(name, snapshot)
                show_button = bool(manage and outcome is not None and outcome.error_kind == "weights"
                                   and status_.downloadable and status_.state in ("missing", "broken"))
                updates[line_buttons[name]] = gr.update(visible=show_button)
            return updates

        def cleared():
            """Everything a previous run left on the right-hand side, emptied."""
            updates = {status: "Results appear here.", download: gr.update(visible=False),
                       compare: gr.update(choices=[], value=None), slider: None, state: {}}
            for name in names:
                updates[columns[name]] = gr.update(visible=False)
                updates[images[name]] = None
                updates[infos[name]] = ""
                updates[galleries[name]] = gr.update(value=None, visible=False)
            return updates

        # ---------------------------------------------------------------- inputs changed: clear, check
        clear_outputs = [status, download, compare, slider, state, input_note, *columns.values(), *images.values(),
                         *infos.values(), *galleries.values()]

        def on_photos_changed(person_value, garment_value):
            updates = cleared()
            notes = []
            for role, value in (("person", person_value), ("garment", garment_value)):
                if value is None:
                    continue
                try:
                    probe_image(value, role=role, name=getattr(value, "name", None) or f"the {role} photo")
                except ValueError as exc:
                    notes.append(f"**{role.capitalize()}:** {core.md_text(exc)}")
            updates[input_note] = gr.update(value="  \n".join(notes), visible=bool(notes))
            return updates

        for photo in (person, garment):
            photo.change(on_photos_changed, inputs=[person, garment], outputs=clear_outputs, api_name=False,
                         queue=False, show_progress="hidden")

        def pick(sample):
            return sample[0] if sample else None

        person_examples.click(pick, inputs=person_examples, outputs=person, api_name=False, queue=False,
                              show_progress="hidden")
        garment_examples.click(pick, inputs=garment_examples, outputs=garment, api_name=False, queue=False,
                               show_progress="hidden")

        line_outputs = [*lines.values(), *line_texts.values(), *line_buttons.values()]
        for trigger in (methods, category):
            trigger.change(lambda chosen, cat: line_updates(chosen, cat), inputs=[methods, category],
                           outputs=line_outputs, api_name=False, queue=False, show_progress="hidden")

        # ---------------------------------------------------------------- the run
        result_outputs = [*clear_outputs, *line_outputs]

        def on_run(person_path, garment_path, chosen, category_value, device_choice, fp16_on, size_choice, inter_on,
                   *res_values, progress=gr.Progress()):  # noqa: B008 - Gradio's progress idiom
            if not person_path:
                raise gr.Error("Upload or pick a person photo first")
            if not garment_path:
                raise gr.Error("Upload or pick a garment photo first")
            if not chosen:
                raise gr.Error("Tick at least one method")
            chosen = [n for n in names if n in chosen]  # page order, whatever order they were ticked in
            options = core.Options(device=device_choice or "auto", fp16=bool(fp16_on),
                                   full_size=size_choice != MODEL_SIZE, intermediates=bool(inter_on),
                                   resolutions={n: core.parse_resolution(v) for n, v in zip(multi_res, res_values)
                                                if v}, category=category_value or "auto")
            first = cleared()
            first[input_note] = gr.update(value="", visible=False)
            first.update(line_updates(chosen, options.category))
            snapshot = fetching()
            runnable = [n for n in chosen if core.not_run(n, options.category, snapshot) is None]
            if not runnable:
                first[status] = "**Nothing to run:** none of the ticked methods can run here (listed below)."
                yield first
                return
            first[status] = f"Checking the photos, then running {len(runnable)} method(s)..."
            for position, name in enumerate(runnable):
                first[columns[name]] = gr.update(visible=True)
                first[infos[name]] = f"waiting ({position + 1}/{len(runnable)})"
            yield first
            try:
                prepared = core.prepare_inputs(
                    person_path, garment_path, category=options.category,
                    person_name=getattr(person_path, "name", None), garment_name=getattr(garment_path, "name", None))
            except ValueError as exc:
                failed = {status: f"**Cannot use these photos:** {core.md_text(exc)}"}
                for name in runnable:
                    failed[columns[name]] = gr.update(visible=False)
                    failed[infos[name]] = ""
                yield failed
                return
            detected = options.category == "auto"
            options = replace(options, category=prepared.category)
            not_run = {n: core.not_run(n, options.category, snapshot) for n in chosen}
            not_run = {n: r for n, r in not_run.items() if r is not None}
            if detected and any(n in not_run for n in runnable):  # not trained on the detected category
                runnable = [n for n in runnable if n not in not_run]
                update = line_updates(chosen, options.category, runs=not_run)
                for position, name in enumerate(runnable):
                    update[infos[name]] = f"waiting ({position + 1}/{len(runnable)})"
                for name in not_run:
                    update[columns[name]] = gr.update(visible=False)
                    update[infos[name]] = ""
                yield update

            runs = {}
            for position, name in enumerate(runnable):
                label = f"{get_spec(name).title} ({position + 1}/{len(runnable)})"
                progress(position / len(runnable), desc=label)
                yield {status: f"Running {label}...", infos[name]: f"running ({position + 1}/{len(runnable)})..."}
                run_ = core.run_method(name, prepared.person, prepared.garment, options, cache, snapshot)
                runs[name] = run_
                if run_.skipped:
                    not_run[name] = run_
                    update = {columns[name]: gr.update(visible=False), infos[name]: ""}
                    update.update(line_updates(chosen, options.category, runs=not_run))
                else:
                    update = {images[name]: run_.image, infos[name]: run_.summary()}
                    if run_.ok and inter_on and run_.intermediates:
                        update[galleries[name]] = gr.update(value=core.ordered_intermediates(run_), visible=True)
                yield update
            progress(1.0, desc="saving")
            all_runs = [runs[n] for n in runnable]
            paths, archive = core.save_results([r for r in all_runs if not r.skipped], core.new_run_dir())
            good = [r.name for r in all_runs if r.ok]
            failed = [r.name for r in all_runs if not r.ok and not r.skipped]
            skipped = list(not_run)
            text = f"**Done:** {len(good)} result(s)"
            if failed:
                text += f"; failed: {', '.join(failed)}"
            if skipped:
                text += f"; {len(skipped)} not run (listed below)"
            if detected:
                text += f"; garment: {core.CATEGORY_NAMES[prepared.category]} (detected)"
            final = {status: text + ".",
                     state: {"person": str(person_path), "results": {k: str(v) for k, v in paths.items()}}}
            if good:
                final[download] = gr.update(value=str(archive), visible=True)
                final[compare] = gr.update(choices=good, value=good[0])
                final[slider] = (str(person_path), str(paths[good[0]]))
            yield final

        run.click(on_run, inputs=[person, garment, methods, category, device, fp16, size, show_inter, *resolutions],
                  outputs=result_outputs, api_name="tryon", show_progress_on=[status],
                  concurrency_id="tryon")

        def on_compare(name, saved):
            results = (saved or {}).get("results", {})
            if not name or name not in results:
                return gr.update()
            return (saved["person"], results[name])

        compare.input(on_compare, inputs=[compare, state], outputs=slider, api_name=False)

        # ---------------------------------------------------------------- page load and background progress
        def refreshed_page(chosen=None, category_value="auto"):
            snapshot = fetching()
            current = fetcher["fetch"]
            updates = {methods: gr.update(choices=core.method_choices(snapshot), info=weights_notice(snapshot)),
                       fetch_note: gr.update(value=fetch_markdown(snapshot), visible=bool(fetch_markdown(snapshot))),
                       table: weights_tab.status_rows(snapshot),
                       timer: gr.Timer(active=bool(current is not None and current.running))}
            updates.update(line_updates(chosen, category_value))
            return updates

        page_outputs = [methods, fetch_note, table, timer, *line_outputs]

        def on_load(chosen, category_value):
            fresh = report_plots()
            shown = example_set(fetch=False)
            updates = refreshed_page(chosen, category_value)
            updates.update({about_text: about_markdown(shown.credit),
                            about_plots: gr.update(value=fresh, visible=bool(fresh)),
                            person_examples: gr.Dataset(samples=[[str(p)] for p in shown.persons]),
                            garment_examples: gr.Dataset(samples=[[str(p)] for p in shown.garments]),
                            examples_credit: shown.credit})
            return updates

        demo.load(on_load, inputs=[methods, category],
                  outputs=[*page_outputs, about_text, about_plots, person_examples, garment_examples,
                           examples_credit], api_name=False, queue=False)
        timer.tick(refreshed_page, inputs=[methods, category], outputs=page_outputs, api_name=False, queue=False,
                   show_progress="hidden")

        # ---------------------------------------------------------------- weight management (administrators)
        if manage:
            weights_outputs = [weights_result, *page_outputs]

            def allowed(given):
                if not policy.allows(given):
                    raise gr.Error("Weight management needs the administrator token on this app",
                                   print_exception=False)

            def after_install(message, page, name=None):
                if name is not None:
                    cache.clear(name)
                updates = refreshed_page(*page)
                updates[weights_result] = message
                return updates

            def do_download(name, given, page, progress):
                allowed(given)
                if not name:
                    raise gr.Error("Choose a method")
                try:
                    folder = weights_tab.download(name, progress=lambda f, d: progress(f, desc=d))
                except hub.DownloadError as exc:
                    head = "**This machine is offline**" if exc.offline else "**Download failed**"
                    return after_install(f"{head}: {core.md_text(exc)}", page)
                except ValueError as exc:
                    return after_install(f"**Cannot download {name}**: {core.md_text(exc)}", page)
                except Exception as exc:  # noqa: BLE001 - e.g. a conversion error; shown, not raised
                    logger.exception("installing %s failed", name)
                    return after_install(f"**Installing {name} failed**: {type(exc).__name__}: {core.md_text(exc)}",
                                         page)
                return after_install(f"**Installed {name}** in `{folder}`: ready in the Try on tab.", page, name)

            def on_download(name, given, chosen, category_value, progress=gr.Progress()):  # noqa: B008
                return do_download(name, given, (chosen, category_value), progress)

            def on_install(name, files, given, chosen, category_value):
                allowed(given)
                if not name:
                    raise gr.Error("Choose a method")
                try:
                    folder = weights_tab.install_local(name, files or [])
                except Exception as exc:  # noqa: BLE001 - the user's files may be anything; say why they fail
                    return after_install(f"**Cannot install {name} from these files**: {core.md_text(exc)}",
                                         (chosen, category_value))
                return after_install(f"**Installed {name}** in `{folder}`: ready in the Try on tab.",
                                     (chosen, category_value), name)

            def on_download_all(given, chosen, category_value):
                allowed(given)
                current = fetcher["fetch"]
                if current is None or not current.running:
                    fetcher["fetch"] = zoo_weights.BackgroundFetch(
                        on_installed=lambda name, folder: cache.clear(name)).start()
                updates = refreshed_page(chosen, category_value)
                updates[timer] = gr.Timer(active=True)
                updates[weights_result] = "Downloading every missing official weights file in the background; " \
                                          "progress shows in the Try on tab and the table above."
                return updates

            private = {"api_name": False, "api_visibility": "private"}
            page_inputs = [methods, category]
            download_one.click(on_download, inputs=[weights_method, token, *page_inputs], outputs=weights_outputs,
                               concurrency_id="weights", concurrency_limit=1, **private)
            install.click(on_install, inputs=[weights_method, local_files, token, *page_inputs],
                          outputs=weights_outputs, concurrency_id="weights", concurrency_limit=1, **private)
            download_all.click(on_download_all, inputs=[token, *page_inputs], outputs=weights_outputs, **private)
            weights_method.change(lambda n: (weights_tab.how_to(n),
                                             gr.update(interactive=n in weights_tab.downloadable_methods())),
                                  inputs=weights_method, outputs=[how_to, download_one], queue=False, **private)
            def download_handler(name):
                def on_line_download(given, chosen, category_value, progress=gr.Progress()):  # noqa: B008
                    updates = do_download(name, given, (chosen, category_value), progress)
                    if core.method_status(name).runnable:  # ready: the method leaves the lines
                        return updates
                    # Failed: a short answer where the click was; the whole message is in the Weights tab.
                    updates[lines[name]] = gr.update(visible=True)
                    updates[line_texts[name]] = (f"**{core.md_text(get_spec(name).title)}**: download failed: "
                                                 f"{short_failure(updates[weights_result])} (Weights tab)")
                    return updates
                return on_line_download

            for name in names:
                line_buttons[name].click(download_handler(name), inputs=[token, *page_inputs], outputs=weights_outputs,
                                         concurrency_id="weights", concurrency_limit=1,
                                         show_progress_on=[line_texts[name]], **private)

    demo.queue(default_concurrency_limit=int(os.environ.get(CONCURRENCY_ENV, 2)), max_size=QUEUE_SIZE)
    demo.vton_cache = cache  # for tests and for app.py's warm-up
    demo.vton_policy = policy
    demo.vton_fetcher = fetcher
    return demo


# Gradio scopes `css` to the app's content; the page margins sit outside it, so they go into the page's <head>.
HEAD = "<style>@media (max-width: 640px) { .gradio-container .main.app { padding: 8px 8px !important; } }</style>"


def launch_kwargs(policy: core.AdminPolicy | None = None) -> dict:
    """What :meth:`gr.Blocks.launch` needs besides host and port: the page's CSS and the upload limit (30 MB, or
    1 GB where checkpoint files can be installed from the page: a local app, or a public one with an admin token)."""
    policy = policy if policy is not None else core.admin_policy()
    return {"css": CSS, "head": HEAD, "max_file_size": MAX_UPLOAD_ADMIN if policy.manageable else MAX_UPLOAD,
            "show_error": True, "footer_links": ["api", "gradio"]}
