"""Export trained models: ONNX graphs with free batch and length axes, run by onnxruntime.

:mod:`rnnkit.export.graphs` says what each family exports; :mod:`rnnkit.export.onnx_file`
writes one graph and checks it; :func:`rnnkit.runs.export.export_run` (``rnnkit export RUN``)
does a whole run. Needs the ``export`` extra: ``pip install 'rnnkit[export]'``.
"""
