"""The Gradio demo behind ``app.py``: side-by-side try-on with every method, a Weights tab and an About tab.

- :mod:`.core`: method status, the lazy pipeline cache, running several methods, the results zip (no Gradio);
- :mod:`.weights_tab`: official download sources, download + convert, install from local files (no Gradio);
- :mod:`.examples`: the example images the project draws itself (and optional Hub examples);
- :mod:`.about`: papers, licences, evaluation reports;
- :mod:`.ui`: :func:`~vton_zoo.demo.ui.build_demo`, the page itself (imports Gradio).

Importing this package loads no model.
"""
