"""Pure (sans-IO) wire codecs: Connect envelopes, end-stream JSON, error details, generated protobuf."""
