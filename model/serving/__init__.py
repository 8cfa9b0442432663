"""Serving: versions on disk (registry), batched inference (predictor), the ONNX backend."""
