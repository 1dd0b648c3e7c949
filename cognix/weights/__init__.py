"""cognix.weights: lock weights (lock.py), build-mode layer trees (layers.py), push to GCS (push.py),
and the runtime manifest (manifest.py) that cognix.runtime.weights_pull reads inside images."""
