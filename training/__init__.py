"""Training for the zoo's methods: the per-method recipes (the dataset readers are :mod:`vton_zoo.data`).

``training`` imports :mod:`vton_zoo`, never the reverse. Nothing heavy is imported here.
"""
