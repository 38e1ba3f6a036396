"""Preprocessing: turn ordinary person and garment photos into every model's inputs.

One module per job (garment mask, pose, person segmentation, coarse parse, per-model agnostic maps, framing).
Conventions shared by all modules:

- Images are numpy ``uint8`` RGB arrays ``(H, W, 3)``; masks are ``bool`` or ``float32`` ``(H, W)`` in ``[0, 1]``.
- Keypoints are ``float32`` arrays ``(N, 3)`` of ``(x, y, confidence)`` in pixel coordinates of the image they were
  computed on; missing points have confidence 0 and ``x = y = 0``. Orders: OpenPose COCO-18 and BODY_25, "R"/"L"
  being the person's right/left (see :mod:`vton_zoo.preprocess.labels`).
- The coarse parse is a ``uint8`` ``(H, W)`` label map with the labels of :mod:`vton_zoo.preprocess.labels`.

Nothing heavy is imported here: MediaPipe and the models it bundles load lazily on first use.
"""
