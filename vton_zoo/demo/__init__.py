"""The Gradio demo behind ``app.py``: side-by-side try-on with every method, a Weights tab and an About tab.

- :mod:`.core`: method status, who may manage weights, the photos checked once, the lazy pipeline cache, running
  several methods, the results zip (no Gradio);
- :mod:`.weights_tab`: the Weights tab's wording (sources, licences, states) over :mod:`vton_zoo.weights` (no Gradio);
- :mod:`.examples`: the example photos: real ones fetched at run time (pinned, credited), drawn ones offline;
- :mod:`.components`: the photo input that Gradio never decodes (our checks answer every upload);
- :mod:`.about`: papers, licences, evaluation reports;
- :mod:`.ui`: :func:`~vton_zoo.demo.ui.build_demo`, the page itself (imports Gradio).

Importing this package loads no model.
"""
