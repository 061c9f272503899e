"""Training side: recordings, window datasets, training, evaluation and ONNX export."""
