"""Training for the zoo's methods: dataset readers and datasets (:mod:`training.data`), and the per-method recipes.

``training`` imports :mod:`vton_zoo`, never the reverse. Nothing heavy is imported here.
"""
