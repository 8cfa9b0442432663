"""Reports: benchmarks, the model card, linking evaluation, baselines, ONNX and event benches."""
