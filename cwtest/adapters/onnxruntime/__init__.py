"""The ONNX Runtime adapter: torch's models exported with torch.onnx, run by an InferenceSession (adapter)."""
