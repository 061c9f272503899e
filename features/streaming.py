class StreamingExtractor: pass
